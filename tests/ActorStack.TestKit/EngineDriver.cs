using Akka.Actor;
using ActorStack.Actors.Engine;

namespace ActorStack.Testing;

/// <summary>A kit assertion that failed: its message names the counter (or condition) and both values.</summary>
public class StackAssertionException(string message) : Xunit.Sdk.XunitException(message);

/// <summary>The kit's limits: how long it runs the simulation while it waits for one thing (simulated time, never wall time).</summary>
public static class KitDefaults
{
    /// <summary>Longest stretch of simulated time a wait (RunUntil, an Ask, a blocking socket call) runs before it fails.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
}

/// <summary>Something the driver tells after each simulated instant it ran to quiescence (the probes of drops).</summary>
public interface IInstantObserver
{
    void AfterInstant(TimeSpan now);
}

/// <summary>
/// Drives a <see cref="SimEngine"/> from a test: the clock moves only here, instant by instant, and every call returns
/// when everything due at the instant it stops at has run (the engine is quiescent there). Nothing here reads the wall
/// clock: a wait is bounded by simulated time, so a failing test stops at its limit at once, whatever the machine's load.
/// Runs on the test's thread; events run on it too (one at a time, inside <see cref="SimEngine"/>'s Run*).
/// </summary>
public sealed class EngineDriver(SimEngine engine)
{
    private readonly List<IInstantObserver> _observers = new();

    public SimEngine Engine => engine;

    /// <summary>The simulated time since virtual 0 (<c>actorstack.run.epoch</c>).</summary>
    public TimeSpan Now => engine.Now;

    /// <summary>The default limit of <see cref="RunUntil"/> and <see cref="Ask{T}"/> (<see cref="KitDefaults.Limit"/>).</summary>
    public TimeSpan DefaultLimit { get; set; } = KitDefaults.Limit;

    /// <summary>
    /// Liveness bound: at most this many events at one simulated instant (a message loop, a timer re-arming itself at
    /// zero delay) before a wait fails with a liveness failure instead of hanging (<see cref="SimEngine.RunDueBounded"/>);
    /// null (the default): unchecked.
    /// </summary>
    public long? MaxEventsPerInstant { get; set; }

    public void AddObserver(IInstantObserver o) => _observers.Add(o);
    public void RemoveObserver(IInstantObserver o) => _observers.Remove(o);

    private void Observed()
    {
        if (_observers.Count == 0) return;
        var now = engine.Now;
        foreach (var o in _observers.ToArray()) o.AfterInstant(now);
    }

    /// <summary>Runs everything due at the current instant (and what that causes at it); the clock does not move.</summary>
    public void RunIdle()
    {
        RunThrough(engine.NowNs);
        Observed();
    }

    /// <summary>Runs every event due at or before <paramref name="tNs"/>; the clock ends there. Counts events per instant when bounded.</summary>
    private void RunThrough(long tNs)
    {
        if (MaxEventsPerInstant is not { } max)
        {
            engine.RunUntilNs(tNs);
            return;
        }
        if (!engine.RunDueBounded(tNs, max))
            throw new StackAssertionException($"liveness: more than {max} events at simulated +{engine.Now} without the clock moving " +
                                              "(a message loop, or a timer re-arming itself at zero delay)");
        engine.RunUntilNs(tNs);
    }

