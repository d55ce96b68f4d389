namespace ActorStack.Config;

/// <summary>
/// NIC driver supervision tunables read from <c>actorstack.device-defaults</c> (every NIC of every host), each
/// with its Linux or igb default; the host actor's supervisor (<c>DriverResetPolicy</c>), the NIC driver's TX
/// watchdog and the link watch use them as they are.
/// </summary>
/// <param name="ResetLimit"><c>reset-limit</c>: driver resets allowed within <paramref name="ResetWindow"/>; the
/// next fault leaves the device down (operstate DOWN).</param>
/// <param name="ResetWindow"><c>reset-window</c>: the sliding window resets are counted in.</param>
/// <param name="WatchdogTimeo"><c>watchdog-timeo</c>: <c>dev-&gt;watchdog_timeo</c>, a stopped TX queue with no
/// transmission for this long is a TX timeout (<c>dev_watchdog</c>); 5 s when the driver sets none.</param>
/// <param name="LinkUpDelay"><c>link-up-delay</c>: from a driver reset to carrier on (PHY autonegotiation after
/// <c>igb_reset</c>; igb's watchdog task sees the link after about 2 s), doubled per reset in the window, capped at
/// <paramref name="ResetWindow"/>.</param>
public sealed record DeviceSupervisionSettings(int ResetLimit, TimeSpan ResetWindow, TimeSpan WatchdogTimeo, TimeSpan LinkUpDelay)
{
    public static readonly DeviceSupervisionSettings Default =
        new(5, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2));

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
