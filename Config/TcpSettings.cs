using ActorStack.Config;

namespace ActorStack.Config;

/// <summary>The congestion control algorithms a connection can select (<c>TCP_CONGESTION</c>).</summary>
public enum CongestionAlgorithm { Cubic, Reno }

/// <summary>
/// Per-namespace TCP tunables (net.ipv4.tcp_*), defaults as a current Linux kernel: those that are sysctls take
/// their default from <see cref="TcpSysctl.Default"/>. Times are TimeSpans; the TCB converts them to ticks.
/// </summary>
public sealed record TcpSettings
{
    /// <summary>net.ipv4.tcp_rmem: min, default (the receive buffer a socket starts with), max.</summary>
    public int RmemMin { get; init; } = TcpSysctl.Default.RmemMin;
    public int RmemDefault { get; init; } = TcpSysctl.Default.RmemDefault;
    public int RmemMax { get; init; } = TcpSysctl.Default.RmemMax;
    /// <summary>net.ipv4.tcp_wmem: min, default (the send buffer), max.</summary>
    public int WmemMin { get; init; } = TcpSysctl.Default.WmemMin;
    public int WmemDefault { get; init; } = TcpSysctl.Default.WmemDefault;
    public int WmemMax { get; init; } = TcpSysctl.Default.WmemMax;
    /// <summary>net.ipv4.tcp_syn_retries.</summary>
    public int SynRetries { get; init; } = TcpSysctl.Default.SynRetries;
    /// <summary>net.ipv4.tcp_synack_retries.</summary>
    public int SynAckRetries { get; init; } = TcpSysctl.Default.SynAckRetries;
    /// <summary>net.ipv4.tcp_retries2: the boundary of <c>tcp_model_timeout</c> for an established connection.</summary>
    public int Retries2 { get; init; } = TcpSysctl.Default.Retries2;
    /// <summary>TCP_TIMEOUT_INIT (RFC 6298 2.1).</summary>
    public TimeSpan RtoInitial { get; init; } = TcpConstants.TCP_TIMEOUT_INIT;
    /// <summary>TCP_RTO_MIN (net.ipv4.tcp_rto_min_us in newer kernels).</summary>
    public TimeSpan RtoMin { get; init; } = TimeSpan.FromTicks(TcpSysctl.Default.RtoMinUs * 10L);
    /// <summary>TCP_RTO_MAX.</summary>
    public TimeSpan RtoMax { get; init; } = TcpConstants.TCP_RTO_MAX;
    /// <summary>TCP_TIMEWAIT_LEN.</summary>
    public TimeSpan TimeWait { get; init; } = TcpConstants.TCP_TIMEWAIT_LEN;
    /// <summary>net.ipv4.tcp_fin_timeout: how long an orphaned FIN_WAIT2 lives.</summary>
    public TimeSpan FinTimeout { get; init; } = TimeSpan.FromSeconds(TcpSysctl.Default.FinTimeout);
    /// <summary>TCP_DELACK_MIN (HZ/25).</summary>
    public TimeSpan DelayedAckMin { get; init; } = TcpConstants.TCP_DELACK_MIN;
    /// <summary>net.ipv4.tcp_keepalive_time / _intvl / _probes.</summary>
    public TimeSpan KeepaliveTime { get; init; } = TimeSpan.FromSeconds(TcpSysctl.Default.KeepaliveTime);
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(TcpSysctl.Default.KeepaliveIntvl);
    public int KeepaliveProbes { get; init; } = TcpSysctl.Default.KeepaliveProbes;
    /// <summary>net.ipv4.tcp_timestamps / tcp_sack / tcp_window_scaling.</summary>
    public bool Timestamps { get; init; } = TcpSysctl.Default.Timestamps;
    public bool Sack { get; init; } = TcpSysctl.Default.Sack;
    public bool WindowScaling { get; init; } = TcpSysctl.Default.WindowScaling;
    /// <summary>net.ipv4.tcp_syncookies (1: send cookies when the SYN queue overflows).</summary>
    public int SynCookies { get; init; } = TcpSysctl.Default.Syncookies;
    /// <summary>net.core.somaxconn: upper bound of a listen backlog.</summary>
    public int SoMaxConn { get; init; } = TcpSysctl.Default.SoMaxConn;
    /// <summary>net.ipv4.tcp_congestion_control.</summary>
    public CongestionAlgorithm CongestionControl { get; init; } = CongestionAlgorithm.Cubic;
    /// <summary>TCP_INIT_CWND (RFC 6928).</summary>
    public int InitialCwnd { get; init; } = TcpConstants.TCP_INIT_CWND;
    /// <summary>net.ipv4.tcp_reordering: the duplicate-ACK threshold (RFC 5681 DupThresh).</summary>
    public int Reordering { get; init; } = TcpSysctl.Default.Reordering;
    /// <summary>net.ipv4.tcp_invalid_ratelimit: minimum gap between out-of-window duplicate ACKs.</summary>
    public TimeSpan InvalidRateLimit { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>TCP_MAX_QUICKACKS: ACKs sent at once after the start (tcp_incr_quickack).</summary>
    public int MaxQuickAcks { get; init; } = TcpConstants.TCP_MAX_QUICKACKS;
    /// <summary>The MSS a connection announces and assumes without information (route MTU 1500 - 40).</summary>
    public int DefaultMss { get; init; } = TcpConstants.ETH_DATA_LEN - TcpConstants.IPV4_TCP_HEADER_LEN;
    /// <summary>TCP_MSS_DEFAULT (RFC 9293: 536) used when the peer sends no MSS option.</summary>
    public int PeerMssDefault { get; init; } = TcpConstants.TCP_MSS_DEFAULT;
    /// <summary>Bound on out-of-order segments held per connection (Linux bounds it by rcvbuf; this by count too).</summary>
    public int MaxOfoSegments { get; init; } = 1024;

    /// <summary>net.ipv4.tcp_max_syn_backlog: bound of a listener's SYN queue.</summary>
    public int MaxSynBacklog { get; init; } = TcpSysctl.Default.MaxSynBacklog;
    /// <summary>net.ipv4.ip_local_port_range: the ephemeral ports of connect and autobind.</summary>
    public int LocalPortLow { get; init; } = new SysctlSettings().LocalPortLow;
    public int LocalPortHigh { get; init; } = new SysctlSettings().LocalPortHigh;

    /// <summary>net.ipv4.tcp_limit_output_bytes: TCP small queues' bound on a connection's bytes in the host's queues.</summary>
    public long LimitOutputBytes { get; init; } = TcpSysctl.Default.LimitOutputBytes;
    /// <summary>net.ipv4.tcp_recovery, tcp_early_retrans, tcp_dsack, tcp_max_reordering.</summary>
    public TcpRecoverySettings Recovery { get; init; } = TcpRecoverySettings.Default;

    public static TcpSettings Default { get; } = new();

    /// <summary>A host's TCP settings from its sysctls (net.ipv4.tcp_*, net.core.somaxconn, ip_local_port_range).</summary>
    public static TcpSettings From(SysctlSettings sysctl)
    {
        var t = sysctl.Tcp;
        return new TcpSettings
        {
            RmemMin = t.RmemMin, RmemDefault = t.RmemDefault, RmemMax = t.RmemMax,
            WmemMin = t.WmemMin, WmemDefault = t.WmemDefault, WmemMax = t.WmemMax,
            SynRetries = t.SynRetries, SynAckRetries = t.SynAckRetries, Retries2 = t.Retries2,
            FinTimeout = TimeSpan.FromSeconds(t.FinTimeout),
            KeepaliveTime = TimeSpan.FromSeconds(t.KeepaliveTime),
            KeepaliveInterval = TimeSpan.FromSeconds(t.KeepaliveIntvl),
            KeepaliveProbes = t.KeepaliveProbes,
            Timestamps = t.Timestamps, Sack = t.Sack, WindowScaling = t.WindowScaling, SynCookies = t.Syncookies,
            CongestionControl = t.CongestionControl == "reno" ? CongestionAlgorithm.Reno : CongestionAlgorithm.Cubic,
            RtoMin = TimeSpan.FromTicks(t.RtoMinUs * 10L),
            Reordering = t.Reordering,
            MaxSynBacklog = t.MaxSynBacklog,
            LimitOutputBytes = t.LimitOutputBytes,
            Recovery = new TcpRecoverySettings
            {
                Rack = (t.Recovery & 1) != 0,
                TailLossProbe = t.EarlyRetrans >= 3,
                Dsack = t.Dsack,
                MaxReordering = t.MaxReordering,
            },
            SoMaxConn = t.SoMaxConn,
            LocalPortLow = Math.Min(sysctl.LocalPortLow, sysctl.LocalPortHigh),
            LocalPortHigh = Math.Max(sysctl.LocalPortLow, sysctl.LocalPortHigh),
        };
    }
}
