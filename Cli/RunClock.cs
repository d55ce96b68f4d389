using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Workloads;
using ActorStack.Messages;

namespace ActorStack.Cli;

/// <summary>
/// What <c>run</c> waits on and asks through: the wall clock and Akka's Ask (<c>--clock real</c>), or the
/// simulation engine (<c>--clock virtual</c>), where the CLI tells and then drives the engine until the reply is there,
/// and waiting is running the simulation for that much simulated time.
/// </summary>
public abstract class RunClock
{
    /// <summary>Now on this clock (wall or simulated, UTC).</summary>
    public abstract DateTime UtcNow { get; }

    /// <summary>Lets <paramref name="d"/> pass on this clock.</summary>
    public abstract Task Wait(TimeSpan d);

    /// <summary>Asks <paramref name="target"/>; <paramref name="timeout"/> is on this clock.</summary>
    public abstract Task<T> Ask<T>(IActorRef target, object message, TimeSpan timeout);

    /// <summary><c>ss -t</c>'s query (<see cref="SsQuery.CollectTcp"/>) through this clock.</summary>
    public virtual Task<ImmutableArray<TcpSocketInfo>> CollectTcp(IActorRef host, TimeSpan timeout) => SsQuery.CollectTcp(host, timeout);
}

/// <summary>Wall time: <see cref="Task.Delay(TimeSpan)"/> and Akka's Ask, as <c>run</c> always did.</summary>
public sealed class RealClock : RunClock
{
    public override DateTime UtcNow => DateTime.UtcNow;
    public override Task Wait(TimeSpan d) => Task.Delay(d);
    public override Task<T> Ask<T>(IActorRef target, object message, TimeSpan timeout) => target.Ask<T>(message, timeout);
}

/// <summary>
/// Simulated time on <see cref="SimEngine"/>: <see cref="Wait"/> runs the simulation for that long; <see cref="Ask{T}"/>
/// tells with a reply box as sender (not an actor, so nothing is queued for it), runs what is due now and, if the
/// reply needs simulated time, the next events one at a time until it is there or <c>timeout</c> simulated time passed.
/// </summary>
public sealed class VirtualClock(SimEngine engine, ActorSystem system) : RunClock
{
    public SimEngine Engine => engine;
    public override DateTime UtcNow => engine.UtcNow.UtcDateTime;

    public override Task Wait(TimeSpan d)
    {
        engine.RunFor(d);
        return Task.CompletedTask;
    }

    public override Task<T> Ask<T>(IActorRef target, object message, TimeSpan timeout)
    {
        var box = new ReplyBox(((ExtendedActorSystem)system).Provider);
        target.Tell(message, box);
        engine.RunUntilIdle();
        long deadline = engine.NowNs + SimEngine.ToNs(timeout);
        while (box.Reply is null)
        {
            var next = engine.Pending.NextDue;
            if (next is null || SimEngine.ToNs(next.Value) > deadline) break;
            engine.Step();
        }
        return box.Reply switch
        {
            null => Task.FromException<T>(new AskTimeoutException($"{target.Path} did not answer {message.GetType().Name} within {timeout.TotalSeconds:0.###}s simulated time")),
            Status.Failure f => Task.FromException<T>(f.Cause),
            T t => Task.FromResult(t),
            var other => Task.FromException<T>(new InvalidCastException($"{target.Path} answered {other.GetType().Name} to {message.GetType().Name}, expected {typeof(T).Name}")),
        };
    }

    public override async Task<ImmutableArray<TcpSocketInfo>> CollectTcp(IActorRef host, TimeSpan timeout)
    {
        var list = await Ask<TcpSocketList>(host, GetTcpSockets.Instance, timeout);
        var infos = new List<TcpSocketInfo>();
        foreach (var s in list.Sockets)
        {
            try { infos.Add(await Ask<TcpSocketInfo>(s, GetSocketInfo.Instance, timeout)); }
            catch (AskTimeoutException) { } // closed meanwhile, as SsQuery leaves it out
        }
        return SsQuery.Order(infos);
    }

    /// <summary>The sender of one question: keeps the first reply (set on the engine's thread, read after the run).</summary>
    private sealed class ReplyBox(IActorRefProvider provider) : MinimalActorRef
    {
        private object? _reply;
        public object? Reply => Volatile.Read(ref _reply);
        public override ActorPath Path { get; } = provider.TempPath();
        public override IActorRefProvider Provider => provider;
        protected override void TellInternal(object message, IActorRef sender) => Interlocked.CompareExchange(ref _reply, message, null);
    }
}
