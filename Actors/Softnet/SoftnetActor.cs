using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Mailboxes;
using ActorStack.Config;
using ActorStack.Hardware.Nic;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Actors.Sched;

namespace ActorStack.Actors.Softnet;

/// <summary>
/// One simulated CPU's <c>softnet_data</c> and NET_RX softirq (<c>net_rx_action</c>, <c>netif_receive_skb_internal</c>, <c>__netif_receive_skb_core</c>).
/// NET_RX_SOFTIRQ is a message this actor sends itself, so a run that runs out
/// of budget lets other messages in before it continues. The mailbox is the
/// CPU's backlog (<c>input_pkt_queue</c>): RPS enqueues to it with
/// <see cref="BacklogEnqueue"/>, bounded by <c>netdev_max_backlog</c>, overflow
/// counted in <c>dropped</c>. The backlog is a NAPI context like a driver's
/// (<c>process_backlog</c>, weight <c>dev_weight</c>): it sits on the
/// <c>poll_list</c> and is polled inside <c>net_rx_action</c>'s budget and time
/// limit. A CPU that enqueues to another CPU's idle backlog owes it an IPI, sent
/// when its <c>net_rx_action</c> run ends (<c>net_rps_send_ipi</c>); the target
/// counts <c>received_rps</c> when the IPI arrives (<c>rps_trigger_softirq</c>).
/// <para>
/// The protocol handlers run inside the softirq: a poll's batches go to the host's handler actors
/// (<see cref="ProtocolDeliver"/>) and the run goes on only when each has answered <see cref="ProtocolBatchDone"/>
/// (the handlers' own hand-offs included). On the virtual clock every stage costs the CPU simulated time
/// (<c>cpu-cost</c>: <c>napi-poll</c>, <c>gro</c>, <c>netif-receive</c> here, the handlers' stages there): the next
/// step of <c>net_rx_action</c> runs when the poll's work is paid for, and budget, <c>netdev_budget_usecs</c>,
/// <c>time_squeeze</c> and the restart limit are judged on that clock. Meanwhile NAPIs are scheduled and the backlog
/// fills (bounded by <c>netdev_max_backlog</c>, overflow in <c>dropped</c>) as on a busy CPU.
/// </para>
/// </summary>
public sealed class SoftnetActor : UntypedActor
{
    /// <summary>NET_RX_SOFTIRQ raised on this CPU.</summary>
    private sealed record NetRxSoftirq
    {
        public static readonly NetRxSoftirq Instance = new();
    }

    /// <summary>The RPS IPI (<c>smp_call_function_single_async</c> → <c>rps_trigger_softirq</c>) from another CPU.</summary>
    private sealed record RpsIpi
    {
        public static readonly RpsIpi Instance = new();
    }

    /// <summary>The CPU has paid for the current poll's work (the end of its simulated busy time).</summary>
    private sealed record CpuIdle
    {
        public static readonly CpuIdle Instance = new();
    }

    /// <summary>The queue number that marks this CPU's backlog NAPI on its own <c>poll_list</c>.</summary>
    private const int BacklogQueue = -1;

    private readonly NetNamespace _ns;
    private readonly int _cpu;
    private readonly SoftnetData _sd;
    private readonly NetRxAction _rx;
    private readonly ReceiveCore _core;
    private readonly Dictionary<NapiRef, (Gro Gro, OffloadCounters Counters)> _gros = new(); // per NAPI (napi->gro), made at its first poll with a device
    private readonly ChargedMessageQueue? _backlog;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<SkBuff>[] _rpsTargets;
    private readonly SoftnetBacklog _bl = new();
    private readonly NapiRef _backlogNapi;
    private readonly int[] _backlogSched;   // NAPI_STATE_SCHED of every CPU's backlog in this host
    private readonly bool[] _ipiOwed;       // rps_ipi_list: remote CPUs to send an IPI when the run ends
    private bool _anyIpiOwed;
    private long _processed;                // processed since the last flush, added to softnet_stat once per poll
    private bool _backlogListed;            // the backlog NAPI is on this CPU's poll_list
    private PtypeTable _table = PtypeTable.Empty;
    private readonly Action<SkBuff> _backlogReceive;
    private readonly Func<ImmutableArray<SkBuff>, bool> _backlogReceiveWhole;
    private HostRefs _refs;
    private readonly CpuCostSettings _cost;
    private readonly VirtualTimeScheduler? _virtual;
    private readonly Func<IActorRef, bool> _inSoftirq;

