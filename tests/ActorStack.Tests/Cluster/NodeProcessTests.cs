using System.Diagnostics;
using Akka.Actor;
using ActorStack.Actors.Cluster;
using ActorStack.Cli;
using ActorStack.Config;
using Xunit;

namespace ActorStack.Tests.Cluster;

/// <summary>
/// Real <c>actorstack node</c> child processes (the built CLI next to the tests, started with <c>dotnet</c>) joined to a
/// coordinator in this process: the routed scenario over three nodes gives the same counters and the same pcap bytes as
/// on one node. The children listen on port 0 and are killed (whole tree) whatever happens.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeProcessTests : IDisposable
{
    private readonly List<Process> _children = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("actorstack-cluster-").FullName;

    public void Dispose()
    {
        foreach (var p in _children)
        {
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); p.WaitForExit(10_000); }
            catch (InvalidOperationException) { } // never started
            p.Dispose();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private Process StartNode(string name, string seed, string? configFile = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "actorstack.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "node", "--listen", "127.0.0.1:0", "--seed-node", seed, "--name", name }) psi.ArgumentList.Add(a);
        if (configFile is not null) { psi.ArgumentList.Add("--config"); psi.ArgumentList.Add(configFile); }
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        _children.Add(p);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    [Fact]
    public async Task Routed_OverTwoNodeProcesses_SameCountersAndPcapAsOneNode()
    {
        string refPcap = Path.Combine(_dir, "one.pcap"), distPcap = Path.Combine(_dir, "three.pcap");
        var reference = await ClusterKit.RunInProcess(ClusterKit.Routed(capture: refPcap), ["n1"], TimeSpan.FromSeconds(2));

        var coord = ClusterNode.Start("127.0.0.1", 0, []);
        try
        {
            var c = Akka.Cluster.Cluster.Get(coord);
            await c.JoinAsync(c.SelfAddress).WaitAsync(TimeSpan.FromSeconds(20));
            string config = ClusterKit.Routed(ClusterKit.ThreeNodes, capture: distPcap) + "\nactorstack.cluster { min-nodes = 3, join-timeout = 60s }\n";
            // n2 is started as the README shows, with the scenario file: it checks the coordinator's scenario hash, which
            // is that of the effective text `run` hands the coordinator (StackConfig.EffectiveText).
            string file = Path.Combine(_dir, "scenario.hocon");
            await File.WriteAllTextAsync(file, config);
            StartNode("n2", ClusterNode.AddressOf(coord), file);
            StartNode("n3", ClusterNode.AddressOf(coord));

            var r = await ClusterRun.Run(coord, StackConfig.Load(config), StackConfig.EffectiveText(config, file), TimeSpan.FromSeconds(2)).WaitAsync(TimeSpan.FromSeconds(120));

            Assert.Null(r.Error);
            Assert.True(r.FramesCrossed > 0);
            Assert.Equal(reference.HostCounters.Keys, r.HostCounters.Keys);
            foreach (var (host, text) in reference.HostCounters) Assert.Equal(text, r.HostCounters[host]);
            var s = StackConfig.Load(config);
            Assert.Equal(RunReport.Text(s, reference.Report!, full: true).Replace(refPcap, distPcap), RunReport.Text(s, r.Report!, full: true));
            Assert.Equal(distPcap, Assert.Single(r.Files)); // written by node n3's process (r2 is there)
            var one = await File.ReadAllBytesAsync(refPcap);
            Assert.True(one.Length > 24 + 100 * 16);
            Assert.Equal(one, await File.ReadAllBytesAsync(distPcap));
        }
        finally
        {
            await coord.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
        }
    }
    [Fact]
    public async Task RealClock_NodeProcessKilled_UnreachableThenCutOff_SurvivorsGoOn()
    {
        // run --clock real over three nodes, n2 and n3 real `actorstack node` processes; n3's process is killed 1 s into
        // the run (no leave: the coordinator's failure detector finds it unreachable after its 2 s heartbeat pause).
        var coord = ClusterNode.Start("127.0.0.1", 0, [], heartbeatPause: TimeSpan.FromSeconds(2));
        try
        {
            var c = Akka.Cluster.Cluster.Get(coord);
            await c.JoinAsync(c.SelfAddress).WaitAsync(TimeSpan.FromSeconds(20));
            StartNode("n2", ClusterNode.AddressOf(coord));
            var n3 = StartNode("n3", ClusterNode.AddressOf(coord));
            string config = RealClockClusterTests.Scenario.Replace("join-timeout = 30s", "join-timeout = 60s");
            var s = StackConfig.Load(config);
            var duration = TimeSpan.FromSeconds(10);
            TimeSpan? started = null;

            var r = await ClusterRun.RunReal(coord, s, config, duration, onStarted: () =>
            {
                started = coord.Scheduler.MonotonicClock;
                coord.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromSeconds(1), () => n3.Kill(entireProcessTree: true));
            }).WaitAsync(TimeSpan.FromSeconds(120));
            var ended = coord.Scheduler.MonotonicClock;

            Assert.Null(r.Error);
            Assert.True(ended - started!.Value >= duration);
            var loss = Assert.Single(r.Lost);
            Assert.Equal(("n3", "unreachable"), (loss.Node, loss.Detail));
            Assert.InRange(loss.At, TimeSpan.FromSeconds(1), duration);
            Assert.Equal(["a", "app ping-0-a", "app udp-echo-client-2-a", "app udp-echo-server-1-b", "b"], r.HostCounters.Keys);
            var b = r.HostCounters["b"].Split('\n');
            Assert.Contains("CarrierDownCount = 1 }", b.Single(l => l.StartsWith("dev eth1 ", StringComparison.Ordinal)));
            Assert.Contains("CarrierDownCount = 0 }", b.Single(l => l.StartsWith("dev eth0 ", StringComparison.Ordinal)));
            // b's answers to c's pings while c was dead but not yet found unreachable were never acknowledged: c pinged
            // b once per 100 ms until it was killed, so nothing after that; at most the last one or two answers were lost.
            long nodeLost = r.CrossDrops.GetValueOrDefault(nameof(Messages.DropReason.SIM_NODE_LOST));
            Assert.InRange(nodeLost, 0, 2);
            // a and b went on after the loss: at least 10 more echo replies than pings sent before it.
            var ping = Assert.IsType<Messages.PingStatus>(r.Report!.Apps.Single(x => x is Messages.PingStatus));
            Assert.True(ping.Received >= (long)(loss.At.TotalMilliseconds / 100) + 11, $"{ping} (loss at {loss.At})");
        }
        finally
        {
            await coord.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
        }
    }
}
