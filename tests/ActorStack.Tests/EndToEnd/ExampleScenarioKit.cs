using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.EndToEnd;

/// <summary>
/// Runs one of the repository's example scenario files (examples/*.hocon) as the CLI would: a
/// <see cref="SimulationActor"/> named "sim", started, and its workload actors returned in scenario order.
/// </summary>
public abstract class ExampleScenarioKit(string name) : TestKit(StackConfig.AkkaConfig(), name)
{
    protected static readonly TimeSpan Timeout = Timeouts.WallRun;

    /// <summary>The settings of <paramref name="relative"/>, a path from the repository root (where ActorStack.sln is).</summary>
    protected static StackSettings LoadExample(string relative) => StackConfig.LoadFile(RepoFile(relative));

    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ActorStack.sln"))) return Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException(relative);
    }

    /// <summary>Starts the simulation of <paramref name="settings"/> and returns its workload actors.</summary>
    protected async Task<ImmutableArray<IActorRef>> StartExample(StackSettings settings)
    {
        var sim = Sys.ActorOf(SimulationActor.Props(settings), "sim");
        await sim.Ask<SimulationStarted>(StartSimulation.Instance, Timeout);
        return (await sim.Ask<SimulationTopology>(GetSimulationTopology.Instance, Timeout)).Apps;
    }
}
