using ActorStack.Messages;
using ActorStack.Config;

namespace ActorStack.Actors.LinkWatch;

/// <summary>
/// The link-watch machinery of one network namespace (one simulated host),
/// <c>netif_carrier_on/off</c>, <c>linkwatch_fire_event</c>,
/// <c>linkwatch_schedule_work</c>, <c>__linkwatch_run_queue</c>,
/// <c>linkwatch_do_dev</c>, <c>netdev_state_change</c>
/// (net/sched/sch_generic.c, net/core/link_watch.c, net/core/dev.c), plus the
/// device table, <c>dev_open</c> / <c>dev_close</c> and the netdevice notifier
/// chain they drive.
/// <para>
/// Time is passed in as <c>nowMs</c> (jiffies at HZ=1000). The engine sets no
/// timers: the delayed work <c>linkwatch_work</c> is represented by
/// <see cref="WorkDueAtMs"/>; after any call the owner (re)arms one keyed timer
/// for that time, or cancels it when null, and calls <see cref="RunWork"/> when
/// it fires. Side effects go to the <see cref="ILinkWatchSink"/> and to the
/// in-process <see cref="Notifiers"/> chain, synchronously and in kernel order.
/// </para>
/// Single-threaded: the owning actor serialises every call (the kernel's RTNL
/// and <c>lweventlist_lock</c>).
/// </summary>
public sealed class LinkWatch
{
    /// <summary>ENODEV (19): Messages.Errno has no member for it yet.</summary>
    public const Errno ENODEV = Errno.ENODEV;
    /// <summary>EEXIST (17): Messages.Errno has no member for it yet.</summary>
    public const Errno EEXIST = Errno.EEXIST;

    private readonly ILinkWatchSink _sink;
    private readonly long _hz;
    private readonly string _defaultQdisc;

    // dev_base_head (registration order) and dev_index_head.
    private readonly List<NetDeviceState> _devBase = new();
    private readonly Dictionary<int, NetDeviceState> _byIndex = new();

    // static LIST_HEAD(lweventlist): each device at most once (link_watch_list).
    private readonly List<NetDeviceState> _lweventlist = new();
    // LIST_HEAD(wrk) of the __linkwatch_run_queue in progress.
    private readonly List<NetDeviceState> _wrk = new();

    // static unsigned long linkwatch_flags: LW_URGENT.
    private bool _lwUrgent;
    // static unsigned long linkwatch_nextevent.
    private long _nextEvent;
    // DECLARE_DELAYED_WORK(linkwatch_work): when its timer expires; null = not pending.
    private long? _workDueAt;

