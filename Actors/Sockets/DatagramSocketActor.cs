using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Mailboxes;
using ActorStack.Actors.Net;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Sockets;

/// <summary>
/// A datagram socket (UDP, or raw IPv4) as an actor (S19, S21). Its mailbox
/// is the receive queue: datagrams are charged by truesize against
/// <c>sk_rcvbuf</c> when the protocol handler queues them and stay charged
/// until the application reads them, so a full queue drops at the sender
/// (<c>RcvbufErrors</c> for UDP, <c>sk_drops</c> for both) as
/// <c>__udp_enqueue_schedule_skb</c> does. Reads follow <c>recvmmsg</c>:
/// blocking reads wait for data (<c>sk_data_ready</c> answers them),
/// non-blocking ones fail with EAGAIN.
/// Supervision: a socket's state is its queue; a failure stops the socket
/// (the default for sockets), and <see cref="PostStop"/> accounts every datagram it
/// still held as dropped (<c>SOCKET_CLOSE</c>), never silently.
/// </summary>
public sealed class DatagramSocketActor : ReceiveActor
{
    /// <summary><c>SOCK_MIN_RCVBUF</c>: 2048 bytes plus one <c>sk_buff</c>.</summary>
    public const int SockMinRcvbuf = 2048 + 256;
    /// <summary>Blocked readers one socket holds at most (threads blocked in <c>recvmsg</c>).</summary>
    public const int MaxWaitingReaders = 1024;

    private readonly NetNamespace _ns;
    private readonly SockType _type;
    private readonly byte _protocol;
    private readonly IActorRef _udp;
    private readonly IActorRef _ip;
    private readonly ChargedMessageQueue? _queue;
    private readonly SocketCounters _c;
    private readonly Queue<(Datagram D, int Truesize)> _rx = new();
    private readonly Queue<(IActorRef Reader, Recv Request)> _readers = new();
    private (object Command, IActorRef Caller)? _pending;
    private readonly string _site;

    public DatagramSocketActor(NetNamespace ns, SockType type, byte protocol, IActorRef udp, IActorRef ip)
    {
        _ns = ns;
        _type = type;
        _protocol = protocol;
        _udp = udp;
        _ip = ip;
        _c = new SocketCounters(type, protocol) { RcvBuf = ns.Sysctl.RmemDefault };
        _site = type == SockType.Dgram ? "udp/sock" : "raw/sock";
        _queue = ChargedMessageQueue.Of(Context);
        if (_queue is not null)
        {
            _queue.Limit = _c.RcvBuf;
            _c.Queue = _queue;
            var udpMib = ns.Udp;
            var counters = _c;
            var site = ns.Drops.Counter(DropReason.SOCKET_RCVBUFF, _site);
            bool isUdp = type == SockType.Dgram;
            _queue.OnDrop = (dropped, _) =>
            {
                Interlocked.Add(ref counters.Drops, dropped.Count);
                site.Add(dropped.Count);
                if (isUdp)
                {
                    udpMib.Add(UdpMib.RcvbufErrors, dropped.Count);
                    udpMib.Add(UdpMib.InErrors, dropped.Count);
                }
            };
        }
        ns.Sockets[Self] = _c;

        Receive<SocketDeliver>(OnDeliver);
        Receive<Recv>(OnRecv);
        Receive<Bind>(OnBind);
        Receive<Connect>(OnConnect);
        Receive<UdpBindResult>(OnBindResult);
        Receive<SetReceiveBuffer>(OnSetRcvBuf);
        Receive<GetSocketInfo>(_ => Sender.Tell(_c.Snapshot()));
        Receive<Close>(_ =>
        {
            // Leave the lookup table before answering, so the port is free when close() returns.
            if (_type == SockType.Dgram) _udp.Tell(new UdpUnbind(Self));
            else _ip.Tell(new RawUnregister(Self));
            Sender.Tell(new SocketOk(Close.Instance));
            Context.Stop(Self);
        });
    }

    protected override void PreStart()
    {
        if (_type == SockType.Raw) RegisterRaw();
    }

    private void RegisterRaw() => _ip.Tell(new RawRegister(Self, _protocol, _c.LocalAddress, _c.RemoteAddress));

    private void OnDeliver(SocketDeliver m)
    {
        for (int i = 0; i < m.Items.Length; i++) _rx.Enqueue((m.Items[i], m.Truesizes[i]));
        Volatile.Write(ref _c.QueuedDatagrams, _rx.Count);
        // sk_data_ready: wake blocked readers in the order they blocked.
        while (_rx.Count > 0 && _readers.Count > 0)
        {
            var (reader, req) = _readers.Dequeue();
            reader.Tell(Take(req.MaxDatagrams));
        }
    }

