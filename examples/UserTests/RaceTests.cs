using System.Text;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Messages;
using ActorStack.Testing;
using Xunit;
using Xunit.Abstractions;

namespace UserTests;

/// <summary>
/// A user's application actor on the server host: it takes its greeting on a control socket (port 8) and answers each
/// request on its service socket (port 7) with "GREETING NAME". Both sockets are read by telling the socket actor a
/// blocking recv. The planted race: it reads both at once, assuming the greeting comes first; when a request and the
/// greeting are both waiting, the two answers reach it at the same simulated instant, and nothing orders them.
/// <paramref name="fixedVersion"/> reads the service socket only once it has its greeting.
/// </summary>
public sealed class GreetingService : ReceiveActor
{
    private readonly IActorRef _control, _service;
    private readonly bool _fixed;
    private string? _greeting;

    public GreetingService(IActorRef control, IActorRef service, bool fixedVersion)
    {
        _control = control;
        _service = service;
        _fixed = fixedVersion;
        Receive<Received>(_ => Sender.Equals(_control), r =>
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
        if (!_fixed) _service.Tell(new Recv(1)); // the bug: serving before the greeting is there
    }
}

/// <summary>
/// Finding the race with schedule exploration: each iteration starts the scenario afresh and lets the engine choose, at
/// each simulated instant, which actor runs next and whose message an actor takes next (one sender's messages to one
/// receiver stay in order). Under the default order the test passes; under random schedules it fails, and the trace
/// replays that failure.
/// </summary>
public class RaceTests(ITestOutputHelper output)
{
    private static readonly Scenario TwoHosts = Scenario.Build().Seed(1)
        .Host("client", h => h.Device("eth0", "10.0.0.1/24"))
        .Host("server", h => h.Device("eth0", "10.0.0.2/24"))
        .Wire("client/eth0", "server/eth0", w => w.Delay(TimeSpan.FromMilliseconds(1)))
        .Build();

    /// <summary>The test body: the greeting and a request wait in the server's sockets, then the service starts.</summary>
    private static void GreetingTest(StackKit net, bool fixedVersion)
    {
        var service = net.Host("server").Udp();
        Assert.Equal(Errno.OK, service.Bind("0.0.0.0", 7));
        var control = net.Host("server").Udp();
        Assert.Equal(Errno.OK, control.Bind("0.0.0.0", 8));
        var client = net.Host("client").Udp();
        Assert.Equal(Errno.OK, client.SendTo(Encoding.ASCII.GetBytes("hello"), "10.0.0.2", 8));
        Assert.Equal(Errno.OK, client.SendTo(Encoding.ASCII.GetBytes("alice"), "10.0.0.2", 7));
        net.RunFor(TimeSpan.FromMilliseconds(10));                 // ARP, then both datagrams wait in their sockets

        net.System.ActorOf(Props.Create(() => new GreetingService(control.Ref, service.Ref, fixedVersion)), "greeter");
        var reply = client.Recv(limit: TimeSpan.FromSeconds(1));  // blocking: runs the simulation until the answer
        Assert.Equal(Errno.OK, reply.Error);
        Assert.Equal("hello alice", Encoding.ASCII.GetString(reply.Payload));
    }

    [Fact]
    public void Passes_under_the_default_schedule()
    {
        using var net = StackKit.Start(TwoHosts);
        GreetingTest(net, fixedVersion: false);
    }

    [Fact]
    public void Exploration_finds_the_race_and_its_trace_replays_it()
    {
        var options = new ExploreOptions { Seed = 7, TraceDirectory = Path.Combine(Path.GetTempPath(), "usertests-traces") };
        var result = StackKit.Explore(TwoHosts, 100, "random", net => GreetingTest(net, fixedVersion: false), options);

        Assert.True(result.Found, "no schedule of 100 made the service answer before it had its greeting");
        var failure = result.Failure!;
        output.WriteLine(failure.ToString());                      // strategy, seed, iteration, trace file, the assertion
        Assert.Equal(("random", 7), (failure.Strategy, failure.Seed));
        Assert.InRange(failure.Iteration, 0, 99);
        Assert.True(File.Exists(failure.TraceFile));
        Assert.Contains("hello alice", failure.Exception.Message); // expected "hello alice", the service said " alice"

        for (int i = 0; i < 3; i++)                                // the same interleaving, the same failure, every time
        {
            var replay = StackKit.Replay(failure.TraceFile, TwoHosts, net => GreetingTest(net, fixedVersion: false), options);
            Assert.Equal(failure.Exception.Message, replay.Failure?.Message);
            Assert.Equal(replay.Recorded, replay.Replayed);
        }
    }

    [Fact]
    public void The_fixed_service_passes_200_schedules()
    {
        var result = StackKit.Explore(TwoHosts, 200, "random", net => GreetingTest(net, fixedVersion: true), new ExploreOptions { Seed = 7 });
        Assert.False(result.Found, result.Failure?.ToString());
        Assert.Equal(200, result.Iterations);
    }
}
