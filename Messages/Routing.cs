using Akka.Actor;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

/// <summary>The netdevice events the FIB reacts to (<c>fib_netdev_event</c>).</summary>
public enum FibDevEvent
{
    /// <summary>NETDEV_CHANGE without RUNNING / LOWER_UP: <c>fib_sync_down_dev</c> flags next hops <c>linkdown</c>.</summary>
    CarrierDown,
    /// <summary>NETDEV_CHANGE with the carrier back: <c>fib_sync_up(dev, RTNH_F_LINKDOWN)</c>.</summary>
    CarrierUp,
    /// <summary>NETDEV_DOWN: <c>fib_disable_ip</c> flushes the routes through the device.</summary>
    Down,
    /// <summary>NETDEV_UP: <c>fib_add_ifaddr</c> puts the device's address routes back.</summary>
    Up,
}

/// <summary>A netdevice event for the host's FIB, told by the link watch to the routing actor (the FIB's owner).</summary>
public sealed record FibNetdevEvent(string Device, FibDevEvent Event);

/// <summary>
/// <c>__ip_rt_update_pmtu</c>: learn <paramref name="Mtu"/> toward <paramref name="Destination"/> (bounded by the
/// route's device MTU), told by whoever handled an ICMP fragmentation-needed to the routing actor, which owns the
/// next-hop exceptions and publishes the new cache.
/// </summary>
public sealed record PmtuUpdate(Ipv4Address Destination, int Mtu, int DeviceMtu, long NowTicks);

/// <summary>
/// Delivers <paramref name="Message"/> to <paramref name="Recipient"/> once the routing actor has applied (and
/// published) every FIB change told to it before: how the link watch keeps RTNL's order, where a change that
/// returns (<c>ip link set down</c>) or is announced (<c>RTM_NEWLINK</c>) has already updated the FIB.
/// </summary>
public sealed record AfterFibSync(IActorRef Recipient, object Message);
