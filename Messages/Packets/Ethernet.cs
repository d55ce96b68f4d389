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
