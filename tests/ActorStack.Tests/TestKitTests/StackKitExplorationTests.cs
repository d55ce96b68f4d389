using System.Text;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Messages;
using ActorStack.Testing;

namespace ActorStack.Tests.TestKitTests;

/// <summary>
/// <see cref="StackKit.Explore"/>, <see cref="StackKit.Replay"/> and <see cref="StackKit.Exhaust"/>: a planted race in an
/// application actor on a scenario's host is found, its trace replays it, a trace of another scenario is refused, and a
/// body that never comes to rest is a liveness failure.
/// </summary>
public class StackKitExplorationTests : IDisposable
{
    private readonly string _traces = Path.Combine(Path.GetTempPath(), "stackkit-exploration-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_traces)) Directory.Delete(_traces, recursive: true);
    }

    // rx-usecs 0 (an interrupt per frame): the two datagrams reach the server in polls of their own, and the seeds and
    // counts below were taken with that schedule space.
    private static readonly Scenario TwoHosts = Scenario.Build().Seed(1)
        .Host("client", h => h.Device("eth0", "10.0.0.1/24", ("rx-usecs", 0)))
        .Host("server", h => h.Device("eth0", "10.0.0.2/24", ("rx-usecs", 0)))
        .Wire("client/eth0", "server/eth0", w => w.Delay(TimeSpan.FromMilliseconds(1)))
        .Build();

    /// <summary>
    /// Takes its greeting on a control socket and answers each request on its service socket "GREETING NAME"; the racy
    /// version reads both at once, so a request can be answered before the greeting is there.
    /// </summary>
    private sealed class Greeter : ReceiveActor
    {
        private readonly IActorRef _control, _service;
        private readonly bool _fixed;
        private string? _greeting;

        public Greeter(IActorRef control, IActorRef service, bool fixedVersion)
        {
            _control = control;
            _service = service;
            _fixed = fixedVersion;
            Receive<Received>(r => Sender.Equals(_control), r =>
            {
                _greeting = Encoding.ASCII.GetString(r.Datagrams[0].Payload.Span);
                if (_fixed) _service.Tell(new Recv(1));
            });
            Receive<Received>(r =>
            {
                foreach (var d in r.Datagrams)
                    _service.Tell(new SendTo(Encoding.ASCII.GetBytes($"{_greeting} {Encoding.ASCII.GetString(d.Payload.Span)}"), d.Source, d.SourcePort));
                _service.Tell(new Recv(1));
            });
            Receive<Sent>(_ => { });
        }

        protected override void PreStart()
        {
            _control.Tell(new Recv(1));
            if (!_fixed) _service.Tell(new Recv(1));
        }
    }

    private static void Body(StackKit net, bool fixedVersion)
    {
        var server = net.Host("server").Udp();
        Assert.Equal(Errno.OK, server.Bind("0.0.0.0", 7));
        var control = net.Host("server").Udp();
        Assert.Equal(Errno.OK, control.Bind("0.0.0.0", 8));
        var client = net.Host("client").Udp();
        Assert.Equal(Errno.OK, client.SendTo(Encoding.ASCII.GetBytes("hello"), "10.0.0.2", 8));
        Assert.Equal(Errno.OK, client.SendTo(Encoding.ASCII.GetBytes("alice"), "10.0.0.2", 7));
        net.RunFor(TimeSpan.FromMilliseconds(10));
        net.System.ActorOf(Props.Create(() => new Greeter(control.Ref, server.Ref, fixedVersion)), "greeter");
        var reply = client.Recv(limit: TimeSpan.FromSeconds(1));
        Assert.Equal(Errno.OK, reply.Error);
        Assert.Equal("hello alice", Encoding.ASCII.GetString(reply.Payload));
    }

    private ExploreOptions Options(int seed = 7) => new() { Seed = seed, TraceDirectory = _traces };

    [Fact]
    public void Default_schedule_passes_and_every_iteration_is_a_fresh_kit_on_the_iterations_system()
    {
        var systems = new List<ActorSystem>();
        var result = StackKit.Explore(TwoHosts, 5, "fifo", net =>
        {
            systems.Add(net.System);
            Assert.Equal("actorstack", net.System.Name);
            Assert.Equal(TimeSpan.Zero, net.Elapsed);
            Body(net, fixedVersion: false);
        }, Options());
        Assert.False(result.Found, result.Failure?.ToString());
        Assert.Equal(1, result.Iterations);                        // fifo has one schedule
        Assert.Single(systems);
    }

    [Fact]
    public void Random_finds_the_race_and_the_trace_replays_it()
    {
        var result = StackKit.Explore(TwoHosts, 100, "random", net => Body(net, fixedVersion: false), Options());
        Assert.True(result.Found);
        var f = result.Failure!;
        Assert.Equal(("random", 7), (f.Strategy, f.Seed));
        Assert.Equal(1, f.Iteration);                              // seed 7: the second schedule already
        Assert.Equal(f.Iteration + 1, result.Iterations);
        Assert.False(f.Liveness);
        Assert.StartsWith(Path.Combine(_traces, $"random-seed7-iter{f.Iteration}-"), f.TraceFile);
        var trace = ScheduleTrace.Read(f.TraceFile);
        Assert.Equal(StackKit.ScenarioName(TwoHosts), trace.Scenario);
        Assert.Equal(f.Choices.Count, trace.Choices.Count);
        Assert.Contains("hello alice", f.Exception.Message);
        for (int i = 0; i < 3; i++)
        {
            var replay = StackKit.Replay(f.TraceFile, TwoHosts, net => Body(net, fixedVersion: false), Options());
            Assert.Equal(f.Exception.Message, replay.Failure?.Message);
            Assert.Equal((f.Choices.Count, f.Choices.Count), (replay.Replayed, replay.Recorded));
        }
    }

