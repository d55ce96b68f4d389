using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Ipv4;
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
/// Sending (S22): <c>sendto</c>/<c>send</c> build a datagram (<c>ip_append_data</c>,
/// corked with <c>MSG_MORE</c>/<c>UDP_CORK</c>), charge it to the send buffer
/// (<c>sk_wmem_alloc</c> against <c>sk_sndbuf</c>: a full buffer blocks the sender or
/// fails with EAGAIN) and hand it to the IPv4 output path in this actor, as a
/// process's <c>sendmsg</c> runs the stack in its own context; the charge comes back
/// with <see cref="WmemFree"/> when the device frees the buffer. ICMP errors about
/// what the socket sent set <c>sk_err</c> (reported by the next call) as
/// <c>__udp4_lib_err</c> decides.
/// Supervision: a socket's state is its queue; a failure stops the socket
/// (the host's policy for sockets, <c>HostChildPolicy</c>), and <see cref="PostStop"/> accounts every datagram it
/// still held — on its receive queue or still in its mailbox — as dropped (<c>SOCKET_CLOSE</c>), never silently.
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

    /// <summary><c>SOCK_MIN_SNDBUF</c>: twice (2048 bytes + one <c>sk_buff</c>).</summary>
    public const int SockMinSndbuf = 2 * (2048 + 256);
    /// <summary>Send calls one socket holds at most while they wait (threads blocked in <c>sendmsg</c>, or the autobind).</summary>
    public const int MaxWaitingSends = 1024;

    /// <summary>One <c>sendmsg</c>/<c>sendmmsg</c> call in progress: its datagrams, how far it got.</summary>
    private sealed class SendOp(object command, IActorRef caller, ImmutableArray<SendTo> items)
    {
        public object Command { get; } = command;
        public IActorRef Caller { get; } = caller;
        public ImmutableArray<SendTo> Items { get; } = items;
        public int Next, Bytes;
    }

    private readonly IpOutput _out;
    private readonly IActorRef _self;
    private readonly UdpCork _cork = new();
    private readonly Queue<SendOp> _sends = new();
    private bool _autobinding;
    private Errno _skErr;
    private int _ttl = -1, _tos, _pmtudisc;
    private byte _priority;
    private bool _hdrincl, _broadcast, _recverr, _udpCork;

    public DatagramSocketActor(NetNamespace ns, HostRefs refs, SockType type, byte protocol, IActorRef udp, IActorRef ip)
    {
        _ns = ns;
        _type = type;
        _protocol = protocol;
        _udp = udp;
        _ip = ip;
        _c = new SocketCounters(type, protocol) { RcvBuf = ns.Sysctl.RmemDefault, SndBuf = ns.Sysctl.WmemDefault };
        _out = new IpOutput(ns, refs);
        _self = Self;
        _hdrincl = type == SockType.Raw && protocol == IpProtocol.Raw; // IPPROTO_RAW implies IP_HDRINCL
        _pmtudisc = ns.Sysctl.IpNoPmtuDisc != 0 ? 0 : 1;                 // IP_PMTUDISC_WANT unless ip_no_pmtu_disc
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
        Receive<CrashSocket>(_ => throw new SocketFaultException($"{_site}: injected socket fault"));
        Receive<SendTo>(m => Submit(new SendOp(m, Sender, [m])));
        Receive<SendMany>(m =>
        {
            if (m.Messages.IsEmpty) { Sender.Tell(new SentMany(0)); return; }
            Submit(new SendOp(m, Sender, m.Messages));
        });
        Receive<WmemFree>(OnWmemFree);
        Receive<IcmpErrorReceived>(OnIcmpError);
        Receive<SetSocketOption>(OnSetOption);
        Receive<GetSocketOption>(OnGetOption);
        Receive<Close>(_ =>
        {
            // Leave the lookup table before answering, so the port is free when close() returns.
            if (_type == SockType.Dgram) _udp.Tell(new UdpUnbind(Self));
            else _ip.Tell(new RawUnregister(Self));
            Sender.Tell(new SocketOk(Close.Instance));
            Context.Stop(Self);
        });
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
        if (TakeError() is { } err) { Sender.Tell(new SocketFailed(r, err)); return; }
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
                foreach (var op in _sends) Fail(op, r.Error);
                _sends.Clear();
            }
            return;
        }
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

    // ---------------------------------------------------------------- sending

    private void Submit(SendOp op)
    {
        bool dontWait = (op.Items[0].Flags & MsgFlags.DontWait) != 0;
        if (_sends.Count > 0 && dontWait && !_autobinding) { Fail(op, Errno.EAGAIN); return; }
        if (_sends.Count >= MaxWaitingSends) { Fail(op, Errno.ENOBUFS); return; }
        _sends.Enqueue(op);
        PumpSends();
    }

    /// <summary>Runs the waiting send calls in order until one must wait (autobind, or a full send buffer).</summary>
    private void PumpSends()
    {
        _sendNow = Now;
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
                var err = SendOne(item, out bool wouldBlock);
                if (wouldBlock)
                {
                    if ((item.Flags & MsgFlags.DontWait) == 0) { blocked = true; break; }
                    err = Errno.EAGAIN;
                }
                if (err != Errno.OK)
                {
                    _sends.Dequeue();
                    _replies.Add((op.Caller, op.Next == 0 ? new SocketFailed(op.Command, err) : new SentMany(op.Next)));
                    op = null;
                    break;
                }
                op.Bytes += item.Payload.Length;
                op.Next++;
            }
            if (blocked) break;
            if (op is null) continue;
            _sends.Dequeue();
            _replies.Add((op.Caller, op.Command is SendMany ? new SentMany(op.Next) : new Sent(op.Bytes)));
        }
        PublishSendCounters();
        _sendNow = 0;
        _out.Flush(Self);
        // The calls return after their datagrams were handed on and counted, as sendmsg returns after ip_send_skb.
        foreach (var (caller, reply) in _replies) caller.Tell(reply);
        _replies.Clear();
    }

    private readonly List<(IActorRef Caller, object Reply)> _replies = new();

    private static void Fail(SendOp op, Errno err) => op.Caller.Tell(new SocketFailed(op.Command, err));

    /// <summary><c>sock_error</c>: the pending error, cleared as it is reported.</summary>
    private Errno? TakeError()
    {
        if (_skErr == Errno.OK) return null;
        var e = _skErr;
        SetError(Errno.OK);
        return e;
    }

    private void SetError(Errno e)
    {
        _skErr = e;
        Volatile.Write(ref _c.PendingError, (int)e);
    }

    private bool Connected => !_c.RemoteAddress.IsAny;

    /// <summary>
    /// One <c>udp_sendmsg</c> / <c>raw_sendmsg</c>. <paramref name="wouldBlock"/>: the send buffer is full
    /// (<c>sock_alloc_send_skb</c> would sleep); nothing was done.
    /// </summary>
    private Errno SendOne(SendTo m, out bool wouldBlock)
    {
        wouldBlock = false;
        if (TakeError() is { } err) return err;
        return _type == SockType.Dgram ? UdpSend(m, out wouldBlock) : RawSend(m, out wouldBlock);
    }

    private Errno UdpSend(SendTo m, out bool wouldBlock)
    {
        wouldBlock = false;
        bool more = (m.Flags & MsgFlags.More) != 0 || _udpCork;
        if (!_cork.Active)
        {
            Ipv4Address dst;
            ushort port;
            if (m.Address is { } a)
            {
                if (m.Port == 0) return Errno.EINVAL;
                (dst, port) = (a, m.Port);
            }
            else if (Connected) (dst, port) = (_c.RemoteAddress, _c.RemotePort);
            else return Errno.EDESTADDRREQ;
            if (m.Payload.Length > DatagramBuilder.MaxUdpPayload) return Errno.EMSGSIZE;
            if (!more)
            {
                if (Full) { wouldBlock = true; return Errno.OK; }
                return PushUdp(dst, port, null, m.Payload, m.Payload.Length);
            }
            _cork.Start(dst, port);
        }
        // ip_append_data onto the pending datagram; the destination stays the first send's.
        if (_cork.Length + m.Payload.Length > DatagramBuilder.MaxUdpPayload)
        {
            _cork.Clear();
            return Errno.EMSGSIZE;
        }
        if (Full) { wouldBlock = true; return Errno.OK; }
        _cork.Append(m.Payload);
        if (more) return Errno.OK;
        return PushPending();
    }

    /// <summary><c>udp_push_pending_frames</c>.</summary>
    private Errno PushPending()
    {
        var (dst, port, parts, len) = (_cork.Destination, _cork.Port, _cork.Parts.ToArray(), _cork.Length);
        _cork.Clear();
        return PushUdp(dst, port, parts, default, len);
    }

    private bool Full => _wmemAlloc >= Volatile.Read(ref _c.SndBuf);

    // sk_wmem_alloc and the send counters are changed only by this actor; they are published to the shared
    // SocketCounters (ss, snapshots) and the Udp MIB once per message handler (PublishSendCounters), not per datagram.
    private long _wmemAlloc;
    private long _sentDatagrams, _sentBytes, _udpOut;

    private void PublishSendCounters()
    {
        Volatile.Write(ref _c.WmemAlloc, _wmemAlloc);
        if (_sentDatagrams == 0 && _udpOut == 0) return;
        Interlocked.Add(ref _c.DatagramsSent, _sentDatagrams);
        Interlocked.Add(ref _c.BytesSent, _sentBytes);
        _ns.Udp.Add(UdpMib.OutDatagrams, _udpOut);
        _sentDatagrams = _sentBytes = _udpOut = 0;
    }

    private long Now => Context.System.Scheduler.Now.UtcTicks;

    // The clock read once per send call (PumpSends) rather than per datagram; 0 outside one.
    private long _sendNow;
    private long SendNow => _sendNow != 0 ? _sendNow : Now;

    /// <summary>
    /// Route, the local checks of <c>ip_append_data</c>, then <c>udp_send_skb</c> → <c>ip_send_skb</c>. The data is
    /// the corked <paramref name="parts"/>, or <paramref name="single"/> when null (one uncorked send).
    /// </summary>
    private Errno PushUdp(Ipv4Address dst, ushort port, IReadOnlyList<ReadOnlyMemory<byte>>? parts, ReadOnlyMemory<byte> single, int len)
    {
        long now = SendNow;
        var err = Route(dst, now, out var rt);
        if (err != Errno.OK) return err;
        int ipLen = Ipv4Header.MinLength + UdpHeader.Length + len;
        if (_pmtudisc >= 2 && ipLen > rt.Mtu) return Errno.EMSGSIZE; // IP_PMTUDISC_DO/PROBE: ip_local_error
        bool df = _pmtudisc >= 2 || (_pmtudisc == 1 && ipLen <= rt.Mtu);
        var frame = parts is null
            ? DatagramBuilder.Udp(_out, rt.Source, _c.LocalPort, dst, port, single.Span, Ttl(rt), (byte)_tos, df)
            : DatagramBuilder.Udp(_out, rt.Source, _c.LocalPort, dst, port, parts, len, Ttl(rt), (byte)_tos, df);
        err = Transmit(frame, rt, now);
        if (err != Errno.OK) return err;
        _udpOut++;
        _sentDatagrams++;
        _sentBytes += len;
        return Errno.OK;
    }

    private Errno RawSend(SendTo m, out bool wouldBlock)
    {
        wouldBlock = false;
        var dst = m.Address ?? (Connected ? _c.RemoteAddress : (Ipv4Address?)null);
        if (_hdrincl && dst is null && m.Payload.Length >= Ipv4Header.MinLength) dst = Ipv4Address.Read(m.Payload.Span[16..]);
        if (dst is not { } d) return Errno.EDESTADDRREQ;
        if (m.Payload.Length > 65535 - (_hdrincl ? 0 : Ipv4Header.MinLength)) return Errno.EMSGSIZE;
        if (Full) { wouldBlock = true; return Errno.OK; }
        long now = SendNow;
        var err = Route(d, now, out var rt);
        if (err != Errno.OK) return err;
        byte[] frame;
        if (_hdrincl)
        {
            // raw_send_hdrinc: the packet may not exceed the MTU (no fragmentation of a user-built header).
            if (m.Payload.Length > rt.Mtu) return Errno.EMSGSIZE;
            err = DatagramBuilder.HdrIncl(_out, m.Payload.Span, rt.Source, out frame, out _);
            if (err != Errno.OK) return err;
        }
        else
        {
            int ipLen = Ipv4Header.MinLength + m.Payload.Length;
            if (_pmtudisc >= 2 && ipLen > rt.Mtu) return Errno.EMSGSIZE;
            bool df = _pmtudisc >= 2 || (_pmtudisc == 1 && ipLen <= rt.Mtu);
            frame = DatagramBuilder.Raw(_out, rt.Source, d, _protocol, m.Payload.Span, Ttl(rt), (byte)_tos, df);
        }
        err = Transmit(frame, rt, now);
        if (err != Errno.OK) return err;
        _sentDatagrams++;
        _sentBytes += m.Payload.Length;
        return Errno.OK;
    }

    /// <summary><c>ip_route_output_flow</c> for a send: a bound address is the source; broadcast needs <c>SO_BROADCAST</c>.</summary>
    private Errno Route(Ipv4Address dst, long now, out OutputRoute rt)
    {
        var err = _out.Route(dst, _c.LocalAddress.IsLimitedBroadcast ? Ipv4Address.Any : _c.LocalAddress, 0, now, out rt);
        if (err == Errno.ENETUNREACH) _ns.Ip.Inc(IpMib.OutNoRoutes);
        if (err != Errno.OK) return err;
        if (rt.IsBroadcast && !_broadcast && !dst.IsMulticast) return Errno.EACCES;
        return Errno.OK;
    }

    private byte Ttl(in OutputRoute rt) => (byte)(_ttl >= 0 ? _ttl : rt.NextHop.IsMulticast ? 1 : _ns.Sysctl.IpDefaultTtl);

    /// <summary>Charges the buffer to <c>sk_wmem_alloc</c> and sends it (<c>ip_local_out</c>).</summary>
    private Errno Transmit(byte[] frame, in OutputRoute rt, long now)
    {
        var skb = IpOutput.NewSkb(frame, _self, _priority);
        _wmemAlloc += skb.Truesize;
        return _out.LocalOut(skb, rt, now);
    }

    /// <summary><c>sock_wfree</c>: buffers left the host (or were dropped); blocked senders go on.</summary>
    private void OnWmemFree(WmemFree m)
    {
        _wmemAlloc -= m.Truesize;
        Volatile.Write(ref _c.WmemAlloc, _wmemAlloc);
        if (m.Dropped > 0 && _type == SockType.Dgram)
        {
            // NET_XMIT_DROP: -ENOBUFS, reported only with IP_RECVERR; otherwise counted in SndbufErrors.
            if (_recverr) SetError(Errno.ENOBUFS);
            else _ns.Udp.Add(UdpMib.SndbufErrors, m.Dropped);
        }
        if (_sends.Count > 0) PumpSends();
    }

    /// <summary><c>__udp4_lib_err</c>: set <c>sk_err</c> for hard errors on a connected socket, or any error with <c>IP_RECVERR</c>.</summary>
    private void OnIcmpError(IcmpErrorReceived e)
    {
        if (!IcmpErrConvert.Convert(e.Type, e.Code, _pmtudisc, out var err, out bool hard)) return;
        if (!_recverr && (!hard || !Connected)) return;
        SetError(err);
        // sk_error_report: the first blocked reader wakes with the error.
        if (_readers.Count > 0 && TakeError() is { } pending)
        {
            var (reader, req) = _readers.Dequeue();
            reader.Tell(new SocketFailed(req, pending));
        }
    }

    private void OnSetOption(SetSocketOption o)
    {
        var err = SetOption(o.Option, o.Value);
        Sender.Tell(err == Errno.OK ? new SocketOk(o) : new SocketFailed(o, err));
        if (err == Errno.OK && o.Option == SockOpt.SoSndbuf && _sends.Count > 0) PumpSends();
    }

    private Errno SetOption(SockOpt opt, int v)
    {
        switch (opt)
        {
            case SockOpt.SoSndbuf:
                if (v < 0) return Errno.EINVAL;
                Volatile.Write(ref _c.SndBuf, Math.Max(Math.Min(v, _ns.Sysctl.WmemMax) * 2, SockMinSndbuf));
                return Errno.OK;
            case SockOpt.SoBroadcast: _broadcast = v != 0; return Errno.OK;
            case SockOpt.SoPriority:
                if (v is < 0 or > 255) return Errno.EPERM;
                _priority = (byte)v;
                return Errno.OK;
            case SockOpt.IpTtl:
                if (v != -1 && v is < 1 or > 255) return Errno.EINVAL;
                _ttl = v;
                return Errno.OK;
            case SockOpt.IpTos:
                _tos = v & 0xFF;
                _priority = Hardware.Nic.PfifoFast<object>.Tos2Priority((byte)_tos); // sk_priority = rt_tos2priority(tos)
                return Errno.OK;
            case SockOpt.IpHdrIncl:
                if (_type != SockType.Raw) return Errno.ENOPROTOOPT;
                if (_protocol == IpProtocol.Raw && v == 0) return Errno.EINVAL; // IPPROTO_RAW is always HDRINCL
                _hdrincl = v != 0;
                return Errno.OK;
            case SockOpt.IpMtuDiscover:
                if (v is < 0 or > 5) return Errno.EINVAL;
                _pmtudisc = v;
                return Errno.OK;
            case SockOpt.IpRecvErr: _recverr = v != 0; return Errno.OK;
            case SockOpt.UdpCork:
                if (_type != SockType.Dgram) return Errno.ENOPROTOOPT;
                _udpCork = v != 0;
                if (!_udpCork && _cork.Active)
                {
                    var e = PushPending();
                    PublishSendCounters();
                    _out.Flush(Self);
                    if (e != Errno.OK) SetError(e);
                }
                return Errno.OK;
            default:
                return Errno.EINVAL; // IP_MTU is read-only
        }
    }

    private void OnGetOption(GetSocketOption o)
    {
        int? v = o.Option switch
        {
            SockOpt.SoSndbuf => Volatile.Read(ref _c.SndBuf),
            SockOpt.SoBroadcast => _broadcast ? 1 : 0,
            SockOpt.SoPriority => _priority,
            SockOpt.IpTtl => _ttl >= 0 ? _ttl : _ns.Sysctl.IpDefaultTtl,
            SockOpt.IpTos => _tos,
            SockOpt.IpHdrIncl => _type == SockType.Raw ? (_hdrincl ? 1 : 0) : null,
            SockOpt.IpMtuDiscover => _pmtudisc,
            SockOpt.IpRecvErr => _recverr ? 1 : 0,
            SockOpt.UdpCork => _type == SockType.Dgram ? (_udpCork ? 1 : 0) : null,
            _ => null,
        };
        if (o.Option == SockOpt.IpMtu)
        {
            // IP_MTU: the path MTU of a connected socket's route (ENOTCONN otherwise).
            if (!Connected) { Sender.Tell(new SocketFailed(o, Errno.ENOTCONN)); return; }
            var err = _out.Route(_c.RemoteAddress, _c.LocalAddress, 0, Now, out var rt);
            if (err != Errno.OK) { Sender.Tell(new SocketFailed(o, err)); return; }
            v = rt.Mtu;
        }
        Sender.Tell(v is { } val ? new SocketOptionValue(o.Option, val) : new SocketFailed(o, Errno.ENOPROTOOPT));
    }

    protected override void PostStop()
    {
        _cork.Clear();
        foreach (var op in _sends) Fail(op, Errno.EBADF);
        _sends.Clear();
        if (_type == SockType.Dgram) _udp.Tell(new UdpUnbind(Self));
        else _ip.Tell(new RawUnregister(Self));
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
        foreach (var (reader, req) in _readers) reader.Tell(new SocketFailed(req, Errno.EBADF));
        _readers.Clear();
        _ns.Sockets.TryRemove(Self, out _);
    }

    public static Props Props(NetNamespace ns, HostRefs refs, SockType type, byte protocol, IActorRef udp, IActorRef ip)
        => Akka.Actor.Props.Create(() => new DatagramSocketActor(ns, refs, type, protocol, udp, ip)).WithMailbox("actorstack-socket-mailbox");
}
