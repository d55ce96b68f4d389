using ActorStack.Config;
using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Ipv4.Frag;
using ActorStack.Actors.Softnet;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Actors.Ipv4;

/// <summary>
/// The IPv4 protocol handler (<c>ip_packet_type</c> in <c>ptype_base</c>) of one
/// host: <c>ip_rcv</c> → <c>ip_rcv_finish</c> → <c>ip_local_deliver</c> →
/// <c>ip_protocol_deliver_rcu</c>. Raw sockets of the protocol get a
/// copy; UDP goes to the UDP handler; a protocol nobody handles is counted in
/// <c>InUnknownProtos</c>. Owns the raw socket table. Runs inside the delivering CPU's softirq: each batch is
/// answered to that CPU's softnet actor (<see cref="ProtocolBatchDone"/>) with its cost (<c>ip-rcv</c> per packet,
/// <c>ip-forward</c> + <c>output</c> per forwarded packet, <c>sock-enqueue</c> per raw socket copy) and the batches
/// handed on to UDP, TCP and ICMP, which answer for themselves.
/// </summary>
public sealed class Ipv4Actor : UntypedActor, IWithTimers
{
    private readonly NetNamespace _ns;
    private readonly IpRcv _rcv;
    private readonly IActorRef _udp;
    private HostRefs _refs;
    private readonly List<RawRegister> _raw = new();
    private int _rawCopies; // raw socket copies queued by the batch in hand
    private readonly IpDefrag _defrag;
    private readonly CpuCostSettings _cost;
    private readonly IpForward _forward;
    public ITimerScheduler Timers { get; set; } = null!;

    public Ipv4Actor(NetNamespace ns, HostRefs refs)
    {
        _ns = ns;
        _refs = refs;
        _rcv = new IpRcv(ns);
        _forward = new IpForward(ns, refs);
        var udp = refs.Udp;
        _udp = udp;
        _defrag = new IpDefrag(ns.Sysctl.Frag);
        _cost = SoftirqWork.Costs(Context.System, ns);
    }

