using ActorStack.Testing;

namespace ActorStack.Tests.Netem;

/// <summary>The fault schedule run by the SimulationActor: each action and the wire's answer published in order.</summary>
public class FaultScheduleTests
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
    public void Schedule_CutNetemRestore_EachActionAndOutcomePublishedInTimeOrder()
    {
        using var kit = StackKit.Start(Testing.Scenario.FromHocon(Scenario), new StackKitOptions { SystemName = "schedule" });
        var faults = kit.Faults();
        kit.RunFor(TimeSpan.FromMilliseconds(100));
        // On virtual time each wire answers its action at the action's instant, before the next action.
        Assert.Equal([
            "[fault +0.02s] cut wire h1/eth0-h2/eth0",
            "[fault +0.02s]   h1/eth0-h2/eth0: cable cut: carrier off at both ends",
            "[fault +0.04s] netem loss 20% on h1/eth0-h2/eth0 b-to-a",
            "[fault +0.04s]   h1/eth0-h2/eth0: netem b-to-a: limit 1000 loss 20%",
            "[fault +0.06s] restore wire h1/eth0-h2/eth0",
            "[fault +0.06s]   h1/eth0-h2/eth0: cable restored: carrier on at both ends",
        ], faults.Lines);
        Assert.Equal([20, 20, 40, 40, 60, 60], faults.Events.Select(e => (int)e.At.TotalMilliseconds));
        kit.Wire(0).AssertConserved();
    }
}
