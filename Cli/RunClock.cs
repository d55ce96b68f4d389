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

    /// <summary>Lets <paramref name="d"/> pass on this clock, or less if <paramref name="interrupt"/> fires (Ctrl-C).</summary>
    public abstract Task Wait(TimeSpan d, CancellationToken interrupt = default);

    /// <summary>Asks <paramref name="target"/>; <paramref name="timeout"/> is on this clock.</summary>
    public abstract Task<T> Ask<T>(IActorRef target, object message, TimeSpan timeout);

    /// <summary><c>ss -t</c>'s query (<see cref="SsQuery.CollectTcp"/>) through this clock.</summary>
    public virtual Task<ImmutableArray<TcpSocketInfo>> CollectTcp(IActorRef host, TimeSpan timeout) => SsQuery.CollectTcp(host, timeout);
}

/// <summary>Wall time: <see cref="Task.Delay(TimeSpan)"/> and Akka's Ask, as <c>run</c> always did.</summary>
public sealed class RealClock : RunClock
{
    public override DateTime UtcNow => DateTime.UtcNow;
    public override async Task Wait(TimeSpan d, CancellationToken interrupt = default)
    {
        try { await Task.Delay(d, interrupt); }
        catch (OperationCanceledException) { } // Ctrl-C: the run ends and reports
    }
    public override Task<T> Ask<T>(IActorRef target, object message, TimeSpan timeout) => target.Ask<T>(message, timeout);
}

/// <summary>
/// Simulated time on <see cref="SimEngine"/>: <see cref="Wait"/> runs the simulation for that long; <see cref="Ask{T}"/>
/// tells with a reply box as sender (not an actor, so nothing is queued for it), runs what is due now and, if the
/// reply needs simulated time, the next events in order until it is there or <c>timeout</c> simulated time passed.
/// </summary>
public sealed class VirtualClock(SimEngine engine, ActorSystem system, long maxEventsPerInstant = VirtualClock.MaxEventsPerInstant) : RunClock
{
    public SimEngine Engine => engine;
    public override DateTime UtcNow => engine.UtcNow.UtcDateTime;

    /// <summary>
    /// Events run at one simulated instant before the run is declared stuck: nothing in the scenario costs simulated
    /// time on that path (e.g. a TCP transfer over wires without delay, before line rate and CPU cost exist), so the
    /// clock would never move and the CLI would never return.
    /// </summary>
    public const long MaxEventsPerInstant = 5_000_000;

    /// <summary>
    /// Runs the simulation for <paramref name="d"/> of simulated time: the events due by then in order, then the clock
    /// jumps to the end (nothing queued: no wall time passes). Ctrl-C stops it between two events.
    /// </summary>
    public override Task Wait(TimeSpan d, CancellationToken interrupt = default)
    {
        long target = engine.NowNs + SimEngine.ToNs(d);
        RunDue(target, () => interrupt.IsCancellationRequested);
        if (!interrupt.IsCancellationRequested) engine.RunUntilNs(target); // nothing left before target: the clock moves to it
        return Task.CompletedTask;
    }

    /// <summary>Runs the events due by <paramref name="limitNs"/> in the engine's order, bounded per instant, until <paramref name="stop"/> says so.</summary>
    private void RunDue(long limitNs, Func<bool>? stop = null)
    {
        if (engine.RunDueBounded(limitNs, maxEventsPerInstant, stop)) return;
        long at = engine.NowNs;
        throw new SimulationStuckException(
            $"the simulation does not advance: more than {maxEventsPerInstant} events at simulated {at / 1_000_000_000}.{at % 1_000_000_000:D9}s " +
            "(nothing on that path costs simulated time: a wire without delay?)");
    }

    public override Task<T> Ask<T>(IActorRef target, object message, TimeSpan timeout)
    {
        var box = new ReplyBox(system);
        target.Tell(message, box);
        RunDue(engine.NowNs);                                   // everything due now (RunUntilIdle, bounded)
        RunDue(engine.NowNs + SimEngine.ToNs(timeout), () => box.Reply is not null);
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
}

/// <summary>A virtual run whose clock cannot move (<see cref="VirtualClock.MaxEventsPerInstant"/>).</summary>
public sealed class SimulationStuckException(string message) : Exception(message);
