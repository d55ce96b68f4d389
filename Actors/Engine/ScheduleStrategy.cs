namespace ActorStack.Actors.Engine;

/// <summary>Where a scheduling decision is taken.</summary>
public enum ScheduleChoiceKind : byte
{
    /// <summary>
    /// Engine level: several events are due at the current instant (mailbox runs of different actors, timers due at the
    /// same instant); the strategy picks the one that runs next.
    /// </summary>
    Engine = (byte)'E',
    /// <summary>
    /// Mailbox level: an actor dequeues and its queue holds messages from more than one sender; the strategy picks whose
    /// oldest message comes next (one sender's messages to one receiver stay in order: Akka's guarantee).
    /// </summary>
    Mailbox = (byte)'M',
}

/// <summary>One decision with at least two options, as a schedule trace records it.</summary>
/// <param name="Kind">Engine or mailbox level.</param>
/// <param name="Chosen">The option taken, 0-based; option 0 is always what <c>fifo</c> takes.</param>
/// <param name="Options">How many options there were.</param>
/// <param name="TimeNs">Virtual time of the decision.</param>
public readonly record struct ScheduleChoice(ScheduleChoiceKind Kind, int Chosen, int Options, long TimeNs)
{
    public override string ToString() => $"{(char)Kind} {Chosen}/{Options} @{TimeNs}ns";
}

/// <summary>
/// One option of a decision. <paramref name="Actor"/> is the actor the option lets progress (a mailbox run's owner, a
/// timer's receiver, a message's sender, as <see cref="SimEngine.DigestPath"/> names it): priority-based strategies
/// rank actors. <paramref name="Id"/> names the event itself for the bounded exhaustive mode (stable across re-runs of a
/// deterministic body: a mailbox run by its owner, a timer by its sequence number).
/// </summary>
public readonly record struct ScheduleOption(string Actor, string Id);

/// <summary>
/// How the engine orders what may happen in any order: which of the events due at one instant runs next, and which
/// sender's oldest message an actor handles next. Without a strategy (<see cref="SimEngine.Strategy"/> null, the
/// <c>fifo</c> schedule) the engine runs events by (time, sequence number) and mailboxes are FIFO, at no extra cost.
/// A strategy is called on the thread running the engine, one decision at a time; it is not thread-safe and belongs to
/// one engine at a time.
/// </summary>
public abstract class ScheduleStrategy
{
    /// <summary><c>random</c>, <c>pct</c>, <c>replay</c>, <c>exhaustive</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The seed a trace header records (0 where none applies).</summary>
    public virtual int Seed => 0;

    /// <summary>Called by the explorer before each iteration (0-based), before the body runs.</summary>
    public virtual void StartIteration(int iteration) { }

    /// <summary>
    /// Picks one of <paramref name="options"/> (at least two, or one when <see cref="EveryStep"/>); option 0 is the
    /// fifo choice. May return -1 to stop the run (the exhaustive mode's sleep-set block).
    /// </summary>
    protected internal abstract int Choose(ScheduleChoiceKind kind, IReadOnlyList<ScheduleOption> options, long nowNs, SimEngine engine);

    /// <summary>True when the engine should call <see cref="Choose"/> at engine-level steps with one option too.</summary>
    internal virtual bool EveryStep => false;

    /// <summary>True when the engine should record what each engine-level event touched (<see cref="Executed"/>).</summary>
    internal virtual bool WantsFootprints => false;

    /// <summary>After an engine-level event ran: what it touched (only when <see cref="WantsFootprints"/>).</summary>
    internal virtual void Executed(Footprint footprint) { }

    /// <summary>A Run*/Step call begins (the body may have told messages from outside since the last one).</summary>
    internal virtual void RunStarted() { }

    /// <summary>
    /// The strategy the configuration names (<c>actorstack.run.schedule</c>): null for <c>fifo</c>, or a seeded
    /// <c>random</c> or <c>pct</c>. Anything else is refused naming the key and the values it takes.
    /// </summary>
    public static ScheduleStrategy? Create(string name, int seed, int pctDepth) => name switch
    {
        "fifo" => null,
        "random" => new RandomScheduleStrategy(seed),
        "pct" => new PctScheduleStrategy(seed, pctDepth),
        _ => throw new ArgumentException($"actorstack.run.schedule: \"{name}\" is not a schedule (fifo, random or pct)", nameof(name)),
    };
}

/// <summary>
/// <c>random</c>: every decision uniformly at random from a <see cref="Random"/> seeded with
/// (<see cref="Seed"/>, iteration), so iteration i of seed s is the same schedule whenever it is run.
/// </summary>
public sealed class RandomScheduleStrategy : ScheduleStrategy
{
    private readonly int _seed;
    private Random _random;

