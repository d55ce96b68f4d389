using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Config;
using ActorStack.Hardware.Pktgen;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// Linux pktgen bound to one device: builds real Ethernet/IPv4/UDP frames and
/// hands them straight to the driver (<c>ndo_start_xmit</c>), bypassing the
/// stack. At most a TX ring's worth of frames is outstanding; TX completions
/// return the credit.
/// <para>
/// Pacing, as <c>pktgen_xmit</c> does it: with <c>ratep</c> each transmit call first waits for <c>next_tx</c>
/// (<c>spin</c>), which then moves on by <c>delay</c> = NSEC_PER_SEC / ratep (<c>next_tx = spin_until + delay</c>),
/// and hands <c>burst</c> frames to the driver (<c>xmit_more</c>); so, as on Linux, <c>burst</c> B sends B frames at
/// each instant and B × ratep frames per second. A call that finds the TX queue stopped sends nothing
/// (<c>last_ok = 0</c>) and is retried, without waiting again, when a completion returns credit; a sender behind its
/// schedule (the ring was full) sends back to back until it has caught up, as Linux's does.
/// <c>pktgen_run</c> anchors the schedule at the start (<c>next_tx = ktime_get()</c>); <see cref="PktgenReanchor"/>
/// anchors it again at the current instant without clearing the counters, so a deficit is never paid back after it.
/// Without <c>ratep</c>: as fast as completions allow, 64 frames per driver call.
/// </para>
/// <para>
/// On the virtual clock (<see cref="SimEngine"/>) every transmit call happens at its own ns (a timer at <c>next_tx</c>):
/// a 1,000,000 frames/s stream is one frame per µs of simulated time. On the real clock Akka's scheduler cannot wake
/// more often than its tick (10 ms), so there the frames due since the anchor are sent on each tick
/// (the count of calls due × burst), in batches of up to 64.
/// </para>
/// </summary>
public sealed class PktgenActor : UntypedActor, IWithTimers
{
    /// <summary>Real clock: the periodic tick on which the frames due are sent.</summary>
    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>Virtual clock: <c>next_tx</c> has come (the end of <c>spin</c>).</summary>
    private sealed record XmitDue
    {
        public static readonly XmitDue Instance = new();
    }

    private const int Batch = 64;
    private readonly PktgenWorkload _w;
    private readonly IActorRef _nic;
    private readonly PktgenGenerator _gen;
    private readonly int _window;
    private readonly int _burst;
    private readonly long _delayNs;
    private readonly VirtualTimeScheduler? _virtual;
    private int _inFlight;
    private long _sent, _txDropped;
    // Virtual clock: pktgen's next_tx (engine ns), last_ok, and the instant of the XmitDue armed last (-1: none).
    private long _nextTxNs;
    private bool _lastOk = true;
    private long _armedNs = -1;
    // Real clock: the schedule's anchor (scheduler ticks) and the frames sent before it.
    private long _anchorTicks, _sentAtAnchor;
    public ITimerScheduler Timers { get; set; } = null!;

