using System.Buffers.Binary;

namespace ActorStack.Messages.Packets;

/// <summary>
/// TCP header view (RFC 9293 section 3.1). <see cref="TryRead"/> checks that the fixed 20 bytes are present;
/// after that no getter can fail. Whether the data offset is sane is <see cref="DataOffsetValid"/> (the
/// <c>th-&gt;doff &lt; sizeof(struct tcphdr) / 4</c> and <c>pskb_may_pull(skb, th-&gt;doff * 4)</c> checks of
/// <c>tcp_v4_rcv</c>); <see cref="Options"/> and <see cref="Payload"/> are clamped to the bytes present.
/// <code>
/// |          Source Port          |       Destination Port        |
/// |                        Sequence Number                        |
/// |                    Acknowledgment Number                      |
/// |  Data |       |C|E|U|A|P|R|S|F|                               |
/// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
/// |           Checksum            |         Urgent Pointer        |
/// |                    Options                    |    Padding    |
/// </code>
/// </summary>
public readonly ref struct TcpHeader
{
    /// <summary><c>sizeof(struct tcphdr)</c>: the header without options (data offset 5).</summary>
    public const int MinLength = 20;
    /// <summary>The longest header (data offset 15): 40 bytes of options.</summary>
    public const int MaxLength = 60;
    /// <summary>Bytes of a TCP header an ICMP error quotes (RFC 792): ports and sequence number.</summary>
    public const int QuotedLength = 8;
    private const int SeqAt = 4, AckAt = 8, OffsetAt = 12, FlagsAt = 13, WindowAt = 14, ChecksumAt = 16, UrgentAt = 18;

    private readonly ReadOnlySpan<byte> _b;
    private TcpHeader(ReadOnlySpan<byte> b) => _b = b;

    public static bool TryRead(ReadOnlySpan<byte> segment, out TcpHeader h)
    {
        h = segment.Length >= MinLength ? new TcpHeader(segment) : default;
        return segment.Length >= MinLength;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_b);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_b[2..]);
    /// <summary>Both ports as one word, source in the high half (<c>*(u32 *)&amp;th-&gt;source</c>, as <c>tcp_gro_receive</c> compares them).</summary>
    public uint Ports => BinaryPrimitives.ReadUInt32BigEndian(_b);
    public TcpSeq Seq => new(BinaryPrimitives.ReadUInt32BigEndian(_b[SeqAt..]));
    public TcpSeq Ack => new(BinaryPrimitives.ReadUInt32BigEndian(_b[AckAt..]));
    /// <summary>The data offset in 32-bit words (<c>th-&gt;doff</c>).</summary>
    public int DataOffset => _b[OffsetAt] >> 4;
    /// <summary>The header length in bytes, options included (<c>__tcp_hdrlen</c>).</summary>
    public int HeaderLength => DataOffset * 4;
    /// <summary>At least the 20-byte header and no more than the buffer holds.</summary>
    public bool DataOffsetValid => HeaderLength >= MinLength && HeaderLength <= _b.Length;
    public TcpFlags Flags => (TcpFlags)_b[FlagsAt];
    /// <summary>The raw 16-bit window field (unscaled).</summary>
    public ushort Window => BinaryPrimitives.ReadUInt16BigEndian(_b[WindowAt..]);
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_b[ChecksumAt..]);
    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_b[UrgentAt..]);

    /// <summary>The header as far as it is present (data offset words, clamped to the buffer; at least 20 bytes).</summary>
    public ReadOnlySpan<byte> HeaderBytes => _b[..Math.Clamp(HeaderLength, MinLength, _b.Length)];
    /// <summary>The option bytes, clamped to the buffer; empty for a data offset ≤ 5.</summary>
    public ReadOnlySpan<byte> Options => HeaderBytes[MinLength..];
    /// <summary>What follows the header, to the end of the buffer.</summary>
    public ReadOnlySpan<byte> Payload => _b[HeaderBytes.Length..];

    /// <summary>
    /// True when the checksum over the IPv4 pseudo header and <paramref name="segment"/> (exactly the TCP length)
    /// is right (<c>tcp_v4_checksum_init</c> / <c>tcp_checksum_complete</c>).
    /// </summary>
    public static bool ChecksumValid(ReadOnlySpan<byte> segment, uint src, uint dst)
        => Packets.Checksum.Fold(Packets.Checksum.Partial(segment, Packets.Checksum.PseudoHeader(src, dst, IpProtocol.Tcp, segment.Length))) == 0;

    /// <summary>TSval of the timestamp option at <paramref name="timestampOffset"/> (from <see cref="FindTimestamp"/>) in <paramref name="options"/>.</summary>
    public static uint ReadTsVal(ReadOnlySpan<byte> options, int timestampOffset)
        => BinaryPrimitives.ReadUInt32BigEndian(options[(timestampOffset + 2)..]);

    /// <summary>Offset within <see cref="Options"/> of a well-formed timestamp option (kind 8, length 10), or -1.</summary>
    public static int FindTimestamp(ReadOnlySpan<byte> options)
    {
        int i = 0;
        while (i < options.Length)
        {
            byte kind = options[i];
            if (kind == TcpOptionKind.Eol) return -1;
            if (kind == TcpOptionKind.Nop) { i++; continue; }
            if (i + 1 >= options.Length) return -1;
            int len = options[i + 1];
            if (len < 2 || i + len > options.Length) return -1;
            if (kind == TcpOptionKind.Timestamp && len == TcpOptionKind.TimestampLength) return i;
            i += len;
        }
        return -1;
    }
}

