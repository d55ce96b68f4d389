using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Mailboxes;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Actors.Sockets;

/// <summary>
/// A datagram socket (UDP, or raw IPv4) as an actor (<c>udp_queue_rcv_skb</c>, <c>skb_recv_datagram</c>). Its mailbox
/// is the receive queue: datagrams are charged by truesize against
/// <c>sk_rcvbuf</c> when the protocol handler queues them and stay charged
/// until the application reads them, so a full queue drops at the sender
/// (<c>RcvbufErrors</c> for UDP, <c>sk_drops</c> for both) as
/// <c>__udp_enqueue_schedule_skb</c> does. Reads follow <c>recvmmsg</c>:
/// blocking reads wait for data (<c>sk_data_ready</c> answers them),
/// non-blocking ones fail with EAGAIN.
/// Sending: <c>sendto</c>/<c>send</c> build a datagram (<c>ip_append_data</c>,
/// corked with <c>MSG_MORE</c>/<c>UDP_CORK</c>), charge it to the send buffer
/// (<c>sk_wmem_alloc</c> against <c>sk_sndbuf</c>: a full buffer blocks the sender or
/// fails with EAGAIN) and hand it to the IPv4 output path in this actor, as a
/// process's <c>sendmsg</c> runs the stack in its own context; the charge comes back
/// with <see cref="WmemFree"/> when the device frees the buffer. ICMP errors about
/// what the socket sent set <c>sk_err</c> (reported by the next call) as
/// <c>__udp4_lib_err</c> decides. That send side, the options and <c>sk_err</c> are the plain
/// <see cref="DatagramSock"/>; this actor queues the send calls (blocked senders, autobind) and answers them.
/// Supervision: a socket's state is its queue; a failure stops the socket
/// (the host's policy for sockets, <c>HostChildPolicy</c>), and <see cref="PostStop"/> accounts every datagram it
/// still held — on its receive queue or still in its mailbox — as dropped (<c>SOCKET_CLOSE</c>), never silently.
/// On the virtual clock the application's calls cost simulated time (<see cref="AppTask"/>): a <c>recvmsg</c> is
/// answered <c>recvmsg</c> + copy ns after it starts, a <c>sendmsg</c> <c>sendmsg</c> + copy + <c>output</c> per packet,
/// and a call that arrives while the task is busy waits for it.
/// </summary>
public sealed class DatagramSocketActor : UntypedActor
{
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
    private readonly AppTask _app;

    /// <summary>Send calls one socket holds at most while they wait (threads blocked in <c>sendmsg</c>, or the autobind).</summary>
    public const int MaxWaitingSends = 1024;

    /// <summary>One <c>sendmsg</c>/<c>sendmmsg</c> call in progress: its datagrams, how far it got.</summary>
    private sealed class SendOp(object command, IActorRef caller, ImmutableArray<SendTo> items)
    {
        public object Command { get; } = command;
        public IActorRef Caller { get; } = caller;
        public ImmutableArray<SendTo> Items { get; } = items;
        public int Next, Bytes;
        /// <summary>What the call has cost so far (sendmsg and copy per datagram, output per packet).</summary>
        public long CostNs;
    }

    private readonly IpOutput _out;
    private readonly DatagramSock _sk;
    private readonly Queue<SendOp> _sends = new();
    private bool _autobinding;

