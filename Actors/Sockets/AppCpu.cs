using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Config;

namespace ActorStack.Actors.Sockets;

/// <summary>
/// The application task behind one socket, as the CPU-cost model sees it on the virtual clock: its own simulated
/// time, <see cref="BusyUntilNs"/>. A <c>recvmsg</c>/<c>sendmsg</c> call that arrives at <c>now</c> starts at
/// max(now, busy-until) and returns when its cost has passed: <c>recvmsg</c> per datagram or segment taken,
/// <c>sendmsg</c> per datagram or stream write, <c>output</c> per packet the call sent through <c>ip_output</c> →
/// <c>dev_queue_xmit</c> in process context, and <c>copy-per-kib</c> for the payload copied
/// (<c>copy_to_user</c>/<c>copy_from_user</c>). A reader as fast as it can therefore takes at most
/// 1 / (recvmsg + copy) datagrams per simulated second, and what the softirq queues faster fills <c>sk_rcvbuf</c>
/// (<c>RcvbufErrors</c>) on simulated time, the same every run.
/// A deliberate simplification: the task runs on a CPU of its own and never competes with the softirq CPUs, as if
/// pinned elsewhere; on Linux it shares a CPU with the softirq unless it is (README, "CPU cost").
/// Plain logic, no actor: time is passed in.
/// </summary>
public sealed class AppCpu(CpuCostSettings cost)
{
    public CpuCostSettings Cost { get; } = cost;

    /// <summary>The simulated instant (ns) the task is busy until.</summary>
    public long BusyUntilNs { get; private set; }

    /// <summary>Whether a call arriving at <paramref name="nowNs"/> would have to wait for the task.</summary>
    public bool IsBusy(long nowNs) => BusyUntilNs > nowNs;

    /// <summary><c>copy_to_user</c>/<c>copy_from_user</c> of <paramref name="bytes"/> (whole ns, rounded down).</summary>
    public long CopyNs(long bytes) => Cost.CopyPerKiBNs * bytes / 1024;

    /// <summary>
    /// One receive call that took <paramref name="taken"/> datagrams or segments of <paramref name="bytes"/> payload: a
    /// call that takes nothing (EAGAIN, an error, EOF) still costs one <c>recvmsg</c> (the syscall ran).
    /// </summary>
    public long RecvCost(int taken, long bytes) => Math.Max(1, taken) * Cost.RecvmsgNs + CopyNs(bytes);

    /// <summary>A send call that handed on <paramref name="writes"/> datagrams (or one stream write: 1) of
    /// <paramref name="bytes"/> payload and sent <paramref name="packets"/> packets through the output path.</summary>
    public long SendCost(int writes, long bytes, long packets) =>
        Math.Max(1, writes) * Cost.SendmsgNs + CopyNs(bytes) + packets * Cost.OutputNs;

    /// <summary>
    /// Runs a call of <paramref name="costNs"/> that arrives at <paramref name="nowNs"/>: it starts at
    /// max(now, busy-until) and the task is busy until it ends. Returns the delay from now until its answer.
    /// </summary>
    public long Charge(long nowNs, long costNs)
    {
        long start = Math.Max(nowNs, BusyUntilNs);
        BusyUntilNs = start + Math.Max(0, costNs);
        return BusyUntilNs - nowNs;
    }
}

/// <summary>
/// A socket actor's side of <see cref="AppCpu"/>: on the virtual clock a call that arrives while the task is busy
/// waits (it is told again to the socket at busy-until, with its caller as sender, so calls keep their order), and an
/// answer is told when the call's cost has passed (<see cref="SimEngine.TellAfterNs"/>, exact to the ns). On the real
/// clock (no engine) nothing waits and every answer is told at once: the machine's own CPU is the cost there.
/// </summary>
public sealed class AppTask
{
    private readonly SimEngine? _engine;
    private readonly IActorRef _self;

    public AppTask(ActorSystem system, IActorRef self, CpuCostSettings cost)
    {
        _engine = SimEngine.IsVirtual(system) ? SimEngine.For(system) : null;
        _self = self;
        Cpu = new AppCpu(cost);
    }

    public AppCpu Cpu { get; }

    /// <summary>True on the virtual clock, where calls cost simulated time.</summary>
    public bool Charged => _engine is not null;

    private long NowNs => _engine?.NowNs ?? 0;

    /// <summary>
    /// Whether <paramref name="call"/> must wait for the task: then it is told to the socket again at busy-until with
    /// <paramref name="caller"/> as its sender, and the caller handles nothing now.
    /// </summary>
    public bool Defer(object call, IActorRef caller)
    {
        if (_engine is null) return false;
        long now = _engine.NowNs;
        if (!Cpu.IsBusy(now)) return false;
        _engine.TellAfterNs(Cpu.BusyUntilNs - now, _self, call, caller);
        return true;
    }

    /// <summary>Answers a call of <paramref name="costNs"/>: at max(now, busy-until) + cost on the virtual clock, now on the real one.</summary>
    public void Answer(IActorRef caller, object reply, long costNs)
    {
        if (_engine is null) { caller.Tell(reply, _self); return; }
        long delay = Cpu.Charge(NowNs, costNs);
        if (delay == 0) caller.Tell(reply, _self);
        else _engine.TellAfterNs(delay, caller, reply, _self);
    }
}
