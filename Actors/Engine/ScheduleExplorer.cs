using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using ActorStack.Config;

namespace ActorStack.Actors.Engine;

/// <summary>What a test body gets in each iteration: a fresh actor system on a fresh engine, paused after booting.</summary>
public sealed class ExplorationContext
{
    internal ExplorationContext(ActorSystem system, SimEngine engine, int iteration, string strategy)
    {
        System = system;
        Engine = engine;
        Iteration = iteration;
        Strategy = strategy;
    }

    /// <summary>The iteration's actor system (throughput 1, the strategy installed); terminated by the explorer afterwards.</summary>
    public ActorSystem System { get; }

    /// <summary>Its engine: the body drives it (<see cref="SimEngine.RunFor"/>, <see cref="SimEngine.RunUntil(TimeSpan)"/>, <see cref="SimEngine.RunUntilIdle"/>).</summary>
    public SimEngine Engine { get; }

    /// <summary>0-based iteration (a run index in the exhaustive mode).</summary>
    public int Iteration { get; }

    /// <summary>The strategy's name (random, pct, replay, exhaustive, fifo).</summary>
    public string Strategy { get; }
}

/// <summary>How <see cref="ScheduleExplorer"/> runs a body. Defaults are stack.hocon's (<see cref="FromConfig"/> reads them).</summary>
public sealed record ExploreOptions
{
    /// <summary>
    /// What the body is (a name, a hash of its scenario text: any one line). Recorded in the trace; a trace recorded
    /// for another scenario is refused by Replay.
    /// </summary>
    public string Scenario { get; init; } = "";

    /// <summary>The strategy's seed (<c>actorstack.run.schedule-seed</c>).</summary>
    public int Seed { get; init; }

    /// <summary>PCT's d (<c>actorstack.run.pct-depth</c>): d - 1 priority change points per iteration.</summary>
    public int PctDepth { get; init; } = 3;

    /// <summary>Events one iteration may execute (<c>actorstack.run.explore-max-steps</c>); past it: a liveness failure.</summary>
    public long MaxSteps { get; init; } = 1_000_000;

    /// <summary>Simulated time one iteration may reach (<c>actorstack.run.explore-max-time</c>); an event due later: a liveness failure.</summary>
    public TimeSpan MaxTime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Where failing schedules' trace files go (default: the temp directory's actorstack-schedules/).</summary>
    public string? TraceDirectory { get; init; }

    /// <summary>HOCON over <c>stack.hocon</c> for each iteration's system (the engine's and <see cref="ScheduleExplorer.Hocon"/> are put over it).</summary>
    public string Hocon { get; init; } = "";

    /// <summary>An actor's crash (an Error on the event stream: a supervisor's log of a failure) fails the iteration.</summary>
    public bool FailOnActorError { get; init; } = true;

    /// <summary>
    /// Creates each iteration's actor system from the configuration the explorer built (e.g. through a TestKit, to have
    /// its test actor and probes); null: <c>ActorSystem.Create("explore", config)</c>. The explorer terminates it.
    /// </summary>
    public Func<Akka.Configuration.Config, ActorSystem>? SystemFactory { get; init; }

    /// <summary>The <c>actorstack.run.*</c> keys of <paramref name="config"/> (stack.hocon's where absent).</summary>
    public static ExploreOptions FromConfig(Akka.Configuration.Config config) => new()
    {
        Seed = config.GetInt("actorstack.run.schedule-seed", 0),
        PctDepth = config.GetInt("actorstack.run.pct-depth", 3),
        MaxSteps = config.GetLong("actorstack.run.explore-max-steps", 1_000_000),
        MaxTime = config.GetTimeSpan("actorstack.run.explore-max-time", TimeSpan.FromHours(1)),
    };
}

/// <summary>A failing schedule: what found it, where its trace is, and what failed.</summary>
/// <param name="Strategy">random, pct or exhaustive.</param>
/// <param name="Seed">The strategy's seed.</param>
/// <param name="Iteration">The failing iteration (0-based).</param>
/// <param name="TraceFile">The schedule trace written for it (replay it with <see cref="ScheduleExplorer.Replay(string, Action{ExplorationContext}, ExploreOptions?)"/>).</param>
/// <param name="Exception">What failed: the body's exception, an actor's exception, or a <see cref="ScheduleLivenessException"/>.</param>
/// <param name="Choices">The schedule's decisions (the trace's body).</param>
public sealed record ExplorationFailure(string Strategy, int Seed, int Iteration, string TraceFile, Exception Exception, IReadOnlyList<ScheduleChoice> Choices)
{
    /// <summary>The run did not come to rest (a step or simulated-time limit), rather than failing an assertion.</summary>
    public bool Liveness => Exception is ScheduleLivenessException;

