using ActorStack.Actors.Routing;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Routing;

public class FibTests
{
    private static Ipv4Address A(string s) => Ipv4Address.Parse(s);
    private static Ipv4Prefix P(string s) => Ipv4Prefix.TryParse(s, out var p) ? p : throw new FormatException(s);

    private static Fib HostWithEth0()
    {
        var fib = new Fib();
        Assert.True(fib.AddAddress("lo", P("127.0.0.1/8")).Ok);
        Assert.True(fib.AddAddress("eth0", P("10.0.0.1/24")).Ok);
        return fib;
    }

    [Fact]
    public void AddAddress_Eth0AndLo_IpRouteOutputMatchesLinux()
    {
        var fib = HostWithEth0();
        Assert.True(fib.AddRoute(P("0.0.0.0/0"), via: A("10.0.0.254")).Ok);

        Assert.Equal(
            "default via 10.0.0.254 dev eth0\n" +
            "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n",
            fib.Format());
        Assert.Equal(
            "local 10.0.0.1 dev eth0 proto kernel scope host src 10.0.0.1\n" +
            "broadcast 10.0.0.255 dev eth0 proto kernel scope link src 10.0.0.1\n" +
            "local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1\n" +
            "local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1\n" +
            "broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1\n",
            fib.FormatTable("local"));
    }

    [Fact]
    public void Format_StaticRoutesWithMetrics_PrintedInKernelDumpOrder()
    {
        var fib = HostWithEth0();
        Assert.True(fib.AddRoute(P("10.5.0.0/16"), via: A("10.0.0.2"), metric: 100, protocol: RouteProtocol.Static).Ok);
        Assert.True(fib.AddRoute(P("10.5.0.0/16"), via: A("10.0.0.3"), metric: 50).Ok);
        Assert.True(fib.AddRoute(P("10.5.1.0/24"), dev: "eth0").Ok);
        Assert.True(fib.AddRoute(P("0.0.0.0/0"), via: A("10.0.0.254"), metric: 600, protocol: RouteProtocol.Static).Ok);
        Assert.True(fib.AddRoute(P("192.168.0.0/16"), type: RouteType.Unreachable).Ok);
        Assert.True(fib.AddRoute(P("172.16.0.0/12"), type: RouteType.Blackhole).Ok);
        Assert.True(fib.AddRoute(P("10.9.9.9/32"), type: RouteType.Prohibit, metric: 5).Ok);

        Assert.Equal(
            "default via 10.0.0.254 dev eth0 proto static metric 600\n" +
            "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n" +
            "10.5.0.0/16 via 10.0.0.3 dev eth0 metric 50\n" +
            "10.5.0.0/16 via 10.0.0.2 dev eth0 proto static metric 100\n" +
            "10.5.1.0/24 dev eth0 scope link\n" +
            "prohibit 10.9.9.9 metric 5\n" +
            "blackhole 172.16.0.0/12\n" +
            "unreachable 192.168.0.0/16\n",
            fib.Format());
    }

    [Fact]
    public void Lookup_OverlappingPrefixes_LongestPrefixWins()
    {
        var fib = HostWithEth0();
        fib.AddRoute(P("10.1.0.0/16"), via: A("10.0.0.2"));
        fib.AddRoute(P("10.1.2.0/24"), via: A("10.0.0.3"));
        fib.AddRoute(P("0.0.0.0/0"), via: A("10.0.0.254"));

        Assert.Equal(A("10.0.0.3"), fib.Lookup(A("10.1.2.5")).NextHop);
        Assert.Equal(A("10.0.0.2"), fib.Lookup(A("10.1.9.9")).NextHop);
        var def = fib.Lookup(A("8.8.8.8"));
        Assert.Equal(Errno.OK, def.Error);
        Assert.Equal(0, def.Route!.PrefixLength);
        Assert.Equal(A("10.0.0.254"), def.NextHop);
        var connected = fib.Lookup(A("10.0.0.77"));
        Assert.Equal(A("10.0.0.77"), connected.NextHop);
        Assert.Equal("eth0", connected.Device);
        Assert.Equal(A("10.0.0.1"), connected.PrefSrc);
    }

