using Akka.Actor;
using ActorStack.Actors.Routing;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Actors.Ipv4;

/// <summary>
/// <c>ip_forward</c> without actors, for a host with <c>net.ipv4.ip_forward = 1</c>: only packets sent to
/// this host's MAC; the input route first (<c>ip_route_input_slow</c>: no route → ICMP net unreachable and
/// <c>InNoRoutes</c> whatever the TTL; an unreachable / prohibit route → ICMP host unreachable / administratively
/// filtered; blackhole → silent drop); then TTL ≤ 1 → ICMP time exceeded (<c>InHdrErrors</c>); DF against
/// the out MTU (<c>ip_exceeds_mtu</c>: ICMP fragmentation needed with the MTU, <c>FragFails</c>); the TTL
/// decremented with an incremental checksum update (<c>ip_decrease_ttl</c>); the FORWARD hook;
/// <c>ForwDatagrams</c>; then <c>ip_output</c>, which fragments a packet without DF.
/// </summary>
public sealed class IpForward(NetNamespace ns, HostRefs refs)
{
    private readonly IpOutput _out = new(ns, refs);

    /// <summary>The host's actors (ICMP for errors, the output path's); the owning actor keeps it current.</summary>
    public HostRefs Refs { get => _out.Refs; set => _out.Refs = value; }

    public void Forward(in SkBuff skb, long nowTicks)
    {
        var pkt = IpOutput.IpPacket(skb);
        if (skb.PktType != PacketKind.Host)
        {
            ns.Drops.Add(DropReason.OTHERHOST, "ip/forward");
            return;
        }
        Ipv4Header.TryRead(pkt, out var h);
        var r = ns.Fib.Lookup(h.Destination);
        if (!r.Ok || r.Device is null || ns.Device(r.Device) is not { } dev)
        {
            // ip_error: what the route's error says.
            switch (r.Error)
            {
                case Errno.EHOSTUNREACH:
                    ns.Ip.Inc(IpMib.InAddrErrors);
                    ns.Drops.Add(DropReason.IP_INADDRERRORS, "ip/forward");
                    IcmpError(IcmpType.DestUnreach, IcmpCode.HostUnreach, 0, pkt, skb.Ifindex);
                    break;
                case Errno.EACCES:
                    ns.Drops.Add(DropReason.IP_INADDRERRORS, "ip/forward");
                    IcmpError(IcmpType.DestUnreach, IcmpCode.PktFiltered, 0, pkt, skb.Ifindex);
                    break;
                case Errno.EINVAL: // blackhole
                    ns.Drops.Add(DropReason.IP_INNOROUTES, "ip/forward");
                    break;
                default:
                    ns.IpExt.Inc(IpExtMib.InNoRoutes);
                    ns.Drops.Add(DropReason.IP_INNOROUTES, "ip/forward");
                    IcmpError(IcmpType.DestUnreach, IcmpCode.NetUnreach, 0, pkt, skb.Ifindex);
                    break;
            }
            return;
        }
        if (r.Type == RouteType.Broadcast)
        {
            // A directed broadcast of another subnet is not forwarded (bc_forwarding = 0).
            ns.Ip.Inc(IpMib.InAddrErrors);
            ns.Drops.Add(DropReason.IP_INADDRERRORS, "ip/forward");
            return;
        }
        // ip_forward, reached only through the input route (ip_rcv_finish → ip_route_input_noref → dst.input): TTL ≤ 1
        // → ICMP time exceeded, before the MTU check. A packet without a route never gets here: ip_error answered it.
        if (h.Ttl <= 1)
        {
            ns.Ip.Inc(IpMib.InHdrErrors);
            ns.Drops.Add(DropReason.IP_INHDR, "ip/forward");
            IcmpError(IcmpType.TimeExceeded, IcmpCode.ExcTtl, 0, pkt, skb.Ifindex);
            return;
        }
        int mtu = dev.Settings.Mtu;
        if (ns.Pmtu.Get(h.Destination, nowTicks) is { } pmtu && pmtu < mtu) mtu = pmtu;
        // ip_exceeds_mtu: a GRO packet is measured by its segments (skb_gso_validate_network_len).
        bool gsoFits = skb.GsoSize > 0 && ActorStack.Actors.Devices.TcpSegmenter.SegmentNetworkLength(pkt, skb.GsoSize) <= mtu;
        if (pkt.Length > mtu && h.DontFragment && !gsoFits)
        {
            ns.Ip.Inc(IpMib.FragFails);
            ns.Drops.Add(DropReason.PKT_TOO_BIG, "ip/forward");
            IcmpError(IcmpType.DestUnreach, IcmpCode.FragNeeded, (uint)mtu, pkt, skb.Ifindex);
            return;
        }
        // skb_cow + ip_decrease_ttl: our own copy, TTL − 1, checksum updated incrementally (RFC 1624).
        var frame = IpOutput.NewFrame(pkt.Length);
        var ip = frame.AsSpan(IpOutput.Headroom);
        pkt.CopyTo(ip);
        new Ipv4HeaderWriter(ip).DecrementTtl();
        if (ns.Netfilter.Run(NfHook.Forward, ip) == NfVerdict.Drop)
        {
            ns.Drops.Add(DropReason.NETFILTER_DROP, "ip/forward");
            return;
        }
        ns.Ip.Inc(IpMib.ForwDatagrams);
        var source = r.PrefSrc ?? ns.SelectSource(dev, r.NextHop);
        var rt = new OutputRoute(RouteType.Unicast, dev, r.NextHop, source, mtu);
        var fwd = IpOutput.NewSkb(frame, null, ActorStack.Actors.Sched.PfifoFast<object>.Tos2Priority(h.Tos)) with { TstampTicks = skb.TstampTicks, GsoSize = skb.GsoSize, GsoSegs = skb.GsoSegs };
        _out.Output(fwd, rt, nowTicks);
    }

    private void IcmpError(byte type, byte code, uint info, ReadOnlySpan<byte> pkt, int ifindex)
        => Refs.Icmp.Tell(new IcmpSendError(type, code, info, pkt.ToArray(), ifindex));

    public void Flush(IActorRef self) => _out.Flush(self);

    /// <summary>The neighbour actor handled a <see cref="NeighOutput"/> of this path (<see cref="IpOutput.NeighDone"/>).</summary>
    public void NeighDone(NeighOutputDone m) => _out.NeighDone(m);
}
