using System.Collections.Immutable;
using ActorStack.Actors.Cluster;
using ActorStack.Cli;
using ActorStack.Config;
using ActorStack.Messages;
using Xunit;

namespace ActorStack.Tests.Cluster;

/// <summary>
/// The conservative synchronisation in one process: the routed scenario (ping, UDP echo with fragments, a TCP transfer
/// with SHA-256) split over 1, 2 and 3 partitions gives the same counters on every host, and the same workload results.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PartitionedRunTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task APartitionLeftEmpty_RunsAndChangesNothing()
    {
        // Every host pinned to n1: n2 has no host, no switch and no wire, and the run is the one-partition run.
        var one = await ClusterKit.RunInProcess(ClusterKit.Routed(), ["n1"], Duration);
        var idle = await ClusterKit.RunInProcess(ClusterKit.Routed(), ["n1", "n2"], Duration);
        Assert.Null(idle.Error);
        Assert.Equal(0, idle.FramesCrossed);
        Assert.Equal(one.Events, idle.Events);
        Assert.Equal(one.HostCounters, idle.HostCounters);
    }

    [Fact]
    public async Task Routed_OneTwoThreePartitions_IdenticalCounters()
    {
        var one = await ClusterKit.RunInProcess(ClusterKit.Routed(), ["n1"], Duration);
        var two = await ClusterKit.RunInProcess(ClusterKit.Routed(ClusterKit.TwoNodes), ["n1", "n2"], Duration);
        var three = await ClusterKit.RunInProcess(ClusterKit.Routed(ClusterKit.ThreeNodes), ["n1", "n2", "n3"], Duration);
        foreach (var (k, v) in one.HostCounters.Where(kv => kv.Key.StartsWith("app ", StringComparison.Ordinal))) output.WriteLine($"{k}: {v}");
        output.WriteLine($"windows {two.Windows}/{three.Windows} crossed {two.FramesCrossed}/{three.FramesCrossed} events {one.Events}/{two.Events}/{three.Events}");
        Assert.Null(one.Error);
        Assert.Null(two.Error);
        Assert.Null(three.Error);
        // Seeded virtual runs: exact figures. The same events run on every node count, only their partition differs.
        Assert.Equal(0, one.FramesCrossed);
        // (With rx-usecs 3 on every NIC: before RX interrupt moderation 465, 926, 17,611 events and 180 windows.)
        Assert.Equal(442, two.FramesCrossed);   // r1–r2
        Assert.Equal(878, three.FramesCrossed); // sw1–r1 and r1–r2
        // 13,579 before the neighbour actor answered each NeighOutput (NeighOutputDone, neigh_resolve_output's order):
        // the same 188 NeighOutputs at the routers and 99 at the hosts, each now answered to its sender, 283 more events
        // in the windows. Nothing else moved: the counters below are those of 13,579.
        Assert.Equal(13862, one.Events);
        Assert.Equal(one.Events, two.Events);
        Assert.Equal(one.Events, three.Events);
        Assert.Equal(178, one.Windows);
        Assert.Equal(one.HostCounters.Keys, two.HostCounters.Keys);
        foreach (var (host, text) in one.HostCounters)
        {
            Assert.Equal(text, two.HostCounters[host]);
            Assert.Equal(text, three.HostCounters[host]);
        }
        // The windows are the same on every node count (every wire with lookahead is split, placement or not).
        Assert.Equal(one.Windows, two.Windows);
        Assert.Equal(one.Windows, three.Windows);
        Assert.Equal("PingStatus(h1 -> 10.0.3.10: 5 sent, 5 received, 0 errors, done=True)", one.HostCounters["app ping-0-h1"]);
        Assert.Equal("UdpEchoClientStatus(h3 -> 10.0.3.10:7: 10 sent, 10 answered, 0 lost, done=True)", one.HostCounters["app udp-echo-client-2-h3"]);
        Assert.Contains("BytesSent = 307200, BytesReceived = 307200, Retransmits = 18, ChecksumsMatch = True, Errors = 0, Done = True", one.HostCounters["app tcp-bulk-client-4-h1"]);
    }

    [Fact]
    public async Task CutDuringTraffic_OneAndTwoPartitions_IdenticalCountersAndDropTables()
    {
        // r1–r2 cut at 3 ms during the TCP transfer, mended at 60 ms: on two partitions the cut wire is the one between them.
        string config = ClusterKit.Routed(ClusterKit.TwoNodes, scenarioExtra: ClusterKit.CutR1R2);
        var one = await ClusterKit.RunInProcess(ClusterKit.Routed(scenarioExtra: ClusterKit.CutR1R2), ["n1"], Duration);
        var two = await ClusterKit.RunInProcess(config, ["n1", "n2"], Duration);

        Assert.Null(one.Error);
        Assert.Null(two.Error);
        Assert.Equal(one.HostCounters.Keys, two.HostCounters.Keys);
        foreach (var (host, text) in one.HostCounters) Assert.Equal(text, two.HostCounters[host]);
        var s = StackConfig.Load(config);
        Assert.Equal(RunReport.Text(s, one.Report!, full: true), RunReport.Text(s, two.Report!, full: true));
        // The drop tables: 25 frames lost on r1->r2 to the cut (those in flight at 3 ms and those offered while it was
        // cut), exactly what the whole wire loses in a single-node run (ClusterCliTests); none in flight at the end.
        var ab = two.Report!.Wires[3]!.AToBDetail!;
        Assert.Equal((317L, 292L, 0L, 25L, 25L), (ab.Offered, ab.Delivered, ab.InFlight, ab.DroppedBy(DropReason.SIM_LINK_DOWN), ab.Dropped));
        Assert.Contains("BytesReceived = 307200, Retransmits = 38, ChecksumsMatch = True", two.HostCounters["app tcp-bulk-client-4-h1"]);
    }

    [Fact]
    public void SplitDirection_ArrivalsAndCutLossesReplaceTheSendersDelivered()
    {
        var sent = new WireDirectionStats(13, 10, 1, 0, 0, 0, 0, ImmutableSortedDictionary<DropReason, long>.Empty.Add(DropReason.SIM_LINK_DOWN, 2));
        WireReport[] parts = [new(3, null, WireDirection.AToB, sent, 0, 0), new(3, null, WireDirection.AToB, null, 6, 3),
            new(3, null, WireDirection.BToA, null, 4, 0)];

        var ab = ClusterReport.Direction(parts, WireDirection.AToB);
        var ba = ClusterReport.Direction(parts, WireDirection.BToA);

        // 10 handed to the crossing: 6 arrived, 3 caught by the cut (2 + 3 = 5 SIM_LINK_DOWN), 1 still crossing (+1 in flight).
        Assert.Equal((13L, 6L, 2L, 5L), (ab.Offered, ab.Delivered, ab.InFlight, ab.DroppedBy(DropReason.SIM_LINK_DOWN)));
        Assert.Equal(13 + ab.Duplicated, ab.Delivered + ab.Dropped + ab.InFlight); // conservation, as the whole wire keeps it
        // The sending side lost with its node: only what arrived is known.
        Assert.Equal((0L, 4L, 0L), (ba.Offered, ba.Delivered, ba.InFlight));
    }
}
