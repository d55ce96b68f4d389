namespace ActorStack.Config;

/// <summary>
/// The <c>net.ipv4.tcp_*</c> sysctls of a network namespace (and <c>net.core.somaxconn</c>), Linux defaults.
/// The TCP actor turns them into its TcpSettings.
/// </summary>
public sealed record TcpSysctl
{
    /// <summary>net.ipv4.tcp_rmem: min, default, max receive buffer (bytes).</summary>
    public int RmemMin { get; init; } = 4096;
    public int RmemDefault { get; init; } = 131072;
    public int RmemMax { get; init; } = 6291456;
    /// <summary>net.ipv4.tcp_wmem: min, default, max send buffer (bytes).</summary>
    public int WmemMin { get; init; } = 4096;
    public int WmemDefault { get; init; } = 16384;
    public int WmemMax { get; init; } = 4194304;
    public int SynRetries { get; init; } = 6;
    public int SynAckRetries { get; init; } = 5;
    public int Retries2 { get; init; } = 15;
    /// <summary>net.ipv4.tcp_fin_timeout (seconds).</summary>
    public int FinTimeout { get; init; } = 60;
    /// <summary>net.ipv4.tcp_keepalive_time / _intvl (seconds) / _probes.</summary>
    public int KeepaliveTime { get; init; } = 7200;
    public int KeepaliveIntvl { get; init; } = 75;
    public int KeepaliveProbes { get; init; } = 9;
    public bool Timestamps { get; init; } = true;
    public bool Sack { get; init; } = true;
    public bool WindowScaling { get; init; } = true;
    public int Syncookies { get; init; } = 1;
    /// <summary>net.ipv4.tcp_congestion_control: "cubic" or "reno".</summary>
    public string CongestionControl { get; init; } = "cubic";
    /// <summary>net.ipv4.tcp_rto_min_us (microseconds).</summary>
    public int RtoMinUs { get; init; } = 200000;
    public int Reordering { get; init; } = 3;
    public int MaxSynBacklog { get; init; } = 4096;
    /// <summary>net.ipv4.tcp_max_reordering.</summary>
    public int MaxReordering { get; init; } = 300;
    /// <summary>net.ipv4.tcp_recovery (bit 0: RACK-TLP loss detection).</summary>
    public int Recovery { get; init; } = 1;
    /// <summary>net.ipv4.tcp_early_retrans (3: tail loss probes on).</summary>
    public int EarlyRetrans { get; init; } = 3;
    /// <summary>net.ipv4.tcp_limit_output_bytes (TCP small queues).</summary>
    public int LimitOutputBytes { get; init; } = 1048576;
    /// <summary>net.ipv4.tcp_dsack.</summary>
    public bool Dsack { get; init; } = true;
    /// <summary>net.core.somaxconn.</summary>
    public int SoMaxConn { get; init; } = 4096;

    public static TcpSysctl Default { get; } = new();
}
