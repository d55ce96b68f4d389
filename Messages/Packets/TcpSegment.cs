using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;

namespace ActorStack.Messages.Packets;

/// <summary>One SACK block (RFC 2018): the bytes [Left, Right) were received.</summary>
public readonly record struct SackBlock(TcpSeq Left, TcpSeq Right)
{
    public override string ToString() => $"{Left.Value}-{Right.Value}";
}

/// <summary>Option kinds (IANA "TCP Option Kind Numbers").</summary>
public static class TcpOptionKind
{
    public const byte Eol = 0, Nop = 1, Mss = 2, WindowScale = 3, SackPermitted = 4, Sack = 5, Timestamp = 8;
    /// <summary><c>TCPOLEN_TIMESTAMP</c>: kind, length, TSval, TSecr.</summary>
    public const int TimestampLength = 10;
}

/// <summary>
/// The TCP options ActorStack understands, as Linux's <c>tcp_parse_options</c> fills
/// <c>struct tcp_options_received</c>. Unknown options are skipped by their length.
/// </summary>
public readonly record struct TcpOptions
{
    public ushort? Mss { get; init; }
    public byte? WindowScale { get; init; }
    public bool SackPermitted { get; init; }
    public bool HasTimestamp { get; init; }
    public uint TsVal { get; init; }
    public uint TsEcr { get; init; }
    public ImmutableArray<SackBlock> Sack { get; init; }

    public int SackCount => Sack.IsDefault ? 0 : Sack.Length;

    /// <summary>
    /// Length in bytes on the wire, padded to a multiple of 4, in the layout Linux's
    /// <c>tcp_options_write</c> uses (NOP-aligned: MSS, SACK-perm+TS or NOP NOP TS, NOP WS, NOP NOP SACK).
    /// </summary>
    public int WireLength
    {
        get
        {
            int n = 0;
            if (Mss is not null) n += 4;
            if (HasTimestamp) n += 12; // SACK-permitted rides in the first two bytes when both are present
            else if (SackPermitted) n += 4;
            if (WindowScale is not null) n += 4;
            if (SackCount > 0) n += 4 + 8 * SackCount;
            return n;
        }
    }

    /// <summary>Writes the options into <paramref name="b"/> (at least <see cref="WireLength"/> bytes).</summary>
    public void Write(Span<byte> b)
    {
        int o = 0;
        if (Mss is ushort mss)
        {
            b[o] = TcpOptionKind.Mss; b[o + 1] = 4; BinaryPrimitives.WriteUInt16BigEndian(b[(o + 2)..], mss); o += 4;
        }
        if (HasTimestamp)
        {
            if (SackPermitted) { b[o] = TcpOptionKind.SackPermitted; b[o + 1] = 2; }
            else { b[o] = TcpOptionKind.Nop; b[o + 1] = TcpOptionKind.Nop; }
            b[o + 2] = TcpOptionKind.Timestamp; b[o + 3] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(b[(o + 4)..], TsVal);
            BinaryPrimitives.WriteUInt32BigEndian(b[(o + 8)..], TsEcr);
            o += 12;
        }
        else if (SackPermitted)
        {
            b[o] = TcpOptionKind.Nop; b[o + 1] = TcpOptionKind.Nop; b[o + 2] = TcpOptionKind.SackPermitted; b[o + 3] = 2; o += 4;
        }
        if (WindowScale is byte ws)
        {
            b[o] = TcpOptionKind.Nop; b[o + 1] = TcpOptionKind.WindowScale; b[o + 2] = 3; b[o + 3] = ws; o += 4;
        }
        if (SackCount > 0)
        {
            b[o] = TcpOptionKind.Nop; b[o + 1] = TcpOptionKind.Nop; b[o + 2] = TcpOptionKind.Sack; b[o + 3] = (byte)(2 + 8 * Sack.Length);
            o += 4;
            foreach (var s in Sack)
            {
                BinaryPrimitives.WriteUInt32BigEndian(b[o..], s.Left.Value);
                BinaryPrimitives.WriteUInt32BigEndian(b[(o + 4)..], s.Right.Value);
                o += 8;
            }
        }
    }

    /// <summary>
    /// Parses the option bytes as <c>tcp_parse_options</c> does: EOL ends the list, NOP is skipped,
    /// a known option with a wrong length is ignored (Linux ignores it too), a length that runs past
    /// the end or is below 2 makes the list malformed (false). MSS/WS/SACK-perm count only on a SYN.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> b, bool syn, out TcpOptions opts)
    {
        opts = default;
        ushort? mss = null; byte? ws = null; bool sackOk = false, ts = false; uint tsVal = 0, tsEcr = 0;
        ImmutableArray<SackBlock> sack = default;
        int i = 0;
        while (i < b.Length)
        {
            byte kind = b[i];
            if (kind == TcpOptionKind.Eol) break;
            if (kind == TcpOptionKind.Nop) { i++; continue; }
            if (i + 1 >= b.Length) return false;
            int len = b[i + 1];
            if (len < 2 || i + len > b.Length) return false;
            var v = b.Slice(i + 2, len - 2);
            switch (kind)
            {
                case TcpOptionKind.Mss when len == 4 && syn:
                    ushort m = BinaryPrimitives.ReadUInt16BigEndian(v);
                    if (m != 0) mss = m;
                    break;
                case TcpOptionKind.WindowScale when len == 3 && syn:
                    // RFC 7323 2.3: a shift above 14 is used as 14 (Linux logs and clamps).
                    ws = Math.Min(v[0], (byte)14);
                    break;
                case TcpOptionKind.SackPermitted when len == 2 && syn:
                    sackOk = true;
                    break;
                case TcpOptionKind.Timestamp when len == 10:
                    ts = true;
                    tsVal = BinaryPrimitives.ReadUInt32BigEndian(v);
                    tsEcr = BinaryPrimitives.ReadUInt32BigEndian(v[4..]);
                    break;
                case TcpOptionKind.Sack when len >= 10 && (len - 2) % 8 == 0 && !syn:
                    var blocks = ImmutableArray.CreateBuilder<SackBlock>((len - 2) / 8);
                    for (int k = 0; k + 8 <= v.Length; k += 8)
                        blocks.Add(new SackBlock(new TcpSeq(BinaryPrimitives.ReadUInt32BigEndian(v[k..])),
                            new TcpSeq(BinaryPrimitives.ReadUInt32BigEndian(v[(k + 4)..]))));
                    sack = blocks.MoveToImmutable();
                    break;
            }
            i += len;
        }
        opts = new TcpOptions
        {
            Mss = mss, WindowScale = ws, SackPermitted = sackOk, HasTimestamp = ts, TsVal = tsVal, TsEcr = tsEcr, Sack = sack,
        };
        return true;
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Mss is not null) sb.Append($"mss {Mss} ");
        if (SackPermitted) sb.Append("sackOK ");
        if (HasTimestamp) sb.Append($"TS val {TsVal} ecr {TsEcr} ");
        if (WindowScale is not null) sb.Append($"wscale {WindowScale} ");
        if (SackCount > 0) sb.Append($"sack {string.Join(' ', Sack)} ");
        return sb.ToString().TrimEnd();
    }
}

