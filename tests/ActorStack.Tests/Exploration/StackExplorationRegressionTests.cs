using ActorStack.Actors.Engine;

namespace ActorStack.Tests.Exploration;

/// <summary>
/// The schedules that found stack bugs, kept in Engine/Traces/ (copied to the output). A trace's choices replay
/// exactly only on the build of ActorStack.Actors that recorded it (<see cref="ScheduleTrace.CheckCompatible"/>), and
/// the fix itself is another build; so each kept trace is checked two ways: on the recording build its choices are
/// replayed exactly (<see cref="ScheduleExplorer.Replay(string, Action{ExplorationContext}, ExploreOptions?)"/>), on any
/// other its strategy and seed are explored again up to its iteration, which draws the same schedule up to the point
/// where the fix changes what the actors send. Before the fix both failed at exactly the recorded iteration.
/// </summary>
public class StackExplorationRegressionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    public static TheoryData<string> Traces => new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Engine", "Traces"), "*.trace")
        .Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    /// <summary>The body a kept trace's scenario names.</summary>
    private static Action<ExplorationContext> Body(string scenario) => scenario switch
    {
        "udp-close-v2" => ctx => SocketCloseExplorationTests.UdpCloseBody(ctx, ctx.Iteration),
        _ => throw new Xunit.Sdk.XunitException($"no body for scenario {scenario}"),
    };

    /// <summary>What each kept trace found (the failure line it was recorded with starts so).</summary>
    private static readonly Dictionary<string, string> Found = new()
    {
        ["udp-close-random-seed1-iter12.trace"] = "Xunit.Sdk.TrueException: k 1 + SOCKET_CLOSE 1 + NO_SOCKET 8 != 12",
        ["udp-close-pct-seed1-iter20.trace"] = "Xunit.Sdk.TrueException: k 1 + SOCKET_CLOSE 0 + NO_SOCKET 9 != 12",
    };

    [Theory]
    [MemberData(nameof(Traces))]
    public void KeptTrace_NoLongerFails(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Engine", "Traces", file);
        var trace = ScheduleTrace.Read(path);
        Assert.StartsWith(Found[file], trace.Failure);
        var options = new ExploreOptions { Scenario = trace.Scenario, Seed = trace.Seed, MaxTime = TimeSpan.FromSeconds(2), MaxSteps = 200_000 };
        if (trace.Build == ScheduleTrace.CurrentBuild)
        {
            var replay = ScheduleExplorer.Replay(path, Body(trace.Scenario), options);
            Assert.Null(replay.Failure);
            return;
        }
        var r = ScheduleExplorer.Explore(trace.Iteration + 1, trace.Strategy, Body(trace.Scenario), options);
        output.WriteLine($"{file}: {trace.Strategy} seed {trace.Seed}, iterations 0..{trace.Iteration}: {(r.Found ? r.Failure!.ToString() : "no failure")}");
        Assert.False(r.Found, r.Failure?.ToString());
        Assert.Equal(trace.Iteration + 1, r.Iterations);
    }
}
