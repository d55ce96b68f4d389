using System.Text;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Messages;
using ActorStack.Testing;
using Xunit;
using Xunit.Abstractions;

namespace UserTests;

/// <summary>The greeting service's configuration, sent by the config loader when both start.</summary>
public sealed record Configure(string Greeting);

/// <summary>
/// A user's application actor on the server host: it reads its UDP socket (a blocking recv told to the socket actor) and
/// answers each request "GREETING NAME". The planted race: it starts reading at once, so a request already queued in the
/// socket can be answered before the configuration arrives (with no greeting). <paramref name="fixedVersion"/> starts
/// reading only once configured.
/// </summary>
public sealed class GreetingService : ReceiveActor
{
    private readonly IActorRef _socket;
    private readonly bool _fixed;
    private string? _greeting;

    public GreetingService(IActorRef socket, bool fixedVersion)
    {
        _socket = socket;
        _fixed = fixedVersion;
        Receive<Configure>(c =>
        {
            _greeting = c.Greeting;
            if (_fixed) _socket.Tell(new Recv(1));
        });
        Receive<Received>(r =>
        {
            foreach (var d in r.Datagrams)
                _socket.Tell(new SendTo(Encoding.ASCII.GetBytes($"{_greeting} {Encoding.ASCII.GetString(d.Payload.Span)}"), d.Source, d.SourcePort));
            _socket.Tell(new Recv(1));
        });
        Receive<Sent>(_ => { });
    }

    protected override void PreStart()
    {
        if (!_fixed) _socket.Tell(new Recv(1)); // the bug: reading before the configuration is there
    }
}

/// <summary>Loads the configuration and hands it to the service as it starts.</summary>
public sealed class ConfigLoader(IActorRef service, string greeting) : ReceiveActor
{
    protected override void PreStart() => service.Tell(new Configure(greeting));
}

/// <summary>
/// Finding the race with schedule exploration: each iteration starts the scenario afresh and lets the engine choose, at
/// each simulated instant, which actor runs next and whose message an actor takes next (one sender's messages stay in
/// order). Under the default order (fifo) the test passes; under random schedules it fails, and the trace replays it.
/// </summary>
public class RaceTests(ITestOutputHelper output)
{
    private static readonly Scenario TwoHosts = Scenario.Build().Seed(1)
        .Host("client", h => h.Device("eth0", "10.0.0.1/24"))
        .Host("server", h => h.Device("eth0", "10.0.0.2/24"))
        .Wire("client/eth0", "server/eth0", w => w.Delay(TimeSpan.FromMilliseconds(1)))
        .Build();

    /// <summary>The test body: a request queued in the server's socket, then the service and its loader start at one instant.</summary>
    private static void GreetingTest(StackKit net, bool fixedVersion)
    {
        var server = net.Host("server").Udp();
        Assert.Equal(Errno.OK, server.Bind("0.0.0.0", 7));
        var client = net.Host("client").Udp();
        Assert.Equal(Errno.OK, client.SendTo(Encoding.ASCII.GetBytes("alice"), "10.0.0.2", 7));
        net.RunFor(TimeSpan.FromMilliseconds(10));                  // ARP, then the request waits in the socket

        var service = net.System.ActorOf(Props.Create(() => new GreetingService(server.Ref, fixedVersion)), "greeter");
        net.System.ActorOf(Props.Create(() => new ConfigLoader(service, "hello")), "config");
        var reply = client.Recv(limit: TimeSpan.FromSeconds(1));   // blocking: runs the simulation until the answer
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

        Assert.True(result.Found, "no schedule of 100 made the service answer before it was configured");
        var failure = result.Failure!;
        output.WriteLine(failure.ToString());                       // strategy, seed, iteration, trace file, the assertion
        Assert.Equal("random", failure.Strategy);
        Assert.Equal(7, failure.Seed);
        Assert.InRange(failure.Iteration, 0, 99);
        Assert.True(File.Exists(failure.TraceFile));
        Assert.Contains("hello alice", failure.Exception.Message);  // expected "hello alice", the service said " alice"

        for (int i = 0; i < 3; i++)                                 // the same interleaving, the same failure, every time
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