/// <summary>
/// A writable TCP header over a segment the caller owns (before it is sent): the fields GSO and GRO rewrite
/// in place (sequence number, flags, checksum). The span is the whole segment (header and payload).
/// </summary>
public readonly ref struct TcpHeaderWriter
{
    private readonly Span<byte> _b;

    public TcpHeaderWriter(Span<byte> segment)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segment.Length, TcpHeader.MinLength);
        _b = segment;
    }

    public TcpSeq Seq { set => BinaryPrimitives.WriteUInt32BigEndian(_b[4..], value.Value); }
    public TcpFlags Flags { set => _b[13] = (byte)value; }
    public ushort Checksum { set => BinaryPrimitives.WriteUInt16BigEndian(_b[16..], value); }

    /// <summary><c>__tcp_v4_send_check</c> in full: the checksum over the pseudo header and the whole span.</summary>
    public void FillChecksum(uint src, uint dst)
    {
        _b[16] = 0; _b[17] = 0;
        Checksum = Packets.Checksum.Fold(Packets.Checksum.Partial(_b, Packets.Checksum.PseudoHeader(src, dst, IpProtocol.Tcp, _b.Length)));
    }

    /// <summary>
    /// What <c>tcp_gro_complete</c> leaves in the checksum field of a merged packet (<c>~tcp_v4_check(len, saddr,
    /// daddr, 0)</c>, CHECKSUM_PARTIAL): the folded pseudo-header sum over <paramref name="tcpLength"/> bytes.
    /// </summary>
    public void SetPseudoHeaderChecksum(uint src, uint dst, int tcpLength)
        => Checksum = (ushort)~Packets.Checksum.Fold(Packets.Checksum.PseudoHeader(src, dst, IpProtocol.Tcp, tcpLength));
}

/// <summary>Maximum segment size constants (<c>include/net/tcp.h</c>).</summary>
public static class TcpMss
{
    /// <summary><c>TCP_MSS_DEFAULT</c>: RFC 1122's 536 bytes, assumed when the peer sends no MSS option.</summary>
    public const int Default = 536;
    /// <summary><c>TCP_MIN_MSS</c>: the smallest MSS Linux uses (<c>tcp_mtu_to_mss</c> clamps to it).</summary>
    public const int Min = 88;
    /// <summary><c>TCP_BASE_MSS</c>: <c>tcp_base_mss</c>, where MTU probing starts.</summary>
    public const int Base = 1024;
}
