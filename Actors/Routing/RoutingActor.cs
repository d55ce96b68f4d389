using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Actors.Routing;

/// <summary>
/// The owner of one host's FIB and its next-hop exceptions (the learned path MTUs): the only actor that changes
/// them, as the kernel changes the FIB only under RTNL. Changes arrive as messages — netdevice events from the
/// link watch (<see cref="FibNetdevEvent"/>: <c>fib_netdev_event</c>), learned MTUs from ICMP
/// (<see cref="PmtuUpdate"/>) — and each is applied to the writer's copy and published whole as an immutable
/// snapshot (<see cref="NetNamespace.Fib"/>, <see cref="NetNamespace.Pmtu"/>), which every other actor reads
/// without a lock or a message (RCU). It starts from the published tables, so a restart loses nothing.
/// <see cref="AfterFibSync"/> hands a message on after the changes told before it are published.
/// </summary>
public sealed class RoutingActor : UntypedActor
{
    private readonly NetNamespace _ns;
    private readonly Fib _fib;
    // Kernel routes fib_disable_ip flushed at NETDEV_DOWN, which fib_add_ifaddr installs again at NETDEV_UP
    // (one list per device of the host: bounded by the device count).
    private readonly Dictionary<string, IReadOnlyList<FibRoute>> _flushedKernelRoutes = new(StringComparer.Ordinal);

    public RoutingActor(NetNamespace ns)
    {
        _ns = ns;
        _fib = ns.Fib.ToBuilder();
    }

    // One switch instead of ReceiveActor's per-instance handler set (a routing actor per host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case FibNetdevEvent m: OnNetdevEvent(m); break;
            case PmtuUpdate m: _ns.Pmtu = _ns.Pmtu.Update(m.Destination, m.Mtu, m.DeviceMtu, m.NowTicks, out _); break;
            case AfterFibSync m: m.Recipient.Tell(m.Message, Sender); break;
            default: Unhandled(message); break;
        }
    }

    /// <summary>
    /// <c>fib_netdev_event</c>. NETDEV_CHANGE: next hops through the device flagged or cleared <c>linkdown</c>.
    /// NETDEV_DOWN: <c>fib_disable_ip</c>. NETDEV_UP: the kernel routes flushed at the last NETDEV_DOWN back.
    /// Then <c>rt_cache_flush</c>: the new table's generation makes cached routes look again.
    /// </summary>
    private void OnNetdevEvent(FibNetdevEvent m)
    {
        switch (m.Event)
        {
            case FibDevEvent.CarrierDown or FibDevEvent.CarrierUp:
                _fib.MarkLinkDown(m.Device, m.Event == FibDevEvent.CarrierDown);
                break;
            case FibDevEvent.Down:
                _flushedKernelRoutes[m.Device] = _fib.DisableIp(m.Device);
                break;
            case FibDevEvent.Up:
                if (!_flushedKernelRoutes.Remove(m.Device, out var routes)) return;
                _fib.Restore(routes);
                break;
        }
        _ns.Fib = _fib.ToTable();
    }

    public static Props Props(NetNamespace ns) => FactoryProps.Of(() => new RoutingActor(ns));
}