    [Fact]
    public void Lookup_SamePrefixDifferentMetrics_LowestMetricWins()
    {
        var fib = HostWithEth0();
        fib.AddRoute(P("10.2.0.0/16"), via: A("10.0.0.2"), metric: 100);
        fib.AddRoute(P("10.2.0.0/16"), via: A("10.0.0.3"), metric: 50);
        fib.AddRoute(P("10.2.0.0/16"), via: A("10.0.0.4"), metric: 200);

        Assert.Equal(A("10.0.0.3"), fib.Lookup(A("10.2.3.4")).NextHop);
        Assert.True(fib.DeleteRoute(P("10.2.0.0/16"), metric: 50).Ok);
        Assert.Equal(A("10.0.0.2"), fib.Lookup(A("10.2.3.4")).NextHop);
    }

    [Fact]
    public void Lookup_LocalAndBroadcast_LocalTableConsultedFirst()
    {
        var fib = HostWithEth0();
        // A main-table host route to our own address cannot shadow the local table.
        Assert.True(fib.AddRoute(P("10.0.0.1/32"), dev: "eth0").Ok);

        var self = fib.Lookup(A("10.0.0.1"));
        Assert.Equal(RouteType.Local, self.Type);
        Assert.Equal(RouteTable.Local, self.Table);
        var bcast = fib.Lookup(A("10.0.0.255"));
        Assert.Equal(RouteType.Broadcast, bcast.Type);
        Assert.Equal(RouteType.Local, fib.Lookup(A("127.9.9.9")).Type);
        Assert.Equal(RouteType.Unicast, fib.Lookup(A("10.0.0.0")).Type); // no network broadcast route since Linux 5.14
    }

    [Fact]
    public void Lookup_NoRouteAndErrorRoutes_GiveLinuxErrnos()
    {
        var fib = HostWithEth0();
        fib.AddRoute(P("10.8.0.0/16"), type: RouteType.Unreachable);
        fib.AddRoute(P("10.7.0.0/16"), type: RouteType.Prohibit);
        fib.AddRoute(P("10.6.0.0/16"), type: RouteType.Blackhole);

        Assert.Equal(Errno.ENETUNREACH, fib.Lookup(A("8.8.8.8")).Error);
        Assert.Null(fib.Lookup(A("8.8.8.8")).Route);
        Assert.Equal(Errno.EHOSTUNREACH, fib.Lookup(A("10.8.1.1")).Error);
        Assert.Equal(Errno.EACCES, fib.Lookup(A("10.7.1.1")).Error);
        Assert.Equal(Errno.EINVAL, fib.Lookup(A("10.6.1.1")).Error);
    }

    [Fact]
    public void Lookup_UnreachableWithLowerMetric_BeatsUnicastOfSamePrefix()
    {
        var fib = HostWithEth0();
        fib.AddRoute(P("10.3.0.0/16"), via: A("10.0.0.2"), metric: 10);
        fib.AddRoute(P("10.3.0.0/16"), type: RouteType.Unreachable, metric: 5);
        Assert.Equal(Errno.EHOSTUNREACH, fib.Lookup(A("10.3.0.1")).Error);
    }

    [Fact]
    public void AddRoute_GatewayNotOnConnectedSubnet_NexthopHasInvalidGateway()
    {
        var fib = HostWithEth0();
        fib.AddAddress("eth1", P("10.9.0.1/24"));
        fib.AddRoute(P("0.0.0.0/0"), via: A("10.0.0.254"));

        var st = fib.AddRoute(P("10.5.0.0/16"), via: A("192.168.5.1"));
        Assert.Equal(Errno.ENETUNREACH, st.Error); // only reachable through the default route: universe scope
        Assert.Equal("Nexthop has invalid gateway", st.Message);

        var wrongDev = fib.AddRoute(P("10.5.0.0/16"), via: A("10.0.0.2"), dev: "eth1");
        Assert.False(wrongDev.Ok);
        Assert.Equal("Nexthop has invalid gateway", wrongDev.Message);
        Assert.Equal(0, fib.Routes().Count(r => r.Network == A("10.5.0.0")));

        var viaBroadcast = fib.AddRoute(P("10.5.0.0/16"), via: A("10.0.0.255"));
        Assert.Equal(Errno.EINVAL, viaBroadcast.Error);
        Assert.True(fib.AddRoute(P("10.5.0.0/16"), via: A("10.9.0.7")).Ok);
        Assert.Equal("eth1", fib.Lookup(A("10.5.0.1")).Device);
    }

