using Akka.Actor;
using ActorStack.Actors.Sockets;
using ActorStack.Actors.Ipv4;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

/// <summary>
/// A TCP socket as an actor (<c>tcp_recvmsg</c>, <c>tcp_sendmsg</c> → <c>ip_queue_xmit</c>). Created unconnected by <c>socket(AF_INET, SOCK_STREAM)</c>; it becomes
/// a connection with <see cref="StreamConnect"/> / <see cref="Connect"/> (or is created as the child of a
/// listener), or a listener with <see cref="Listen"/>.
/// A connection owns one <see cref="Tcb"/> and drives it: segments from the TCP actor
/// (<see cref="TcpDeliver"/>: <c>tcp_v4_do_rcv</c>), its timers on the scheduler (<see cref="Tcb.NextDeadline"/>),
/// and the socket calls (<c>tcp_sendmsg</c>, <c>tcp_recvmsg</c>, <c>tcp_shutdown</c>, <c>tcp_close</c>); after
/// each it sends the TCB's outbox through <see cref="IpOutput"/> and answers the calls its events complete
/// (<c>sk_state_change</c>, <c>sk_data_ready</c>, <c>sk_write_space</c>, <c>sk_error_report</c>).
/// A listener (<see cref="TcpListener"/>) keeps the SYN and accept queues.
/// The checks and options of the socket calls are in <see cref="TcpSock"/>. The hash tables and the ephemeral ports belong
/// to the TCP actor: bind, listen and connect ask it (<see cref="TcpBind"/>, <see cref="TcpListen"/>, <see cref="TcpConnect"/>)
/// and the socket stashes every other message until its <see cref="TcpBindResult"/> arrives; leaving the tables is a
/// <see cref="TcpUnbind"/>.
/// After <see cref="Close"/> the connection lives on, orphaned, until its TCB reaches CLOSED (FIN handshake,
/// TIME_WAIT), then leaves the tables and stops.
/// </summary>
public sealed class TcpSocketActor : UntypedActor, IWithTimers, IWithUnboundedStash
{
    /// <summary>Blocked callers one socket holds at most per kind (threads blocked in recv/send/accept).</summary>
    public const int MaxWaiting = 1024;

    private readonly NetNamespace _ns;
    private readonly TcpSettings _s;
    private readonly IActorRef _tcp;
    private readonly Random _rng;
    private readonly IpOutput _out;
    private readonly SocketCounters _c;
    private Tcb? _tcb;
    private TcpListener? _listener;
    private IActorRef? _parentListener;
    private TcpTuple _tuple;
    private bool _bound, _hashed, _listenHashed, _userClosed, _rdShutdown, _connectReported;
    private (object Command, IActorRef Caller)? _connectWaiter;
    // A bind, listen or connect waiting for the TCP actor's TcpBindResult; every other message is stashed meanwhile,
    // so the socket's calls are still handled one at a time, in order.
    private (object Command, IActorRef Caller, int Backlog, bool NonBlocking, OutputRoute Route)? _tableWait;
    private readonly Queue<(StreamRecv Req, object Command, IActorRef Caller)> _readers = new();
    private readonly Queue<SendOp> _sends = new();
    private long _armedDeadline = long.MaxValue;
    private OutputRoute _rt;
    private bool _haveRoute;
    // The socket calls' checks and the options kept by the socket and handed to the TCB it creates.
    private readonly TcpSock _sock;
    private (object Command, IActorRef Caller)? _lingerWaiter;
    private long _synQueuedAt = -1;
    // The application's CPU time on the virtual clock (AppTask): send answers wait for their call's cost; the packets a
    // write sends while its SendTo is handled are charged to it (-1: no write call in progress).
    private readonly AppTask _app;
    private readonly List<(IActorRef Caller, object Reply, long Bytes)> _sendAnswers = new();
    private long _sendCallTx = -1;


    private sealed class SendOp(SendTo command, IActorRef caller)
    {
        public SendTo Command { get; } = command;
        public IActorRef Caller { get; } = caller;
        public int Offset;
    }

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record LingerExpired
    {
        public static readonly LingerExpired Instance = new();
    }

    /// <summary>TCP_CORK's ceiling (tcp(7): "a 200 millisecond ceiling on the time for which output is corked").</summary>
    private sealed record CorkExpired
    {
        public static readonly CorkExpired Instance = new();
    }

    public static readonly TimeSpan CorkCeiling = TimeSpan.FromMilliseconds(200);

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    public TcpSocketActor(NetNamespace ns, HostRefs refs, TcpSettings settings, IActorRef tcp, int seed, Tcb? child, TcpTuple tuple,
        IActorRef? listener)
    {
        _ns = ns;
        _s = settings;
        _tcp = tcp;
        _rng = new Random(seed);
        _sock = new TcpSock(settings);
        _out = new IpOutput(ns, refs);
        _app = new AppTask(Context.System, Self, ns.Settings.CpuCost);
        _c = new SocketCounters(SockType.Stream, IpProtocol.Tcp) { RcvBuf = settings.RmemDefault, SndBuf = settings.WmemDefault };
        ns.Sockets[Self] = _c;
        if (child is not null)
        {
            _tcb = child;
            _tcb.AliasSendQueue = true; // Drain serializes the outbox at once
            _tuple = tuple;
            _bound = _hashed = true;
            _parentListener = listener;
            child.SynAckTimerByListener = listener is not null; // reqsk_timer_handler: the listener decides on SYN-ACK timeouts
            if (listener is not null) Context.Watch(listener); // inet_csk_listen_stop also covers a listener that failed
            // The options the listener gave the child's TCB (TcpSocketOptions.NewTcb), as getsockopt reads them.
            _sock.InheritFrom(child);
            _c.SndBuf = child.SendBufferLimit;
            _c.RcvBuf = child.ReceiveBufferLimit;
            Publish();
        }
    }

