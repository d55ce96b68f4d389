using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Messages;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

/// <summary>
/// The LISTEN half of a TCP socket actor (<c>tcp_v4_do_rcv</c> on a listener → <c>tcp_rcv_state_process</c>
/// in LISTEN, <c>tcp_conn_request</c>, <c>cookie_v4_check</c>, <c>inet_csk_accept</c>). A SYN the
/// <see cref="ListenQueue{T}"/> accepts gets a TCB in SYN_RECEIVED that is handed at once to a new child
/// socket actor (<see cref="TcpSpawnChild"/>; the child sends the SYN-ACK and completes the handshake on its
/// own); the child reports <see cref="TcpChildReady"/> when ESTABLISHED and joins the accept queue. With the SYN
/// queue full a SYN is answered with a SYN cookie and no state (tcp_syncookies 1); the third segment that
/// carries a valid cookie creates the child directly. Segments for a child the TCP actor has not hashed yet
/// go back to it (<see cref="TcpRedeliver"/>). Single-threaded: runs inside its socket actor.
/// </summary>
public sealed class TcpListener
{
    /// <summary>A connection of this listener not yet accepted (<c>request_sock</c> / child socket).</summary>
    public sealed class Child(TcpTuple tuple)
    {
        public TcpTuple Tuple { get; } = tuple;
        public IActorRef? Ref;
        public bool Queued, Overflowed, Cookie;
    }

    private readonly NetNamespace _ns;
    private readonly TcpSettings _s;
    private readonly TcpSettings _cookieSynAck;
    private readonly IpOutput _out;
    private readonly IActorRef _tcp, _self;
    private readonly Random _rng;
    private readonly SynCookies _cookies;
    private readonly Dictionary<TcpTuple, Child> _children = new();
    private readonly Queue<(Accept Req, IActorRef Caller)> _waiters = new();
    private long _lastCookieSent = long.MinValue;

    public ListenQueue<Child> Queue { get; }

    /// <summary>The listening socket's options, kept current by its socket actor; every child inherits them.</summary>
    public TcpSocketOptions Options { get; set; } = TcpSocketOptions.Default;

    public TcpListener(NetNamespace ns, TcpSettings settings, IpOutput output, IActorRef tcp, IActorRef self, TcpTuple local, int backlog, int seed)
    {
        _ns = ns;
        _s = settings;
        // Without timestamps a cookie cannot carry window scale or SACK (cookie_init_timestamp): offer neither.
        _cookieSynAck = settings with { Timestamps = false, Sack = false, WindowScaling = false };
        _out = output;
        _tcp = tcp;
        _self = self;
        _rng = new Random(seed);
        _cookies = new SynCookies(_rng.Next());
        Queue = new ListenQueue<Child>(settings, ns.Tcp, backlog);
    }

    public void OnSegments(ImmutableArray<TcpSegIn> segs, long now)
    {
        ImmutableArray<TcpSegIn>.Builder? again = null;
        foreach (var s in segs)
        {
            var seg = s.Seg;
            var tuple = new TcpTuple(s.Destination, seg.DestinationPort, s.Source, seg.SourcePort);
            if (_children.ContainsKey(tuple))
            {
                (again ??= ImmutableArray.CreateBuilder<TcpSegIn>()).Add(s);
                continue;
            }
            _ns.Tcp.Tcp.Inc(TcpMib.InSegs);
            if (seg.Rst) continue; // LISTEN: a RST is ignored (RFC 9293 3.10.7.2)
            if (seg.HasAck)
            {
                if (!seg.Syn && CookieAck(s, tuple, now)) continue;
                SendReset(s, now); // LISTEN: an ACK gets <SEQ=SEG.ACK><CTL=RST>
                continue;
            }
            if (!seg.Syn || seg.Fin)
            {
                _ns.Drops.Add(DropReason.TCP_FLAGS, "tcp/listen");
                continue;
            }
            switch (Queue.OnSyn())
            {
                case SynDecision.Accept:
                {
                    var tcb = NewTcb(tuple, (uint)_rng.NextInt64(0, 1L << 32));
                    tcb.AcceptSyn(seg, now);
                    var child = new Child(tuple);
                    _children[tuple] = child;
                    Queue.AddToSynQueue(child);
                    _tcp.Tell(new TcpSpawnChild(tcb, tuple, _self), _self);
                    break;
                }
                case SynDecision.SendCookie:
                    SendCookie(s, tuple, now);
                    break;
                default:
                    _ns.Drops.Add(DropReason.TCP_FLAGS, "tcp/listen_overflow");
                    break;
            }
        }
        if (again is not null) _tcp.Tell(new TcpRedeliver(again.ToImmutable()), _self);
    }