    public LinkWatch(ILinkWatchSink sink, LinkWatchSettings? settings = null)
    {
        settings ??= LinkWatchSettings.Default;
        var errors = settings.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(settings));
        _sink = sink;
        _hz = settings.RateLimitMs;
        _defaultQdisc = settings.DefaultQdisc;
    }

    /// <summary><c>netdev_chain</c>: in-process subscribers to NETDEV_* events of this namespace's devices.</summary>
    public NetdevNotifierChain Notifiers { get; } = new();

    /// <summary>When the delayed <c>linkwatch_work</c> should run (ms, the caller's clock); null when not scheduled.</summary>
    public long? WorkDueAtMs => _workDueAt;
    /// <summary><c>linkwatch_nextevent</c>: the earliest time of the next non-urgent run.</summary>
    public long NextEventMs => _nextEvent;
    /// <summary><c>LW_URGENT</c>: an urgent run is scheduled.</summary>
    public bool UrgentPending => _lwUrgent;
    /// <summary>Devices on <c>lweventlist</c>, in order.</summary>
    public IReadOnlyList<NetDeviceState> EventList => _lweventlist;
    /// <summary>Registered devices in registration order (<c>for_each_netdev</c>).</summary>
    public IReadOnlyList<NetDeviceState> Devices => _devBase;

    /// <summary>How many times <c>linkwatch_do_dev</c> ran.</summary>
    public long DoDevCalls { get; private set; }
    /// <summary>How many times <c>__linkwatch_run_queue</c> ran.</summary>
    public long RunQueueCalls { get; private set; }

    /// <summary><c>__dev_get_by_index</c>.</summary>
    public NetDeviceState? GetByIndex(int ifIndex) => _byIndex.GetValueOrDefault(ifIndex);
    /// <summary><c>__dev_get_by_name</c>.</summary>
    public NetDeviceState? GetByName(string name) => _devBase.FirstOrDefault(d => d.Name == name);

    /// <summary><c>ip -o link show</c>: one line per registered device, in registration order.</summary>
    public IEnumerable<string> FormatIpLink()
        => _devBase.Select(d => IpLinkFormatter.Format(d.Snapshot(), i => GetByIndex(i)?.Name));

    // time_after(a, b): a is later than b.
    private static bool TimeAfter(long a, long b) => b - a < 0;

    // ---------------------------------------------------------------- netif_carrier_on/off

    /// <summary>
    /// <c>netif_carrier_on</c> (net/sched/sch_generic.c). Acts only on a real
    /// change of NOCARRIER; a device not yet registered changes the bit and
    /// nothing else. Returns whether the bit changed.
    /// </summary>
    public bool CarrierOn(NetDeviceState dev, long nowMs)
    {
        // if (test_and_clear_bit(__LINK_STATE_NOCARRIER, &dev->state)) {
        if (!dev.NoCarrier) return false;
        dev.NoCarrier = false;
        // if (dev->reg_state == NETREG_UNINITIALIZED) return;
        if (dev.RegState == NetRegState.Uninitialized) return true;
        // atomic_inc(&dev->carrier_up_count);
        dev.CarrierUpCount++;
        // linkwatch_fire_event(dev);
        FireEvent(dev, nowMs);
        // if (netif_running(dev)) __netdev_watchdog_up(dev);
        if (dev.IsRunning) NetdevWatchdogUp(dev);
        return true;
    }

    /// <summary><c>netif_carrier_off</c>: same shape as <see cref="CarrierOn"/>, counting <c>carrier_down_count</c>. Returns whether the bit changed.</summary>
    public bool CarrierOff(NetDeviceState dev, long nowMs)
    {
        // if (!test_and_set_bit(__LINK_STATE_NOCARRIER, &dev->state)) {
        if (dev.NoCarrier) return false;
        dev.NoCarrier = true;
        // if (dev->reg_state == NETREG_UNINITIALIZED) return;
        if (dev.RegState == NetRegState.Uninitialized) return true;
        // atomic_inc(&dev->carrier_down_count);
        dev.CarrierDownCount++;
        // linkwatch_fire_event(dev);
        FireEvent(dev, nowMs);
        return true;
    }

    /// <summary><c>netif_dormant_on</c>: a real change of __LINK_STATE_DORMANT fires a link-watch event (no reg_state check, as in Linux).</summary>
    public void DormantOn(NetDeviceState dev, long nowMs)
    {
        if (dev.Dormant) return;
        dev.Dormant = true;
        FireEvent(dev, nowMs);
    }

    /// <summary><c>netif_dormant_off</c>.</summary>
    public void DormantOff(NetDeviceState dev, long nowMs)
    {
        if (!dev.Dormant) return;
        dev.Dormant = false;
        FireEvent(dev, nowMs);
    }

    /// <summary><c>netif_testing_on</c>: a real change of __LINK_STATE_TESTING fires a link-watch event.</summary>
    public void TestingOn(NetDeviceState dev, long nowMs)
    {
        if (dev.Testing) return;
        dev.Testing = true;
        FireEvent(dev, nowMs);
    }

    /// <summary><c>netif_testing_off</c>.</summary>
    public void TestingOff(NetDeviceState dev, long nowMs)
    {
        if (!dev.Testing) return;
        dev.Testing = false;
        FireEvent(dev, nowMs);
    }

    /// <summary>
    /// <c>netif_device_detach</c>: clears __LINK_STATE_PRESENT (hot unplug,
    /// suspend, a driver reset); a running device's TX queues stop. While not
    /// present, <c>linkwatch_do_dev</c> updates operstate but neither
    /// activates, deactivates nor notifies.
    /// </summary>
    public void DeviceDetach(NetDeviceState dev)
    {
        // if (test_and_clear_bit(__LINK_STATE_PRESENT, &dev->state) && netif_running(dev))
        if (!dev.Present) return;
        dev.Present = false;
        if (dev.IsRunning) dev.TxQueuesStopped = true;   // netif_tx_stop_all_queues
    }

    /// <summary><c>netif_device_attach</c>: sets PRESENT again; a running device's queues wake and its watchdog is rearmed.</summary>
    public void DeviceAttach(NetDeviceState dev)
    {
        // if (!test_and_set_bit(__LINK_STATE_PRESENT, &dev->state) && netif_running(dev)) {
        if (dev.Present) return;
        dev.Present = true;
        if (dev.IsRunning)
        {
            dev.TxQueuesStopped = false;                 // netif_tx_wake_all_queues
            NetdevWatchdogUp(dev);                       // __netdev_watchdog_up
        }
    }

    // ---------------------------------------------------------------- linkwatch_fire_event

    /// <summary>
    /// <c>linkwatch_urgent_event</c>: only a running device; a stacked device
    /// (<c>ifindex != iflink</c>) always; otherwise carrier ok while the TX
    /// queue still points at <c>noop_qdisc</c> (<c>qdisc_tx_changing</c>:
    /// "minimise down-time: drop delay for up event"). LAG ports, urgent in
    /// Linux, are not modelled.
    /// </summary>
    public static bool IsUrgentEvent(NetDeviceState dev)
    {
        if (!dev.IsRunning) return false;
        if (dev.IfIndex != dev.GetIfLink()) return true;
        return dev.CarrierOk && QdiscTxChanging(dev);
    }

    // qdisc_tx_changing: some txq->qdisc differs from its qdisc_sleeping (the root
    // attached by attach_default_qdiscs), i.e. the queue is on noop_qdisc.
    private static bool QdiscTxChanging(NetDeviceState dev)
        => dev.TxQdisc == TxQdiscState.Noop && dev.RootQdisc != "noop";

    /// <summary>
    /// <c>linkwatch_fire_event</c>: the first event sets PENDING and queues the
    /// device; a later event while PENDING is absorbed unless urgent, in which
    /// case only the work is rescheduled (the device is already queued).
    /// </summary>
    public void FireEvent(NetDeviceState dev, long nowMs)
    {
        // bool urgent = linkwatch_urgent_event(dev);
        bool urgent = IsUrgentEvent(dev);
        // if (!test_and_set_bit(__LINK_STATE_LINKWATCH_PENDING, &dev->state)) {
        if (!dev.LinkwatchPending)
        {
            dev.LinkwatchPending = true;
            // linkwatch_add_event(dev);
            AddEvent(dev);
        }
        // } else if (!urgent) return;
        else if (!urgent)
            return;
        // linkwatch_schedule_work(urgent);
        ScheduleWork(urgent, nowMs);
    }

    // linkwatch_add_event: list_add_tail only if not already on a list.
    private void AddEvent(NetDeviceState dev)
    {
        if (dev.OnLinkWatchList) return;
        dev.OnLinkWatchList = true;
        _lweventlist.Add(dev);
    }

    // ---------------------------------------------------------------- linkwatch_schedule_work

    /// <summary>
    /// <c>linkwatch_schedule_work</c>. Non-urgent: delay until
    /// <c>linkwatch_nextevent</c> without overriding an already pending timer
    /// (<c>queue_delayed_work</c>). Urgent: LW_URGENT and delay 0, overriding
    /// the timer (<c>mod_delayed_work(..., 0)</c>). A delay above HZ (also the
    /// unsigned wrap of a <c>nextevent</c> already in the past) becomes 0.
    /// </summary>
    public void ScheduleWork(bool urgent, long nowMs)
    {
        // unsigned long delay = linkwatch_nextevent - jiffies;
        long delay = _nextEvent - nowMs;

        // if (test_bit(LW_URGENT, &linkwatch_flags)) return;
        if (_lwUrgent) return;

        // Minimise down-time: drop delay for up event.
        if (urgent)
        {
            // if (test_and_set_bit(LW_URGENT, &linkwatch_flags)) return;
            if (_lwUrgent) return;
            _lwUrgent = true;
            delay = 0;
        }

        // If we wrap around we'll delay it by at most HZ. (A negative difference
        // is a huge unsigned one in the kernel, so it also lands here.)
        if (delay > _hz || delay < 0) delay = 0;

        // If urgent, schedule immediate execution; otherwise, don't override the existing timer.
        if (_lwUrgent)
            _workDueAt = nowMs;                              // mod_delayed_work(system_wq, &linkwatch_work, 0)
        else if (_workDueAt is null)
            _workDueAt = nowMs + delay;                      // schedule_delayed_work(&linkwatch_work, delay)
    }

    /// <summary>
    /// The <c>linkwatch_work</c> timer fired: <c>linkwatch_event</c>, i.e.
    /// <c>__linkwatch_run_queue(time_after(linkwatch_nextevent, jiffies))</c> — an
    /// urgent-only run while still inside the rate-limit second. A stale timer
    /// (nothing scheduled, or <paramref name="nowMs"/> before
    /// <see cref="WorkDueAtMs"/>) does nothing and returns false.
    /// </summary>
    public bool RunWork(long nowMs)
    {
        if (_workDueAt is not { } due || nowMs < due) return false;
        _workDueAt = null;   // the workqueue clears PENDING before calling the function
        RunQueue(TimeAfter(_nextEvent, nowMs), nowMs);
        return true;
    }

    /// <summary><c>linkwatch_run_queue</c>: a full run now, as RTNL users call it (<c>__linkwatch_run_queue(0)</c>).</summary>
    public void LinkwatchRunQueue(long nowMs) => RunQueue(false, nowMs);

    // ---------------------------------------------------------------- __linkwatch_run_queue

    /// <summary>
    /// <c>__linkwatch_run_queue(urgent_only)</c>. A full run starts a new
    /// rate-limit second; an urgent-only run handles the urgent devices and puts
    /// the others back on <c>lweventlist</c> (PENDING still set), then
    /// reschedules the work for them.
    /// </summary>
    public void RunQueue(bool urgentOnly, long nowMs)
    {
        RunQueueCalls++;
        // Limit the number of linkwatch events to one per second so that a runaway
        // driver does not cause a storm of messages on the netlink socket. This limit
        // does not apply to up events while the device qdisc is down.
        if (!urgentOnly)
            _nextEvent = nowMs + _hz;                        // linkwatch_nextevent = jiffies + HZ;
        // Limit wrap-around effect on delay.
        else if (TimeAfter(_nextEvent, nowMs + _hz))
            _nextEvent = nowMs;

        // clear_bit(LW_URGENT, &linkwatch_flags);
        _lwUrgent = false;

        // list_splice_init(&lweventlist, &wrk);
        _wrk.AddRange(_lweventlist);
        _lweventlist.Clear();

        while (_wrk.Count > 0)
        {
            // dev = list_first_entry(&wrk, ...); list_del_init(&dev->link_watch_list);
            var dev = _wrk[0];
            _wrk.RemoveAt(0);
            dev.OnLinkWatchList = false;

            // if (urgent_only && !linkwatch_urgent_event(dev)) { list_add_tail(..., &lweventlist); continue; }
            if (urgentOnly && !IsUrgentEvent(dev))
            {
                dev.OnLinkWatchList = true;
                _lweventlist.Add(dev);
                continue;
            }
            DoDev(dev);
        }

        // if (!list_empty(&lweventlist)) linkwatch_schedule_work(0);
        if (_lweventlist.Count > 0) ScheduleWork(false, nowMs);
    }

    // ---------------------------------------------------------------- linkwatch_do_dev

    /// <summary>
    /// <c>linkwatch_do_dev</c> as the seed quotes it: PENDING cleared first (new
    /// events are accepted again), RFC 2863 policy, then only for a device that
    /// is IFF_UP and present: <c>dev_activate</c> / <c>dev_deactivate</c> and
    /// <c>netdev_state_change</c>.
    /// </summary>
    private void DoDev(NetDeviceState dev)
    {
        DoDevCalls++;
        // clear_bit(__LINK_STATE_LINKWATCH_PENDING, &dev->state);
        dev.LinkwatchPending = false;
        // rfc2863_policy(dev);
        Rfc2863Policy(dev);
        // if (dev->flags & IFF_UP && netif_device_present(dev)) {
        if (dev.IsUp && dev.Present)
        {
            // if (netif_carrier_ok(dev)) dev_activate(dev); else dev_deactivate(dev);
            if (dev.CarrierOk) DevActivate(dev);
            else DevDeactivate(dev);
            // netdev_state_change(dev);
            NetdevStateChange(dev);
        }
    }

    /// <summary>
    /// <c>default_operstate</c> (current net/core/link_watch.c): TESTING first;
    /// without carrier DOWN, or LOWERLAYERDOWN when the device is stacked on a
    /// lower device (iflink) that has no carrier either; DORMANT; else UP.
    /// </summary>
    public IfOperState DefaultOperstate(NetDeviceState dev)
    {
        if (dev.Testing) return IfOperState.TESTING;
        if (!dev.CarrierOk)
        {
            int iflink = dev.GetIfLink();
            if (dev.RegState == NetRegState.Unregistered || iflink == dev.IfIndex) return IfOperState.DOWN;
            var peer = GetByIndex(iflink);
            if (peer is null) return IfOperState.DOWN;
            return peer.CarrierOk ? IfOperState.DOWN : IfOperState.LOWERLAYERDOWN;
        }
        if (dev.Dormant) return IfOperState.DORMANT;
        return IfOperState.UP;
    }

    /// <summary>
    /// <c>rfc2863_policy</c>: sets operstate from <see cref="DefaultOperstate"/>;
    /// link mode DORMANT / TESTING turns UP into DORMANT / TESTING. As in Linux,
    /// the early return compares the default value, before the link-mode mapping.
    /// </summary>
    private void Rfc2863Policy(NetDeviceState dev)
    {
        var operstate = DefaultOperstate(dev);
        if (operstate == dev.OperState) return;
        switch (dev.LinkMode)
        {
            case IfLinkMode.TESTING:
                if (operstate == IfOperState.UP) operstate = IfOperState.TESTING;
                break;
            case IfLinkMode.DORMANT:
                if (operstate == IfOperState.UP) operstate = IfOperState.DORMANT;
                break;
        }
        dev.OperState = operstate;
    }

    // linkwatch_init_dev: handle pre-registration link state changes.
    private void LinkwatchInitDev(NetDeviceState dev)
    {
        if (!dev.CarrierOk || dev.Dormant || dev.Testing) Rfc2863Policy(dev);
    }

    /// <summary>
    /// <c>dev_activate</c> (net/sched/sch_generic.c): attaches the default
    /// qdisc if the device has none yet; without carrier stops there ("delay
    /// activation until next carrier-on event"); otherwise points the TX queue
    /// at the qdisc (<c>transition_one_qdisc</c>) and arms the TX watchdog for
    /// queued devices.
    /// </summary>
    private void DevActivate(NetDeviceState dev)
    {
        // if (dev->qdisc == &noop_qdisc) attach_default_qdiscs(dev);
        if (dev.RootQdisc == "noop") dev.RootQdisc = dev.NoQueue ? "noqueue" : _defaultQdisc;
        // if (!netif_carrier_ok(dev)) return;
        if (!dev.CarrierOk) return;
        dev.TxQdisc = TxQdiscState.Active;
        _sink.DevActivate(dev);
        // if (need_watchdog) { netif_trans_update(dev); dev_watchdog_up(dev); } — not for noqueue
        if (!dev.NoQueue) NetdevWatchdogUp(dev);
    }

    /// <summary>
    /// <c>dev_deactivate</c> → <c>dev_deactivate_many</c>: TX queue to
    /// <c>noop_qdisc</c>, <c>dev_watchdog_down</c>; the sink's owner resets the
    /// qdisc (queued packets dropped and counted).
    /// </summary>
    private void DevDeactivate(NetDeviceState dev)
    {
        dev.TxQdisc = TxQdiscState.Noop;
        dev.TxWatchdogRunning = false;
        _sink.DevDeactivate(dev);
    }

    // __netdev_watchdog_up: only drivers with ndo_tx_timeout; mod_timer (re)arms.
    private void NetdevWatchdogUp(NetDeviceState dev)
    {
        if (!dev.HasTxTimeout) return;
        dev.TxWatchdogRunning = true;
        _sink.WatchdogUp(dev);
    }

    // ---------------------------------------------------------------- netdev_state_change

    /// <summary>
    /// <c>netdev_state_change</c>: only while IFF_UP, NETDEV_CHANGE to the
    /// notifier chain, then RTM_NEWLINK to routing listeners.
    /// </summary>
    public void NetdevStateChange(NetDeviceState dev)
    {
        if (!dev.IsUp) return;
        CallNetdeviceNotifiers(NetdevEvent.NETDEV_CHANGE, dev);
        RtmsgIfinfo(dev);
    }

    /// <summary><c>call_netdevice_notifiers</c>: the sink sees the event, then the chain runs.</summary>
    public NotifyResult CallNetdeviceNotifiers(NetdevEvent ev, NetDeviceState dev)
    {
        _sink.NetdevNotifier(ev, dev);
        return Notifiers.CallChain(ev, dev);
    }

    // rtmsg_ifinfo(RTM_NEWLINK, dev, ...)
    private void RtmsgIfinfo(NetDeviceState dev) => _sink.RtmNewLink(dev.Snapshot());

    /// <summary>
    /// <c>register_netdevice_notifier</c>: adds the block, then replays
    /// NETDEV_REGISTER (and NETDEV_UP for devices that are up) for every
    /// existing device to that block only. False if the chain refused it.
    /// </summary>
    public bool RegisterNetdeviceNotifier(NetdevNotifierBlock nb)
    {
        if (!Notifiers.Register(nb)) return false;
        foreach (var dev in _devBase.ToArray())
        {
            NetdevNotifierChain.CallOne(nb, NetdevEvent.NETDEV_REGISTER, dev);
            if (dev.IsUp) NetdevNotifierChain.CallOne(nb, NetdevEvent.NETDEV_UP, dev);
        }
        return true;
    }

    /// <summary>
    /// <c>unregister_netdevice_notifier</c>: removes the block, then replays
    /// NETDEV_GOING_DOWN + NETDEV_DOWN (for up devices) and NETDEV_UNREGISTER
    /// for every device to that block, so it can clean up. False if it was not registered.
    /// </summary>
    public bool UnregisterNetdeviceNotifier(NetdevNotifierBlock nb)
    {
        if (!Notifiers.Unregister(nb)) return false;
        foreach (var dev in _devBase.ToArray())
        {
            if (dev.IsUp)
            {
                NetdevNotifierChain.CallOne(nb, NetdevEvent.NETDEV_GOING_DOWN, dev);
                NetdevNotifierChain.CallOne(nb, NetdevEvent.NETDEV_DOWN, dev);
            }
            NetdevNotifierChain.CallOne(nb, NetdevEvent.NETDEV_UNREGISTER, dev);
        }
        return true;
    }

    // ---------------------------------------------------------------- administrative state

    /// <summary>
    /// <c>dev_open</c> (<c>ip link set dev X up</c>): no-op on an up device;
    /// ENODEV if not present. Sets __LINK_STATE_START, IFF_UP, runs
    /// <c>dev_activate</c> (TX flows only if the carrier is up), then
    /// RTM_NEWLINK and NETDEV_UP (<c>__dev_notify_flags</c> order). The driver's
    /// <c>ndo_open</c> is the owner's business. Independent of the carrier.
    /// </summary>
    public Errno DevOpen(NetDeviceState dev)
    {
        if (dev.IsUp) return Errno.OK;
        // __dev_open: if (!netif_device_present(dev)) return -ENODEV;
        if (!dev.Present || dev.RegState != NetRegState.Registered) return ENODEV;
        dev.Start = true;                                    // set_bit(__LINK_STATE_START, &dev->state)
        dev.Flags |= NetDeviceFlags.IFF_UP;                  // dev->flags |= IFF_UP
        DevActivate(dev);                                    // dev_activate(dev)
        RtmsgIfinfo(dev);                                    // rtmsg_ifinfo(RTM_NEWLINK, dev, IFF_UP|IFF_RUNNING)
        CallNetdeviceNotifiers(NetdevEvent.NETDEV_UP, dev);  // call_netdevice_notifiers(NETDEV_UP, dev)
        return Errno.OK;
    }

    /// <summary>
    /// <c>dev_close</c> (<c>ip link set dev X down</c>): no-op on a down device.
    /// NETDEV_GOING_DOWN, clear __LINK_STATE_START, <c>dev_deactivate</c>,
    /// clear IFF_UP, then RTM_NEWLINK and NETDEV_DOWN. The carrier bit is left
    /// alone (the driver's <c>ndo_stop</c> may turn it off).
    /// </summary>
    public void DevClose(NetDeviceState dev)
    {
        if (!dev.IsUp) return;
        // __dev_close_many
        CallNetdeviceNotifiers(NetdevEvent.NETDEV_GOING_DOWN, dev);
        dev.Start = false;                                   // clear_bit(__LINK_STATE_START, &dev->state)
        DevDeactivate(dev);                                  // dev_deactivate_many(head)
        dev.Flags &= ~NetDeviceFlags.IFF_UP;                 // dev->flags &= ~IFF_UP
        // dev_close_many
        RtmsgIfinfo(dev);                                    // rtmsg_ifinfo(RTM_NEWLINK, dev, IFF_UP|IFF_RUNNING)
        CallNetdeviceNotifiers(NetdevEvent.NETDEV_DOWN, dev);
    }

    // ---------------------------------------------------------------- registration

    /// <summary>
    /// <c>register_netdevice</c>: PRESENT set, <c>linkwatch_init_dev</c> (a
    /// carrier turned off before registration gives operstate DOWN; a device
    /// that never touched its carrier stays UNKNOWN, like <c>lo</c>), listed,
    /// NETREG_REGISTERED, NETDEV_REGISTER, RTM_NEWLINK. EEXIST for a taken
    /// ifindex or name; EINVAL for a device registered before.
    /// </summary>
    public Errno RegisterNetdevice(NetDeviceState dev)
    {
        if (dev.RegState != NetRegState.Uninitialized) return Errno.EINVAL;
        if (dev.IfIndex <= 0) return Errno.EINVAL;
        if (_byIndex.ContainsKey(dev.IfIndex) || GetByName(dev.Name) is not null) return EEXIST;
        dev.Present = true;                                  // set_bit(__LINK_STATE_PRESENT, &dev->state)
        LinkwatchInitDev(dev);                               // linkwatch_init_dev(dev)
        _devBase.Add(dev);                                   // list_netdevice(dev)
        _byIndex[dev.IfIndex] = dev;
        dev.RegState = NetRegState.Registered;               // dev->reg_state = NETREG_REGISTERED
        CallNetdeviceNotifiers(NetdevEvent.NETDEV_REGISTER, dev);
        RtmsgIfinfo(dev);                                    // rtmsg_ifinfo(RTM_NEWLINK, dev, ~0U)
        return Errno.OK;
    }

    /// <summary>
    /// <c>unregister_netdevice</c> + <c>netdev_run_todo</c>: closes an up
    /// device, unlists it, NETREG_UNREGISTERING, <c>dev_shutdown</c> (qdisc back
    /// to noop), NETDEV_UNREGISTER, RTM_DELLINK, NETREG_UNREGISTERED, and
    /// <c>linkwatch_forget_dev</c> (a pending event is handled now, without
    /// notifications since the device is down). False if not registered here.
    /// </summary>
    public bool UnregisterNetdevice(NetDeviceState dev)
    {
        if (dev.RegState != NetRegState.Registered || !_byIndex.TryGetValue(dev.IfIndex, out var known) || known != dev)
            return false;
        DevClose(dev);                                       // dev_close_many(&close_head, true)
        _devBase.Remove(dev);                                // unlist_netdevice(dev)
        _byIndex.Remove(dev.IfIndex);
        dev.RegState = NetRegState.Unregistering;
        dev.RootQdisc = "noop";                              // dev_shutdown(dev)
        dev.TxQdisc = TxQdiscState.Noop;
        dev.TxWatchdogRunning = false;
        CallNetdeviceNotifiers(NetdevEvent.NETDEV_UNREGISTER, dev);
        _sink.RtmDelLink(dev.Snapshot());                    // rtmsg_ifinfo_build_skb(RTM_DELLINK, ...)
        dev.RegState = NetRegState.Unregistered;             // netdev_run_todo
        LinkwatchForgetDev(dev);
        return true;
    }

    // linkwatch_forget_dev: take the device off the event list and handle it now.
    private void LinkwatchForgetDev(NetDeviceState dev)
    {
        if (!dev.OnLinkWatchList) return;
        _lweventlist.Remove(dev);
        _wrk.Remove(dev);
        dev.OnLinkWatchList = false;
        DoDev(dev);
    }
}