    // The poll in hand: its NAPI and result, the handler batches still out, what it cost and when it began.
    private NapiRef _polling;
    private int _pollWork;
    private bool _pollCompleted;
    private bool _stepOpen;       // a poll's work is under way (handlers or busy time); PollDone not yet called
    private int _outstanding;     // ProtocolDeliver batches of this poll not yet done
    private long _stepCostNs;
    private long _stepStartNs;
    private bool _busy;           // waiting for CpuIdle

    public SoftnetActor(NetNamespace ns, int cpu, HostRefs refs)
    {
        _ns = ns;
        _refs = refs;
        _cpu = cpu;
        _sd = ns.Softnet[cpu];
        _rx = new NetRxAction(ns.Sysctl.NetdevBudget, ns.Sysctl.NetdevBudgetUsecs, ns.Sysctl.DevWeight);
        _core = new ReceiveCore(ns, cpu);
        _rpsTargets = Enumerable.Range(0, ns.Settings.Cpus).Select(_ => new List<SkBuff>()).ToArray();
        _backlogNapi = new NapiRef(Self, BacklogQueue);
        _backlogSched = BacklogNapiState.For(ns);
        _ipiOwed = new bool[ns.Settings.Cpus];
        _backlogReceive = skb => NetifReceiveSkb(skb, _table);
        _backlogReceiveWhole = BacklogReceiveWhole;
        _virtual = Context.System.Scheduler as VirtualTimeScheduler;
        _cost = SoftirqWork.Costs(Context.System, ns);
        _inSoftirq = h => ReferenceEquals(h, _refs.Ip) || ReferenceEquals(h, _refs.Neighbour)
                          || h.Equals(_refs.Ip) || h.Equals(_refs.Neighbour);
        _backlog = ChargedMessageQueue.Of(Context);
        if (_backlog is not null)
        {
            _backlog.Limit = ns.Sysctl.NetdevMaxBacklog;
            var site = ns.Drops.Counter(DropReason.CPU_BACKLOG, $"cpu{cpu}");
            var sd = _sd;
            _backlog.OnDrop = (dropped, _) =>
            {
                Interlocked.Add(ref sd.Dropped, dropped.Count);
                site.Add(dropped.Count);
                // drop_monitor's packet alerts (a capture listening): each buffer enqueue_to_backlog refused.
                if (!ns.Drops.Listeners.IsEmpty && dropped is BacklogEnqueue lost)
                    foreach (var skb in lost.Items) ns.Drops.Alert(DropReason.CPU_BACKLOG, $"cpu{cpu}", 1, skb.Ifindex, skb.Data, false);
            };
            _sd.Backlog = _backlog;
        }
    }

