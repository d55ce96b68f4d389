using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Mailboxes;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Bridge;

/// <summary>
/// An Ethernet learning switch whose ports are wire ends. The switch actor is the end of every wire plugged into it
/// (each <see cref="ActorStack.Actors.Wire.WireActor"/> is built with the switch's reference as one of its two ends), so a
/// <see cref="WireFrames"/> from a wire entered on that wire's port. The forwarding decision is the Linux bridge's
/// (<see cref="LearningSwitch"/>: <c>br_handle_frame</c>, <c>br_fdb_update</c>, <c>br_flood</c>) with ageing on the
/// scheduler's clock and <c>br_fdb_cleanup</c> on a timer.
/// Each port has a bounded egress queue of <c>txqueuelen</c> frames that stay counted until the wire answers with
/// <see cref="WireTxDone"/> (TX completion); a frame that finds the queue full is dropped and counted on the port.
/// The input queue (the mailbox) is bounded too; frames it loses are counted on the port they came from.
/// </summary>
public sealed class SwitchActor : ReceiveActor, IWithTimers
{
    private sealed record FdbCleanup
    {
        public static readonly FdbCleanup Instance = new();
    }

    private sealed class Port
    {
        public IActorRef? Wire;
        public long RxFrames, TxFrames, TxDropped;
        public int InFlight;
        public List<ReadOnlyMemory<byte>>? Out;
    }

    private readonly SwitchSettings _settings;
    private readonly LearningSwitch _sw;
    private readonly Port[] _ports;
    // Published for the mailbox's drop callback, which runs on the sending wire's thread.
    private volatile ImmutableDictionary<IActorRef, int> _portOf = ImmutableDictionary<IActorRef, int>.Empty;
    private readonly long[] _fifoDrops;
    private readonly List<int> _touched = new();
    private long _unknownWire;
    private bool _cleanupPending;

    public ITimerScheduler Timers { get; set; } = null!;

    public SwitchActor(SwitchSettings settings)
    {
        _settings = settings;
        _sw = new LearningSwitch(settings.Ports,
            new LearningSwitchSettings
            {
                AgeingTimeMs = (long)settings.AgeingTime.TotalMilliseconds,
                FdbMaxLearned = settings.FdbMaxLearned,
                BridgeName = settings.Name,
            },
            Enumerable.Range(1, settings.Ports).Select(i => $"port{i}").ToArray());
        _ports = Enumerable.Range(0, settings.Ports).Select(_ => new Port()).ToArray();
        _fifoDrops = new long[settings.Ports];
        // A port has no carrier until a wire is plugged into it: floods skip it.
        for (int p = 0; p < settings.Ports; p++) _sw.SetPortUp(p, false);

        if (ChargedMessageQueue.Of(Context) is { } fifo)
            fifo.OnDrop = (dropped, from) =>
            {
                if (_portOf.TryGetValue(from, out var p)) Interlocked.Add(ref _fifoDrops[p], dropped.Count);
                else Interlocked.Add(ref _unknownWire, dropped.Count);
            };

        Receive<WireFrames>(OnWireFrames);
        Receive<WireTxDone>(OnTxDone);
        Receive<AttachSwitchPort>(OnAttach);
        // The cable of a port was cut or restored: the bridge port goes down (its learned addresses flushed,
        // br_port_carrier_check → br_stp_disable_port) or comes back into forwarding.
        Receive<CarrierChanged>(c =>
        {
            if (_portOf.TryGetValue(Sender, out var port)) _sw.SetPortUp(port, c.Up);
        });
        Receive<FdbCleanup>(_ => OnCleanup());
        Receive<GetSwitchFdb>(_ => Sender.Tell(new SwitchFdb(_settings.Name, _sw.FormatFdb(NowMs))));
        Receive<GetSwitchStats>(_ => Sender.Tell(Snapshot()));
    }

    private long NowMs => Context.System.Scheduler.Now.UtcTicks / TimeSpan.TicksPerMillisecond;

