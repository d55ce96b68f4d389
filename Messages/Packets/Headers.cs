using System.Buffers.Binary;

namespace ActorStack.Messages.Packets;

/// <summary>EtherType values the stack knows by name (<c>ETH_P_*</c>).</summary>
public static class EtherType
{
    public const ushort Ipv4 = 0x0800;
    public const ushort Arp = 0x0806;
    public const ushort Vlan = 0x8100;
    public const ushort Ipv6 = 0x86DD;
    /// <summary><c>ETH_P_ALL</c>: the pseudo type a <c>ptype_all</c> tap registers with.</summary>
    public const ushort All = 0x0003;
}

/// <summary>IP protocol numbers (<c>IPPROTO_*</c>).</summary>
public static class IpProtocol
{
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Raw = 255;
}

/// <summary>
/// Ethernet II header view (14 bytes). After <see cref="TryRead"/> succeeds no getter can fail.
/// <code>
/// | dst MAC (6) | src MAC (6) | EtherType (2) |
/// </code>
/// </summary>
public readonly ref struct EthernetHeader
{
    public const int Length = 14;
    public const int MinFrame = 60; // without FCS
    private readonly ReadOnlySpan<byte> _b;
    private EthernetHeader(ReadOnlySpan<byte> b) => _b = b;

    public static bool TryRead(ReadOnlySpan<byte> frame, out EthernetHeader h)
    {
        h = frame.Length >= Length ? new EthernetHeader(frame) : default;
        return frame.Length >= Length;
    }

    public MacAddress Destination => MacAddress.Read(_b);
    public MacAddress Source => MacAddress.Read(_b[6..]);
    public ushort EtherType => BinaryPrimitives.ReadUInt16BigEndian(_b[12..]);

    public static void Write(Span<byte> b, MacAddress dst, MacAddress src, ushort etherType)
    {
        dst.Write(b);
        src.Write(b[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(b[12..], etherType);
    }
}

/// <summary>
/// IPv4 header view (RFC 791). <see cref="TryRead"/> checks only that the
/// fixed 20 bytes are present; the semantic checks of <c>ip_rcv_core</c> are
/// the receive path's job, so that each failure is counted under its own name.
/// </summary>
public readonly ref struct Ipv4Header
{
    public const int MinLength = 20;
    public const ushort FlagDf = 0x4000;
    public const ushort FlagMf = 0x2000;
    public const ushort OffsetMask = 0x1FFF;
    private readonly ReadOnlySpan<byte> _b;
    private Ipv4Header(ReadOnlySpan<byte> b) => _b = b;

    public static bool TryRead(ReadOnlySpan<byte> packet, out Ipv4Header h)
    {
        h = packet.Length >= MinLength ? new Ipv4Header(packet) : default;
        return packet.Length >= MinLength;
    }

    public int Version => _b[0] >> 4;
    /// <summary>Header length in 32-bit words (IHL).</summary>
    public int Ihl => _b[0] & 0x0F;
    public int HeaderLength => Ihl * 4;
    public byte Tos => _b[1];
    public int TotalLength => BinaryPrimitives.ReadUInt16BigEndian(_b[2..]);
    public ushort Id => BinaryPrimitives.ReadUInt16BigEndian(_b[4..]);
    public ushort FlagsAndOffset => BinaryPrimitives.ReadUInt16BigEndian(_b[6..]);
    public bool DontFragment => (FlagsAndOffset & FlagDf) != 0;
    public bool MoreFragments => (FlagsAndOffset & FlagMf) != 0;
    public int FragmentOffset => (FlagsAndOffset & OffsetMask) * 8;
    public bool IsFragment => (FlagsAndOffset & (FlagMf | OffsetMask)) != 0;
    public byte Ttl => _b[8];
    public byte Protocol => _b[9];
    public ushort HeaderChecksum => BinaryPrimitives.ReadUInt16BigEndian(_b[10..]);
    public Ipv4Address Source => Ipv4Address.Read(_b[12..]);
    public Ipv4Address Destination => Ipv4Address.Read(_b[16..]);

    /// <summary>True when the header (IHL words, which must be present) sums to 0xFFFF (<c>ip_fast_csum</c> == 0).</summary>
    public bool ChecksumValid => _b.Length >= HeaderLength && Checksum.Compute(_b[..HeaderLength]) == 0;

    /// <summary>Writes a 20-byte header without options and fills in its checksum.</summary>
    public static void Write(Span<byte> b, int totalLength, ushort id, ushort flagsAndOffset, byte ttl, byte protocol,
        Ipv4Address src, Ipv4Address dst, byte tos = 0)
    {
        b[0] = 0x45;
        b[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], (ushort)totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(b[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(b[6..], flagsAndOffset);
        b[8] = ttl;
        b[9] = protocol;
        b[10] = 0; b[11] = 0;
        src.Write(b[12..]);
        dst.Write(b[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(b[10..], Checksum.Compute(b[..MinLength]));
    }
}

/// <summary>UDP header view (RFC 768), 8 bytes.</summary>
public readonly ref struct UdpHeader
{
    public const int Length = 8;
    private readonly ReadOnlySpan<byte> _b;
    private UdpHeader(ReadOnlySpan<byte> b) => _b = b;

    public static bool TryRead(ReadOnlySpan<byte> segment, out UdpHeader h)
    {
        h = segment.Length >= Length ? new UdpHeader(segment) : default;
        return segment.Length >= Length;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_b);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_b[2..]);
    public int DatagramLength => BinaryPrimitives.ReadUInt16BigEndian(_b[4..]);
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_b[6..]);

    /// <summary>
    /// Verifies the checksum over pseudo header and <paramref name="datagram"/> (exactly the UDP length).
    /// A zero checksum means "none" (RFC 768) and is valid.
    /// </summary>
    public static bool ChecksumValid(ReadOnlySpan<byte> datagram, Ipv4Address src, Ipv4Address dst)
    {
        if (BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]) == 0) return true;
        uint sum = Packets.Checksum.PseudoHeader(src.Value, dst.Value, IpProtocol.Udp, datagram.Length);
        return Packets.Checksum.Fold(Packets.Checksum.Partial(datagram, sum)) == 0;
    }

    /// <summary>Writes the header and fills in the checksum over the payload that already follows it.</summary>
    public static void Write(Span<byte> datagram, ushort srcPort, ushort dstPort, Ipv4Address src, Ipv4Address dst)
    {
        BinaryPrimitives.WriteUInt16BigEndian(datagram, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[2..], dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[4..], (ushort)datagram.Length);
        datagram[6] = 0; datagram[7] = 0;
        uint sum = Packets.Checksum.PseudoHeader(src.Value, dst.Value, IpProtocol.Udp, datagram.Length);
        var c = Packets.Checksum.Fold(Packets.Checksum.Partial(datagram, sum));
        BinaryPrimitives.WriteUInt16BigEndian(datagram[6..], c == 0 ? (ushort)0xFFFF : c);
    }
}

/// <summary>Builds whole Ethernet/IPv4/UDP frames; used by applications' reference encoders and tests.</summary>
public static class FrameBuilder
{
    public const int UdpOverhead = EthernetHeader.Length + Ipv4Header.MinLength + UdpHeader.Length;

    public static byte[] Udp(MacAddress dstMac, MacAddress srcMac, Ipv4Address src, Ipv4Address dst,
        ushort srcPort, ushort dstPort, ReadOnlySpan<byte> payload, ushort id = 0, byte ttl = 64, bool padTo60 = true)
    {
        int len = UdpOverhead + payload.Length;
        var frame = new byte[padTo60 ? Math.Max(len, EthernetHeader.MinFrame) : len];
        EthernetHeader.Write(frame, dstMac, srcMac, EtherType.Ipv4);
        payload.CopyTo(frame.AsSpan(UdpOverhead));
        UdpHeader.Write(frame.AsSpan(EthernetHeader.Length + Ipv4Header.MinLength, UdpHeader.Length + payload.Length), srcPort, dstPort, src, dst);
        Ipv4Header.Write(frame.AsSpan(EthernetHeader.Length), Ipv4Header.MinLength + UdpHeader.Length + payload.Length,
            id, Ipv4Header.FlagDf, ttl, IpProtocol.Udp, src, dst);
        return frame;
    }
}
