using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Softnet;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Actors;

namespace ActorStack.Actors.Udp;

/// <summary>
/// The UDP protocol handler of one host (<c>udp_rcv</c> → <c>__udp4_lib_rcv</c>): length and checksum checks with Linux's counters, the socket lookup,
/// and the hand-off to each socket's receive queue, one message per socket per
/// batch. Owns the UDP socket table; sockets bind and connect through it. Runs inside the delivering CPU's softirq:
/// each batch is answered to that CPU's softnet actor (<see cref="ProtocolBatchDone"/>) with its cost
/// (<c>udp-rcv</c> per datagram, <c>sock-enqueue</c> per datagram queued to a socket). The sockets' mailboxes are
/// their receive queues (bounded by <c>sk_rcvbuf</c>), not waited for.
/// </summary>
public sealed class UdpActor : UntypedActor
{
    private readonly NetNamespace _ns;
    private HostRefs _refs;
    private readonly UdpTable _table;
    private readonly CpuCostSettings _cost;
    private readonly Dictionary<IActorRef, (ImmutableArray<Datagram>.Builder D, ImmutableArray<int>.Builder T)> _out = new(ActorRefComparer.Instance);
    private readonly IpOutput _route;

    public UdpActor(NetNamespace ns, HostRefs refs)
    {
        _refs = refs;
        _ns = ns;
        _route = new IpOutput(ns, refs);
        _table = new UdpTable(new Random(ns.SeedFor("udp_port")),
            a => ns.IsLocalAddress(a) || a.IsLimitedBroadcast,
            SourceFor);
        _cost = SoftirqWork.Costs(Context.System, ns);
    }