    // One switch instead of ReceiveActor's per-instance handler list: an idle connection is an actor too, and
    // thousands of them should not each carry ~30 delegates (bench tcp-conns measures the memory per socket).
    protected override void OnReceive(object message)
    {
        if (_tableWait is not null)
        {
            if (message is TcpBindResult r) OnTableResult(r);
            else Stash.Stash();
            return;
        }
        switch (message)
        {
            case TcpDeliver m: OnDeliver(m); break;
            case Tick: OnTick(); break;
            case TcpIcmpError m: OnIcmpError(m); break;
            case NeighOutputDone m: _out.NeighDone(m); break;
            case Bind m: OnBind(m); break;
            case Listen m: OnListen(m); break;
            case Accept m: OnAccept(m); break;
            case TcpChildSpawned m:
                if (_listener is not null) _listener.OnChildSpawned(m, Sender);
                else Sender.Tell(TcpAbortChild.Instance, Self);
                break;
            case TcpChildReady m: _listener?.OnChildReady(m, Sender); break;
            case TcpChildGone m: _listener?.OnChildGone(m, Sender); break;
            case TcpSynAckTimeout m:
                if (_listener is not null) _listener.OnSynAckTimeout(m, Sender);
                else Sender.Tell(TcpSynAckVerdict.Expire, Self);
                break;
            case TcpSynAckVerdict m:
                _tcb?.SynAckVerdict(m.Resending, Now);
                Drain();
                break;
            case TcpAcceptedByUser m:
                _sock.InheritLinger(m.LingerOn, m.LingerSeconds); // SOCK_LINGER / sk_lingertime cloned from the listener
                if (_parentListener is not null) Context.Unwatch(_parentListener);
                _parentListener = null;
                break;
            case Terminated t: if (t.ActorRef.Equals(_parentListener)) AbortAndStop(); break;
            case TcpAbortChild: if (_parentListener is not null) AbortAndStop(); break;
            case StreamConnect m: OnConnect(m, m.Address, m.Port, m.NonBlocking); break;
            case Connect m: OnConnect(m, m.Address, m.Port, nonBlocking: false); break;
            case SendTo m:
                if (_app.Defer(m, Sender)) break; // the application is still in its previous call
                _sendCallTx = _out.Transmits;
                _sends.Enqueue(new SendOp(m, Sender));
                if (_sends.Count > MaxWaiting) AnswerSend(_sends.Dequeue(), Errno.ENOBUFS);
                PumpSends();
                Drain();
                FlushSendAnswers();
                _sendCallTx = -1;
                break;
            case StreamRecv m: if (!_app.Defer(m, Sender)) OnRecv(m, m, Sender); break;
            case Recv m: if (!_app.Defer(m, Sender)) OnRecv(new StreamRecv(65536, m.NonBlocking), m, Sender); break;
            case Shutdown m: OnShutdown(m); break;
            case Close: OnClose(); break;
            case SetSocketOption m: OnSetOption(m); break;
            case GetSocketOption m: OnGetOption(m); break;
            case WmemFree m:
                // tcp_wfree: the TX completion (or a drop) returns the charge; tcp_tsq_handler sends what TSQ held back.
                if (_tcb is not { } t2) return;
                t2.HostQueuedBytes = Math.Max(0, t2.HostQueuedBytes - m.Truesize);
                if (!t2.TsqThrottled) return; // nothing held back: the completion only returns the charge
                t2.XmitPending(Now);
                Drain();
                break;
            case SetReceiveBuffer m:
            {
                var err = _sock.SetRcvBuf(m.Bytes, _tcb, _ns.Sysctl.RmemMax);
                if (err == Errno.OK) Volatile.Write(ref _c.RcvBuf, _sock.RcvBuf!.Value);
                OptionsChanged();
                Sender.Tell(err == Errno.OK ? new SocketOk(m) : new CommandFailed(m, err));
                break;
            }
            case SetLinger m:
                if (_sock.SetLinger(m.OnOff, m.Seconds) is var le && le != Errno.OK) { Sender.Tell(new CommandFailed(m, le)); return; }
                OptionsChanged();
                Sender.Tell(new SocketOk(m));
                break;
            case GetLinger: Sender.Tell(new LingerValue(_sock.LingerOn, _sock.LingerSeconds)); break;
            case SetCongestionControl m:
            {
                var ce = _sock.SetCongestion(m.Name, _tcb);
                if (ce != Errno.OK) { Sender.Tell(new CommandFailed(m, ce)); return; }
                OptionsChanged();
                Sender.Tell(new SocketOk(m));
                break;
            }
            case GetCongestionControl:
                Sender.Tell(new CongestionControlValue(_sock.CongestionName(_tcb)));
                break;
            case LingerExpired: AnswerLinger(); break;
            case CorkExpired:
            {
                // Still in the handshake: nothing can leave yet; the ceiling runs from ESTABLISHED (OnEvent Connected).
                if (_tcb is null || !_sock.Cork || !CanSendData(_tcb)) return;
                long now = Now;
                _tcb.SetCork(false, now); // the ceiling passed: what is corked goes, later writes are held again
                _tcb.SetCork(true, now);
                Drain();
                break;
            }
            case GetSocketInfo: Sender.Tell(Info()); break;
            default: Unhandled(message); break;
        }
    }

