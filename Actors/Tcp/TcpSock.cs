using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

/// <summary>What <see cref="TcpSock.InetStreamConnect"/> decided for a <c>connect</c> call.</summary>
public enum TcpConnectDecision
{
    /// <summary>Fail the call at once with the errno given.</summary>
    Fail,
    /// <summary>A blocking connect while the handshake runs: the caller waits for its end (<c>inet_wait_for_connect</c>).</summary>
    WaitForHandshake,
    /// <summary>Start the connection: route, <c>inet_hash_connect</c>, SYN (<c>tcp_v4_connect</c>).</summary>
    Start,
}

/// <summary>
/// The socket calls of a TCP socket, without actors: the argument and state checks of <c>inet_bind</c>, <c>inet_listen</c>,
/// <c>inet_stream_connect</c> and <c>inet_shutdown</c>, and the options a TCP socket keeps (<c>sock_setsockopt</c> /
/// <c>do_tcp_setsockopt</c>, <c>sock_getsockopt</c> / <c>do_tcp_getsockopt</c>): stored here before a connection exists and
/// applied to its <see cref="Tcb"/> when there is one. Its socket actor turns messages into these calls and replies.
/// </summary>
public sealed class TcpSock(TcpSettings settings)
{
    private readonly TcpSettings _s = settings;

    /// <summary>SO_SNDBUF / SO_RCVBUF as stored (doubled), null until set.</summary>
    public int? SndBuf { get; private set; }
    public int? RcvBuf { get; private set; }
    public bool NoDelay { get; private set; }
    public bool KeepAlive { get; private set; }
    public bool Cork { get; private set; }
    public bool LingerOn { get; private set; }
    public int LingerSeconds { get; private set; }
    public int UserMss { get; private set; }
    public TimeSpan? KeepIdle { get; private set; }
    public TimeSpan? KeepIntvl { get; private set; }
    public int? KeepCnt { get; private set; }
    public CongestionAlgorithm? Congestion { get; private set; }

    /// <summary>The options a child's TCB was given by its listener (<see cref="TcpSocketOptions.NewTcb"/>), as getsockopt reads them.</summary>
    public void InheritFrom(Tcb child)
    {
        NoDelay = child.NoDelay;
        Cork = child.Cork;
        KeepAlive = child.KeepAlive;
        KeepIdle = child.KeepaliveTime;
        KeepIntvl = child.KeepaliveInterval;
        KeepCnt = child.KeepaliveProbes;
        UserMss = child.UserMss;
    }

    // ---------------------------------------------------------------- bind / listen / connect / shutdown checks

    /// <summary><c>inet_bind</c>: EINVAL when already bound, EADDRNOTAVAIL for an address that is not the host's.</summary>
    public static Errno InetBind(bool bound, Ipv4Address address, bool isLocalAddress)
    {
        if (bound) return Errno.EINVAL;
        if (!address.IsAny && !isLocalAddress) return Errno.EADDRNOTAVAIL;
        return Errno.OK;
    }

    /// <summary><c>inet_listen</c>: a socket with a connection cannot listen (EINVAL).</summary>
    public static Errno InetListen(Tcb? tcb) => tcb is null ? Errno.OK : Errno.EINVAL;

    /// <summary>
    /// <c>inet_stream_connect</c>'s state switch: EINVAL on a listener; while the handshake runs EALREADY for a non-blocking
    /// call (or a second waiter), else wait; a connection that failed reports its error once (<paramref name="errorReported"/>),
    /// then EISCONN; port 0 is ECONNREFUSED; otherwise start.
    /// </summary>
    public static TcpConnectDecision InetStreamConnect(bool listening, Tcb? tcb, ushort port, bool nonBlocking, bool waiterPresent,
        ref bool errorReported, out Errno err)
    {
        err = Errno.OK;
        if (listening) { err = Errno.EINVAL; return TcpConnectDecision.Fail; }
        if (tcb is not null)
        {
            if (tcb.State is TcpState.SynSent or TcpState.SynReceived)
            {
                if (nonBlocking || waiterPresent) { err = Errno.EALREADY; return TcpConnectDecision.Fail; }
                return TcpConnectDecision.WaitForHandshake;
            }
            if (tcb.State == TcpState.Closed && tcb.Error != Errno.OK && !errorReported)
            {
                errorReported = true;
                err = tcb.Error;
                return TcpConnectDecision.Fail;
            }
            err = Errno.EISCONN;
            return TcpConnectDecision.Fail;
        }
        if (port == 0) { err = Errno.ECONNREFUSED; return TcpConnectDecision.Fail; }
        return TcpConnectDecision.Start;
    }

