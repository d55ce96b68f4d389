using System.Collections.Immutable;
using System.Buffers.Binary;
using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Mailboxes;
using ActorStack.Actors.Net;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Udp;

/// <summary>
/// The UDP protocol handler of one host (<c>udp_rcv</c> → <c>__udp4_lib_rcv</c>,
/// S19): length and checksum checks with Linux's counters, the socket lookup,
/// and the hand-off to each socket's receive queue, one message per socket per
/// batch. Owns the UDP socket table; sockets bind and connect through it.
/// </summary>
public sealed class UdpActor : ReceiveActor
{
    private readonly NetNamespace _ns;
    private readonly UdpTable _table;
    private readonly ChargedMessageQueue? _queue;
    private readonly Dictionary<IActorRef, (ImmutableArray<Datagram>.Builder D, ImmutableArray<int>.Builder T)> _out = new();

    public UdpActor(NetNamespace ns)
    {
        _ns = ns;
        _table = new UdpTable(new Random(ns.SeedFor("udp_port")),
            a => ns.IsLocalAddress(a) || a.IsLimitedBroadcast,
            SourceFor);
        _queue = ProtocolMailbox.Configure(Context, ns, "udp");

        Receive<ProtocolDeliver>(OnDeliver);
        Receive<UdpBind>(b => Reply(b.Socket, _table.Bind(b.Socket, b.Address, b.Port, out var r), r));
        Receive<UdpConnect>(c => Reply(c.Socket, _table.Connect(c.Socket, c.Address, c.Port, out var r), r));
        Receive<UdpUnbind>(u => _table.Remove(u.Socket));
    }

    /// <summary>Source address for a peer: the address of the device whose subnet holds it, else the first one (until routing lands).</summary>
    private Ipv4Address? SourceFor(Ipv4Address peer)
    {
        if (peer.IsLoopback) return Ipv4Address.Loopback;
        Ipv4Address? first = null;
        foreach (var d in _ns.Devices)
            foreach (var p in d.Settings.Addresses)
            {
                if (p.Contains(peer)) return p.Address;
                first ??= p.Address;
            }
        return first;
    }

    private void Reply(IActorRef socket, Errno err, UdpBinding? b)
        => socket.Tell(b is null
            ? new UdpBindResult(err, Ipv4Address.Any, 0, Ipv4Address.Any, 0)
            : new UdpBindResult(err, b.LocalAddress, b.LocalPort, b.RemoteAddress, b.RemotePort));

    private void OnDeliver(ProtocolDeliver m)
    {
        _queue?.Uncharge(m.Count);
        var mib = _ns.Udp;
        foreach (var skb in m.Items)
        {
            var ip = skb.Data.Span.Slice(skb.NetworkOffset, skb.NetworkLength);
            var seg = skb.Data.Span.Slice(skb.TransportOffset, skb.NetworkOffset + skb.NetworkLength - skb.TransportOffset);
            if (seg.Length < UdpHeader.Length) { Drop(DropReason.PKT_TOO_SMALL); continue; }
            int ulen = BinaryPrimitives.ReadUInt16BigEndian(seg[4..]);
            if (ulen > seg.Length || ulen < UdpHeader.Length) { Drop(DropReason.PKT_TOO_SMALL); continue; }
            seg = seg[..ulen];
            var src = Ipv4Address.Read(ip[12..]);
            var dst = Ipv4Address.Read(ip[16..]);
            if (!UdpHeader.ChecksumValid(seg, src, dst))
            {
                mib.Inc(UdpMib.InCsumErrors);
                Drop(DropReason.UDP_CSUM);
                continue;
            }
            UdpHeader.TryRead(seg, out var uh);
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
                // No socket: ICMP port unreachable is the transmit path's job (not modelled yet).
                mib.Inc(UdpMib.NoPorts);
                _ns.Drops.Add(DropReason.NO_SOCKET, "udp");
                continue;
            }
            Queue(sock.Socket, dgram, skb.Truesize);
        }
        foreach (var (socket, (d, t)) in _out)
            socket.Tell(new SocketDeliver(d.ToImmutable(), t.ToImmutable()), Self);
        _out.Clear();

        void Drop(DropReason reason)
        {
            mib.Inc(UdpMib.InErrors);
            _ns.Drops.Add(reason, "udp");
        }
    }

    private void Queue(IActorRef socket, Datagram d, int truesize)
    {
        if (!_out.TryGetValue(socket, out var q))
            _out[socket] = q = (ImmutableArray.CreateBuilder<Datagram>(), ImmutableArray.CreateBuilder<int>());
        q.D.Add(d);
        q.T.Add(truesize);
    }

    public static Props Props(NetNamespace ns)
        => Akka.Actor.Props.Create(() => new UdpActor(ns)).WithMailbox(ProtocolMailbox.Id);
}
