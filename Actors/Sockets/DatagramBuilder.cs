using ActorStack.Actors.Ipv4;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Sockets;

/// <summary>
/// The pending datagram of a corked UDP socket (<c>ip_append_data</c> onto <c>sk_write_queue</c>):
/// data from several sends appended in order, sent as one datagram by <c>udp_push_pending_frames</c>
/// when the cork is released (a send without <c>MSG_MORE</c> while <c>UDP_CORK</c> is off, or
/// <c>UDP_CORK</c> set to 0). The destination is the first send's; later sends' addresses are ignored, as Linux does.
/// </summary>
public sealed class UdpCork
{
    private readonly List<ReadOnlyMemory<byte>> _parts = new();

    public bool Pending => _parts.Count > 0 || Active;
    /// <summary>A send started the datagram (<c>up->pending</c>); it may still be empty (zero-length send).</summary>
    public bool Active { get; private set; }
    public Ipv4Address Destination { get; private set; }
    public ushort Port { get; private set; }
    public int Length { get; private set; }
    public IReadOnlyList<ReadOnlyMemory<byte>> Parts => _parts;

    public void Start(Ipv4Address dst, ushort port)
    {
        Active = true;
        Destination = dst;
        Port = port;
    }

    /// <summary>Appends a copy of <paramref name="data"/> (the caller's buffer is not kept).</summary>
    public void Append(ReadOnlyMemory<byte> data)
    {
        if (data.Length > 0) _parts.Add(data.ToArray());
        Length += data.Length;
    }

    /// <summary><c>ip_flush_pending_frames</c>: the pending datagram is discarded.</summary>
    public void Clear()
    {
        _parts.Clear();
        Length = 0;
        Active = false;
    }
}

/// <summary>Builds the frames a datagram socket sends (headroom + IP header + transport), without actors.</summary>
public static class DatagramBuilder
{
    /// <summary>Largest UDP payload: 65535 − 20 (IP) − 8 (UDP).</summary>
    public const int MaxUdpPayload = 65507;

    /// <summary>
    /// <c>udp_send_skb</c> after <c>ip_make_skb</c>: IP header (<paramref name="df"/>, TTL, TOS, id from the host's
    /// counters), UDP header with the checksum over the pseudo header, then the payload parts in order.
    /// </summary>
    public static byte[] Udp(IpOutput output, Ipv4Address src, ushort sport, Ipv4Address dst, ushort dport,
        IReadOnlyList<ReadOnlyMemory<byte>> parts, int length, byte ttl, byte tos, bool df)
    {
        int ipLen = Ipv4Header.MinLength + UdpHeader.Length + length;
        var frame = IpOutput.NewFrame(ipLen);
        var ip = frame.AsSpan(IpOutput.Headroom);
        int at = Ipv4Header.MinLength + UdpHeader.Length;
        foreach (var p in parts)
        {
            p.Span.CopyTo(ip[at..]);
            at += p.Length;
        }
        UdpHeader.Write(ip.Slice(Ipv4Header.MinLength, UdpHeader.Length + length), sport, dport, src, dst);
        output.WriteHeader(ip, ipLen, df, ttl, IpProtocol.Udp, src, dst, tos);
        return frame;
    }

    /// <summary><see cref="Udp(IpOutput, Ipv4Address, ushort, Ipv4Address, ushort, IReadOnlyList{ReadOnlyMemory{byte}}, int, byte, byte, bool)"/> for one uncorked send: the payload is copied once into the frame.</summary>
    public static byte[] Udp(IpOutput output, Ipv4Address src, ushort sport, Ipv4Address dst, ushort dport,
        ReadOnlySpan<byte> payload, byte ttl, byte tos, bool df)
    {
        int ipLen = Ipv4Header.MinLength + UdpHeader.Length + payload.Length;
        var frame = IpOutput.NewFrame(ipLen);
        var ip = frame.AsSpan(IpOutput.Headroom);
        payload.CopyTo(ip[(Ipv4Header.MinLength + UdpHeader.Length)..]);
        UdpHeader.Write(ip.Slice(Ipv4Header.MinLength, UdpHeader.Length + payload.Length), sport, dport, src, dst);
        output.WriteHeader(ip, ipLen, df, ttl, IpProtocol.Udp, src, dst, tos);
        return frame;
    }

    /// <summary>A raw socket's datagram without <c>IP_HDRINCL</c>: the stack writes the IP header, the payload follows as given.</summary>
    public static byte[] Raw(IpOutput output, Ipv4Address src, Ipv4Address dst, byte protocol, ReadOnlySpan<byte> payload,
        byte ttl, byte tos, bool df)
    {
        int ipLen = Ipv4Header.MinLength + payload.Length;
        var frame = IpOutput.NewFrame(ipLen);
        var ip = frame.AsSpan(IpOutput.Headroom);
        payload.CopyTo(ip[Ipv4Header.MinLength..]);
        output.WriteHeader(ip, ipLen, df, ttl, protocol, src, dst, tos);
        return frame;
    }

    /// <summary>
    /// <c>raw_send_hdrinc</c>: the application wrote the IP header. Refused with EINVAL when shorter than a header
    /// or its IHL does not fit; otherwise the kernel fills in what it always fills: the total length, the
    /// identification when it is 0, the source when it is 0.0.0.0, and the header checksum.
    /// </summary>
    public static Errno HdrIncl(IpOutput output, ReadOnlySpan<byte> packet, Ipv4Address routeSource, out byte[] frame, out Ipv4Address dst)
    {
        frame = [];
        dst = default;
        if (!Ipv4Header.TryRead(packet, out var h)) return Errno.EINVAL;
        if (h.Ihl < Ipv4Header.MinLength / 4 || h.HeaderLength > packet.Length) return Errno.EINVAL;
        frame = IpOutput.NewFrame(packet.Length);
        var ip = frame.AsSpan(IpOutput.Headroom);
        packet.CopyTo(ip);
        var w = new Ipv4HeaderWriter(ip[..h.HeaderLength]);
        w.TotalLength = packet.Length;
        dst = h.Destination;
        if (h.Source.IsAny) w.Source = routeSource;
        if (h.Id == 0) w.Id = output.NextId(dst, h.Protocol);
        w.FillChecksum();
        return Errno.OK;
    }
}
