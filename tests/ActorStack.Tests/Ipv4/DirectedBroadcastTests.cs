using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Ipv4;

/// <summary>
/// <see cref="IpRcv"/> for a directed broadcast of another local subnet: the host has 10.0.1.1/24 on eth0 and
/// 10.0.2.1/24 on eth1; 10.0.2.255 arriving on eth0 matches <c>broadcast 10.0.2.255 dev eth1 table local</c>, so
/// <c>ip_route_input_slow</c> takes it as RTN_BROADCAST (<c>brd_input</c>) and delivers it locally — forwarding on or off.
/// </summary>
public sealed class DirectedBroadcastTests
{
    private static Ipv4Prefix P(string s) => Ipv4Prefix.TryParse(s, out var p) ? p : throw new FormatException(s);

    private static NetNamespace Host(bool forward) => new(new HostSettings("h", 1, new SysctlSettings { IpForward = forward },
    [
        new DeviceSettings("eth0", MacAddress.Parse("02:00:00:00:01:01"), Mtu: 1500, Addresses: [P("10.0.1.1/24")]),
        new DeviceSettings("eth1", MacAddress.Parse("02:00:00:00:02:01"), Mtu: 1500, Addresses: [P("10.0.2.1/24")]),
    ]), seed: 1);

    private static SkBuff Packet(string dst)
    {
        var pkt = new byte[Ipv4Header.MinLength + 8];
        Ipv4Header.Write(pkt, pkt.Length, 7, 0, 64, IpProtocol.Udp, Ipv4Address.Parse("10.0.1.9"), Ipv4Address.Parse(dst));
        // ifindex 2 = eth0 (1 is lo); the frame was sent to this host's MAC (a unicast frame to a broadcast IP).
        return new SkBuff(pkt, 2, 0, 0, 0, 1024) { NetworkOffset = 0, NetworkLength = pkt.Length, Protocol = EtherType.Ipv4, PktType = PacketKind.Host };
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OtherLocalSubnetsBroadcast_DeliveredLocally_AsBroadcast(bool forward)
    {
        var ns = Host(forward);
        var skb = Packet("10.0.2.255");
        Assert.Equal(IpRcvVerdict.LocalDeliver, new IpRcv(ns).Receive(ref skb, out _));
        Assert.Equal(PacketKind.Broadcast, skb.PktType);
        Assert.Equal(1, ns.IpExt[IpExtMib.InBcastPkts]);
        Assert.Equal(0, ns.Ip[IpMib.InAddrErrors]);
    }

    [Fact]
    public void OwnSubnetsBroadcast_DeliveredLocally()
    {
        var ns = Host(false);
        var skb = Packet("10.0.1.255");
        Assert.Equal(IpRcvVerdict.LocalDeliver, new IpRcv(ns).Receive(ref skb, out _));
        Assert.Equal(PacketKind.Broadcast, skb.PktType);
    }

    [Theory]
    [InlineData(false, IpRcvVerdict.Drop)]
    [InlineData(true, IpRcvVerdict.Forward)]
    public void ForeignSubnetsBroadcast_NotLocal(bool forward, IpRcvVerdict expected)
    {
        var ns = Host(forward);
        var skb = Packet("10.0.3.255");
        Assert.Equal(expected, new IpRcv(ns).Receive(ref skb, out _));
        Assert.Equal(0, ns.IpExt[IpExtMib.InBcastPkts]);
        Assert.Equal(forward ? 0 : 1, ns.Ip[IpMib.InAddrErrors]);
    }

    [Fact]
    public void IcmpUnreachCheck_StaysPerDevice()
        => Assert.False(Host(false).IsBroadcastAddress(Ipv4Address.Parse("10.0.2.255"), 2)); // inet_addr_type_dev_table(eth0)
}
