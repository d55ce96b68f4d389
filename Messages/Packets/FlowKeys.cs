namespace ActorStack.Messages.Packets;

/// <summary>
/// What the dissector may parse beyond its defaults (<c>FLOW_DISSECTOR_F_*</c>).
/// </summary>
[Flags]
public enum FlowDissectorFlags : byte
{
    None = 0,
    /// <summary>
    /// <c>FLOW_DISSECTOR_F_PARSE_1ST_FRAG</c>: read the transport header of a first fragment (offset 0, MF set), which
    /// carries it. Packet filters want this (iptables matches ports unless <c>fragoff != 0</c>); flow hashing does
    /// not (<c>skb_get_hash</c>), or one datagram's fragments would hash apart.
    /// </summary>
    Parse1stFrag = 1,
}

/// <summary>
/// Which parts of <see cref="FlowKeys"/> the dissector filled (<c>flow_dissector_key_control</c> and the key set):
/// a field is meaningful only when its flag is set, and every flag says its bytes were in the frame.
/// </summary>
[Flags]
public enum FlowKeyControl : ushort
{
    None = 0,
    /// <summary>An Ethernet header was read: <see cref="FlowKeys.EtherType"/> is the frame's (<c>n_proto</c>).</summary>
    Ethernet = 1,
    /// <summary>A well-formed IPv4 header (version 4, IHL ≥ 5, all of it present): addresses, protocol, TTL, TOS.</summary>
    Ipv4 = 2,
    /// <summary>An Ethernet/IPv4 ARP packet: <see cref="FlowKeys.Src"/> / <see cref="FlowKeys.Dst"/> are the sender and target IP, <see cref="FlowKeys.ArpOp"/> the opcode.</summary>
    Arp = 4,
    /// <summary><c>FLOW_DIS_IS_FRAGMENT</c>: MF set or a non-zero offset (<c>ip_is_fragment</c>).</summary>
    IsFragment = 8,
    /// <summary><c>FLOW_DIS_FIRST_FRAG</c>: a fragment at offset 0.</summary>
    FirstFragment = 16,
    /// <summary>TCP or UDP ports were read (4 bytes of the transport header present; not for a fragment unless <see cref="FlowDissectorFlags.Parse1stFrag"/> and it is the first).</summary>
    Ports = 32,
    /// <summary>The 20-byte TCP header was present: <see cref="FlowKeys.TcpFlags"/> and <see cref="FlowKeys.TcpSeq"/> were read (<c>__skb_flow_dissect_tcp</c>).</summary>
    TcpHeader = 64,
    /// <summary>An ICMP type was read (and the code, when its byte is present).</summary>
    Icmp = 128,
}

