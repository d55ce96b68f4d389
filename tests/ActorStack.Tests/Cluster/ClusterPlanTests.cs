using System.Collections.Immutable;
using System.Runtime.Serialization;
using Akka.Actor;
using ActorStack.Actors.Cluster;
using ActorStack.Cli;
using ActorStack.Actors.Serialization;
using ActorStack.Config;
using ActorStack.Messages;
using Xunit;

namespace ActorStack.Tests.Cluster;

/// <summary>The placement (pure) and the window protocol's binary serializer.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterPlanTests
{
    [Fact]
    public void Explicit_ThreeNodes_CutsTwoWiresWithTheirLookahead()
    {
        var s = StackConfig.Load(ClusterKit.Routed(ClusterKit.ThreeNodes));
        var plan = ClusterPlan.Make(s, ["n1", "n2", "n3"]);

        Assert.Equal([(2, "n2", "n1"), (3, "n2", "n3")], plan.CrossWires.Select(c => (c.Wire, c.NodeA, c.NodeB)));
        // delay - tx-usecs (3 us): 100 us and 200 us wires; every wire with lookahead is split, the 50 us ones too.
        Assert.Equal([97_000L, 197_000L], plan.CrossWires.Select(c => c.LookaheadNs));
        Assert.Equal(5, plan.Split.Length);
        Assert.Equal(47_000, plan.LookaheadNs);
    }

    [Fact]
    public void Auto_TwoNodes_BalancesLoadAndCutsOneWire()
    {
        var s = StackConfig.Load(ClusterKit.Routed());
        var plan = ClusterPlan.Make(s, ["n1", "n2"], PlacementMode.Auto);

        // The TCP transfer h1 -> h2 loads h1, sw1, r1, r2, h2 alike (h3 only its UDP echo): h1 h3 sw1 | r1 r2 h2, cut sw1–r1.
        Assert.Equal([("n1", 2, 1), ("n2", 3, 0)], plan.Counts(s));
        Assert.Equal("n2", plan.NodeOf("r1"));
        Assert.Single(plan.CrossWires);
    }

    /// <summary>
    /// a1 ─ a2 ─ b1 ─ b2 ─ b3 ─ b4 ─ b5 ─ b6 (every wire 100 µs): a1's pktgen sends 100,000 frames a second to a2, the six
    /// b hosts idle. Balanced host counts would put a1 a2 b1 b2 | b3 b4 b5 b6 (4 and 4 hosts, loads 200,004 and 4 pkt/s).
    /// </summary>
    private const string OneBusyPair = """
        actorstack.scenario {
          hosts {
            a1 { devices { eth0 { addresses = ["10.0.0.1/24"] } } }
            a2 { devices { eth0 { addresses = ["10.0.0.2/24"] } eth1 { addresses = ["10.0.1.2/24"] } } }
            b1 { devices { eth0 { addresses = ["10.0.1.11/24"] } eth1 { addresses = ["10.0.2.11/24"] } } }
            b2 { devices { eth0 { addresses = ["10.0.2.12/24"] } eth1 { addresses = ["10.0.3.12/24"] } } }
            b3 { devices { eth0 { addresses = ["10.0.3.13/24"] } eth1 { addresses = ["10.0.4.13/24"] } } }
            b4 { devices { eth0 { addresses = ["10.0.4.14/24"] } eth1 { addresses = ["10.0.5.14/24"] } } }
            b5 { devices { eth0 { addresses = ["10.0.5.15/24"] } eth1 { addresses = ["10.0.6.15/24"] } } }
            b6 { devices { eth0 { addresses = ["10.0.6.16/24"] } } }
          }
          wires = [
            { a = "a1/eth0", b = "a2/eth0", delay = 100us }
            { a = "a2/eth1", b = "b1/eth0", delay = 100us }
            { a = "b1/eth1", b = "b2/eth0", delay = 100us }
            { a = "b2/eth1", b = "b3/eth0", delay = 100us }
            { a = "b3/eth1", b = "b4/eth0", delay = 100us }
            { a = "b4/eth1", b = "b5/eth0", delay = 100us }
            { a = "b5/eth1", b = "b6/eth0", delay = 100us }
          ]
          workloads = [
            { type = pktgen, host = a1, device = eth0, count = 0, pkt_size = 64, ratep = 100000, src_min = "10.0.0.1", dst_min = "10.0.0.2" }
            { type = udp-sink, host = a2, bind = "0.0.0.0:9" }
          ]
        }
        """;

    [Fact]
    public void ExpectedLoad_WorkloadRatesAlongThePath_BaseForIdleHosts()
    {
        var load = ClusterPlan.ExpectedLoad(StackConfig.Load(OneBusyPair));

        Assert.Equal(100_001, load["a1"]); // sends 100,000 pkt/s, plus the base
        Assert.Equal(100_001, load["a2"]); // receives them
        Assert.All(new[] { "b1", "b2", "b3", "b4", "b5", "b6" }, h => Assert.Equal(ClusterPlan.BaseLoad, load[h]));
        // The routed scenario: the TCP transfer h1 -> h2 at h1's line rate (10 Gbit/s, 1538 bytes per segment on the wire,
        // plus an ACK per two) is charged to every host and the switch on its path, not to h3 (which pings nothing).
        var routed = ClusterPlan.ExpectedLoad(StackConfig.Load(ClusterKit.Routed()));
        double bulk = 1.5 * 10_000e6 / (1538 * 8.0);
        Assert.Equal(1 + 20 + 2 * 3 * 20 + bulk, routed["r1"], 6); // ping (2 per 100 ms), UDP echo (3 fragments each way per 50 ms), TCP
        Assert.Equal(1 + 2 * 3 * 20, routed["h3"], 6);
        Assert.Equal(routed["r1"], routed["sw1"], 6);
        Assert.Equal(1 + 20 + bulk, routed["h1"], 6);
    }

    [Fact]
    public void Auto_BalancesExpectedLoadNotHostCounts()
    {
        var s = StackConfig.Load(OneBusyPair);

        var plan = ClusterPlan.Make(s, ["n1", "n2"], PlacementMode.Auto);

        // Load balance: a1 alone (100,001 pkt/s) against the other seven (100,007); one wire cut, the least possible.
        Assert.Equal("n1", plan.NodeOf("a1"));
        Assert.All(new[] { "a2", "b1", "b2", "b3", "b4", "b5", "b6" }, h => Assert.Equal("n2", plan.NodeOf(h)));
        Assert.Equal([0], plan.CrossWires.Select(c => c.Wire));
        Assert.Equal(plan.Placement, ClusterPlan.Make(s, ["n1", "n2"], PlacementMode.Auto).Placement); // deterministic
        var text = plan.Describe(s);
        Assert.Contains("  n1: 1 host(s), 0 switch(es), expected load 100001 pkt/s: a1\n", text);
        Assert.Contains("  n2: 7 host(s), 0 switch(es), expected load 100007 pkt/s: a2 b1 b2 b3 b4 b5 b6\n", text);
    }

    [Fact]
    public void Auto_IdleHosts_BalancedCountsAndOneCut()
    {
        // Without workloads every host costs the base: load balance is host-count balance, in a line one wire is cut.
        var s = StackConfig.Load(OneBusyPair[..OneBusyPair.IndexOf("workloads", StringComparison.Ordinal)] + "}");

        var plan = ClusterPlan.Make(s, ["n1", "n2"], PlacementMode.Auto);

        Assert.Equal([("n1", 4, 0), ("n2", 4, 0)], plan.Counts(s));
        Assert.Single(plan.CrossWires);
    }

    [Fact]
    public void Auto_ZeroDelayWiresAreNeverCut()
    {
        // examples/routed.hocon's wires have no delay: nothing can be cut, everything stays on one node.
        var s = StackConfig.LoadFile(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "examples", "routed.hocon"));
        var plan = ClusterPlan.Make(s, ["n1", "n2"], PlacementMode.Auto);

        Assert.Empty(plan.CrossWires);
        Assert.All(plan.Placement.Values, n => Assert.Equal("n1", n));
    }

    [Fact]
    public void Explicit_DelayNotAboveTxUsecs_Refused()
    {
        var s = StackConfig.Load(ClusterKit.Routed(ClusterKit.TwoNodes, r1r2Delay: "3us"));
        var e = Assert.Throws<ClusterPlanException>(() => ClusterPlan.Make(s, ["n1", "n2"]));
        Assert.StartsWith("wire r1/eth1-r2/eth0 (n1 <-> n2) has delay 0.003ms", e.Message);
        var ok = ClusterPlan.Make(StackConfig.Load(ClusterKit.Routed(ClusterKit.TwoNodes, r1r2Delay: "4us")), ["n1", "n2"]);
        Assert.Equal(1_000, ok.CrossWires.Single().LookaheadNs);
    }

    [Fact]
    public void UnknownNode_RefusedNamingIt()
    {
        var s = StackConfig.Load(ClusterKit.Routed(ClusterKit.ThreeNodes));
        var e = Assert.Throws<ClusterPlanException>(() => ClusterPlan.Make(s, ["n1", "n2"]));
        Assert.Equal("r2 is placed on node n3; h2 is placed on node n3, which is not a member (members: n1, n2)", e.Message);
    }

    [Fact]
    public void Serializer_RoundTripsTheWindowProtocol_AndRefusesMalformed()
    {
        using var system = ActorSystem.Create("ser", StackConfig.AkkaConfig());
        var ser = new ClusterSerializer((ExtendedActorSystem)system);
        var frames = ImmutableArray.Create(new CrossFrame(1_000_000, 3, WireDirection.BToA, 7, new byte[] { 1, 2, 3 }));
        var done = new WindowDone("n2", 5, frames, 42, 99) { WallNs = 1234 };

        var back = Assert.IsType<WindowDone>(ser.FromBinary(ser.ToBinary(done), ser.Manifest(done)));
        Assert.Equal(("n2", 5L, 42L, 99L, 1234L), (back.Node, back.Window, back.NextDueNs, back.Events, back.WallNs));
        var f = Assert.Single(back.Outbound);
        Assert.Equal((1_000_000L, 3, WireDirection.BToA, 7L), (f.ArrivalNs, f.Wire, f.Direction, f.Seq));
        Assert.Equal(new byte[] { 1, 2, 3 }, f.Frame.ToArray());
        var place = new PlacePartition("n3", "actorstack { }", [new("h1", "n1")]);
        Assert.Equal("h1", Assert.IsType<PlacePartition>(ser.FromBinary(ser.ToBinary(place), "PP")).Placement.Single().Key);
        Assert.Equal("ActorStack.Messages.WindowDone", ((ExtendedActorSystem)system).Serialization.FindSerializerFor(done).GetType() == typeof(ClusterSerializer)
            ? typeof(WindowDone).FullName : "not bound");

        // The end-of-run report crosses nested (Akka's serializer for plain objects, once per run): statuses keep their type.
        var report = new PartitionReport("n2", [], [], [new WireReport(3, null, WireDirection.AToB, null, 6, 3)],
            [new AppReport(AppReportKind.App, 4, new SinkStatus("h2", "0.0.0.0:9", 5, 500, 0, 1, true))],
            [new CaptureReport(0, new CaptureFlushed("x.pcapng", 7, 0) { Comments = 2 })]);
        var counters = new PartitionCounters("n2", [new("h2", "text")], [new("SIM_NODE_LOST", 3)], []) { Report = report };
        var cb = Assert.IsType<PartitionCounters>(ser.FromBinary(ser.ToBinary(counters), "PC"));
        Assert.Equal(("h2", "SIM_NODE_LOST"), (cb.Hosts.Single().Key, cb.CrossDrops.Single().Key));
        Assert.Equal(new WireReport(3, null, WireDirection.AToB, null, 6, 3), cb.Report!.Wires.Single());
        Assert.Equal(new SinkStatus("h2", "0.0.0.0:9", 5, 500, 0, 1, true), cb.Report.Apps.Single().Status);
        Assert.Equal((0, "x.pcapng", 2L), (cb.Report.Captures.Single().Point, cb.Report.Captures.Single().Flushed.File, cb.Report.Captures.Single().Flushed.Comments));
        Assert.Null(Assert.IsType<PartitionCounters>(ser.FromBinary(ser.ToBinary(counters with { Report = null }), "PC")).Report);

        var bytes = ser.ToBinary(done);
        Assert.Throws<SerializationException>(() => ser.FromBinary(bytes[..^3], "WD"));      // truncated
        Assert.Throws<SerializationException>(() => ser.FromBinary([.. bytes, 0], "WD"));     // trailing byte
        Assert.Throws<SerializationException>(() => ser.FromBinary(bytes, "XX"));             // unknown manifest
    }

    [Fact]
    public void Serializer_RoundTripsTheRealClockMessagesAndCaptureParts()
    {
        using var system = ActorSystem.Create("ser", StackConfig.AkkaConfig());
        var ser = new ClusterSerializer((ExtendedActorSystem)system);
        T Back<T>(object m) => Assert.IsType<T>(ser.FromBinary(ser.ToBinary(m), ser.Manifest(m)));

        Assert.True(Back<PlacePartition>(new PlacePartition("n2", "x", []) { RealClock = true }).RealClock);
        Assert.False(Back<PlacePartition>(new PlacePartition("n2", "x", [])).RealClock);
        var cf = Back<CrossFrames>(new CrossFrames("n3", [new CrossFrame(5, 1, WireDirection.AToB, 9, new byte[] { 7, 8 })]));
        Assert.Equal(("n3", 1, 9L), (cf.From, cf.Frames.Single().Wire, cf.Frames.Single().Seq));
        Assert.Equal(new byte[] { 7, 8 }, cf.Frames.Single().Frame.ToArray());
        Assert.Equal(new CrossAck("n1", 42), Back<CrossAck>(new CrossAck("n1", 42)));
        var agent = system.ActorOf(Props.Empty, "agent");
        var sr = Back<StartRealPartition>(new StartRealPartition([new("n1", agent)]));
        Assert.Equal(("n1", agent), (sr.Peers.Single().Key, sr.Peers.Single().Value));
        var pc = Back<PartitionCounters>(new PartitionCounters("n2", [], [], []) { CaptureParts = [new CapturePart(1, "/tmp/a.n2.part", new byte[] { 1, 2, 3 })] });
        var part = pc.CaptureParts.Single();
        Assert.Equal((1, "/tmp/a.n2.part"), (part.Point, part.Path));
        Assert.Equal(new byte[] { 1, 2, 3 }, part.Bytes.ToArray());
        Assert.Throws<SerializationException>(() => ser.FromBinary(ser.ToBinary(new CrossAck("n1", 42))[..^1], "CA"));
    }

    [Fact]
    public void Serializer_RoundTripsARealPartitionReport_SameReportText()
    {
        using var system = ActorSystem.Create("ser", StackConfig.AkkaConfig());
        var ser = new ClusterSerializer((ExtendedActorSystem)system);
        string config = ClusterKit.Routed(scenarioExtra: ClusterKit.CutR1R2);
        var s = StackConfig.Load(config);
        var plan = ClusterPlan.Make(s, ["n1"]);
        using var host = new PartitionHost("n1");
        var ready = Assert.IsType<PartitionReady>(host.Handle(new PlacePartition("n1", config, [.. plan.Placement])));
        // 20 ms in windows of the lookahead, each window's outbound frames the next one's inbound (one partition).
        ImmutableArray<CrossFrame> inbound = [];
        for (long w = 0, at = ready.ReadyNs; at < ready.ReadyNs + 20_000_000; w++, at += plan.LookaheadNs)
            inbound = Assert.IsType<WindowDone>(host.Handle(new RunWindow(w, ready.ReadyNs, at + plan.LookaheadNs, inbound))).Outbound;
        var counters = Assert.IsType<PartitionCounters>(host.Handle(CollectCounters.Instance));

        var back = Assert.IsType<PartitionCounters>(ser.FromBinary(ser.ToBinary(counters), "PC"));

        string text = RunReport.Text(s, ClusterReport.Merge(s, [counters.Report!]), full: true);
        Assert.Equal(text, RunReport.Text(s, ClusterReport.Merge(s, [back.Report!]), full: true));
        Assert.Contains("\n===== host r2 =====\n", text);
        Assert.Contains("SIM_LINK_DOWN", text); // the cut at 3 ms, in the wire table
        Assert.Equal(counters.Report!.Apps.Select(a => (a.Kind, a.Workload, a.Status.GetType(), a.Status.ToString())),
            back.Report!.Apps.Select(a => (a.Kind, a.Workload, a.Status.GetType(), a.Status.ToString())));
        Assert.Equal(5, back.Report.Apps.Length);
        // One page holds the whole of this small partition; asking past it is refused (the partition has ended).
        Assert.False(counters.More);
        Assert.IsType<NodeRefused>(host.Handle(new CollectCounters { Page = 1 }));
    }

    [Fact]
    public void CounterPages_SplitEveryList_CrossTheSerializer_AndJoinToTheSameReport()
    {
        using var system = ActorSystem.Create("ser", StackConfig.AkkaConfig());
        var ser = new ClusterSerializer((ExtendedActorSystem)system);
        string config = ClusterKit.Routed(scenarioExtra: ClusterKit.CutR1R2);
        var s = StackConfig.Load(config);
        var plan = ClusterPlan.Make(s, ["n1"]);
        using var host = new PartitionHost("n1");
        var ready = Assert.IsType<PartitionReady>(host.Handle(new PlacePartition("n1", config, [.. plan.Placement])));
        ImmutableArray<CrossFrame> inbound = [];
        for (long w = 0, at = ready.ReadyNs; at < ready.ReadyNs + 20_000_000; w++, at += plan.LookaheadNs)
            inbound = Assert.IsType<WindowDone>(host.Handle(new RunWindow(w, ready.ReadyNs, at + plan.LookaheadNs, inbound))).Outbound;
        var all = Assert.IsType<PartitionCounters>(host.Handle(CollectCounters.Instance));
        var r = all.Report!;
        int longest = new[] { all.Hosts.Length, r.Hosts.Length, r.Switches.Length, r.Wires.Length, r.Apps.Length, r.Captures.Length }.Max();
        Assert.True(longest > 4, $"the scenario's longest list has {longest} elements");

        // Pages of 2: each crosses the serializer; More on every page but the last; the lists come back whole and in order.
        var pages = new List<PartitionCounters>();
        for (int k = 0; pages.Count == 0 || pages[^1].More; k++)
        {
            var page = CounterPages.Page(all, k, size: 2);
            Assert.True(page.Hosts.Length <= 2 && page.Report!.Hosts.Length <= 2 && page.Report.Wires.Length <= 2 && page.Report.Apps.Length <= 2);
            Assert.Equal(k == 0 ? all.CrossDrops.Length : 0, page.CrossDrops.Length);
            pages.Add(Assert.IsType<PartitionCounters>(ser.FromBinary(ser.ToBinary(page), "PC")));
        }
        Assert.Equal((longest + 1) / 2, pages.Count);
        var joined = CounterPages.Join(pages);
        Assert.Equal(all.Hosts.ToList(), joined.Hosts.ToList());
        Assert.Equal(all.Files.ToList(), joined.Files.ToList());
        Assert.Equal(r.Hosts.Select(h => h.Host), joined.Report!.Hosts.Select(h => h.Host));
        Assert.Equal(RunReport.Text(s, ClusterReport.Merge(s, [r]), full: true), RunReport.Text(s, ClusterReport.Merge(s, [joined.Report]), full: true));

        // The page number crosses too; a negative one is malformed.
        var ask = new CollectCounters { Page = 3 };
        Assert.Equal(3, Assert.IsType<CollectCounters>(ser.FromBinary(ser.ToBinary(ask), "CC")).Page);
        Assert.Throws<SerializationException>(() => ser.FromBinary(ser.ToBinary(new CollectCounters { Page = -1 }), "CC"));
    }
}
