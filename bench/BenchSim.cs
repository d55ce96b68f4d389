using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Bench;

/// <summary>A started benchmark scenario: its actor system, the simulation actor and what it answered.</summary>
public sealed record BenchSim(ActorSystem System, IActorRef Simulation, SimulationStarted Started)
{
    /// <summary>
    /// Builds and starts <paramref name="scenario"/>; null (after printing why, as the CLI does) when the simulation
    /// answers <see cref="CommandFailed"/> instead of <see cref="SimulationStarted"/>.
    /// </summary>
    public static async Task<BenchSim?> Start(string scenario)
    {
        var settings = StackConfig.Load(scenario, "bench");
        var system = ActorSystem.Create("bench", StackConfig.AkkaConfig(scenario));
        var sim = system.ActorOf(SimulationActor.Props(settings), "sim");
        var reply = await sim.Ask<object>(StartSimulation.Instance, TimeSpan.FromSeconds(30));
        if (reply is CommandFailed refused)
        {
            Console.Error.WriteLine($"bench: run failed: {refused.Message}");
            await system.Terminate();
            return null;
        }
        return new BenchSim(system, sim, (SimulationStarted)reply);
    }
}
