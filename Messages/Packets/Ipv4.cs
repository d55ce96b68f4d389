using System.Buffers.Binary;

namespace ActorStack.Messages.Packets;

/// <summary>IP protocol numbers (<c>IPPROTO_*</c>).</summary>
public static class IpProtocol
{
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Raw = 255;
}

/// <summary>
/// IPv4 header view (RFC 791 section 3.1). <see cref="TryRead"/> checks only that the fixed 20 bytes are
/// present; the semantic checks of <c>ip_rcv_core</c> are the receive path's job, so that each failure is
/// counted under its own name. <see cref="IsWellFormed"/> is the structural part of those checks (version 4,
/// IHL at least 5, the IHL words present), as the flow dissector and GRO need it. After <see cref="TryRead"/>
/// no getter can fail: <see cref="Options"/> and <see cref="Payload"/> are clamped to the bytes present.
/// <code>
/// |Version|  IHL  |   DSCP    |ECN|          Total Length         |
/// |         Identification        |Flags|     Fragment Offset     |
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// |                       Source Address                          |
/// |                    Destination Address                        |
/// |                    Options                    |    Padding    |
/// </code>
/// </summary>
public readonly ref struct Ipv4Header
{
    /// <summary><c>sizeof(struct iphdr)</c>: the header without options (IHL 5).</summary>
    public const int MinLength = 20;
    /// <summary>The longest header (IHL 15): 40 bytes of options.</summary>
    public const int MaxLength = 60;
    /// <summary><c>IPV4_MIN_MTU</c> (RFC 791: every module must forward a 68-byte datagram unfragmented).</summary>
    public const int MinMtu = 68;
    /// <summary><c>IP_MAX_MTU</c> / the largest total length.</summary>
    public const int MaxTotalLength = 65535;
    public const ushort FlagDf = 0x4000;
    public const ushort FlagMf = 0x2000;
    public const ushort OffsetMask = 0x1FFF;
    /// <summary>The fragment offset counts 8-byte units: every fragment but the last carries a multiple of 8 bytes.</summary>
    public const int FragmentUnit = 8;
    /// <summary>The ECN bits of the TOS byte (<c>INET_ECN_MASK</c>, RFC 3168).</summary>
    public const byte EcnMask = 0x03;
    private const int TotalLengthAt = 2, IdAt = 4, FlagsAt = 6, TtlAt = 8, ProtocolAt = 9, ChecksumAt = 10, SourceAt = 12,
        DestinationAt = 16;

    private readonly ReadOnlySpan<byte> _b;
    private Ipv4Header(ReadOnlySpan<byte> b) => _b = b;

    public static bool TryRead(ReadOnlySpan<byte> packet, out Ipv4Header h)
    {
        h = packet.Length >= MinLength ? new Ipv4Header(packet) : default;
        return packet.Length >= MinLength;
    }

    /// <summary>
    /// <see cref="TryRead"/> plus <see cref="IsWellFormed"/>: version 4, IHL ≥ 5 and the whole header present
    /// (the structural checks of <c>ip_rcv_core</c> and <c>__skb_flow_dissect</c>'s ETH_P_IP case).
    /// </summary>
    public static bool TryReadWellFormed(ReadOnlySpan<byte> packet, out Ipv4Header h)
    {
        if (TryRead(packet, out h) && h.IsWellFormed) return true;
        h = default;
        return false;
    }

    public int Version => _b[0] >> 4;
    /// <summary>Header length in 32-bit words (IHL).</summary>
    public int Ihl => _b[0] & 0x0F;
    public int HeaderLength => Ihl * 4;
    /// <summary>Version 4, IHL at least 5 and all IHL words in the buffer.</summary>
    public bool IsWellFormed => Version == 4 && Ihl >= 5 && HeaderLength <= _b.Length;
    /// <summary>IHL 5 exactly: no options (what <c>inet_gro_receive</c> requires: <c>*(u8 *)iph != 0x45</c> flushes).</summary>
    public bool HasNoOptions => _b[0] == 0x45;
    public byte Tos => _b[1];
    /// <summary>The ECN field (<c>tos &amp; INET_ECN_MASK</c>).</summary>
    public int Ecn => _b[1] & EcnMask;
    public int TotalLength => BinaryPrimitives.ReadUInt16BigEndian(_b[TotalLengthAt..]);
    public ushort Id => BinaryPrimitives.ReadUInt16BigEndian(_b[IdAt..]);
    public ushort FlagsAndOffset => BinaryPrimitives.ReadUInt16BigEndian(_b[FlagsAt..]);
    public bool DontFragment => (FlagsAndOffset & FlagDf) != 0;
    public bool MoreFragments => (FlagsAndOffset & FlagMf) != 0;
    /// <summary>The fragment offset in bytes.</summary>
    public int FragmentOffset => (FlagsAndOffset & OffsetMask) * FragmentUnit;
    /// <summary><c>ip_is_fragment</c>: MF set or a non-zero offset.</summary>
    public bool IsFragment => (FlagsAndOffset & (FlagMf | OffsetMask)) != 0;
    public byte Ttl => _b[TtlAt];
    public byte Protocol => _b[ProtocolAt];
    public ushort HeaderChecksum => BinaryPrimitives.ReadUInt16BigEndian(_b[ChecksumAt..]);
    public Ipv4Address Source => Ipv4Address.Read(_b[SourceAt..]);
    public Ipv4Address Destination => Ipv4Address.Read(_b[DestinationAt..]);
    /// <summary>The source address as its 32-bit value (for checksums and flow matching without a conversion).</summary>
    public uint SourceValue => BinaryPrimitives.ReadUInt32BigEndian(_b[SourceAt..]);
    public uint DestinationValue => BinaryPrimitives.ReadUInt32BigEndian(_b[DestinationAt..]);

    /// <summary>The header as far as it is present (IHL words, clamped to the buffer; at least the fixed 20 bytes).</summary>
    public ReadOnlySpan<byte> HeaderBytes => _b[..Math.Clamp(HeaderLength, MinLength, _b.Length)];
    /// <summary>The option bytes (IHL words after the fixed header), clamped to the buffer; empty for IHL ≤ 5.</summary>
    public ReadOnlySpan<byte> Options => HeaderBytes[MinLength..];
    /// <summary>What follows the header (<c>ip_hdrlen</c>), up to the end of the buffer, not the total length.</summary>
    public ReadOnlySpan<byte> Payload => _b[HeaderBytes.Length..];

    /// <summary>True when the header (IHL words, which must be present) sums to 0xFFFF (<c>ip_fast_csum</c> == 0).</summary>
    public bool ChecksumValid => _b.Length >= HeaderLength && Checksum.Compute(_b[..HeaderLength]) == 0;

    /// <summary>Writes a 20-byte header without options and fills in its checksum.</summary>
    public static void Write(Span<byte> b, int totalLength, ushort id, ushort flagsAndOffset, byte ttl, byte protocol,
        Ipv4Address src, Ipv4Address dst, byte tos = 0)
    {
        b[0] = 0x45;
        b[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(b[TotalLengthAt..], (ushort)totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(b[IdAt..], id);
        BinaryPrimitives.WriteUInt16BigEndian(b[FlagsAt..], flagsAndOffset);
        b[TtlAt] = ttl;
        b[ProtocolAt] = protocol;
        src.Write(b[SourceAt..]);
        dst.Write(b[DestinationAt..]);
        new Ipv4HeaderWriter(b[..MinLength]).FillChecksum();
    }
}

/// <summary>
/// A writable IPv4 header over the first <c>IHL</c> words of a buffer the caller owns (before it is sent): the
/// fields the stack rewrites in place — total length, id, flags/offset, TOS/ECN, TTL, addresses — and the
/// header checksum. The span must hold at least the 20-byte fixed header; <see cref="FillChecksum"/> covers
/// <see cref="Ipv4Header.HeaderLength"/> bytes, clamped to the span.
/// </summary>
public readonly ref struct Ipv4HeaderWriter
{
    private readonly Span<byte> _b;

    /// <param name="header">The packet from its IP header on (at least 20 bytes).</param>
    public Ipv4HeaderWriter(Span<byte> header)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(header.Length, Ipv4Header.MinLength);
        _b = header;
    }

    /// <summary>The same bytes, read-only.</summary>
    public Ipv4Header Header { get { Ipv4Header.TryRead(_b, out var h); return h; } }

    public int TotalLength { set => BinaryPrimitives.WriteUInt16BigEndian(_b[2..], (ushort)value); }
    public ushort Id { set => BinaryPrimitives.WriteUInt16BigEndian(_b[4..], value); }
    public ushort FlagsAndOffset { set => BinaryPrimitives.WriteUInt16BigEndian(_b[6..], value); }
    public byte Tos { set => _b[1] = value; }
    public byte Ttl { set => _b[8] = value; }
    public Ipv4Address Source { set => value.Write(_b[12..]); }
    public Ipv4Address Destination { set => value.Write(_b[16..]); }
    /// <summary>
    /// <c>IP_ECN_set_ce</c>: an ECT(0)/ECT(1) packet becomes CE and the checksum is adjusted with the kernel's
    /// arithmetic (<c>csum16_add(check, htons(0xFFFB) + htons(ecn))</c>); a CE packet is left as it is and counts as
    /// marked. False for Not-ECT (nothing written).
    /// </summary>
    public bool SetCe()
    {
        uint ecn = (uint)(_b[1] + 1) & Ipv4Header.EcnMask; // Not-ECT → 01, ECT(1) → 10, ECT(0) → 11, CE → 00
        if ((ecn & 2) == 0) return ecn == 0;
        uint sum = BinaryPrimitives.ReadUInt16BigEndian(_b[10..]) + ((0xFFFBu + ecn) & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(_b[10..], (ushort)sum);
        _b[1] |= Ipv4Header.EcnMask;
        return true;
    }

    /// <summary>ORs ECN bits into the TOS byte (<c>ip_frag_reasm</c> with <c>ip_frag_ecn_table</c>).</summary>
    public void OrEcn(int ecn) => _b[1] |= (byte)(ecn & Ipv4Header.EcnMask);

    /// <summary><c>ip_send_check</c>: zero the checksum field and fill in the checksum over the header.</summary>
    public void FillChecksum()
    {
        _b[10] = 0; _b[11] = 0;
        int hl = Math.Clamp((_b[0] & 0x0F) * 4, Ipv4Header.MinLength, _b.Length);
        BinaryPrimitives.WriteUInt16BigEndian(_b[10..], Checksum.Compute(_b[..hl]));
    }

    /// <summary>
    /// <c>ip_decrease_ttl</c>: TTL minus one and the checksum updated incrementally (RFC 1624 eqn. 3 over the
    /// TTL/protocol word), so a forwarded header is not summed again. The caller checks TTL &gt; 1 first.
    /// </summary>
    public void DecrementTtl()
    {
        ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(_b[8..]);
        _b[8]--;
        ushort newWord = BinaryPrimitives.ReadUInt16BigEndian(_b[8..]);
        ushort sum = BinaryPrimitives.ReadUInt16BigEndian(_b[10..]);
        BinaryPrimitives.WriteUInt16BigEndian(_b[10..], Checksum.IncrementalUpdate(sum, oldWord, newWord));
    }
}

/// <summary>IPv4 option types (RFC 791 section 3.1, <c>IPOPT_*</c>).</summary>
public static class Ipv4OptionType
{
    /// <summary><c>IPOPT_END</c>: end of the option list.</summary>
    public const byte End = 0;
    /// <summary><c>IPOPT_NOOP</c>: one byte of padding.</summary>
    public const byte Noop = 1;
    /// <summary><c>IPOPT_COPY</c>: the copied flag, set on options every fragment must carry.</summary>
    public const byte CopiedFlag = 0x80;
    public const byte RecordRoute = 7;
    public const byte Timestamp = 68;
    public const byte Lsrr = 131;
    public const byte Ssrr = 137;
    public const byte RouterAlert = 148;

    /// <summary><c>IPOPT_COPIED(o)</c>.</summary>
    public static bool IsCopied(byte type) => (type & CopiedFlag) != 0;
}

/// <summary>
/// Walks the option bytes of an IPv4 header (<see cref="Ipv4Header.Options"/>) as <c>ip_options_compile</c> and
/// <c>ip_options_fragment</c> do: END ends the list, NOOP is one byte, every other option is type, length,
/// data. A length below 2 or running past the end stops the walk with <see cref="Malformed"/> set. Never throws.
/// </summary>
public ref struct Ipv4OptionReader
{
    private readonly ReadOnlySpan<byte> _opts;
    private int _at;

    public Ipv4OptionReader(ReadOnlySpan<byte> options) { _opts = options; _at = 0; Malformed = false; }

    /// <summary>The walk stopped at an option whose length field was below 2 or ran past the option bytes.</summary>
    public bool Malformed { get; private set; }

    /// <summary>
    /// The next option: its <paramref name="type"/>, its <paramref name="offset"/> within the option bytes and
    /// its <paramref name="length"/> (1 for NOOP). False at END, at the end of the bytes, or when malformed.
    /// </summary>
    public bool TryNext(out byte type, out int offset, out int length)
    {
        type = 0; offset = _at; length = 0;
        if (_at >= _opts.Length || Malformed) return false;
        type = _opts[_at];
        if (type == Ipv4OptionType.End) return false;
        if (type == Ipv4OptionType.Noop) { length = 1; _at++; return true; }
        int left = _opts.Length - _at;
        if (left < 2 || _opts[_at + 1] < 2 || _opts[_at + 1] > left) { Malformed = true; return false; }
        length = _opts[_at + 1];
        _at += length;
        return true;
    }
}
