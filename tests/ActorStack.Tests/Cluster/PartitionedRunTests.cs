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
        Assert.Equal(0, one.FramesCrossed);
        Assert.True(two.FramesCrossed > 0);
        Assert.True(three.FramesCrossed > two.FramesCrossed);
        Assert.Equal(one.HostCounters.Keys, two.HostCounters.Keys);
        foreach (var (host, text) in one.HostCounters)
        {
            Assert.Equal(text, two.HostCounters[host]);
            Assert.Equal(text, three.HostCounters[host]);
        }
        Assert.Contains("ChecksumsMatch = True", string.Join("\n", one.HostCounters.Values));
    }
}
