using System.Buffers.Binary;

namespace ActorStack.Messages.Packets;

/// <summary>Why an ARP packet was rejected by <see cref="ArpPacket.TryRead"/> (the checks of <c>arp_rcv</c> / <c>arp_process</c>).</summary>
public enum ArpParseError
{
    None,
    /// <summary>Shorter than the 28 bytes of an Ethernet/IPv4 ARP packet (<c>pskb_may_pull(arp_hdr_len(dev))</c>).</summary>
    TooShort,
    /// <summary><c>ar_hln != dev->addr_len || ar_pln != 4</c>.</summary>
    BadAddressLength,
    /// <summary>Hardware type neither Ethernet (1) nor IEEE 802 (6).</summary>
    BadHardwareType,
    /// <summary>Protocol type not IPv4 (0x0800).</summary>
    BadProtocolType,
    /// <summary>Opcode neither request (1) nor reply (2).</summary>
    BadOpcode,
}

/// <summary>
/// ARP packet view for Ethernet / IPv4 (RFC 826). After <see cref="TryRead"/> succeeds no getter can fail.
/// <code>
/// | htype (2) | ptype (2) | hlen (1) | plen (1) | oper (2) |
/// | sha (6) | spa (4) | tha (6) | tpa (4) |
/// </code>
/// </summary>
public readonly ref struct ArpPacket
{
    /// <summary>An Ethernet/IPv4 ARP packet: the 8 fixed bytes and two hardware and protocol address pairs.</summary>
    public const int Length = 28;
    /// <summary><c>sizeof(struct arphdr)</c>: hardware/protocol type, address lengths and opcode.</summary>
    public const int FixedLength = 8;
    public const ushort HardwareEthernet = 1;
    /// <summary><c>ARPHRD_IEEE802</c>: Linux's Ethernet devices accept it as well as 1.</summary>
    public const ushort HardwareIeee802 = 6;
    public const ushort OpRequest = 1;
    public const ushort OpReply = 2;

    private readonly ReadOnlySpan<byte> _b;
    private ArpPacket(ReadOnlySpan<byte> b) => _b = b;

    /// <summary>Validates an ARP payload (after the Ethernet header); never throws. Trailing padding is allowed.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out ArpPacket p, out ArpParseError error)
    {
        p = default;
        if (!TryReadAddresses(payload, out var v, out error)) return false;
        if (v.HardwareType is not (HardwareEthernet or HardwareIeee802)) { error = ArpParseError.BadHardwareType; return false; }
        if (v.ProtocolType != EtherType.Ipv4) { error = ArpParseError.BadProtocolType; return false; }
        if (v.Operation is not (OpRequest or OpReply)) { error = ArpParseError.BadOpcode; return false; }
        p = v;
        return true;
    }

    /// <summary>
    /// The length checks alone (<c>arp_rcv</c>'s <c>arp_hdr_len</c> pull and <c>ar_hln</c> / <c>ar_pln</c>): 28 bytes
    /// with 6-byte hardware and 4-byte protocol addresses, so every getter is safe; hardware type, protocol type and
    /// opcode are not checked (a fault rule or a capture may look at any ARP packet).
    /// </summary>
    public static bool TryReadAddresses(ReadOnlySpan<byte> payload, out ArpPacket p, out ArpParseError error)
    {
        p = default;
        if (payload.Length < FixedLength) { error = ArpParseError.TooShort; return false; }
        if (payload[4] != EthernetHeader.AddressLength || payload[5] != Ipv4Address.Length) { error = ArpParseError.BadAddressLength; return false; }
        if (payload.Length < Length) { error = ArpParseError.TooShort; return false; }
        p = new ArpPacket(payload);
        error = ArpParseError.None;
        return true;
    }

    /// <summary>The drop reason a parse error is counted under: short packets are <c>PKT_TOO_SMALL</c>, the rest unspecified as in Linux.</summary>
    public static DropReason DropReasonOf(ArpParseError e)
        => e == ArpParseError.TooShort ? DropReason.PKT_TOO_SMALL : DropReason.NOT_SPECIFIED;

    public ushort HardwareType => BinaryPrimitives.ReadUInt16BigEndian(_b);
    public ushort ProtocolType => BinaryPrimitives.ReadUInt16BigEndian(_b[2..]);
    public ushort Operation => BinaryPrimitives.ReadUInt16BigEndian(_b[6..]);
    public bool IsRequest => Operation == OpRequest;
    public bool IsReply => Operation == OpReply;
    public MacAddress SenderMac => MacAddress.Read(_b[8..]);
    public Ipv4Address SenderIp => Ipv4Address.Read(_b[14..]);
    public MacAddress TargetMac => MacAddress.Read(_b[18..]);
    public Ipv4Address TargetIp => Ipv4Address.Read(_b[24..]);

    /// <summary>Writes a 28-byte Ethernet/IPv4 ARP packet (<c>arp_create</c>).</summary>
    public static void Write(Span<byte> b, ushort op, MacAddress senderMac, Ipv4Address senderIp, MacAddress targetMac, Ipv4Address targetIp)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, HardwareEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], EtherType.Ipv4);
        b[4] = 6;
        b[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(b[6..], op);
        senderMac.Write(b[8..]);
        senderIp.Write(b[14..]);
        targetMac.Write(b[18..]);
        targetIp.Write(b[24..]);
    }

    /// <summary>
    /// A whole Ethernet frame carrying an ARP packet (<c>arp_create</c> + <c>dev_hard_header</c>), 42 bytes; the
    /// device pads it to the 60-byte minimum.
    /// </summary>
    public static byte[] Frame(MacAddress ethDst, MacAddress ethSrc, ushort op, MacAddress senderMac, Ipv4Address senderIp,
        MacAddress targetMac, Ipv4Address targetIp)
    {
        var f = new byte[EthernetHeader.Length + Length];
        EthernetHeader.Write(f, ethDst, ethSrc, EtherType.Arp);
        Write(f.AsSpan(EthernetHeader.Length), op, senderMac, senderIp, targetMac, targetIp);
        return f;
    }

    /// <summary>
    /// The request <c>arp_solicit</c> sends: broadcast with a zero target hardware address, or a unicast probe to
    /// the cached address (which is also put in the target field).
    /// </summary>
    public static byte[] Request(MacAddress devMac, Ipv4Address senderIp, Ipv4Address targetIp, MacAddress? unicastTo = null)
    {
        bool unicast = unicastTo is { IsBroadcast: false };
        return Frame(unicast ? unicastTo!.Value : MacAddress.Broadcast, devMac, OpRequest, devMac, senderIp,
            unicast ? unicastTo!.Value : MacAddress.Zero, targetIp);
    }

    /// <summary>A gratuitous ARP announcement (request with sender and target IP both the address, <c>arp_send</c> on NETDEV_UP).</summary>
    public static byte[] Gratuitous(MacAddress devMac, Ipv4Address address)
        => Frame(MacAddress.Broadcast, devMac, OpRequest, devMac, address, MacAddress.Zero, address);
}
