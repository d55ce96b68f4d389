using Akka.Actor;

namespace ActorStack.Actors.Engine;

/// <summary>
/// The sender of one question asked from outside the simulation (the CLI, a partition's driver) while the caller runs
/// the engine itself: not an actor, so nothing is queued for it; it keeps the first reply (set on the engine's thread,
/// read after the run).
/// </summary>
public sealed class ReplyBox(IActorRefProvider provider) : MinimalActorRef
{
    private object? _reply;

    /// <summary>A box for a question to an actor of <paramref name="system"/>.</summary>
    public ReplyBox(ActorSystem system) : this(((ExtendedActorSystem)system).Provider) { }

    /// <summary>The first reply, or null while none came.</summary>
    public object? Reply => Volatile.Read(ref _reply);

    public override ActorPath Path { get; } = provider.TempPath();
    public override IActorRefProvider Provider => provider;
    protected override void TellInternal(object message, IActorRef sender) => Interlocked.CompareExchange(ref _reply, message, null);
}