    /// <summary><c>inet_shutdown</c>: EINVAL for a bad <c>how</c>, ENOTCONN without a connection (or in SYN_SENT).</summary>
    public static Errno InetShutdown(int how, Tcb? tcb)
    {
        if (how is < Shutdown.Rd or > Shutdown.RdWr) return Errno.EINVAL;
        if (tcb is null || tcb.State is TcpState.Closed or TcpState.SynSent) return Errno.ENOTCONN;
        return Errno.OK;
    }

    // ---------------------------------------------------------------- setsockopt / getsockopt

    /// <summary>
    /// <c>sock_setsockopt</c> / <c>do_tcp_setsockopt</c> for the options a TCP socket has, applied to <paramref name="tcb"/>
    /// when there is one. <paramref name="wmemMax"/> / <paramref name="rmemMax"/>: net.core.wmem_max / rmem_max.
    /// </summary>
    public Errno SetOption(SockOpt opt, int v, Tcb? tcb, long now, int wmemMax, int rmemMax)
    {
        switch (opt)
        {
            case SockOpt.SoSndbuf:
                // SO_SNDBUF: doubled, capped at net.core.wmem_max (sk_sndbuf), also on a live connection.
                if (v < 0) return Errno.EINVAL;
                SndBuf = Math.Max(Math.Min(v, wmemMax) * 2, _s.WmemMin);
                tcb?.SetSendBuffer(SndBuf.Value);
                return Errno.OK;
            case SockOpt.SoRcvbuf:
                return SetRcvBuf(v, tcb, rmemMax);
            case SockOpt.SoKeepalive:
                KeepAlive = v != 0;
                tcb?.SetKeepAlive(KeepAlive, now);
                return Errno.OK;
            case SockOpt.TcpNodelay:
                NoDelay = v != 0;
                tcb?.SetNoDelay(NoDelay, now);
                return Errno.OK;
            case SockOpt.TcpCork:
                // do_tcp_setsockopt TCP_CORK: clearing it pushes what was held (tcp_push_pending_frames).
                Cork = v != 0;
                tcb?.SetCork(Cork, now);
                return Errno.OK;
            case SockOpt.TcpKeepidle:
                if (v is < 1 or > TcpConstants.MAX_TCP_KEEPIDLE) return Errno.EINVAL;
                KeepIdle = TimeSpan.FromSeconds(v);
                if (tcb is not null)
                {
                    tcb.KeepaliveTime = KeepIdle;
                    if (KeepAlive) tcb.SetKeepAlive(true, now); // keepalive_time_when: re-armed from now
                }
                return Errno.OK;
            case SockOpt.TcpKeepintvl:
                if (v is < 1 or > TcpConstants.MAX_TCP_KEEPINTVL) return Errno.EINVAL;
                KeepIntvl = TimeSpan.FromSeconds(v);
                if (tcb is not null) tcb.KeepaliveInterval = KeepIntvl;
                return Errno.OK;
            case SockOpt.TcpKeepcnt:
                if (v is < 1 or > TcpConstants.MAX_TCP_KEEPCNT) return Errno.EINVAL;
                KeepCnt = v;
                if (tcb is not null) tcb.KeepaliveProbes = v;
                return Errno.OK;
            case SockOpt.TcpMaxseg:
                // do_tcp_setsockopt: TCP_MIN_MSS..MAX_TCP_WINDOW; it only shapes the handshake, so before connect/listen.
                if (v is < TcpConstants.TCP_MIN_MSS or > TcpConstants.MAX_TCP_WINDOW) return Errno.EINVAL;
                if (tcb is not null && tcb.State != TcpState.Closed) return Errno.EINVAL;
                UserMss = v;
                return Errno.OK;
            default:
                return Errno.ENOPROTOOPT;
        }
    }

