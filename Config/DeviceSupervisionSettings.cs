namespace ActorStack.Config;

/// <summary>
/// NIC driver supervision tunables read from <c>actorstack.device-defaults</c> (every NIC of every host), each
/// with its Linux or igb default. The actors turn it into <c>DriverSupervisionSettings</c> (Hardware/Link).
/// </summary>
/// <param name="ResetLimit"><c>reset-limit</c>: driver resets allowed within <paramref name="ResetWindow"/>; the
/// next fault leaves the device down (operstate DOWN).</param>
/// <param name="ResetWindow"><c>reset-window</c>: the sliding window resets are counted in.</param>
/// <param name="WatchdogTimeo"><c>watchdog-timeo</c>: <c>dev-&gt;watchdog_timeo</c>, a stopped TX queue with no
/// transmission for this long is a TX timeout (<c>dev_watchdog</c>); 5 s when the driver sets none.</param>
/// <param name="LinkUpDelay"><c>link-up-delay</c>: from a driver reset to carrier on (PHY autonegotiation after
/// <c>igb_reset</c>), doubled per reset in the window.</param>
public sealed record DeviceSupervisionSettings(int ResetLimit, TimeSpan ResetWindow, TimeSpan WatchdogTimeo, TimeSpan LinkUpDelay)
{
    public static readonly DeviceSupervisionSettings Default =
        new(5, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2));
}
