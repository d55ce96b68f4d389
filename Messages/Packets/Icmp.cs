using System.Buffers.Binary;

namespace ActorStack.Messages.Packets;

/// <summary>What <see cref="IcmpPacket.TryParse"/> found.</summary>
public enum IcmpParseStatus
{
    Ok,
    /// <summary>The checksum over the whole message is wrong (<c>skb_checksum_simple_validate</c>: <c>InCsumErrors</c>).</summary>
    BadChecksum,
    /// <summary>Shorter than the 8-byte header (<c>pskb_pull</c> fails: <c>InErrors</c>).</summary>
    Truncated,
}

/// <summary>
/// An ICMP header, parsed (RFC 792):
/// <code>
/// | type (1) | code (1) | checksum (2) |
/// | rest of header (4): id + sequence, gateway, unused + next-hop MTU (RFC 1191), pointer |
/// </code>
/// </summary>
public readonly record struct IcmpMessage(byte Type, byte Code, ushort Checksum, uint RestOfHeader)
{
    /// <summary>Echo / timestamp identifier (<c>un.echo.id</c>).</summary>
    public ushort Id => (ushort)(RestOfHeader >> 16);
    /// <summary>Echo / timestamp sequence (<c>un.echo.sequence</c>).</summary>
    public ushort Sequence => (ushort)RestOfHeader;
    /// <summary>Fragmentation needed: the next-hop MTU in the low half of the second word (<c>un.frag.mtu</c>, RFC 1191).</summary>
    public ushort NextHopMtu => (ushort)RestOfHeader;
    /// <summary>Parameter problem: the pointer in the first byte of the second word (<c>ntohl(un.gateway) &gt;&gt; 24</c>).</summary>
    public byte Pointer => (byte)(RestOfHeader >> 24);
    /// <summary>Redirect: the gateway address (<c>un.gateway</c>).</summary>
    public Ipv4Address Gateway => new(RestOfHeader);
}

/// <summary>
/// ICMP header view (RFC 792), 8 bytes. After <see cref="TryRead"/> succeeds no getter can fail.
/// <code>
/// | type (1) | code (1) | checksum (2) |
/// | rest of header (4) |
/// </code>
/// </summary>
public readonly ref struct IcmpHeader
{
    public const int Length = IcmpPacket.HeaderLength;
    private readonly ReadOnlySpan<byte> _b;
    private IcmpHeader(ReadOnlySpan<byte> b) => _b = b;

    public static bool TryRead(ReadOnlySpan<byte> message, out IcmpHeader h)
    {
        h = message.Length >= Length ? new IcmpHeader(message) : default;
        return message.Length >= Length;
    }

    public byte Type => _b[0];
    public byte Code => _b[1];
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_b[2..]);
    /// <summary>The second word (<c>icmph-&gt;un</c>).</summary>
    public uint RestOfHeader => BinaryPrimitives.ReadUInt32BigEndian(_b[4..]);
    /// <summary>Echo / timestamp identifier (<c>un.echo.id</c>).</summary>
    public ushort Id => BinaryPrimitives.ReadUInt16BigEndian(_b[4..]);
    /// <summary>Echo / timestamp sequence (<c>un.echo.sequence</c>).</summary>
    public ushort Sequence => BinaryPrimitives.ReadUInt16BigEndian(_b[6..]);
    /// <summary>What follows the header: echo data, or the quoted datagram of an error.</summary>
    public ReadOnlySpan<byte> Data => _b[Length..];
    /// <summary>The parsed value of the header.</summary>
    public IcmpMessage ToMessage() => new(Type, Code, Checksum, RestOfHeader);
}

/// <summary>
/// The datagram an ICMP error quotes (RFC 792: its IP header and the first 8 bytes of its payload), checked
/// as <see cref="IcmpPacket.CheckQuoted"/> does; after <see cref="TryRead"/> no getter can fail. The
/// transport words are those of TCP and UDP alike: ports, then TCP's sequence number (UDP's length and checksum).
/// </summary>
public readonly ref struct IcmpQuote
{
    private readonly ReadOnlySpan<byte> _b;
    private readonly int _ihl;
    private IcmpQuote(ReadOnlySpan<byte> b, int ihl) { _b = b; _ihl = ihl; }

    /// <summary>True when <see cref="IcmpPacket.CheckQuoted"/> gives <see cref="QuoteStatus.Ok"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> quoted, out IcmpQuote q)
    {
        q = default;
        if (IcmpPacket.CheckQuoted(quoted) != QuoteStatus.Ok) return false;
        q = new IcmpQuote(quoted, (quoted[0] & 0x0F) * 4);
        return true;
    }

    /// <summary>The quoted IP header (IHL checked to be at least 5 and present).</summary>
    public Ipv4Header Ip { get { Ipv4Header.TryRead(_b, out var h); return h; } }
    /// <summary>The quoted header's length (IHL × 4).</summary>
    public int IpHeaderLength => _ihl;
    /// <summary>The 8 quoted bytes of the transport header (and whatever more was quoted).</summary>
    public ReadOnlySpan<byte> Transport => _b[_ihl..];
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_b[_ihl..]);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_b[(_ihl + 2)..]);
    /// <summary>The quoted TCP sequence number (bytes 4–7 of the transport header).</summary>
    public TcpSeq TcpSeq => new(BinaryPrimitives.ReadUInt32BigEndian(_b[(_ihl + 4)..]));
}

