using ActorStack.Actors.Cluster;
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
        Assert.Equal(13579, one.Events);
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
}
