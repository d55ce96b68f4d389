namespace ActorStack.Messages.Packets;

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