/// <summary>
/// ICMP timestamp and timestamp reply (RFC 792, "Timestamp or Timestamp Reply Message"): the 8-byte header with
/// identifier and sequence in its second word, then three 32-bit timestamps in milliseconds since midnight UT.
/// After <see cref="TryRead"/> no getter can fail.
/// <code>
/// | type 13/14 (1) | code 0 (1) | checksum (2) |
/// | identifier (2) | sequence number (2)       |
/// | originate timestamp (4)                    |
/// | receive timestamp (4)                      |
/// | transmit timestamp (4)                     |
/// </code>
/// </summary>
public readonly ref struct IcmpTimestamp
{
    /// <summary>One timestamp (<c>__be32</c>).</summary>
    public const int StampLength = 4;
    /// <summary>The whole message: header and the three timestamps (what <c>icmp_timestamp</c> replies with).</summary>
    public const int Length = IcmpPacket.HeaderLength + 3 * StampLength;
    private const int OriginateAt = IcmpPacket.HeaderLength, ReceiveAt = OriginateAt + StampLength,
        TransmitAt = ReceiveAt + StampLength;

    private readonly ReadOnlySpan<byte> _b;
    private IcmpTimestamp(ReadOnlySpan<byte> b) => _b = b;

    /// <summary>A view over <paramref name="message"/> (the ICMP message from its header on); false when shorter than <see cref="Length"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> message, out IcmpTimestamp t)
    {
        t = message.Length >= Length ? new IcmpTimestamp(message) : default;
        return message.Length >= Length;
    }

    public uint Originate => BinaryPrimitives.ReadUInt32BigEndian(_b[OriginateAt..]);
    public uint Receive => BinaryPrimitives.ReadUInt32BigEndian(_b[ReceiveAt..]);
    public uint Transmit => BinaryPrimitives.ReadUInt32BigEndian(_b[TransmitAt..]);

    /// <summary>
    /// The originate timestamp of a request from <paramref name="data"/> (what follows the ICMP header), as
    /// <c>icmp_timestamp</c> copies it (<c>skb_copy_bits(skb, 0, &amp;times[0], 4)</c>); the caller checked that
    /// <see cref="StampLength"/> bytes are there.
    /// </summary>
    public static uint ReadOriginate(ReadOnlySpan<byte> data) => BinaryPrimitives.ReadUInt32BigEndian(data);

    /// <summary>
    /// Writes a timestamp reply into the first <see cref="Length"/> bytes of <paramref name="message"/>: the
    /// request's identifier and sequence (<paramref name="restOfHeader"/>), the three timestamps, the checksum.
    /// </summary>
    public static void WriteReply(Span<byte> message, uint restOfHeader, uint originate, uint receive, uint transmit)
    {
        var m = message[..Length];
        BinaryPrimitives.WriteUInt32BigEndian(m[OriginateAt..], originate);
        BinaryPrimitives.WriteUInt32BigEndian(m[ReceiveAt..], receive);
        BinaryPrimitives.WriteUInt32BigEndian(m[TransmitAt..], transmit);
        IcmpPacket.WriteHeader(m, IcmpPacket.TypeTimestampReply, 0, restOfHeader);
    }
}

