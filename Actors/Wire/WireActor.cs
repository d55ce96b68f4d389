using Akka.Actor;
using ActorStack.Actors.Mailboxes;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;

namespace ActorStack.Actors.Wire;

/// <summary>
/// A full-duplex cable between two NICs (or switch ports), addressed only by their actor references, so each
/// end may live on another cluster node. Each direction is a <see cref="WireChannel"/>: cut state, conditional
/// fault rules, netem (sch_netem's per-packet order) and the propagation delay; frames leave when their time
/// comes on the scheduler (one timer per direction, at the channel's next deadline; with the scheduler's 10 ms
/// tick every frame due by a tick leaves in that tick, in order).
/// TX completion (<see cref="WireTxDone"/>) is immediate on acceptance: netem and the delays are on the medium.
/// The mailbox is bounded (a cable carries only so much): a sender faster than the far end can take loses
/// frames here, counted per direction (SIM_WIRE_OVERFLOW).
/// Runtime API: <see cref="SetNetem"/> → <see cref="NetemSet"/> (or <see cref="CommandFailed"/>); <see cref="SetFaultRules"/> →
/// <see cref="FaultRulesSet"/>; <see cref="CutCable"/> / <see cref="RestoreCable"/> → <see cref="CableState"/>,
/// and on a change both ends get <see cref="CarrierChanged"/>. <see cref="GetWireStats"/> → <see cref="WireStats"/>
/// with per-direction detail (drops by reason, in flight).
/// </summary>
public sealed class WireActor : ReceiveActor, IWithTimers
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
    private readonly long?[] _armed = new long?[2];
    private readonly List<ReadOnlyMemory<byte>> _out = new();
    private long _overflowAToB, _overflowBToA;

    public ITimerScheduler Timers { get; set; } = null!;

    public WireActor(IActorRef a, IActorRef b, WireOptions options)
    {
        _a = a;
        _b = b;
        _epochTicks = Context.System.Scheduler.Now.UtcTicks;
        long prop = options.Delay.Ticks * 100;
        _aToB = new WireChannel(WireSeed.For(options.Seed, options.Name, "a-to-b"), prop, options.NetemAToB,
            options.Faults) { Direction = WireDirection.AToB };
        _bToA = new WireChannel(WireSeed.For(options.Seed, options.Name, "b-to-a"), prop, options.NetemBToA,
            options.Faults) { Direction = WireDirection.BToA };

        var q = ChargedMessageQueue.Of(Context);
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

        Receive<WireFrames>(m =>
        {
            q?.Uncharge(m.Count);
            WireDirection dir;
            if (Sender.Equals(_a)) dir = WireDirection.AToB;
            else if (Sender.Equals(_b)) dir = WireDirection.BToA;
            else return; // not one of our ends
            Sender.Tell(new WireTxDone(m.Count), Self); // serialised onto the cable: TX completion at the sender
            OnFrames(dir, m);
        });
        Receive<Release>(r => Run(r.Direction));
        Receive<SetNetem>(OnSetNetem);
        Receive<SetFaultRules>(m =>
        {
            _aToB.SetFaults(m.Rules);
            _bToA.SetFaults(m.Rules);
            Sender.Tell(new FaultRulesSet(m.Rules.IsDefault ? 0 : m.Rules.Length));
        });
        Receive<CutCable>(_ =>
        {
            bool changed = _aToB.Cut() | _bToA.Cut();
            Arm(WireDirection.AToB);
            Arm(WireDirection.BToA);
            if (changed) Carrier(false);
            Sender.Tell(new CableState(Cut: true, changed));
        });
        Receive<RestoreCable>(_ =>
        {
            bool changed = _aToB.Restore() | _bToA.Restore();
            if (changed) Carrier(true);
            Sender.Tell(new CableState(Cut: false, changed));
        });
        Receive<GetWireStats>(_ => Sender.Tell(Stats()));
    }

    /// <summary>The original cable: no netem, no faults, seed 0.</summary>
    public WireActor(IActorRef a, IActorRef b, TimeSpan delay) : this(a, b, new WireOptions("wire", 0, delay)) { }

    private long NowNs => (Context.System.Scheduler.Now.UtcTicks - _epochTicks) * 100;

    private WireChannel Channel(WireDirection d) => d == WireDirection.AToB ? _aToB : _bToA;
    private IActorRef FarEnd(WireDirection d) => d == WireDirection.AToB ? _b : _a;

    private void OnFrames(WireDirection dir, WireFrames m)
    {
        var ch = Channel(dir);
        if (ch.IsPassThrough)
        {
            // Nothing on the medium and nothing in flight: the batch goes on as it came.
            ch.PassThrough(m.Count);
            FarEnd(dir).Tell(m, Self);
            return;
        }
        long now = NowNs;
        foreach (var f in m.Frames) ch.Offer(f, now, _out);
        Flush(dir);
        Arm(dir);
    }

    private void Run(WireDirection dir)
    {
        _armed[(int)dir] = null;
        Channel(dir).Release(NowNs, _out);
        Flush(dir);
        Arm(dir);
    }

    private void Flush(WireDirection dir)
    {
        if (_out.Count == 0) return;
        FarEnd(dir).Tell(new WireFrames([.. _out]), Self);
        _out.Clear();
    }

    /// <summary>One timer per direction, at the channel's next deadline (qdisc_watchdog_schedule_ns).</summary>
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
        int i = (int)dir;
        if (next == _armed[i]) return;
        _armed[i] = next;
        var key = dir == WireDirection.AToB ? Release.AToB : Release.BToA;
        if (next is not { } d) { Timers.Cancel(key); return; }
        long ticks = Math.Max(1, (d - now + 99) / 100);
        Timers.StartSingleTimer(key, key, TimeSpan.FromTicks(ticks));
    }

    private void OnSetNetem(SetNetem m)
    {
        if (m.Settings is { } s && !s.TryValidate(out var error))
        {
            Sender.Tell(new CommandFailed(m, Errno.EINVAL, error));
            return;
        }
        Channel(m.Direction).SetNetem(m.Settings, NowNs);
        Run(m.Direction);
        Sender.Tell(new NetemSet(m.Direction, m.Settings));
    }

    private void Carrier(bool up)
    {
        var msg = new CarrierChanged(up);
        _a.Tell(msg, Self);
        _b.Tell(msg, Self);
    }

    private WireStats Stats()
    {
        var ab = WithOverflow(_aToB.Stats(), Interlocked.Read(ref _overflowAToB));
        var ba = WithOverflow(_bToA.Stats(), Interlocked.Read(ref _overflowBToA));
        return new WireStats(ab.Offered - ab.Dropped, ba.Offered - ba.Dropped, ab.Dropped, ba.Dropped)
        {
            AToBDetail = ab,
            BToADetail = ba,
        };
    }

    private static WireDirectionStats WithOverflow(WireDirectionStats s, long overflow)
    {
        if (overflow == 0) return s;
        var drops = s.Drops.SetItem(DropReason.SIM_WIRE_OVERFLOW, s.DroppedBy(DropReason.SIM_WIRE_OVERFLOW) + overflow);
        return s with { Offered = s.Offered + overflow, Drops = drops };
    }

    public static Props Props(IActorRef a, IActorRef b, TimeSpan delay)
        => Props(a, b, new WireOptions("wire", 0, delay));

    public static Props Props(IActorRef a, IActorRef b, WireOptions options)
        => Akka.Actor.Props.Create(() => new WireActor(a, b, options)).WithMailbox("actorstack-nic-mailbox");
}