    public PktgenActor(PktgenWorkload w, IActorRef nic, int txRing)
    {
        _w = w;
        _nic = nic;
        _gen = new PktgenGenerator(w.Pktgen);
        _window = Math.Max(txRing, Batch);
        _burst = Math.Max(1, w.Pktgen.Burst);
        _delayNs = w.Pktgen.DelayNanoseconds;
        _virtual = Context.System.Scheduler as VirtualTimeScheduler;
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case XmitDue:
                if (_virtual!.Engine.NowNs == _armedNs) _armedNs = -1;
                Pump();
                break;
            case TxCompleted c:
                _inFlight -= c.Sent + c.Dropped;
                _txDropped += c.Dropped;
                Pump();
                break;
            case Tick: Pump(); break;
            case PktgenReanchor:
                Sender.Tell(Status());
                Reanchor();
                Pump();
                break;
            case GetWorkloadStatus: Sender.Tell(Status()); break;
            default: Unhandled(message); break;
        }
    }

    private bool Done => _w.Pktgen.Count > 0 && _sent >= _w.Pktgen.Count;

    private PktgenStatus Status() => new(_w.Host, _w.Device, _sent, _txDropped, _w.Pktgen.Count, Done && _inFlight == 0);

    protected override void PreStart()
    {
        Reanchor();
        if (_virtual is null && _delayNs > 0) Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromMilliseconds(10));
        Self.Tell(Tick.Instance);
    }

    /// <summary>
    /// <c>pktgen_run</c>'s <c>next_tx = ktime_get()</c>: the schedule starts now, counters kept. A call waiting for
    /// ring credit (<c>last_ok = 0</c>) becomes the call due now, so it does not go out on top of the new schedule.
    /// </summary>
    private void Reanchor()
    {
        _lastOk = true;
        if (_virtual is not null) _nextTxNs = _virtual.Engine.NowNs;
        _anchorTicks = Context.System.Scheduler.Now.UtcTicks;
        _sentAtAnchor = _sent;
    }

    private void Pump()
    {
        if (_virtual is not null && _delayNs > 0) PumpPaced(_virtual.Engine.NowNs);
        else PumpTicked();
        if (Done) Timers.Cancel("tick");
    }

    /// <summary>
    /// Virtual clock, <c>ratep</c> set: <c>pktgen_xmit</c> calls at the current instant, each one waiting for
    /// <c>next_tx</c> first (<c>spin</c>) when the previous call went out (<c>last_ok</c>).
    /// </summary>
    private void PumpPaced(long now)
    {
        while (!Done)
        {
            if (_lastOk)
            {
                if (_nextTxNs > now)
                {
                    // spin(next_tx): one timer per transmit instant.
                    if (_armedNs != _nextTxNs)
                    {
                        _virtual!.ScheduleTellOnceNs(_nextTxNs - now, Self, XmitDue.Instance, Self);
                        _armedNs = _nextTxNs;
                    }
                    return;
                }
                _nextTxNs += _delayNs; // spin's exit: next_tx = spin_until + delay
            }
            // netif_xmit_frozen_or_drv_stopped: nothing goes out; retried on the next completion, without spinning.
            if (_inFlight >= _window)
            {
                _lastOk = false;
                return;
            }
            // The burst stops where the queue stops (goto xmit_more while !frozen); the rest of it is not sent.
            int n = (int)Math.Min(Math.Min(_burst, _window - _inFlight), Remaining);
            Xmit(n);
            _lastOk = true;
        }
    }

    /// <summary>
    /// Real clock (the frames due since the anchor, on each 10 ms tick), or no <c>ratep</c> (as fast as completions
    /// allow): batches of up to 64 frames while the ring has room.
    /// </summary>
    private void PumpTicked()
    {
        long now = Context.System.Scheduler.Now.UtcTicks;
        long due = _delayNs > 0
            ? ((now - _anchorTicks) * 100 / _delayNs + 1) * _burst - (_sent - _sentAtAnchor)
            : long.MaxValue;
        due = Math.Min(due, Remaining);
        while (due > 0 && _inFlight < _window)
        {
            int n = (int)Math.Min(Math.Min(due, Batch), _window - _inFlight);
            Xmit(n);
            due -= n;
        }
    }

    private long Remaining => _w.Pktgen.Count > 0 ? _w.Pktgen.Count - _sent : long.MaxValue;

    /// <summary><paramref name="n"/> frames to the driver in one call (<c>xmit_more</c> on all but the last).</summary>
    private void Xmit(int n)
    {
        long stamp = Context.System.Scheduler.Now.UtcTicks;
        // One block per call, one slice per frame: frames are never written after the send.
        int size = _w.Pktgen.PktSize;
        var block = new byte[n * size];
        var b = ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>(n);
        for (int i = 0; i < n; i++)
        {
            var frame = block.AsMemory(i * size, size);
            _gen.WriteNext(frame.Span, stamp);
            b.Add(frame);
        }
        _nic.Tell(new XmitFrames(b.MoveToImmutable()), Self);
        _inFlight += n;
        _sent += n;
    }

    public static Props Props(PktgenWorkload w, IActorRef nic, int txRing)
        => Akka.Actor.Props.Create(() => new PktgenActor(w, nic, txRing));
}