    public override string ToString() =>
        $"{(Liveness ? "liveness failure" : "failure")} under {Strategy} seed {Seed} iteration {Iteration} ({Choices.Count} decisions), trace {TraceFile}: {Exception.GetType().Name}: {Exception.Message}";
}

/// <summary>What <see cref="ScheduleExplorer.Explore(int, string, Action{ExplorationContext}, ExploreOptions?)"/> found.</summary>
/// <param name="Iterations">Iterations run (up to and including a failing one).</param>
/// <param name="Failure">The first failure, or null when every iteration passed.</param>
public sealed record ExplorationResult(string Strategy, int Seed, int Iterations, ExplorationFailure? Failure)
{
    public bool Found => Failure is not null;
}

/// <summary>What a replay did.</summary>
/// <param name="Failure">The failure the replayed schedule ended in (null: it passed).</param>
/// <param name="Replayed">Decisions replayed.</param>
/// <param name="Recorded">Decisions in the trace.</param>
public sealed record ReplayResult(Exception? Failure, int Replayed, int Recorded);

/// <summary>What the bounded exhaustive mode explored.</summary>
/// <param name="Schedules">Complete schedules run (each a distinct interleaving up to the partial-order reduction).</param>
/// <param name="Pruned">Runs stopped as redundant by the sleep sets (an equivalent schedule was run).</param>
/// <param name="Failing">Schedules that failed.</param>
/// <param name="Exhausted">
/// True when every schedule was covered: no run met a decision of two or more options beyond the depth bound, and the
/// search was not cut by <c>maxRuns</c> or a failure. Then a property that held in every schedule holds in all.
/// </param>
/// <param name="Failure">The first failure (its trace replays like a random one's), or null.</param>
public sealed record ExhaustiveResult(int Schedules, int Pruned, int Failing, bool Exhausted, ExplorationFailure? Failure);

/// <summary>
/// Runs a test body under many schedules of the engine and reproduces a failing one. Each iteration gets a fresh actor
/// system on a fresh <see cref="SimEngine"/> (configured with <see cref="Hocon"/>: one message per mailbox run, so every
/// message is a scheduling point), booted and paused, with the strategy installed and liveness limits set; the body
/// creates its actors, tells, and drives the engine (RunFor, RunUntil, RunUntilIdle); an exception out of the body, an
/// actor's crash (<see cref="ExploreOptions.FailOnActorError"/>) or a liveness limit fails the iteration, and its
/// schedule trace is written (<see cref="ScheduleTrace"/>). The body must be deterministic given the schedule: no wall
/// clock, no unseeded randomness, no threads of its own.
/// </summary>
public static class ScheduleExplorer
{
    /// <summary>Over <c>stack.hocon</c> and <see cref="SimEngine.Hocon"/> for every iteration's system: throughput 1.</summary>
    public const string Hocon = """
        akka.actor.default-dispatcher.throughput = 1
        akka.actor.internal-dispatcher.throughput = 1
        actorstack.run.schedule = fifo
        """;

    /// <summary>
    /// Runs <paramref name="body"/> up to <paramref name="iterations"/> times under <paramref name="strategy"/>
    /// (<c>random</c>, <c>pct</c>, or <c>fifo</c>, which has one schedule) with <see cref="ExploreOptions.Seed"/>; returns at the first failure.
    /// </summary>
    public static ExplorationResult Explore(int iterations, string strategy, Action<ExplorationContext> body, ExploreOptions? options = null)
        => ExploreAsync(iterations, strategy, Sync(body), options).GetAwaiter().GetResult();

    /// <inheritdoc cref="Explore(int, string, Action{ExplorationContext}, ExploreOptions?)"/>
    public static Task<ExplorationResult> ExploreAsync(int iterations, string strategy, Func<ExplorationContext, Task> body, ExploreOptions? options = null)
    {
        options ??= new ExploreOptions();
        ScheduleStrategy? s;
        try { s = ScheduleStrategy.Create(strategy, options.Seed, options.PctDepth); }
        catch (ArgumentException e) { throw new ArgumentException(e.Message.Replace("actorstack.run.schedule", "strategy"), nameof(strategy)); }
        return ExploreAsync(iterations, s, body, options);
    }

