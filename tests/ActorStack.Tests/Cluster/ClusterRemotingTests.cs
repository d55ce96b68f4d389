using Akka.Actor;
using ActorStack.Actors.Cluster;
using ActorStack.Cli;
using ActorStack.Config;
using ActorStack.Messages;
using Xunit;

namespace ActorStack.Tests.Cluster;

/// <summary>
/// Three Akka.Cluster members in this process joined over loopback remoting (port 0: no fixed ports): the coordinator n1
/// and two workers with their node agents. The window protocol crosses Akka.Remote with the binary ClusterSerializer.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterRemotingTests : IAsyncLifetime
{
    private readonly List<ActorSystem> _systems = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_systems.Select(s => s.Terminate())).WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task<ActorSystem> Coordinator()
    {
        var sys = ClusterNode.Start("127.0.0.1", 0, []);
        _systems.Add(sys);
        var c = Akka.Cluster.Cluster.Get(sys);
        await c.JoinAsync(c.SelfAddress).WaitAsync(TimeSpan.FromSeconds(20));
        return sys;
    }

    private ActorSystem Worker(ActorSystem coordinator, string name, out TaskCompletionSource<string> refused, string? scenarioHash = null)
    {
        var sys = ClusterNode.Start("127.0.0.1", 0, [ClusterNode.AddressOf(coordinator)]);
        _systems.Add(sys);
        refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        sys.ActorOf(NodeAgentActor.Props(name, scenarioHash, refused), "node-agent");
        return sys;
    }

    private static string WithCluster(string config, int minNodes, string joinTimeout = "20s")
        => config + $"\nactorstack.cluster {{ min-nodes = {minNodes}, join-timeout = {joinTimeout} }}\n";

    [Fact]
    public async Task Routed_OverThreeMembers_SameCountersAsOneNode()
    {
        var reference = await ClusterKit.RunInProcess(ClusterKit.Routed(), ["n1"], TimeSpan.FromSeconds(2));
        var coord = await Coordinator();
        Worker(coord, "n2", out _);
        Worker(coord, "n3", out _);
        string config = WithCluster(ClusterKit.Routed(ClusterKit.ThreeNodes), 3);
        var s = StackConfig.Load(config);

        var r = await ClusterRun.Run(coord, s, config, TimeSpan.FromSeconds(2)).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Null(r.Error);
        Assert.True(r.FramesCrossed > 0);
        Assert.Equal(reference.HostCounters.Keys, r.HostCounters.Keys);
        foreach (var (host, text) in reference.HostCounters) Assert.Equal(text, r.HostCounters[host]);
        Assert.Empty(r.CrossDrops);
        // The report's data crossed remoting (ClusterSerializer, the report nested): the same report text as on one node.
        Assert.Equal(RunReport.Text(s, reference.Report!, full: true), RunReport.Text(s, r.Report!, full: true));
    }

    [Fact]
    public async Task NodeLost_MidRun_CarrierDownAtSurvivorAndCleanStop()
    {
        var coord = await Coordinator();
        var worker = Worker(coord, "n2", out _);
        // A long run: ping every 10 ms for 60 s simulated; the worker leaves after 30 windows.
        string config = WithCluster(ClusterKit.Routed(ClusterKit.TwoNodes).Replace("count = 5, interval = 100ms, deadline = 5s", "count = 6000, interval = 10ms, deadline = 70s"), 2);
        var s = StackConfig.Load(config);
        var members = new ClusterMembers();
        coord.ActorOf(Props.Create(() => new MemberWatcher(ClusterRun.CoordinatorNode, ClusterPlan.ScenarioHash(config), members)));
        var (plan, links) = await ClusterRun.Join(coord, s, config, members);
        var run = new WindowCoordinator(s, plan, config) { OnWindow = w => { if (w == 30) _ = worker.Terminate(); } };

        var r = await run.Run(links, TimeSpan.FromSeconds(60)).WaitAsync(TimeSpan.FromSeconds(90));
        foreach (var l in links) (l as IDisposable)?.Dispose();

        Assert.NotNull(r.Error);
        Assert.Contains("node n2 was lost", r.Error);
        Assert.Contains("results so far", r.Error);
        Assert.True(r.Windows >= 30);
        // Only n1's hosts report; r1/eth1 (the end of the cut wire r1–r2) went carrier-down once, its other port did not.
        Assert.Equal(["app ping-0-h1", "app tcp-bulk-client-4-h1", "app udp-echo-client-2-h3", "h1", "h3", "r1"], r.HostCounters.Keys);
        var r1 = r.HostCounters["r1"].Split('\n');
        Assert.Contains("CarrierDownCount = 1 }", r1.Single(l => l.StartsWith("dev eth1 ", StringComparison.Ordinal)));
        Assert.Contains("CarrierDownCount = 0 }", r1.Single(l => l.StartsWith("dev eth0 ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ZeroDelayCrossWire_RefusedBeforeTheRunNamingIt()
    {
        var coord = await Coordinator();
        Worker(coord, "n2", out _);
        string config = WithCluster(ClusterKit.Routed(ClusterKit.TwoNodes, r1r2Delay: "0ms"), 2);
        var s = StackConfig.Load(config);

        var e = await Assert.ThrowsAsync<ClusterPlanException>(() => ClusterRun.Run(coord, s, config, TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Contains("wire r1/eth1-r2/eth0 (n1 <-> n2) has delay 0ms", e.Message);
    }

    [Fact]
    public async Task NodeWithAnotherScenario_RefusedOnBothSides()
    {
        var coord = await Coordinator();
        Worker(coord, "n2", out var refused, scenarioHash: ClusterPlan.ScenarioHash("another scenario"));
        string config = WithCluster(ClusterKit.Routed(ClusterKit.TwoNodes), 2);
        var s = StackConfig.Load(config);

        var e = await Assert.ThrowsAsync<ClusterPlanException>(() => ClusterRun.Run(coord, s, config, TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(60)));
        var workerSide = await refused.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Contains("node n2 refused coordinator n1: another scenario", e.Message);
        Assert.Contains("another scenario", workerSide);
    }

    [Fact]
    public async Task CoordinatorOfAnotherBuild_RefusedByTheNode()
    {
        var coord = await Coordinator();
        var worker = Worker(coord, "n2", out var refused);
        var agent = await worker.ActorSelection("/user/node-agent").ResolveOne(TimeSpan.FromSeconds(10));

        var answer = await agent.Ask<object>(new NodeHello("n1", "0000000000000000", ""), TimeSpan.FromSeconds(10));

        var r = Assert.IsType<NodeRefused>(answer);
        Assert.Contains($"node n2 refused coordinator n1: another build (coordinator 0000000000000000, node n2 {ClusterPlan.BuildHash()})", r.Reason);
        Assert.Equal(r.Reason, await refused.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task NodeThatNeverJoins_FailsAfterJoinTimeoutNamingIt()
    {
        var coord = await Coordinator();
        Worker(coord, "n2", out _);
        string config = WithCluster(ClusterKit.Routed(ClusterKit.ThreeNodes), 2, joinTimeout: "3s");
        var s = StackConfig.Load(config);

        var e = await Assert.ThrowsAsync<ClusterPlanException>(() => ClusterRun.Run(coord, s, config, TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal("node n3 (placing r2, h2) did not join within 3s (members: n1, n2)", e.Message);
    }

    [Fact]
    public async Task NodeThatNeverJoins_ManyHosts_NamesTenAndCountsTheRest()
    {
        var coord = await Coordinator();
        // 12 hosts placed on n2, which never starts: the message names the first 10 (a big scenario places tens of thousands).
        var hosts = string.Concat(Enumerable.Range(0, 12).Select(j => $"h{j} {{ cpus = 1, node = n2 }}\n"));
        string config = $"actorstack {{\n scenario {{ hosts {{\n h {{ cpus = 1 }}\n{hosts} }} }}\n cluster {{ min-nodes = 1, join-timeout = 2s }}\n}}\n";
        var s = StackConfig.Load(config);

        var e = await Assert.ThrowsAsync<ClusterPlanException>(() => ClusterRun.Run(coord, s, config, TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal("node n2 (placing h0, h1, h2, h3, h4, h5, h6, h7, h8, h9 and 2 more) did not join within 2s (members: n1)", e.Message);
    }
}
