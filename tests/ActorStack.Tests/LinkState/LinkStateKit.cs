using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Tests.Engine;
using ActorStack.Tests.Support;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Tests.LinkState;

/// <summary>
/// Whole hosts on the product's simulation engine (<see cref="EngineKit"/>: the link watch's rate limit, the TX watchdog
/// and the link-up delay move only with <see cref="Advance"/>; what the test tells runs when it looks). A NIC's "wire"
/// is a probe, so a test sees every frame the NIC put on the medium and decides when TX completions come back.
/// </summary>
public abstract class LinkStateKit(string name) : EngineKit(name)
{
    /// <summary>Runs every timer and message due up to now + <paramref name="t"/>.</summary>
    protected void Advance(TimeSpan t) => Engine.RunFor(t);
    protected void AdvanceMs(int ms) => Engine.RunFor(TimeSpan.FromMilliseconds(ms));

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
            var dn = await Ask<HostDevices>(tr, GetHostDevices.Instance);
            return new Host(tr, dn.Devices, tr.UnderlyingActor.Namespace);
        }
        var host = Sys.ActorOf(props, hostName);
        var d = await Ask<HostDevices>(host, GetHostDevices.Instance);
        return new Host(host, d.Devices, null);
    }

    /// <summary>Subscribes a fresh probe to the host's <c>ip monitor link</c> stream.</summary>
    protected async Task<TestProbe> Monitor(Host h, TestProbe? probe = null)
    {
        probe ??= Probe();
        var r = await Ask<LinkMonitorSubscribed>(h.Ref, new SubscribeLinkMonitor(probe.Ref));
        Assert.True(r.Subscribed);
        return probe;
    }

    protected async Task<LinkStateInfo> Link(Host h, string dev = "eth0")
        => (await Ask<LinkList>(h.Ref, GetLinks.Instance)).Links.Single(l => l.Device == dev);

    /// <summary>Asserts <paramref name="cond"/> on the link once everything due now has run (the link watch has taken in what the driver told it; the clock does not move).</summary>
    protected async Task LinkNow(Host h, Func<LinkStateInfo, bool> cond, string dev = "eth0")
    {
        Engine.RunUntilIdle();
        var l = await Link(h, dev);
        Assert.True(cond(l), $"{dev} at +{Engine.Now}: {l}");
    }

    /// <summary>Cables eth-N to a probe standing in for the wire; carrier on is urgent, so it is handled at once.</summary>
    protected async Task<TestProbe> AttachProbeWire(Host h, string dev = "eth0")
    {
        var wire = Probe();
        h.Nics[dev].Tell(new AttachWire(wire.Ref));
        await LinkNow(h, l => l.Carrier && l.OperState == "UP", dev);
        return wire;
    }

    /// <summary>The next RTM_NEWLINK on <paramref name="p"/>, there once everything due now has run.</summary>
    protected async Task<RtnlLinkEvent> ExpectLinkAsync(TestProbe p, string dev, string operstate, bool carrier)
    {
        var e = await Expect<RtnlLinkEvent>(p);
        Assert.Equal((dev, operstate, carrier), (e.Device, e.OperState, e.Carrier));
        return e;
    }

    protected Task<HostStats> Stats(Host h) => Ask<HostStats>(h.Ref, GetStats.Instance);

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

    /// <summary>Frames the wire probe got from the NIC once everything due now has run (the clock does not move).</summary>
    protected async Task<int> FramesOnWireAsync(TestProbe wire)
    {
        Engine.RunUntilIdle();
        int n = 0;
        while (true)
        {
            var (ok, env) = await wire.TryReceiveOneAsync(TimeSpan.Zero);
            if (!ok) return n;
            if (env.Message is WireFrames w) n += w.Count;
        }
    }

    /// <summary>The next <paramref name="n"/> netdev notifications on <paramref name="p"/>, all there once everything due now has run.</summary>
    protected async Task<NetdevNotification[]> NotificationsAsync(TestProbe p, int n)
    {
        var got = new NetdevNotification[n];
        for (int i = 0; i < n; i++) got[i] = await Expect<NetdevNotification>(p);
        return got;
    }

    /// <summary>Receives <paramref name="n"/> messages of any kind on <paramref name="p"/>, all there once everything due now has run (ReceiveN).</summary>
    protected async Task<List<object>> ReceiveManyAsync(TestProbe p, int n)
    {
        Engine.RunUntilIdle();
        var got = new List<object>(n);
        await foreach (var m in p.ReceiveNAsync(n, Timeouts.Wall)) got.Add(m);
        return got;
    }
}
