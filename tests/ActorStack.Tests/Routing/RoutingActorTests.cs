using Akka.Actor;
using ActorStack.Actors.Routing;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Routing;

/// <summary>The routing actor: the one writer of a host's FIB and PMTU cache, publishing immutable snapshots.</summary>
public sealed class RoutingActorTests() : EngineKit("routing-actor")
{
    private static readonly Ipv4Address Remote = Ipv4Address.Parse("192.168.1.1");

    private static NetNamespace Ns() => new(new HostSettings("h", 1, new SysctlSettings(),
        [new DeviceSettings("eth0", MacAddress.Parse("02:00:00:00:00:02"), Mtu: 1500,
            Addresses: [new Ipv4Prefix(Ipv4Address.Parse("10.0.0.2"), 24)])])
    {
        Routes = [new RouteSettings(new Ipv4Prefix(Ipv4Address.Parse("192.168.0.0"), 16), Ipv4Address.Parse("10.0.0.1"))],
    }, seed: 1);

    // AfterFibSync: the reply arrives once every change told before it is published.
    private async Task Synced(IActorRef routing)
    {
        routing.Tell(new AfterFibSync(TestActor, "synced"));
        Assert.Equal("synced", await Expect<string>()); // everything due now has run: the changes are published
    }

    [Fact]
    public async Task NetdevDownThenUp_RoutesFlushedThenKernelRoutesBack_GenerationMoves()
    {
        var ns = Ns();
        var before = ns.Fib;
        var routing = Sys.ActorOf(RoutingActor.Props(ns));
        routing.Tell(new FibNetdevEvent("eth0", FibDevEvent.Down));
        await Synced(routing);
        Assert.Equal("", ns.Fib.Format());
        Assert.Equal(Errno.ENETUNREACH, ns.Fib.Lookup(Remote).Error);
        Assert.Equal(before.Generation + 1, ns.FibGeneration);
        Assert.Equal(Ipv4Address.Parse("10.0.0.1"), before.Lookup(Remote).NextHop);   // the old snapshot is unchanged

        routing.Tell(new FibNetdevEvent("eth0", FibDevEvent.Up));
        await Synced(routing);
        Assert.Equal("10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.2\n", ns.Fib.Format());   // the static route stays gone
        Assert.Equal(before.Generation + 2, ns.FibGeneration);
    }

    [Fact]
    public async Task CarrierDownThenUp_LinkdownFlagFollows()
    {
        var ns = Ns();
        var routing = Sys.ActorOf(RoutingActor.Props(ns));
        routing.Tell(new FibNetdevEvent("eth0", FibDevEvent.CarrierDown));
        await Synced(routing);
        Assert.Equal("10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.2 linkdown\n192.168.0.0/16 via 10.0.0.1 dev eth0 linkdown\n",
            ns.Fib.Format());
        routing.Tell(new FibNetdevEvent("eth0", FibDevEvent.CarrierUp));
        await Synced(routing);
        Assert.DoesNotContain("linkdown", ns.Fib.Format());
    }

    [Fact]
    public async Task PmtuUpdate_Published_FlooredAndBoundedByDevice()
    {
        var ns = Ns();
        var routing = Sys.ActorOf(RoutingActor.Props(ns));
        routing.Tell(new PmtuUpdate(Remote, 1400, 1500, 0));
        routing.Tell(new PmtuUpdate(Ipv4Address.Parse("192.168.1.2"), 100, 1500, 0));
        routing.Tell(new PmtuUpdate(Ipv4Address.Parse("192.168.1.3"), 9000, 1500, 0));
        await Synced(routing);
        Assert.Equal(1400, ns.Pmtu.Get(Remote, 0));
        Assert.Equal(552, ns.Pmtu.Get(Ipv4Address.Parse("192.168.1.2"), 0));
        Assert.Null(ns.Pmtu.Get(Ipv4Address.Parse("192.168.1.3"), 0));
        Assert.Equal(2, ns.Pmtu.Count);
        Assert.Null(ns.Pmtu.Get(Remote, ns.Sysctl.MtuExpires.Ticks));
    }
}