    /// <summary>As above with a strategy object of one's own (null: fifo). Its <see cref="ScheduleStrategy.StartIteration"/> is called per iteration.</summary>
    public static async Task<ExplorationResult> ExploreAsync(int iterations, ScheduleStrategy? strategy, Func<ExplorationContext, Task> body, ExploreOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        options ??= new ExploreOptions();
        string name = strategy?.Name ?? "fifo";
        int seed = strategy?.Seed ?? options.Seed;
        if (strategy is null) iterations = Math.Min(iterations, 1); // fifo has one schedule
        for (int i = 0; i < iterations; i++)
        {
            strategy?.StartIteration(i);
            var run = await RunOnce(strategy, name, i, body, options).ConfigureAwait(false);
            if (run.Failure is { } f)
                return new ExplorationResult(name, seed, i + 1, Fail(name, seed, i, f, run.Choices, options));
        }
        return new ExplorationResult(name, seed, iterations, null);
    }

    /// <summary>
    /// Replays the schedule in <paramref name="traceFile"/>: refused before running (a <see cref="ScheduleTraceException"/>)
    /// when the file is not a trace or is of another build or <see cref="ExploreOptions.Scenario"/>; stopped with a
    /// <see cref="ScheduleReplayException"/> naming the first step where the run's decisions differ from the recorded ones.
    /// </summary>
    public static ReplayResult Replay(string traceFile, Action<ExplorationContext> body, ExploreOptions? options = null)
        => ReplayAsync(traceFile, Sync(body), options).GetAwaiter().GetResult();

    /// <inheritdoc cref="Replay(string, Action{ExplorationContext}, ExploreOptions?)"/>
    public static async Task<ReplayResult> ReplayAsync(string traceFile, Func<ExplorationContext, Task> body, ExploreOptions? options = null)
    {
        options ??= new ExploreOptions();
        var trace = ScheduleTrace.Read(traceFile);
        trace.CheckCompatible(options.Scenario, traceFile);
        var replay = new ReplayScheduleStrategy(trace.Choices);
        var run = await RunOnce(replay, "replay", trace.Iteration, body, options).ConfigureAwait(false);
        if (run.Halt is ScheduleReplayException mismatch) throw new ScheduleReplayException($"{traceFile}: {mismatch.Message}");
        return new ReplayResult(run.Failure, replay.Step, trace.Choices.Count);
    }

    /// <summary>
    /// The bounded exhaustive mode: depth-first over every choice sequence of up to <paramref name="depth"/> decisions
    /// (engine and mailbox level), re-running <paramref name="body"/> once per schedule with a choice prefix, and pruning
    /// interleavings equivalent to one already run (sleep sets; see <see cref="ExhaustiveStrategy"/>). Stops at the first
    /// failure when <paramref name="stopOnFailure"/>, and after <paramref name="maxRuns"/> runs in any case.
    /// <paramref name="reduce"/> false turns the reduction off (every interleaving is run; for comparison).
    /// </summary>
    public static ExhaustiveResult Exhaust(int depth, Action<ExplorationContext> body, ExploreOptions? options = null, bool stopOnFailure = true,
        int maxRuns = 10_000, bool reduce = true)
        => ExhaustAsync(depth, Sync(body), options, stopOnFailure, maxRuns, reduce).GetAwaiter().GetResult();

    /// <inheritdoc cref="Exhaust(int, Action{ExplorationContext}, ExploreOptions?, bool, int, bool)"/>
    public static async Task<ExhaustiveResult> ExhaustAsync(int depth, Func<ExplorationContext, Task> body, ExploreOptions? options = null,
        bool stopOnFailure = true, int maxRuns = 10_000, bool reduce = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        options ??= new ExploreOptions();
        var dfs = new ExhaustiveStrategy(depth, reduce);
        int schedules = 0, pruned = 0, failing = 0, runs = 0;
        ExplorationFailure? first = null;
        bool cut = false;
        while (true)
        {
            dfs.StartIteration(runs);
            var run = await RunOnce(dfs, "exhaustive", runs, body, options).ConfigureAwait(false);
            runs++;
            if (run.Halt is ScheduleReplayException nondeterministic)
                throw new ScheduleReplayException($"exhaustive exploration, run {runs - 1}: {nondeterministic.Message}");
            if (run.Halt is ScheduleSleepBlockedException) pruned++;
            else
            {
                schedules++;
                if (run.Failure is { } f)
                {
                    failing++;
                    first ??= Fail("exhaustive", 0, runs - 1, f, run.Choices, options);
                    if (stopOnFailure) { cut = true; break; }
                }
            }
            if (!dfs.Backtrack()) break;
            if (runs >= maxRuns) { cut = true; break; }
        }
        return new ExhaustiveResult(schedules, pruned, failing, !cut && !dfs.Truncated, first);
    }