    // One switch instead of ReceiveActor's per-instance handler set (a softnet actor per CPU of every host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case HostRefs r: _refs = r; break;
            case NapiSchedule m: OnNapiSchedule(m); break;
            case NetRxSoftirq: OnSoftirq(); break;
            case NapiPollResult m: OnPollResult(m); break;
            case BacklogEnqueue m: OnBacklog(m); break;
            case RpsIpi: OnRpsIpi(); break;
            case ProtocolBatchDone m: OnBatchDone(m); break;
            case CpuIdle: OnCpuIdle(); break;
            default: Unhandled(message); break;
        }
    }

    private long Now => Context.System.Scheduler.Now.UtcTicks;

    /// <summary>The scheduler's clock in nanoseconds (the engine's own on the virtual clock).</summary>
    private long NowNs => _virtual is not null ? _virtual.Engine.NowNs : Context.System.Scheduler.MonotonicClock.Ticks * 100;

    /// <summary>
    /// The backlog state dies with this instance: its buffers count as dropped, those still in
    /// <c>input_pkt_queue</c> give back their charge, and the backlog NAPI is
    /// unscheduled so the next enqueue schedules the new instance.
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        _backlog?.Uncharge(_bl.InputQlen);  // process_queue's buffers were uncharged when spliced
        int lost = _bl.InputQlen + _bl.ProcessQlen;
        if (lost > 0)
        {
            Interlocked.Add(ref _sd.Dropped, lost);
            _ns.Drops.Add(DropReason.CPU_BACKLOG, $"cpu{_cpu}", lost);
        }
        BacklogNapiState.Clear(_backlogSched, _cpu);
        base.PreRestart(reason, message);
    }

    private void OnNapiSchedule(NapiSchedule m) => Schedule(new NapiRef(m.Driver, m.Queue));

    /// <summary><c>____napi_schedule</c>: list the NAPI and raise NET_RX_SOFTIRQ unless it is raised.</summary>
    private void Schedule(NapiRef napi)
    {
        if (_rx.Schedule(napi)) Self.Tell(NetRxSoftirq.Instance);
    }

    /// <summary>NET_RX_SOFTIRQ runs: <c>handle_softirqs</c> from <c>irq_exit</c> or ksoftirqd.</summary>
    private void OnSoftirq()
    {
        if (_rx.Running) return;
        Interlocked.Increment(ref _sd.NetRxSoftirqs);
        var next = _rx.StartSoftirq(NowNs, out var step);
        Advance(next, step);
    }

    /// <summary>
    /// <c>net_rx_action</c>'s loop from <paramref name="next"/> on: the backlog is polled here and now, a driver's
    /// poll is a message whose result comes back; either way the loop goes on when the poll's work is done
    /// (<see cref="FinishStep"/>). When a run ends, the IPIs it owes go out (<c>net_rps_action_and_irq_enable</c>);
    /// with work left <c>handle_softirqs</c> restarts at once or, past its limit, wakes ksoftirqd: the softirq
    /// message to this actor runs after whatever is already in its mailbox.
    /// </summary>
    private void Advance(NapiRef? next, NetRxStep step)
    {
        while (true)
        {
            switch (step)
            {
                case NetRxStep.Poll when next is { } n:
                    if (n == _backlogNapi)
                    {
                        if (!PollBacklog()) return; // its work is still being done
                        next = FinishPoll(out step);
                        continue;
                    }
                    n.Driver.Tell(new NapiPoll(n.Queue, _rx.Weight, _cpu), Self);
                    return;
                case NetRxStep.Restart:
                    SendRpsIpis();
                    Interlocked.Increment(ref _sd.NetRxSoftirqs);
                    next = _rx.Restart(NowNs, out step);
                    continue;
                case NetRxStep.Ksoftirqd:
                    SendRpsIpis();
                    Interlocked.Increment(ref _sd.KsoftirqdWakeups);
                    Self.Tell(NetRxSoftirq.Instance);
                    return;
                default:
                    SendRpsIpis();
                    return;
            }
        }
    }

    /// <summary>
    /// The poll in hand has handed its batches out: its work is done when every handler answered; then, on the
    /// virtual clock, the CPU is busy for the poll's cost. True when the loop may go on at once.
    /// </summary>
    private bool BeginStep(NapiRef napi, int work, bool completed, long costNs, int batches)
    {
        _polling = napi;
        _pollWork = work;
        _pollCompleted = completed;
        _stepOpen = true;
        _stepCostNs = costNs;
        _stepStartNs = NowNs;
        _outstanding = batches;
        return _outstanding == 0 && !StartBusy();
    }

    /// <summary>Arms the end of the poll's busy time; false when it cost nothing (the loop goes on at once).</summary>
    private bool StartBusy()
    {
        if (_stepCostNs <= 0 || _virtual is null) return false;
        _busy = true;
        _virtual.ScheduleTellOnceNs(Math.Max(0, _stepStartNs + _stepCostNs - NowNs), Self, CpuIdle.Instance, Self);
        return true;
    }

    /// <summary>A handler finished a batch of this CPU's softirq work: its cost, and the batches it handed on.</summary>
    private void OnBatchDone(ProtocolBatchDone d)
    {
        if (!_stepOpen || _outstanding <= 0) return; // a batch sent outside a softirq (a test, a restarted instance)
        _stepCostNs += d.CostNs;
        _outstanding += d.Spawned - 1;
        if (_outstanding > 0 || StartBusy()) return;
        Advance(FinishPoll(out var step), step);
    }

    private void OnCpuIdle()
    {
        if (!_busy) return;
        _busy = false;
        Advance(FinishPoll(out var step), step);
    }

    /// <summary><c>napi_poll</c> returned: <c>net_rx_action</c> judges budget and time after the poll's work.</summary>
    private NapiRef? FinishPoll(out NetRxStep step)
    {
        _stepOpen = false;
        var next = _rx.PollDone(_polling, _pollWork, _pollCompleted, NowNs, out step, out var squeezed);
        if (squeezed) Interlocked.Increment(ref _sd.TimeSqueeze);
        return next;
    }

    private void OnPollResult(NapiPollResult r)
    {
        var napi = new NapiRef(Sender, r.Queue);
        bool expected = !_stepOpen && _rx.InFlight == napi; // else a poll an earlier instance sent (a restart)
        var table = _ns.Ptypes;
        var dev = r.Skbs.IsDefaultOrEmpty ? null : _ns.Device(r.Skbs[0].Ifindex);
        long cost = _cost.NapiPollNs * r.Skbs.Length;
        _gros.TryGetValue(napi, out var napiGro);
        if (dev is { IsLoopback: false } && napiGro.Gro is null)
            _gros[napi] = napiGro = (new Gro(_ns.Sysctl.GroNormalBatch, dev.Settings.RxBufferSize), dev.Offload);
        if (napiGro.Gro is { } gro)
        {
            // napi_gro_receive per buffer (dev_gro_receive; netif_elide_gro when the device has GRO off): what GRO
            // decides joins the NAPI's rx_list and goes up gro_normal_batch segments at a time.
            bool elide = dev is not { Gro: true };
            if (!elide) cost += _cost.GroNs * r.Skbs.Length;
            long jiffy = NowNs / NsPerJiffy;
            bool trace = _ns.Tracing;
            foreach (var skb in r.Skbs)
            {
                if (trace) Trace(TracePoint.NapiGroReceiveEntry, skb, -1);
                var res = gro.Receive(skb, jiffy, elide);
                if (!gro.Up.IsEmpty) HandUp(gro, table);
                if (trace) Trace(TracePoint.NapiGroReceiveExit, skb, (int)res);
            }
            // napi_complete_done: napi_gro_flush(false) + gro_normal_list; a poll that used its whole weight
            // (__napi_poll): napi_gro_flush(true), this jiffy's packets stay held, + gro_normal_list.
            if (r.Completed || !expected) gro.FlushAll(napiGro.Counters);
            else gro.FlushOld(jiffy, napiGro.Counters);
            HandUp(gro, table);
            FlushRps(ImmutableArray<SkBuff>.Empty);
        }
        else
        {
            foreach (var skb in r.Skbs) NapiGroReceive(skb, table);
            FlushRps(r.Skbs);
        }
        cost += _cost.NetifReceiveNs * _processed;
        if (!expected)
        {
            // Its buffers go up all the same (nothing is lost), outside any run; a NAPI that wants more is listed.
            if (_processed > 0) Interlocked.Add(ref _sd.Processed, _processed);
            _processed = 0;
            _core.Flush(Self);
            if (!r.Completed) Schedule(napi);
            return;
        }
        if (r.Completed) _rx.Complete(napi); // napi_complete_done happened in the driver: it may be scheduled again now
        int batches = FlushCore();
        if (BeginStep(napi, r.WorkDone, r.Completed, cost, batches)) Advance(FinishPoll(out var step), step);
    }

    /// <summary>Nanoseconds per jiffy (HZ = 1000).</summary>
    private const long NsPerJiffy = 1_000_000;

    /// <summary>
    /// <c>gro_normal_list</c> → <c>netif_receive_skb_list_internal</c> for each batch GRO handed up: generic XDP,
    /// RPS or <c>__netif_receive_skb</c>; each batch reaches a protocol handler as its own <see cref="ProtocolDeliver"/>
    /// (<c>ip_list_rcv</c> per list).
    /// </summary>
    private void HandUp(Gro gro, PtypeTable table)
    {
        var up = gro.Up;
        int start = 0;
        foreach (int end in gro.Cuts)
        {
            for (int i = start; i < end; i++) GroNormalReceive(up[i], table);
            _core.EndList();
            start = end;
        }
        gro.ClearUp();
    }

    /// <summary>
    /// <c>napi_poll</c> of the backlog NAPI: <c>process_backlog</c> with quota <c>dev_weight</c>.
    /// IPIs waiting are sent first, as <c>process_backlog</c> does. The buffers spliced from
    /// <c>input_pkt_queue</c> release their charge on the mailbox (<c>netdev_max_backlog</c>).
    /// True when its work is done at once (nothing waited for, nothing to pay on the virtual clock).
    /// </summary>
    private bool PollBacklog()
    {
        SendRpsIpis();
        _table = _ns.Ptypes;
        int work = _bl.Poll(_rx.Weight, _backlogReceive, _backlogReceiveWhole, out int spliced, out bool completed);
        if (spliced > 0) _backlog?.Uncharge(spliced);
        Volatile.Write(ref _sd.ProcessQlen, _bl.ProcessQlen);
        if (completed)
        {
            // napi->state = 0 under the backlog lock. A BacklogEnqueue that raced with this is
            // still in the mailbox: OnBacklog schedules the backlog again when it arrives.
            _backlogListed = false;
            BacklogNapiState.Clear(_backlogSched, _cpu);
            _rx.Complete(_backlogNapi);
        }
        long cost = _cost.NetifReceiveNs * _processed;
        int batches = FlushCore(); // after the state change: whoever sees this poll's buffers sees the backlog idle
        return BeginStep(_backlogNapi, work, completed, cost, batches);
    }

    /// <summary>
    /// <c>__netif_receive_skb</c> for a whole enqueued batch at once, when every buffer would go
    /// to the same handler anyway (not while tracing, which reports each buffer).
    /// </summary>
    private bool BacklogReceiveWhole(ImmutableArray<SkBuff> batch)
    {
        if (_ns.Tracing || !_core.TryReceiveWhole(batch, _table)) return false;
        _processed += batch.Length;
        return true;
    }

    /// <summary><c>rps_trigger_softirq</c>: another CPU's IPI schedules this CPU's backlog; counted in <c>received_rps</c>.</summary>
    private void OnRpsIpi()
    {
        Interlocked.Increment(ref _sd.ReceivedRps);
        ScheduleBacklog();
    }

    private void ScheduleBacklog()
    {
        if (_backlogListed) return;
        _backlogListed = true;
        Schedule(_backlogNapi);
    }

    /// <summary>
    /// <c>napi_gro_receive</c> → <c>netif_receive_skb_internal</c> on a device with GRO
    /// off: every buffer is GRO_NORMAL; generic XDP; RPS to a CPU's backlog or
    /// straight into <c>__netif_receive_skb</c> on this CPU.
    /// </summary>
    private void NapiGroReceive(in SkBuff skb, PtypeTable table)
    {
        bool trace = _ns.Tracing;
        if (trace) Trace(TracePoint.NapiGroReceiveEntry, skb, -1);
        GroNormalReceive(skb, table);
        if (trace) Trace(TracePoint.NapiGroReceiveExit, skb, GroNormal);
    }

    /// <summary>
    /// What a buffer GRO hands up (GRO_NORMAL, or a completed packet) goes through: generic XDP, then RPS to a
    /// CPU's backlog or <c>__netif_receive_skb</c> on this CPU (<c>netif_receive_skb_internal</c>).
    /// </summary>
    private void GroNormalReceive(in SkBuff skb, PtypeTable table)
    {
        var dev = _ns.Device(skb.Ifindex);
        if (dev?.Xdp is { } prog && !RunXdp(prog, dev, skb)) return;
        var rps = dev?.Settings.RpsCpus ?? ImmutableArray<int>.Empty;
        int target = rps.IsEmpty ? -1 : Rps.SelectCpu(skb.Hash, rps.AsSpan());
        if (target >= 0) _rpsTargets[target].Add(skb);
        else NetifReceiveSkb(skb, table);
    }

    private const int GroNormal = 3; // gro_result_t GRO_NORMAL

    /// <summary><c>do_xdp_generic</c>: false when the program consumed the frame.</summary>
    private bool RunXdp(XdpProgram prog, NetDevice dev, in SkBuff skb)
    {
        var act = prog.Run(skb.Data.Span, out var redirect);
        switch (act)
        {
            case XdpAction.Pass:
                return true;
            case XdpAction.Tx:
            case XdpAction.Redirect:
            {
                var outDev = act == XdpAction.Tx ? dev : redirect is null ? null : _ns.Device(redirect);
                if (outDev is null)
                {
                    _ns.Drops.Add(DropReason.XDP, $"{dev.Name}/xdp", skb);
                    return false;
                }
                // XDP_TX reflects the frame: the program swaps the MAC addresses, as xdp_tx programs do.
                var frame = skb.Data.ToArray();
                if (act == XdpAction.Tx) EthernetHeader.SwapAddresses(frame);
                _refs.Driver(outDev.Ifindex).Tell(new XmitFrames(ImmutableArray.Create<ReadOnlyMemory<byte>>(frame)), ActorRefs.NoSender);
                return false;
            }
            default: // XDP_DROP, XDP_ABORTED
                _ns.Drops.Add(DropReason.XDP, $"{dev.Name}/xdp", skb);
                return false;
        }
    }

    /// <summary>
    /// <c>enqueue_to_backlog</c> for each target CPU, one message per target per poll. A remote
    /// CPU whose backlog NAPI was not scheduled is now scheduled by us (<c>NAPI_STATE_SCHED</c>)
    /// and owed an IPI when this run ends (<c>napi_schedule_rps</c> → <c>rps_ipi_list</c>). This
    /// CPU's own backlog is scheduled when its message leaves the mailbox (<see cref="OnBacklog"/>).
    /// </summary>
    private void FlushRps(ImmutableArray<SkBuff> polled)
    {
        for (int cpu = 0; cpu < _rpsTargets.Length; cpu++)
        {
            var list = _rpsTargets[cpu];
            if (list.Count == 0) continue;
            // The whole poll steered to one CPU goes on as it is, without a copy.
            var items = list.Count == polled.Length ? polled : list.ToImmutableArray();
            list.Clear();
            if (Peer(cpu).IsNobody())
            {
                // A restarted instance before the host re-introduced its peers: the steered buffers are lost, counted.
                Interlocked.Add(ref _ns.Softnet[cpu].Dropped, items.Length);
                _ns.Drops.Add(DropReason.CPU_BACKLOG, $"cpu{cpu}", items.Length);
                continue;
            }
            Peer(cpu).Tell(new BacklogEnqueue(items, _cpu), Self);
            if (cpu != _cpu && BacklogNapiState.TestAndSet(_backlogSched, cpu))
            {
                _ipiOwed[cpu] = true;
                _anyIpiOwed = true;
            }
        }
    }

    /// <summary>The softnet actor of <paramref name="cpu"/> (Nobody while a restarted instance waits for its peers).</summary>
    private IActorRef Peer(int cpu) => cpu < _refs.Softnet.Length ? _refs.Softnet[cpu] : cpu == _cpu ? Self : ActorRefs.Nobody;

    /// <summary><c>net_rps_send_ipi</c>: one IPI to each CPU on <c>rps_ipi_list</c>.</summary>
    private void SendRpsIpis()
    {
        if (!_anyIpiOwed) return;
        _anyIpiOwed = false;
        for (int cpu = 0; cpu < _ipiOwed.Length; cpu++)
        {
            if (!_ipiOwed[cpu]) continue;
            _ipiOwed[cpu] = false;
            Peer(cpu).Tell(RpsIpi.Instance, Self);
        }
    }

    /// <summary>
    /// A batch left the mailbox: it joins <c>input_pkt_queue</c> (still charged) for
    /// <c>process_backlog</c>. If no one has scheduled the backlog NAPI (an enqueue from this
    /// CPU, or one that raced with the backlog completing), this CPU schedules it itself;
    /// if another CPU has, its IPI is on the way.
    /// </summary>
    private void OnBacklog(BacklogEnqueue m)
    {
        _bl.Enqueue(m.Items);
        if (!_backlogListed && BacklogNapiState.TestAndSet(_backlogSched, _cpu)) ScheduleBacklog();
    }

    private void NetifReceiveSkb(in SkBuff skb, PtypeTable table)
    {
        bool trace = _ns.Tracing;
        if (trace) Trace(TracePoint.NetifReceiveSkbEntry, skb, -1);
        _processed++;
        bool ok = _core.Receive(skb, table);
        if (trace) Trace(TracePoint.NetifReceiveSkbExit, skb, ok ? 0 : 1);
    }

    /// <summary>
    /// Ends a poll's <c>__netif_receive_skb</c> work: softnet_stat's <c>processed</c>, then each handler's batch.
    /// Returns the batches that run inside this softirq (to the host's handlers) and must be waited for.
    /// </summary>
    private int FlushCore()
    {
        if (_processed > 0)
        {
            Interlocked.Add(ref _sd.Processed, _processed);
            _processed = 0;
        }
        return _core.Flush(Self, _inSoftirq);
    }

    private void Trace(TracePoint point, in SkBuff skb, int result)
    {
        var dev = _ns.Device(skb.Ifindex)?.Name ?? "?";
        var ev = new TraceEvent(_ns.Name, point, dev, _cpu, skb.Length, skb.Hash, result, Now);
        Context.System.EventStream.Publish(ev);
        if (_log.IsDebugEnabled) _log.Debug($"trace {point}: host={_ns.Name} dev={dev} cpu={_cpu} len={skb.Length} hash={skb.Hash:x8} ret={result}");
    }

    public static Props Props(NetNamespace ns, int cpu, HostRefs refs)
        => FactoryProps.Of(() => new SoftnetActor(ns, cpu, refs)).WithMailbox("actorstack-backlog-mailbox");
}
