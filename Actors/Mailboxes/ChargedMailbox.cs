using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using ActorStack.Messages;

namespace ActorStack.Actors.Mailboxes;

/// <summary>
/// A mailbox that plays a bounded kernel queue: the softnet backlog
/// (<c>input_pkt_queue</c>, packets), a socket's receive queue
/// (<c>sk_rmem_alloc</c> against <c>sk_rcvbuf</c>, bytes), a NIC's input FIFO.
/// Items of an <see cref="IChargedMessage"/> are admitted one by one while the
/// queue's charge is at or under its limit — the same test as Linux's
/// <c>qlen &lt;= netdev_max_backlog</c> and <c>sk_rmem_alloc &lt;= sk_rcvbuf</c>
/// — and the rest is dropped and reported through <see cref="ChargedMessageQueue.OnDrop"/>.
/// A charge stays until the owner releases it (<see cref="ChargedMessageQueue.Uncharge"/>),
/// as <c>sk_rmem_alloc</c> stays charged until the reader frees the buffer.
/// Any other message (commands, <c>PoisonPill</c>, <c>Terminated</c>) is never dropped.
/// </summary>
public sealed class ChargedMailbox : MailboxType, IProducesMessageQueue<ChargedMessageQueue>
{
    private readonly long _capacity;

    public ChargedMailbox(Settings settings, Akka.Configuration.Config config) : base(settings, config)
        => _capacity = config.GetLong("capacity", 1000);

    public override IMessageQueue Create(IActorRef owner, ActorSystem system)
        => new ChargedMessageQueue(_capacity, ActorStack.Actors.Engine.SimEngine.IsVirtual(system),
            (system.Scheduler as ActorStack.Actors.Engine.VirtualTimeScheduler)?.Engine) { Owner = owner };
}

/// <param name="limit">The charge limit.</param>
/// <param name="onEngine">
/// The owner runs on the simulation engine: the envelopes wait in this object (its
/// <see cref="ActorStack.Actors.Engine.EngineEnvelopeStore"/>, read per event by the engine's digest) instead of a
/// <see cref="ConcurrentQueue{T}"/>, whose peeked segments are never reused (each 32 messages would cost a new 1 KiB
/// segment) and whose idle segment costs 1 KiB.
/// </param>
/// <param name="engine">
/// The engine the owner runs on: under a scheduling strategy its dequeues are mailbox-level decisions (see
/// <see cref="ActorStack.Actors.Engine.EngineEnvelopeStore"/>); charging is per message, so the order does not change it.
/// </param>
public sealed class ChargedMessageQueue(long limit, bool onEngine = false, ActorStack.Actors.Engine.SimEngine? engine = null)
    : ActorStack.Actors.Engine.EngineEnvelopeStore(engine), IMessageQueue, ActorStack.Actors.Engine.IEngineVisibleQueue
{
    private readonly ConcurrentQueue<Envelope>? _queue = onEngine ? null : new();
    private long _charge;
    private long _limit = limit;
    private long _droppedItems;

    /// <summary>
    /// Called on the sender's thread with the part of a message that did not fit,
    /// and the sender, so the owner can count it under its Linux name. Must be thread-safe.
    /// </summary>
    public Action<IChargedMessage, IActorRef>? OnDrop { get; set; }

    public long Limit { get => Volatile.Read(ref _limit); set => Volatile.Write(ref _limit, value); }
    /// <summary>Current charge: packets or bytes admitted and not yet released.</summary>
    public long Charge => Volatile.Read(ref _charge);
    public long DroppedItems => Volatile.Read(ref _droppedItems);

    /// <summary>The actor whose queue this is (for the simulation engine's event digest); null when built by hand.</summary>
    public IActorRef? Owner { get; init; }
    private ActorStack.Actors.Engine.OwnerName _ownerName;
    string ActorStack.Actors.Engine.IEngineVisibleQueue.OwnerPath => _ownerName.Path(Owner);
    ulong ActorStack.Actors.Engine.IEngineVisibleQueue.OwnerHash => _ownerName.Hash(Owner);
    object? ActorStack.Actors.Engine.IEngineVisibleQueue.HeadMessage
        => _queue is null ? HeadOfStore : _queue.TryPeek(out var e) ? e.Message : null;

    public bool HasMessages => _queue is null ? Waiting > 0 : !_queue.IsEmpty;

    public int Count => _queue is null ? Waiting : _queue.Count;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        if (envelope.Message is IChargedMessage m && m.Count > 0)
        {
            int admitted;
            while (true)
            {
                long cur = Volatile.Read(ref _charge), c = cur, lim = Limit;
                admitted = 0;
                for (int i = 0; i < m.Count && c <= lim; i++)
                {
                    c += m.ChargeOf(i);
                    admitted++;
                }
                if (admitted == 0 || Interlocked.CompareExchange(ref _charge, c, cur) == cur) break;
            }
            if (admitted < m.Count)
            {
                var dropped = m.Skip(admitted);
                Interlocked.Add(ref _droppedItems, dropped.Count);
                OnDrop?.Invoke(dropped, envelope.Sender);
                if (admitted == 0) return;
                envelope = new Envelope(m.Take(admitted), envelope.Sender);
            }
        }
        if (_queue is null) Store(envelope);
        else _queue.Enqueue(envelope);
    }

    public bool TryDequeue(out Envelope envelope) => _queue is null ? TakeNext(out envelope) : _queue.TryDequeue(out envelope);

    /// <summary>Releases charge the owner has consumed (the reader freed the buffers, the backlog was spliced).</summary>
    public void Uncharge(long units) => Interlocked.Add(ref _charge, -units);

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (_queue is null ? TakeHead(out var env) : _queue.TryDequeue(out env)) deadletters.Enqueue(owner, env);
    }

    /// <summary>The queue of the actor whose context this is, or null when it runs on another mailbox type.</summary>
    public static ChargedMessageQueue? Of(IActorContext context)
        => (context as ActorCell)?.Mailbox?.MessageQueue as ChargedMessageQueue;
}
