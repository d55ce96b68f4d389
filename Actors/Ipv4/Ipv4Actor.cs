using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Mailboxes;
using ActorStack.Actors.Net;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Ipv4;

/// <summary>
/// The IPv4 protocol handler (<c>ip_packet_type</c> in <c>ptype_base</c>) of one
/// host: <c>ip_rcv</c> → <c>ip_rcv_finish</c> → <c>ip_local_deliver</c> →
/// <c>ip_protocol_deliver_rcu</c> (S15–S17). Raw sockets of the protocol get a
/// copy; UDP goes to the UDP handler; a protocol nobody handles is counted in
/// <c>InUnknownProtos</c>. Owns the raw socket table. Its mailbox is bounded:
/// a full one means the delivering CPU's softirq fell behind (its <c>dropped</c>).
/// </summary>
public sealed class Ipv4Actor : ReceiveActor
{
    private readonly NetNamespace _ns;
    private readonly IpRcv _rcv;
    private readonly IActorRef _udp;
    private readonly List<RawRegister> _raw = new();
    private readonly ChargedMessageQueue? _queue;

    public Ipv4Actor(NetNamespace ns, Netfilter netfilter, IActorRef udp)
    {
        _ns = ns;
        _rcv = new IpRcv(ns, netfilter);
        _udp = udp;
        _queue = ProtocolMailbox.Configure(Context, ns, "ip");

        Receive<ProtocolDeliver>(OnDeliver);
        Receive<RawRegister>(r => { _raw.RemoveAll(x => x.Socket.Equals(r.Socket)); _raw.Add(r); });
        Receive<RawUnregister>(r => _raw.RemoveAll(x => x.Socket.Equals(r.Socket)));
    }

    private void OnDeliver(ProtocolDeliver m)
    {
        _queue?.Uncharge(m.Count);
        ImmutableArray<SkBuff>.Builder? udp = null;
        foreach (var item in m.Items)
        {
            var skb = item;
            if (_rcv.Receive(ref skb, out var reason) == IpRcvVerdict.Drop)
            {
                _ns.Drops.Add(reason, "ip");
                continue;
            }
            var pkt = skb.Data.Span.Slice(skb.NetworkOffset, skb.NetworkLength);
            Ipv4Header.TryRead(pkt, out var h);
            if (h.IsFragment)
            {
                // ip_defrag is not modelled yet: the fragment cannot be reassembled.
                _ns.Ip.Inc(IpMib.ReasmReqds);
                _ns.Ip.Inc(IpMib.ReasmFails);
                _ns.Drops.Add(DropReason.NOT_SPECIFIED, "ip/defrag");
                continue;
            }
            bool raw = RawLocalDeliver(skb, h.Protocol, h.Source, h.Destination);
            if (h.Protocol == IpProtocol.Udp)
            {
                (udp ??= ImmutableArray.CreateBuilder<SkBuff>()).Add(skb);
                _ns.Ip.Inc(IpMib.InDelivers);
            }
            else if (raw)
            {
                _ns.Ip.Inc(IpMib.InDelivers);
            }
            else
            {
                _ns.Ip.Inc(IpMib.InUnknownProtos);
                _ns.Drops.Add(DropReason.IP_NOPROTO, "ip");
            }
        }
        if (udp is not null) _udp.Tell(new ProtocolDeliver(udp.ToImmutable(), m.Cpu), Self);
    }

    /// <summary><c>raw_local_deliver</c>: every raw socket of the protocol whose addresses match gets its own copy.</summary>
    private bool RawLocalDeliver(in SkBuff skb, byte protocol, Ipv4Address src, Ipv4Address dst)
    {
        bool any = false;
        foreach (var r in _raw)
        {
            if (r.Protocol != protocol && r.Protocol != IpProtocol.Raw) continue;
            if (!r.LocalAddress.IsAny && r.LocalAddress != dst) continue;
            if (!r.RemoteAddress.IsAny && r.RemoteAddress != src) continue;
            var copy = skb.Data.Slice(skb.NetworkOffset, skb.NetworkLength).ToArray();
            r.Socket.Tell(new SocketDeliver(ImmutableArray.Create(new Datagram(src, 0, copy, skb.TstampTicks)),
                ImmutableArray.Create(SkBuff.TruesizeFor(copy.Length))), Self);
            any = true;
        }
        return any;
    }

    public static Props Props(NetNamespace ns, Netfilter netfilter, IActorRef udp)
        => Akka.Actor.Props.Create(() => new Ipv4Actor(ns, netfilter, udp)).WithMailbox(ProtocolMailbox.Id);
}

/// <summary>
/// The bounded mailbox of a protocol handler actor. In Linux the protocol code
/// runs inside the CPU's softirq, so there is no queue between the backlog and
/// <c>ip_rcv</c>; here there is a mailbox, bounded at <c>netdev_max_backlog</c>
/// per CPU, and what it cannot take is counted as the sending CPU's backlog drop.
/// </summary>
public static class ProtocolMailbox
{
    public const string Id = "actorstack-backlog-mailbox";

    public static ChargedMessageQueue? Configure(IActorContext context, NetNamespace ns, string layer)
    {
        var q = ChargedMessageQueue.Of(context);
        if (q is null) return null;
        q.Limit = (long)ns.Sysctl.NetdevMaxBacklog * ns.Settings.Cpus;
        var sites = ns.Softnet.Select(sd => ns.Drops.Counter(DropReason.CPU_BACKLOG, $"cpu{sd.Cpu}/{layer}")).ToArray();
        q.OnDrop = dropped =>
        {
            int cpu = dropped is ProtocolDeliver pd ? pd.Cpu : 0;
            Interlocked.Add(ref ns.Softnet[cpu].Dropped, dropped.Count);
            sites[cpu].Add(dropped.Count);
        };
        return q;
    }
}