    private long Now => Context.System.Scheduler.Now.UtcTicks;

    protected override void PreStart()
    {
        if (_tcb is null) return;
        // An accepted child: its MSS follows the route (tcp_sync_mss in tcp_v4_syn_recv_sock), then arm its timers.
        if (_out.Route(_tuple.RemoteAddress, _tuple.LocalAddress, 0, Now, out _rt) == Errno.OK)
        {
            _haveRoute = true;
            _tcb.SyncMss(_rt.Mtu);
        }
        Drain();
    }

    // ---------------------------------------------------------------- bind / listen / connect

    private void OnBind(Bind b)
    {
        var check = TcpSock.InetBind(_bound, b.Address, !b.Address.IsAny && _ns.IsLocalAddress(b.Address));
        if (check != Errno.OK) { Sender.Tell(new CommandFailed(b, check)); return; }
        _tableWait = (b, Sender, 0, false, default);
        _tcp.Tell(new TcpBind(Self, b.Address, b.Port), Self);
    }

    /// <summary>The TCP actor answered the bind, listen or connect waiting in <see cref="_tableWait"/>.</summary>
    private void OnTableResult(TcpBindResult r)
    {
        var w = _tableWait!.Value;
        _tableWait = null;
        switch (w.Command)
        {
            case Bind b:
                if (r.Error == Errno.OK)
                {
                    _bound = true;
                    _tuple = new TcpTuple(b.Address, r.LocalPort, Ipv4Address.Any, 0);
                    Publish();
                    w.Caller.Tell(new SocketOk(b));
                }
                else w.Caller.Tell(new CommandFailed(b, r.Error));
                break;
            case Listen l:
                ListenHashed(l, w.Caller, r);
                break;
            default:
                ConnectHashed(w.Command, w.Caller, w.NonBlocking, w.Route, r);
                break;
        }
        Stash.UnstashAll();
    }

    /// <summary><c>inet_listen</c>: autobinds an unbound socket (<c>inet_autobind</c>), then enters the listening hash.</summary>
    private void OnListen(Listen l)
    {
        if (TcpSock.InetListen(_tcb) is var le && le != Errno.OK) { Sender.Tell(new CommandFailed(l, le)); return; }
        if (_listener is not null) { _listener.Queue.Listen(l.Backlog); Sender.Tell(new SocketOk(l)); return; }
        // An unbound socket asks with port 0: the TCP actor autobinds it (inet_autobind) before inet_hash.
        _tableWait = (l, Sender, l.Backlog, false, default);
        _tcp.Tell(new TcpListen(Self, _bound ? _tuple.LocalAddress : Ipv4Address.Any, _bound ? _tuple.LocalPort : (ushort)0), Self);
    }

    private void ListenHashed(Listen l, IActorRef caller, TcpBindResult r)
    {
        if (!_bound && r.LocalPort != 0)
        {
            _bound = true;
            _tuple = new TcpTuple(Ipv4Address.Any, r.LocalPort, Ipv4Address.Any, 0);
        }
        if (r.Error != Errno.OK) { caller.Tell(new CommandFailed(l, r.Error)); return; }
        _listenHashed = true;
        _listener = new TcpListener(_ns, _s, _out, _tcp, Self, _tuple, l.Backlog, _rng.Next()) { Options = Options() };
        Publish();
        caller.Tell(new SocketOk(l));
    }

    private void OnAccept(Accept a)
    {
        if (_listener is null) { Sender.Tell(new CommandFailed(a, Errno.EINVAL)); return; }
        _listener.Accept(a, Sender);
    }

    /// <summary><c>inet_stream_connect</c> → <c>tcp_v4_connect</c>: route, source address, ephemeral port, hash, SYN.</summary>
    private void OnConnect(object cmd, Ipv4Address addr, ushort port, bool nonBlocking)
    {
        switch (TcpSock.InetStreamConnect(_listener is not null, _tcb, port, nonBlocking, _connectWaiter is not null, ref _connectReported,
                    out var ce))
        {
            case TcpConnectDecision.Fail: Sender.Tell(new CommandFailed(cmd, ce)); return;
            case TcpConnectDecision.WaitForHandshake: _connectWaiter = (cmd, Sender); return;
        }
        long now = Now;
        var err = _out.Route(addr, _tuple.LocalAddress, 0, now, out var rt);
        if (err != Errno.OK)
        {
            if (err == Errno.ENETUNREACH) _ns.Ip.Inc(IpMib.OutNoRoutes);
            Sender.Tell(new CommandFailed(cmd, err));
            return;
        }
        var local = _tuple.LocalAddress.IsAny ? rt.Source : _tuple.LocalAddress;
        // inet_hash_connect in the TCP actor (an unbound socket gets its ephemeral port there); the SYN leaves after the answer.
        _tableWait = (cmd, Sender, 0, nonBlocking, rt);
        _tcp.Tell(new TcpConnect(Self, local, _bound ? _tuple.LocalPort : (ushort)0, addr, port), Self);
    }

