using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace ActorStack.Actors.Engine;

/// <summary>
/// A message queue that tells the <see cref="SimEngine"/> whose it is and what it will handle next, so a mailbox run
/// goes into the event digest as (owner's path, type of the message at the head) without reflecting into Akka.
/// </summary>
public interface IEngineVisibleQueue
{
    /// <summary>The owner actor's path as the digest names it (<see cref="SimEngine.DigestPath"/>), computed once.</summary>
    string OwnerPath { get; }

    /// <summary><see cref="SimEngine.StringHash"/> of <see cref="OwnerPath"/>, computed once: the digest reads it per event.</summary>
    ulong OwnerHash { get; }

    /// <summary>The message at the head of the queue, or null when it is empty.</summary>
    object? HeadMessage { get; }
}

/// <summary>
/// An engine-visible queue's owner as the digest names it (<see cref="IEngineVisibleQueue.OwnerPath"/> and
/// <see cref="IEngineVisibleQueue.OwnerHash"/>), each computed on first use. Kept in a (not readonly) field of the queue.
/// </summary>
internal struct OwnerName
{
    private string? _path;
    private ulong _hash;

    public string Path(IActorRef? owner) => _path ??= owner is null ? "-" : SimEngine.DigestPath(owner.Path);

    public ulong Hash(IActorRef? owner) => _hash != 0 ? _hash : _hash = SimEngine.StringHash(Path(owner));
}

/// <summary>
/// The engine's default mailbox (<c>akka.actor.default-mailbox.mailbox-type</c> in <see cref="SimEngine.Hocon"/>):
/// Akka's unbounded FIFO semantics, plus <see cref="IEngineVisibleQueue"/>.
/// </summary>
public sealed class EngineMailbox(Akka.Actor.Settings settings, Akka.Configuration.Config config)
    : MailboxType(settings, config), IProducesMessageQueue<EngineMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system)
        => new EngineMessageQueue(owner, (system.Scheduler as VirtualTimeScheduler)?.Engine);
}

/// <remarks>
/// The envelopes wait in an <see cref="EngineEnvelopeQueue"/>, not a <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>:
/// an idle actor's queue costs an empty array, not a 32-slot segment (about 1 KiB per actor), and the engine's head
/// peek does not freeze segments.
/// </remarks>
public sealed class EngineMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics, IEngineVisibleQueue
{
    private readonly EngineEnvelopeQueue _queue;
    private readonly IActorRef? owner;
    private OwnerName _name;

    /// <param name="owner">The actor whose queue this is (null when built by hand).</param>
    /// <param name="engine">The engine the owner runs on: its strategy makes mailbox-level decisions (none under fifo).</param>
    public EngineMessageQueue(IActorRef? owner, SimEngine? engine = null)
    {
        this.owner = owner;
        _queue = new EngineEnvelopeQueue(engine) { Visible = this };
    }

    public string OwnerPath => _name.Path(owner);
    public ulong OwnerHash => _name.Hash(owner);
    public object? HeadMessage => _queue.HeadMessage;
    public bool HasMessages => _queue.Count > 0;
    public int Count => _queue.Count;
    public void Enqueue(IActorRef receiver, Envelope envelope) => _queue.Enqueue(envelope);
    public bool TryDequeue(out Envelope envelope) => _queue.TryDequeue(out envelope);

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (_queue.TryDequeueFifo(out var env)) deadletters.Enqueue(owner, env);
    }
}

/// <summary>
/// The engine's mailbox for actors that stash (<c>IWithUnboundedStash</c> requires
/// <see cref="IUnboundedDequeBasedMessageQueueSemantics"/>; <see cref="SimEngine.Hocon"/> maps that requirement here,
/// e.g. <c>TcpSocketActor</c>): an <see cref="EngineEnvelopeQueue"/> (so its dequeues are mailbox-level decisions
/// under a strategy) behind a stack of unstashed envelopes, which come first, in the order the stash put them back.
/// </summary>
public sealed class EngineDequeMailbox(Akka.Actor.Settings settings, Akka.Configuration.Config config)
    : MailboxType(settings, config), IProducesMessageQueue<EngineDequeMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system)
        => new EngineDequeMessageQueue(owner, (system.Scheduler as VirtualTimeScheduler)?.Engine);
}

/// <inheritdoc cref="EngineDequeMailbox"/>
public sealed class EngineDequeMessageQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics, IEngineVisibleQueue
{
    /// <summary>
    /// How the digest names this queue's runs: as it named them on Akka's own deque mailbox before this one replaced it
    /// (type name, no head message), so fifo digests stay what they were.
    /// </summary>
    internal const string DigestName = "Akka.Dispatch.MessageQueues.UnboundedDequeMessageQueue";

    private readonly EngineEnvelopeQueue _queue;
    private readonly Stack<Envelope> _front = new(); // EnqueueFirst (the stash's unstash), last in first out
    private readonly Lock _frontLock = new();
    private readonly IActorRef? _owner;
    private OwnerName _name;

    public EngineDequeMessageQueue(IActorRef? owner, SimEngine? engine = null)
    {
        _owner = owner;
        _queue = new EngineEnvelopeQueue(engine) { Visible = this };
    }

