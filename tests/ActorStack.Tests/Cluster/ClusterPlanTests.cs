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
    public void Auto_TwoNodes_BalancesHostsAndCutsOneWire()
    {
        var s = StackConfig.Load(ClusterKit.Routed());
        var plan = ClusterPlan.Make(s, ["n1", "n2"], PlacementMode.Auto);

        Assert.Equal([("n1", 3, 1), ("n2", 2, 0)], plan.Counts(s));
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
    }
}
