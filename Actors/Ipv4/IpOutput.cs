using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Akka.Actor;
using ActorStack.Actors.Ipv4.Frag;
using ActorStack.Actors.Routing;
using ActorStack.Actors.Sockets;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Actors.Ipv4;

/// <summary>
/// An output route (<c>struct rtable</c>): the route type, the device, the next hop (the gateway, or the
/// destination itself on a connected route), the preferred source address and the MTU in force
/// (device MTU, lowered by a learned path MTU).
/// </summary>
public readonly record struct OutputRoute(RouteType Type, NetDevice Device, Ipv4Address NextHop, Ipv4Address Source, int Mtu)
{
    public bool IsBroadcast => Type == RouteType.Broadcast;
}

/// <summary>
/// The IPv4 output path without actors (<c>ip_queue_xmit</c> / <c>ip_append_data</c> down to <c>neigh_output</c> and <c>dev_queue_xmit</c>), used by every actor of a host that sends: sockets
/// (process context), the IPv4 handler (forwarding) and ICMP. <c>ip_route_output</c> picks the route;
/// <c>ip_local_out</c> (LOCAL_OUT) → <c>dst_output</c> → <c>ip_output</c> (POST_ROUTING) →
/// <c>ip_finish_output</c> (fragmentation against the route's MTU) → <c>ip_finish_output2</c> →
/// <c>neigh_output</c>: with a usable neighbour in the host's snapshot the Ethernet header is filled
/// in here and the buffer goes to the device (<c>dev_queue_xmit</c>); otherwise it goes to the neighbour
/// actor to be resolved. Buffers are gathered per device and per unresolved next hop and handed on by
/// <see cref="Flush"/>, one message each, in order.
/// A buffer's frame has <see cref="Headroom"/> bytes before the IP header for the link-layer header.
/// </summary>
public sealed class IpOutput(NetNamespace ns, HostRefs refs)
{
    /// <summary>The host's actors this path hands buffers to (ICMP, neighbour, drivers); its owner keeps it current.</summary>
    public HostRefs Refs { get; set; } = refs;

    /// <summary><c>LL_RESERVED_SPACE</c> for Ethernet.</summary>
    public const int Headroom = EthernetHeader.Length;

    private readonly Dictionary<int, ImmutableArray<SkBuff>.Builder> _xmit = new();
    private readonly Dictionary<NeighKey, ImmutableArray<SkBuff>.Builder> _unresolved = new();
    private readonly SkbFree _free = new();
    // NeighOutput messages sent per next hop and not yet answered (NeighOutputDone): until then that next hop's
    // buffers follow them through the neighbour actor.
    private readonly Dictionary<NeighKey, int> _viaNeigh = new();

    /// <summary>
    /// The neighbour actor handled one of this sender's <see cref="NeighOutput"/>s: when it was the last one, the next
    /// hop's buffers may go to the device directly again (with a usable published entry).
    /// </summary>
    public void NeighDone(NeighOutputDone m)
    {
        var key = new NeighKey(m.Ifindex, m.NextHop);
        if (!_viaNeigh.TryGetValue(key, out int n)) return;
        if (n <= 1) _viaNeigh.Remove(key);
        else _viaNeigh[key] = n - 1;
    }

    /// <summary>Next hops this sender still has buffers for at the neighbour actor (tests).</summary>
    public int PendingNeighOutputs => _viaNeigh.Values.Sum();

    /// <summary>A frame buffer for an IP packet of <paramref name="ipLength"/> bytes, with link-layer headroom.</summary>
    public static byte[] NewFrame(int ipLength) => new byte[Headroom + ipLength];

    /// <summary>A transmit buffer over <paramref name="frame"/> (headroom + IP packet).</summary>
    public static SkBuff NewSkb(byte[] frame, IActorRef? owner = null, byte priority = 0)
        => new(frame, 0, 0, 0, 0, SkBuff.TruesizeFor(frame.Length))
        {
            NetworkOffset = Headroom, NetworkLength = frame.Length - Headroom, Protocol = EtherType.Ipv4,
            PktType = PacketKind.Outgoing, Owner = owner, Priority = priority,
        };