    /// <summary><c>tcp_v4_connect</c> after <c>inet_hash_connect</c>: the TCB, its MSS from the route, the SYN.</summary>
    private void ConnectHashed(object cmd, IActorRef caller, bool nonBlocking, OutputRoute rt, TcpBindResult r)
    {
        if (!_bound && r.LocalPort != 0)
        {
            _bound = true;
            _tuple = new TcpTuple(_tuple.LocalAddress, r.LocalPort, Ipv4Address.Any, 0);
        }
        if (r.Error != Errno.OK) { caller.Tell(new CommandFailed(cmd, r.Error)); return; }
        _hashed = true;
        _tuple = new TcpTuple(r.LocalAddress, r.LocalPort, r.RemoteAddress, r.RemotePort);
        _rt = rt;
        _haveRoute = true;
        long now = Now;
        // secure_tcp_seq / tcp_ts_off: seeded per socket.
        _tcb = Options().NewTcb(_s, _ns.Tcp, r.LocalPort, r.RemotePort, (uint)_rng.NextInt64(0, 1L << 32), (uint)_rng.NextInt64(0, 1L << 32));
        _tcb.AliasSendQueue = true; // Drain serializes the outbox at once
        _tcb.SyncMss(rt.Mtu);
        _tcb.Connect(now);
        Publish();
        if (nonBlocking) caller.Tell(new CommandFailed(cmd, Errno.EINPROGRESS));
        else _connectWaiter = (cmd, caller);
        Drain();
    }

    // ---------------------------------------------------------------- segments and timers

    private void OnDeliver(TcpDeliver m)
    {
        int bytes = 0;
        foreach (var s in m.Segments) bytes += s.Seg.Length;
        _tcp.Tell(new TcpBacklogProcessed(bytes), Self); // the backlog the TCP actor charged is free again
        if (_listener is not null)
        {
            _listener.OnSegments(m.Segments, Now);
            _out.Flush(Self);
            return;
        }
        if (_tcb is null) return;
        long now = Now;
        for (int i = 0; i < m.Segments.Length; i++)
        {
            var s = m.Segments[i];
            if (_tcb.TimeWaitAcceptsSyn(s.Seg))
            {
                // tcp_v4_rcv, do_time_wait: TCP_TW_SYN. The TIME_WAIT socket goes (CLOSED: Drain unhashes it, and the
                // TcpUnbind reaches the TCP actor before the redelivery) and the SYN, with what followed it, is looked up
                // again: the listener takes it (RFC 6191). Found by the differential suite (tcp-time-wait-after-victim-closes).
                _tcb.EndTimeWait(now);
                Drain();
                _tcp.Tell(new TcpRedeliver(m.Segments[i..]), Self);
                return;
            }
            var r = _tcb.SegmentArrived(s.Seg, now);
            if (r != DropReason.NOT_DROPPED_YET) _ns.Drops.Add(r, "tcp/sock");
        }
        Drain();
    }

    /// <summary>
    /// <c>tcp_v4_err</c> in the socket: the TCB judges the error; fragmentation needed re-reads the route (whose MTU
    /// includes the PMTU the ICMP actor just learned, else the MTU the router reported) and runs
    /// <c>tcp_v4_mtu_reduced</c>.
    /// </summary>
    private void OnIcmpError(TcpIcmpError m)
    {
        if (_tcb is null) return;
        long now = Now;
        if (_tcb.IcmpError(m.Type, m.Code, m.Seq, now) == TcpIcmpVerdict.FragNeeded)
        {
            int mtu = m.Info is >= TcpConstants.IPV4_MIN_MTU and <= ushort.MaxValue ? (int)m.Info : 0;
            if (_out.Route(_tuple.RemoteAddress, _tuple.LocalAddress, 0, now, out var rt) == Errno.OK)
            {
                _rt = rt;
                _haveRoute = true;
                mtu = mtu == 0 ? rt.Mtu : Math.Min(mtu, rt.Mtu);
            }
            if (mtu > 0) _tcb.MtuReduced(mtu, now);
        }
        Drain();
    }

    private void OnTick()
    {
        _armedDeadline = long.MaxValue;
        if (_tcb is null) return;
        long now = Now;
        if (_tcb.NextDeadline <= now) _tcb.OnTimer(now);
        Drain();
    }

    /// <summary>Sends the TCB's outbox, handles its events, re-arms the timer, flushes the output path.</summary>
    private void Drain()
    {
        if (_tcb is not { } t) return;
        long now = Now;
        for (int round = 0; round < 8 && (t.Outbox.Count > 0 || t.Events.Count > 0); round++)
        {
            if (t.Outbox.Count > 0)
            {
                Transmit(t.Outbox, now);
                t.Outbox.Clear();
            }
            if (t.Events.Count > 0)
            {
                var events = t.Events.ToArray();
                t.Events.Clear();
                foreach (var e in events) OnEvent(e);
            }
        }
        _out.Flush(Self);
        Publish();
        FlushSendAnswers();
        if (_lingerWaiter is not null && t.CloseCompleted) AnswerLinger();
        if (t.State == TcpState.Closed)
        {
            Timers.Cancel("tcb");
            _armedDeadline = long.MaxValue;
            Unhash();
            if (_userClosed && _sends.Count == 0 && _lingerWaiter is null) Context.Stop(Self);
            return;
        }
        // sk_reset_timer only when the deadline moves earlier: a later one (every ACK pushes the RTO on) or none leaves
        // the armed tick, and OnTick finds nothing due and arms the deadline then, as tcp_write_timer_handler and
        // tcp_delack_timer_handler re-check icsk_timeout on expiry. Re-arming the scheduler's timer per segment cost
        // an allocation and a cancel each (tcp-rr).
        long d = t.NextDeadline;
        if (d < _armedDeadline)
        {
            _armedDeadline = d;
            Timers.StartSingleTimer("tcb", Tick.Instance, TimeSpan.FromTicks(Math.Max(0, d - now)));
        }
    }