/// <summary>
/// One packet dissected once (Linux <c>struct flow_keys</c> as <c>__skb_flow_dissect</c> fills it, IPv4 only): the
/// Ethernet type, the IPv4 addresses, protocol, TTL and TOS, fragment information, TCP/UDP ports, TCP flags and
/// sequence number, ICMP type and code, or for ARP the sender/target IP and opcode. RSS/RPS hash it, and the packet
/// matchers (netfilter's <see cref="NfRule"/>, XDP's <see cref="XdpRule"/>, the wire's fault rules) match on it
/// instead of reading bytes themselves. <see cref="Control"/> says which fields were read; the dissector never
/// throws and never fails on a frame it cannot parse, it only reads less. Checksums and the IP total length are
/// not checked here (that is <c>ip_rcv_core</c>'s job, later on the path): fields are read from the bytes present.
/// </summary>
/// <remarks>
/// Unknown EtherTypes and protocol numbers are kept as numbers (smoltcp's <c>Unknown(n)</c>): the matcher decides.
/// The positional members are the hash keys RSS and RPS use (<see cref="TryExtract(ReadOnlySpan{byte}, out FlowKeys)"/>
/// fills only those, as <c>skb_get_hash</c>'s <c>flow_keys_dissector</c> key set does).
/// </remarks>
public readonly record struct FlowKeys(Ipv4Address Src, Ipv4Address Dst, byte Protocol, ushort SrcPort, ushort DstPort)
{
    public FlowKeyControl Control { get; init; }
    /// <summary>The frame's EtherType (<c>n_proto</c>); <see cref="Packets.EtherType.Ipv4"/> for <see cref="DissectIpv4"/>.</summary>
    public ushort EtherType { get; init; }
    public byte Ttl { get; init; }
    public byte Tos { get; init; }
    public TcpFlags TcpFlags { get; init; }
    public uint TcpSeq { get; init; }
    public byte IcmpType { get; init; }
    public byte IcmpCode { get; init; }
    public ushort ArpOp { get; init; }
    /// <summary>Bytes of the transport header and payload present after the IP header (0 when none was reached).</summary>
    public int L4Length { get; init; }

    public bool HasEthernet => (Control & FlowKeyControl.Ethernet) != 0;
    public bool IsIpv4 => (Control & FlowKeyControl.Ipv4) != 0;
    public bool IsArp => (Control & FlowKeyControl.Arp) != 0;
    public bool IsFragment => (Control & FlowKeyControl.IsFragment) != 0;
    /// <summary>Not a fragment, or the first one: the transport header is in this packet.</summary>
    public bool IsFirstFragmentOrWhole => IsIpv4 && (Control & (FlowKeyControl.IsFragment | FlowKeyControl.FirstFragment)) != FlowKeyControl.IsFragment;
    public bool HasPorts => (Control & FlowKeyControl.Ports) != 0;
    public bool HasTcpHeader => (Control & FlowKeyControl.TcpHeader) != 0;
    public bool HasIcmp => (Control & FlowKeyControl.Icmp) != 0;

    /// <summary>
    /// <c>__skb_flow_dissect</c> from the Ethernet header: EtherType, then for ETH_P_IP the IPv4 header and its
    /// TCP/UDP/ICMP header, for ETH_P_ARP the Ethernet/IPv4 ARP addresses and opcode. Never throws; a frame shorter
    /// than an Ethernet header gives <c>default</c> (no <see cref="FlowKeyControl.Ethernet"/>).
    /// </summary>
    public static FlowKeys Dissect(ReadOnlySpan<byte> frame, FlowDissectorFlags flags = FlowDissectorFlags.None)
    {
        if (!EthernetHeader.TryRead(frame, out var eth)) return default;
        ushort type = eth.EtherType;
        if (type == Packets.EtherType.Ipv4) return DissectIpv4Core(eth.Payload, flags, FlowKeyControl.Ethernet);
        if (type == Packets.EtherType.Arp && ArpPacket.TryReadAddresses(eth.Payload, out var arp, out _))
            return new FlowKeys(arp.SenderIp, arp.TargetIp, 0, 0, 0)
            {
                EtherType = type, Control = FlowKeyControl.Ethernet | FlowKeyControl.Arp, ArpOp = arp.Operation,
            };
        return new FlowKeys { EtherType = type, Control = FlowKeyControl.Ethernet };
    }

    /// <summary>
    /// The dissector started at the network header of an IPv4 packet (<c>skb_flow_dissect</c> with
    /// <c>proto = ETH_P_IP</c> and <c>nhoff = 0</c>), as netfilter sees a packet.
    /// </summary>
    public static FlowKeys DissectIpv4(ReadOnlySpan<byte> packet, FlowDissectorFlags flags = FlowDissectorFlags.None)
        => DissectIpv4Core(packet, flags, FlowKeyControl.None);

    private static FlowKeys DissectIpv4Core(ReadOnlySpan<byte> packet, FlowDissectorFlags flags, FlowKeyControl control)
    {
        if (!Ipv4Header.TryReadWellFormed(packet, out var ip))
            return new FlowKeys { EtherType = Packets.EtherType.Ipv4, Control = control };
        control |= FlowKeyControl.Ipv4;
        byte proto = ip.Protocol;
        bool parseL4 = true;
        if (ip.IsFragment)
        {
            // __skb_flow_dissect, ETH_P_IP: ip_is_fragment() sets IS_FRAGMENT; only a first fragment with
            // PARSE_1ST_FRAG goes on to the transport header.
            control |= FlowKeyControl.IsFragment;
            bool first = ip.FragmentOffset == 0;
            if (first) control |= FlowKeyControl.FirstFragment;
            parseL4 = first && (flags & FlowDissectorFlags.Parse1stFrag) != 0;
        }
        var l4 = ip.Payload;
        ushort sport = 0, dport = 0;
        TcpFlags tcpFlags = TcpFlags.None;
        uint seq = 0;
        byte icmpType = 0, icmpCode = 0;
        if (parseL4)
        {
            if (proto is IpProtocol.Tcp or IpProtocol.Udp && UdpHeader.TryReadPorts(l4, out sport, out dport))
                control |= FlowKeyControl.Ports; // __skb_flow_get_ports: both protocols start with the two ports
            if (proto == IpProtocol.Tcp && TcpHeader.TryRead(l4, out var th))
            {
                tcpFlags = th.Flags;
                seq = th.Seq.Value;
                control |= FlowKeyControl.TcpHeader;
            }
            if (proto == IpProtocol.Icmp && !l4.IsEmpty)
            {
                // __skb_flow_dissect_icmp reads type and code; a one-byte ICMP message still has its type.
                icmpType = l4[0];
                icmpCode = l4.Length > 1 ? l4[1] : (byte)0;
                control |= FlowKeyControl.Icmp;
            }
        }
        return new FlowKeys(ip.Source, ip.Destination, proto, sport, dport)
        {
            Control = control, EtherType = Packets.EtherType.Ipv4, Ttl = ip.Ttl, Tos = ip.Tos,
            TcpFlags = tcpFlags, TcpSeq = seq, IcmpType = icmpType, IcmpCode = icmpCode, L4Length = l4.Length,
        };
    }

    /// <summary>
    /// The hash keys of an Ethernet II frame as <c>skb_get_hash</c> dissects them for ETH_P_IP (no
    /// <see cref="FlowDissectorFlags.Parse1stFrag"/>): addresses, protocol and, for unfragmented TCP/UDP with the
    /// ports present, the ports. False for a frame too short for Ethernet + 20-byte IPv4, a non-IPv4 EtherType,
    /// version ≠ 4, IHL &lt; 5 or an IHL running past the frame.
    /// </summary>
    public static bool TryExtract(ReadOnlySpan<byte> ethernetFrame, out FlowKeys keys)
        => TryExtract(ethernetFrame, out keys, out _);

    /// <summary>As above; <paramref name="hasPorts"/> says whether the ports were read (so a real port 0 is told apart from none).</summary>
    public static bool TryExtract(ReadOnlySpan<byte> ethernetFrame, out FlowKeys keys, out bool hasPorts)
    {
        var k = Dissect(ethernetFrame);
        hasPorts = k.HasPorts;
        keys = k.IsIpv4 ? k.HashKeys : default;
        return k.IsIpv4;
    }

    /// <summary>Only the positional (hash) members, the rest cleared: what RSS and RPS hash over.</summary>
    public FlowKeys HashKeys => new(Src, Dst, Protocol, SrcPort, DstPort);
}
