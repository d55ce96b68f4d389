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

/// <remarks>The envelopes wait in the queue object itself (<see cref="EngineEnvelopeStore"/>).</remarks>
public class EngineMessageQueue : EngineEnvelopeStore, IMessageQueue, IUnboundedMessageQueueSemantics, IEngineVisibleQueue
{
    private readonly IActorRef? owner;
    private OwnerName _name;

    /// <param name="owner">The actor whose queue this is (null when built by hand).</param>
    /// <param name="engine">The engine the owner runs on: its strategy makes mailbox-level decisions (none under fifo).</param>
    public EngineMessageQueue(IActorRef? owner, SimEngine? engine = null) : base(engine)
    {
        this.owner = owner;
    }

    public string OwnerPath => _name.Path(owner);
    public ulong OwnerHash => _name.Hash(owner);
    public object? HeadMessage => HeadOfStore;
    public bool HasMessages => Waiting > 0;
    public int Count => Waiting;
    public void Enqueue(IActorRef receiver, Envelope envelope) => Store(envelope);
    public bool TryDequeue(out Envelope envelope) => TakeNext(out envelope);

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TakeHead(out var env)) deadletters.Enqueue(owner, env);
    }
}

/// <summary>
/// The engine's mailbox for actors that stash (<c>IWithUnboundedStash</c> requires
/// <see cref="IUnboundedDequeBasedMessageQueueSemantics"/>; <see cref="SimEngine.Hocon"/> maps that requirement here,
/// e.g. <c>TcpSocketActor</c>): an <see cref="EngineEnvelopeStore"/> whose unstashed envelopes (<c>EnqueueFirst</c>) go in
/// at the head and come first, in the order the stash put them back, never a mailbox-level decision; the others' dequeues
/// are decisions under a strategy, as in the default mailbox.
/// </summary>
public sealed class EngineDequeMailbox(Akka.Actor.Settings settings, Akka.Configuration.Config config)
    : MailboxType(settings, config), IProducesMessageQueue<EngineDequeMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system)
        => new EngineDequeMessageQueue(owner, (system.Scheduler as VirtualTimeScheduler)?.Engine);
}

/// <inheritdoc cref="EngineDequeMailbox"/>
public sealed class EngineDequeMessageQueue(IActorRef? owner, SimEngine? engine = null)
    : EngineMessageQueue(owner, engine), IUnboundedDequeBasedMessageQueueSemantics
{
    /// <summary>
    /// How the digest names this queue's runs: as it named them on Akka's own deque mailbox before this one replaced it
    /// (type name, no head message), so fifo digests stay what they were.
    /// </summary>
    internal const string DigestName = "Akka.Dispatch.MessageQueues.UnboundedDequeMessageQueue";

    public void EnqueueFirst(Envelope envelope) => StoreFirst(envelope);
}

/// <summary>
/// A mailbox's FIFO of envelopes for actors on the engine, kept in the message queue object itself (the engine's
/// message queues derive from it): the head in a slot of its own, the rest in a ring buffer, under a
/// <see cref="SpinGate"/> field. One thread runs the engine's actors, so the gate is nearly always uncontended (a Tell
/// from outside, a test or the CLI, is the exception).
/// <para>
/// Why this shape: with a thousand hosts every mailbox run starts cold in the CPU's caches, so each object between the
/// mailbox and the message is a cache miss per event. Most mailboxes hold one message when they run, and that one is in
/// the queue object (no store object, no array, no lock object to reach); the array is touched only when two or more
/// wait. It grows by doubling from an empty array and never shrinks (a busy actor's queue is as long as its longest
/// burst). Not a <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>: its 32-slot segment costs about 1 KiB
/// per idle actor, and a segment the engine's digest has peeked is preserved for observation and never reused.
/// Part of the engine (the dispatcher under the actors), so its lock is the engine's, as Akka's own mailboxes guard
/// theirs.
/// </para>
/// </summary>
/// <remarks>
/// Under a scheduling strategy (<see cref="SimEngine.Strategy"/> not null) a dequeue is a mailbox-level decision: the
/// options are the distinct senders' oldest messages, in queue order, and the strategy's pick is taken out of the
/// middle (the others keep their order), so one sender's messages stay in order while different senders' messages
/// interleave every way. Without a strategy (fifo) nothing of that runs: one field read.
/// </remarks>
public abstract class EngineEnvelopeStore(SimEngine? engine)
{
    private Envelope _first; // the head, when _count > 0
    private Envelope[] _items = []; // the ones after it, a ring from _head
    private int _head;
    private int _count; // all waiting, the head included; written under the gate, read without it (Volatile)
    private int _putBack; // how many at the head went in by StoreFirst (a stash's unstash): they come first, no decision
    private SpinGate _gate;
    // Mailbox-level decisions only (allocated on the first one).
    private List<ScheduleOption>? _options;
    private List<IActorRef?>? _senders;
    private List<int>? _positions;

