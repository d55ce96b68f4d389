using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Softnet;
using ActorStack.Actors.Sockets;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;

namespace ActorStack.Actors.Neighbour;

/// <summary>
/// ARP packets seen by a host's neighbour layer, by outcome. Linux keeps no ARP MIB (only drop reasons and
/// <c>/proc/net/stat/arp_cache</c>); these follow the SNMP naming so that every early return of
/// <c>arp_rcv</c> / <c>arp_process</c> has its own counter.
/// </summary>
public enum ArpMib
{
    InRequests, InReplies, InGratuitous,
    /// <summary><c>PACKET_OTHERHOST</c> / <c>PACKET_LOOPBACK</c>: consumed without a drop (<c>consume_skb</c>).</summary>
    InIgnored,
    /// <summary><c>pskb_may_pull</c> failed: shorter than an Ethernet/IPv4 ARP packet (<c>PKT_TOO_SMALL</c>).</summary>
    InTooShort,
    /// <summary><c>ar_hln != dev->addr_len || ar_pln != 4</c>.</summary>
    InBadLength,
    /// <summary><c>ar_hrd</c> neither <c>ARPHRD_ETHER</c> nor <c>ARPHRD_IEEE802</c>.</summary>
    InBadHardwareType,
    /// <summary><c>ar_pro != htons(ETH_P_IP)</c>.</summary>
    InBadProtocolType,
    /// <summary><c>ar_op</c> neither request nor reply.</summary>
    InBadOpcode,
    /// <summary>Target multicast or loopback (without <c>route_localnet</c>), or gratuitous with <c>drop_gratuitous_arp</c>.</summary>
    InMartians,
    /// <summary>A reply for an address no entry waits for (<c>arp_accept</c> = 0): nothing learned.</summary>
    InUnsolicitedReplies,
    OutRequests, OutReplies, OutGratuitous,
}

/// <summary>
/// The neighbour layer of one host (<c>arp_tbl</c> with <c>arp_rcv</c>), one actor per host over the plain
/// <see cref="NeighbourTable{T}"/> and <see cref="Arp"/> classes:
/// <list type="bullet">
/// <item><see cref="ProtocolDeliver"/> of ARP frames from the softnet (<c>ptype_base</c> for ETH_P_ARP):
/// <c>arp_rcv</c> → <c>arp_process</c>; requests for the host's addresses are answered on the receiving
/// device; senders are learned; broken or hostile packets are dropped and counted (<see cref="ArpMib"/>,
/// drop monitor at <c>arp</c>).</item>
/// <item><see cref="NeighOutput"/> from senders whose snapshot had no usable entry: <c>neigh_resolve_output</c>
/// — send with the cached address, or hold the packet on the INCOMPLETE entry (bounded by
/// <c>unres_qlen_bytes</c>, oldest dropped first with <c>NEIGH_QUEUEFULL</c>) while ARP requests go out
/// (<c>mcast_solicit</c> broadcasts <c>retrans_time</c> apart); the queue is released in order when the reply
/// comes, or answered with ICMP host unreachable and dropped with <c>NEIGH_FAILED</c> when resolution fails
/// (<c>arp_error_report</c>).</item>
/// <item>The entry timers (<c>neigh_timer_handler</c>) and periodic GC on the scheduler's clock.</item>
/// </list>
/// After every change it publishes <see cref="NetNamespace.Neighbours"/> (RCU): the entries a sender may use
/// without asking (PERMANENT and NOARP for ever, REACHABLE until <c>confirmed + reachable_time</c>).
/// Buffers it drops are freed with <see cref="SkbFree"/> (their charge returns to their socket).
/// </summary>
public sealed class NeighbourActor : UntypedActor, IWithTimers
{
    private sealed class TimerTick
    {
        public static readonly TimerTick Instance = new();
    }

    private const string TimerKey = "neigh_timer";
    private const string Site = "arp";
    private const string NeighSite = "neigh";

