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
    /// <summary><c>ETH_HLEN</c>.</summary>
    public const int Length = 14;
    /// <summary><c>ETH_ZLEN</c>: the shortest frame on the wire, without FCS.</summary>
    public const int MinFrame = 60;
    /// <summary><c>ETH_DATA_LEN</c>: the default MTU.</summary>
    public const int DataLength = 1500;
    /// <summary><c>ETH_ALEN</c>.</summary>
    public const int AddressLength = 6;
    /// <summary><c>VLAN_HLEN</c>: the 802.1Q tag (TPID and TCI) inserted after the source address.</summary>
    public const int VlanTagLength = 4;
    private readonly ReadOnlySpan<byte> _b;
    private EthernetHeader(ReadOnlySpan<byte> b) => _b = b;

    public static bool TryRead(ReadOnlySpan<byte> frame, out EthernetHeader h)
    {
        h = frame.Length >= Length ? new EthernetHeader(frame) : default;
        return frame.Length >= Length;
    }

    public MacAddress Destination => MacAddress.Read(_b);
    public MacAddress Source => MacAddress.Read(_b[AddressLength..]);
    public ushort EtherType => BinaryPrimitives.ReadUInt16BigEndian(_b[12..]);
    /// <summary>What follows the header (the network header, <c>skb_network_header</c> of an untagged frame).</summary>
    public ReadOnlySpan<byte> Payload => _b[Length..];

    /// <summary>Swaps destination and source MAC in place (what an <c>XDP_TX</c> program does before bouncing a frame).</summary>
    public static void SwapAddresses(Span<byte> frame)
    {
        Span<byte> tmp = stackalloc byte[AddressLength];
        frame[..AddressLength].CopyTo(tmp);
        frame.Slice(AddressLength, AddressLength).CopyTo(frame);
        tmp.CopyTo(frame[AddressLength..]);
    }

    public static void Write(Span<byte> b, MacAddress dst, MacAddress src, ushort etherType)
    {
        dst.Write(b);
        src.Write(b[AddressLength..]);
        BinaryPrimitives.WriteUInt16BigEndian(b[12..], etherType);
    }
}