    private void Transmit(List<TcpSegment> segs, long now)
    {
        if (!_haveRoute || !_rt.Device.Up)
        {
            if (_out.Route(_tuple.RemoteAddress, _tuple.LocalAddress, 0, now, out _rt) != Errno.OK) { _haveRoute = false; return; }
            _haveRoute = true;
            _tcb?.SyncMss(_rt.Mtu);
        }
        if (segs.Count == 1 && segs[0].Syn && !segs[0].HasAck && _tcb is { State: TcpState.SynSent } && SynStillInHostQueue(now))
            return;
        // Runs of data segments go as GSO super-packets when the device allows (the TCB already sized each
        // segment by tcp_current_mss, options included).
        // Every packet is charged to this socket (sk_wmem_alloc) until its TX completion: TCP small queues.
        TcpXmit.SendAll(_ns, _out, segs, _tuple.LocalAddress, _tuple.RemoteAddress, _rt, now, Self, out long charged);
        if (_tcb is { } t) t.HostQueuedBytes += charged;
    }

    /// <summary>
    /// <c>skb_still_in_host_queue</c> in <c>__tcp_retransmit_skb</c> for the SYN: while the next hop is unresolved the SYN
    /// sent before still waits on the neighbour's arp_queue, so its retransmission is not queued behind it (-EBUSY,
    /// TcpExt TCPSpuriousRtxHostQueues; the RTO backs off as usual). Without this an ARP answered after the first RTO
    /// (1 s) released both SYNs at once, the peer answered both, and the second SYN-ACK met an ESTABLISHED socket
    /// (TCPSYNChallenge, TCP_INVALID_SYN). The queue holds the SYN until the entry fails (mcast_solicit × retrans_time).
    /// </summary>
    private bool SynStillInHostQueue(long now)
    {
        // Loopback resolves no neighbour (IFF_NOARP): its SYN never waits on an arp_queue.
        if (_rt.Device.IsLoopback || _ns.Neighbours.ContainsKey(new NeighKey(_rt.Device.Ifindex, _rt.NextHop)))
        {
            _synQueuedAt = -1;
            return false;
        }
        var p = _ns.Sysctl.Neigh;
        if (_synQueuedAt >= 0 && now - _synQueuedAt < Math.Max(1, p.McastSolicit) * p.RetransTimeMs * TimeSpan.TicksPerMillisecond)
        {
            _ns.Tcp.Ext.Inc(TcpExtMib.TCPSpuriousRtxHostQueues);
            return true;
        }
        _synQueuedAt = now; // this SYN joins the unresolved entry's queue
        return false;
    }

    private static bool CanSendData(Tcb t) => t.State is TcpState.Established or TcpState.CloseWait;

    /// <summary>
    /// TCP_CORK's 200 ms ceiling for data in the write queue. Linux gets it from the probe timer that
    /// <c>tcp_push_pending_frames</c> arms (<c>tcp_check_probe_timer</c>, tcp_probe0_base at least TCP_RTO_MIN) when a
    /// push on a connected socket leaves data unsent; <c>tcp_write_wakeup</c> then sends it. Data written before
    /// ESTABLISHED cannot leave before the handshake completes, so its ceiling starts there, not at the write.
    /// </summary>
    private void ArmCorkCeiling()
    {
        if (!_sock.Cork || _tcb is not { } t || !CanSendData(t) || t.SendQueueBytes == 0 || Timers.IsTimerActive("cork")) return;
        Timers.StartSingleTimer("cork", CorkExpired.Instance, CorkCeiling);
    }

    private void OnEvent(TcpEvent e)
    {
        switch (e.Kind)
        {
            case TcpEventKind.Connected:
                if (_connectWaiter is { } w) { _connectWaiter = null; _connectReported = true; w.Caller.Tell(new SocketOk(w.Command)); }
                _parentListener?.Tell(new TcpChildReady(_tuple), Self);
                PumpSends();
                ArmCorkCeiling(); // data corked during the handshake waits at most the ceiling from now
                break;
            case TcpEventKind.Readable:
            case TcpEventKind.Eof:
                ServeReaders();
                break;
            case TcpEventKind.Writable:
                PumpSends();
                break;
            case TcpEventKind.Error:
                if (_connectWaiter is { } cw) { _connectWaiter = null; _connectReported = true; cw.Caller.Tell(new CommandFailed(cw.Command, e.Error)); }
                ServeReaders();
                PumpSends();
                break;
            case TcpEventKind.SynAckTimeout:
                if (_parentListener is not null) _parentListener.Tell(new TcpSynAckTimeout(_tuple), Self);
                else _tcb!.SynAckVerdict(_tcb.Retransmits < _s.SynAckRetries, Now); // no listener any more: tcp_synack_retries
                break;
            case TcpEventKind.Closed:
                if (_connectWaiter is { } c2) { _connectWaiter = null; c2.Caller.Tell(new CommandFailed(c2.Command, _tcb!.Error != Errno.OK ? _tcb.Error : Errno.ECONNREFUSED)); }
                _parentListener?.Tell(new TcpChildGone(_tuple), Self);
                ServeReaders();
                PumpSends();
                break;
        }
    }