    private readonly NetNamespace _ns;
    private readonly ArpSettings _arp;
    private readonly NeighbourTable<SkBuff> _table;
    private readonly Mib<ArpMib> _mib = new("Arp");
    private readonly long _outputNs; // cpu-cost output, per ARP reply sent from the softirq (arp_rcv itself has no cost key)
    private readonly SkbFree _free = new();
    private readonly Dictionary<int, ImmutableArray<SkBuff>.Builder> _xmit = new();
    private long? _armedFor;
    private HostRefs _refs;

    public ITimerScheduler Timers { get; set; } = null!;

    public NeighbourActor(NetNamespace ns, HostRefs refs, ArpSettings? arp = null)
    {
        _ns = ns;
        _refs = refs;
        _arp = arp ?? ArpSettings.Default;
        _outputNs = SoftirqWork.Costs(Context.System, ns).OutputNs;
        long now = NowMs;
        _table = new NeighbourTable<SkBuff>(ns.Sysctl.Neigh, QueueTruesize, new Random(ns.SeedFor("neigh_rand_reach_time")), now);
        // ip neigh add ... nud permanent from the host's configuration (the namespace seeded the snapshot already).
        foreach (var n in ns.Settings.Neighbours)
            if (ns.Device(n.Device) is { IsLoopback: false } dev)
                _table.AddPermanent(n.Address, dev.Name, n.Mac, now);
    }