    /// <summary>
    /// <c>ip_route_output_key</c>: the route to <paramref name="dst"/> (optionally bound to device
    /// <paramref name="oif"/>), with <paramref name="src"/> or else the preferred source. The limited broadcast goes
    /// out of <paramref name="oif"/> or the device the FIB picks for it. Errors are the FIB's
    /// (<c>ENETUNREACH</c>, or an error route's <c>EHOSTUNREACH</c>/<c>EACCES</c>/<c>EINVAL</c>).
    /// </summary>
    public Errno Route(Ipv4Address dst, Ipv4Address src, int oif, long nowTicks, out OutputRoute rt)
    {
        // The dst cache (sk_dst_cache / the rtable a connected socket keeps): the last answer of the FIB,
        // valid while the FIB's generation stands (rt_genid). The learned path MTU is applied on every call.
        long gen = ns.FibGeneration;
        if (_cached && _cDst == dst && _cSrc == src && _cOif == oif && _cGen == gen)
        {
            rt = _cRt;
            if (_cPmtu) rt = WithPmtu(rt, dst, nowTicks);
            return Errno.OK;
        }
        var err = RouteSlow(dst, src, oif, out rt, out bool pmtu);
        if (err != Errno.OK) return err;
        (_cached, _cDst, _cSrc, _cOif, _cGen, _cRt, _cPmtu) = (true, dst, src, oif, gen, rt, pmtu);
        if (pmtu) rt = WithPmtu(rt, dst, nowTicks);
        return Errno.OK;
    }

    private bool _cached, _cPmtu;
    private Ipv4Address _cDst, _cSrc;
    private int _cOif;
    private long _cGen;
    private OutputRoute _cRt;

    private OutputRoute WithPmtu(in OutputRoute rt, Ipv4Address dst, long nowTicks)
        => ns.Pmtu.Get(dst, nowTicks) is { } pmtu && pmtu < rt.Mtu ? rt with { Mtu = pmtu } : rt;

    /// <summary>The FIB's answer without the learned path MTU; <paramref name="pmtu"/>: whether one applies (unicast and directed broadcast).</summary>
    private Errno RouteSlow(Ipv4Address dst, Ipv4Address src, int oif, out OutputRoute rt, out bool pmtu)
    {
        rt = default;
        pmtu = false;
        var oifDev = oif > 0 ? ns.Device(oif) : null;
        if (oif > 0 && oifDev is null) return Errno.ENODEV;
        if (dst.IsLoopback || (dst.IsAny))
        {
            // 127/8 and 0.0.0.0 (which means "this host") never leave: lo.
            rt = new OutputRoute(RouteType.Local, ns.Loopback, dst.IsAny ? Ipv4Address.Loopback : dst,
                src.IsAny ? Ipv4Address.Loopback : src, ns.Loopback.Settings.Mtu);
            return Errno.OK;
        }
        var r = ns.Fib.Lookup(dst, oifDev?.Name);
        if (dst.IsLimitedBroadcast || dst.IsMulticast)
        {
            var dev = oifDev ?? (r.Ok && r.Device is { } n ? ns.Device(n) : null);
            if (dev is null) return r.Ok ? Errno.ENETUNREACH : r.Error;
            rt = new OutputRoute(RouteType.Broadcast, dev, dst, src.IsAny ? ns.SelectSource(dev, dst) : src, dev.Settings.Mtu);
            return Errno.OK;
        }
        if (!r.Ok) return r.Error;
        if (r.Type == RouteType.Local)
        {
            rt = new OutputRoute(RouteType.Local, ns.Loopback, dst, src.IsAny ? dst : src, ns.Loopback.Settings.Mtu);
            return Errno.OK;
        }
        var outDev = r.Device is { } name ? ns.Device(name) : null;
        if (outDev is null) return Errno.ENETUNREACH;
        var source = !src.IsAny ? src : r.PrefSrc ?? ns.SelectSource(outDev, r.NextHop);
        rt = new OutputRoute(r.Type == RouteType.Broadcast ? RouteType.Broadcast : RouteType.Unicast, outDev, r.NextHop, source,
            outDev.Settings.Mtu);
        pmtu = true;
        return Errno.OK;
    }

    /// <summary>
    /// <c>ip_local_out</c> for a packet this host built: <c>OutRequests</c>, the LOCAL_OUT hook (a drop is
    /// <c>EPERM</c> to the sender, as <c>NF_DROP</c> gives), then <see cref="Output"/>.
    /// </summary>
    public Errno LocalOut(in SkBuff skb, in OutputRoute rt, long nowTicks)
    {
        _outRequests++;
        if (ns.Netfilter.Run(NfHook.LocalOut, IpPacket(skb)) == NfVerdict.Drop)
        {
            ns.Ip.Inc(IpMib.OutDiscards);
            ns.Drops.Add(DropReason.NETFILTER_DROP, "ip/local_out");
            _free.Drop(skb);
            return Errno.EPERM;
        }
        return Output(skb, rt, nowTicks);
    }