/// <summary>
/// ICMP wire format without actors: parsing and validation as <c>icmp_rcv</c> does it, and the builders of
/// the messages this host sends (<c>icmp_echo</c>'s reply, <c>icmp_send</c>'s errors with Linux's quoting rule).
/// Nothing here throws on input a peer controls; builders write into a span the caller sized with the
/// matching <c>*Length</c> method.
/// </summary>
public static class IcmpPacket
{
    public const int HeaderLength = 8;
    /// <summary>RFC 792: an error quotes the IP header and the first 64 bits of the datagram's data.</summary>
    public const int QuotedTransportLength = 8;
    /// <summary><c>NR_ICMP_TYPES</c>: the highest type Linux knows.</summary>
    public const byte NrIcmpTypes = 18;
    /// <summary><c>NR_ICMP_UNREACH</c>: the highest destination-unreachable code.</summary>
    public const byte NrIcmpUnreach = 15;
    /// <summary>RFC 1812 4.3.2.3 / RFC 1122 3.2.2: an error is at most 576 bytes of IP datagram.</summary>
    public const int MaxErrorDatagram = 576;
    /// <summary><c>IPTOS_PREC_INTERNETCONTROL</c>: the precedence Linux gives to the errors it sends.</summary>
    public const byte TosPrecInternetControl = 0xC0;
    /// <summary><c>IPTOS_TOS_MASK</c>, what <c>RT_TOS</c> keeps of the offending packet's TOS.</summary>
    public const byte TosMask = 0x1E;

    public const byte TypeTimestamp = 13;
    public const byte TypeTimestampReply = 14;
    public const byte TypeInfoRequest = 15;
    public const byte TypeInfoReply = 16;
    public const byte TypeAddress = 17;
    public const byte TypeAddressReply = 18;

    /// <summary>
    /// <c>icmp_pointers[type].error</c>: the types Linux treats as errors (an error is never sent about them).
    /// Types above <see cref="NrIcmpTypes"/> count as errors too ("Assume any unknown ICMP type is an error").
    /// </summary>
    public static bool IsError(byte type) => type switch
    {
        1 or 2 or IcmpType.DestUnreach or IcmpType.SourceQuench or IcmpType.Redirect or 6 or 7 or 9 or 10
            or IcmpType.TimeExceeded or IcmpType.ParameterProb => true,
        > NrIcmpTypes => true,
        _ => false,
    };

    /// <summary>
    /// <c>icmp_rcv</c>'s first checks on <paramref name="icmp"/> (the ICMP message, exactly as long as the IP
    /// payload): the checksum over all of it first, then the 8-byte header.
    /// </summary>
    public static IcmpParseStatus TryParse(ReadOnlySpan<byte> icmp, out IcmpMessage msg)
    {
        msg = default;
        if (Checksum.Compute(icmp) != 0) return IcmpParseStatus.BadChecksum;
        if (!IcmpHeader.TryRead(icmp, out var h)) return IcmpParseStatus.Truncated;
        msg = h.ToMessage();
        return IcmpParseStatus.Ok;
    }

