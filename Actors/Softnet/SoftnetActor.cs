using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using ActorStack.Actors.Mailboxes;
using ActorStack.Actors.Net;
using ActorStack.Hardware.Nic;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Softnet;

/// <summary>
/// One simulated CPU's <c>softnet_data</c> and NET_RX softirq (S7, S9, S12, S13).
/// NET_RX_SOFTIRQ is a message this actor sends itself, so a run that runs out
/// of budget lets other messages in before it continues. The mailbox is the
/// CPU's backlog (<c>input_pkt_queue</c>): RPS enqueues to it with
/// <see cref="BacklogEnqueue"/>, bounded by <c>netdev_max_backlog</c>, overflow
/// counted in <c>dropped</c>; processing a backlog message is <c>process_backlog</c>.
/// </summary>
public sealed class SoftnetActor : ReceiveActor
{
    /// <summary>NET_RX_SOFTIRQ raised on this CPU.</summary>
    private sealed record NetRxSoftirq
    {
        public static readonly NetRxSoftirq Instance = new();
    }

    private readonly NetNamespace _ns;
    private readonly int _cpu;
    private readonly SoftnetData _sd;
    private readonly NetRxAction _rx;
    private readonly ReceiveCore _core;
    private readonly ChargedMessageQueue? _backlog;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<SkBuff>[] _rpsTargets;