    // ---------------------------------------------------------------- send / recv

    /// <summary>
    /// <c>tcp_sendmsg</c> for the waiting calls in order: a blocking send is answered when all its bytes
    /// are in the send buffer (<c>sk_stream_wait_memory</c> in between); <c>MSG_DONTWAIT</c> takes what fits
    /// (EAGAIN when nothing does).
    /// </summary>
    private void PumpSends()
    {
        if (_tcb is not { } t)
        {
            while (_sends.TryDequeue(out var op)) AnswerSend(op, Errno.EPIPE);
            return;
        }
        long now = Now;
        while (_sends.TryPeek(out var op))
        {
            bool dontWait = (op.Command.Flags & MsgFlags.DontWait) != 0;
            if (t.State is TcpState.SynSent or TcpState.SynReceived)
            {
                if (!dontWait) return; // sk_stream_wait_connect: a blocking send waits for the handshake
                _sends.Dequeue();      // ... and one that may not wait gets -EAGAIN
                AnswerSend(op, Errno.EAGAIN);
                continue;
            }
            var data = op.Command.Payload.Span[op.Offset..];
            var err = Errno.OK;
            int n = data.Length == 0 ? 0 : t.Send(data, now, out err);
            if (n < 0)
            {
                _sends.Dequeue();
                if (op.Offset > 0) AnswerSend(op, new Sent(op.Offset));
                else AnswerSend(op, err);
                continue;
            }
            op.Offset += n;
            if (n > 0) ArmCorkCeiling();
            if (op.Offset == op.Command.Payload.Length || (dontWait && op.Offset > 0))
            {
                _sends.Dequeue();
                AnswerSend(op, new Sent(op.Offset));
                continue;
            }
            if (dontWait)
            {
                _sends.Dequeue();
                AnswerSend(op, Errno.EAGAIN);
                continue;
            }
            return; // blocked until Writable
        }
    }

    private static void Fail(SendOp op, Errno err) => op.Caller.Tell(new CommandFailed(op.Command, err));

    private void AnswerSend(SendOp op, Errno err) => AnswerSend(op, new CommandFailed(op.Command, err));

    /// <summary>A send call's answer, told by <see cref="FlushSendAnswers"/> once its packets are out.</summary>
    private void AnswerSend(SendOp op, object reply) => _sendAnswers.Add((op.Caller, reply, op.Offset));

    /// <summary>
    /// <c>tcp_sendmsg</c>'s cost on the virtual clock: <c>sendmsg</c> per write, the copy of the bytes it took, and
    /// <c>output</c> per packet sent while the write was handled (<c>tcp_push</c> in process context; what ACKs clock out
    /// later is the softirq's). The answers go in order (AppTask).
    /// </summary>
    private void FlushSendAnswers()
    {
        if (_sendAnswers.Count == 0) return;
        long packets = 0;
        if (_sendCallTx >= 0)
        {
            packets = _out.Transmits - _sendCallTx;
            _sendCallTx = _out.Transmits;
        }
        foreach (var (caller, reply, bytes) in _sendAnswers)
        {
            _app.Answer(caller, reply, _app.Cpu.SendCost(1, bytes, packets));
            packets = 0;
        }
        _sendAnswers.Clear();
    }

    private void OnRecv(StreamRecv r, object cmd, IActorRef caller)
    {
        if (r.MaxBytes < 1) { AnswerRecv(caller, new CommandFailed(cmd, Errno.EINVAL)); return; }
        if (_tcb is null) { AnswerRecv(caller, new CommandFailed(cmd, Errno.ENOTCONN)); return; }
        if (_readers.Count > 0 || !TryRead(r, cmd, caller))
        {
            if (r.NonBlocking) { AnswerRecv(caller, new CommandFailed(cmd, Errno.EAGAIN)); return; }
            if (_readers.Count >= MaxWaiting) { AnswerRecv(caller, new CommandFailed(cmd, Errno.ENOBUFS)); return; }
            _readers.Enqueue((r, cmd, caller));
        }
        Drain();
    }

    /// <summary>
    /// <c>tcp_recvmsg</c>'s cost on the virtual clock: <c>recvmsg</c> per segment taken (the bytes over the MSS, rounded
    /// up: the queue keeps bytes, not skbs) plus the copy; a call that took nothing costs one <c>recvmsg</c>.
    /// </summary>
    private void AnswerRecv(IActorRef caller, object reply, int bytes = 0)
    {
        int mss = Math.Max(1, _tcb?.Mss ?? 1);
        _app.Answer(caller, reply, _app.Cpu.RecvCost((bytes + mss - 1) / mss, bytes));
    }

    private void ServeReaders()
    {
        while (_readers.TryPeek(out var w) && TryRead(w.Req, w.Command, w.Caller)) _readers.Dequeue();
    }

