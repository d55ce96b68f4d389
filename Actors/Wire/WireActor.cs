using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Mailboxes;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Actors.Wire;

/// <summary>
/// A full-duplex cable between two NICs (or switch ports), addressed only by their actor references, so each
/// end may live on another cluster node. Each direction first serialises frames at the link's line rate
/// (<see cref="LineSerializer{T}"/>: the lower of the two ends' <c>speed</c>, as autonegotiation settles it), then is
/// a <see cref="WireChannel"/>: cut state, conditional fault rules, netem (sch_netem's per-packet order) and the
/// propagation delay.
/// TX completion (<see cref="WireTxDone"/> to the sender, which frees its descriptors, <c>igb_clean_tx_irq</c>) comes
/// when a frame's last bit has left: a sender offering more than the line rate fills its TX ring, then its qdisc
/// (or a switch port its egress queue). At that instant the frame enters the channel, and reaches the far end after
/// netem and the propagation delay.
/// Timers: one per direction, at the earlier of the next completion and the channel's next deadline. On the virtual
/// clock it is exact to the ns (<see cref="VirtualTimeScheduler.ScheduleTellOnceNs"/>). On the real clock Akka's
/// scheduler ticks every <c>akka.scheduler.tick-duration</c> (10 ms), so every frame whose completion is due within
/// one tick of now completes at once and enters the channel now, and the timer is set one tick before the next
/// completion: the average rate holds (busy-until still advances by each frame's wire time) without 10 ms stalls;
/// every channel frame due by a tick leaves in that tick, in order.
/// The mailbox is bounded (a cable carries only so much): a sender faster than the far end can take loses
/// frames here, counted per direction (SIM_WIRE_OVERFLOW).
/// Runtime API: <see cref="SetNetem"/> → <see cref="NetemSet"/> (or <see cref="CommandFailed"/>); <see cref="SetFaultRules"/> →
/// <see cref="FaultRulesSet"/>; <see cref="CutCable"/> / <see cref="RestoreCable"/> → <see cref="CableState"/>,
/// and on a change both ends get <see cref="CarrierChanged"/>. <see cref="GetWireStats"/> → <see cref="WireStats"/>
/// with per-direction detail (drops by reason, in flight).
/// </summary>
public sealed class WireActor : UntypedActor, IWithTimers
{
    private sealed record Release(WireDirection Direction)
    {
        public static readonly Release AToB = new(WireDirection.AToB);
        public static readonly Release BToA = new(WireDirection.BToA);
    }

    private readonly IActorRef _a;
    private readonly IActorRef _b;
    private readonly WireChannel _aToB;
    private readonly WireChannel _bToA;
    private readonly long _epochTicks;
    private readonly LineSerializer<ReadOnlyMemory<byte>>[] _line;
    // The engine's scheduler on the virtual clock (exact ns timers), null on the real clock.
    private readonly VirtualTimeScheduler? _virtual;
    private readonly long _startNs;
    // Real clock: completions due within one scheduler tick are taken at once.
    private readonly long _slackNs;
    private readonly long[] _coalesceNs; // per direction: the sending end's tx-usecs
    private readonly long?[] _armed = new long?[2];
    private readonly SimEngine.IEngineTimer?[] _timer = new SimEngine.IEngineTimer?[2];
    // The virtual clock over a delay-only channel (WireChannel.IsDelayOnly): a frame's arrival is known when its last bit
    // leaves, so it is told to the far end at once as an engine tell due at that instant, instead of waiting in the
    // channel for a release timer and a run of this actor. Per direction, those not arrived yet, oldest first (taken back
    // when the cable is cut or the wire stops).
    private readonly Queue<(int Frames, SimEngine.IEngineTimer Tell)>[] _direct = [new(), new()];
    private readonly List<ReadOnlyMemory<byte>> _out = new();
    private readonly List<(ReadOnlyMemory<byte> Frame, long FinishNs)> _done = new();
    private long _overflowAToB, _overflowBToA;
    private readonly string _name;
    // The actor's own queue when it is a charged one (frames from the ends count against its bound until taken).
    private readonly ChargedMessageQueue? _charged;
    // Capture taps (AddWireCaptureTap): each fault on the medium is told to them as it happens.
    private ImmutableArray<IActorRef> _taps = ImmutableArray<IActorRef>.Empty;

