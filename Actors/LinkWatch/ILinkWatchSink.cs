namespace ActorStack.Actors.LinkWatch;

/// <summary>
/// The side effects of <see cref="LinkWatch"/>, in the order the kernel code
/// performs them. The owning actor turns them into messages (an <c>ip monitor
/// link</c> stream, commands to the qdisc / driver). Called synchronously from
/// inside the engine's methods; implementations must not call back into the
/// same <see cref="LinkWatch"/> and must not throw.
/// </summary>
public interface ILinkWatchSink
{
    /// <summary>
    /// <c>call_netdevice_notifiers(ev, dev)</c> is about to walk the netdevice
    /// notifier chain (<see cref="LinkWatch.Notifiers"/> runs right after this).
    /// Carries the live device: listeners read its current state.
    /// </summary>
    void NetdevNotifier(NetdevEvent ev, NetDeviceState dev);

    /// <summary><c>rtmsg_ifinfo(RTM_NEWLINK, dev, ...)</c>: a message to RTNLGRP_LINK listeners (<c>ip monitor link</c>).</summary>
    void RtmNewLink(LinkSnapshot link);

    /// <summary><c>RTM_DELLINK</c> from <c>unregister_netdevice</c>.</summary>
    void RtmDelLink(LinkSnapshot link);

    /// <summary>
    /// <c>dev_activate</c> moved the TX queue from <c>noop_qdisc</c> to the
    /// device's qdisc (carrier was ok): transmit may flow. Only raised when the
    /// transition happened; <c>dev_activate</c> without carrier attaches the
    /// default qdisc and returns ("delay activation until next carrier-on event").
    /// </summary>
    void DevActivate(NetDeviceState dev);

    /// <summary>
    /// <c>dev_deactivate</c>: the TX queue now points at <c>noop_qdisc</c>, the TX
    /// watchdog is stopped (<c>dev_watchdog_down</c>). The owner of the qdisc
    /// must <c>qdisc_reset</c> it: every queued packet is dropped and counted
    /// with <c>DropReason.QUEUE_PURGE</c>, and new transmits are dropped
    /// (<c>noop_enqueue</c>) until <see cref="DevActivate"/>.
    /// </summary>
    void DevDeactivate(NetDeviceState dev);

    /// <summary>
    /// <c>__netdev_watchdog_up</c>: (re)arm the TX watchdog timer to fire
    /// <see cref="NetDeviceState.WatchdogTimeoMs"/> from now (<c>mod_timer</c>
    /// restarts an armed timer).
    /// </summary>
    void WatchdogUp(NetDeviceState dev);
}

/// <summary>A sink that ignores everything, for owners that only use the notifier chain.</summary>
public sealed class NullLinkWatchSink : ILinkWatchSink
{
    public static readonly NullLinkWatchSink Instance = new();
    private NullLinkWatchSink() { }
    public void NetdevNotifier(NetdevEvent ev, NetDeviceState dev) { }
    public void RtmNewLink(LinkSnapshot link) { }
    public void RtmDelLink(LinkSnapshot link) { }
    public void DevActivate(NetDeviceState dev) { }
    public void DevDeactivate(NetDeviceState dev) { }
    public void WatchdogUp(NetDeviceState dev) { }
}
