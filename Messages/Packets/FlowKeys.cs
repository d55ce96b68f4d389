using System.Buffers.Binary;

namespace ActorStack.Messages.Packets;

/// <summary>
/// The fields a flow hash is computed over (Linux <c>struct flow_keys</c>, IPv4 only). Ports are zero
/// when the protocol has none the dissector reads (anything but TCP/UDP), for fragments (MF set or a
/// non-zero offset: only the first fragment carries ports, so no fragment may use them or a flow's
/// fragments would scatter), and when the L4 header is truncated.
/// </summary>
public readonly record struct FlowKeys(Ipv4Address Src, Ipv4Address Dst, byte Protocol, ushort SrcPort, ushort DstPort)
{
    /// <summary>
    /// Dissects an Ethernet II frame like <c>__skb_flow_dissect</c> does for ETH_P_IP. Never throws:
    /// false for a frame too short for Ethernet + 20-byte IPv4, a non-IPv4 EtherType, version ≠ 4,
    /// IHL &lt; 5 or an IHL running past the frame. Checksums and total length are not checked here
    /// (that is <c>ip_rcv_core</c>'s job, later on the path).
    /// </summary>
    public static bool TryExtract(ReadOnlySpan<byte> ethernetFrame, out FlowKeys keys)
        => TryExtract(ethernetFrame, out keys, out _);

    /// <summary>As above; <paramref name="hasPorts"/> says whether the ports were read (so a real port 0 is told apart from none).</summary>
    public static bool TryExtract(ReadOnlySpan<byte> ethernetFrame, out FlowKeys keys, out bool hasPorts)
    {
        keys = default;
        hasPorts = false;
        if (!EthernetHeader.TryRead(ethernetFrame, out var eth) || eth.EtherType != EtherType.Ipv4) return false;

        var ip = ethernetFrame[EthernetHeader.Length..];
        if (!Ipv4Header.TryRead(ip, out var iph) || iph.Version != 4 || iph.Ihl < 5 || iph.HeaderLength > ip.Length)
            return false;

        ushort srcPort = 0, dstPort = 0;
        byte proto = iph.Protocol;
        // __skb_flow_dissect: ip_is_fragment() => no ports (skb_get_hash does not pass FLOW_DISSECTOR_F_PARSE_1ST_FRAG).
        if ((proto == IpProtocol.Tcp || proto == IpProtocol.Udp) && !iph.IsFragment)
        {
            var l4 = ip[iph.HeaderLength..];
            if (l4.Length >= 4) // __skb_flow_get_ports: ports absent when the header is cut short
            {
                srcPort = BinaryPrimitives.ReadUInt16BigEndian(l4);
                dstPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
                hasPorts = true;
            }
        }
        keys = new FlowKeys(iph.Source, iph.Destination, proto, srcPort, dstPort);
        return true;
    }
}