    /// <summary>Writes the 8-byte header and the data already at <c>message[8..]</c>'s checksum (the message is all of <paramref name="message"/>).</summary>
    public static void WriteHeader(Span<byte> message, byte type, byte code, uint restOfHeader)
    {
        message[0] = type;
        message[1] = code;
        message[2] = 0;
        message[3] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(message[4..], restOfHeader);
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], Checksum.Compute(message));
    }

    /// <summary>
    /// <c>icmp_echo</c>: the reply to an echo request <paramref name="request"/> (a whole ICMP message) is the same
    /// message, type echo reply, same code, identifier, sequence and data, checksum recomputed. Returns its length.
    /// </summary>
    public static int WriteEchoReply(ReadOnlySpan<byte> request, Span<byte> reply)
    {
        request.CopyTo(reply);
        var m = reply[..request.Length];
        WriteHeader(m, IcmpType.EchoReply, request[1], BinaryPrimitives.ReadUInt32BigEndian(request[4..]));
        return request.Length;
    }

    /// <summary>An echo request (what <c>ping</c> sends): identifier, sequence and data.</summary>
    public static byte[] EchoRequest(ushort id, ushort sequence, ReadOnlySpan<byte> data)
    {
        var m = new byte[HeaderLength + data.Length];
        data.CopyTo(m.AsSpan(HeaderLength));
        WriteHeader(m, IcmpType.Echo, 0, (uint)id << 16 | sequence);
        return m;
    }

    /// <summary>
    /// The second word of an error of <paramref name="type"/>/<paramref name="code"/> carrying <paramref name="info"/>
    /// (<c>icmp_param.data.icmph.un.gateway = info</c>): the next-hop MTU in the low 16 bits for fragmentation
    /// needed (RFC 1191), the pointer in the top byte for a parameter problem, the gateway for a redirect, else 0.
    /// </summary>
    public static uint RestOfHeaderFor(byte type, byte code, uint info) => type switch
    {
        IcmpType.DestUnreach when code == IcmpCode.FragNeeded => info & 0xFFFF,
        IcmpType.ParameterProb => (info & 0xFF) << 24,
        IcmpType.Redirect => info,
        _ => 0,
    };

    /// <summary>
    /// <c>icmp_send</c>'s quoting rule: how many bytes of the offending datagram (from its IP header on) go into an
    /// error sent over a route of <paramref name="routeMtu"/>: room = min(MTU, 576) − 20 (IP) − 8 (ICMP); 0 when the
    /// room would not hold even an IP header ("Guard against tiny mtu"), in which case no error is sent.
    /// </summary>
    public static int QuoteLength(int offendingLength, int routeMtu)
    {
        int room = Math.Min(routeMtu, MaxErrorDatagram) - Ipv4Header.MinLength - HeaderLength;
        if (room <= Ipv4Header.MinLength) return 0;
        return Math.Min(offendingLength, room);
    }

    /// <summary>Writes an error message (header + <paramref name="quoted"/>) into <paramref name="message"/>, which is exactly 8 + quoted bytes long.</summary>
    public static void WriteError(Span<byte> message, byte type, byte code, uint info, ReadOnlySpan<byte> quoted)
    {
        quoted.CopyTo(message[HeaderLength..]);
        WriteHeader(message, type, code, RestOfHeaderFor(type, code, info));
    }

    /// <summary>An error message about <paramref name="offending"/> quoted as <see cref="QuoteLength"/> allows for <paramref name="routeMtu"/>; null when nothing may be sent.</summary>
    public static byte[]? Error(byte type, byte code, uint info, ReadOnlySpan<byte> offending, int routeMtu = 1500)
    {
        int q = QuoteLength(offending.Length, routeMtu);
        if (q == 0) return null;
        var m = new byte[HeaderLength + q];
        WriteError(m, type, code, info, offending[..q]);
        return m;
    }

    public static byte[]? DestUnreach(byte code, ReadOnlySpan<byte> offending, ushort nextHopMtu = 0)
        => Error(IcmpType.DestUnreach, code, nextHopMtu, offending);

    public static byte[]? TimeExceeded(byte code, ReadOnlySpan<byte> offending)
        => Error(IcmpType.TimeExceeded, code, 0, offending);

    public static byte[]? ParameterProblem(byte pointer, ReadOnlySpan<byte> offending)
        => Error(IcmpType.ParameterProb, 0, pointer, offending);

    /// <summary>
    /// <c>icmp_unreach</c> / <c>icmp_socket_deliver</c>'s checks on the datagram an error quotes
    /// (<paramref name="quoted"/>: what follows the ICMP header): an IP header (20 bytes, IHL ≥ 5) plus the
    /// first 8 bytes of its payload.
    /// </summary>
    public static QuoteStatus CheckQuoted(ReadOnlySpan<byte> quoted)
    {
        if (!Ipv4Header.TryRead(quoted, out var ip)) return QuoteStatus.Truncated;
        if (ip.Ihl < 5) return QuoteStatus.BadHeader;
        if (quoted.Length < ip.HeaderLength + QuotedTransportLength) return QuoteStatus.ShortPayload;
        return QuoteStatus.Ok;
    }
}

/// <summary>What <see cref="IcmpPacket.CheckQuoted"/> found.</summary>
public enum QuoteStatus
{
    Ok,
    /// <summary>Not even an IP header (<c>pskb_may_pull(skb, sizeof(struct iphdr))</c> fails).</summary>
    Truncated,
    /// <summary>IHL below 5 ("Mangled header").</summary>
    BadHeader,
    /// <summary>The IP header without 8 bytes of its payload (<c>icmp_socket_deliver</c>'s <c>pskb_may_pull</c>).</summary>
    ShortPayload,
}

/// <summary>ICMP types and codes (RFC 792, include/uapi/linux/icmp.h).</summary>
public static class IcmpType
{
    public const byte EchoReply = 0;
    public const byte DestUnreach = 3;
    public const byte SourceQuench = 4;
    public const byte Redirect = 5;
    public const byte Echo = 8;
    public const byte TimeExceeded = 11;
    public const byte ParameterProb = 12;
}

public static class IcmpCode
{
    public const byte NetUnreach = 0;
    public const byte HostUnreach = 1;
    public const byte ProtUnreach = 2;
    public const byte PortUnreach = 3;
    public const byte FragNeeded = 4;
    public const byte NetProhibited = 9;
    public const byte HostProhibited = 10;
    public const byte PktFiltered = 13;
    /// <summary>Time exceeded: TTL expired in transit.</summary>
    public const byte ExcTtl = 0;
    /// <summary>Time exceeded: fragment reassembly time exceeded.</summary>
    public const byte ExcFragTime = 1;
}
