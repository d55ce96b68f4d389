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

    /// <summary>The message at the head of the queue, or null when it is empty.</summary>
    object? HeadMessage { get; }
}

/// <summary>
/// The engine's default mailbox (<c>akka.actor.default-mailbox.mailbox-type</c> in <see cref="SimEngine.Hocon"/>):
/// Akka's unbounded FIFO semantics, plus <see cref="IEngineVisibleQueue"/>.
/// </summary>
public sealed class EngineMailbox(Akka.Actor.Settings settings, Akka.Configuration.Config config)
    : MailboxType(settings, config), IProducesMessageQueue<EngineMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new EngineMessageQueue(owner);
}

/// <remarks>
/// The envelopes wait in an <see cref="EngineEnvelopeQueue"/>, not a <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>:
/// an idle actor's queue costs an empty array, not a 32-slot segment (about 1 KiB per actor), and the engine's head
/// peek does not freeze segments.
/// </remarks>
public sealed class EngineMessageQueue(IActorRef? owner) : IMessageQueue, IUnboundedMessageQueueSemantics, IEngineVisibleQueue
{
    private readonly EngineEnvelopeQueue _queue = new();
    private string? _path;

    public string OwnerPath => _path ??= owner is null ? "-" : SimEngine.DigestPath(owner.Path);
    public object? HeadMessage => _queue.HeadMessage;
    public bool HasMessages => _queue.Count > 0;
    public int Count => _queue.Count;
    public void Enqueue(IActorRef receiver, Envelope envelope) => _queue.Enqueue(envelope);
    public bool TryDequeue(out Envelope envelope) => _queue.TryDequeue(out envelope);

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var env)) deadletters.Enqueue(owner, env);
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
public sealed class EngineEnvelopeQueue
{
    private readonly Queue<Envelope> _queue = new();

    public int Count
    {
        get { lock (_queue) return _queue.Count; }
    }

    /// <summary>The message at the head, or null when the queue is empty.</summary>
    public object? HeadMessage
    {
        get { lock (_queue) return _queue.TryPeek(out var e) ? e.Message : null; }
    }

    public void Enqueue(Envelope envelope)
    {
        lock (_queue) _queue.Enqueue(envelope);
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_queue) return _queue.TryDequeue(out envelope);
    }
}
