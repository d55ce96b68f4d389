namespace ActorStack.Hardware.Link;

/// <summary>
/// Tunables of NIC driver supervision (issue 5), each with its Linux or igb default.
/// </summary>
/// <param name="ResetLimit">
/// Resets allowed within <paramref name="ResetWindow"/>; the fault after the last allowed one leaves the device
/// down (operstate DOWN) with an error in the log. stack.hocon <c>device-defaults.reset-limit</c>.
/// </param>
/// <param name="ResetWindow">The sliding window the resets are counted in (<c>device-defaults.reset-window</c>).</param>
/// <param name="WatchdogTimeo">
/// <c>dev-&gt;watchdog_timeo</c>: a stopped TX queue with no transmission for this long is a TX timeout
/// (<c>dev_watchdog</c> → <c>ndo_tx_timeout</c>); Linux uses 5 s when the driver sets none.
/// </param>
/// <param name="LinkUpDelay">
/// Time from the driver's restart to carrier on: the PHY's autonegotiation after <c>igb_reset</c>
/// (igb's watchdog task sees the link after about 2 s). Doubled per reset within the window (the back-off),
/// capped at <paramref name="ResetWindow"/>.
/// </param>
public sealed record DriverSupervisionSettings(int ResetLimit, TimeSpan ResetWindow, TimeSpan WatchdogTimeo, TimeSpan LinkUpDelay)
{
    public static readonly DriverSupervisionSettings Default = new(5, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2));

    /// <summary>The problems with these values, each naming its stack.hocon key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var e = new List<string>();
        if (ResetLimit < 0) e.Add($"device-defaults.reset-limit: must be >= 0, got {ResetLimit}");
        if (ResetWindow <= TimeSpan.Zero) e.Add($"device-defaults.reset-window: must be > 0, got {ResetWindow}");
        if (WatchdogTimeo <= TimeSpan.Zero) e.Add($"device-defaults.watchdog-timeo: must be > 0, got {WatchdogTimeo}");
        if (LinkUpDelay < TimeSpan.Zero) e.Add($"device-defaults.link-up-delay: must be >= 0, got {LinkUpDelay}");
        return e;
    }

    /// <summary>The carrier-on delay after the <paramref name="resetsInWindow"/>-th reset in the window: base × 2^(n-1), at most the window.</summary>
    public TimeSpan LinkUpDelayAfter(int resetsInWindow)
    {
        int shift = Math.Clamp(resetsInWindow - 1, 0, 20);
        var d = TimeSpan.FromTicks(LinkUpDelay.Ticks << shift);
        return d > ResetWindow ? ResetWindow : d;
    }
}

/// <summary>What the supervisor decided about one driver fault.</summary>
/// <param name="ResetsInWindow">Resets in the window including this one (0 when giving up).</param>
/// <param name="GiveUp">The limit was reached: the device stays down.</param>
public readonly record struct DriverResetDecision(int ResetsInWindow, bool GiveUp);

/// <summary>
/// The back-off of one device's driver resets: at most <see cref="DriverSupervisionSettings.ResetLimit"/> resets
/// in any <see cref="DriverSupervisionSettings.ResetWindow"/> on the caller's clock; a fault beyond that gives up
/// for good. Bounded: it remembers at most ResetLimit times.
/// </summary>
public sealed class DriverResetPolicy(DriverSupervisionSettings settings)
{
    private readonly Queue<long> _resets = new();

    public bool GaveUp { get; private set; }
    public long TotalResets { get; private set; }

    /// <summary>A fault at <paramref name="nowMs"/>: reset (and count it) or give up.</summary>
    public DriverResetDecision OnFault(long nowMs)
    {
        if (GaveUp) return new(0, true);
        long windowMs = (long)settings.ResetWindow.TotalMilliseconds;
        while (_resets.Count > 0 && nowMs - _resets.Peek() >= windowMs) _resets.Dequeue();
        if (_resets.Count >= settings.ResetLimit)
        {
            GaveUp = true;
            return new(0, true);
        }
        _resets.Enqueue(nowMs);
        TotalResets++;
        return new(_resets.Count, false);
    }
}