/// <summary>Why <see cref="TcpSegment.TryParse"/> refused a segment, with the drop reason and counter Linux uses.</summary>
public enum TcpParseError
{
    None,
    /// <summary>Shorter than 20 bytes: <c>SKB_DROP_REASON_PKT_TOO_SMALL</c>, not counted in Tcp: (tcp_v4_rcv's discard_it).</summary>
    TooShort,
    /// <summary>Data offset below 5 words: <c>SKB_DROP_REASON_PKT_TOO_SMALL</c> via bad_packet, Tcp: InErrs.</summary>
    BadDataOffset,
    /// <summary>Data offset past the end of the segment (<c>pskb_may_pull</c> fails): discarded, not counted in Tcp:.</summary>
    HeaderTruncated,
    /// <summary>Checksum over pseudo header failed: <c>SKB_DROP_REASON_TCP_CSUM</c>, Tcp: InCsumErrors and InErrs.</summary>
    BadChecksum,
    /// <summary>An option's length ran past the header: dropped like a bad header (Tcp: InErrs).</summary>
    BadOptions,
}

/// <summary>
/// A parsed TCP segment (header values, options and payload). The payload memory
/// is borrowed from the buffer it was parsed from and must not be written after.
/// <code>
///  0                   1                   2                   3
/// |          Source Port          |       Destination Port        |
/// |                        Sequence Number                        |
/// |                    Acknowledgment Number                      |
/// |  Data |       |C|E|U|A|P|R|S|F|                               |
/// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
/// |           Checksum            |         Urgent Pointer        |
/// |                    Options                    |    Padding    |
/// </code>
/// </summary>
public sealed record TcpSegment
{
    public const int MinHeaderLength = TcpHeader.MinLength;
    public const int MaxHeaderLength = TcpHeader.MaxLength;

    public ushort SourcePort { get; init; }
    public ushort DestinationPort { get; init; }
    public TcpSeq Seq { get; init; }
    public TcpSeq Ack { get; init; }
    public TcpFlags Flags { get; init; }
    /// <summary>The raw 16-bit window field (unscaled).</summary>
    public ushort Window { get; init; }
    public ushort UrgentPointer { get; init; }
    public TcpOptions Options { get; init; }
    public ReadOnlyMemory<byte> Payload { get; init; }

