namespace ActorStack.Messages;

/// <summary>
/// Driver → the host's link watch: <c>netif_carrier_on</c> (<paramref name="On"/>) or <c>netif_carrier_off</c>
/// for device <paramref name="Ifindex"/>. The link watch acts only on a real change (<c>netif_carrier_on/off</c>).
/// </summary>
public sealed record NetifCarrier(int Ifindex, bool On);

/// <summary>
/// Link watch → driver: <c>dev_activate</c> put the device's qdisc back on its TX queue (transmit flows, the TX
/// watchdog runs).
/// </summary>
public sealed record DevActivateTx
{
    public static readonly DevActivateTx Instance = new();
}

/// <summary>
/// Link watch → driver: <c>dev_deactivate</c>: the TX queue now points at <c>noop_qdisc</c>. The driver resets
/// its qdisc (every queued packet dropped with <c>QUEUE_PURGE</c>), stops its TX watchdog, and drops new
/// transmits (<c>noop_enqueue</c>: <c>QDISC_DROP</c>, <c>tx_dropped</c>) until <see cref="DevActivateTx"/>.
/// </summary>
public sealed record DevDeactivateTx
{
    public static readonly DevDeactivateTx Instance = new();
}

/// <summary>Link watch → driver: <c>__netdev_watchdog_up</c> (carrier on while running): (re)arm the TX watchdog.</summary>
public sealed record NetdevWatchdogUp
{
    public static readonly NetdevWatchdogUp Instance = new();
}

/// <summary>
/// Link watch → neighbour actor: <c>neigh_carrier_down</c> (NETDEV_CHANGE without carrier: non-permanent entries
/// of the device flushed) or, with <paramref name="IncludePermanent"/>, <c>neigh_ifdown</c> (NETDEV_DOWN: all of
/// them). Packets queued on flushed entries are dropped (<c>QUEUE_PURGE</c>).
/// </summary>
public sealed record NeighFlushDev(string Device, bool IncludePermanent);