    [Fact]
    public void AddRoute_InvalidRequests_Rejected()
    {
        var fib = HostWithEth0();
        Assert.Equal(Errno.EINVAL, fib.AddRoute(P("10.5.0.1/16"), dev: "eth0").Error);
        Assert.Equal(Errno.ENODEV, fib.AddRoute(P("10.5.0.0/16"), dev: "eth9").Error);
        Assert.Equal(Errno.EINVAL, fib.AddRoute(P("10.5.0.0/16"), dev: "eth0", type: RouteType.Unreachable).Error);
        Assert.True(fib.AddRoute(P("10.5.0.0/16"), dev: "eth0", metric: 7).Ok);
        Assert.Equal(Errno.EEXIST, fib.AddRoute(P("10.5.0.0/16"), via: A("10.0.0.2"), metric: 7).Error);
        Assert.Equal(Errno.EINVAL, fib.AddRoute(P("10.6.0.0/16"), dev: "eth0", src: A("10.0.0.99")).Error);
        Assert.Equal(Errno.EEXIST, fib.AddAddress("eth0", P("10.0.0.1/24")).Error);
    }

    [Fact]
    public void MarkLinkDown_CarrierLost_RoutesFlaggedLinkdownButUsable()
    {
        var fib = HostWithEth0();
        fib.AddRoute(P("0.0.0.0/0"), via: A("10.0.0.254"));
        fib.MarkLinkDown("eth0", true);

        Assert.Equal(
            "default via 10.0.0.254 dev eth0 linkdown\n" +
            "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 linkdown\n",
            fib.Format());
        Assert.StartsWith(
            "local 10.0.0.1 dev eth0 proto kernel scope host src 10.0.0.1\n" +
            "broadcast 10.0.0.255 dev eth0 proto kernel scope link src 10.0.0.1 linkdown\n",
            fib.FormatTable("local"));
        Assert.Equal(Errno.OK, fib.Lookup(A("8.8.8.8")).Error);

        fib.MarkLinkDown("eth0", false);
        Assert.DoesNotContain("linkdown", fib.Format());
    }

    [Fact]
    public void AddAddress_SecondaryHostAndPointToPoint_InstallsLinuxRouteSet()
    {
        var fib = new Fib();
        fib.AddAddress("eth0", P("10.0.0.1/24"));
        fib.AddAddress("eth0", P("10.0.0.2/24"));   // secondary: local route only, src = primary
        fib.AddAddress("eth1", P("192.168.1.5/32")); // host address: no prefix route
        fib.AddAddress("eth2", P("172.16.0.0/31"));  // /31: prefix route, no broadcast

        Assert.Equal(
            "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n" +
            "172.16.0.0/31 dev eth2 proto kernel scope link src 172.16.0.0\n",
            fib.Format());
        Assert.Equal(
            "local 10.0.0.1 dev eth0 proto kernel scope host src 10.0.0.1\n" +
            "local 10.0.0.2 dev eth0 proto kernel scope host src 10.0.0.1\n" +
            "broadcast 10.0.0.255 dev eth0 proto kernel scope link src 10.0.0.1\n" +
            "local 172.16.0.0 dev eth2 proto kernel scope host src 172.16.0.0\n" +
            "local 192.168.1.5 dev eth1 proto kernel scope host src 192.168.1.5\n",
            fib.FormatTable("local"));
    }

    [Fact]
    public void RemoveAddress_Primary_RemovesItsRoutesAndDependentStaticRoutes()
    {
        var fib = HostWithEth0();
        fib.AddRoute(P("10.5.0.0/16"), via: A("10.0.0.2"), src: A("10.0.0.1"));
        Assert.True(fib.RemoveAddress("eth0", P("10.0.0.1/24")).Ok);
        Assert.Equal("", fib.Format());
        Assert.DoesNotContain("10.0.0", fib.FormatTable("local"));
        Assert.Equal(Errno.ENETUNREACH, fib.Lookup(A("10.0.0.9")).Error);
        Assert.Equal(Errno.EADDRNOTAVAIL, fib.RemoveAddress("eth0", P("10.0.0.1/24")).Error);
    }
}