    private void OnRecv(Recv r)
    {
        if (r.MaxDatagrams < 1) { Sender.Tell(new SocketFailed(r, Errno.EINVAL)); return; }
        if (_rx.Count > 0) { Sender.Tell(Take(r.MaxDatagrams)); return; }
        if (r.NonBlocking || _readers.Count >= MaxWaitingReaders) { Sender.Tell(new SocketFailed(r, Errno.EAGAIN)); return; }
        _readers.Enqueue((Sender, r));
    }

    /// <summary><c>skb_recv_datagram</c> + copy-out: each read takes one buffer and releases its charge.</summary>
    private Received Take(int max)
    {
        int n = Math.Min(max, _rx.Count);
        var b = ImmutableArray.CreateBuilder<Datagram>(n);
        long charge = 0, bytes = 0;
        for (int i = 0; i < n; i++)
        {
            var (d, truesize) = _rx.Dequeue();
            b.Add(d);
            charge += truesize;
            bytes += d.Payload.Length;
        }
        _queue?.Uncharge(charge);
        Volatile.Write(ref _c.QueuedDatagrams, _rx.Count);
        Interlocked.Add(ref _c.DatagramsRead, n);
        Interlocked.Add(ref _c.BytesRead, bytes);
        if (_type == SockType.Dgram) _ns.Udp.Add(UdpMib.InDatagrams, n); // counted at recvmsg, as Linux does
        return new Received(b.MoveToImmutable());
    }

    private void OnBind(Bind b)
    {
        if (_pending is not null) { Sender.Tell(new SocketFailed(b, Errno.EAGAIN)); return; }
        if (_type == SockType.Raw)
        {
            if (!b.Address.IsAny && !_ns.IsLocalAddress(b.Address)) { Sender.Tell(new SocketFailed(b, Errno.EADDRNOTAVAIL)); return; }
            _c.LocalAddress = b.Address;
            RegisterRaw();
            Sender.Tell(new SocketOk(b));
            return;
        }
        _pending = (b, Sender);
        _udp.Tell(new UdpBind(Self, b.Address, b.Port));
    }

    private void OnConnect(Connect c)
    {
        if (_pending is not null) { Sender.Tell(new SocketFailed(c, Errno.EAGAIN)); return; }
        if (_type == SockType.Raw)
        {
            _c.RemoteAddress = c.Address;
            RegisterRaw();
            Sender.Tell(new SocketOk(c));
            return;
        }
        _pending = (c, Sender);
        _udp.Tell(new UdpConnect(Self, c.Address, c.Port));
    }

    private void OnBindResult(UdpBindResult r)
    {
        if (_pending is not { } p) return;
        _pending = null;
        if (r.Error != Errno.OK) { p.Caller.Tell(new SocketFailed(p.Command, r.Error)); return; }
        _c.LocalAddress = r.LocalAddress;
        _c.LocalPort = r.LocalPort;
        _c.RemoteAddress = r.RemoteAddress;
        _c.RemotePort = r.RemotePort;
        p.Caller.Tell(new SocketOk(p.Command));
    }

    /// <summary><c>SO_RCVBUF</c>: doubled for bookkeeping overhead, capped at <c>rmem_max</c>.</summary>
    private void OnSetRcvBuf(SetReceiveBuffer s)
    {
        if (s.Bytes < 0) { Sender.Tell(new SocketFailed(s, Errno.EINVAL)); return; }
        int val = Math.Min(s.Bytes, _ns.Sysctl.RmemMax);
        int rcvbuf = Math.Max(val * 2, SockMinRcvbuf);
        Volatile.Write(ref _c.RcvBuf, rcvbuf);
        if (_queue is not null) _queue.Limit = rcvbuf;
        Sender.Tell(new SocketOk(s));
    }

    protected override void PostStop()
    {
        if (_type == SockType.Dgram) _udp.Tell(new UdpUnbind(Self));
        else _ip.Tell(new RawUnregister(Self));
        // Whatever is still queued is freed with SOCKET_CLOSE: accounted, not lost silently.
        long charge = 0;
        int n = _rx.Count;
        foreach (var (_, t) in _rx) charge += t;
        _rx.Clear();
        _queue?.Uncharge(charge);
        if (n > 0) _ns.Drops.Add(DropReason.SOCKET_CLOSE, _site, n);
        foreach (var (reader, req) in _readers) reader.Tell(new SocketFailed(req, Errno.EBADF));
        _readers.Clear();
        _ns.Sockets.TryRemove(Self, out _);
    }

    public static Props Props(NetNamespace ns, SockType type, byte protocol, IActorRef udp, IActorRef ip)
        => Akka.Actor.Props.Create(() => new DatagramSocketActor(ns, type, protocol, udp, ip)).WithMailbox("actorstack-socket-mailbox");
}
