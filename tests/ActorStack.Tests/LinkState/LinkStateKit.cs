using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Tests.LinkState;

/// <summary>
/// Whole hosts on virtual time (TestScheduler: the link watch's rate limit, the TX watchdog and the link-up delay
/// move only with <see cref="Advance"/>). A NIC's "wire" is a probe, so a test sees every frame the NIC put on the
/// medium and decides when TX completions come back.
/// </summary>
public abstract class LinkStateKit(string name) : TestKit(
    StackConfig.AkkaConfig("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\""), name)
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(15); // generous: only a failing test waits this long, and a loaded 2-core machine is slow
    protected static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);

    protected TestScheduler Clock => (TestScheduler)Sys.Scheduler;
    protected void Advance(TimeSpan t) => Clock.Advance(t);
    protected void AdvanceMs(int ms) => Clock.Advance(TimeSpan.FromMilliseconds(ms));

    protected static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    protected sealed record Host(IActorRef Ref, ImmutableDictionary<string, IActorRef> Nics, ActorStack.Actors.Namespaces.NetNamespace? Ns);

    /// <summary>A host with eth0..eth(N-1), 10.0.i.1/24 each. <paramref name="withNamespace"/>: a TestActorRef, to read its FIB.</summary>
    protected async Task<Host> StartHost(string hostName = "h1", int devices = 1, HostLinkSettings? link = null, bool withNamespace = false)
    {
        var devs = Enumerable.Range(0, devices)
            .Select(i => new DeviceSettings($"eth{i}", Mac(10 + i), Addresses: [Ipv4Prefix.TryParse($"10.0.{i}.1/24", out var p) ? p : default]))
            .ToImmutableArray();
        var settings = new HostSettings(hostName, 1, new SysctlSettings(), devs);
        var props = HostActor.Props(settings, seed: 7, link: link);
        if (withNamespace)
        {
            var tr = ActorOfAsTestActorRef<HostActor>(props, hostName);
            var dn = await tr.Ask<HostDevices>(GetHostDevices.Instance, Wait);
            return new Host(tr, dn.Devices, tr.UnderlyingActor.Namespace);
        }
        var host = Sys.ActorOf(props, hostName);
        var d = await host.Ask<HostDevices>(GetHostDevices.Instance, Wait);
        return new Host(host, d.Devices, null);
    }

    /// <summary>Subscribes a fresh probe to the host's <c>ip monitor link</c> stream.</summary>
    protected async Task<TestProbe> Monitor(Host h, TestProbe? probe = null)
    {
        probe ??= CreateTestProbe();
        var r = await h.Ref.Ask<LinkMonitorSubscribed>(new SubscribeLinkMonitor(probe.Ref), Wait);
        Assert.True(r.Subscribed);
        return probe;
    }

    protected async Task<LinkStateInfo> Link(Host h, string dev = "eth0")
        => (await h.Ref.Ask<LinkList>(GetLinks.Instance, Wait)).Links.Single(l => l.Device == dev);

    /// <summary>Waits until the link watch has taken in what the driver told it (driver → link watch is asynchronous).</summary>
    protected Task Until(Host h, Func<LinkStateInfo, bool> cond, string dev = "eth0")
        => AwaitConditionAsync(async () => cond(await Link(h, dev)), Wait, TimeSpan.FromMilliseconds(10));

    /// <summary>Cables eth-N to a probe standing in for the wire; carrier on is urgent, so it is handled at once.</summary>
    protected async Task<TestProbe> AttachProbeWire(Host h, string dev = "eth0")
    {
        var wire = CreateTestProbe();
        h.Nics[dev].Tell(new AttachWire(wire.Ref));
        await Until(h, l => l.Carrier && l.OperState == "UP", dev);
        return wire;
    }

    protected static async Task<RtnlLinkEvent> ExpectLinkAsync(TestProbe p, string dev, string operstate, bool carrier)
    {
        var e = await p.ExpectMsgAsync<RtnlLinkEvent>(Wait);
        Assert.Equal((dev, operstate, carrier), (e.Device, e.OperState, e.Carrier));
        return e;
    }

    protected async Task<HostStats> Stats(Host h) => await h.Ref.Ask<HostStats>(GetStats.Instance, Wait);

    protected static long Dropped(HostStats s, DropReason reason, string location)
        => s.Drops.Where(d => d.Site == new DropSite(reason, location)).Sum(d => d.Packets);

    protected static LinkCounters Counters(HostStats s, string dev = "eth0") => s.Devices.Single(d => d.Name == dev).Counters;

    /// <summary>Transmit buffers of whole UDP frames from 10.0.0.1 to 10.0.0.2, as the neighbour layer hands them to the device.</summary>
    protected static ImmutableArray<SkBuff> Skbs(int n, int ifindex = 2)
        => Enumerable.Range(0, n).Select(i =>
        {
            var f = FrameBuilder.Udp(Mac(99), Mac(10), Ipv4Address.Parse("10.0.0.1"), Ipv4Address.Parse("10.0.0.2"), 5000, (ushort)(9000 + i), [1, 2, 3]);
            return new SkBuff(f, ifindex, 0, 0, 0, SkBuff.TruesizeFor(f.Length))
            {
                NetworkOffset = EthernetHeader.Length, NetworkLength = f.Length - EthernetHeader.Length, Protocol = EtherType.Ipv4,
                PktType = PacketKind.Outgoing,
            };
        }).ToImmutableArray();

    /// <summary>Frames the wire probe got from the NIC, until it stays quiet.</summary>
    protected static async Task<int> FramesOnWireAsync(TestProbe wire)
    {
        int n = 0;
        while (true)
        {
            var (ok, env) = await wire.TryReceiveOneAsync(Quiet);
            if (!ok) return n;
            if (env.Message is WireFrames w) n += w.Count;
        }
    }

    /// <summary>The next <paramref name="n"/> netdev notifications on <paramref name="p"/>, each within <see cref="Wait"/>.</summary>
    protected static async Task<NetdevNotification[]> NotificationsAsync(TestProbe p, int n)
    {
        var got = new NetdevNotification[n];
        for (int i = 0; i < n; i++) got[i] = await p.ExpectMsgAsync<NetdevNotification>(Wait);
        return got;
    }

    /// <summary>Receives <paramref name="n"/> messages of any kind on <paramref name="p"/> within <paramref name="max"/> (ReceiveN).</summary>
    protected static async Task<List<object>> ReceiveManyAsync(TestProbe p, int n, TimeSpan max)
    {
        var got = new List<object>(n);
        await foreach (var m in p.ReceiveNAsync(n, max)) got.Add(m);
        return got;
    }
}