    /// <summary>SO_RCVBUF: doubled, capped at net.core.rmem_max; the window scale is chosen at the SYN, so only before it.</summary>
    public Errno SetRcvBuf(int v, Tcb? tcb, int rmemMax)
    {
        if (v < 0 || tcb is not null) return Errno.EINVAL;
        RcvBuf = Math.Max(Math.Min(v, rmemMax) * 2, _s.RmemMin);
        return Errno.OK;
    }

    /// <summary>SO_LINGER: EINVAL for a negative time.</summary>
    public Errno SetLinger(bool on, int seconds)
    {
        if (seconds < 0) return Errno.EINVAL;
        LingerOn = on;
        LingerSeconds = seconds;
        return Errno.OK;
    }

    /// <summary>SO_LINGER cloned from the listener when <c>accept</c> hands the child to the user (<c>sk_clone_lock</c>).</summary>
    public void InheritLinger(bool on, int seconds) => (LingerOn, LingerSeconds) = (on, seconds);

    /// <summary><c>tcp_set_congestion_control</c>: "cubic" or "reno", ENOENT otherwise; a live connection switches at once.</summary>
    public Errno SetCongestion(string name, Tcb? tcb)
    {
        CongestionAlgorithm? a = name switch { "cubic" => CongestionAlgorithm.Cubic, "reno" => CongestionAlgorithm.Reno, _ => null };
        if (a is null) return Errno.ENOENT;
        Congestion = a;
        tcb?.SetCongestionControl(a.Value);
        return Errno.OK;
    }

    /// <summary><c>getsockopt(TCP_CONGESTION)</c>.</summary>
    public string CongestionName(Tcb? tcb) => tcb?.CongestionName ?? (Congestion ?? _s.CongestionControl).ToString().ToLowerInvariant();

    /// <summary><c>sock_getsockopt</c> / <c>do_tcp_getsockopt</c>; null for an option a TCP socket does not have (ENOPROTOOPT).</summary>
    public int? GetOption(SockOpt opt, Tcb? tcb) => opt switch
    {
        SockOpt.SoSndbuf => tcb?.SendBufferLimit ?? SndBuf ?? _s.WmemDefault,
        SockOpt.SoRcvbuf => tcb?.ReceiveBufferLimit ?? RcvBuf ?? _s.RmemDefault,
        SockOpt.SoKeepalive => KeepAlive ? 1 : 0,
        SockOpt.TcpNodelay => NoDelay ? 1 : 0,
        SockOpt.TcpCork => Cork ? 1 : 0,
        SockOpt.TcpKeepidle => (int)(KeepIdle ?? _s.KeepaliveTime).TotalSeconds,
        SockOpt.TcpKeepintvl => (int)(KeepIntvl ?? _s.KeepaliveInterval).TotalSeconds,
        SockOpt.TcpKeepcnt => KeepCnt ?? _s.KeepaliveProbes,
        // TCP_MAXSEG: mss_cache (TCP_MSS_DEFAULT before a connection); the user's value while CLOSE/LISTEN.
        SockOpt.TcpMaxseg => tcb is { State: not (TcpState.Closed or TcpState.Listen) } t ? t.Mss
            : UserMss > 0 ? UserMss : _s.PeerMssDefault,
        _ => null,
    };

    /// <summary>The options a connection created from this socket starts with (and a listener's children inherit).</summary>
    public TcpSocketOptions Options() => new()
    {
        SndBuf = SndBuf, RcvBuf = RcvBuf, NoDelay = NoDelay, Cork = Cork, KeepAlive = KeepAlive, KeepIdle = KeepIdle,
        KeepIntvl = KeepIntvl, KeepCnt = KeepCnt, Congestion = Congestion, UserMss = UserMss, LingerOn = LingerOn,
        LingerSeconds = LingerSeconds,
    };
}