    public RandomScheduleStrategy(int seed)
    {
        _seed = seed;
        _random = new Random(IterationSeed(seed, 0));
    }

    public override string Name => "random";
    public override int Seed => _seed;

    public override void StartIteration(int iteration) => _random = new Random(IterationSeed(_seed, iteration));

    protected internal override int Choose(ScheduleChoiceKind kind, IReadOnlyList<ScheduleOption> options, long nowNs, SimEngine engine)
        => _random.Next(options.Count);

    /// <summary>The seed of iteration <paramref name="iteration"/> (iteration 0 is the seed itself).</summary>
    public static int IterationSeed(int seed, int iteration)
    {
        if (iteration == 0) return seed;
        ulong h = ((ulong)(uint)seed << 32 | (uint)iteration) * 0x9E3779B97F4A7C15UL;
        return (int)(h >> 33);
    }
}

/// <summary>
/// <c>pct</c>: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010), as Microsoft Coyote's
/// <c>PrioritizationStrategy</c> implements it. Every actor gets a random priority when it first appears in a decision
/// (inserted at a random place in the priority list); at each decision whose options belong to two or more actors the
/// highest-priority actor's option runs (among several of its own, one at random). <c>depth</c> - 1 priority change
/// points are drawn over the estimated schedule length (the most such decisions any earlier iteration had; Coyote
/// draws 1..depth of them); at a change point the highest-priority actor among the options drops to the lowest
/// priority. A bug of depth d (d ordering constraints) is found with probability at least 1/(n·k^(d-1)) per iteration
/// for n actors and k steps. One <see cref="Random"/> seeded once serves every iteration.
/// </summary>
public sealed class PctScheduleStrategy : ScheduleStrategy
{
    private readonly int _seed;
    private readonly int _depth;
    private readonly Random _random;
    private readonly List<string> _priorities = []; // highest first
    private readonly HashSet<int> _changePoints = [];
    private int _maxChangePoints; // the estimated schedule length, in decisions between two or more actors
    private int _changePointCount; // such decisions in this iteration
    private bool _started;

    public PctScheduleStrategy(int seed, int depth)
    {
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), $"actorstack.run.pct-depth: {depth}, must be at least 1");
        _seed = seed;
        _depth = depth;
        _random = new Random(seed);
    }

    public override string Name => "pct";
    public override int Seed => _seed;

    /// <summary>d: the bug depth the strategy targets (d - 1 change points per iteration).</summary>
    public int Depth => _depth;

    /// <summary>The priority change points of the current iteration (indices of multi-actor decisions), ascending.</summary>
    public IReadOnlyList<int> ChangePoints => _changePoints.Order().ToList();

    public override void StartIteration(int iteration)
    {
        // Coyote's InitializeNextIteration: the length estimate is the longest iteration so far.
        if (_started) _maxChangePoints = Math.Max(_maxChangePoints, _changePointCount);
        _started = true;
        _priorities.Clear();
        _changePoints.Clear();
        _changePointCount = 0;
        int points = Math.Min(_depth - 1, _maxChangePoints);
        if (points <= 0) return;
        // Fisher-Yates over [0, estimate), the first `points` of it.
        var range = Enumerable.Range(0, _maxChangePoints).ToArray();
        for (int i = range.Length - 1; i >= 1; i--)
        {
            int j = _random.Next(i + 1);
            (range[i], range[j]) = (range[j], range[i]);
        }
        for (int i = 0; i < points; i++) _changePoints.Add(range[i]);
    }

    protected internal override int Choose(ScheduleChoiceKind kind, IReadOnlyList<ScheduleOption> options, long nowNs, SimEngine engine)
    {
        if (!_started) StartIteration(0);
        // New actors get a random priority (Coyote's SetNewOperationGroupPriorities).
        bool several = false;
        for (int i = 0; i < options.Count; i++)
        {
            var a = options[i].Actor;
            if (!_priorities.Contains(a)) _priorities.Insert(_random.Next(_priorities.Count + 1), a);
            if (a != options[0].Actor) several = true;
        }
        string? best;
        if (several)
        {
            if (_changePoints.Contains(_changePointCount))
            {
                // PrioritizeNextOperationGroup: the highest-priority enabled actor drops to the end.
                var top = Highest(options)!;
                _priorities.Remove(top);
                _priorities.Add(top);
            }
            _changePointCount++;
            best = Highest(options);
        }
        else best = options[0].Actor;
        int n = 0;
        for (int i = 0; i < options.Count; i++) if (options[i].Actor == best) n++;
        int pick = _random.Next(n);
        for (int i = 0; i < options.Count; i++)
            if (options[i].Actor == best && pick-- == 0) return i;
        return 0;
    }

    private string? Highest(IReadOnlyList<ScheduleOption> options)
    {
        foreach (var a in _priorities)
            for (int i = 0; i < options.Count; i++)
                if (options[i].Actor == a) return a;
        return null;
    }
}