    private static Func<ExplorationContext, Task> Sync(Action<ExplorationContext> body) => ctx =>
    {
        body(ctx);
        return Task.CompletedTask;
    };

    private static ExplorationFailure Fail(string name, int seed, int iteration, Exception e, IReadOnlyList<ScheduleChoice> choices, ExploreOptions options)
    {
        var dir = options.TraceDirectory ?? Path.Combine(Path.GetTempPath(), "actorstack-schedules");
        var file = Path.Combine(dir, $"{name}-seed{seed}-iter{iteration}-{Guid.NewGuid():N}.trace");
        new ScheduleTrace(name, seed, iteration, ScheduleTrace.CurrentBuild, options.Scenario, $"{e.GetType().FullName}: {e.Message}", choices).Write(file);
        return new ExplorationFailure(name, seed, iteration, file, e, choices);
    }

    private sealed record RunOutcome(Exception? Failure, Exception? Halt, IReadOnlyList<ScheduleChoice> Choices);

    /// <summary>One iteration: a fresh system, the body, the verdict, the teardown.</summary>
    private static async Task<RunOutcome> RunOnce(ScheduleStrategy? strategy, string name, int iteration, Func<ExplorationContext, Task> body, ExploreOptions options)
    {
        var config = StackConfig.AkkaConfig(options.Hocon + "\n" + SimEngine.Hocon + "\n" + Hocon);
        var system = options.SystemFactory?.Invoke(config) ?? ActorSystem.Create("explore", config);
        var engine = SimEngine.For(system);
        var errors = new ErrorCatcher(((ExtendedActorSystem)system).Provider);
        system.EventStream.Subscribe(errors, typeof(Error));
        engine.Pause();
        engine.UseStrategy(strategy, record: true);
        engine.SetLimits(options.MaxSteps, options.MaxTime);
        Exception? failure = null;
        try
        {
            await body(new ExplorationContext(system, engine, iteration, name)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        var halt = engine.Halted;
        // A halt the body caught (or that stopped it) is the verdict: liveness, a replay that left its trace.
        if (halt is not null && halt is not ScheduleSleepBlockedException) failure = halt;
        if (failure is null && options.FailOnActorError && errors.First is { } err)
            failure = err.Cause ?? new InvalidOperationException($"{err.LogSource}: {err.Message}");
        var choices = engine.Choices.ToArray();
        await TearDown(system, engine, halt is ScheduleLivenessException).ConfigureAwait(false);
        return new RunOutcome(failure, halt, choices);
    }

    /// <summary>
    /// Ends an iteration's system. After a liveness failure the user guardian is stopped first and the engine run at the
    /// current instant (within a step limit): each looping actor handles its Terminate before its next message, so the
    /// loop ends, and the coordinated shutdown then runs inline as always.
    /// </summary>
    private static async Task TearDown(ActorSystem system, SimEngine engine, bool looping)
    {
        engine.UseStrategy(null);
        engine.ClearHalt();
        engine.SetLimits(100_000, null);
        if (looping)
        {
            ((ExtendedActorSystem)system).Guardian.Stop();
            try { engine.RunUntilIdle(); }
            catch (ScheduleLivenessException) { }
            engine.ClearHalt();
            engine.SetLimits(100_000, null);
        }
        engine.ReleaseControl();
        try { await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false); }
        catch (TimeoutException) { }
    }

    /// <summary>Keeps the Error events published on the event stream (an actor's failure as its supervisor logs it), synchronously.</summary>
    private sealed class ErrorCatcher(IActorRefProvider provider) : MinimalActorRef
    {
        private readonly ConcurrentQueue<Error> _errors = new();

        public Error? First => _errors.TryPeek(out var e) ? e : null;
        public override ActorPath Path { get; } = provider.TempPath();
        public override IActorRefProvider Provider => provider;

        protected override void TellInternal(object message, IActorRef sender)
        {
            if (message is Error e) _errors.Enqueue(e);
        }
    }
}
