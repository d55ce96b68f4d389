using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Netem;

/// <summary>The fault schedule run by the SimulationActor: each action and the wire's answer published in order.</summary>
public class FaultScheduleTests() : TestKit(StackConfig.AkkaConfig(), "schedule")
{
    private const string Scenario = """
        actorstack.scenario {
          hosts {
            h1 { devices { eth0 { addresses = ["10.0.0.1/24"] } } }
            h2 { devices { eth0 { addresses = ["10.0.0.2/24"] } } }
          }
          wires = [ { a = "h1/eth0", b = "h2/eth0", netem-a-to-b = "delay 1ms" } ]
          workloads = []
          capture { enabled = off }
          schedule = [
            { at = 60ms, action = restore, wire = "h1/eth0-h2/eth0" }
            { at = 20ms, action = cut, wire = "h1/eth0" }
            { at = 40ms, action = netem, wire = "h2/eth0", direction = b-to-a, netem = "loss 20%" }
          ]
        }
        """;

    [Fact]
    public async Task Schedule_CutNetemRestore_EachActionAndOutcomePublishedInTimeOrder()
    {
        var settings = StackConfig.Load(Scenario);
        Sys.EventStream.Subscribe(TestActor, typeof(FaultScheduleEvent));
        var sim = Sys.ActorOf(SimulationActor.Props(settings), "sim");
        var started = await sim.Ask<SimulationStarted>(StartSimulation.Instance, Timeouts.Wall);
        var lines = new List<string>();
        for (int i = 0; i < 6; i++) lines.Add((await ExpectMsgAsync<FaultScheduleEvent>(Timeouts.Wall)).ToString());
        string[] expected = [
            "[fault +0.02s] cut wire h1/eth0-h2/eth0",
            "[fault +0.02s]   h1/eth0-h2/eth0: cable cut: carrier off at both ends",
            "[fault +0.04s] netem loss 20% on h1/eth0-h2/eth0 b-to-a",
            "[fault +0.04s]   h1/eth0-h2/eth0: netem b-to-a: limit 1000 loss 20%",
            "[fault +0.06s] restore wire h1/eth0-h2/eth0",
            "[fault +0.06s]   h1/eth0-h2/eth0: cable restored: carrier on at both ends",
        ];
        // Actions run in time order; a wire's answer may come after the next action on a busy machine.
        Assert.Equal(expected.Where(l => !l.Contains("  ")), lines.Where(l => !l.Contains("  ")));
        Assert.Equal(expected.Order(), lines.Order());
        var st = await started.Wires.Single().Ask<WireStats>(GetWireStats.Instance, Timeouts.Wall);
        AssertConserved(st.AToBDetail!);
        AssertConserved(st.BToADetail!);
    }

    private static void AssertConserved(WireDirectionStats s)
        => Assert.Equal(s.Offered + s.Duplicated, s.Delivered + s.Dropped + s.InFlight);
}
