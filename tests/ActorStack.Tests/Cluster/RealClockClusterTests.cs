using Akka.Actor;
using ActorStack.Actors.Cluster;
using ActorStack.Cli;
using ActorStack.Config;
using ActorStack.Messages;
using Xunit;

namespace ActorStack.Tests.Cluster;

/// <summary>
/// A distributed run on the real clock (<c>run --clock real --nodes 3</c>): three Akka.Cluster members in this process over
/// loopback remoting, one host each: a (n1) ─ b (n2) ─ c (n3). a pings b and asks b's UDP echo server every 100 ms over the
/// split wire a–b; c pings b over b–c. n3 is stopped 1 s into the run (it leaves the cluster: removed within a few seconds): b's end of b–c goes carrier-down, the frames b
/// sent c that c never acknowledged (and any later one) count as SIM_NODE_LOST, and a and b go on to the run's end.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RealClockClusterTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<ActorSystem> _systems = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Task.WhenAll(_systems.Select(s => s.Terminate())).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>a (n1) ─ b (n2) ─ c (n3), 1 ms wires: a pings b and asks its UDP echo server, c pings b, every 100 ms.</summary>
    internal const string Scenario = """
        actorstack {
          seed = 3
          cluster { min-nodes = 3, join-timeout = 30s }
          scenario {
            hosts {
              a {
                devices { eth0 { addresses = ["10.0.1.1/24"] } }
                node = "n1"
              }
              b {
                devices {
                  eth0 { addresses = ["10.0.1.2/24"] }
                  eth1 { addresses = ["10.0.2.1/24"] }
                }
                node = "n2"
              }
              c {
                devices { eth0 { addresses = ["10.0.2.2/24"] } }
                node = "n3"
              }
            }
            wires = [
              { a = "a/eth0", b = "b/eth0", delay = 1ms }
              { a = "b/eth1", b = "c/eth0", delay = 1ms }
            ]
            workloads = [
              { type = ping, host = a, dst = "10.0.1.2", count = 1000, interval = 100ms, deadline = 200s }
              { type = udp-echo-server, host = b, bind = "0.0.0.0:7" }
              { type = udp-echo-client, host = a, server = "10.0.1.2:7", count = 1000, size = 200, interval = 100ms, timeout = 1s }
              { type = ping, host = c, dst = "10.0.2.1", count = 1000, interval = 100ms, deadline = 200s }
            ]
          }
        }
        """;

    private async Task<ActorSystem> Member(ActorSystem? seed)
    {
        var sys = ClusterNode.Start("127.0.0.1", 0, seed is null ? [] : [ClusterNode.AddressOf(seed)]);
        _systems.Add(sys);
        if (seed is null)
        {
            var c = Akka.Cluster.Cluster.Get(sys);
            await c.JoinAsync(c.SelfAddress).WaitAsync(TimeSpan.FromSeconds(20));
        }
        return sys;
    }

    [Fact]
    public async Task NodeLost_MidRun_CarrierDownAtSurvivor_FramesCounted_SurvivorsGoOnToTheEnd()
    {
        var coord = await Member(null);
        var w2 = await Member(coord);
        var w3 = await Member(coord);
        w2.ActorOf(NodeAgentActor.Props("n2", null, new TaskCompletionSource<string>()), "node-agent");
        w3.ActorOf(NodeAgentActor.Props("n3", null, new TaskCompletionSource<string>()), "node-agent");
        var s = StackConfig.Load(Scenario);
        // Long enough after the loss for the survivors' pings to show they went on: n3's graceful leave is seen 3-5 s
        // after the kill, and under a loaded suite the real clock's pings run late (69 of 80 sent in 8 s, once in CI).
        var duration = TimeSpan.FromSeconds(12);
        var kill = TimeSpan.FromMilliseconds(1000);
        TimeSpan? started = null;

        var r = await ClusterRun.RunReal(coord, s, Scenario, duration, onStarted: () =>
        {
            started = coord.Scheduler.MonotonicClock;
            coord.Scheduler.Advanced.ScheduleOnce(kill, () => _ = w3.Terminate());
        }).WaitAsync(TimeSpan.FromSeconds(90));
        var ended = coord.Scheduler.MonotonicClock;
        var text = new StringWriter();
        ClusterCli.Print(s, r, text);
        output.WriteLine(text.ToString());

        Assert.Null(r.Error);
        Assert.True(r.RealClock);
        // The run went on to its end: the whole duration passed after the workloads started.
        Assert.True(ended - started!.Value >= duration, $"{ended - started.Value}");
        var loss = Assert.Single(r.Lost);
        Assert.Equal("n3", loss.Node);
        // Lost after it was stopped, and well before the end (graceful leave: removed within seconds).
        Assert.InRange(loss.At, kill, duration);
        Assert.Contains($"node n3 was lost {loss.At.TotalSeconds:0.000}s after the workloads started", text.ToString());
        Assert.Contains("cluster: real clock, 12s of workloads", text.ToString());

        // The survivors' hosts and applications only.
        Assert.Equal(["a", "app ping-0-a", "app udp-echo-client-2-a", "app udp-echo-server-1-b", "b"], r.HostCounters.Keys);
        var b = r.HostCounters["b"].Split('\n');
        Assert.Contains("CarrierDownCount = 1 }", b.Single(l => l.StartsWith("dev eth1 ", StringComparison.Ordinal)));
        Assert.Contains("CarrierDownCount = 0 }", b.Single(l => l.StartsWith("dev eth0 ", StringComparison.Ordinal)));

        // SIM_NODE_LOST: b's frames to c that c never acknowledged, and b's later ones (its carrier is down: none are
        // offered after the cut). b sends c only its answers to c's pings, one per 100 ms, each acknowledged within about a
        // millisecond: at most the last one or two were on their way when c stopped.
        var bc = r.Report!.Wires[1]!.AToBDetail!;
        long nodeLost = r.CrossDrops.GetValueOrDefault(nameof(DropReason.SIM_NODE_LOST));
        Assert.InRange(nodeLost, 0, Math.Min(2, bc.Offered));
        Assert.True(bc.Offered >= 10, $"b answered c's pings before the loss: {bc.Offered}");

        // a and b went on: more replies than the pings sent before the loss (one per 100 ms) — at least 10 after it.
        var ping = Assert.IsType<PingStatus>(r.Report.Apps.Single(x => x is PingStatus));
        int beforeLoss = (int)(loss.At.TotalMilliseconds / 100) + 1;
        Assert.True(ping.Received >= beforeLoss + 10, $"{ping} (loss at {loss.At}, {beforeLoss} pings before it)");
        var echo = Assert.IsType<UdpEchoClientStatus>(r.Report.Apps.Single(x => x is UdpEchoClientStatus));
        Assert.True(echo.Answered >= beforeLoss + 10, $"{echo}");
        // The split wire a–b carried both ways: what a sent reached b (all but those still crossing at the end).
        var ab = r.Report.Wires[0]!.AToBDetail!;
        Assert.InRange(ab.Delivered, ab.Offered - 5, ab.Offered);
    }
}