    // One switch instead of ReceiveActor's per-instance handler set (an IPv4 actor per host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case HostRefs r: (_refs, _forward.Refs) = (r, r); break;
            case ProtocolDeliver m: OnDeliver(m); break;
            case NeighOutputDone m: _forward.NeighDone(m); break;
            case ExpireTick:
                ExpireFragments(Context.System.Scheduler.Now.UtcTicks);
                PublishReasmCounters();
                ArmExpiry();
                break;
            case RawRegister r: _raw.RemoveAll(x => x.Socket.Equals(r.Socket)); _raw.Add(r); break;
            case RawUnregister r:
                _raw.RemoveAll(x => x.Socket.Equals(r.Socket));
                if (r.Ack) r.Socket.Tell(r, Self); // raw_unhash_sk done: raw_v4_input no longer finds the socket
                break;
            case GetFragStats: Sender.Tell(new FragStats(_defrag.QueueCount, _defrag.MemoryBytes, _defrag.PeakMemoryBytes)); break;
            default: Unhandled(message); break;
        }
    }

    private SoftirqWork.BatchHandler? _deliver; // the method group once, not a delegate per batch

    private void OnDeliver(ProtocolDeliver m) => SoftirqWork.Handle(_refs, m, Self, _deliver ??= Deliver);

    /// <summary>The builder's items as an array of their own: without a copy when the batch filled it (the usual case).</summary>
    private static ImmutableArray<SkBuff> Exact(ImmutableArray<SkBuff>.Builder b) => b.Count == b.Capacity ? b.MoveToImmutable() : b.ToImmutable();

    private void Deliver(ProtocolDeliver m, ref bool reported)
    {
        long forwarded = 0;
        _rawCopies = 0;
        ImmutableArray<SkBuff>.Builder? udp = null;
        ImmutableArray<SkBuff>.Builder? icmp = null;
        ImmutableArray<SkBuff>.Builder? tcp = null;
        long now = Context.System.Scheduler.Now.UtcTicks;
        foreach (var item in m.Items)
        {
            var skb = item;
            var verdict = _rcv.Receive(ref skb, out var reason);
            if (verdict == IpRcvVerdict.Drop)
            {
                _ns.Drops.Add(reason, "ip", skb);
                continue;
            }
            if (verdict == IpRcvVerdict.Forward)
            {
                _forward.Forward(skb, now);
                forwarded++;
                continue;
            }
            if (IsFragment(skb) && !Defrag(ref skb)) continue;
            var pkt = skb.Data.Span.Slice(skb.NetworkOffset, skb.NetworkLength);
            if (!_rcv.LocalIn(pkt))
            {
                _ns.Drops.Add(DropReason.NETFILTER_DROP, "ip/local_in", skb);
                continue;
            }
            Ipv4Header.TryRead(pkt, out var h);
            bool raw = RawLocalDeliver(skb, h.Protocol, h.Source, h.Destination);
            if (h.Protocol == IpProtocol.Udp)
            {
                (udp ??= ImmutableArray.CreateBuilder<SkBuff>(m.Items.Length)).Add(skb);
                _ns.Ip.Inc(IpMib.InDelivers);
            }
            else if (h.Protocol == IpProtocol.Tcp)
            {
                (tcp ??= ImmutableArray.CreateBuilder<SkBuff>(m.Items.Length)).Add(skb);
                _ns.Ip.Inc(IpMib.InDelivers);
            }
            else if (h.Protocol == IpProtocol.Icmp)
            {
                (icmp ??= ImmutableArray.CreateBuilder<SkBuff>(m.Items.Length)).Add(skb);
                _ns.Ip.Inc(IpMib.InDelivers);
            }
            else if (raw)
            {
                _ns.Ip.Inc(IpMib.InDelivers);
            }
            else
            {
                // ip_protocol_deliver_rcu: nobody wants it: ICMP protocol unreachable, InUnknownProtos.
                _ns.Ip.Inc(IpMib.InUnknownProtos);
                _ns.Drops.Add(DropReason.IP_NOPROTO, "ip", skb);
                if (skb.PktType == PacketKind.Host)
                    _refs.Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.ProtUnreach, 0, pkt.ToArray(), skb.Ifindex), Self);
            }
        }
        // ip_rcv per packet, ip_forward + the output path per forwarded one, the raw sockets' queueing.
        long cost = _cost.IpRcvNs * m.Items.Length + (_cost.IpForwardNs + _cost.OutputNs) * forwarded
                    + _cost.SockEnqueueNs * _rawCopies;
        int spawned = (udp is null ? 0 : 1) + (tcp is null ? 0 : 1) + (icmp is null ? 0 : 1);
        SoftirqWork.Done(_refs, m.Cpu, cost, spawned, Self);
        reported = true;
        if (udp is not null) _udp.Tell(new ProtocolDeliver(Exact(udp), m.Cpu), Self);
        if (tcp is not null) _refs.Tcp.Tell(new ProtocolDeliver(Exact(tcp), m.Cpu), Self);
        if (icmp is not null) _refs.Icmp.Tell(new ProtocolDeliver(Exact(icmp), m.Cpu), Self);
        _forward.Flush(Self);
    }

    private static bool IsFragment(in SkBuff skb)
    {
        Ipv4Header.TryRead(skb.Data.Span[skb.NetworkOffset..], out var h);
        return h.IsFragment;
    }

    /// <summary>
    /// <c>ip_defrag</c>: false while the datagram is incomplete or when the
    /// fragment was dropped; true with <paramref name="skb"/> replaced by the whole datagram.
    /// </summary>
    private bool Defrag(ref SkBuff skb)
    {
        long now = Context.System.Scheduler.Now.UtcTicks;
        ExpireFragments(now);
        var r = _defrag.Add(skb.Data.Slice(skb.NetworkOffset, skb.NetworkLength), now, skb.Truesize);
        PublishReasmCounters();
        ArmExpiry();
        switch (r.Status)
        {
            case DefragStatus.Complete:
                var whole = r.Packet!;
                Ipv4Header.TryRead(whole, out var h);
                skb = skb with
                {
                    Data = whole, NetworkOffset = 0, NetworkLength = whole.Length, TransportOffset = h.HeaderLength,
                    Truesize = SkBuff.TruesizeFor(whole.Length),
                };
                return true;
            case DefragStatus.Dropped:
                _ns.Drops.Add(r.Reason ?? DropReason.NOT_SPECIFIED, "ip/defrag", Math.Max(1, r.FragmentsFreed));
                if (r.FragmentsEvicted > 0) _ns.Drops.Add(DropReason.NOMEM, "ip/defrag", r.FragmentsEvicted);
                return false;
            default:
                if (r.FragmentsEvicted > 0) _ns.Drops.Add(DropReason.NOMEM, "ip/defrag", r.FragmentsEvicted);
                return false;
        }
    }

    /// <summary><c>ip_expire</c>: queues older than <c>ipfrag_time</c> are freed, counted in ReasmTimeout.</summary>
    private void ExpireFragments(long now)
    {
        foreach (var q in _defrag.Expire(now))
        {
            _ns.Drops.Add(DropReason.FRAG_REASM_TIMEOUT, "ip/defrag", q.FragmentsFreed);
            // ip_expire: ICMP time exceeded (fragment reassembly) to the sender, only if the first fragment came.
            if (q.FirstFragmentArrived && q.FirstFragment is { } first)
                _refs.Icmp.Tell(new IcmpSendError(IcmpType.TimeExceeded, IcmpCode.ExcFragTime, 0, first, 0), Self);
        }
    }

    private void ArmExpiry()
    {
        if (_defrag.NextExpiryTicks is { } due)
        {
            var delay = TimeSpan.FromTicks(Math.Max(0, due - Context.System.Scheduler.Now.UtcTicks));
            Timers.StartSingleTimer("ipfrag", ExpireTick.Instance, delay);
        }
    }

    private void PublishReasmCounters()
    {
        var c = _defrag.Snapshot();
        _ns.Ip.Set(IpMib.ReasmReqds, c.ReasmReqds);
        _ns.Ip.Set(IpMib.ReasmOKs, c.ReasmOKs);
        _ns.Ip.Set(IpMib.ReasmFails, c.ReasmFails);
        _ns.Ip.Set(IpMib.ReasmTimeout, c.ReasmTimeout);
        _ns.IpExt.Set(IpExtMib.ReasmOverlaps, c.ReasmOverlaps);
    }

    private sealed record ExpireTick
    {
        public static readonly ExpireTick Instance = new();
    }

    /// <summary><c>raw_local_deliver</c>: every raw socket of the protocol whose addresses match gets its own copy.</summary>
    private bool RawLocalDeliver(in SkBuff skb, byte protocol, Ipv4Address src, Ipv4Address dst)
    {
        bool any = false;
        List<RawRegister>? gone = null;
        foreach (var r in _raw)
        {
            if (r.Protocol != protocol && r.Protocol != IpProtocol.Raw) continue;
            if (!r.LocalAddress.IsAny && r.LocalAddress != dst) continue;
            if (!r.RemoteAddress.IsAny && r.RemoteAddress != src) continue;
            if (r.Socket is ActorRefWithCell { Underlying.IsTerminated: true })
            {
                // The socket's actor stopped (its supervisor stopped it) before its unregister reached this actor: the
                // copy is freed here with SOCKET_CLOSE, as the socket frees what it held, not sent to dead letters;
                // the socket leaves the raw table at once (raw_unhash_sk). Linux delivered it, so it still counts.
                _ns.Drops.Add(DropReason.SOCKET_CLOSE, "raw/sock", 1);
                (gone ??= []).Add(r);
                any = true;
                continue;
            }
            var copy = skb.Data.Slice(skb.NetworkOffset, skb.NetworkLength).ToArray();
            r.Socket.Tell(new SocketDeliver(ImmutableArray.Create(new Datagram(src, 0, copy, skb.TstampTicks)),
                ImmutableArray.Create(SkBuff.TruesizeFor(copy.Length))), Self);
            any = true;
            _rawCopies++;
        }
        if (gone is not null) foreach (var r in gone) _raw.Remove(r);
        return any;
    }

    public static Props Props(NetNamespace ns, HostRefs refs)
        => FactoryProps.Of(() => new Ipv4Actor(ns, refs));
}
