using System.Collections.Concurrent;
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

public sealed class EngineMessageQueue(IActorRef? owner) : IMessageQueue, IUnboundedMessageQueueSemantics, IEngineVisibleQueue
{
    private readonly ConcurrentQueue<Envelope> _queue = new();
    private string? _path;

    public string OwnerPath => _path ??= owner is null ? "-" : SimEngine.DigestPath(owner.Path);
    public object? HeadMessage => _queue.TryPeek(out var e) ? e.Message : null;

    public bool HasMessages => !_queue.IsEmpty;
    public int Count => _queue.Count;
    public void Enqueue(IActorRef receiver, Envelope envelope) => _queue.Enqueue(envelope);
    public bool TryDequeue(out Envelope envelope) => _queue.TryDequeue(out envelope);

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var env)) deadletters.Enqueue(owner, env);
    }
}
