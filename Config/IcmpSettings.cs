namespace ActorStack.Config;

/// <summary>
/// The ICMP handler's tunables that <c>SysctlSettings</c> does not carry (net.ipv4.icmp_*), Linux defaults.
/// The echo sysctls, <c>ip_default_ttl</c>, <c>ip_no_pmtu_disc</c> and the rate limits come from the namespace's sysctls.
/// </summary>
public sealed record IcmpSettings
{
    public static readonly IcmpSettings Default = new();

    /// <summary>
    /// <c>net.ipv4.icmp_errors_use_inbound_ifaddr</c>: an error about a packet not addressed to this host takes
    /// its source from the device the packet came in on (1) instead of the route back (0, Linux's default).
    /// </summary>
    public bool ErrorsUseInboundIfaddr { get; init; }

    /// <summary>
    /// <c>net.ipv4.icmp_ignore_bogus_error_responses</c>: when off, an error quoting a datagram sent to a
    /// broadcast address is ignored as bogus (RFC 1122 3.2.2). Linux's default is on (such errors are not checked).
    /// </summary>
    public bool IgnoreBogusErrorResponses { get; init; } = true;

    /// <summary>
    /// Linux's <c>icmp_global_consume</c> takes a random 0–2 credits per message. Off (ActorStack's default) takes
    /// exactly 1, so rate-limited counts are exact; on draws from the host's seeded random source.
    /// </summary>
    public bool RandomGlobalConsume { get; init; }
}
