using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using ActorStack.Actors.Routing;
using ActorStack.Messages;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;

namespace ActorStack.Actors.LinkWatch;

/// <summary>
/// The link watch of one host (<c>netif_carrier_on/off</c> through <c>linkwatch_do_dev</c> and <c>netdev_state_change</c>): the actor around the plain <see cref="LinkWatch"/> engine, which does all
/// the kernel logic. It registers the host's devices at start (NICs with the carrier off until their PHY sees a
/// link, as <c>igb_probe</c> leaves them; <c>lo</c> untouched, so operstate UNKNOWN), opens the ones that are up,
/// and then turns messages into engine calls:
/// <list type="bullet">
/// <item><see cref="NetifCarrier"/> from drivers → <c>netif_carrier_on/off</c>;</item>
/// <item><see cref="LinkSetAdmin"/> → <c>dev_open</c> / <c>dev_close</c> (<c>ip link set dev X up|down</c>);</item>
/// <item>the delayed <c>linkwatch_work</c> → one keyed timer on the scheduler's clock at
/// <see cref="LinkWatch.WorkDueAtMs"/> (due now: a message to itself, so the current message finishes first, as
/// the workqueue runs after the caller returns).</item>
/// </list>
/// The engine's side effects go out as messages: <see cref="DevActivateTx"/> / <see cref="DevDeactivateTx"/> /
/// <see cref="NetdevWatchdogUp"/> to the driver, <see cref="RtnlLinkEvent"/> to <c>ip monitor link</c>
/// subscribers. The stack's own notifier blocks react as Linux's do, in <c>inet_init</c> order: <c>arp</c>
/// (<c>arp_netdev_event</c>: <c>neigh_carrier_down</c> on NETDEV_CHANGE without carrier, <c>neigh_ifdown</c> on
/// NETDEV_DOWN) then <c>fib</c> (<c>fib_netdev_event</c>: RTNH_F_LINKDOWN on NETDEV_CHANGE, routes through the
/// device flushed on NETDEV_DOWN and the address routes put back on NETDEV_UP, so senders get ENETUNREACH
/// while the device is down). Outside subscribers register notifier blocks by message.
/// </summary>
public sealed class LinkWatchActor : UntypedActor, IWithTimers, ILinkWatchSink
{
    private sealed class RunWork
    {
        public static readonly RunWork Instance = new();
    }

    private const string WorkTimer = "linkwatch_work";
    /// <summary>Bound on <c>ip monitor link</c> subscribers per host (netlink has no fixed one; this keeps the list finite).</summary>
    public const int MaxMonitors = 64;

    private readonly NetNamespace _ns;
    private readonly LinkWatch _lw;
    private readonly Dictionary<int, NetDeviceState> _byIndex = new();
    private readonly List<IActorRef> _monitors = new();
    private readonly Dictionary<string, NetdevNotifierBlock> _external = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long? _armedFor;
    private HostRefs _refs;

    public ITimerScheduler Timers { get; set; } = null!;

    public LinkWatchActor(NetNamespace ns, HostRefs refs, LinkWatchSettings? settings = null)
    {
        _ns = ns;
        _refs = refs;
        _lw = new LinkWatch(this, settings);
        // inet_init: arp_init registers arp_netdev_notifier before ip_fib_init registers fib_netdev_notifier.
        _lw.RegisterNetdeviceNotifier(new NetdevNotifierBlock("arp", ArpNetdevEvent));
        _lw.RegisterNetdeviceNotifier(new NetdevNotifierBlock("fib", FibNetdevEvent));

    }