    [Fact]
    public void Pct_finds_the_race_too_and_the_fixed_service_passes_both_strategies()
    {
        var pct = StackKit.Explore(TwoHosts, 100, "pct", net => Body(net, fixedVersion: false), Options());
        Assert.True(pct.Found);
        // Iteration 1 (was 8 before the neighbour actor answered each NeighOutput with NeighOutputDone): the client's
        // two datagrams wait on arp_queue, and the two answers to its socket are two more events in the 10 ms before
        // the greeter starts, so PCT's length estimate and its change points fall elsewhere; the race is the same,
        // a request answered before the greeting: the reply is " alice".
        var f = pct.Failure!;
        Assert.Equal(1, f.Iteration);
        Assert.Equal(f.Iteration + 1, pct.Iterations);
        Assert.False(f.Liveness);
        Assert.Contains("hello alice", f.Exception.Message);
        Assert.Contains("\" alice\"", f.Exception.Message);
        var replay = StackKit.Replay(f.TraceFile, TwoHosts, net => Body(net, fixedVersion: false), Options());
        Assert.Equal(f.Exception.Message, replay.Failure?.Message);
        foreach (var s in new[] { "random", "pct" })
        {
            var ok = StackKit.Explore(TwoHosts, 100, s, net => Body(net, fixedVersion: true), Options());
            Assert.False(ok.Found, ok.Failure?.ToString());
            Assert.Equal(100, ok.Iterations);
        }
    }

    [Fact]
    public void A_trace_of_another_scenario_or_name_is_refused_before_running()
    {
        var result = StackKit.Explore(TwoHosts, 100, "random", net => Body(net, fixedVersion: false), Options());
        var file = result.Failure!.TraceFile;
        bool ran = false;
        var other = TwoHosts.With("actorstack.seed = 2");
        var e = Assert.Throws<ScheduleTraceException>(() => StackKit.Replay(file, other, _ => ran = true, Options()));
        Assert.Contains($"recorded for scenario \"{StackKit.ScenarioName(TwoHosts)}\", this is \"{StackKit.ScenarioName(other)}\"", e.Message);
        var named = Options() with { Scenario = "greeter" };
        Assert.Throws<ScheduleTraceException>(() => StackKit.Replay(file, TwoHosts, _ => ran = true, named));
        Assert.False(ran);
        Assert.Equal("greeter " + StackKit.ScenarioName(TwoHosts), StackKit.ScenarioName(TwoHosts, "greeter"));
        Assert.NotEqual(StackKit.ScenarioName(TwoHosts), StackKit.ScenarioName(other));
        Assert.Equal("stackkit " + ScheduleTrace.ScenarioHash(TwoHosts.Hocon), StackKit.ScenarioName(TwoHosts));
    }

    /// <summary>Tells itself forever at one instant.</summary>
    private sealed class Looper : ReceiveActor
    {
        public Looper() => Receive<string>(m => Self.Tell(m));
    }

    [Fact]
    public void A_body_that_never_comes_to_rest_is_a_liveness_failure_with_a_trace_that_replays_it()
    {
        var options = Options() with { MaxSteps = 20_000 };
        void Loop(StackKit net)
        {
            net.System.ActorOf(Props.Create(() => new Looper()), "looper").Tell("again");
            net.RunFor(TimeSpan.FromMilliseconds(1));
        }
        var result = StackKit.Explore(TwoHosts, 10, "random", Loop, options);
        var f = result.Failure!;
        Assert.True(f.Liveness);
        Assert.Equal(0, f.Iteration);
        var live = Assert.IsType<ScheduleLivenessException>(f.Exception);
        Assert.Equal(20_000, live.Steps);
        Assert.True(File.Exists(f.TraceFile));
        var replay = StackKit.Replay(f.TraceFile, TwoHosts, Loop, options);
        Assert.IsType<ScheduleLivenessException>(replay.Failure);
    }

    [Fact]
    public void Exhaust_runs_each_schedule_up_to_the_depth_on_a_fresh_kit_and_says_the_rest_was_not_covered()
    {
        int runs = 0;
        var r = StackKit.Exhaust(TwoHosts, 2, net =>
        {
            runs++;
            Body(net, fixedVersion: true);
        }, Options(), maxRuns: 50);
        Assert.Null(r.Failure);
        Assert.Equal((24, 0, 0), (r.Schedules, r.Pruned, r.Failing)); // the first two decisions of the start: 2 × 12 options
        Assert.Equal(r.Schedules + r.Pruned, runs);
        Assert.False(r.Exhausted);                                 // the start alone has more decisions than 2
    }
}