    /// <summary><c>tcp_recvmsg</c>: answers when there is data, EOF or an error; false when the caller must wait.</summary>
    private bool TryRead(StreamRecv r, object cmd, IActorRef caller)
    {
        var t = _tcb!;
        if (_rdShutdown && t.ReadableBytes == 0) { AnswerRecv(caller, new StreamData(ReadOnlyMemory<byte>.Empty)); return true; }
        int avail = t.ReadableBytes;
        if (avail > 0)
        {
            var buf = GC.AllocateUninitializedArray<byte>(Math.Min(avail, r.MaxBytes)); // Receive fills all of it
            int n = t.Receive(buf, Now, r.Peek, out _);
            Interlocked.Add(ref _c.BytesRead, n);
            AnswerRecv(caller, new StreamData(buf.AsMemory(0, n)), n);
            return true;
        }
        int z = t.Receive([], Now, r.Peek, out var err);
        if (z == 0 && err == Errno.OK) { AnswerRecv(caller, new StreamData(ReadOnlyMemory<byte>.Empty)); return true; }
        if (z < 0) { AnswerRecv(caller, new CommandFailed(cmd, err)); return true; }
        if (t.State == TcpState.Closed) { AnswerRecv(caller, new CommandFailed(cmd, Errno.ENOTCONN)); return true; }
        return false;
    }

    // ---------------------------------------------------------------- shutdown / close

    private void OnShutdown(Shutdown m)
    {
        if (TcpSock.InetShutdown(m.How, _tcb) is var se && se != Errno.OK) { Sender.Tell(new CommandFailed(m, se)); return; }
        if (m.How is Shutdown.Rd or Shutdown.RdWr)
        {
            _rdShutdown = true;
            ServeReaders();
        }
        if (m.How is Shutdown.Wr or Shutdown.RdWr) _tcb!.Shutdown(Now); // InetShutdown passed: there is a connection
        Sender.Tell(new SocketOk(m));
        Drain();
    }

    /// <summary><c>inet_release</c> → <c>tcp_close</c>; a listener also resets the children nobody accepted (<c>inet_csk_listen_stop</c>).</summary>
    private void OnClose()
    {
        _userClosed = true;
        // A socket without a connection leaves the tables before close() returns, so its port is free at once.
        if (_listener is not null || _tcb is null) Unhash();
        bool lingerWait = _sock.LingerOn && _sock.LingerSeconds > 0 && _tcb is not null && _listener is null && _lingerWaiter is null;
        if (lingerWait)
        {
            // SO_LINGER > 0: close returns when all data is acknowledged or the linger time passed (sk_stream_wait_close).
            _lingerWaiter = (Close.Instance, Sender);
            Timers.StartSingleTimer("linger", LingerExpired.Instance, TimeSpan.FromSeconds(_sock.LingerSeconds));
        }
        else Sender.Tell(new SocketOk(Close.Instance));
        foreach (var (_, cmd, caller) in _readers) caller.Tell(new CommandFailed(cmd, Errno.EBADF));
        _readers.Clear();
        foreach (var op in _sends) Fail(op, Errno.EBADF);
        _sends.Clear();
        if (_connectWaiter is { } w) { _connectWaiter = null; w.Caller.Tell(new CommandFailed(w.Command, Errno.EBADF)); }
        if (_listener is not null)
        {
            _listener.Stop();
            Unhash();
            Context.Stop(Self);
            return;
        }
        if (_tcb is null)
        {
            Unhash();
            Context.Stop(Self);
            return;
        }
        _parentListener = null;
        if (_sock.LingerOn && _sock.LingerSeconds == 0) _tcb.CloseAbortive(Now);
        else _tcb.Close(Now);
        Drain();
    }

    private void AnswerLinger()
    {
        if (_lingerWaiter is not { } w) return;
        _lingerWaiter = null;
        Timers.Cancel("linger");
        w.Caller.Tell(new SocketOk(w.Command));
    }

    private void AbortAndStop()
    {
        // A child still in SYN-RECV is a request sock in Linux, not a socket: inet_csk_listen_stop resets only the
        // accept queue's children (inet_child_forget → tcp_disconnect → RST); a request sock is dropped without a
        // segment, and the peer's ACK, finding no listener, gets its RST from tcp_v4_send_reset (no_tcp_socket).
        // (Found by exploring listener close: the listener closed between SYN-ACK and ACK sent two RSTs per client.)
        if (_tcb is { State: TcpState.SynReceived } req) req.Drop(Now);
        else _tcb?.Abort(Now);
        _userClosed = true;
        Drain();
        Unhash();
        Context.Stop(Self);
    }

    private void Unhash()
    {
        if (!_bound && !_hashed && !_listenHashed) return;
        _tcp.Tell(new TcpUnbind(Self), Self);
        _bound = _hashed = _listenHashed = false;
    }

    // ---------------------------------------------------------------- options and info

    private void OnSetOption(SetSocketOption o)
    {
        var err = SetOption(o.Option, o.Value);
        Sender.Tell(err == Errno.OK ? new SocketOk(o) : new CommandFailed(o, err));
        if (err != Errno.OK) return;
        OptionsChanged();
        Drain();
    }