    /// <summary>
    /// <c>ip_output</c> → <c>ip_finish_output</c>: POST_ROUTING, then fragmentation when the packet is longer
    /// than the route's MTU (<c>ip_fragment</c>: refused with DF unless <c>ignore_df</c>: ICMP fragmentation
    /// needed, <c>FragFails</c>, <c>EMSGSIZE</c>), then <c>ip_finish_output2</c> for each piece.
    /// </summary>
    public Errno Output(in SkBuff skb, in OutputRoute rt, long nowTicks, bool ignoreDf = false)
    {
        var pkt = IpPacket(skb);
        if (ns.Netfilter.Run(NfHook.PostRouting, pkt) == NfVerdict.Drop)
        {
            ns.Ip.Inc(IpMib.OutDiscards);
            ns.Drops.Add(DropReason.NETFILTER_DROP, "ip/post_routing");
            _free.Drop(skb);
            return Errno.EPERM;
        }
        _outOctets += pkt.Length;
        if (rt.IsBroadcast) ns.IpExt.Inc(IpExtMib.OutBcastPkts);
        // ip_finish_output_gso: a GSO packet whose segments each fit the MTU is cut later, not fragmented.
        if (pkt.Length <= rt.Mtu || (skb.GsoSize > 0 && ActorStack.Actors.Devices.TcpSegmenter.SegmentNetworkLength(pkt, skb.GsoSize) <= rt.Mtu))
        {
            FinishOutput2(skb, rt, nowTicks);
            return Errno.OK;
        }
        var fr = IpFragmenter.Fragment(pkt, rt.Mtu, ignoreDf, headroom: Headroom);
        ns.Ip.Add(IpMib.FragOKs, fr.FragOKs);
        ns.Ip.Add(IpMib.FragCreates, fr.FragCreates);
        ns.Ip.Add(IpMib.FragFails, fr.FragFails);
        if (fr.Outcome != FragmentOutcome.Fragmented)
        {
            if (fr.Outcome == FragmentOutcome.Refused)
                Refs.Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.FragNeeded, (uint)rt.Mtu, pkt.ToArray(), 0));
            ns.Drops.Add(fr.Reason ?? DropReason.PKT_TOO_BIG, "ip/fragment");
            _free.Drop(skb);
            return fr.Error == Errno.OK ? Errno.EMSGSIZE : fr.Error;
        }
        // The datagram's send-buffer charge travels with its first fragment, so the socket gets it all back.
        for (int i = 0; i < fr.Fragments.Count; i++)
        {
            var frame = fr.Fragments[i]; // built with the link-layer headroom in front: no further copy
            FinishOutput2(skb with
            {
                Data = frame, NetworkLength = frame.Length - Headroom,
                Truesize = i == 0 ? skb.Truesize : 0, Owner = i == 0 ? skb.Owner : null,
            }, rt, nowTicks);
        }
        return Errno.OK;
    }

    /// <summary>
    /// <c>ip_finish_output2</c> → <c>neigh_output</c>: <c>OutTransmits</c>; lo needs no neighbour; broadcast
    /// goes to ff:ff:ff:ff:ff:ff; a usable entry in the snapshot fills the header at once
    /// (<c>neigh_hh_output</c>); anything else waits for the neighbour actor.
    /// </summary>
    private void FinishOutput2(SkBuff skb, in OutputRoute rt, long nowTicks)
    {
        _outTransmits++;
        Transmits++;
        var dev = rt.Device;
        skb = skb with { Ifindex = dev.Ifindex };
        if (dev.IsLoopback)
        {
            WriteEthernet(skb, MacAddress.Zero, MacAddress.Zero);
            Queue(_xmit, dev.Ifindex, skb);
            return;
        }
        if (rt.IsBroadcast || rt.NextHop.IsLimitedBroadcast)
        {
            WriteEthernet(skb, rt.NextHop.IsMulticast ? MulticastMac(rt.NextHop) : MacAddress.Broadcast, dev.Mac);
            Queue(_xmit, dev.Ifindex, skb);
            return;
        }
        var key = new NeighKey(dev.Ifindex, rt.NextHop);
        // Behind this sender's buffers still with the neighbour actor (in its mailbox or gathered in this batch),
        // never past them: the published entry may be newer than those buffers' NeighOutput.
        if ((_viaNeigh.Count == 0 || !_viaNeigh.ContainsKey(key))
            && (_unresolved.Count == 0 || !_unresolved.TryGetValue(key, out var pending) || pending.Count == 0)
            && LookupNeigh(key) is { } n && nowTicks < n.ValidUntilTicks)
        {
            WriteEthernet(skb, n.Mac, dev.Mac);
            Queue(_xmit, dev.Ifindex, skb);
            return;
        }
        Queue(_unresolved, key, skb);
    }

    /// <summary>
    /// Hands every gathered buffer on: one <see cref="DevQueueXmit"/> per device, one <see cref="NeighOutput"/> per
    /// unresolved next hop; and adds this batch's OutRequests, OutOctets and OutTransmits to the MIBs.
    /// </summary>
    public void Flush(IActorRef self)
    {
        PublishCounters(); // before anything is handed on: whoever sees a packet sees it counted
        foreach (var (ifindex, b) in _xmit)
            if (b.Count > 0)
            {
                Refs.Driver(ifindex).Tell(new DevQueueXmit(b.ToImmutable()), self);
                b.Clear();
            }
        foreach (var (key, b) in _unresolved)
            if (b.Count > 0)
            {
                Refs.Neighbour.Tell(new NeighOutput(key.Ifindex, key.Address, b.ToImmutable()), self);
                b.Clear();
                // Answered with NeighOutputDone, but only to an actor (a sender without one gets no answer).
                if (!self.IsNobody()) _viaNeigh[key] = _viaNeigh.GetValueOrDefault(key) + 1;
            }
        if (_unresolved.Count > 64) _unresolved.Clear();
        _free.Flush(self);
    }

    // OutRequests, OutOctets and OutTransmits of the packets handled since the last Flush: added to the host's
    // MIBs once per Flush (one atomic add per counter per message, not per packet, as Linux's per-CPU MIBs fold).
    private long _outRequests, _outOctets, _outTransmits;

    /// <summary>Packets through <c>ip_finish_output2</c> since this instance was made (fragments each): what the caller's
    /// context paid the output path for (the CPU-cost model charges <c>output</c> per packet a process sends).</summary>
    public long Transmits { get; private set; }

    private void PublishCounters()
    {
        if (_outRequests == 0 && _outOctets == 0 && _outTransmits == 0) return;
        ns.Ip.Add(IpMib.OutRequests, _outRequests);
        ns.IpExt.Add(IpExtMib.OutOctets, _outOctets);
        ns.Ip.Add(IpMib.OutTransmits, _outTransmits);
        _outRequests = _outOctets = _outTransmits = 0;
    }

    // The neighbour entry for key from the host's published table; the last answer is kept while the
    // table is the same snapshot (the table is replaced whole on every change).
    private ImmutableDictionary<NeighKey, NeighCacheEntry>? _nTable;
    private NeighKey _nKey;
    private NeighCacheEntry? _nEntry;

    private NeighCacheEntry? LookupNeigh(NeighKey key)
    {
        var table = ns.Neighbours;
        if (ReferenceEquals(table, _nTable) && key == _nKey) return _nEntry;
        _nEntry = table.TryGetValue(key, out var n) ? n : null;
        (_nTable, _nKey) = (table, key);
        return _nEntry;
    }

    private int _lastIfindex = -1;
    private ImmutableArray<SkBuff>.Builder? _lastXmit;

    private void Queue(Dictionary<int, ImmutableArray<SkBuff>.Builder> d, int ifindex, in SkBuff skb)
    {
        if (ifindex != _lastIfindex || _lastXmit is null)
        {
            if (!d.TryGetValue(ifindex, out var b)) d[ifindex] = b = ImmutableArray.CreateBuilder<SkBuff>();
            (_lastIfindex, _lastXmit) = (ifindex, b);
        }
        _lastXmit.Add(skb);
    }

    private static void Queue<TKey>(Dictionary<TKey, ImmutableArray<SkBuff>.Builder> d, TKey key, in SkBuff skb) where TKey : notnull
    {
        if (!d.TryGetValue(key, out var b)) d[key] = b = ImmutableArray.CreateBuilder<SkBuff>();
        b.Add(skb);
    }

    /// <summary>Fills the link-layer header into the buffer's headroom (the buffer's single owner writes it before handing it on).</summary>
    public static void WriteEthernet(in SkBuff skb, MacAddress dst, MacAddress src)
        => EthernetHeader.Write(MemoryMarshal.AsMemory(skb.Data).Span, dst, src, EtherType.Ipv4);

    /// <summary><c>ip_eth_mc_map</c>: 01:00:5e plus the low 23 bits of the group.</summary>
    public static MacAddress MulticastMac(Ipv4Address group) => new(0x01005E000000UL | (group.Value & 0x7FFFFF));

    public static ReadOnlySpan<byte> IpPacket(in SkBuff skb) => skb.Data.Span.Slice(skb.NetworkOffset, skb.NetworkLength);

    /// <summary>
    /// Writes a 20-byte IPv4 header at the start of <paramref name="ip"/> (<c>ip_build_and_send_pkt</c> /
    /// <c>__ip_make_skb</c>): the identification from the host's per-destination counters
    /// (<c>ip_select_ident</c>), checksum filled in.
    /// </summary>
    public ushort NextId(Ipv4Address dst, byte protocol) => ns.NextIpId(dst, protocol);

    public void WriteHeader(Span<byte> ip, int totalLength, bool df, byte ttl, byte protocol, Ipv4Address src, Ipv4Address dst, byte tos = 0)
    {
        ushort id = ns.NextIpId(dst, protocol);
        Ipv4Header.Write(ip, totalLength, id, df ? Ipv4Header.FlagDf : (ushort)0, ttl, protocol, src, dst, tos);
    }
}