    /// <summary>
    /// The child's TCB (<c>tcp_create_openreq_child</c> over <c>sk_clone_lock</c>): it inherits the listener's
    /// SO_SNDBUF/SO_RCVBUF (and so the window and window scale they imply), TCP_NODELAY, TCP_CORK, SO_KEEPALIVE and the
    /// keepalive times, TCP_CONGESTION and TCP_MAXSEG; SO_LINGER follows with <see cref="TcpAcceptedByUser"/>.
    /// </summary>
    private Tcb NewTcb(TcpTuple t, uint iss)
        => Options.NewTcb(_s, _ns.Tcp, t.LocalPort, t.RemotePort, iss, (uint)_rng.NextInt64(0, 1L << 32));

    /// <summary><c>tcp_v4_init_sequence</c> replaced by <c>cookie_v4_init_sequence</c>: a SYN-ACK whose ISN is the cookie; no state kept.</summary>
    private void SendCookie(in TcpSegIn s, TcpTuple tuple, long now)
    {
        var seg = s.Seg;
        uint isn = _cookies.InitSequence(s.Source, s.Destination, seg.SourcePort, seg.DestinationPort, seg.Seq,
            seg.Options.Mss ?? _s.PeerMssDefault, now, out _);
        var scratch = new Tcb(_cookieSynAck, new TcpCounters(), tuple.LocalPort, tuple.RemotePort, isn);
        scratch.AcceptSyn(seg, now);
        foreach (var o in scratch.Outbox)
            if (TcpXmit.Send(_ns, _out, o, s.Destination, s.Source, now) == Errno.OK) _ns.Tcp.Tcp.Inc(TcpMib.OutSegs);
        _lastCookieSent = now;
    }

    /// <summary>
    /// <c>cookie_v4_check</c> for an ACK to a listener, tried only while cookies were sent in the last
    /// <see cref="SynCookies.MaxAge"/> minutes (<c>tcp_synq_no_recent_overflow</c>). True when it made a child.
    /// </summary>
    private bool CookieAck(in TcpSegIn s, TcpTuple tuple, long now)
    {
        if (_lastCookieSent == long.MinValue || now - _lastCookieSent > SynCookies.MaxAge * TimeSpan.TicksPerMinute) return false;
        var seg = s.Seg;
        int mss = _cookies.Check(s.Source, s.Destination, seg.SourcePort, seg.DestinationPort, seg.Seq, seg.Ack, now);
        if (mss == 0)
        {
            _ns.Tcp.Ext.Inc(TcpExtMib.SyncookiesFailed);
            return false;
        }
        _ns.Tcp.Ext.Inc(TcpExtMib.SyncookiesRecv);
        // The accept queue full: no child, the ACK is dropped silently (counted by the queue); the peer retransmits.
        if (!Queue.ReserveCookieChild()) return true;
        var tcb = NewTcb(tuple, (seg.Ack - 1).Value);
        tcb.AcceptCookie(seg, mss, sackOk: false, sndWscale: null, tsOk: false, now);
        _children[tuple] = new Child(tuple) { Cookie = true };
        _tcp.Tell(new TcpSpawnChild(tcb, tuple, _self), _self);
        return true;
    }

    private void SendReset(in TcpSegIn s, long now)
    {
        if (Tcb.ResetFor(s.Seg, s.Seg.DestinationPort) is not { } rst) return;
        if (TcpXmit.Send(_ns, _out, rst, s.Destination, s.Source, now) != Errno.OK) return;
        _ns.Tcp.Tcp.Inc(TcpMib.OutSegs);
        _ns.Tcp.Tcp.Inc(TcpMib.OutRsts);
    }