    public bool Syn => (Flags & TcpFlags.Syn) != 0;
    public bool Fin => (Flags & TcpFlags.Fin) != 0;
    public bool Rst => (Flags & TcpFlags.Rst) != 0;
    public bool HasAck => (Flags & TcpFlags.Ack) != 0;
    /// <summary>SEG.LEN: payload plus one for SYN and one for FIN.</summary>
    public int SeqLength => Payload.Length + (Syn ? 1 : 0) + (Fin ? 1 : 0);
    public TcpSeq EndSeq => Seq + SeqLength;
    public int HeaderLength => MinHeaderLength + Options.WireLength;
    public int Length => HeaderLength + Payload.Length;

    /// <summary>
    /// Parses and validates a TCP segment (exactly the IP payload), as the first half of
    /// <c>tcp_v4_rcv</c> does: length, data offset, checksum over the IPv4 pseudo header
    /// (<c>tcp_v4_checksum_init</c> / <c>tcp_checksum_complete</c>), options. Never throws.
    /// </summary>
    public static TcpParseError TryParse(ReadOnlySpan<byte> b, ReadOnlyMemory<byte> backing, Ipv4Address src, Ipv4Address dst,
        out TcpSegment? seg, bool verifyChecksum = true)
    {
        seg = null;
        if (!TcpHeader.TryRead(b, out var th)) return TcpParseError.TooShort;
        int doff = th.HeaderLength;
        if (doff < MinHeaderLength) return TcpParseError.BadDataOffset;
        if (doff > b.Length) return TcpParseError.HeaderTruncated;
        if (verifyChecksum && !TcpHeader.ChecksumValid(b, src.Value, dst.Value)) return TcpParseError.BadChecksum;
        var flags = th.Flags;
        if (!TcpOptions.TryParse(th.Options, (flags & TcpFlags.Syn) != 0, out var opts))
            return TcpParseError.BadOptions;
        seg = new TcpSegment
        {
            SourcePort = th.SourcePort,
            DestinationPort = th.DestinationPort,
            Seq = th.Seq,
            Ack = th.Ack,
            Flags = flags,
            Window = th.Window,
            UrgentPointer = th.UrgentPointer,
            Options = opts,
            Payload = backing.Slice(doff, b.Length - doff),
        };
        return TcpParseError.None;
    }

    /// <summary>Parses from an array-backed buffer (the payload then aliases it).</summary>
    public static TcpParseError TryParse(ReadOnlyMemory<byte> segment, Ipv4Address src, Ipv4Address dst, out TcpSegment? seg,
        bool verifyChecksum = true)
        => TryParse(segment.Span, segment, src, dst, out seg, verifyChecksum);

    /// <summary>
    /// Writes header, options (padded to 4 bytes) and payload into <paramref name="b"/> (at least
    /// <see cref="Length"/> bytes) and fills in the checksum (<c>__tcp_v4_send_check</c>). Returns bytes written.
    /// </summary>
    public int WriteTo(Span<byte> b, Ipv4Address src, Ipv4Address dst)
    {
        int optLen = Options.WireLength;
        int hl = MinHeaderLength + ((optLen + 3) & ~3);
        if (hl > MaxHeaderLength) throw new InvalidOperationException($"TCP options of {optLen} bytes do not fit");
        BinaryPrimitives.WriteUInt16BigEndian(b, SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], Seq.Value);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], Ack.Value);
        b[12] = (byte)(hl / 4 << 4);
        b[13] = (byte)Flags;
        BinaryPrimitives.WriteUInt16BigEndian(b[14..], Window);
        b[16] = 0; b[17] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(b[18..], UrgentPointer);
        Options.Write(b[MinHeaderLength..]);
        b.Slice(MinHeaderLength + optLen, hl - MinHeaderLength - optLen).Fill(TcpOptionKind.Eol);
        Payload.Span.CopyTo(b[hl..]);
        int total = hl + Payload.Length;
        uint sum = Checksum.PseudoHeader(src.Value, dst.Value, IpProtocol.Tcp, total);
        BinaryPrimitives.WriteUInt16BigEndian(b[16..], Checksum.Fold(Checksum.Partial(b[..total], sum)));
        return total;
    }

    /// <summary>Serializes into a new array.</summary>
    public byte[] ToArray(Ipv4Address src, Ipv4Address dst)
    {
        var b = new byte[Length];
        WriteTo(b, src, dst);
        return b;
    }

    public override string ToString()
    {
        var f = new StringBuilder();
        if (Syn) f.Append('S');
        if (Fin) f.Append('F');
        if (Rst) f.Append('R');
        if ((Flags & TcpFlags.Psh) != 0) f.Append('P');
        if (HasAck) f.Append('.');
        return $"{SourcePort} > {DestinationPort}: Flags [{f}], seq {Seq.Value}:{EndSeq.Value}, ack {Ack.Value}, win {Window}" +
               (Options.WireLength > 0 ? $", options [{Options}]" : "") + $", length {Payload.Length}";
    }
}
