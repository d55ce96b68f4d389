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

    /// <summary>The report's text from its first table to the line before the clock's (the only line with wall time).</summary>
    private static string ReportPart(string output)
    {
        int from = output.IndexOf("\n===== ", StringComparison.Ordinal);
        int to = output.IndexOf("\nclock: ", StringComparison.Ordinal) is >= 0 and var c ? c : output.IndexOf("\ncluster: ", StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, output);
        return output[from..to].TrimEnd('\n');
    }

    private static string Section(string output, string from, string to)
    {
        int a = output.IndexOf(from, StringComparison.Ordinal), b = output.IndexOf(to, a + 1, StringComparison.Ordinal);
        Assert.True(a >= 0 && b > a, output);
        return output[a..b];
    }

    [Fact]
    public async Task RunPartitions_OnTheRealClock_Refused()
    {
        // The partitions of one process share the virtual clock's windows; the real clock runs over nodes (RealClockClusterTests).
        var r = await Cli(ClusterKit.Routed(ClusterKit.TwoNodes), "run", "--partitions", "2", "--clock", "real", "--duration", "1s");

        Assert.Equal(2, r.Rc);
        Assert.Equal("actorstack: --partitions runs the virtual clock's windows on threads of this process; on the real clock run over nodes (--nodes N and 'actorstack node')\n",
            r.Err);
    }

    [Fact]
    public async Task RunPartitions_RoutedExample_PrintsTheSingleNodeReport()
    {
        // examples/routed.hocon: its wires have no delay, so nothing is split and n2 is left empty (the placement says so).
        string example = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "examples", "routed.hocon"));
        var one = await Cli(example, "run", "--duration", "2s", "--set", "scenario.capture.enabled=off");
        var two = await Cli(example, "run", "--partitions", "2", "--duration", "2s", "--set", "scenario.capture.enabled=off");

        Assert.Equal(0, one.Rc);
        Assert.Equal(0, two.Rc);
        Assert.Equal(ReportPart(one.Out), ReportPart(two.Out));
        Assert.Contains("\n===== host r2 =====\n--- ip -s -s link\n", two.Out);
        Assert.Contains("\n===== switch sw1 =====\n", two.Out);
        Assert.Contains("ping h1 -> 10.0.3.10: 3 transmitted, 3 received, 0 errors", two.Out);
        Assert.Contains("\ncluster: 1 windows, 0 frames crossed nodes,", two.Out);
    }

    [Theory]
    [InlineData("full")]
    [InlineData("summary")]
    public async Task RunPartitions_SplitWires_SameReportOnOneAndTwo(string report)
    {
        var one = await Cli(ClusterKit.Routed(), "run", "--partitions", "1", "--duration", "1s", "--report", report);
        var two = await Cli(ClusterKit.Routed(ClusterKit.TwoNodes), "run", "--partitions", "2", "--duration", "1s", "--report", report);

        Assert.Equal(0, one.Rc);
        Assert.Equal(0, two.Rc);
        Assert.Contains("placement over 2 node(s), 1 wire(s) cut", two.Out);
        Assert.Equal(ReportPart(one.Out), ReportPart(two.Out));
        Assert.Contains("ping h1 -> 10.0.3.10: 5 transmitted, 5 received, 0 errors", two.Out);
        if (report == "summary") Assert.Contains("\n===== 5 hosts (summary; --report full prints each host) =====\n", two.Out);
        else Assert.Contains("\n===== host h2 =====\n", two.Out);
    }

    [Fact]
    public async Task CutDuringTraffic_SplitWireDropsWhatTheWholeWireDrops()
    {
        // The cable r1–r2 cut during the TCP transfer: the frames on it then are lost (SIM_LINK_DOWN), on the whole wire
        // (a single-node run) and on the split one (two partitions: those already crossing are dropped where they arrive).
        string config = ClusterKit.Routed(ClusterKit.TwoNodes, scenarioExtra: ClusterKit.CutR1R2);
        var whole = await Cli(config, "run", "--duration", "2s");
        var split = await Cli(config, "run", "--partitions", "2", "--duration", "2s");

        Assert.Equal(0, whole.Rc);
        Assert.Equal(0, split.Rc);
        var wires = Section(split.Out, "\n===== wires =====", "\n===== applications");
        Assert.Equal(Section(whole.Out, "\n===== wires =====", "\n===== applications"), wires);
        Assert.Contains("\nr1/eth1 <-> r2/eth0: 292 frames a->b, 141 b->a, 25 dropped\n" +
                        "  a->b: offered 317 delivered 292 in flight 0 duplicated 0 corrupted 0 reordered 0 ecn 0 SIM_LINK_DOWN 25\n", wires);
    }

    [Fact]
    public async Task Topology_Nodes_PrintsThePlacement()
    {
        var r = await Cli(ClusterKit.Routed(ClusterKit.ThreeNodes), "topology", "--nodes", "3");

        Assert.Equal(0, r.Rc);
        Assert.Contains("placement over 3 node(s), 2 wire(s) cut, window 47 us:", r.Out);
        // Expected load: r2 and h2 each carry the ping (20 pkt/s), the UDP echo (120) and the TCP transfer at line rate.
        Assert.Contains("  n3: 2 host(s), 0 switch(es), expected load 2438513 pkt/s: h2 r2", r.Out);
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
