using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Routing;

/// <summary>The host's children reach each other through the immutable <see cref="HostRefs"/> the host hands them.</summary>
public sealed class HostRefsTests() : EngineKit("host-refs")
{
    [Fact]
    public void Driver_ByIfindex_NobodyOutsideTheDevices()
    {
        var lo = Probe().Ref;
        var refs = HostRefs.None with { Drivers = [lo] };
        Assert.Equal(lo, refs.Driver(1));
        Assert.True(refs.Driver(0).IsNobody());
        Assert.True(refs.Driver(2).IsNobody());
        Assert.True(HostRefs.None.Icmp.IsNobody());
    }

    [Fact]
    public async Task HostActor_Refs_EveryChildOnceDriversInIfindexOrder()
    {
        var settings = new HostSettings("h", 2, new SysctlSettings(),
        [
            new DeviceSettings("eth0", MacAddress.Parse("02:00:00:00:00:01"), Addresses: [new Ipv4Prefix(Ipv4Address.Parse("10.0.0.1"), 24)]),
            new DeviceSettings("eth1", MacAddress.Parse("02:00:00:00:00:02"), Addresses: [new Ipv4Prefix(Ipv4Address.Parse("10.0.1.1"), 24)]),
        ]);
        var host = ActorOfAsTestActorRef<HostActor>(HostActor.Props(settings, seed: 1), "h");
        var devices = await Ask<HostDevices>(host, GetHostDevices.Instance);
        var r = host.UnderlyingActor.Refs;
        Assert.Equal(["routing", "linkwatch", "udp", "ip", "tcp", "icmp", "neigh"],
            new[] { r.Routing, r.LinkWatch, r.Udp, r.Ip, r.Tcp, r.Icmp, r.Neighbour }.Select(a => a.Path.Name));
        Assert.Equal(["softnet-cpu0", "softnet-cpu1"], r.Softnet.Select(a => a.Path.Name));
        Assert.Equal(["dev-lo", "dev-eth0", "dev-eth1"], r.Drivers.Select(a => a.Path.Name));
        Assert.Equal(devices.Devices["eth1"], r.Driver(3));
        // The link watch registered the devices once the record arrived: ip link lists lo, eth0, eth1.
        var links = await Ask<LinkList>(host, GetLinks.Instance);
        Assert.Equal(["lo", "eth0", "eth1"], links.Links.Select(l => l.Device));
    }
}
