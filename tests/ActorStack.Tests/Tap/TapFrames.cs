using ActorStack.Actors.Neighbour;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Tap;

/// <summary>Hand-built frames for the TAP interop tests.</summary>
public static class TapFrames
{
    /// <summary>An Ethernet/ARP frame (42 bytes, unpadded: a TAP carries frames without padding or FCS).</summary>
    public static byte[] Arp(ushort op, MacAddress ethDst, MacAddress senderMac, Ipv4Address senderIp, MacAddress targetMac, Ipv4Address targetIp)
    {
        var frame = new byte[EthernetHeader.Length + ArpPacket.Length];
        EthernetHeader.Write(frame, ethDst, senderMac, EtherType.Arp);
        ArpPacket.Write(frame.AsSpan(EthernetHeader.Length), op, senderMac, senderIp, targetMac, targetIp);
        return frame;
    }

    /// <summary>"who has <paramref name="target"/> tell <paramref name="senderIp"/>", broadcast.</summary>
    public static byte[] ArpRequest(MacAddress senderMac, Ipv4Address senderIp, Ipv4Address target)
        => Arp(ArpPacket.OpRequest, MacAddress.Broadcast, senderMac, senderIp, MacAddress.Zero, target);

    /// <summary>Whether <paramref name="frame"/> is an Ethernet/IPv4 ARP packet; <paramref name="arp"/> is its 28 bytes.</summary>
    public static bool IsArp(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> arp)
    {
        arp = default;
        if (!EthernetHeader.TryRead(frame, out var eth) || eth.EtherType != EtherType.Arp) return false;
        arp = frame[EthernetHeader.Length..];
        return ArpPacket.TryRead(arp, out _, out _);
    }
}