/// <summary>
/// <c>replay</c>: feeds back the choices of a <see cref="ScheduleTrace"/>. At every decision the kind and the number of
/// options must be the recorded ones; the first that differs stops the run with a <see cref="ScheduleReplayException"/>
/// naming that step (a trace of another build or scenario, or a body that is not deterministic).
/// </summary>
public sealed class ReplayScheduleStrategy(IReadOnlyList<ScheduleChoice> choices) : ScheduleStrategy
{
    private int _step;

    public override string Name => "replay";

    /// <summary>Decisions replayed so far.</summary>
    public int Step => _step;

    /// <summary>True when every recorded choice has been replayed.</summary>
    public bool Complete => _step == choices.Count;

    public override void StartIteration(int iteration) => _step = 0;

    protected internal override int Choose(ScheduleChoiceKind kind, IReadOnlyList<ScheduleOption> options, long nowNs, SimEngine engine)
    {
        int step = _step++;
        if (step >= choices.Count)
        {
            engine.Halt(new ScheduleReplayException(
                $"schedule replay: step {step} ({(char)kind} with {options.Count} options at {nowNs} ns) is past the end of the trace ({choices.Count} choices): " +
                "the trace is of another build or scenario, or the body is not deterministic"));
            return 0;
        }
        var c = choices[step];
        if (c.Kind != kind || c.Options != options.Count)
        {
            engine.Halt(new ScheduleReplayException(
                $"schedule replay: step {step} differs: the trace has {c}, this run has {(char)kind} with {options.Count} options at {nowNs} ns: " +
                "the trace is of another build or scenario, or the body is not deterministic"));
            return 0;
        }
        return c.Chosen;
    }
}

/// <summary>A replayed schedule left the recorded one (another build or scenario, or a nondeterministic body).</summary>
public sealed class ScheduleReplayException(string message) : Exception(message);

/// <summary>
/// A run that did not come to rest: more events than <c>actorstack.run.explore-max-steps</c>, or an event due after
/// <c>actorstack.run.explore-max-time</c> of simulated time (a message loop at one instant, a timer re-arming forever).
/// </summary>
public sealed class ScheduleLivenessException(string message, string limit, long steps, long timeNs) : Exception(message)
{
    /// <summary><c>steps</c> or <c>time</c>.</summary>
    public string Limit { get; } = limit;

    /// <summary>Events executed when the run was stopped.</summary>
    public long Steps { get; } = steps;

    /// <summary>Virtual time when the run was stopped.</summary>
    public long TimeNs { get; } = timeNs;
}

/// <summary>
/// What one engine-level event touched, for the exhaustive mode's partial-order reduction: the actor it ran (or a
/// timer's own id), the actors whose mailboxes it put anything in, and the (receiver, sender) pairs of the user messages
/// it sent. <see cref="Global"/>: an event whose effects are unknown (a scheduled action, a task), dependent on all.
/// </summary>
internal sealed class Footprint(string owner)
{
    public string Owner { get; } = owner;
    public bool Global;
    public readonly HashSet<string> Touched = [];
    public readonly HashSet<(string Receiver, string Sender)> Pairs = [];

    public void UnionWith(Footprint o)
    {
        Global |= o.Global;
        Touched.UnionWith(o.Touched);
        Pairs.UnionWith(o.Pairs);
    }

    /// <summary>
    /// Two events commute when neither touches what the other runs on: different owners, neither puts anything in the
    /// other's mailbox, and they do not both send as one sender to one receiver (that pair's order is Akka's FIFO).
    /// Sends of two different senders to a third actor commute: the third actor's mailbox-level decision offers either
    /// sender's message first whatever order they arrived in.
    /// </summary>
    public bool Independent(Footprint o) =>
        !Global && !o.Global && Owner != o.Owner && !Touched.Contains(o.Owner) && !o.Touched.Contains(Owner) && !Pairs.Overlaps(o.Pairs);
}

/// <summary>The exhaustive mode's sleep-set block: every enabled event is asleep, the run is redundant (internal).</summary>
internal sealed class ScheduleSleepBlockedException() : Exception("schedule exploration: sleep-set blocked (a redundant interleaving)");