    // One switch instead of ReceiveActor's per-instance handler set (a link watch per host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            // The devices are registered once the host has introduced the drivers (created after this actor).
            case HostRefs r:
                _refs = r;
                if (_byIndex.Count > 0) break;
                RegisterDevices();
                Rearm(NowMs);
                break;
            case NetifCarrier m: OnCarrier(m); break;
            case LinkSetAdmin m: OnSetAdmin(m); break;
            case RunWork: OnRunWork(); break;
            case SubscribeLinkMonitor m: OnSubscribe(m); break;
            case UnsubscribeLinkMonitor m:
            {
                bool removed = _monitors.Remove(m.Subscriber);
                if (removed) Context.Unwatch(m.Subscriber);
                Sender.Tell(removed ? new LinkMonitorSubscribed(m.Subscriber, false) : new CommandFailed(m, Errno.ENOENT));
                break;
            }
            case Terminated t: _monitors.Remove(t.ActorRef); break;
            case RegisterNetdevNotifier m: OnRegisterNotifier(m); break;
            case UnregisterNetdevNotifier m: OnUnregisterNotifier(m); break;
            case GetLinks: Sender.Tell(Links()); break;
            default: Unhandled(message); break;
        }
    }

    protected override void PreStart() => Rearm(NowMs);

    /// <summary>
    /// <c>register_netdevice</c> for every device of the host: NICs with the carrier off until their PHY sees a link
    /// (as <c>igb_probe</c> leaves them), <c>lo</c> untouched; then <c>dev_open</c> for the ones configured up.
    /// </summary>
    private void RegisterDevices()
    {
        long now = NowMs;
        foreach (var dev in _ns.Devices)
        {
            var st = new NetDeviceState(dev.Name, dev.Ifindex,
                dev.IsLoopback ? NetDeviceFlags.IFF_LOOPBACK : NetDeviceFlags.IFF_BROADCAST | NetDeviceFlags.IFF_MULTICAST,
                dev.Settings.Mtu, dev.Settings.TxQueueLen, dev.Mac)
            {
                NoQueue = dev.IsLoopback,
                HasTxTimeout = !dev.IsLoopback,
                WatchdogTimeoMs = (int)_ns.Supervision.WatchdogTimeo.TotalMilliseconds,
            };
            bool adminUp = dev.Up;                            // the configuration's state, before registration publishes
            if (!dev.IsLoopback) _lw.CarrierOff(st, now);   // probe: no link seen yet
            _lw.RegisterNetdevice(st);
            _byIndex[dev.Ifindex] = st;
            if (adminUp) _lw.DevOpen(st);
            Publish(st);
        }
    }

    private long NowMs => Context.System.Scheduler.Now.UtcTicks / TimeSpan.TicksPerMillisecond;

    /// <summary>The engine, for tests in the same process (read only from the actor's own messages).</summary>
    internal LinkWatch Engine => _lw;

    private void OnCarrier(NetifCarrier m)
    {
        if (!_byIndex.TryGetValue(m.Ifindex, out var st)) return;
        long now = NowMs;
        if (m.On) _lw.CarrierOn(st, now);
        else _lw.CarrierOff(st, now);
        Publish(st);
        Rearm(now);
    }

    private void OnSetAdmin(LinkSetAdmin m)
    {
        var st = _lw.GetByName(m.Device);
        if (st is null)
        {
            Sender.Tell(new CommandFailed(m, Errno.ENODEV));
            return;
        }
        var err = Errno.OK;
        if (m.Up) err = _lw.DevOpen(st);
        else _lw.DevClose(st);
        Publish(st);
        Rearm(NowMs);
        // RTNL order: `ip link set` returns once the FIB has followed (fib_netdev_event ran before the reply).
        _refs.Routing.Tell(new AfterFibSync(Sender, err == Errno.OK ? new LinkAdminSet(m.Device, m.Up) : new CommandFailed(m, err)), Self);
    }

    private void OnRunWork()
    {
        _armedFor = null;
        long now = NowMs;
        if (_lw.RunWork(now))
            foreach (var st in _byIndex.Values) Publish(st);
        Rearm(now);
    }

    /// <summary>Keeps one timer at <see cref="LinkWatch.WorkDueAtMs"/> (<c>queue_delayed_work</c> / <c>mod_delayed_work</c>).</summary>
    private void Rearm(long now)
    {
        if (_lw.WorkDueAtMs is not { } due)
        {
            if (_armedFor is not null) Timers.Cancel(WorkTimer);
            _armedFor = null;
            return;
        }
        if (_armedFor == due) return;
        _armedFor = due;
        if (due <= now)
        {
            Timers.Cancel(WorkTimer);
            Self.Tell(RunWork.Instance);
        }
        else Timers.StartSingleTimer(WorkTimer, RunWork.Instance, TimeSpan.FromMilliseconds(due - now));
    }

    /// <summary>Publishes what <c>ip -s link</c> and the host snapshot read: admin state, operstate, carrier counters.</summary>
    private void Publish(NetDeviceState st)
    {
        if (_ns.Device(st.IfIndex) is not { } dev) return;
        dev.Up = st.IsUp;
        dev.OperState = st.ReportedOperState.ToString();
        dev.Carrier = st.CarrierOk;
        Volatile.Write(ref dev.Stats.CarrierUpCount, st.CarrierUpCount);
        Volatile.Write(ref dev.Stats.CarrierDownCount, st.CarrierDownCount);
    }

    private void OnSubscribe(SubscribeLinkMonitor m)
    {
        if (_monitors.Contains(m.Subscriber)) { Sender.Tell(new LinkMonitorSubscribed(m.Subscriber, true)); return; }
        if (_monitors.Count >= MaxMonitors) { Sender.Tell(new CommandFailed(m, Errno.ENOBUFS)); return; }
        _monitors.Add(m.Subscriber);
        Context.Watch(m.Subscriber);
        Sender.Tell(new LinkMonitorSubscribed(m.Subscriber, true));
    }

    private void OnRegisterNotifier(RegisterNetdevNotifier m)
    {
        if (_external.ContainsKey(m.Name)) { Sender.Tell(new CommandFailed(m, Errno.EEXIST)); return; }
        var sub = m.Subscriber;
        var name = m.Name;
        var nb = new NetdevNotifierBlock(name, (ev, d) =>
        {
            sub.Tell(new NetdevNotification(name, ev.ToString(), d.IfIndex, d.Name, d.IsUp, d.CarrierOk, d.ReportedOperState.ToString()));
            return NotifyResult.NOTIFY_DONE;
        }, m.Priority);
        if (!_lw.RegisterNetdeviceNotifier(nb)) { Sender.Tell(new CommandFailed(m, Errno.ENOBUFS)); return; }
        _external[m.Name] = nb;
        Sender.Tell(new NetdevNotifierChanged(m.Name, true));
    }

    private void OnUnregisterNotifier(UnregisterNetdevNotifier m)
    {
        if (!_external.Remove(m.Name, out var nb)) { Sender.Tell(new CommandFailed(m, Errno.ENOENT)); return; }
        _lw.UnregisterNetdeviceNotifier(nb);
        Sender.Tell(new NetdevNotifierChanged(m.Name, false));
    }

    private LinkList Links()
    {
        var lines = ImmutableArray.CreateBuilder<string>();
        var links = ImmutableArray.CreateBuilder<LinkStateInfo>();
        foreach (var st in _lw.Devices)
        {
            var snap = st.Snapshot();
            lines.Add(IpLinkFormatter.Format(snap, i => _lw.GetByIndex(i)?.Name));
            lines.Add("    " + IpLinkFormatter.FormatCarrierStats(snap));
            var dev = _ns.Device(st.IfIndex);
            links.Add(new LinkStateInfo(st.IfIndex, st.Name, st.IsUp, st.CarrierOk, snap.OperState.ToString(), snap.Qdisc,
                st.CarrierUpCount, st.CarrierDownCount, dev is null ? 0 : Interlocked.Read(ref dev.DriverResets),
                dev is null ? 0 : Interlocked.Read(ref dev.TxTimeouts), dev?.DriverFailed ?? false));
        }
        return new LinkList(_ns.Name, lines.ToImmutable(), links.ToImmutable());
    }

    // ---------------------------------------------------------------- the stack's own notifier blocks

    /// <summary>
    /// <c>arp_netdev_event</c>: NETDEV_CHANGE on a device without carrier → <c>neigh_carrier_down</c> (permanent
    /// entries kept); NETDEV_DOWN → <c>neigh_ifdown</c> (every entry of the device).
    /// </summary>
    private NotifyResult ArpNetdevEvent(NetdevEvent ev, NetDeviceState dev)
    {
        if (dev.NoQueue) return NotifyResult.NOTIFY_DONE;   // lo: IFF_NOARP, no neighbour entries
        if (ev == NetdevEvent.NETDEV_CHANGE && !dev.CarrierOk)
            _refs.Neighbour.Tell(new NeighFlushDev(dev.Name, false), Self);
        else if (ev == NetdevEvent.NETDEV_DOWN)
            _refs.Neighbour.Tell(new NeighFlushDev(dev.Name, true), Self);
        return NotifyResult.NOTIFY_DONE;
    }

    /// <summary>
    /// <c>fib_netdev_event</c>, told to the FIB's owner (the routing actor). NETDEV_CHANGE: <c>fib_sync_up(dev,
    /// RTNH_F_LINKDOWN)</c> when the device is RUNNING or LOWER_UP, else <c>fib_sync_down_dev(NETDEV_CHANGE)</c> —
    /// next hops through it flagged <c>linkdown</c>. NETDEV_DOWN: <c>fib_disable_ip</c>. NETDEV_UP:
    /// <c>fib_add_ifaddr</c> puts the kernel routes back. What this actor announces afterwards (the
    /// <c>ip link set</c> reply, <c>RTM_NEWLINK</c>) goes through the routing actor, so it arrives after the change.
    /// </summary>
    private NotifyResult FibNetdevEvent(NetdevEvent ev, NetDeviceState dev)
    {
        FibDevEvent? e = ev switch
        {
            NetdevEvent.NETDEV_CHANGE => (dev.GetFlags() & (NetDeviceFlags.IFF_RUNNING | NetDeviceFlags.IFF_LOWER_UP)) != 0
                ? FibDevEvent.CarrierUp : FibDevEvent.CarrierDown,
            NetdevEvent.NETDEV_DOWN => FibDevEvent.Down,
            NetdevEvent.NETDEV_UP => FibDevEvent.Up,
            _ => null,
        };
        if (e is { } fe) _refs.Routing.Tell(new FibNetdevEvent(dev.Name, fe), Self);
        return NotifyResult.NOTIFY_DONE;
    }

    // ---------------------------------------------------------------- ILinkWatchSink

    void ILinkWatchSink.NetdevNotifier(NetdevEvent ev, NetDeviceState dev)
        => _log.Debug("{0}: {1} {2}", _ns.Name, ev, dev.Name);

    void ILinkWatchSink.RtmNewLink(LinkSnapshot link) => Monitor(RtnlLinkKind.RTM_NEWLINK, link);

    void ILinkWatchSink.RtmDelLink(LinkSnapshot link) => Monitor(RtnlLinkKind.RTM_DELLINK, link);

    void ILinkWatchSink.DevActivate(NetDeviceState dev) => DriverOf(dev)?.Tell(DevActivateTx.Instance, Self);

    void ILinkWatchSink.DevDeactivate(NetDeviceState dev) => DriverOf(dev)?.Tell(DevDeactivateTx.Instance, Self);

    void ILinkWatchSink.WatchdogUp(NetDeviceState dev) => DriverOf(dev)?.Tell(NetdevWatchdogUp.Instance, Self);

    private IActorRef? DriverOf(NetDeviceState st)
        => _ns.Device(st.IfIndex) is { IsLoopback: false } d && !_refs.Driver(d.Ifindex).IsNobody() ? _refs.Driver(d.Ifindex) : null;

    private void Monitor(RtnlLinkKind kind, LinkSnapshot l)
    {
        if (_ns.Device(l.IfIndex) is { } dev)
        {
            dev.OperState = l.OperState.ToString();
            dev.Up = (l.Flags & NetDeviceFlags.IFF_UP) != 0;
        }
        if (_monitors.Count == 0) return;
        var ev = new RtnlLinkEvent(_ns.Name, kind, l.IfIndex, l.Name, (l.Flags & NetDeviceFlags.IFF_UP) != 0, l.Carrier,
            l.OperState.ToString(), l.CarrierUpCount, l.CarrierDownCount, IpLinkFormatter.Format(l, i => _lw.GetByIndex(i)?.Name));
        foreach (var m in _monitors) _refs.Routing.Tell(new AfterFibSync(m, ev), Self);   // after the FIB followed
    }

    public static Props Props(NetNamespace ns, HostRefs refs, LinkWatchSettings? settings = null)
        => FactoryProps.Of(() => new LinkWatchActor(ns, refs, settings));
}
