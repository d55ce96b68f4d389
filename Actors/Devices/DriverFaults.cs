using ActorStack.Messages;

namespace ActorStack.Actors.Devices;

/// <summary>An injected driver fault (<see cref="DriverFaultKind"/>) or <c>crash driver</c>: the driver actor fails and its supervisor resets the device.</summary>
public sealed class DriverFaultException(string device, string what) : Exception($"{device}: driver fault: {what}")
{
    public string Device { get; } = device;
}

/// <summary>
/// <c>dev_watchdog</c> found the TX queue stopped with no transmission for <c>watchdog_timeo</c>
/// ("NETDEV WATCHDOG: eth0 (igb): transmit queue 0 timed out"); <c>ndo_tx_timeout</c> schedules the reset.
/// </summary>
public sealed class TxTimeoutException(string device, TimeSpan stalled)
    : Exception($"NETDEV WATCHDOG: {device}: transmit queue 0 timed out {(long)stalled.TotalMilliseconds} ms")
{
    public string Device { get; } = device;
}