    public DatagramSocketActor(NetNamespace ns, HostRefs refs, SockType type, byte protocol, IActorRef udp, IActorRef ip)
    {
        _ns = ns;
        _type = type;
        _protocol = protocol;
        _udp = udp;
        _ip = ip;
        _c = new SocketCounters(type, protocol) { RcvBuf = ns.Sysctl.RmemDefault, SndBuf = ns.Sysctl.WmemDefault };
        _out = new IpOutput(ns, refs);
        _sk = new DatagramSock(ns, type, protocol, _c, _out, Self);
        _app = new AppTask(Context.System, Self, ns.Settings.CpuCost);
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
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case SocketDeliver m: OnDeliver(m); break;
            case Recv r: if (!_app.Defer(r, Sender)) OnRecv(r); break;
            case SendTo m: if (!_app.Defer(m, Sender)) Submit(new SendOp(m, Sender, [m])); break;
            case WmemFree m: OnWmemFree(m); break;
            case SendMany m: OnSendMany(m); break;
            case NeighOutputDone m: _out.NeighDone(m); break;
            case IcmpErrorReceived m: OnIcmpError(m); break;
            case Bind m: OnBind(m); break;
            case Connect m: OnConnect(m); break;
            case UdpBindResult m: OnBindResult(m); break;
            case SetReceiveBuffer m: OnSetRcvBuf(m); break;
            case GetSocketInfo: Sender.Tell(_c.Snapshot()); break;
            case CrashSocket: throw new SocketFaultException($"{_site}: injected socket fault");
            case SetSocketOption m: OnSetOption(m); break;
            case GetSocketOption m: OnGetOption(m); break;
            case Close: OnClose(); break;
            default: Unhandled(message); break;
        }
    }

    private void OnSendMany(SendMany m)
    {
        if (_app.Defer(m, Sender)) return;
        if (m.Messages.IsEmpty) { _app.Answer(Sender, new SentMany(0), _app.Cpu.SendCost(1, 0, 0)); return; }
        Submit(new SendOp(m, Sender, m.Messages));
    }

    private void OnClose()
    {
        // Leave the lookup table before answering, so the port is free when close() returns.
        if (_type == SockType.Dgram)
        {
            _udp.Tell(new UdpUnbind(Self, Ack: true));
            Sender.Tell(new SocketOk(Close.Instance));
        }
        else
        {
            // raw_close → sk_common_release: the socket leaves the raw table before close() returns, so nothing is
            // delivered to it afterwards. The answer waits for the IPv4 actor's acknowledgement (Closing).
            _ip.Tell(new RawUnregister(Self, Ack: true));
            _closer = Sender;
        }
        Become(Closing);
    }

    /// <summary>Who closed a raw socket: answered when the IPv4 actor has unhashed it (<see cref="RawUnregister"/>).</summary>
    private IActorRef? _closer;

    /// <summary>A raw socket is out of the raw table (its close's unhash was acknowledged): PostStop need not unhash again.</summary>
    private bool _unhashed;

    /// <summary>
    /// A closed socket until its protocol handler confirms the unhash. <c>udp_lib_close</c> / <c>raw_close</c> →
    /// <c>sk_common_release</c> unhashes the socket first; a datagram that the UDP layer (<c>__udp4_lib_rcv</c>) or
    /// <c>raw_v4_input</c> matched to it before, on another CPU, is still queued to it and freed with it
    /// (<c>udp_destruct_common</c>, <c>inet_sock_destruct</c>: SOCKET_CLOSE). Here such a datagram is a
    /// <see cref="SocketDeliver"/> the UDP or IPv4 actor sent before it handled the unbind: stopping at once would send it
    /// to dead letters, lost without a count (found by schedule exploration: Engine/Traces/udp-close-*.trace). The
    /// confirmation comes after every such delivery (one sender to one receiver stays in order); then PostStop frees them.
    /// A raw socket's close is answered at the confirmation (it returns after the unhash); a UDP socket's was answered
    /// when it sent the unbind.
    /// </summary>
    private void Closing(object message)
    {
        switch (message)
        {
            case SocketDeliver m:
                for (int i = 0; i < m.Items.Length; i++) _rx.Enqueue((m.Items[i], m.Truesizes[i]));
                break;
            case UdpUnbind: Context.Stop(Self); break;
            case RawUnregister:
                _unhashed = true;
                _closer?.Tell(new SocketOk(Close.Instance));
                _closer = null;
                Context.Stop(Self);
                break;
            case WmemFree m: OnWmemFree(m); break;
            case NeighOutputDone or IcmpErrorReceived or UdpBindResult: break;
            case GetSocketInfo: Sender.Tell(_c.Snapshot()); break;
            default: Sender.Tell(new CommandFailed(message, Errno.EBADF)); break;
        }
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
            Serve(reader, req.MaxDatagrams);
        }
    }

    /// <summary>A read that finds data: taken now (the charge leaves <c>sk_rmem_alloc</c> at dequeue, as
    /// <c>__skb_recv_udp</c> releases it), answered when the call's <c>recvmsg</c> and copy have run.</summary>
    private void Serve(IActorRef reader, int max)
    {
        var r = Take(max, out long bytes);
        _app.Answer(reader, r, _app.Cpu.RecvCost(r.Datagrams.Length, bytes));
    }

    private void FailRecv(IActorRef reader, Recv r, Errno err) => _app.Answer(reader, new CommandFailed(r, err), _app.Cpu.RecvCost(0, 0));

    private void OnRecv(Recv r)
    {
        if (r.MaxDatagrams < 1) { FailRecv(Sender, r, Errno.EINVAL); return; }
        if (_sk.TakeError() is { } err) { FailRecv(Sender, r, err); return; }
        if (_rx.Count > 0) { Serve(Sender, r.MaxDatagrams); return; }
        if (r.NonBlocking || _readers.Count >= MaxWaitingReaders) { FailRecv(Sender, r, Errno.EAGAIN); return; }
        _readers.Enqueue((Sender, r));
    }

    /// <summary><c>skb_recv_datagram</c> + copy-out: each read takes one buffer and releases its charge.</summary>
    private Received Take(int max, out long bytes)
    {
        int n = Math.Min(max, _rx.Count);
        var b = ImmutableArray.CreateBuilder<Datagram>(n);
        long charge = 0;
        bytes = 0;
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
        if (_pending is not null) { Sender.Tell(new CommandFailed(b, Errno.EAGAIN)); return; }
        if (_type == SockType.Raw)
        {
            if (!b.Address.IsAny && !_ns.IsLocalAddress(b.Address)) { Sender.Tell(new CommandFailed(b, Errno.EADDRNOTAVAIL)); return; }
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
        if (_pending is not null) { Sender.Tell(new CommandFailed(c, Errno.EAGAIN)); return; }
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
        if (_autobinding)
        {
            // inet_autobind for a send: the waiting sends go on (or fail with the bind's error).
            _autobinding = false;
            if (r.Error == Errno.OK)
            {
                _c.LocalAddress = r.LocalAddress;
                _c.LocalPort = r.LocalPort;
                PumpSends();
            }
            else
            {
                foreach (var op in _sends) FailSend(op, r.Error);
                _sends.Clear();
            }
            return;
        }
        if (_pending is not { } p) return;
        _pending = null;
        if (r.Error != Errno.OK) { p.Caller.Tell(new CommandFailed(p.Command, r.Error)); return; }
        _c.LocalAddress = r.LocalAddress;
        _c.LocalPort = r.LocalPort;
        _c.RemoteAddress = r.RemoteAddress;
        _c.RemotePort = r.RemotePort;
        p.Caller.Tell(new SocketOk(p.Command));
    }

    /// <summary><c>SO_RCVBUF</c> (<see cref="DatagramSock.SetRcvBuf"/>): the mailbox's limit follows it.</summary>
    private void OnSetRcvBuf(SetReceiveBuffer s)
    {
        if (_sk.SetRcvBuf(s.Bytes, out int rcvbuf) is var err and not Errno.OK) { Sender.Tell(new CommandFailed(s, err)); return; }
        if (_queue is not null) _queue.Limit = rcvbuf;
        Sender.Tell(new SocketOk(s));
    }

    // ---------------------------------------------------------------- sending

    private void Submit(SendOp op)
    {
        bool dontWait = (op.Items[0].Flags & MsgFlags.DontWait) != 0;
        if (_sends.Count > 0 && dontWait && !_autobinding) { FailSend(op, Errno.EAGAIN); return; }
        if (_sends.Count >= MaxWaitingSends) { FailSend(op, Errno.ENOBUFS); return; }
        _sends.Enqueue(op);
        PumpSends();
    }

    /// <summary>Runs the waiting send calls in order until one must wait (autobind, or a full send buffer).</summary>
    private void PumpSends()
    {
        long now = Now; // the clock read once per send call rather than per datagram
        while (_sends.TryPeek(out var op))
        {
            if (_type == SockType.Dgram && _c.LocalPort == 0)
            {
                if (!_autobinding && _pending is null)
                {
                    _autobinding = true;
                    _udp.Tell(new UdpBind(Self, Ipv4Address.Any, 0));
                }
                break;
            }
            bool blocked = false;
            while (op.Next < op.Items.Length)
            {
                var item = op.Items[op.Next];
                long tx = _out.Transmits;
                var err = _sk.SendMsg(item, now, out bool wouldBlock);
                // udp_sendmsg ran (copy included) and ip_output → dev_queue_xmit for each packet it sent; a sender
                // that must wait for sk_sndbuf sleeps in sock_alloc_send_pskb and is charged when it goes on.
                if (!wouldBlock) op.CostNs += _app.Cpu.SendCost(1, item.Payload.Length, _out.Transmits - tx);
                if (wouldBlock)
                {
                    if ((item.Flags & MsgFlags.DontWait) == 0) { blocked = true; break; }
                    err = Errno.EAGAIN;
                }
                if (err != Errno.OK)
                {
                    _sends.Dequeue();
                    _replies.Add((op.Caller, op.Next == 0 ? new CommandFailed(op.Command, err) : new SentMany(op.Next),
                        Math.Max(op.CostNs, _app.Cpu.SendCost(1, 0, 0))));
                    op = null;
                    break;
                }
                op.Bytes += item.Payload.Length;
                op.Next++;
            }
            if (blocked) break;
            if (op is null) continue;
            _sends.Dequeue();
            _replies.Add((op.Caller, op.Command is SendMany ? new SentMany(op.Next) : new Sent(op.Bytes), op.CostNs));
        }
        _sk.PublishSendCounters();
        _out.Flush(Self);
        // The calls return after their datagrams were handed on and counted, as sendmsg returns after ip_send_skb.
        // On the virtual clock each answer comes when its call's cost has run (AppTask), in order.
        foreach (var (caller, reply, cost) in _replies) _app.Answer(caller, reply, cost);
        _replies.Clear();
    }

    private readonly List<(IActorRef Caller, object Reply, long CostNs)> _replies = new();

    private static void Fail(SendOp op, Errno err) => op.Caller.Tell(new CommandFailed(op.Command, err));

    /// <summary>A send call that fails before it sent anything still ran <c>sendmsg</c> (at least one).</summary>
    private void FailSend(SendOp op, Errno err) =>
        _app.Answer(op.Caller, new CommandFailed(op.Command, err), Math.Max(op.CostNs, _app.Cpu.SendCost(1, 0, 0)));

    private long Now => Context.System.Scheduler.Now.UtcTicks;

    /// <summary><c>sock_wfree</c>: buffers left the host (or were dropped); blocked senders go on.</summary>
    private void OnWmemFree(WmemFree m)
    {
        _sk.WmemFree(m.Truesize, m.Dropped);
        if (_sends.Count > 0) PumpSends();
    }

    /// <summary><c>__udp4_lib_err</c>, then <c>sk_error_report</c>: the first blocked reader wakes with the error.</summary>
    private void OnIcmpError(IcmpErrorReceived e)
    {
        if (!_sk.Err(e)) return;
        if (_readers.Count > 0 && _sk.TakeError() is { } pending)
        {
            var (reader, req) = _readers.Dequeue();
            FailRecv(reader, req, pending);
        }
    }

    private void OnSetOption(SetSocketOption o)
    {
        var err = _sk.SetSockOpt(o.Option, o.Value, Now, out bool sent);
        if (sent) _out.Flush(Self);
        Sender.Tell(err == Errno.OK ? new SocketOk(o) : new CommandFailed(o, err));
        if (err == Errno.OK && o.Option == SockOpt.SoSndbuf && _sends.Count > 0) PumpSends();
    }

    private void OnGetOption(GetSocketOption o)
    {
        var err = _sk.GetSockOpt(o.Option, Now, out int v);
        Sender.Tell(err == Errno.OK ? new SocketOptionValue(o.Option, v) : new CommandFailed(o, err));
    }

    protected override void PostStop()
    {
        _sk.Close();
        foreach (var op in _sends) Fail(op, Errno.EBADF);
        _sends.Clear();
        if (_type == SockType.Dgram) _udp.Tell(new UdpUnbind(Self));
        else if (!_unhashed) _ip.Tell(new RawUnregister(Self));
        // A close still waiting for its unhash (the socket was stopped by its supervisor meanwhile) returns now.
        _closer?.Tell(new SocketOk(Close.Instance));
        // Whatever is still queued is freed with SOCKET_CLOSE: accounted, not lost silently.
        long charge = 0;
        int n = _rx.Count;
        foreach (var (_, t) in _rx) charge += t;
        _rx.Clear();
        // Deliveries still in the mailbox (the socket was stopped by its supervisor before it handled them) are on
        // the receive queue too, charged to sk_rmem_alloc: freed the same way. Other messages go on to dead letters.
        if (_queue is not null)
        {
            var rest = new List<Akka.Actor.Envelope>();
            while (_queue.TryDequeue(out var env))
            {
                if (env.Message is SocketDeliver d)
                {
                    n += d.Items.Length;
                    foreach (var t in d.Truesizes) charge += t;
                }
                else rest.Add(env);
            }
            foreach (var env in rest) _queue.Enqueue(Self, env);
        }
        _queue?.Uncharge(charge);
        if (n > 0) _ns.Drops.Add(DropReason.SOCKET_CLOSE, _site, n);
        foreach (var (reader, req) in _readers) reader.Tell(new CommandFailed(req, Errno.EBADF));
        _readers.Clear();
        _ns.Sockets.TryRemove(Self, out _);
    }

    public static Props Props(NetNamespace ns, HostRefs refs, SockType type, byte protocol, IActorRef udp, IActorRef ip)
        => FactoryProps.Of(() => new DatagramSocketActor(ns, refs, type, protocol, udp, ip)).WithMailbox("actorstack-socket-mailbox");
}