    public SoftnetActor(NetNamespace ns, int cpu)
    {
        _ns = ns;
        _cpu = cpu;
        _sd = ns.Softnet[cpu];
        _rx = new NetRxAction(ns.Sysctl.NetdevBudget, ns.Sysctl.NetdevBudgetUsecs, ns.Sysctl.DevWeight);
        _core = new ReceiveCore(ns, cpu);
        _rpsTargets = Enumerable.Range(0, ns.Settings.Cpus).Select(_ => new List<SkBuff>()).ToArray();
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
            };
            _sd.Backlog = _backlog;
        }

        Receive<NapiSchedule>(OnNapiSchedule);
        Receive<NetRxSoftirq>(_ => OnSoftirq());
        Receive<NapiPollResult>(OnPollResult);
        Receive<BacklogEnqueue>(OnBacklog);
    }

    private long Now => Context.System.Scheduler.Now.UtcTicks;

    private void OnNapiSchedule(NapiSchedule m)
    {
        if (_rx.Schedule(new NapiRef(m.Driver, m.Queue))) Self.Tell(NetRxSoftirq.Instance);
    }

    private void OnSoftirq()
    {
        if (_rx.StartRun(Now) is { } napi) Poll(napi);
    }

    private void Poll(NapiRef napi) => napi.Driver.Tell(new NapiPoll(napi.Queue, _rx.Weight, _cpu), Self);

    private void OnPollResult(NapiPollResult r)
    {
        var napi = new NapiRef(Sender, r.Queue);
        var table = _ns.Ptypes;
        foreach (var skb in r.Skbs) NapiGroReceive(skb, table);
        FlushRps();
        _core.Flush(Self);

        var next = _rx.PollDone(napi, r.WorkDone, r.Completed, Now, out var reRaise, out var squeezed);
        if (squeezed) Interlocked.Increment(ref _sd.TimeSqueeze);
        if (next is { } n) Poll(n);
        else if (reRaise) Self.Tell(NetRxSoftirq.Instance);
    }

    /// <summary>
    /// <c>napi_gro_receive</c> → <c>netif_receive_skb_internal</c> (S11, S12): GRO is
    /// not merging here (GRO_NORMAL); generic XDP; RPS to a CPU's backlog or
    /// straight into <c>__netif_receive_skb</c> on this CPU.
    /// </summary>
    private void NapiGroReceive(in SkBuff skb, PtypeTable table)
    {
        bool trace = _ns.Tracing;
        if (trace) Trace(TracePoint.NapiGroReceiveEntry, skb, -1);
        var dev = _ns.Device(skb.Ifindex);
        if (dev?.Xdp is { } prog && !RunXdp(prog, dev, skb))
        {
            if (trace) Trace(TracePoint.NapiGroReceiveExit, skb, GroNormal);
            return;
        }
        var rps = dev?.Settings.RpsCpus ?? ImmutableArray<int>.Empty;
        int target = rps.IsEmpty ? -1 : Rps.SelectCpu(skb.Hash, rps.AsSpan());
        if (target >= 0) _rpsTargets[target].Add(skb);
        else NetifReceiveSkb(skb, table);
        if (trace) Trace(TracePoint.NapiGroReceiveExit, skb, GroNormal);
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
                    _ns.Drops.Add(DropReason.XDP, $"{dev.Name}/xdp");
                    return false;
                }
                // XDP_TX reflects the frame: the program swaps the MAC addresses, as xdp_tx programs do.
                var frame = skb.Data.ToArray();
                if (act == XdpAction.Tx)
                {
                    var eth = frame.AsSpan();
                    Span<byte> tmp = stackalloc byte[6];
                    eth[..6].CopyTo(tmp);
                    eth[6..12].CopyTo(eth);
                    tmp.CopyTo(eth[6..12]);
                }
                outDev.Driver.Tell(new XmitFrames(ImmutableArray.Create<ReadOnlyMemory<byte>>(frame)), ActorRefs.NoSender);
                return false;
            }
            default: // XDP_DROP, XDP_ABORTED
                _ns.Drops.Add(DropReason.XDP, $"{dev.Name}/xdp");
                return false;
        }
    }

    /// <summary><c>enqueue_to_backlog</c> for each target CPU; a remote target gets one IPI per run.</summary>
    private void FlushRps()
    {
        for (int cpu = 0; cpu < _rpsTargets.Length; cpu++)
        {
            var list = _rpsTargets[cpu];
            if (list.Count == 0) continue;
            _ns.SoftnetActors[cpu].Tell(new BacklogEnqueue(list.ToImmutableArray(), _cpu), Self);
            list.Clear();
        }
    }

    /// <summary><c>process_backlog</c>: the batch leaves <c>input_pkt_queue</c> and runs through the core.</summary>
    private void OnBacklog(BacklogEnqueue m)
    {
        _backlog?.Uncharge(m.Count);
        if (m.FromCpu != _cpu) Interlocked.Increment(ref _sd.ReceivedRps);
        Volatile.Write(ref _sd.ProcessQlen, m.Count);
        var table = _ns.Ptypes;
        foreach (var skb in m.Items) NetifReceiveSkb(skb, table);
        Volatile.Write(ref _sd.ProcessQlen, 0);
        _core.Flush(Self);
    }

    private void NetifReceiveSkb(in SkBuff skb, PtypeTable table)
    {
        bool trace = _ns.Tracing;
        if (trace) Trace(TracePoint.NetifReceiveSkbEntry, skb, -1);
        Interlocked.Increment(ref _sd.Processed);
        bool ok = _core.Receive(skb, table);
        if (trace) Trace(TracePoint.NetifReceiveSkbExit, skb, ok ? 0 : 1);
    }

    private void Trace(TracePoint point, in SkBuff skb, int result)
    {
        var dev = _ns.Device(skb.Ifindex)?.Name ?? "?";
        var ev = new TraceEvent(_ns.Name, point, dev, _cpu, skb.Length, skb.Hash, result, Now);
        Context.System.EventStream.Publish(ev);
        if (_log.IsDebugEnabled) _log.Debug($"trace {point}: host={_ns.Name} dev={dev} cpu={_cpu} len={skb.Length} hash={skb.Hash:x8} ret={result}");
    }

    public static Props Props(NetNamespace ns, int cpu)
        => Akka.Actor.Props.Create(() => new SoftnetActor(ns, cpu)).WithMailbox("actorstack-backlog-mailbox");
}
