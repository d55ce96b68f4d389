namespace ActorStack.Config;

/// <summary>
/// The fixed numbers of Linux's TCP (include/net/tcp.h, include/uapi/linux/tcp.h, include/linux/inet.h), under their
/// kernel names so a reader can grep the kernel for them. Tunables (net.ipv4.tcp_*) are not here: they live in
/// <see cref="TcpSettings"/> / the sysctls, whose defaults these constants give where Linux's do.
/// </summary>
public static class TcpConstants
{
    // ------------------------------------------------------------ segment sizes

    /// <summary>TCP_MSS_DEFAULT (RFC 9293 3.7.1): the MSS assumed when the peer sends no MSS option.</summary>
    public const int TCP_MSS_DEFAULT = 536;
    /// <summary>TCP_MIN_SND_MSS: the smallest MSS a path MTU (or a peer) can force (48).</summary>
    public const int TCP_MIN_SND_MSS = 48;
    /// <summary>TCP_MIN_MSS: the smallest TCP_MAXSEG a user may set (88).</summary>
    public const int TCP_MIN_MSS = 88;
    /// <summary>MAX_TCP_WINDOW: the largest TCP_MAXSEG a user may set, and the largest unscaled window Linux offers (32767).</summary>
    public const int MAX_TCP_WINDOW = 32767;
    /// <summary>The window field without scaling (16 bits: <c>U16_MAX</c>, 65535U in <c>tcp_select_window</c>).</summary>
    public const int TCP_MAX_UNSCALED_WINDOW = 65535;
    /// <summary>TCP_MAX_WSCALE (RFC 7323 2.3): the largest window scale shift.</summary>
    public const int TCP_MAX_WSCALE = 14;

    // ------------------------------------------------------------ header sizes

    /// <summary><c>sizeof(struct tcphdr)</c>: a TCP header without options.</summary>
    public const int TCP_HEADER_LEN = 20;
    /// <summary><c>sizeof(struct iphdr)</c>: an IPv4 header without options.</summary>
    public const int IPV4_HEADER_LEN = 20;
    /// <summary>IPv4 and TCP headers without options: what an MTU loses to them (<c>tcp_mtu_to_mss</c>).</summary>
    public const int IPV4_TCP_HEADER_LEN = IPV4_HEADER_LEN + TCP_HEADER_LEN;
    /// <summary>TCPOLEN_TSTAMP_ALIGNED: the timestamp option with its two NOPs.</summary>
    public const int TCPOLEN_TSTAMP_ALIGNED = 12;
    /// <summary>TCPOLEN_SACK_BASE_ALIGNED: NOP NOP kind length before the SACK blocks.</summary>
    public const int TCPOLEN_SACK_BASE_ALIGNED = 4;
    /// <summary>TCPOLEN_SACK_PERBLOCK: one SACK block.</summary>
    public const int TCPOLEN_SACK_PERBLOCK = 8;
    /// <summary>ETH_DATA_LEN: an Ethernet MTU, the route MTU the default advertised MSS assumes.</summary>
    public const int ETH_DATA_LEN = 1500;
    /// <summary>IPV4_MIN_MTU (RFC 791): the smallest MTU a path may have; an ICMP MTU below it is ignored.</summary>
    public const int IPV4_MIN_MTU = 68;

    // ------------------------------------------------------------ timers and back-off

    /// <summary>TCP_TIMEOUT_INIT (RFC 6298 2.1): the RTO before an RTT sample (1 s).</summary>
    public static readonly TimeSpan TCP_TIMEOUT_INIT = TimeSpan.FromSeconds(1);
    /// <summary>TCP_RTO_MAX: the RTO never backs off beyond 120 s.</summary>
    public static readonly TimeSpan TCP_RTO_MAX = TimeSpan.FromSeconds(120);
    /// <summary>TCP_RTO_MIN (HZ/5): the smallest RTO, the default of net.ipv4.tcp_rto_min_us (200 ms).</summary>
    public static readonly TimeSpan TCP_RTO_MIN = TimeSpan.FromMilliseconds(200);
    /// <summary>TCP_TIMEOUT_MIN (2 jiffies): slack added to RACK's reordering timer and to a multi-packet PTO.</summary>
    public static readonly TimeSpan TCP_TIMEOUT_MIN = TimeSpan.FromMilliseconds(2);
    /// <summary>TCP_TIMEWAIT_LEN: how long TIME_WAIT lasts (60 s).</summary>
    public static readonly TimeSpan TCP_TIMEWAIT_LEN = TimeSpan.FromSeconds(60);
    /// <summary>TCP_DELACK_MIN (HZ/25) and TCP_DELACK_MAX (HZ/5): the delayed-ACK timer's range.</summary>
    public static readonly TimeSpan TCP_DELACK_MIN = TimeSpan.FromMilliseconds(40), TCP_DELACK_MAX = TimeSpan.FromMilliseconds(200);
    /// <summary>
    /// The largest back-off shift applied to the RTO before it is capped at TCP_RTO_MAX (<c>icsk_rto &lt;&lt; icsk_backoff</c>;
    /// Linux bounds the shift in <c>inet_csk_rto_backoff</c>): keeps the shift from overflowing a 64-bit tick count.
    /// </summary>
    public const int TCP_MAX_BACKOFF_SHIFT = 20;
    /// <summary>TCP_INIT_CWND (RFC 6928): the initial congestion window in segments.</summary>
    public const int TCP_INIT_CWND = 10;
    /// <summary>TCP_MAX_QUICKACKS: ACKs sent at once in quick-ack mode (<c>tcp_incr_quickack</c>).</summary>
    public const int TCP_MAX_QUICKACKS = 16;

    // ------------------------------------------------------------ socket option bounds (do_tcp_setsockopt)

    /// <summary>MAX_TCP_KEEPIDLE / MAX_TCP_KEEPINTVL (seconds) and MAX_TCP_KEEPCNT.</summary>
    public const int MAX_TCP_KEEPIDLE = 32767, MAX_TCP_KEEPINTVL = 32767, MAX_TCP_KEEPCNT = 127;
}