    // One switch instead of ReceiveActor's per-instance handler set (a UDP actor per host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case HostRefs r: (_refs, _route.Refs) = (r, r); break;
            case ProtocolDeliver m: OnDeliver(m); break;
            case UdpBind b: { Reply(b.Socket, _table.Bind(b.Socket, b.Address, b.Port, out var r), r); break; }
            case UdpConnect c: { Reply(c.Socket, _table.Connect(c.Socket, c.Address, c.Port, out var r), r); break; }
            case UdpUnbind u:
                _table.Remove(u.Socket);
                if (u.Ack) u.Socket.Tell(u, Self); // udp_lib_unhash done: no lookup finds the socket any more
                break;
            case IcmpErrorReceived m: OnIcmpError(m); break;
            default: Unhandled(message); break;
        }
    }

    /// <summary><c>ip_route_connect</c>: the source address of the route to <paramref name="peer"/>; null when there is no route.</summary>
    private Ipv4Address? SourceFor(Ipv4Address peer)
        => _route.Route(peer, Ipv4Address.Any, 0, Context.System.Scheduler.Now.UtcTicks, out var rt) == Errno.OK ? rt.Source : null;

    /// <summary>
    /// <c>__udp4_lib_err</c>: an ICMP error about a datagram this host sent. The quoted IP and UDP headers name
    /// the sending socket (its local address and port are the quoted source); it gets the error to judge.
    /// </summary>
    private void OnIcmpError(IcmpErrorReceived e)
    {
        var q = e.Offending.Span;
        if (!Ipv4Header.TryRead(q, out var h) || h.Protocol != IpProtocol.Udp || q.Length < h.HeaderLength + UdpHeader.Length) return;
        UdpHeader.TryRead(q[h.HeaderLength..], out var uh);
        var sock = _table.Lookup(h.Destination, uh.DestinationPort, h.Source, uh.SourcePort);
        // No socket: __udp4_lib_err counts ICMP InErrors (ERR_PTR(-ENOENT)) unless a UDP tunnel was ever set up on the
        // machine (udp_encap_needed_key, then __udp4_lib_err_encap finds nothing and nothing is counted); measured on 6.18
        // by the differential suite (icmp-port-unreachable-for-no-socket).
        if (sock is null) { _ns.Icmp.Inc(IcmpMib.InErrors); return; }
        sock.Socket.Tell(e, Self);
    }

    private void Reply(IActorRef socket, Errno err, UdpBinding? b)
        => socket.Tell(b is null
            ? new UdpBindResult(err, Ipv4Address.Any, 0, Ipv4Address.Any, 0)
            : new UdpBindResult(err, b.LocalAddress, b.LocalPort, b.RemoteAddress, b.RemotePort));

    private SoftirqWork.BatchHandler? _deliver; // the method group once, not a delegate per batch

    private void OnDeliver(ProtocolDeliver m) => SoftirqWork.Handle(_refs, m, Self, _deliver ??= Deliver);

    private void Deliver(ProtocolDeliver m, ref bool reported)
    {
        var mib = _ns.Udp;
        _queued = 0;
        foreach (var skb in m.Items)
        {
            var ip = skb.Data.Span.Slice(skb.NetworkOffset, skb.NetworkLength);
            var seg = skb.Data.Span.Slice(skb.TransportOffset, skb.NetworkOffset + skb.NetworkLength - skb.TransportOffset);
            if (!UdpHeader.TryRead(seg, out var uh)) { Drop(DropReason.PKT_TOO_SMALL); continue; }
            int ulen = uh.DatagramLength;
            if (ulen > seg.Length || ulen < UdpHeader.Length) { Drop(DropReason.PKT_TOO_SMALL); continue; }
            seg = seg[..ulen];
            Ipv4Header.TryRead(ip, out var iph); // ip_rcv_core checked the header before delivery
            var src = iph.Source;
            var dst = iph.Destination;
            if (!UdpHeader.ChecksumValid(seg, src, dst))
            {
                mib.Inc(UdpMib.InCsumErrors);
                Drop(DropReason.UDP_CSUM);
                continue;
            }
            var payload = skb.Data.Slice(skb.TransportOffset + UdpHeader.Length, ulen - UdpHeader.Length);
            var dgram = new Datagram(src, uh.SourcePort, payload, skb.TstampTicks);
            if (skb.PktType == PacketKind.Broadcast)
            {
                bool any = false;
                foreach (var b in _table.LookupBroadcast(src, uh.SourcePort, dst, uh.DestinationPort))
                {
                    Queue(b.Socket, any ? dgram with { Payload = payload.ToArray() } : dgram, skb.Truesize);
                    any = true;
                }
                if (!any) mib.Inc(UdpMib.IgnoredMulti);
                continue;
            }
            var sock = _table.Lookup(src, uh.SourcePort, dst, uh.DestinationPort);
            if (sock is null)
            {
                // No socket: NoPorts, and ICMP port unreachable to the sender (icmp_send rate-limits it).
                mib.Inc(UdpMib.NoPorts);
                _ns.Drops.Add(DropReason.NO_SOCKET, "udp", skb);
                if (skb.PktType == PacketKind.Host)
                    _refs.Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, ip.ToArray(), skb.Ifindex), Self);
                continue;
            }
            Queue(sock.Socket, dgram, skb.Truesize);
        }
        // __udp4_lib_rcv per datagram, __udp_enqueue_schedule_skb + sk_data_ready per datagram queued.
        SoftirqWork.Done(_refs, m.Cpu, _cost.UdpRcvNs * m.Items.Length + _cost.SockEnqueueNs * _queued, 0, Self);
        reported = true;
        List<IActorRef>? gone = null;
        foreach (var (socket, (d, t)) in _out)
        {
            if (d.Count == 0) continue;
            if (SocketGone(socket))
            {
                // The socket's actor has stopped (its supervisor stopped it after a fault) and its unbind has not reached
                // this actor yet: what would go to dead letters is freed here, as the socket frees what it still held
                // (SOCKET_CLOSE), and the socket leaves the table at once (udp_lib_unhash).
                _ns.Drops.Add(DropReason.SOCKET_CLOSE, "udp/sock", d.Count);
                (gone ??= []).Add(socket);
            }
            else socket.Tell(new SocketDeliver(d.ToImmutable(), t.ToImmutable()), Self);
            d.Clear();
            t.Clear();
        }
        if (gone is not null)
            foreach (var socket in gone)
            {
                _table.Remove(socket);
                _out.Remove(socket);
            }
        // The builders are kept for the next batch (most batches go to the same few sockets); bounded.
        if (_out.Count > MaxKeptBuilders) _out.Clear();

        void Drop(DropReason reason)
        {
            mib.Inc(UdpMib.InErrors);
            _ns.Drops.Add(reason, "udp");
        }
    }

    /// <summary>
    /// Whether a socket's actor has terminated: its mailbox is closed, so a Tell would go to dead letters uncounted. A
    /// socket that is still stopping (its stop decided, PostStop not run) still takes deliveries and frees them itself.
    /// </summary>
    private static bool SocketGone(IActorRef socket) => socket is ActorRefWithCell { Underlying.IsTerminated: true };

    /// <summary>Sockets whose per-batch builders are kept between batches.</summary>
    private const int MaxKeptBuilders = 64;

    private void Queue(IActorRef socket, Datagram d, int truesize)
    {
        if (!_out.TryGetValue(socket, out var q))
            _out[socket] = q = (ImmutableArray.CreateBuilder<Datagram>(), ImmutableArray.CreateBuilder<int>());
        q.D.Add(d);
        q.T.Add(truesize);
        _queued++;
    }

    private int _queued; // datagrams queued to sockets by the batch in hand

    public static Props Props(NetNamespace ns, HostRefs refs)
        => FactoryProps.Of(() => new UdpActor(ns, refs));
}