    public ITimerScheduler Timers { get; set; } = null!;

    public WireActor(IActorRef a, IActorRef b, WireOptions options) : this(a, b, options, null) { }

    /// <summary>
    /// A wire whose far end is on another simulation partition (<c>Actors/Cluster</c>): <paramref name="egress"/> gets each
    /// frame leaving the channel with its direction and arrival time (ns since this wire's start) instead of propagating it
    /// (<see cref="WireChannel.Egress"/>); the other partition delivers it.
    /// </summary>
    public WireActor(IActorRef a, IActorRef b, WireOptions options, Action<WireDirection, ReadOnlyMemory<byte>, long>? egress)
    {
        _a = a;
        _b = b;
        _name = options.Name;
        _epochTicks = Context.System.Scheduler.Now.UtcTicks;
        _virtual = Context.System.Scheduler as VirtualTimeScheduler;
        _startNs = _virtual?.Engine.NowNs ?? 0;
        _slackNs = _virtual is not null ? 0
            : SimEngine.ToNs(Context.System.Settings.Config.GetTimeSpan("akka.scheduler.tick-duration", TimeSpan.FromMilliseconds(10)));
        // Autonegotiation: both ends run at the highest speed they share, the lower of the two.
        int speed = LineRate.Negotiate(options.SpeedA, options.SpeedB);
        _line = [new(speed), new(speed)];
        _coalesceNs = [options.TxUsecsA * 1000L, options.TxUsecsB * 1000L];
        long prop = options.Delay.Ticks * 100;
        _aToB = new WireChannel(WireSeed.For(options.Seed, options.Name, "a-to-b"), prop, options.NetemAToB,
            options.Faults) { Direction = WireDirection.AToB };
        _bToA = new WireChannel(WireSeed.For(options.Seed, options.Name, "b-to-a"), prop, options.NetemBToA,
            options.Faults) { Direction = WireDirection.BToA };
        if (egress is not null)
        {
            _aToB.Egress = (f, t) => egress(WireDirection.AToB, f, t);
            _bToA.Egress = (f, t) => egress(WireDirection.BToA, f, t);
        }

        var q = _charged = ChargedMessageQueue.Of(Context);
        var self = Self;
        if (q is not null)
            q.OnDrop = (d, from) =>
            {
                // Runs on the sender's thread: only interlocked counters here.
                if (from.Equals(_b)) Interlocked.Add(ref _overflowBToA, d.Count);
                else Interlocked.Add(ref _overflowAToB, d.Count);
                // The frames left the sender's ring and were lost on the cable: its descriptors are free all the same.
                from.Tell(new WireTxDone(d.Count), self);
            };

    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WireFrames m: OnFrames(m); break;
            case Release r: Run(r.Direction); break;
            case SetNetem m: OnSetNetem(m); break;
            case SetFaultRules m: OnSetFaultRules(m); break;
            case CutCable: OnCut(); break;
            case RestoreCable: OnRestore(); break;
            case AddWireCaptureTap m: OnAddTap(m); break;
            case GetWireStats: Sender.Tell(Stats()); break;
            default: Unhandled(message); break;
        }
    }

    private void OnFrames(WireFrames m)
    {
        _charged?.Uncharge(m.Count);
        WireDirection dir;
        var from = Sender;
        if (ActorRefComparer.Instance.Equals(from, _a)) dir = WireDirection.AToB;
        else if (ActorRefComparer.Instance.Equals(from, _b)) dir = WireDirection.BToA;
        else return; // not one of our ends
        OnFrames(dir, m);
    }

    private void OnSetFaultRules(SetFaultRules m)
    {
        _aToB.SetFaults(m.Rules);
        _bToA.SetFaults(m.Rules);
        int n = m.Rules.IsDefault ? 0 : m.Rules.Length;
        TellTaps(null, $"fault rules set: {n} rule(s), counted from 0", default);
        Sender.Tell(new FaultRulesSet(n));
    }

    private void OnCut()
    {
        TakeBackDirect(WireDirection.AToB);
        TakeBackDirect(WireDirection.BToA);
        bool changed = _aToB.Cut() | _bToA.Cut();
        if (changed) TellTaps(null, "cable cut: carrier off at both ends", default);
        DrainEvents(WireDirection.AToB);
        DrainEvents(WireDirection.BToA);
        Arm(WireDirection.AToB);
        Arm(WireDirection.BToA);
        if (changed) Carrier(false);
        Sender.Tell(new CableState(Cut: true, changed));
    }

    private void OnRestore()
    {
        bool changed = _aToB.Restore() | _bToA.Restore();
        if (changed) TellTaps(null, "cable restored: carrier on at both ends", default);
        if (changed) Carrier(true);
        Sender.Tell(new CableState(Cut: false, changed));
    }

    private void OnAddTap(AddWireCaptureTap m)
    {
        if (!_taps.Contains(m.Tap)) _taps = _taps.Add(m.Tap);
        _aToB.Events ??= new List<WireChannelEvent>();
        _bToA.Events ??= new List<WireChannelEvent>();
        Sender.Tell(new WireCaptureTapAdded(_name));
    }

    /// <summary>The original cable: no netem, no faults, seed 0.</summary>
    public WireActor(IActorRef a, IActorRef b, TimeSpan delay) : this(a, b, new WireOptions("wire", 0, delay)) { }

    private long NowNs => _virtual is { } v ? v.Engine.NowNs - _startNs : (Context.System.Scheduler.Now.UtcTicks - _epochTicks) * 100;

    /// <summary>The link's speed after autonegotiation, Mbit/s.</summary>
    public int SpeedMbps => _line[0].SpeedMbps;

    private WireChannel Channel(WireDirection d) => d == WireDirection.AToB ? _aToB : _bToA;
    private IActorRef FarEnd(WireDirection d) => d == WireDirection.AToB ? _b : _a;
    private IActorRef NearEnd(WireDirection d) => d == WireDirection.AToB ? _a : _b;

    /// <summary>The sender's MAC starts each frame when the medium is free; it completes when its last bit has left.</summary>
    private void OnFrames(WireDirection dir, WireFrames m)
    {
        long now = NowNs;
        var line = _line[(int)dir];
        foreach (var f in m.Frames) line.Enqueue(f, f.Length, now);
        if (_virtual is { } v && _coalesceNs[(int)dir] == 0 && Channel(dir).IsDelayOnly)
        {
            // The virtual clock, no TX coalescing, a delay-only channel: when each frame's last bit leaves and when it
            // arrives are known now, so both are engine tells due at those instants (the completion to the sender, the
            // frame to the far end) instead of this actor's release timer and run at each.
            line.TakeDone(long.MaxValue, _done);
            for (int i = 0; i < _done.Count;)
            {
                long finish = _done[i].FinishNs;
                int k = 0;
                for (; i < _done.Count && _done[i].FinishNs == finish; i++) k++;
                v.Engine.TellAfterNs(finish - now, NearEnd(dir), new WireTxDone(k), Self);
            }
            SendDirect(v.Engine, dir);
            _done.Clear();
        }
        else Complete(dir, now);
        Arm(dir);
    }

    /// <summary>
    /// The frames whose last bit has left (on the real clock: within one tick of now): TX completion to the sender
    /// (<see cref="WireTxDone"/>), then each enters the channel at its own completion instant.
    /// </summary>
    private void Complete(WireDirection dir, long now)
    {
        int n = _line[(int)dir].TakeDone(now + _slackNs, _done);
        if (n == 0) return;
        NearEnd(dir).Tell(new WireTxDone(n), Self);
        var ch = Channel(dir);
        if (ch.IsPassThrough)
        {
            // Nothing on the medium and nothing in flight: the frames go on at once, in one batch.
            ch.PassThrough(n);
            var frames = new ReadOnlyMemory<byte>[n];
            for (int i = 0; i < n; i++) frames[i] = _done[i].Frame;
            FarEnd(dir).Tell(new WireFrames([.. frames]), Self);
        }
        else if (_virtual is { } v && ch.IsDelayOnly) SendDirect(v.Engine, dir);
        else
        {
            // Real clock: a frame completed early (within the tick) enters the channel now, not in the future.
            foreach (var (f, finish) in _done) ch.Offer(f, Math.Min(finish, now), _out);
            DrainEvents(dir);
            Flush(dir);
        }
        _done.Clear();
    }

    /// <summary>
    /// The frames in <c>_done</c> enter the delay-only channel at their completion instants and are told to the far end
    /// due at their arrival (those arriving at one instant in one <see cref="WireFrames"/>), as the channel's own release
    /// would deliver them.
    /// </summary>
    private void SendDirect(SimEngine engine, WireDirection dir)
    {
        var ch = Channel(dir);
        var pending = _direct[(int)dir];
        Arrived(dir);
        long now = NowNs;
        // A frame whose arrival has passed already (its completion batch was taken late: tx-usecs) arrives now, with the
        // others of the batch, as the channel's release would have delivered it.
        long ArrivalOf(int k) => Math.Max(now, ch.ArrivalOf(_done[k].FinishNs));
        for (int i = 0; i < _done.Count;)
        {
            long arrival = ArrivalOf(i);
            for (; i < _done.Count && ArrivalOf(i) == arrival; i++)
                if (ch.OfferDirect()) _out.Add(_done[i].Frame);
            if (_out.Count == 0) continue;
            var tell = engine.TellAfterNsCancelable(arrival - now, FarEnd(dir), new WireFrames([.. _out]), Self);
            pending.Enqueue((_out.Count, tell));
            _out.Clear();
        }
    }

    /// <summary>Counts the direct deliveries already told to the far end as delivered.</summary>
    private void Arrived(WireDirection dir)
    {
        var pending = _direct[(int)dir];
        while (pending.TryPeek(out var p) && p.Tell.Ran)
        {
            pending.Dequeue();
            Channel(dir).DirectArrived(p.Frames);
        }
    }

    /// <summary>Takes back the direct deliveries not arrived yet (a cut: the channel then counts them lost in flight).</summary>
    private void TakeBackDirect(WireDirection dir)
    {
        Arrived(dir);
        foreach (var (_, tell) in _direct[(int)dir]) tell.Cancel();
        _direct[(int)dir].Clear();
    }

    private void Run(WireDirection dir)
    {
        _armed[(int)dir] = null;
        long now = NowNs;
        Complete(dir, now);
        Channel(dir).Release(now, _out);
        Flush(dir);
        Arm(dir);
    }

    private void Flush(WireDirection dir)
    {
        if (_out.Count == 0) return;
        FarEnd(dir).Tell(new WireFrames([.. _out]), Self);
        _out.Clear();
    }

    /// <summary>
    /// One timer per direction, at the earlier of the next TX completion (on the real clock one tick before it) and
    /// the channel's next deadline (qdisc_watchdog_schedule_ns).
    /// </summary>
    private void Arm(WireDirection dir)
    {
        var ch = Channel(dir);
        long now = NowNs;
        // A deadline already reached (a slot boundary met while releasing) is served at once, not by a timer.
        for (int guard = 0; guard < 4 && ch.NextDeadlineNs is { } due && due <= now; guard++)
        {
            ch.Release(now, _out);
            Flush(dir);
        }
        var next = ch.NextDeadlineNs;
        if (_line[(int)dir].CompletionDueNs(_coalesceNs[(int)dir]) is { } finish && (next is null || finish - _slackNs < next)) next = finish - _slackNs;
        int i = (int)dir;
        if (next == _armed[i]) return;
        _armed[i] = next;
        var key = dir == WireDirection.AToB ? Release.AToB : Release.BToA;
        if (_virtual is { } v)
        {
            // Exact to the ns on the engine: a frame's wire time is rarely a multiple of the TimeSpan's 100 ns.
            _timer[i]?.Cancel();
            _timer[i] = null;
            if (next is not { } at) return;
            _timer[i] = v.Engine.TellAfterNsCancelable(Math.Max(0, at - now), Self, key, Self);
            return;
        }
        if (next is not { } d) { Timers.Cancel(key); return; }
        long ticks = Math.Max(1, (d - now + 99) / 100);
        Timers.StartSingleTimer(key, key, TimeSpan.FromTicks(ticks));
    }

    protected override void PostStop()
    {
        foreach (var t in _timer) t?.Cancel();
        foreach (var q in _direct)
            foreach (var (_, tell) in q) tell.Cancel();
        base.PostStop();
    }

    private void OnSetNetem(SetNetem m)
    {
        if (m.Settings is { } s && !s.TryValidate(out var error))
        {
            Sender.Tell(new CommandFailed(m, Errno.EINVAL, error));
            return;
        }
        Channel(m.Direction).SetNetem(m.Settings, NowNs);
        TellTaps(m.Direction, $"netem set: {(m.Settings is null ? "off" : m.Settings.ToString())}", default);
        Run(m.Direction);
        Sender.Tell(new NetemSet(m.Direction, m.Settings));
    }

    /// <summary>The faults the channel recorded, to the capture taps (in order, at the instant they happened).</summary>
    private void DrainEvents(WireDirection dir)
    {
        if (Channel(dir).Events is not { Count: > 0 } ev) return;
        long now = NowNs;
        foreach (var e in ev)
            TellTaps(dir, e.Drop is { } r ? $"{e.What} ({r})" : e.What, e.Frame, e.AtNs is { } at ? Math.Max(0, now - at) : 0);
        ev.Clear();
    }

    private void TellTaps(WireDirection? dir, string text, ReadOnlyMemory<byte> frame, long agoNs = 0)
    {
        if (_taps.IsEmpty) return;
        var msg = new WireCaptureEvent(_name, dir, text, frame.IsEmpty ? ReadOnlyMemory<byte>.Empty : frame.ToArray(), agoNs);
        foreach (var t in _taps) t.Tell(msg, Self);
    }

    private void Carrier(bool up)
    {
        var msg = new CarrierChanged(up);
        _a.Tell(msg, Self);
        _b.Tell(msg, Self);
    }

    private WireStats Stats()
    {
        Arrived(WireDirection.AToB);
        Arrived(WireDirection.BToA);
        var ab = WithOverflow(OnLine(_aToB.Stats(), _line[0].Count), Interlocked.Read(ref _overflowAToB));
        var ba = WithOverflow(OnLine(_bToA.Stats(), _line[1].Count), Interlocked.Read(ref _overflowBToA));
        return new WireStats(ab.Offered - ab.Dropped, ba.Offered - ba.Dropped, ab.Dropped, ba.Dropped)
        {
            AToBDetail = ab,
            BToADetail = ba,
        };
    }

    /// <summary>Frames still being serialised were accepted from the sender and are in flight.</summary>
    private static WireDirectionStats OnLine(WireDirectionStats s, int serialising)
        => serialising == 0 ? s : s with { Offered = s.Offered + serialising, InFlight = s.InFlight + serialising };

    private static WireDirectionStats WithOverflow(WireDirectionStats s, long overflow)
    {
        if (overflow == 0) return s;
        var drops = s.Drops.SetItem(DropReason.SIM_WIRE_OVERFLOW, s.DroppedBy(DropReason.SIM_WIRE_OVERFLOW) + overflow);
        return s with { Offered = s.Offered + overflow, Drops = drops };
    }

    public static Props Props(IActorRef a, IActorRef b, TimeSpan delay)
        => Props(a, b, new WireOptions("wire", 0, delay));

    public static Props Props(IActorRef a, IActorRef b, WireOptions options)
        => FactoryProps.Of(() => new WireActor(a, b, options)).WithMailbox("actorstack-nic-mailbox");

    /// <summary>One half of a cross-partition wire (see the constructor with <c>egress</c>).</summary>
    public static Props Props(IActorRef a, IActorRef b, WireOptions options, Action<WireDirection, ReadOnlyMemory<byte>, long> egress)
        => FactoryProps.Of(() => new WireActor(a, b, options, egress)).WithMailbox("actorstack-nic-mailbox");
}
