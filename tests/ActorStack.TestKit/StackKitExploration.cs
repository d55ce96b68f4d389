using Akka.Actor;
using ActorStack.Actors.Engine;

namespace ActorStack.Testing;

/// <summary>
/// Schedule exploration over a scenario (README "Testing your own code against the stack"): <see cref="Explore"/> runs a
/// test body on a fresh <see cref="StackKit"/> per iteration, each on the iteration's actor system and engine of
/// <see cref="ScheduleExplorer"/> (throughput 1, the strategy installed, the liveness limits set), and on the first
/// failure reports the strategy, seed and iteration and writes the schedule trace; <see cref="Replay"/> runs the body
/// once more under exactly that schedule. The trace names the scenario by <see cref="ScenarioName"/> (a hash of its text),
/// so a trace of another scenario is refused. Nothing here reads the wall clock.
/// </summary>
public sealed partial class StackKit
{
    /// <summary>
    /// What the traces of <paramref name="scenario"/> are recorded for: <c>stackkit</c> and the first 16 hex digits of the
    /// SHA-256 of its text (<see cref="ScheduleTrace.ScenarioHash"/>), after <paramref name="name"/> when one is given
    /// (<see cref="ExploreOptions.Scenario"/>, e.g. the test's name: two bodies over one scenario keep apart).
    /// </summary>
    public static string ScenarioName(Scenario scenario, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var id = "stackkit " + ScheduleTrace.ScenarioHash(scenario.Hocon);
        return string.IsNullOrWhiteSpace(name) ? id : $"{name.Trim()} {id}";
    }

    /// <summary>
    /// The explorer's options for <paramref name="scenario"/>: the scenario's text (then <see cref="StackKitOptions.ExtraHocon"/>,
    /// then <see cref="ExploreOptions.Hocon"/>) as each iteration's configuration, the actor system named
    /// <see cref="StackKitOptions.SystemName"/> unless <see cref="ExploreOptions.SystemFactory"/> is given, and
    /// <see cref="ExploreOptions.Scenario"/> = <see cref="ScenarioName"/>.
    /// </summary>
    public static ExploreOptions ExploreOptionsFor(Scenario scenario, ExploreOptions? explore = null, StackKitOptions? kit = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        explore ??= new ExploreOptions();
        kit ??= new StackKitOptions();
        _ = scenario.Settings; // a scenario that does not check fails here, before any iteration
        return explore with
        {
            Scenario = ScenarioName(scenario, explore.Scenario),
            // Later text wins (the explorer puts SimEngine.Hocon and its own over this). No CLR exit hook: it would hand the
            // engine back to inline mode from another thread.
            Hocon = scenario.Hocon + "\n" + kit.ExtraHocon + "\n" + explore.Hocon + "\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = off\n",
            SystemFactory = explore.SystemFactory ?? (config => ActorSystem.Create(kit.SystemName, config)),
        };
    }

    /// <summary>
    /// Runs <paramref name="body"/> up to <paramref name="iterations"/> times, each on a fresh <see cref="StackKit"/> of
    /// <paramref name="scenario"/> started under <paramref name="strategy"/> (<c>random</c>, <c>pct</c>; <c>fifo</c> has one
    /// schedule) with <see cref="ExploreOptions.Seed"/>; returns at the first failure: an exception out of the body (an
    /// assertion), an actor's crash, or a liveness limit (<see cref="ExploreOptions.MaxSteps"/>, <see cref="ExploreOptions.MaxTime"/>,
    /// <see cref="StackKitOptions.MaxEventsPerInstant"/>). <see cref="ExplorationResult.Failure"/> has the strategy, seed,
    /// iteration, trace file and exception. The scenario's start runs under the strategy too.
    /// </summary>
    public static ExplorationResult Explore(Scenario scenario, int iterations, string strategy, Action<StackKit> body,
        ExploreOptions? explore = null, StackKitOptions? kit = null)
        => ExploreAsync(scenario, iterations, strategy, Sync(body), explore, kit).GetAwaiter().GetResult();

    /// <inheritdoc cref="Explore"/>
    public static Task<ExplorationResult> ExploreAsync(Scenario scenario, int iterations, string strategy, Func<StackKit, Task> body,
        ExploreOptions? explore = null, StackKitOptions? kit = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return ScheduleExplorer.ExploreAsync(iterations, strategy, OnKit(scenario, body, kit), ExploreOptionsFor(scenario, explore, kit));
    }

    /// <summary>
    /// Replays the schedule of <paramref name="traceFile"/> (written by <see cref="Explore"/> or <see cref="Exhaust"/> for
    /// <paramref name="scenario"/>): the same body gets the same interleaving, so <see cref="ReplayResult.Failure"/> is the
    /// recorded failure. A trace of another scenario (its text changed by one character), another
    /// <see cref="ExploreOptions.Scenario"/> name or another build is refused before running (<see cref="ScheduleTraceException"/>);
    /// a body that makes other decisions than the recorded ones stops with a <see cref="ScheduleReplayException"/>.
    /// </summary>
    public static ReplayResult Replay(string traceFile, Scenario scenario, Action<StackKit> body, ExploreOptions? explore = null, StackKitOptions? kit = null)
        => ReplayAsync(traceFile, scenario, Sync(body), explore, kit).GetAwaiter().GetResult();

    /// <inheritdoc cref="Replay"/>
    public static Task<ReplayResult> ReplayAsync(string traceFile, Scenario scenario, Func<StackKit, Task> body,
        ExploreOptions? explore = null, StackKitOptions? kit = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return ScheduleExplorer.ReplayAsync(traceFile, OnKit(scenario, body, kit), ExploreOptionsFor(scenario, explore, kit));
    }

    /// <summary>
    /// The bounded exhaustive mode (<see cref="ScheduleExplorer.Exhaust"/>) over <paramref name="scenario"/>: every
    /// interleaving up to <paramref name="depth"/> decisions, less those equivalent to one already run, each on a fresh kit;
    /// at most <paramref name="maxRuns"/> runs. A scenario's start alone has many decisions: keep the depth small.
    /// </summary>
    public static ExhaustiveResult Exhaust(Scenario scenario, int depth, Action<StackKit> body, ExploreOptions? explore = null,
        StackKitOptions? kit = null, bool stopOnFailure = true, int maxRuns = 10_000)
    {
        ArgumentNullException.ThrowIfNull(body);
        return ScheduleExplorer.ExhaustAsync(depth, OnKit(scenario, Sync(body), kit), ExploreOptionsFor(scenario, explore, kit), stopOnFailure, maxRuns)
            .GetAwaiter().GetResult();
    }

    private static Func<StackKit, Task> Sync(Action<StackKit> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return k =>
        {
            body(k);
            return Task.CompletedTask;
        };
    }

    /// <summary>Each iteration: a kit of <paramref name="scenario"/> started in the iteration's system (the explorer terminates it).</summary>
    private static Func<ExplorationContext, Task> OnKit(Scenario scenario, Func<StackKit, Task> body, StackKitOptions? kit) => async ctx =>
    {
        using var k = Attach(ctx.System, scenario, kit);
        await body(k).ConfigureAwait(false);
    };
}
