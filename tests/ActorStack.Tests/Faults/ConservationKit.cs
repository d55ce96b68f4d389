using Akka.Actor;
using Akka.TestKit;
using ActorStack.Tests.Engine;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Testing;

namespace ActorStack.Tests.Faults;

/// <summary>
/// A sender's pktgen → one cable → a receiver's UDP sink, run by the SimulationActor on virtual time, with a fault on
/// the cable, the devices or in the schedule. <see cref="RunToQuiet"/> drives the clock and returns the books of the
/// whole network (<see cref="FlowBooks"/>): what pktgen sent, what the sink read or still has queued, every host's drop table and the wire's.
/// The receiver sends nothing (ICMP errors off, pktgen needs no ARP), so every frame counted comes from pktgen.
/// Runs on the simulation engine: each 10 ms step runs every event due in it before the next, and questions to the
/// actors are tell + run (<see cref="Query{T}"/>).
/// </summary>
public abstract class ConservationKit : EngineKit
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);
    /// <summary>Steps of virtual time <see cref="RunToQuiet"/> waits at most for the books to balance after the run.</summary>
    private const int QuietSteps = 750;
    private readonly TestProbe _asker;
    private int _runs;

    protected ConservationKit(string name) : base(name)
    {
        _asker = Probe();
    }

    /// <summary>Asks <paramref name="actor"/> on the engine: tells, runs what is due now, takes the answer.</summary>
    protected Task<T> Query<T>(IActorRef actor, object message) => AskNow<T>(_asker, actor, message);

    protected static StackSettings Scenario(string wire = "", string schedule = "", long count = 200, int seed = 1, string senderDev = "")
        => StackConfig.Load($$"""
        actorstack {
          seed = {{seed}}
          device-defaults { watchdog-timeo = 200ms, link-up-delay = 50ms }
          scenario {
            hosts {
              sender {
                devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"] {{senderDev}} } }
                neighbours = ["10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0"]
              }
              receiver {
                sysctl { net.ipv4.icmp_msgs_per_sec = 0, net.ipv4.icmp_msgs_burst = 0 }
                devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"] } }
              }
            }
            wires = [ { a = "sender/eth0", b = "receiver/eth0" {{wire}} } ]
            workloads = [
              {{(count == 0 ? "" : Pktgen(count))}}
              { type = udp-sink, host = receiver, bind = "0.0.0.0:9000" }
            ]
            capture { enabled = off }
            {{(schedule.Length == 0 ? "" : $"schedule = [ {schedule} ]")}}
          }
        }
        """);

    private static string Pktgen(long count) =>
        $"{{ type = pktgen, host = sender, device = eth0, count = {count}, pkt_size = 64, ratep = 1000, flows = 2, " +
        "dst_mac = \"02:00:00:00:00:02\", dst_min = \"10.0.0.2\", udp_src_min = 10000, udp_src_max = 10001, udp_dst_min = 9000, udp_dst_max = 9000 }";

    /// <summary>
    /// Starts the scenario, moves virtual time on in 10 ms steps for <paramref name="duration"/>, then (time still
    /// moving) waits until pktgen is done, nothing is on the wire or in the receiver's backlog, and the books balance:
    /// sent + duplicated = read + queued + dropped + in flight. A frame lost silently keeps them from balancing.
    /// </summary>
    protected async Task<FlowBooks> RunToQuiet(StackSettings settings, TimeSpan duration, Func<SimulationStarted, Task>? during = null)
    {
        var sim = Sys.ActorOf(SimulationActor.Props(settings), $"sim{++_runs}");
        var started = await Query<SimulationStarted>(sim, StartSimulation.Instance);
        for (var t = TimeSpan.Zero; t < duration; t += Step)
        {
            // Each step runs to completion before the next: the schedule's action (simulation → host or wire → driver
            // or link watch) and pktgen's batch are handled at the virtual time they are due.
            Engine.RunFor(Step);
            if (during is not null && t == Step) await during(started);
        }
        for (int i = 0; ; i++)
        {
            Engine.RunFor(Step);
            var b = await BooksOf(started);
            bool done = true;
            foreach (var g in started.Pktgens) done &= (await Query<PktgenStatus>(g, GetWorkloadStatus.Instance)).Done;
            if (done && b.WireInFlight == 0 && b.Receiver.Softnet.All(c => c.BacklogLen == 0)
                && b.Sent + b.Duplicated == b.Read + b.Queued + b.Dropped + b.WireInFlight)
                return b;
            if (i < QuietSteps) continue;
            Assert.True(done, $"pktgen not done: {b}");
            Assert.Equal(0, b.WireInFlight);
            Assert.All(b.Receiver.Softnet, c => Assert.Equal(0, c.BacklogLen));
            Assert.True(b.Sent + b.Duplicated == b.Read + b.Queued + b.Dropped + b.WireInFlight, $"unbalanced: {b}");
        }
    }

    /// <summary>The run's books (the kit's <see cref="FlowBooks"/>): sent = pktgen's frames + the sender's sockets' datagrams, read = the sink's.</summary>
    private async Task<FlowBooks> BooksOf(SimulationStarted sim)
    {
        long sent = 0;
        foreach (var g in sim.Pktgens) sent += (await Query<PktgenStatus>(g, GetWorkloadStatus.Instance)).Sent;
        var sink = await Query<SinkStatus>(sim.Sinks.Single(), GetWorkloadStatus.Instance);
        var wire = await Query<WireStats>(sim.Wires.Single(), GetWireStats.Instance);
        var tx = await Query<HostStats>(sim.Hosts["sender"], GetStats.Instance);
        var rx = await Query<HostStats>(sim.Hosts["receiver"], GetStats.Instance);
        sent += tx.Mib("Udp")["OutDatagrams"];   // datagrams a test sent from a socket on the sender
        return FlowBooks.Of(tx, rx, sent, sink.Datagrams, [("wire", wire)]);
    }
}
