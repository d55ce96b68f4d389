namespace ActorStack.Config;

/// <summary>
/// Tunables of <see cref="LinkWatch"/>, each with the Linux default.
/// </summary>
/// <param name="RateLimitMs">
/// The link-watch rate limit: <c>linkwatch_nextevent = jiffies + HZ</c>, one
/// non-urgent run per second. Also the bound of the wrap rule
/// (<c>if (delay &gt; HZ) delay = 0</c>). Must be &gt; 0.
/// </param>
/// <param name="DefaultQdisc">
/// <c>net.core.default_qdisc</c>: what <c>attach_default_qdiscs</c> puts on a
/// device with a queue (kernel default <c>pfifo_fast</c>; many distributions
/// set <c>fq_codel</c>). Devices with <c>IFF_NO_QUEUE</c> get <c>noqueue</c>.
/// </param>
public sealed record LinkWatchSettings(long RateLimitMs = 1000, string DefaultQdisc = "pfifo_fast")
{
    public static readonly LinkWatchSettings Default = new();

    /// <summary>The problems with these values, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (RateLimitMs <= 0) errors.Add($"link_watch.rate_limit: must be > 0 ms, got {RateLimitMs}");
        if (string.IsNullOrWhiteSpace(DefaultQdisc)) errors.Add("net.core.default_qdisc: must name a qdisc");
        return errors;
    }
}