    // One switch instead of ReceiveActor's per-instance handler set (a neighbour actor per host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case HostRefs r: _refs = r; break;
            case ProtocolDeliver m: OnArpRcv(m); break;
            case NeighOutput m: OnNeighOutput(m); break;
            case TimerTick: OnTimer(); break;
            case GetNeighbours m: Sender.Tell(List(m.Device)); break;
            case SendGratuitousArp m: OnSendGratuitousArp(m); break;
            case GetArpStats: Sender.Tell(Stats()); break;
            // The link watch's arp notifier: neigh_carrier_down (NETDEV_CHANGE, no carrier) / neigh_ifdown (NETDEV_DOWN).
            case ActorStack.Messages.NeighFlushDev m:
            {
                long now = NowMs;
                Carry(_table.Flush(m.Device, m.IncludePermanent), now);
                Finish(now);
                break;
            }
            default: Unhandled(message); break;
        }
    }

    protected override void PreStart()
    {
        Publish();
        Rearm(NowMs);
    }

    private long NowMs => Context.System.Scheduler.Now.UtcTicks / TimeSpan.TicksPerMillisecond;

    // The memory an unresolved entry's queue is charged for a buffer (skb->truesize). A fragment after the first
    // carries no socket charge (Truesize 0), so the charge is computed from the frame, never taken from the buffer.
    private static int QueueTruesize(SkBuff skb) => SkBuff.TruesizeFor(skb.Length);

    /// <summary>
    /// <c>arp_rcv</c> → <c>arp_process</c> for each ARP frame; the network header is the ARP payload. Runs inside the
    /// delivering CPU's softirq: answered to its softnet actor (<see cref="ProtocolBatchDone"/>) with the replies' output cost.
    /// </summary>
    private void OnArpRcv(ProtocolDeliver m)
    {
        int replies = 0;
        try
        {
            ArpRcv(m, ref replies);
        }
        finally
        {
            SoftirqWork.Done(_refs, m.Cpu, _outputNs * replies, 0, Self);
        }
    }

    private void ArpRcv(ProtocolDeliver m, ref int replies)
    {
        long now = NowMs;
        foreach (var skb in m.Items)
        {
            var dev = _ns.Device(skb.Ifindex);
            if (dev is null || dev.IsLoopback)
            {
                // arp_rcv: IFF_NOARP devices (lo) and loopback frames are not for ARP.
                _mib.Inc(ArpMib.InIgnored);
                continue;
            }
            var payload = skb.Data.Span[Math.Min(skb.NetworkOffset, skb.Length)..];
            bool isReply = false, knownBefore = false;
            if (ArpPacket.TryRead(payload, out var pkt, out _))
            {
                isReply = pkt.IsReply;
                knownBefore = _table.Contains(pkt.SenderIp, dev.Name);
            }
            ArpResult<SkBuff> r;
            r = Arp.Process(payload, skb.PktType, dev.Name, dev.Mac, _ns.Fib, _table, now, _arp);
            Count(r, isReply, knownBefore);
            if (r.Reply is { } reply)
            {
                Xmit(dev.Ifindex, ArpSkb(reply, dev.Ifindex));
                _mib.Inc(ArpMib.OutReplies);
                replies++;
            }
            Carry(r.Actions, now);
        }
        Finish(now);
    }

    private void Count(ArpResult<SkBuff> r, bool isReply, bool knownBefore)
    {
        switch (r.Verdict)
        {
            case ArpVerdict.Ignored:
                _mib.Inc(ArpMib.InIgnored);
                return;
            case ArpVerdict.Dropped:
                _mib.Inc(r.ParseError switch
                {
                    ArpParseError.TooShort => ArpMib.InTooShort,
                    ArpParseError.BadAddressLength => ArpMib.InBadLength,
                    ArpParseError.BadHardwareType => ArpMib.InBadHardwareType,
                    ArpParseError.BadProtocolType => ArpMib.InBadProtocolType,
                    ArpParseError.BadOpcode => ArpMib.InBadOpcode,
                    _ => ArpMib.InMartians,
                });
                _ns.Drops.Add(r.Reason, Site);
                return;
        }
        _mib.Inc(isReply ? ArpMib.InReplies : ArpMib.InRequests);
        if (r.Gratuitous) _mib.Inc(ArpMib.InGratuitous);
        if (isReply && !knownBefore && !r.Learned)
        {
            // Linux consumes an unsolicited reply silently; it is counted as a drop here so that hostile
            // replies show up in the drop monitor (issue 3, "bad input").
            _mib.Inc(ArpMib.InUnsolicitedReplies);
            _ns.Drops.Add(DropReason.NOT_SPECIFIED, Site + "/unsolicited");
        }
    }

    /// <summary><c>neigh_resolve_output</c> for buffers whose next hop the sender could not resolve from the snapshot.</summary>
    private void OnNeighOutput(NeighOutput m)
    {
        long now = NowMs;
        var dev = _ns.Device(m.Ifindex);
        foreach (var skb0 in m.Skbs)
        {
            var skb = skb0 with { Ifindex = m.Ifindex };
            if (dev is null || dev.IsLoopback)
            {
                // No ARP on lo or an unknown device: __neigh_create fails.
                DropSkb(skb, DropReason.NEIGH_CREATEFAIL);
                continue;
            }
            var res = _table.NeighOutput(m.NextHop, dev.Name, skb, now);
            switch (res.Verdict)
            {
                case NeighVerdict.Send:
                    IpOutput.WriteEthernet(skb, res.Mac, dev.Mac);
                    Xmit(dev.Ifindex, skb);
                    break;
                case NeighVerdict.Dropped when res.Actions.Count == 0:
                    // Table full (gc_thresh3 and nothing to reclaim): ip_finish_output2's NEIGH_CREATEFAIL.
                    DropSkb(skb, DropReason.NEIGH_CREATEFAIL);
                    break;
            }
            Carry(res.Actions, now);
        }
        Finish(now);
        // After what it sends: the sender may go straight to the device again once this answer is in.
        if (Sender is { } sender && !sender.IsNobody() && !sender.Equals(Context.System.DeadLetters))
            sender.Tell(new NeighOutputDone(m.Ifindex, m.NextHop), Self);
    }

    private void OnTimer()
    {
        _armedFor = null;
        long now = NowMs;
        Carry(_table.Tick(now), now);
        Finish(now);
    }

    /// <summary>Carries out what the table decided, in its order (so a released queue keeps its order).</summary>
    private void Carry(IReadOnlyList<NeighAction<SkBuff>> actions, long now)
    {
        foreach (var a in actions)
        {
            switch (a.Kind)
            {
                case NeighActionKind.Transmit:
                    if (_ns.Device(a.Dev) is not { } dev) { DropSkb(a.Packet, DropReason.NEIGH_DEAD); break; }
                    IpOutput.WriteEthernet(a.Packet, a.Mac, dev.Mac);
                    Xmit(dev.Ifindex, a.Packet);
                    break;
                case NeighActionKind.Solicit:
                    Solicit(a);
                    break;
                case NeighActionKind.Unreachable:
                    // arp_error_report: dst_link_failure → icmp_send(ICMP_DEST_UNREACH, ICMP_HOST_UNREACH), then
                    // kfree_skb_reason(NEIGH_FAILED). The ICMP handler rate-limits.
                    _refs.Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.HostUnreach, 0,
                        IpOutput.IpPacket(a.Packet).ToArray(), 0), Self);
                    DropSkb(a.Packet, DropReason.NEIGH_FAILED);
                    break;
                case NeighActionKind.Drop:
                    DropSkb(a.Packet, a.Reason);
                    break;
            }
        }
    }

    /// <summary>
    /// <c>arp_solicit</c>: the source address is the queued packet's own when it is one of ours
    /// (arp_announce = 0), else <c>inet_select_addr(dev, target, RT_SCOPE_LINK)</c>; broadcast with a zero
    /// target hardware address, or a unicast probe to the cached address.
    /// </summary>
    private void Solicit(in NeighAction<SkBuff> a)
    {
        if (_ns.Device(a.Dev) is not { } dev) return;
        var saddr = Ipv4Address.Any;
        if (!a.Packet.Data.IsEmpty && Ipv4Header.TryRead(IpOutput.IpPacket(a.Packet), out var h)
            && !h.Source.IsLoopback && _ns.IsLocalAddress(h.Source))
            saddr = h.Source;
        if (saddr.IsAny) saddr = _ns.SelectSource(dev, a.Ip);
        var frame = ArpPacket.Request(dev.Mac, saddr, a.Ip, a.Mac.IsBroadcast ? null : a.Mac);
        Xmit(dev.Ifindex, ArpSkb(frame, dev.Ifindex));
        _mib.Inc(ArpMib.OutRequests);
    }

    private void OnSendGratuitousArp(SendGratuitousArp m)
    {
        int n = 0;
        if (_ns.Device(m.Device) is { IsLoopback: false } dev)
        {
            foreach (var a in dev.Settings.Addresses)
            {
                Xmit(dev.Ifindex, ArpSkb(ArpPacket.Gratuitous(dev.Mac, a.Address), dev.Ifindex));
                n++;
            }
            _mib.Add(ArpMib.OutGratuitous, n);
            _mib.Add(ArpMib.OutRequests, n);
        }
        Finish(NowMs);
        Sender.Tell(new GratuitousArpSent(m.Device, n));
    }

    /// <summary>A transmit buffer for an ARP frame (<c>arp_create</c>): no socket owner, network header at the ARP payload.</summary>
    private static SkBuff ArpSkb(byte[] frame, int ifindex)
        => new(frame, ifindex, 0, 0, 0, SkBuff.TruesizeFor(frame.Length))
        {
            NetworkOffset = EthernetHeader.Length, NetworkLength = frame.Length - EthernetHeader.Length,
            Protocol = EtherType.Arp, PktType = PacketKind.Outgoing,
        };

    private void Xmit(int ifindex, in SkBuff skb)
    {
        if (!_xmit.TryGetValue(ifindex, out var b)) _xmit[ifindex] = b = ImmutableArray.CreateBuilder<SkBuff>();
        b.Add(skb);
    }

    private void DropSkb(in SkBuff skb, DropReason reason)
    {
        _ns.Drops.Add(reason, NeighSite);
        // neigh_resolve_output accepted the packet (returned 0), so its later drop only returns the memory to
        // the socket: no NET_XMIT_DROP, no SndbufErrors, no ENOBUFS.
        _free.Free(skb);
    }

    /// <summary>
    /// End of every message: hand the gathered frames to the devices (<c>dev_queue_xmit</c>, one message per
    /// device, in order), return freed charges, publish the snapshot — after the frames, so that a sender
    /// using the new entry cannot overtake a released queue — and re-arm the timer.
    /// </summary>
    private void Finish(long now)
    {
        foreach (var (ifindex, b) in _xmit)
        {
            if (b.Count == 0) continue;
            _refs.Driver(ifindex).Tell(new DevQueueXmit(b.ToImmutable()), Self);
            b.Clear();
        }
        _free.Flush(Self);
        Publish();
        Rearm(now);
    }

    /// <summary>Publishes the usable entries (NUD_CONNECTED) to <see cref="NetNamespace.Neighbours"/> when they changed.</summary>
    private void Publish()
    {
        var b = ImmutableDictionary.CreateBuilder<NeighKey, NeighCacheEntry>();
        foreach (var e in _table.Entries)
        {
            if ((e.State & Nud.Connected) == 0 || _ns.Device(e.Dev) is not { } dev) continue;
            long until = (e.State & (NudState.Permanent | NudState.NoArp)) != 0
                ? long.MaxValue
                : (e.ConfirmedMs + _table.ReachableTimeMs) * TimeSpan.TicksPerMillisecond;
            b[new NeighKey(dev.Ifindex, e.Ip)] = new NeighCacheEntry(e.Mac, until);
        }
        var current = _ns.Neighbours;
        if (b.Count == current.Count && b.All(kv => current.TryGetValue(kv.Key, out var c) && c == kv.Value)) return;
        _ns.Neighbours = b.ToImmutable();
    }

    private void Rearm(long now)
    {
        long? next = _table.NextTimerMs;
        if (next is not { } due)
        {
            if (_armedFor is not null) Timers.Cancel(TimerKey);
            _armedFor = null;
            return;
        }
        if (_armedFor == due) return;
        _armedFor = due;
        Timers.StartSingleTimer(TimerKey, TimerTick.Instance, TimeSpan.FromMilliseconds(Math.Max(0, due - now)));
    }

    private NeighbourList List(string? device)
    {
        var entries = _table.Entries
            .Where(e => device is null || e.Dev == device)
            .OrderBy(e => e.Dev, StringComparer.Ordinal).ThenBy(e => e.Ip.Value)
            .Select(e => new NeighbourEntry(e.Ip, e.Dev, (e.State & Nud.Valid) != 0 ? e.Mac : null, Nud.Name(e.State),
                e.QueueLength, e.Probes))
            .ToImmutableArray();
        return new NeighbourList(_table.Format(device), entries);
    }

    private ArpStats Stats()
    {
        var s = _table.Stats;
        var cache = new MibSnapshot("arp_cache",
        [
            KeyValuePair.Create("entries", (long)_table.Count),
            KeyValuePair.Create("allocs", s.Allocs),
            KeyValuePair.Create("destroys", s.Destroys),
            KeyValuePair.Create("lookups", s.Lookups),
            KeyValuePair.Create("hits", s.Hits),
            KeyValuePair.Create("res_failed", s.ResFailed),
            KeyValuePair.Create("rcv_probes_mcast", s.RcvProbesMcast),
            KeyValuePair.Create("rcv_probes_ucast", s.RcvProbesUcast),
            KeyValuePair.Create("periodic_gc_runs", s.PeriodicGcRuns),
            KeyValuePair.Create("forced_gc_runs", s.ForcedGcRuns),
            KeyValuePair.Create("unresolved_discards", s.UnresolvedDiscards),
            KeyValuePair.Create("table_fulls", s.TableFulls),
        ]);
        return new ArpStats(_mib.Snapshot(), cache, _table.ReachableTimeMs);
    }

    public static Props Props(NetNamespace ns, HostRefs refs, ArpSettings? arp = null)
        => FactoryProps.Of(() => new NeighbourActor(ns, refs, arp));
}
