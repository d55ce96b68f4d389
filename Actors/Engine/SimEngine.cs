using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace ActorStack.Actors.Engine;

/// <summary>What an executed event was, as the event digest records it.</summary>
public enum SimEventKind : byte
{
    /// <summary>An actor's mailbox run (one dispatcher turn: up to <c>throughput</c> messages).</summary>
    MailboxRun = 1,
    /// <summary>Another runnable a dispatcher was given (a task continuation, a dispatcher-scheduled action).</summary>
    Task = 2,
    /// <summary>A scheduled Tell (<c>ScheduleTellOnce</c>/<c>ScheduleTellRepeatedly</c>, actor timers).</summary>
    TimerTell = 3,
    /// <summary>A scheduled action or runnable.</summary>
    TimerAction = 4,
}

/// <summary>One executed event as the digest hashes it.</summary>
public readonly record struct SimEventRecord(long TimeNs, SimEventKind Kind, string Target, string Message);

/// <summary>
/// The deterministic discrete-event engine under an actor system: a virtual clock (ns) and one <see cref="EventQueue{T}"/>
/// of timers (<see cref="VirtualTimeScheduler"/>) and mailbox runs (<see cref="EngineExecutorConfigurator"/>) ordered by
/// (virtual time, sequence number). Events run one at a time on the thread that calls <see cref="RunUntilIdle"/>,
/// <see cref="RunUntil(TimeSpan)"/>, <see cref="RunFor"/> or <see cref="Step"/>; the clock moves only when nothing is
/// runnable at the current instant. A Tell from outside (a test, the CLI) while the engine is paused queues the
/// receiver's mailbox run with the next sequence number, so it is ordered after every event already queued at that
/// instant.
/// <para>
/// While the system boots (guardians, loggers, TestKit's test actor) nobody drives the engine yet, and Akka waits
/// for those actors on the booting thread. So the engine starts <see cref="Inline"/>: an event queued from outside a
/// run is drained (only what is due now, the clock does not move) on the thread that queued it, as Akka's
/// CallingThreadDispatcher does. The first <c>Run*</c>/<see cref="Step"/> (or <see cref="Pause"/>) ends that; from
/// then on nothing runs until a <c>Run*</c>. <see cref="ReleaseControl"/> returns to inline mode (for shutdown).
/// </para>
/// </summary>
public sealed class SimEngine
{
    /// <summary>Default simulated epoch (<c>actorstack.run.epoch</c>): what the clock reads at virtual time 0.</summary>
    public static readonly DateTimeOffset DefaultEpoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const ulong FnvOffset = 0xcbf29ce484222325UL;
    private const ulong FnvPrime = 0x100000001b3UL;
    private const ulong FnvPrime2 = unchecked(FnvPrime * FnvPrime); // two FNV steps, the second over a zero byte

    // The engine is the dispatcher itself, not an actor: Tells from outside (a test, the CLI, Akka's own threads)
    // reach its queue from any thread, so the queue and clock are guarded here (a SpinGate),
    // and _runLock admits one thread at a time into the run loop.
    private SpinGate _gate;
    private readonly Lock _runLock = new();
    // Items: a SimEvent (a timer), or the IRunnable a dispatcher was given (a mailbox run), queued as it is so a
    // mailbox run costs no allocation.
    private readonly EventQueue<object> _queue = new();
    private readonly ILoggingAdapter? _log;
    private long _nowNs;
    private int _cancelledQueued;
    private ulong _digest = FnvOffset;
    private long _executed;
    private volatile bool _inline = true;
    private int _runner; // managed thread id running events, 0 when none

    // Schedule exploration (ScheduleStrategy.cs, ScheduleExplorer.cs). Without a strategy none of this is touched: the
    // engine runs by (time, seq) as it always did (the fifo schedule) and only `_limited` is read per event.
    private ScheduleStrategy? _strategy;
    // With a strategy, the events due at the current instant, in seq order, taken out of _queue so the strategy can
    // pick any of them; timers among them are no longer InQueue (a cancel just marks them; they are skipped here).
    private readonly List<(object Item, long Seq)> _ready = [];
    private readonly List<ScheduleOption> _options = [];
    private readonly List<int> _optionIndex = [];
    private List<ScheduleChoice>? _choices;
    private Footprint? _footprint; // what the running event touches, when the strategy wants it
    // Liveness limits (the explorer's explore-max-steps / explore-max-time) and a halt (a limit hit, a replay that left
    // its trace): Run* stops and throws it. `_limited` is the one flag the fifo path reads.
    private bool _limited;
    private long _limitSteps, _limitBase, _limitTimeNs;
    private Exception? _halt;

    public SimEngine(DateTimeOffset epoch, ILoggingAdapter? log = null)
    {
        Epoch = epoch;
        _log = log;
    }