    private void OnAttach(AttachSwitchPort m)
    {
        if (m.Port < 1 || m.Port > _ports.Length)
        {
            Sender.Tell(new CommandFailed(m, Errno.ENODEV, $"no port {m.Port} (ports 1-{_ports.Length})"));
            return;
        }
        var port = _ports[m.Port - 1];
        if (port.Wire is not null || _portOf.ContainsKey(m.Wire))
        {
            Sender.Tell(new CommandFailed(m, Errno.EBUSY, $"port{m.Port} or that wire is already plugged in"));
            return;
        }
        port.Wire = m.Wire;
        _portOf = _portOf.Add(m.Wire, m.Port - 1);
        _sw.SetPortUp(m.Port - 1, true);
        Sender.Tell(new SwitchPortAttached(_settings.Name, m.Port));
    }

    // br_handle_frame for each frame of the batch; the copies for each egress port leave as one batch per port.
    private void OnWireFrames(WireFrames m)
    {
        ChargedMessageQueue.Of(Context)?.Uncharge(m.Count);
        if (!_portOf.TryGetValue(Sender, out var inPort))
        {
            Interlocked.Add(ref _unknownWire, m.Count);
            return;
        }
        long now = NowMs;
        _ports[inPort].RxFrames += m.Count;
        foreach (var frame in m.Frames)
        {
            var d = _sw.Forward(inPort, frame.Span, now);
            foreach (var outPort in d.OutPorts)
            {
                var p = _ports[outPort];
                if (p.Out is null or { Count: 0 }) _touched.Add(outPort);
                (p.Out ??= new List<ReadOnlyMemory<byte>>()).Add(frame);
            }
        }
        foreach (var outPort in _touched) Transmit(outPort);
        _touched.Clear();
        ScheduleCleanup(now);
    }

    // The port's egress queue: frames stay in it until the wire completes them; what does not fit is dropped.
    private void Transmit(int port)
    {
        var p = _ports[port];
        var frames = p.Out!;
        int room = Math.Max(0, _settings.TxQueueLen - p.InFlight);
        int n = Math.Min(room, frames.Count);
        p.TxDropped += frames.Count - n;
        if (n > 0 && p.Wire is not null)
        {
            p.InFlight += n;
            p.TxFrames += n;
            p.Wire.Tell(new WireFrames(n == frames.Count ? [.. frames] : [.. frames.Take(n)]), Self);
        }
        frames.Clear();
    }

    private void OnTxDone(WireTxDone m)
    {
        if (!_portOf.TryGetValue(Sender, out var port))
        {
            Interlocked.Add(ref _unknownWire, m.Count);
            return;
        }
        var p = _ports[port];
        p.InFlight = Math.Max(0, p.InFlight - m.Count);
    }

    private void ScheduleCleanup(long now)
    {
        if (_cleanupPending || _sw.NextTimerMs is not { } next) return;
        _cleanupPending = true;
        Timers.StartSingleTimer("fdb-cleanup", FdbCleanup.Instance, TimeSpan.FromMilliseconds(Math.Max(1, next - now)));
    }

    // br_fdb_cleanup: runs when the oldest entry expires, then re-arms for the next one.
    private void OnCleanup()
    {
        _cleanupPending = false;
        long now = NowMs;
        _sw.Cleanup(now);
        ScheduleCleanup(now);
    }

    private SwitchStatsSnapshot Snapshot()
    {
        var st = _sw.Stats;
        return new SwitchStatsSnapshot(_settings.Name, st.RxFrames, st.Forwarded, st.Flooded, st.Dropped, st.DroppedInvalid,
            st.DroppedSamePort, Interlocked.Read(ref _unknownWire), _sw.FdbCount, st.FdbAged, st.FdbMoves, st.LearnDropsFull,
            _ports.Select((p, i) => new SwitchPortStats(i + 1, _sw.PortName(i), _sw.IsPortUp(i), p.RxFrames, p.TxFrames, p.TxDropped,
                Interlocked.Read(ref _fifoDrops[i]), p.InFlight)).ToImmutableArray());
    }

    public static Props Props(SwitchSettings settings)
        => Akka.Actor.Props.Create(() => new SwitchActor(settings)).WithMailbox("actorstack-nic-mailbox");
}
