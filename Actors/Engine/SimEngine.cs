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
    // reach its queue from any thread, so the queue and clock are guarded here (System.Threading.Lock scopes),
    // and _runLock admits one thread at a time into the run loop.
    private readonly Lock _gate = new();
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
    /// <remarks>Written under the lock by the running thread only; a 64-bit read needs no lock (actors read it per event).</remarks>
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
        get { using (_gate.EnterScope()) return _queue.Count; }
    }

    /// <summary>
    /// Queued events that will run (cancelled timers excluded) and the earliest one's due time, rounded up to the 100 ns
    /// tick (so <c>RunUntil(NextDue)</c> reaches it; <see cref="NextDueNs"/> has the ns).
    /// </summary>
    public (int Count, TimeSpan? NextDue) Pending
    {
        get
        {
            using (_gate.EnterScope())
            {
                SkipCancelledHead();
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
            using (_gate.EnterScope())
            {
                SkipCancelledHead();
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
            return RunOne(long.MaxValue);
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
            using (_gate.EnterScope()) if (_nowNs < tNs) _nowNs = tNs;
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
    }

    private void ExitRun()
    {
        Volatile.Write(ref _runner, 0);
        _runLock.Exit();
    }

    /// <summary>Dequeues and executes the earliest event if it is due at or before <paramref name="limitNs"/>.</summary>
    private bool RunOne(long limitNs)
    {
        object item;
        long t;
        using (_gate.EnterScope())
        {
            while (true)
            {
                if (!_queue.TryPeek(out item, out t, out _) || t > limitNs) return false;
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
        var (kind, target, message) = ev is not null ? ev.Describe() : DescribeRun((IRunnable)item);
        Volatile.Write(ref _executed, _executed + 1);
        Volatile.Write(ref _digest, Mix(_digest, t, kind, target, message));
        Trace?.Invoke(new SimEventRecord(t, kind, target, message));
        try
        {
            if (ev is not null) ev.Run(this, t);
            else ((IRunnable)item).Run();
        }
        catch (Exception e)
        {
            _log?.Error(e, "SimEngine: {0} event for {1} at {2} ns threw", kind, target, t);
        }
    }

    /// <summary>One step of the event digest (FNV-1a 64); public so the digest's definition is testable.</summary>
    public static ulong Mix(ulong h, long timeNs, SimEventKind kind, string target, string message)
    {
        for (int i = 0; i < 8; i++) h = (h ^ (byte)(timeNs >> (8 * i))) * FnvPrime;
        h = (h ^ (byte)kind) * FnvPrime;
        h = MixString(h, target);
        return MixString(h, message);
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

    private sealed class TellEvent(ICanTell receiver, object message, IActorRef? sender) : SimEvent
    {
        public override (SimEventKind, string, string) Describe() => (SimEventKind.TimerTell, PathOf(receiver), TypeName(message));
        public override void Run(SimEngine engine, long firedAt) => receiver.Tell(message, sender ?? ActorRefs.NoSender);
    }

    /// <summary>Queues a mailbox run (or another dispatcher runnable) at the current instant.</summary>
    internal void EnqueueRun(IRunnable run)
    {
        using (_gate.EnterScope()) _queue.Enqueue(_nowNs, run);
        if (_inline && Volatile.Read(ref _runner) != Environment.CurrentManagedThreadId) DrainInline();
    }

    /// <summary>Queues <paramref name="ev"/> at now + <paramref name="delay"/> ns; drains inline when in inline mode and not on the running thread.</summary>
    internal void Enqueue(SimEvent ev, long delay)
    {
        using (_gate.EnterScope())
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
        using (_gate.EnterScope())
        {
            if (ev.Cancelled) return;
            _queue.Enqueue(checked(firedAt + interval), ev);
            ev.InQueue = true;
        }
    }

    /// <summary>A timer's cancelable fired: the event stays in the heap (lazy deletion) until due or compacted.</summary>
    internal void Cancelled(SimEvent ev)
    {
        using (_gate.EnterScope())
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
        using (_gate.EnterScope())
        {
            SkipCancelledHead();
            return _queue.TryPeek(out _, out long t, out _) && t <= _nowNs;
        }
    }

    internal abstract class SimEvent
    {
        public bool Cancelled; // guarded by the engine's _gate
        public bool InQueue;
        public abstract (SimEventKind Kind, string Target, string Message) Describe();
        public abstract void Run(SimEngine engine, long firedAt);
    }

    /// <summary>A dispatcher runnable as the digest names it: a mailbox run is (owner's path, type of the head message).</summary>
    private static (SimEventKind, string, string) DescribeRun(IRunnable run)
    {
        if (run is Mailbox mb)
        {
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