    /// <summary>
    /// <see cref="TcpSock.SetOption"/>, then what the actor itself holds: the published buffer sizes, the senders a larger
    /// SO_SNDBUF lets go on, the cork ceiling a cleared TCP_CORK no longer needs.
    /// </summary>
    private Errno SetOption(SockOpt opt, int v)
    {
        var err = _sock.SetOption(opt, v, _tcb, Now, _ns.Sysctl.WmemMax, _ns.Sysctl.RmemMax);
        if (err != Errno.OK) return err;
        switch (opt)
        {
            case SockOpt.SoSndbuf:
                Volatile.Write(ref _c.SndBuf, _sock.SndBuf!.Value);
                if (_tcb is not null) PumpSends();
                break;
            case SockOpt.SoRcvbuf:
                Volatile.Write(ref _c.RcvBuf, _sock.RcvBuf!.Value);
                break;
            case SockOpt.TcpCork when !_sock.Cork:
                Timers.Cancel("cork");
                break;
        }
        return Errno.OK;
    }

    private void OnGetOption(GetSocketOption o)
    {
        int? v = _sock.GetOption(o.Option, _tcb);
        Sender.Tell(v is { } val ? new SocketOptionValue(o.Option, val) : new CommandFailed(o, Errno.ENOPROTOOPT));
    }

    private TcpSocketOptions Options() => _sock.Options();

    private void OptionsChanged()
    {
        if (_listener is not null) _listener.Options = Options();
    }

    private void Publish()
    {
        _c.LocalAddress = _tuple.LocalAddress;
        _c.LocalPort = _tuple.LocalPort;
        _c.RemoteAddress = _tuple.RemoteAddress;
        _c.RemotePort = _tuple.RemotePort;
        if (_tcb is { } t)
        {
            Volatile.Write(ref _c.WmemAlloc, t.SendQueueBytes);
            // sk_sndbuf / sk_rcvbuf as auto-tuning leaves them: the TCP actor's backlog bound follows them.
            Volatile.Write(ref _c.SndBuf, t.SendBufferLimit);
            Volatile.Write(ref _c.RcvBuf, t.ReceiveBufferLimit);
        }
    }

    /// <summary>ss's state names (<c>sstate_name</c>).</summary>
    public static string StateName(TcpState s) => s switch
    {
        TcpState.Established => "ESTAB",
        TcpState.SynSent => "SYN-SENT",
        TcpState.SynReceived => "SYN-RECV",
        TcpState.FinWait1 => "FIN-WAIT-1",
        TcpState.FinWait2 => "FIN-WAIT-2",
        TcpState.TimeWait => "TIME-WAIT",
        TcpState.Closed => "UNCONN",
        TcpState.CloseWait => "CLOSE-WAIT",
        TcpState.LastAck => "LAST-ACK",
        TcpState.Listen => "LISTEN",
        TcpState.Closing => "CLOSING",
        _ => s.ToString(),
    };

    private TcpSocketInfo Info()
    {
        if (_listener is { } l)
            return new TcpSocketInfo("LISTEN", _tuple.LocalAddress, _tuple.LocalPort, Ipv4Address.Any, 0, l.Queue.AcceptQueueLength,
                l.Queue.MaxAckBacklog);
        if (_tcb is not { } t) return new TcpSocketInfo("UNCONN", _tuple.LocalAddress, _tuple.LocalPort, Ipv4Address.Any, 0, 0, 0);
        return new TcpSocketInfo(StateName(t.State), _tuple.LocalAddress, _tuple.LocalPort, _tuple.RemoteAddress, _tuple.RemotePort,
            t.ReadableBytes, t.SendQueueBytes)
        {
            CongestionControl = t.CongestionName,
            Cwnd = t.Cwnd,
            SsThresh = t.SsThresh,
            Mss = t.Mss,
            Rtt = TimeSpan.FromTicks(t.Srtt),
            RttVar = TimeSpan.FromTicks(t.RttVar),
            Rto = TimeSpan.FromTicks(t.Rto),
            Unacked = t.PacketsOut,
            Retrans = t.SegmentsRetransmitted,
            SndWscale = t.SndWscale,
            RcvWscale = t.RcvWscale,
            Sack = t.SackOk,
            Timestamps = t.TsOk,
            BytesAcked = Math.Max(0, t.SndUna - t.Iss), // as tcp_snd_una_update: the SYN counts (ss shows bytes_acked:1 on a fresh connection)
            BytesReceived = t.State is TcpState.SynSent ? 0 : Math.Max(0, t.RcvNxt - t.Irs - 1),
        };
    }

    protected override void PostStop()
    {
        if (_lingerWaiter is { } lw) lw.Caller.Tell(new SocketOk(lw.Command));
        foreach (var (_, cmd, caller) in _readers) caller.Tell(new CommandFailed(cmd, Errno.EBADF));
        foreach (var op in _sends) Fail(op, Errno.EBADF);
        _listener?.Stop();
        if (_tableWait is { } tw) tw.Caller.Tell(new CommandFailed(tw.Command, Errno.EBADF));
        Unhash(); // the TCP actor also drops a stopped child's entries when its Terminated arrives
        _ns.Sockets.TryRemove(Self, out _);
    }

    public static Props Props(NetNamespace ns, HostRefs refs, TcpSettings settings, IActorRef tcp, int seed)
        => Akka.Actor.Props.Create(() => new TcpSocketActor(ns, refs, settings, tcp, seed, null, default, null));

    public static Props ChildProps(NetNamespace ns, HostRefs refs, TcpSettings settings, IActorRef tcp, int seed, Tcb tcb, TcpTuple tuple,
        IActorRef listener)
        => Akka.Actor.Props.Create(() => new TcpSocketActor(ns, refs, settings, tcp, seed, tcb, tuple, listener));
}
