namespace ActorStack.Config;

/// <summary>
/// Loss-recovery tunables Linux keeps apart from the dup-ACK threshold (net.ipv4.*), Linux defaults.
/// </summary>
public sealed record TcpRecoverySettings
{
    /// <summary>net.ipv4.tcp_recovery bit 0 (TCP_RACK_LOSS_DETECTION): RACK-TLP (RFC 8985) marks SACK losses by time.</summary>
    public bool Rack { get; init; } = true;
    /// <summary>net.ipv4.tcp_early_retrans 3: tail loss probes (TLP) on SACK connections.</summary>
    public bool TailLossProbe { get; init; } = true;
    /// <summary>net.ipv4.tcp_dsack: receivers report duplicates with D-SACK (RFC 2883).</summary>
    public bool Dsack { get; init; } = true;
    /// <summary>net.ipv4.tcp_max_reordering: bound of the reordering degree a connection learns.</summary>
    public int MaxReordering { get; init; } = 300;

    public static TcpRecoverySettings Default { get; } = new();
}
