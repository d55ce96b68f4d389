using System.Collections.Immutable;
using System.Runtime.Serialization;
using Akka.Actor;
using ActorStack.Actors.Cluster;
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

        var bytes = ser.ToBinary(done);
        Assert.Throws<SerializationException>(() => ser.FromBinary(bytes[..^3], "WD"));      // truncated
        Assert.Throws<SerializationException>(() => ser.FromBinary([.. bytes, 0], "WD"));     // trailing byte
        Assert.Throws<SerializationException>(() => ser.FromBinary(bytes, "XX"));             // unknown manifest
    }
}