    /// <summary>
    /// Runs the simulation for <paramref name="duration"/> of simulated time: instant by instant, each to quiescence, then
    /// the clock stands at exactly now + duration with everything due then done.
    /// </summary>
    public void RunFor(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(duration), duration, "the clock does not go back");
        long target = engine.NowNs + SimEngine.ToNs(duration);
        RunIdle();
        // Instant by instant only for observers (a drop probe): otherwise one run, in the engine's own loop.
        while (_observers.Count > 0 && engine.NextDueNs is { } next && next <= target)
        {
            RunThrough(next);
            Observed();
        }
        RunThrough(target);
        Observed();
    }

    /// <summary>
    /// Runs everything due now, and while <paramref name="done"/> does not hold moves the clock to the next queued event
    /// and runs that instant to quiescence. Fails (<see cref="StackAssertionException"/>) when nothing is queued while not
    /// done (a stall: nothing can ever make it true) or when the next event lies beyond <paramref name="limit"/> of
    /// simulated time (default <see cref="DefaultLimit"/>). Returns the simulated time that passed. A condition that
    /// holds at the start returns at once (zero).
    /// </summary>
    public TimeSpan RunUntil(Func<bool> done, TimeSpan? limit = null, string? what = null)
    {
        var start = engine.Now;
        RunIdle();
        while (!done()) NextInstant(start, limit, what);
        return engine.Now - start;
    }

    /// <summary>
    /// <see cref="RunUntil"/> for a condition that is costly to check (it asks the actors for their status): the
    /// simulation runs in steps of <paramref name="every"/> (each ending quiescent, see <see cref="RunFor"/>) and the
    /// condition is checked after each; fails past <paramref name="limit"/>. Returns the simulated time that passed
    /// (a multiple of <paramref name="every"/>).
    /// </summary>
    public TimeSpan RunUntil(Func<bool> done, TimeSpan limit, TimeSpan every, string? what = null)
    {
        if (every <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(every), every, "must be positive");
        var start = engine.Now;
        RunIdle();
        while (!done())
        {
            if (engine.Now - start + every > limit)
                throw new StackAssertionException($"{what ?? "condition"}: not met within {limit} of simulated time (checked every {every})");
            RunFor(every);
        }
        return engine.Now - start;
    }

    /// <summary><see cref="RunUntil(Func{bool}, TimeSpan?, string?)"/> for a condition that asks the actors itself (it may run the engine).</summary>
    public async Task<TimeSpan> RunUntilAsync(Func<Task<bool>> done, TimeSpan? limit = null, string? what = null)
    {
        var start = engine.Now;
        RunIdle();
        while (!await done()) NextInstant(start, limit, what);
        return engine.Now - start;
    }

    /// <summary>Moves the clock to the next queued event and runs what is due then; fails on a stall or past the limit.</summary>
    private void NextInstant(TimeSpan start, TimeSpan? limit, string? what)
    {
        var max = limit ?? DefaultLimit;
        // In ns: an event between two 100 ns ticks (a frame's wire time, a CPU cost) must be reached, not rounded off.
        long whenNs = engine.NextDueNs
            ?? throw new StackAssertionException($"{what ?? "condition"}: stalled at +{engine.Now - start}, nothing queued");
        if (SimEngine.FromNs(whenNs) - start > max)
            throw new StackAssertionException($"{what ?? "condition"}: not met within {max} of simulated time");
        RunThrough(whenNs);
        Observed();
    }

    /// <summary>
    /// Starts an Ask on the engine (Akka's Ask without a timeout: no wall-clock timer): first runs everything due now (what
    /// the test told before has gone all the way through), then asks and runs what is due now again.
    /// </summary>
    public Task<object> Begin(IActorRef target, object message)
    {
        RunIdle();
        var answer = target.Ask<object>(message);
        RunIdle();
        return answer;
    }

    /// <summary>
    /// Asks <paramref name="target"/> and runs the engine until the answer is there (moving the clock only if the answer
    /// needs time, e.g. a connect's handshake over a wire with delay), at most <paramref name="limit"/> of simulated time.
    /// An answer of another type than <typeparamref name="T"/> fails with both named.
    /// </summary>
    public T Ask<T>(IActorRef target, object message, TimeSpan? limit = null)
    {
        var answer = Begin(target, message);
        RunUntil(() => answer.IsCompleted, limit, $"answer of {target.Path.Name} to {message.GetType().Name}");
        var r = answer.GetAwaiter().GetResult();
        return r is T t ? t : throw new StackAssertionException($"{target.Path.Name} answered {message.GetType().Name} with {r}, expected {typeof(T).Name}");
    }
}