    public void OnChildSpawned(TcpChildSpawned m, IActorRef child)
    {
        if (_children.TryGetValue(m.Tuple, out var c)) c.Ref = child;
        else child.Tell(TcpAbortChild.Instance, _self); // the listener closed in between
    }

    public void OnChildReady(TcpChildReady m, IActorRef child)
    {
        if (!_children.TryGetValue(m.Tuple, out var c) || c.Queued) return;
        c.Ref = child;
        bool fromSynQueue = Queue.InSynQueue(c);
        // A cookie child has held its place since cookie_v4_check (an overflowing ACK made none: no RST).
        bool ok = fromSynQueue ? Queue.ChildEstablished(c)
            : c.Cookie ? Queue.CookieEstablished(c)
            : Queue.ReserveCookieChild() && Queue.CookieEstablished(c); // a request no longer in the SYN queue
        if (ok) c.Queued = true;
        else if (fromSynQueue) c.Overflowed = true; // tcp_abort_on_overflow 0: waits in the SYN queue for room
        else
        {
            _children.Remove(m.Tuple);
            child.Tell(TcpAbortChild.Instance, _self);
        }
        ServeWaiters();
    }

    /// <summary><c>reqsk_timer_handler</c>: a child's SYN-ACK timed out; the SYN queue decides resend or expiry.</summary>
    public void OnSynAckTimeout(TcpSynAckTimeout m, IActorRef child)
    {
        bool resend = _children.TryGetValue(m.Tuple, out var c) && Queue.SynAckTimer(c);
        child.Tell(resend ? TcpSynAckVerdict.Resend : TcpSynAckVerdict.Expire, _self);
    }

    public void OnChildGone(TcpChildGone m, IActorRef child)
    {
        if (!_children.TryGetValue(m.Tuple, out var c) || c.Queued) return; // an accepted-queue child stays for accept (reads fail)
        _children.Remove(m.Tuple);
        if (!Queue.RemoveFromSynQueue(c) && c.Cookie) Queue.ReleaseCookieChild();
        child.Tell(TcpAbortChild.Instance, _self);
    }

    public void Accept(Accept a, IActorRef caller)
    {
        if (_waiters.Count > 0 || !TryAccept(caller))
        {
            if (a.NonBlocking) { caller.Tell(new CommandFailed(a, Errno.EAGAIN)); return; }
            if (_waiters.Count >= TcpSocketActor.MaxWaiting) { caller.Tell(new CommandFailed(a, Errno.ENOBUFS)); return; }
            _waiters.Enqueue((a, caller));
        }
    }

    private void ServeWaiters()
    {
        while (_waiters.TryPeek(out var w) && TryAccept(w.Caller)) _waiters.Dequeue();
    }

    /// <summary><c>inet_csk_accept</c>: the oldest established child; room made promotes an overflowed one.</summary>
    private bool TryAccept(IActorRef caller)
    {
        var c = Queue.Accept();
        if (c is null) return false;
        _children.Remove(c.Tuple);
        c.Ref!.Tell(Options.LingerOn ? new TcpAcceptedByUser(true, Options.LingerSeconds) : TcpAcceptedByUser.Instance, _self);
        caller.Tell(new Accepted(c.Ref, c.Tuple.RemoteAddress, c.Tuple.RemotePort));
        foreach (var o in _children.Values)
        {
            if (!o.Overflowed) continue;
            if (!Queue.ChildEstablished(o)) break;
            o.Overflowed = false;
            o.Queued = true;
        }
        return true;
    }

    /// <summary><c>inet_csk_listen_stop</c>: children nobody accepted are reset; blocked accepts fail.</summary>
    public void Stop()
    {
        foreach (var c in _children.Values) c.Ref?.Tell(TcpAbortChild.Instance, _self);
        _children.Clear();
        foreach (var (req, caller) in _waiters) caller.Tell(new CommandFailed(req, Errno.EBADF));
        _waiters.Clear();
    }
}