    public string OwnerPath => _name.Path(_owner);
    public ulong OwnerHash => _name.Hash(_owner);

    public object? HeadMessage
    {
        get
        {
            lock (_frontLock) if (_front.TryPeek(out var e)) return e.Message;
            return _queue.HeadMessage;
        }
    }

    public bool HasMessages => Count > 0;

    public int Count
    {
        get
        {
            lock (_frontLock) return _front.Count + _queue.Count;
        }
    }

    public void Enqueue(IActorRef receiver, Envelope envelope) => _queue.Enqueue(envelope);

    public void EnqueueFirst(Envelope envelope)
    {
        lock (_frontLock) _front.Push(envelope);
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_frontLock) if (_front.TryPop(out envelope)) return true;
        return _queue.TryDequeue(out envelope);
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (true)
        {
            Envelope env;
            bool got;
            lock (_frontLock) got = _front.TryPop(out env);
            if (!got && !_queue.TryDequeueFifo(out env)) return;
            deadletters.Enqueue(owner, env);
        }
    }
}

/// <summary>
/// A mailbox's FIFO of envelopes for actors on the engine: a <see cref="Queue{T}"/> under a monitor. One thread runs
/// the engine's actors, so the lock is nearly always uncontended (a Tell from outside, a test or the CLI, is the
/// exception), and the store grows from an empty array instead of a <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>'s
/// 32-slot segment. The engine reads the head of every queue it runs (its digest); a ConcurrentQueue segment that
/// has been peeked is preserved for observation and never reused, so there each 32 messages cost a new 1 KiB
/// segment. Part of the engine (the dispatcher under the actors), so its lock is the engine's, as Akka's own
/// mailboxes guard theirs.
/// </summary>
/// <remarks>
/// Under a scheduling strategy (<see cref="SimEngine.Strategy"/> not null) a dequeue is a mailbox-level decision: the
/// options are the distinct senders' oldest messages, in queue order, and the strategy's pick is taken out of the
/// middle by one full turn of the queue (the others keep their order), so one sender's messages stay in order while
/// different senders' messages interleave every way. Without a strategy (fifo) nothing of that runs: one field read.
/// </remarks>
public sealed class EngineEnvelopeQueue(SimEngine? engine = null)
{
    private readonly Queue<Envelope> _queue = new();
    // A System.Threading.Lock, not a monitor on the queue: its uncontended enter and exit are a compare-exchange
    // each, inlined; a monitor goes through the runtime's native helpers (several per event on the engine).
    private readonly Lock _lock = new();
    // Mailbox-level decisions only (allocated on the first one).
    private List<ScheduleOption>? _options;
    private List<IActorRef?>? _senders;
    private List<int>? _positions;

    /// <summary>The queue that owns this store (for the exhaustive mode's footprints: whose mailbox got a message).</summary>
    public IEngineVisibleQueue? Visible { get; set; }

    public int Count
    {
        get { lock (_lock) return _queue.Count; }
    }

    /// <summary>The message at the head, or null when the queue is empty.</summary>
    public object? HeadMessage
    {
        get { lock (_lock) return _queue.TryPeek(out var e) ? e.Message : null; }
    }

    public void Enqueue(Envelope envelope)
    {
        lock (_lock) _queue.Enqueue(envelope);
        if (engine is { RecordingFootprint: true } e && Visible is { } v) e.NoteEnqueue(v, envelope.Sender);
    }

    /// <summary>The next message: the head under fifo, the strategy's pick among the senders' oldest otherwise.</summary>
    public bool TryDequeue(out Envelope envelope)
    {
        if (engine?.Strategy is null)
        {
            lock (_lock) return _queue.TryDequeue(out envelope);
        }
        return TryDequeueChosen(engine, out envelope);
    }

    /// <summary>The head, never a decision (clean-up to dead letters).</summary>
    public bool TryDequeueFifo(out Envelope envelope)
    {
        lock (_lock) return _queue.TryDequeue(out envelope);
    }

    private bool TryDequeueChosen(SimEngine sim, out Envelope envelope)
    {
        lock (_lock)
        {
            if (_queue.Count < 2) return _queue.TryDequeue(out envelope);
            _options ??= [];
            _senders ??= [];
            _positions ??= [];
            _options.Clear();
            _senders.Clear();
            _positions.Clear();
            int i = 0;
            foreach (var e in _queue)
            {
                var s = e.Sender is null || e.Sender.IsNobody() ? null : e.Sender;
                bool seen = false;
                foreach (var x in _senders)
                    if (Equals(x, s)) { seen = true; break; }
                if (!seen)
                {
                    _senders.Add(s);
                    _positions.Add(i);
                }
                i++;
            }
            if (_senders.Count < 2) return _queue.TryDequeue(out envelope);
            foreach (var s in _senders)
            {
                var key = SimEngine.SenderKey(s);
                _options.Add(new ScheduleOption(key, key));
            }
            int pos = _positions[sim.ChooseSender(_options)];
            if (pos == 0) return _queue.TryDequeue(out envelope);
            envelope = default;
            int n = _queue.Count;
            for (int j = 0; j < n; j++)
            {
                var e = _queue.Dequeue();
                if (j == pos) envelope = e;
                else _queue.Enqueue(e); // one full turn keeps the others' order
            }
            return true;
        }
    }
}
