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
