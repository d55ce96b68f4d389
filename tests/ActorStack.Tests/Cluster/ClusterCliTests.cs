using ActorStack.Cli;
using Xunit;

namespace ActorStack.Tests.Cluster;

/// <summary>The CLI's side: <c>run --partitions N</c>, <c>topology --nodes N</c>, and a refused cut wire (exit 2).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterCliTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"actorstack-cluster-cli-{Guid.NewGuid():N}.hocon");

    public void Dispose() => File.Delete(_file);

    private async Task<(int Rc, string Out, string Err)> Cli(string config, params string[] args)
    {
        await File.WriteAllTextAsync(_file, config);
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = await Runner.Execute([args[0], "--config", _file, .. args[1..]], o, e);
        return (rc, o.ToString(), e.ToString());
    }

    [Fact]
    public async Task RunPartitions_TwoThreads_SameDigestsAsOne()
    {
        var one = await Cli(ClusterKit.Routed(), "run", "--partitions", "1", "--duration", "1s");
        var two = await Cli(ClusterKit.Routed(), "run", "--partitions", "2", "--duration", "1s");

        Assert.Equal(0, one.Rc);
        Assert.Equal(0, two.Rc);
        static string[] Results(string s) => [.. s.Split('\n').Where(l => l.StartsWith("h", StringComparison.Ordinal) || l.StartsWith("r", StringComparison.Ordinal) || l.StartsWith("ping", StringComparison.Ordinal))];
        Assert.Equal(6, Results(one.Out).Length); // 5 hosts' digests and the ping
        Assert.Equal(Results(one.Out), Results(two.Out));
        Assert.Contains("placement over 2 node(s), 1 wire(s) cut", two.Out);
        Assert.Contains("ping-0-h1: PingStatus(h1 -> 10.0.3.10: 5 sent, 5 received, 0 errors, done=True)", two.Out);
    }

    [Fact]
    public async Task Topology_Nodes_PrintsThePlacement()
    {
        var r = await Cli(ClusterKit.Routed(ClusterKit.ThreeNodes), "topology", "--nodes", "3");

        Assert.Equal(0, r.Rc);
        Assert.Contains("placement over 3 node(s), 2 wire(s) cut, window 47 us:", r.Out);
        Assert.Contains("  n3: 2 host(s), 0 switch(es): h2 r2", r.Out);
        Assert.Contains("  cut: wire 3 r1/eth1-r2/eth0 (n2 <-> n3, lookahead 197 us)", r.Out);
    }

    [Fact]
    public async Task Run_ZeroDelayCutWire_Exit2NamingIt()
    {
        var r = await Cli(ClusterKit.Routed(ClusterKit.TwoNodes, r1r2Delay: "0ms"), "run", "--partitions", "2");

        Assert.Equal(2, r.Rc);
        Assert.Contains("actorstack: wire r1/eth1-r2/eth0 (n1 <-> n2) has delay 0ms", r.Err);
    }
}
