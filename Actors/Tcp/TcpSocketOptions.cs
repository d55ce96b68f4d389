using ActorStack.Config;
namespace ActorStack.Actors.Tcp;

/// <summary>
/// The per-socket options a TCP socket keeps before it has a connection (<c>struct sock</c> /
/// <c>struct tcp_sock</c> fields set by <c>sock_setsockopt</c> and <c>do_tcp_setsockopt</c>). A listener's copy is what
/// its children inherit: <c>sk_clone_lock</c> copies the whole socket (sk_sndbuf, sk_rcvbuf, SOCK_KEEPOPEN, SOCK_LINGER,
/// sk_lingertime) and <c>tcp_create_openreq_child</c> keeps nonagle, the keepalive times, rx_opt.user_mss and the
/// congestion control (<c>tcp_assign_congestion_control</c> takes the listener's icsk_ca_ops).
/// Null values mean "the namespace default" (net.ipv4.tcp_*).
/// </summary>
public sealed record TcpSocketOptions
{
    public static TcpSocketOptions Default { get; } = new();

    /// <summary>SO_SNDBUF / SO_RCVBUF as stored (already doubled), or null for tcp_wmem[1] / tcp_rmem[1].</summary>
    public int? SndBuf { get; init; }
    public int? RcvBuf { get; init; }
    /// <summary>TCP_NODELAY (tp->nonagle TCP_NAGLE_OFF).</summary>
    public bool NoDelay { get; init; }
    /// <summary>TCP_CORK (tp->nonagle TCP_NAGLE_CORK).</summary>
    public bool Cork { get; init; }
    /// <summary>SO_KEEPALIVE and TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT.</summary>
    public bool KeepAlive { get; init; }
    public TimeSpan? KeepIdle { get; init; }
    public TimeSpan? KeepIntvl { get; init; }
    public int? KeepCnt { get; init; }
    /// <summary>TCP_CONGESTION, or null for net.ipv4.tcp_congestion_control.</summary>
    public CongestionAlgorithm? Congestion { get; init; }
    /// <summary>TCP_MAXSEG (rx_opt.user_mss), 0 when unset.</summary>
    public int UserMss { get; init; }
    /// <summary>SO_LINGER (SOCK_LINGER, sk_lingertime in seconds).</summary>
    public bool LingerOn { get; init; }
    public int LingerSeconds { get; init; }

    /// <summary>
    /// A TCB carrying these options (<c>tcp_create_openreq_child</c> for a child, <c>tcp_v4_connect</c>'s socket for an
    /// active open): buffers and congestion control at construction (the window scale follows the receive buffer), the
    /// rest as the TCB's option properties.
    /// </summary>
    public Tcb NewTcb(TcpSettings s, TcpCounters mib, ushort localPort, ushort remotePort, uint iss, uint tsOffset)
    {
        var tcb = new Tcb(s, mib, localPort, remotePort, iss, tsOffset, congestion: Congestion, sndBuf: SndBuf, rcvBuf: RcvBuf)
        {
            NoDelay = NoDelay, KeepAlive = KeepAlive, KeepaliveTime = KeepIdle, KeepaliveInterval = KeepIntvl,
            KeepaliveProbes = KeepCnt, UserMss = UserMss,
        };
        if (Cork) tcb.SetCork(true, 0);
        return tcb;
    }
}