    /// <summary>The engine under <paramref name="system"/> (its scheduler must be <see cref="VirtualTimeScheduler"/>).</summary>
    /// <remarks>
    /// The first call also hooks the system's coordinated shutdown: its first phase returns the engine to inline mode
    /// (<see cref="ReleaseControl"/>), so <c>Terminate()</c> on a paused engine finishes instead of waiting forever
    /// for guardians nobody runs.
    /// </remarks>
    public static SimEngine For(ActorSystem system)
    {
        var engine = (system.Scheduler as VirtualTimeScheduler)?.Engine
           ?? throw new InvalidOperationException(
               $"actor system {system.Name} does not run on the simulation engine (akka.scheduler.implementation is {system.Scheduler.GetType().FullName}); use SimEngine.Hocon");
        if (Interlocked.Exchange(ref engine._shutdownHooked, 1) == 0)
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "actorstack-engine-release", () =>
            {
                engine.ReleaseControl();
                return Task.FromResult(Akka.Done.Instance);
            });
        return engine;
    }

    private int _shutdownHooked;

    /// <summary>
    /// True when <paramref name="system"/> runs on the engine (virtual time). The models of what costs time when nothing
    /// does (NIC line rate, CPU cost per packet) apply only there: on the real clock the machine's own CPU is the cost.
    /// </summary>
    public static bool IsVirtual(ActorSystem system) => system.Scheduler is VirtualTimeScheduler;

    /// <summary>
    /// The HOCON that puts an actor system on the engine: the scheduler, the default and internal dispatchers, and the
    /// loggers on a thread-pool dispatcher of their own (they are outside the simulation).
    /// </summary>
    public const string Hocon = """
        akka.scheduler.implementation = "ActorStack.Actors.Engine.VirtualTimeScheduler, ActorStack.Actors"
        akka.actor.default-dispatcher {
          executor = "ActorStack.Actors.Engine.EngineExecutorConfigurator, ActorStack.Actors"
          throughput = 30
          throughput-deadline-time = 0ms
        }
        akka.actor.internal-dispatcher {
          executor = "ActorStack.Actors.Engine.EngineExecutorConfigurator, ActorStack.Actors"
          throughput = 5
          throughput-deadline-time = 0ms
        }
        akka.actor.default-mailbox.mailbox-type = "ActorStack.Actors.Engine.EngineMailbox, ActorStack.Actors"
        akka.actor.mailbox.requirements {
          "Akka.Dispatch.IUnboundedDequeBasedMessageQueueSemantics" = actorstack-engine-deque-mailbox
        }
        actorstack-engine-deque-mailbox.mailbox-type = "ActorStack.Actors.Engine.EngineDequeMailbox, ActorStack.Actors"
        akka.loggers-dispatcher = "actorstack-engine-loggers-dispatcher"
        actorstack-engine-loggers-dispatcher {
          type = Dispatcher
          executor = "thread-pool-executor"
          throughput = 100
        }
        """;

    /// <summary>Wall-clock instant of virtual time 0.</summary>
    public DateTimeOffset Epoch { get; }

    /// <summary>Virtual time since the start, in nanoseconds.</summary>
    /// <remarks>Written under the gate by the running thread only; a 64-bit read needs no gate (actors read it per event).</remarks>
    public long NowNs => Volatile.Read(ref _nowNs);

    /// <summary>Virtual time since the start (100 ns resolution; <see cref="NowNs"/> has the ns).</summary>
    public TimeSpan Now => FromNs(NowNs);

    /// <summary><see cref="Epoch"/> + <see cref="Now"/>.</summary>
    public DateTimeOffset UtcNow => Epoch + Now;

    /// <summary>True while events queued from outside a run are drained by the queuing thread (boot, shutdown).</summary>
    public bool Inline => _inline;

    /// <summary>Events executed so far (cancelled timers are not executed).</summary>
    public long Executed => Volatile.Read(ref _executed);

    /// <summary>FNV-1a 64 over every executed event's (virtual time ns, kind, target actor path, message type).</summary>
    public ulong Digest => Volatile.Read(ref _digest);

    /// <summary>
    /// Called on the running thread with every executed event, as the digest sees it (e.g. to find the first event
    /// where two runs differ). Set it before running; null (the default) costs nothing.
    /// </summary>
    public Action<SimEventRecord>? Trace { get; set; }

    /// <summary>Size of the event heap, cancelled timers not dropped yet included (kept under twice the live events plus 64).</summary>
    public int QueueLength
    {
        get { using (SpinGate.Hold(ref _gate)) return _queue.Count + _ready.Count; }
    }

    /// <summary>
    /// The scheduling strategy, null for <c>fifo</c> (events by (time, seq), FIFO mailboxes: the engine as it always was).
    /// The actor system's configuration sets it (<c>actorstack.run.schedule</c>, read by <see cref="VirtualTimeScheduler"/>);
    /// <see cref="UseStrategy"/> replaces it (the explorer does, after the system has booted).
    /// </summary>
    public ScheduleStrategy? Strategy => _strategy;

    /// <summary>
    /// The decisions with two or more options taken since <see cref="UseStrategy"/> with <c>record</c> (empty otherwise):
    /// the schedule trace's body.
    /// </summary>
    public IReadOnlyList<ScheduleChoice> Choices => (IReadOnlyList<ScheduleChoice>?)_choices ?? [];

    /// <summary>
    /// Sets the scheduling strategy (null: fifo) and, with <paramref name="record"/>, starts a fresh list of
    /// <see cref="Choices"/>. Events already taken out for a decision at this instant go back to the queue in their order.
    /// </summary>
    public void UseStrategy(ScheduleStrategy? strategy, bool record = false)
    {
        using (SpinGate.Hold(ref _gate))
        {
            if (strategy is null && _ready.Count > 0)
            {
                foreach (var (item, _) in _ready)
                {
                    if (item is SimEvent ev)
                    {
                        if (ev.Cancelled) continue;
                        ev.InQueue = true;
                    }
                    _queue.Enqueue(_nowNs, item);
                }
                _ready.Clear();
            }
            _strategy = strategy;
            _choices = strategy is not null && record ? [] : null;
        }
    }

    /// <summary>
    /// Liveness limits from now on: at most <paramref name="maxSteps"/> more events (0: no limit) and no event due more
    /// than <paramref name="maxTime"/> after now (null: no limit). Past either, Run*/Step stop and throw a
    /// <see cref="ScheduleLivenessException"/> (and keep throwing it until <see cref="ClearHalt"/>).
    /// </summary>
    public void SetLimits(long maxSteps, TimeSpan? maxTime)
    {
        using (SpinGate.Hold(ref _gate))
        {
            _limitSteps = maxSteps;
            _limitBase = _executed;
            // A limit past the clock's range (TimeSpan.MaxValue) is no limit.
            _limitTimeNs = maxTime is { } m && m.Ticks < (long.MaxValue - _nowNs) / 100 ? _nowNs + m.Ticks * 100 : 0;
            _limited = _halt is not null || maxSteps > 0 || _limitTimeNs > 0;
        }
    }

    /// <summary>Why the engine stopped running (a liveness limit, a replay that left its trace), or null.</summary>
    public Exception? Halted => Volatile.Read(ref _halt);

    /// <summary>Forgets a halt and the limits: events run again.</summary>
    public void ClearHalt()
    {
        using (SpinGate.Hold(ref _gate))
        {
            _halt = null;
            _limited = false;
            _limitSteps = _limitTimeNs = 0;
        }
    }

    /// <summary>Stops the engine: the current Run*/Step returns after the running event and throws <paramref name="why"/>.</summary>
    internal void Halt(Exception why)
    {
        Interlocked.CompareExchange(ref _halt, why, null);
        _limited = true;
    }

    /// <summary>
    /// Queued events that will run (cancelled timers excluded) and the earliest one's due time, rounded up to the 100 ns
    /// tick (so <c>RunUntil(NextDue)</c> reaches it; <see cref="NextDueNs"/> has the ns).
    /// </summary>
    public (int Count, TimeSpan? NextDue) Pending
    {
        get
        {
            using (SpinGate.Hold(ref _gate))
            {
                SkipCancelledHead();
                int ready = ReadyLive();
                if (ready > 0) return (_queue.Count - _cancelledQueued + ready, TimeSpan.FromTicks((_nowNs + 99) / 100));
                return (_queue.Count - _cancelledQueued,
                    _queue.TryPeek(out _, out long t, out _) ? TimeSpan.FromTicks((t + 99) / 100) : null);
            }
        }
    }

    /// <summary>The earliest queued event's due time in ns (cancelled timers skipped), or null when nothing is queued.</summary>
    public long? NextDueNs
    {
        get
        {
            using (SpinGate.Hold(ref _gate))
            {
                SkipCancelledHead();
                if (ReadyLive() > 0) return _nowNs;
                return _queue.TryPeek(out _, out long t, out _) ? t : null;
            }
        }
    }

    public static long ToNs(TimeSpan t) => checked(t.Ticks * 100);
    public static TimeSpan FromNs(long ns) => TimeSpan.FromTicks(ns / 100);

    /// <summary>Ends inline mode: from now on events run only inside Run*/Step.</summary>
    public void Pause() => _inline = false;

    /// <summary>Back to inline mode (events queued from outside are drained by the queuing thread), e.g. before terminating the system.</summary>
    public void ReleaseControl()
    {
        _inline = true;
        // A halted engine runs nothing; for shutdown it runs again, within the same step limit counted afresh (so a
        // message loop that stopped a run cannot spin forever here either).
        if (_halt is not null)
            using (SpinGate.Hold(ref _gate))
            {
                _halt = null;
                _limitBase = _executed;
                _limitTimeNs = 0;
                _limited = _limitSteps > 0;
            }
        DrainInline();
    }

    /// <summary>Runs every event due at the current instant (and those they cause at it); the clock does not move.</summary>
    public int RunUntilIdle() => RunUntilNs(long.MinValue, moveClock: false);

    /// <summary>Runs events in (time, seq) order up to and including <paramref name="t"/> (since the start); afterwards <see cref="Now"/> == t.</summary>
    public int RunUntil(TimeSpan t) => RunUntilNs(ToNs(t));

    /// <summary><see cref="RunUntil(TimeSpan)"/> at <see cref="Now"/> + <paramref name="d"/>.</summary>
    public int RunFor(TimeSpan d) => RunUntilNs(NowNs + ToNs(d));

    /// <summary>Runs events due at or before <paramref name="tNs"/>; the clock ends at tNs (never past it). Returns events executed.</summary>
    public int RunUntilNs(long tNs) => RunUntilNs(tNs, moveClock: true);

    /// <summary>Runs the next event (moving the clock to it if it is later); false when nothing is queued.</summary>
    public bool Step()
    {
        EnterRun();
        try
        {
            bool ran = RunOne(long.MaxValue);
            ThrowIfHalted();
            return ran;
        }
        finally { ExitRun(); }
    }

    /// <summary>
    /// Runs the events due at or before <paramref name="limitNs"/> in order, as <see cref="RunUntilNs(long)"/> does but
    /// leaving the clock at the last event run, and bounded: before each event it stops when <paramref name="stop"/> says
    /// so (Ctrl-C, a reply that came), and it stops and returns false once more than <paramref name="maxPerInstant"/> events in a row
    /// ran without the clock moving (a message loop, a timer re-arming itself at zero delay: the clock would never move
    /// again). True otherwise. The same events in the same order as <see cref="Step"/> called while the next is due by
    /// the limit, in the engine's own loop; a schedule strategy sees each event as a run of its own, as with Step.
    /// </summary>
    public bool RunDueBounded(long limitNs, long maxPerInstant, Func<bool>? stop = null)
    {
        EnterRun();
        try
        {
            long at = _nowNs, sameInstant = 0;
            while (stop?.Invoke() != true && RunOne(limitNs))
            {
                long now = _nowNs; // written only by this thread (RunOne)
                if (now != at) { at = now; sameInstant = 0; }
                else if (++sameInstant > maxPerInstant) return false;
                _strategy?.RunStarted(); // each event a run of its own, as with Step (the exhaustive strategy's sleep set)
            }
            ThrowIfHalted();
            return true;
        }
        finally { ExitRun(); }
    }

    private int RunUntilNs(long tNs, bool moveClock)
    {
        EnterRun();
        try
        {
            if (!moveClock) tNs = NowNs;
            else if (tNs < NowNs) throw new ArgumentOutOfRangeException(nameof(tNs), $"{tNs} ns is before now ({NowNs} ns): the clock does not go back");
            int n = 0;
            while (RunOne(tNs)) n++;
            ThrowIfHalted();
            using (SpinGate.Hold(ref _gate)) if (_nowNs < tNs) _nowNs = tNs;
            return n;
        }
        finally { ExitRun(); }
    }

    private void EnterRun()
    {
        int me = Environment.CurrentManagedThreadId;
        if (Volatile.Read(ref _runner) == me)
            throw new InvalidOperationException("SimEngine.Run*/Step called from inside an event (an actor or a timer action)");
        _inline = false;
        _runLock.Enter();
        Volatile.Write(ref _runner, me);
        _strategy?.RunStarted();
    }

    private void ThrowIfHalted()
    {
        if (Volatile.Read(ref _halt) is { } h) throw h;
    }

    private void ExitRun()
    {
        Volatile.Write(ref _runner, 0);
        _runLock.Exit();
    }

    /// <summary>Dequeues and executes the earliest event if it is due at or before <paramref name="limitNs"/>.</summary>
    /// <remarks>
    /// Not inlined: the loops that call it run once per Run* call, so the JIT would only ever reach them through
    /// on-stack replacement; as a method of its own it is called per event and compiled like any hot method.
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private bool RunOne(long limitNs)
    {
        if (_strategy is not null) return RunChosen(limitNs);
        object item;
        long t;
        using (SpinGate.Hold(ref _gate))
        {
            while (true)
            {
                if (!_queue.TryPeek(out item, out t, out _) || t > limitNs) return false;
                if (_limited && OverLimit(t)) return false;
                _queue.TryDequeue(out _, out _, out _);
                if (item is not SimEvent ev) break;
                ev.InQueue = false;
                if (!ev.Cancelled) break;
                _cancelledQueued--;
            }
            if (t > _nowNs) Volatile.Write(ref _nowNs, t);
        }
        Execute(item, t);
        return true;
    }

    private void Execute(object item, long t)
    {
        // Only the thread holding _runLock writes these two; readers elsewhere use Volatile.Read.
        var ev = item as SimEvent;
        if (Trace is null)
        {
            // Nobody traces: the digest step from hashes the queues and the engine keep (a queue's path hash, a hash per
            // message type), without building or looking up the names. The same values as the traced branch's.
            SimEventKind kind;
            ulong target, message;
            if (ev is not null) (kind, target, message) = ev.DescribeHash(this);
            else if (item is Mailbox { MessageQueue: IEngineVisibleQueue q and not EngineDequeMessageQueue })
            {
                kind = SimEventKind.MailboxRun;
                target = q.OwnerHash;
                message = q.HeadMessage is { } m ? TypeHash(m.GetType()) : HashOf("-");
            }
            else
            {
                (kind, var t0, var m0) = DescribeRun((IRunnable)item);
                (target, message) = (HashOf(t0), HashOf(m0));
            }
            Volatile.Write(ref _executed, _executed + 1);
            Volatile.Write(ref _digest, Mix(_digest, t, kind, target, message));
        }
        else
        {
            var (kind, target, message) = ev is not null ? ev.Describe() : DescribeRun((IRunnable)item);
            Volatile.Write(ref _executed, _executed + 1);
            Volatile.Write(ref _digest, Mix(_digest, t, kind, HashOf(target), HashOf(message)));
            Trace?.Invoke(new SimEventRecord(t, kind, target, message));
        }
        try
        {
            if (ev is not null) ev.Run(this, t);
            else ((IRunnable)item).Run();
        }
        catch (Exception e)
        {
            var (kind, target, _) = ev is not null ? ev.Describe() : DescribeRun((IRunnable)item);
            _log?.Error(e, "SimEngine: {0} event for {1} at {2} ns threw", kind, target, t);
        }
    }

    /// <summary>True (and halted) when the next event, due at <paramref name="t"/>, would pass a liveness limit. Under the gate.</summary>
    private bool OverLimit(long t)
    {
        if (_halt is not null) return true;
        string? why = null, limit = null;
        if (_limitSteps > 0 && _executed - _limitBase >= _limitSteps)
            (limit, why) = ("steps", $"the run did not come to rest within {_limitSteps} events (actorstack.run.explore-max-steps): a message loop or a timer re-arming forever?");
        else if (_limitTimeNs > 0 && t > _limitTimeNs)
            (limit, why) = ("time", $"an event is still due after {FromNs(_limitTimeNs)} of simulated time (actorstack.run.explore-max-time), at {t} ns: a timer re-arming forever?");
        if (why is null) return false;
        Halt(new ScheduleLivenessException($"liveness: {why} ({_executed - _limitBase} events, now {_nowNs} ns)", limit!, _executed - _limitBase, _nowNs));
        return true;
    }

    /// <summary>
    /// <see cref="RunOne"/> with a strategy: the events due at the current instant are taken out of the queue (in seq
    /// order) and the strategy picks which runs next among those enabled. A scheduled Tell is enabled only when no
    /// earlier one due now has the same receiver and sender (one sender's messages to one receiver stay in order, for
    /// delayed sends too); mailbox runs and other timers are always enabled.
    /// </summary>
    private bool RunChosen(long limitNs)
    {
        object item;
        long t;
        var strategy = _strategy!;
        using (SpinGate.Hold(ref _gate))
        {
            if (_halt is not null) return false;
            PullReady();
            if (_ready.Count == 0)
            {
                SkipCancelledHead();
                if (!_queue.TryPeek(out _, out t, out _) || t > limitNs) return false;
                if (_limited && OverLimit(t)) return false;
                if (t > _nowNs) Volatile.Write(ref _nowNs, t);
                PullReady();
                if (_ready.Count == 0) return false;
            }
            else if (_limited && OverLimit(_nowNs)) return false;
            BuildOptions();
            int k = 0;
            if (_options.Count >= 2 || strategy.EveryStep)
            {
                k = strategy.Choose(ScheduleChoiceKind.Engine, _options, _nowNs, this);
                if (k < 0)
                {
                    Halt(new ScheduleSleepBlockedException());
                    return false;
                }
                if (_halt is not null) return false;
                if ((uint)k >= (uint)_options.Count) k = 0;
                if (_options.Count >= 2) _choices?.Add(new ScheduleChoice(ScheduleChoiceKind.Engine, k, _options.Count, _nowNs));
            }
            int ri = _optionIndex[k];
            item = _ready[ri].Item;
            string id = _options[k].Id;
            _ready.RemoveAt(ri);
            t = _nowNs;
            // A footprint's owner is what others' sends can touch: a mailbox run's actor; a timer or task is its own.
            if (strategy.WantsFootprints)
                _footprint = new Footprint(item is Mailbox ? _options[k].Actor : id) { Global = !(item is Mailbox || id.StartsWith("T|", StringComparison.Ordinal)) };
        }
        Execute(item, t);
        if (_footprint is { } fp)
        {
            _footprint = null;
            strategy.Executed(fp);
        }
        return true;
    }

    /// <summary>Moves every live event due at or before now from the queue to the ready list; drops cancelled timers. Under the gate.</summary>
    private void PullReady()
    {
        for (int i = _ready.Count - 1; i >= 0; i--)
            if (_ready[i].Item is SimEvent { Cancelled: true }) _ready.RemoveAt(i);
        while (_queue.TryPeek(out var item, out long t, out _) && t <= _nowNs)
        {
            _queue.TryDequeue(out _, out _, out long seq);
            if (item is SimEvent ev)
            {
                ev.InQueue = false;
                if (ev.Cancelled)
                {
                    _cancelledQueued--;
                    continue;
                }
            }
            _ready.Add((item, seq));
        }
    }

    private int ReadyLive()
    {
        int n = 0;
        foreach (var (item, _) in _ready) if (item is not SimEvent { Cancelled: true }) n++;
        return n;
    }

    /// <summary>The enabled events among the ready ones, as options (in seq order: option 0 is fifo's). Under the gate.</summary>
    private void BuildOptions()
    {
        _options.Clear();
        _optionIndex.Clear();
        for (int i = 0; i < _ready.Count; i++)
        {
            var (item, seq) = _ready[i];
            ScheduleOption o;
            if (item is SimEvent ev)
            {
                if (ev.TellPair is { } pair)
                {
                    bool blocked = false;
                    for (int j = 0; j < i && !blocked; j++)
                        blocked = _ready[j].Item is SimEvent { TellPair: { } earlier } && SamePair(earlier, pair);
                    if (blocked) continue;
                }
                var (kind, target, message) = ev.Describe();
                o = new ScheduleOption(target, OrdinalId($"{(kind == SimEventKind.TimerTell ? "T" : "A")}|{target}|{message}"));
            }
            else if (item is Mailbox { MessageQueue: IEngineVisibleQueue q })
                o = new ScheduleOption(q.OwnerPath, "M|" + q.OwnerPath);
            else o = new ScheduleOption(TypeName(item), OrdinalId("R|" + TypeName(item)));
            _options.Add(o);
            _optionIndex.Add(i);
        }
    }

    /// <summary>
    /// <paramref name="id"/> made unique among the options so far ("#2" for the second alike): an event's name that does not
    /// depend on sequence numbers, so re-runs of a deterministic body name it alike (the exhaustive mode's sleep sets).
    /// </summary>
    private string OrdinalId(string id)
    {
        int n = 0;
        foreach (var o in _options)
            if (o.Id == id || (o.Id.StartsWith(id, StringComparison.Ordinal) && o.Id.Length > id.Length && o.Id[id.Length] == '#')) n++;
        return n == 0 ? id : $"{id}#{n + 1}";
    }

    private static bool SamePair((ICanTell Receiver, IActorRef? Sender) a, (ICanTell Receiver, IActorRef? Sender) b)
        => Equals(a.Receiver, b.Receiver) && SenderKey(a.Sender) == SenderKey(b.Sender);

    /// <summary>A message's sender as mailbox-level decisions group messages: its digest path, "-" for none.</summary>
    internal static string SenderKey(IActorRef? sender)
        => sender is null || sender.IsNobody() || ReferenceEquals(sender, ActorRefs.NoSender) ? "-" : DigestPath(sender.Path);

    /// <summary>
    /// A mailbox-level decision (<see cref="EngineEnvelopeStore"/>): <paramref name="options"/> are the distinct senders'
    /// oldest messages in queue order. Returns the index taken (0 without a strategy).
    /// </summary>
    internal int ChooseSender(List<ScheduleOption> options)
    {
        var s = _strategy;
        if (s is null || options.Count < 2 || _halt is not null) return 0;
        int k = s.Choose(ScheduleChoiceKind.Mailbox, options, NowNs, this);
        if ((uint)k >= (uint)options.Count) k = 0;
        if (_halt is null) _choices?.Add(new ScheduleChoice(ScheduleChoiceKind.Mailbox, k, options.Count, NowNs));
        return k;
    }

    /// <summary>
    /// An engine queue got a message (its owner's path, the sender): recorded into the running event's footprint when
    /// the strategy wants footprints (the exhaustive mode), nothing otherwise.
    /// </summary>
    internal void NoteEnqueue(IEngineVisibleQueue queue, IActorRef? sender)
    {
        if (_footprint is not { } fp || Volatile.Read(ref _runner) != Environment.CurrentManagedThreadId) return;
        fp.Touched.Add(queue.OwnerPath);
        fp.Pairs.Add((queue.OwnerPath, SenderKey(sender)));
    }

    /// <summary>True when <see cref="NoteEnqueue"/> would record (so queues skip computing its arguments otherwise).</summary>
    internal bool RecordingFootprint => _footprint is not null;

    /// <summary>
    /// One step of the event digest, public so the digest's definition is testable: FNV-1a 64 over the time's 8 bytes
    /// and the kind, then the FNV-1a 64 hash of the target's path and of the message's type name
    /// (<see cref="StringHash"/>) as two 64-bit words.
    /// </summary>
    public static ulong Mix(ulong h, long timeNs, SimEventKind kind, string target, string message)
        => Mix(h, timeNs, kind, StringHash(target), StringHash(message));

    private static ulong Mix(ulong h, long timeNs, SimEventKind kind, ulong target, ulong message)
    {
        for (int i = 0; i < 8; i++) h = (h ^ (byte)(timeNs >> (8 * i))) * FnvPrime;
        h = (h ^ (byte)kind) * FnvPrime;
        h = (h ^ target) * FnvPrime;
        h ^= h >> 29;
        h = (h ^ message) * FnvPrime;
        return h ^ (h >> 29);
    }

    /// <summary>FNV-1a 64 of a string's UTF-16 bytes, with an end marker (("ab","c") and ("a","bc") differ).</summary>
    public static ulong StringHash(string s) => MixString(FnvOffset, s);

    // The hash of each path and type name seen, by reference: the strings an event names are the same objects run
    // after run (a queue's cached OwnerPath, a type's FullName), so the digest hashes each once instead of per event.
    // Only the running thread touches it (under _runLock); bounded, in case names are built afresh.
    private readonly Dictionary<string, ulong> _hashes = new(ReferenceEqualityComparer.Instance);

    // The hash of each message type's name (TypeName), by type: the same value HashOf(TypeName(m)) gives.
    private readonly Dictionary<Type, ulong> _typeHashes = [];

    internal ulong TypeHash(Type type)
    {
        if (_typeHashes.TryGetValue(type, out var h)) return h;
        if (_typeHashes.Count >= 16_384) _typeHashes.Clear();
        return _typeHashes[type] = StringHash(type.FullName ?? type.Name);
    }

    /// <summary><c>HashOf(PathOf(receiver))</c>, from the receiver's queue when it is an engine-visible one.</summary>
    internal ulong TargetHash(object? receiver) =>
        receiver is ActorRefWithCell { Underlying: ActorCell { Mailbox.MessageQueue: IEngineVisibleQueue { OwnerPath: not "-" } q } }
            ? q.OwnerHash
            : HashOf(PathOf(receiver));

    internal ulong HashOf(string s)
    {
        if (_hashes.TryGetValue(s, out var h)) return h;
        if (_hashes.Count >= 16_384) _hashes.Clear();
        return _hashes[s] = StringHash(s);
    }

    private static ulong MixString(ulong h, string s)
    {
        foreach (char c in s)
        {
            // A char is two bytes, low then high. For c < 256 (actor paths, type names) the high byte is 0, and
            // ((h ^ c) * P ^ 0) * P is (h ^ c) * P²: the same value with one multiplication.
            if (c < 256) h = (h ^ c) * FnvPrime2;
            else
            {
                h = (h ^ (byte)c) * FnvPrime;
                h = (h ^ (byte)(c >> 8)) * FnvPrime;
            }
        }
        return (h ^ 0xff) * FnvPrime; // separator: ("ab","c") and ("a","bc") differ
    }

    private void SkipCancelledHead()
    {
        while (_queue.TryPeek(out var item, out _, out _) && item is SimEvent { Cancelled: true } ev)
        {
            _queue.TryDequeue(out _, out _, out _);
            ev.InQueue = false;
            _cancelledQueued--;
        }
    }

    /// <summary>
    /// Tells <paramref name="message"/> to <paramref name="receiver"/> exactly <paramref name="delayNs"/> ns from now (the
    /// scheduler's <see cref="TimeSpan"/> delays have 100 ns ticks): the CPU-cost model's answers at busy-until.
    /// </summary>
    public void TellAfterNs(long delayNs, ICanTell receiver, object message, IActorRef? sender) =>
        Enqueue(new TellEvent(receiver, message, sender), delayNs);

    /// <summary>
    /// Tells <paramref name="message"/> to <paramref name="receiver"/> at the absolute virtual time <paramref name="atNs"/>
    /// (at or after now): how a partition of a distributed run injects a frame that crossed from another partition at its
    /// exact arrival time. Injections at one instant run in the order they were made.
    /// </summary>
    public void TellAtNs(long atNs, ICanTell receiver, object message, IActorRef? sender)
    {
        long now = NowNs;
        if (atNs < now) throw new ArgumentOutOfRangeException(nameof(atNs), $"{atNs} ns is before now ({now} ns): the lookahead was violated");
        Enqueue(new TellEvent(receiver, message, sender), atNs - now);
    }

    /// <summary>
    /// <see cref="TellAfterNs"/> that the caller may take back: <see cref="IEngineTimer.Cancel"/> removes it as a
    /// cancelled scheduler timer is removed, without the <see cref="CancellationTokenSource"/> and registration an Akka
    /// <see cref="Cancelable"/> costs (models that re-arm a timer per frame: the wire, interrupt moderation).
    /// Same event, same digest entry as the plain tell.
    /// </summary>
    public IEngineTimer TellAfterNsCancelable(long delayNs, ICanTell receiver, object message, IActorRef? sender)
    {
        var ev = new TellEvent(receiver, message, sender) { Owner = this };
        Enqueue(ev, delayNs);
        return ev;
    }

    private sealed class TellEvent(ICanTell receiver, object message, IActorRef? sender) : SimEvent, IEngineTimer
    {
        public SimEngine? Owner;
        public void Cancel() => Owner?.Cancelled(this);
        public override (SimEventKind, string, string) Describe() => (SimEventKind.TimerTell, PathOf(receiver), TypeName(message));
        public override (SimEventKind, ulong, ulong) DescribeHash(SimEngine engine) => (SimEventKind.TimerTell, engine.TargetHash(receiver), engine.TypeHash(message.GetType()));
        public override (ICanTell Receiver, IActorRef? Sender)? TellPair => (receiver, sender);
        public bool Ran { get; private set; }

        public override void Run(SimEngine engine, long firedAt)
        {
            Ran = true;
            receiver.Tell(message, sender ?? ActorRefs.NoSender);
        }
    }

    /// <summary>Queues a mailbox run (or another dispatcher runnable) at the current instant.</summary>
    internal void EnqueueRun(IRunnable run)
    {
        // A mailbox scheduled by the running event (a system message: create, stop, watch) is something it touched.
        if (_footprint is { } fp && run is Mailbox { MessageQueue: IEngineVisibleQueue q } && Volatile.Read(ref _runner) == Environment.CurrentManagedThreadId)
            fp.Touched.Add(q.OwnerPath);
        using (SpinGate.Hold(ref _gate)) _queue.Enqueue(_nowNs, run);
        if (_inline && Volatile.Read(ref _runner) != Environment.CurrentManagedThreadId) DrainInline();
    }

    /// <summary>Queues <paramref name="ev"/> at now + <paramref name="delay"/> ns; drains inline when in inline mode and not on the running thread.</summary>
    internal void Enqueue(SimEvent ev, long delay)
    {
        using (SpinGate.Hold(ref _gate))
        {
            if (ev.Cancelled) return;
            _queue.Enqueue(checked(_nowNs + Math.Max(0, delay)), ev);
            ev.InQueue = true;
        }
        if (_inline && Volatile.Read(ref _runner) != Environment.CurrentManagedThreadId) DrainInline();
    }

    /// <summary>Requeues a repeating timer <paramref name="interval"/> ns after the instant it fired.</summary>
    internal void Requeue(SimEvent ev, long firedAt, long interval)
    {
        using (SpinGate.Hold(ref _gate))
        {
            if (ev.Cancelled) return;
            _queue.Enqueue(checked(firedAt + interval), ev);
            ev.InQueue = true;
        }
    }

    /// <summary>A timer's cancelable fired: the event stays in the heap (lazy deletion) until due or compacted.</summary>
    internal void Cancelled(SimEvent ev)
    {
        using (SpinGate.Hold(ref _gate))
        {
            if (ev.Cancelled) return;
            ev.Cancelled = true;
            if (!ev.InQueue) return;
            _cancelledQueued++;
            // Bound the heap by the live timers: compact once cancelled ones are the majority.
            if (_cancelledQueued > 64 && _cancelledQueued * 2 > _queue.Count)
            {
                _queue.RemoveWhere(static e =>
                {
                    if (e is not SimEvent { Cancelled: true } ev) return false;
                    ev.InQueue = false;
                    return true;
                });
                _cancelledQueued = 0;
            }
        }
    }

    private void DrainInline()
    {
        int me = Environment.CurrentManagedThreadId;
        while (_inline && HasDueNow())
        {
            if (!_runLock.TryEnter()) return; // the thread inside will see our event (it rechecks after leaving)
            try
            {
                if (Volatile.Read(ref _runner) != 0) return; // re-entered on the running thread
                Volatile.Write(ref _runner, me);
                try
                {
                    long now = NowNs;
                    while (_inline && RunOne(now)) { }
                }
                finally { Volatile.Write(ref _runner, 0); }
            }
            finally { _runLock.Exit(); }
        }
    }

    private bool HasDueNow()
    {
        using (SpinGate.Hold(ref _gate))
        {
            if (_halt is not null) return false;
            if (ReadyLive() > 0) return true;
            SkipCancelledHead();
            return _queue.TryPeek(out _, out long t, out _) && t <= _nowNs;
        }
    }

    /// <summary>A timer queued with <see cref="TellAfterNsCancelable"/>.</summary>
    public interface IEngineTimer
    {
        /// <summary>Takes the tell back if it has not run yet; nothing otherwise.</summary>
        void Cancel();

        /// <summary>True once the tell has run (the message is in the receiver's mailbox).</summary>
        bool Ran { get; }
    }

    internal abstract class SimEvent
    {
        public bool Cancelled; // guarded by the engine's _gate
        public bool InQueue;
        public abstract (SimEventKind Kind, string Target, string Message) Describe();
        /// <summary><see cref="Describe"/> as the digest hashes it (<see cref="StringHash"/> of each name).</summary>
        public virtual (SimEventKind Kind, ulong Target, ulong Message) DescribeHash(SimEngine engine)
        {
            var (kind, target, message) = Describe();
            return (kind, engine.HashOf(target), engine.HashOf(message));
        }
        /// <summary>A scheduled Tell's (receiver, sender): such Tells due at one instant keep their order under a strategy.</summary>
        public virtual (ICanTell Receiver, IActorRef? Sender)? TellPair => null;
        public abstract void Run(SimEngine engine, long firedAt);
    }

    /// <summary>A dispatcher runnable as the digest names it: a mailbox run is (owner's path, type of the head message).</summary>
    private static (SimEventKind, string, string) DescribeRun(IRunnable run)
    {
        if (run is Mailbox mb)
        {
            if (mb.MessageQueue is EngineDequeMessageQueue) return (SimEventKind.MailboxRun, EngineDequeMessageQueue.DigestName, "?");
            if (mb.MessageQueue is IEngineVisibleQueue q)
                return (SimEventKind.MailboxRun, q.OwnerPath, q.HeadMessage is { } m ? TypeName(m) : "-");
            return (SimEventKind.MailboxRun, mb.MessageQueue.GetType().FullName ?? "?", "?");
        }
        return (SimEventKind.Task, run.GetType().FullName ?? "?", "-");
    }

    internal static string TypeName(object o) => o.GetType().FullName ?? o.GetType().Name;

    /// <summary>
    /// An actor's path as the digest names it: without the address (runs in systems of other names compare), and under
    /// <c>/system</c> with digits folded to <c>#</c>, because Akka numbers some of its own actors from process-wide
    /// counters (<c>EventStreamUnsubscriber-2</c> in the second system of a process, TestKit's <c>testActor3</c>).
    /// </summary>
    public static string DigestPath(ActorPath path)
    {
        var s = path.ToStringWithoutAddress();
        return s.StartsWith("/system/", StringComparison.Ordinal) ? FoldDigits(s) : s;
    }

    private static string FoldDigits(string s)
    {
        var b = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (!char.IsAsciiDigit(s[i])) b.Append(s[i]);
            else if (i == 0 || !char.IsAsciiDigit(s[i - 1])) b.Append('#');
        }
        return b.ToString();
    }

    internal static string PathOf(object? o) => o switch
    {
        // An actor on an engine mailbox: its queue has the path computed once (the same DigestPath of the same actor).
        ActorRefWithCell { Underlying: ActorCell { Mailbox.MessageQueue: IEngineVisibleQueue { OwnerPath: var p } } } when p != "-" => p,
        IActorRef r => DigestPath(r.Path),
        null => "-",
        _ => TypeName(o),
    };
}
