using System.Buffers.Binary;
using ActorStack.Actors.Ipv4;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// ICMP echo request as iputils' <c>ping4_send_probe</c> writes it (RFC 792), for a raw ICMP socket (the kernel
/// adds the IP header; the application computes the ICMP checksum):
/// <code>
/// | type 8 | code 0 | checksum (2) | identifier (2) | sequence (2) | data ... |
/// </code>
/// The first 8 data bytes hold the send time (scheduler ticks, big-endian) when the data has room for it
/// (iputils' timing needs datalen ≥ sizeof timestamp); every other data byte i holds i & 0xFF, as iputils fills it.
/// </summary>
public static class IcmpEcho
{
    public const int HeaderLength = IcmpPacket.HeaderLength;
    public const int TimestampLength = 8;

    /// <summary>Builds a whole ICMP echo message (header and <paramref name="dataLength"/> data bytes).</summary>
    public static byte[] BuildRequest(ushort id, ushort sequence, int dataLength, long sendTicks)
        => Build(IcmpType.Echo, id, sequence, dataLength, sendTicks);

    /// <summary>Builds an echo reply with the same layout (used by tests standing in for a peer).</summary>
    public static byte[] BuildReply(ushort id, ushort sequence, int dataLength, long sendTicks)
        => Build(IcmpType.EchoReply, id, sequence, dataLength, sendTicks);

    private static byte[] Build(byte type, ushort id, ushort sequence, int dataLength, long sendTicks)
    {
        dataLength = Math.Max(0, dataLength);
        var m = new byte[HeaderLength + dataLength];
        for (int i = 0; i < dataLength; i++) m[HeaderLength + i] = (byte)i;
        if (dataLength >= TimestampLength) BinaryPrimitives.WriteInt64BigEndian(m.AsSpan(HeaderLength), sendTicks);
        IcmpPacket.WriteHeader(m, type, 0, (uint)id << 16 | sequence); // type, code, id/sequence, checksum
        return m;
    }

    /// <summary>True when data byte i (i ≥ 8) is i & 0xFF: the reply carries our pattern (iputils' <c>contains_pattern_in_payload</c>).</summary>
    public static bool PatternIntact(ReadOnlySpan<byte> data)
    {
        for (int i = TimestampLength; i < data.Length; i++)
            if (data[i] != (byte)i) return false;
        return true;
    }
}

/// <summary>
/// An ICMP message as a raw ICMP socket reads it: the whole IP packet (<c>raw_recvmsg</c>). After
/// <see cref="TryParse"/> succeeds no getter fails. <see cref="Rest"/> is the second 32-bit word of the ICMP header
/// (echo id and sequence; the next-hop MTU in its low 16 bits for fragmentation needed).
/// </summary>
public readonly record struct IcmpMessage(Ipv4Address Source, Ipv4Address Destination, byte Ttl, byte Type, byte Code,
    uint Rest, ReadOnlyMemory<byte> Body, bool ChecksumValid)
{
    public ushort EchoId => (ushort)(Rest >> 16);
    public ushort EchoSequence => (ushort)Rest;
    /// <summary>Length of the ICMP message (header and body): what iputils prints as "N bytes from".</summary>
    public int Length => IcmpEcho.HeaderLength + Body.Length;
    /// <summary>The next-hop MTU of a fragmentation-needed error (RFC 1191).</summary>
    public ushort NextHopMtu => (ushort)Rest;

    /// <summary>
    /// The error's <c>ee_info</c> as <c>icmp_err</c> reports it: the next-hop MTU for fragmentation needed,
    /// the pointer for a parameter problem, else the whole second header word (a redirect's gateway).
    /// </summary>
    public uint ErrorInfo => Type switch
    {
        IcmpType.DestUnreach when Code == IcmpCode.FragNeeded => NextHopMtu,
        IcmpType.ParameterProb => Rest >> 24,
        _ => Rest,
    };

    /// <summary>Error messages that quote the offending IP header and 8 bytes of its payload (RFC 792).</summary>
    public bool IsError => Type is IcmpType.DestUnreach or IcmpType.TimeExceeded or IcmpType.ParameterProb
        or IcmpType.SourceQuench or IcmpType.Redirect;

    /// <summary>
    /// Parses an IPv4 packet carrying ICMP. False for anything that is not a complete, unfragmented ICMP packet
    /// with at least the 8-byte ICMP header (the caller counts and drops it).
    /// </summary>
    public static bool TryParse(ReadOnlyMemory<byte> ipPacket, out IcmpMessage m)
    {
        m = default;
        var p = ipPacket.Span;
        if (!Ipv4Header.TryRead(p, out var ip) || ip.Version != 4 || ip.Ihl < 5) return false;
        int hlen = ip.HeaderLength;
        int total = Math.Min(ip.TotalLength, p.Length);
        if (ip.Protocol != IpProtocol.Icmp || ip.IsFragment || total < hlen + IcmpEcho.HeaderLength) return false;
        var icmp = p[hlen..total];
        IcmpHeader.TryRead(icmp, out var ih); // at least the 8-byte header, checked above
        m = new IcmpMessage(ip.Source, ip.Destination, ip.Ttl, ih.Type, ih.Code, ih.RestOfHeader,
            ipPacket[(hlen + IcmpEcho.HeaderLength)..total], Checksum.Compute(icmp) == 0);
        return true;
    }

    /// <summary>The send timestamp an echo reply carries back (our request's first 8 data bytes), if it has room.</summary>
    public bool TryGetTimestamp(out long sendTicks)
    {
        sendTicks = 0;
        if (Body.Length < IcmpEcho.TimestampLength) return false;
        sendTicks = BinaryPrimitives.ReadInt64BigEndian(Body.Span);
        return true;
    }

    /// <summary>The offending packet's header an error quotes (needs its IP header and 8 bytes after it).</summary>
    public bool TryGetQuoted(out QuotedHeader q)
    {
        q = default;
        if (!IsError) return false;
        var b = Body.Span;
        // The quoted IP header (IHL ≥ 5, present) and the 8 transport bytes after it, read as UDP's four words.
        if (!IcmpQuote.TryRead(b, out var quote) || !UdpHeader.TryRead(quote.Transport, out var l4)) return false;
        var ip = quote.Ip;
        q = new QuotedHeader(ip.Source, ip.Destination, ip.Protocol,
            l4.SourcePort, l4.DestinationPort, (ushort)l4.DatagramLength, l4.Checksum);
        return true;
    }
}

/// <summary>
/// The IP header and first 8 transport bytes quoted in an ICMP error, as four 16-bit words: for UDP the ports,
/// for an ICMP echo the type/code, checksum, identifier and sequence.
/// </summary>
public readonly record struct QuotedHeader(Ipv4Address Source, Ipv4Address Destination, byte Protocol,
    ushort Word0, ushort Word1, ushort Word2, ushort Word3)
{
    public ushort UdpSourcePort => Word0;
    public ushort UdpDestinationPort => Word1;
    public byte IcmpType => (byte)(Word0 >> 8);
    public ushort EchoId => Word2;
    public ushort EchoSequence => Word3;
}