    /// <summary>
    /// How many envelopes wait. Read without the gate: Akka asks it after a run (<c>HasMessages</c>) right after the
    /// status compare-exchange that makes the mailbox idle, and a sender from outside writes it before its own status
    /// compare-exchange, so one of the two always sees the other (the run is rescheduled either way).
    /// </summary>
    protected int Waiting => Volatile.Read(ref _count);

    /// <summary>The message at the head, or null when the store is empty.</summary>
    protected object? HeadOfStore
    {
        get
        {
            using (SpinGate.Hold(ref _gate)) return _count > 0 ? _first.Message : null;
        }
    }

    protected void Store(Envelope envelope)
    {
        using (SpinGate.Hold(ref _gate)) Push(envelope);
        // The exhaustive mode's footprints: whose mailbox got a message (the message queue this store is).
        if (engine is { RecordingFootprint: true } e && this is IEngineVisibleQueue v) e.NoteEnqueue(v, envelope.Sender);
    }

    /// <summary>
    /// Puts <paramref name="envelope"/> back at the head (<c>EnqueueFirst</c>: a stash's unstash puts its envelopes back
    /// last first, so they come out in the order they were stashed, before everything else).
    /// </summary>
    protected void StoreFirst(Envelope envelope)
    {
        using (SpinGate.Hold(ref _gate))
        {
            if (_count > 0)
            {
                Grow();
                if (--_head < 0) _head = _items.Length - 1;
                _items[_head] = _first; // the old head becomes the first of the rest
            }
            _first = envelope;
            _putBack++;
            Volatile.Write(ref _count, _count + 1);
        }
    }

    /// <summary>
    /// The next message: the head under fifo, or while put-back envelopes wait; otherwise the strategy's pick among the
    /// senders' oldest.
    /// </summary>
    protected bool TakeNext(out Envelope envelope)
    {
        if (engine?.Strategy is null)
        {
            using (SpinGate.Hold(ref _gate)) return TryPop(out envelope);
        }
        return TakeChosen(engine, out envelope);
    }

    /// <summary>The head, never a decision (clean-up to dead letters).</summary>
    protected bool TakeHead(out Envelope envelope)
    {
        using (SpinGate.Hold(ref _gate)) return TryPop(out envelope);
    }

    // Under the gate.
    private void Push(Envelope envelope)
    {
        if (_count == 0)
        {
            _first = envelope;
            Volatile.Write(ref _count, 1);
            return;
        }
        Grow();
        int tail = _head + _count - 1;
        if (tail >= _items.Length) tail -= _items.Length;
        _items[tail] = envelope;
        Volatile.Write(ref _count, _count + 1);
    }

    // Under the gate, _count > 0: room in the ring for one more after the head (doubling it when full).
    private void Grow()
    {
        int rest = _count - 1;
        if (rest < _items.Length) return;
        var grown = new Envelope[Math.Max(4, _items.Length * 2)];
        for (int i = 0; i < rest; i++) grown[i] = _items[(_head + i) % _items.Length];
        _items = grown;
        _head = 0;
    }

    // Under the gate.
    private bool TryPop(out Envelope envelope)
    {
        if (_count == 0)
        {
            envelope = default;
            return false;
        }
        envelope = _first;
        if (_putBack > 0) _putBack--;
        if (_count == 1) _first = default; // the message is the actor's now, not the queue's
        else
        {
            _first = _items[_head];
            _items[_head] = default;
            if (++_head == _items.Length) _head = 0;
        }
        Volatile.Write(ref _count, _count - 1);
        return true;
    }

    // Under the gate: the i-th waiting envelope from the head.
    private ref Envelope At(int i)
    {
        if (i == 0) return ref _first;
        int k = _head + i - 1;
        if (k >= _items.Length) k -= _items.Length;
        return ref _items[k];
    }

    private bool TakeChosen(SimEngine sim, out Envelope envelope)
    {
        using (SpinGate.Hold(ref _gate))
        {
            if (_count < 2 || _putBack > 0) return TryPop(out envelope);
            _options ??= [];
            _senders ??= [];
            _positions ??= [];
            _options.Clear();
            _senders.Clear();
            _positions.Clear();
            for (int i = 0; i < _count; i++)
            {
                var e = At(i);
                var s = e.Sender is null || e.Sender.IsNobody() ? null : e.Sender;
                bool seen = false;
                foreach (var x in _senders)
                    if (Equals(x, s)) { seen = true; break; }
                if (!seen)
                {
                    _senders.Add(s);
                    _positions.Add(i);
                }
            }
            if (_senders.Count < 2) return TryPop(out envelope);
            foreach (var s in _senders)
            {
                var key = SimEngine.SenderKey(s);
                _options.Add(new ScheduleOption(key, key));
            }
            int pos = _positions[sim.ChooseSender(_options)];
            if (pos == 0) return TryPop(out envelope);
            // Take the pick out of the middle: the ones before it move up a place (the others keep their order), and
            // the head, now a copy of the second, goes.
            envelope = At(pos);
            for (int j = pos; j > 0; j--) At(j) = At(j - 1);
            return TryPop(out _);
        }
    }
}
