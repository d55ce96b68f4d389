using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Routing;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using Xunit;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Tests.Transmit;

/// <summary>
/// <see cref="IpOutput.Route"/> keeps its last FIB answer (the socket's <c>sk_dst_cache</c>) while the FIB's
/// generation stands; a route change (a new <see cref="NetNamespace.Fib"/> published) and a learned path MTU
/// (a new <see cref="NetNamespace.Pmtu"/> published) are seen on the very next call.
/// </summary>
public class RouteCacheTests
{
    private static readonly Ipv4Address Local = Ipv4Address.Parse("10.0.0.2");
    private static readonly Ipv4Address Gw1 = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Gw2 = Ipv4Address.Parse("10.0.0.254");
    private static readonly Ipv4Address Remote = Ipv4Address.Parse("192.168.1.1");

    private static NetNamespace Ns() => new(new HostSettings("h", 1, new SysctlSettings(),
        [new DeviceSettings("eth0", MacAddress.Parse("02:00:00:00:00:02"), Mtu: 1500, Addresses: [new Ipv4Prefix(Local, 24)])])
    {
        Routes = [new RouteSettings(new Ipv4Prefix(Ipv4Address.Parse("192.168.0.0"), 16), Gw1)],
    }, seed: 1);

    [Fact]
    public void Route_SameDestinationTwice_SameAnswer()
    {
        var ns = Ns();
        var output = new IpOutput(ns, HostRefs.None);
        Assert.Equal(Errno.OK, output.Route(Remote, Ipv4Address.Any, 0, 0, out var a));
        Assert.Equal(Errno.OK, output.Route(Remote, Ipv4Address.Any, 0, 0, out var b));
        Assert.Equal(a, b);
        Assert.Equal(Gw1, b.NextHop);
        Assert.Equal(Local, b.Source);
        Assert.Equal(1500, b.Mtu);
    }

    [Fact]
    public void Route_FibChangedAfterCaching_NewRouteUsed()
    {
        var ns = Ns();
        var output = new IpOutput(ns, HostRefs.None);
        output.Route(Remote, Ipv4Address.Any, 0, 0, out _);
        var fib = ns.Fib.ToBuilder();   // as the routing actor, the FIB's owner, changes and publishes it
        Assert.True(fib.AddRoute(new Ipv4Prefix(Ipv4Address.Parse("192.168.1.0"), 24), Gw2).Ok);
        ns.Fib = fib.ToTable();
        Assert.Equal(Errno.OK, output.Route(Remote, Ipv4Address.Any, 0, 0, out var rt));
        Assert.Equal(Gw2, rt.NextHop);
    }

    [Fact]
    public void Route_RouteDeletedAfterCaching_Enetunreach()
    {
        var ns = Ns();
        var output = new IpOutput(ns, HostRefs.None);
        output.Route(Remote, Ipv4Address.Any, 0, 0, out _);
        var fib = ns.Fib.ToBuilder();
        Assert.True(fib.DeleteRoute(new Ipv4Prefix(Ipv4Address.Parse("192.168.0.0"), 16)).Ok);
        ns.Fib = fib.ToTable();
        Assert.Equal(Errno.ENETUNREACH, output.Route(Remote, Ipv4Address.Any, 0, 0, out _));
    }

    [Fact]
    public void Route_PmtuLearnedAfterCaching_LowerMtuUntilExpiry()
    {
        var ns = Ns();
        var output = new IpOutput(ns, HostRefs.None);
        output.Route(Remote, Ipv4Address.Any, 0, 0, out _);
        ns.Pmtu = ns.Pmtu.Update(Remote, 1400, 1500, nowTicks: 0, out _);
        Assert.Equal(Errno.OK, output.Route(Remote, Ipv4Address.Any, 0, 1, out var rt));
        Assert.Equal(1400, rt.Mtu);
        long expired = ns.Sysctl.MtuExpires.Ticks;
        Assert.Equal(Errno.OK, output.Route(Remote, Ipv4Address.Any, 0, expired, out rt));
        Assert.Equal(1500, rt.Mtu);
    }

    [Fact]
    public void Route_OtherSourceOrDestination_NotAnsweredFromCache()
    {
        var ns = Ns();
        var output = new IpOutput(ns, HostRefs.None);
        output.Route(Remote, Ipv4Address.Any, 0, 0, out _);
        Assert.Equal(Errno.OK, output.Route(Remote, Ipv4Address.Loopback, 0, 0, out var rt));
        Assert.Equal(Ipv4Address.Loopback, rt.Source);
        Assert.Equal(Errno.OK, output.Route(Gw1, Ipv4Address.Any, 0, 0, out rt));
        Assert.Equal(Gw1, rt.NextHop);
        Assert.Equal(Errno.ENETUNREACH, output.Route(Ipv4Address.Parse("172.16.0.1"), Ipv4Address.Any, 0, 0, out _));
    }
}
