namespace ActorStack.Config;

// Protocol tunables with their Linux names and defaults; a host's sysctl block sets them.

/// <summary>
/// Per-table neighbour parameters (<c>struct neigh_parms</c> and <c>struct neigh_table</c>), Linux defaults
/// (net.ipv4.neigh.default.*). Times in milliseconds (jiffies at HZ=1000).
/// </summary>
public sealed record NeighParms
{
    public long BaseReachableTimeMs { get; init; } = 30_000;
    public long RetransTimeMs { get; init; } = 1_000;
    /// <summary><c>delay_first_probe_time</c> (<c>DELAY_PROBE_TIME</c>).</summary>
    public long DelayFirstProbeTimeMs { get; init; } = 5_000;
    public long GcStaleTimeMs { get; init; } = 60_000;
    /// <summary><c>locktime</c>: a different reply within this time of the last update does not override.</summary>
    public long LocktimeMs { get; init; } = 1_000;
    public int UcastSolicit { get; init; } = 3;
    public int McastSolicit { get; init; } = 3;
    public int McastResolicit { get; init; } = 0;
    public int AppSolicit { get; init; } = 0;
    public int UnresQlenBytes { get; init; } = 212_992;
    public int GcThresh1 { get; init; } = 128;
    public int GcThresh2 { get; init; } = 512;
    public int GcThresh3 { get; init; } = 1024;

    public static readonly NeighParms Default = new();
}

/// <summary>ICMP rate-limit tunables (net.ipv4.icmp_* and inet_peer), Linux defaults.</summary>
public sealed record IcmpRateLimitSettings
{
    /// <summary><c>icmp_ratelimit</c>: per-destination token cost in ms (jiffies at HZ=1000); 0 disables the per-destination limit.</summary>
    public long IcmpRatelimitMs { get; init; } = 1000;
    /// <summary><c>icmp_ratemask</c>: bit N set = ICMP type N is limited. Default 0x1818 = dest unreachable (3),
    /// source quench (4), time exceeded (11), parameter problem (12).</summary>
    public uint IcmpRatemask { get; init; } = 0x1818;
    /// <summary><c>icmp_msgs_per_sec</c>: global refill rate.</summary>
    public int IcmpMsgsPerSec { get; init; } = 1000;
    /// <summary><c>icmp_msgs_burst</c>: global bucket size.</summary>
    public int IcmpMsgsBurst { get; init; } = 50;
    /// <summary><c>inet_peer_threshold</c>: bound on remembered destinations (65536 + 128).</summary>
    public int InetPeerThreshold { get; init; } = 65536 + 128;
    /// <summary><c>inet_peer_maxttl</c>: an idle peer older than this may be reclaimed (600 s).</summary>
    public long InetPeerMaxTtlMs { get; init; } = 600_000;

    public static readonly IcmpRateLimitSettings Default = new();
}

/// <summary>
/// Reassembly tunables of one network namespace (<c>net.ipv4.ipfrag_*</c>), Linux defaults.
/// <see cref="IpfragMaxDist"/> is carried for configuration but not enforced (see <see cref="IpDefrag"/>).
/// </summary>
public sealed record DefragSettings
{
    public static readonly DefragSettings Default = new();

    /// <summary><c>net.ipv4.ipfrag_high_thresh</c>: bytes (truesize) all queues may hold.</summary>
    public long IpfragHighThresh { get; init; } = 4 * 1024 * 1024;
    /// <summary><c>net.ipv4.ipfrag_low_thresh</c>: eviction frees queues until this much is held. Clamped to the high threshold.</summary>
    public long IpfragLowThresh { get; init; } = 3 * 1024 * 1024;
    /// <summary><c>net.ipv4.ipfrag_time</c>: a queue expires this long after its first fragment arrived.</summary>
    public TimeSpan IpfragTime { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary><c>net.ipv4.ipfrag_max_dist</c> (not enforced).</summary>
    public int IpfragMaxDist { get; init; } = 64;
}
