using ActorStack.Messages.Packets;

namespace ActorStack.Actors.LinkWatch;

/// <summary><c>enum netdev_reg_state</c> (include/linux/netdevice.h), the states a device passes through.</summary>
public enum NetRegState
{
    /// <summary><c>NETREG_UNINITIALIZED</c>: allocated, not yet registered; carrier changes fire nothing.</summary>
    Uninitialized = 0,
    /// <summary><c>NETREG_REGISTERED</c>: completed <c>register_netdevice</c>.</summary>
    Registered,
    /// <summary><c>NETREG_UNREGISTERING</c>: called <c>unregister_netdevice</c>.</summary>
    Unregistering,
    /// <summary><c>NETREG_UNREGISTERED</c>: completed unregistration (<c>netdev_run_todo</c>).</summary>
    Unregistered,
}

/// <summary>RFC 2863 operational status, <c>IF_OPER_*</c> (include/uapi/linux/if.h); the values are Linux's.</summary>
public enum IfOperState : byte
{
    UNKNOWN = 0,
    NOTPRESENT = 1,
    DOWN = 2,
    LOWERLAYERDOWN = 3,
    TESTING = 4,
    DORMANT = 5,
    UP = 6,
}

/// <summary><c>IF_LINK_MODE_*</c>: how <c>rfc2863_policy</c> treats a device whose lower layer is up.</summary>
public enum IfLinkMode : byte
{
    /// <summary><c>IF_LINK_MODE_DEFAULT</c>: operstate UP once the carrier is up.</summary>
    DEFAULT = 0,
    /// <summary><c>IF_LINK_MODE_DORMANT</c>: UP becomes DORMANT (userspace, e.g. a supplicant, moves it to UP).</summary>
    DORMANT = 1,
    /// <summary><c>IF_LINK_MODE_TESTING</c>: UP becomes TESTING.</summary>
    TESTING = 2,
}

/// <summary>Interface flags as <c>SIOCGIFFLAGS</c> / <c>IFLA_IFNAME</c> report them (<c>IFF_*</c>, include/uapi/linux/if.h).</summary>
[Flags]
public enum NetDeviceFlags : uint
{
    IFF_UP = 0x1,
    IFF_BROADCAST = 0x2,
    IFF_DEBUG = 0x4,
    IFF_LOOPBACK = 0x8,
    IFF_POINTOPOINT = 0x10,
    IFF_NOTRAILERS = 0x20,
    IFF_RUNNING = 0x40,
    IFF_NOARP = 0x80,
    IFF_PROMISC = 0x100,
    IFF_ALLMULTI = 0x200,
    IFF_MASTER = 0x400,
    IFF_SLAVE = 0x800,
    IFF_MULTICAST = 0x1000,
    IFF_PORTSEL = 0x2000,
    IFF_AUTOMEDIA = 0x4000,
    IFF_DYNAMIC = 0x8000,
    IFF_LOWER_UP = 0x10000,
    IFF_DORMANT = 0x20000,
    IFF_ECHO = 0x40000,
}

/// <summary>
/// What each TX queue's <c>dev_queue-&gt;qdisc</c> points at. <c>dev_deactivate</c>
/// swaps in <c>noop_qdisc</c> (every enqueue is dropped, nothing dequeues);
/// <c>dev_activate</c> puts the sleeping qdisc back (<c>transition_one_qdisc</c>).
/// </summary>
public enum TxQdiscState
{
    /// <summary><c>&amp;noop_qdisc</c>: transmit stopped.</summary>
    Noop,
    /// <summary><c>qdisc_sleeping</c> attached: transmit flows.</summary>
    Active,
}

/// <summary>
/// The link-state part of one <c>struct net_device</c> (as <c>netif_carrier_on/off</c> and <c>linkwatch_do_dev</c> see it): the
/// <c>dev-&gt;state</c> bits, <c>dev-&gt;flags</c>, <c>reg_state</c>,
/// <c>operstate</c>, the carrier counters and the qdisc / watchdog state that
/// <c>dev_activate</c> / <c>dev_deactivate</c> change.
/// <para>
/// Owned by one <see cref="LinkWatch"/> (one network namespace), which is the
/// only writer: drivers and <c>ip link</c> go through its methods
/// (<c>netif_carrier_on</c>, <c>dev_open</c>, ...). Not thread-safe; the owning
/// actor serialises access.
/// </para>
/// </summary>
public sealed class NetDeviceState
{
    /// <summary>
    /// A device as <c>alloc_netdev</c> + <c>ether_setup</c> leave it: carrier on
    /// (the NOCARRIER bit clear), not present until registered, operstate
    /// UNKNOWN, qdisc <c>noop</c>, flags BROADCAST|MULTICAST for Ethernet.
    /// </summary>
    public NetDeviceState(string name, int ifIndex, NetDeviceFlags flags = NetDeviceFlags.IFF_BROADCAST | NetDeviceFlags.IFF_MULTICAST,
        int mtu = 1500, int txQueueLen = 1000, MacAddress? address = null)
    {
        Name = name;
        IfIndex = ifIndex;
        Flags = flags & ~NetDeviceFlags.IFF_UP;
        Mtu = mtu;
        TxQueueLen = txQueueLen;
        Address = address;
    }

    public string Name { get; }
    /// <summary><c>dev-&gt;ifindex</c>, unique in the namespace.</summary>
    public int IfIndex { get; }
    /// <summary>
    /// <c>dev_get_iflink</c> when it differs from <see cref="IfIndex"/>: the
    /// lower device of a stacked device (VLAN, veth peer). Null = the device is
    /// its own link (a physical NIC). Events of stacked devices are urgent
    /// (<c>linkwatch_urgent_event</c>).
    /// </summary>
    public int? IfLink { get; init; }
    public MacAddress? Address { get; init; }
    public int Mtu { get; init; }
    /// <summary><c>dev-&gt;tx_queue_len</c> (<c>txqueuelen</c>, Linux default 1000).</summary>
    public int TxQueueLen { get; init; }
    /// <summary><c>IFF_NO_QUEUE</c> private flag (loopback, virtual devices): <c>attach_one_default_qdisc</c> picks <c>noqueue</c>.</summary>
    public bool NoQueue { get; init; }
    /// <summary>The driver has <c>ndo_tx_timeout</c>, so <c>__netdev_watchdog_up</c> arms the TX watchdog.</summary>
    public bool HasTxTimeout { get; init; } = true;
    /// <summary><c>dev-&gt;watchdog_timeo</c> in ms; Linux uses 5 s when the driver leaves it 0 (<c>__netdev_watchdog_up</c>).</summary>
    public int WatchdogTimeoMs { get; init; } = 5000;
    /// <summary><c>dev-&gt;link_mode</c> (<c>IFLA_LINKMODE</c>).</summary>
    public IfLinkMode LinkMode { get; set; }

    /// <summary><c>dev-&gt;flags</c> as stored: IFF_UP is the administrative state (<c>ip link set up/down</c>). RUNNING / LOWER_UP / DORMANT are derived, see <see cref="GetFlags"/>.</summary>
    public NetDeviceFlags Flags { get; internal set; }
    public NetRegState RegState { get; internal set; }

    /// <summary><c>__LINK_STATE_START</c>: <c>netif_running</c>, set by <c>dev_open</c> before IFF_UP, cleared by <c>dev_close</c>.</summary>
    public bool Start { get; internal set; }
    /// <summary><c>__LINK_STATE_PRESENT</c>: <c>netif_device_present</c>; set by <c>register_netdevice</c>, cleared by <c>netif_device_detach</c>.</summary>
    public bool Present { get; internal set; }
    /// <summary><c>__LINK_STATE_NOCARRIER</c>. Clear on a fresh device (carrier assumed), as in Linux.</summary>
    public bool NoCarrier { get; internal set; }
    /// <summary><c>__LINK_STATE_LINKWATCH_PENDING</c>: an event for this device is queued and not yet handled.</summary>
    public bool LinkwatchPending { get; internal set; }
    /// <summary><c>__LINK_STATE_DORMANT</c> (<c>netif_dormant_on/off</c>).</summary>
    public bool Dormant { get; internal set; }
    /// <summary><c>__LINK_STATE_TESTING</c> (<c>netif_testing_on/off</c>).</summary>
    public bool Testing { get; internal set; }
    /// <summary><c>dev-&gt;operstate</c> as stored; reported as DOWN while not running (<c>rtnl_fill_ifinfo</c>), see <see cref="ReportedOperState"/>.</summary>
    public IfOperState OperState { get; internal set; } = IfOperState.UNKNOWN;

    /// <summary><c>dev-&gt;carrier_up_count</c>: real NOCARRIER set→clear transitions of a registered device (<c>IFLA_CARRIER_UP_COUNT</c>).</summary>
    public long CarrierUpCount { get; internal set; }
    /// <summary><c>dev-&gt;carrier_down_count</c> (<c>IFLA_CARRIER_DOWN_COUNT</c>).</summary>
    public long CarrierDownCount { get; internal set; }
    /// <summary><c>IFLA_CARRIER_CHANGES</c> = up + down counts.</summary>
    public long CarrierChanges => CarrierUpCount + CarrierDownCount;

    /// <summary>
    /// Name of <c>dev-&gt;qdisc</c>, the root qdisc <c>ip link</c> prints: "noop"
    /// until the first <c>dev_activate</c> attaches the default one
    /// (<c>attach_default_qdiscs</c>), "noop" again after <c>dev_shutdown</c>.
    /// </summary>
    public string RootQdisc { get; internal set; } = "noop";
    /// <summary>What the TX queue's qdisc pointer holds: Active after <c>dev_activate</c> with carrier, Noop after <c>dev_deactivate</c>.</summary>
    public TxQdiscState TxQdisc { get; internal set; } = TxQdiscState.Noop;
    /// <summary>The TX watchdog timer (<c>dev-&gt;watchdog_timer</c>) is armed.</summary>
    public bool TxWatchdogRunning { get; internal set; }
    /// <summary>
    /// <c>netif_tx_stop_all_queues</c> by <c>netif_device_detach</c> (<c>__QUEUE_STATE_DRV_XOFF</c>):
    /// the driver takes no frames until <c>netif_device_attach</c> wakes the queues.
    /// </summary>
    public bool TxQueuesStopped { get; internal set; }

    /// <summary>On <c>lweventlist</c> (<c>!list_empty(&amp;dev-&gt;link_watch_list)</c>).</summary>
    internal bool OnLinkWatchList { get; set; }

    public bool IsUp => (Flags & NetDeviceFlags.IFF_UP) != 0;
    /// <summary><c>netif_running</c>.</summary>
    public bool IsRunning => Start;
    /// <summary><c>netif_carrier_ok</c>.</summary>
    public bool CarrierOk => !NoCarrier;
    /// <summary><c>dev_get_iflink</c>: the lower device's ifindex, or the device's own.</summary>
    public int GetIfLink() => IfLink ?? IfIndex;
    /// <summary><c>netif_oper_up</c>: operstate UP or UNKNOWN.</summary>
    public bool OperUp => OperState is IfOperState.UP or IfOperState.UNKNOWN;

    /// <summary>
    /// <c>dev_get_flags</c>: the stored flags plus RUNNING (running and
    /// <c>netif_oper_up</c>), LOWER_UP (running and carrier) and DORMANT
    /// (running and dormant), which exist only while the device runs.
    /// </summary>
    public NetDeviceFlags GetFlags()
    {
        var f = Flags & ~(NetDeviceFlags.IFF_RUNNING | NetDeviceFlags.IFF_LOWER_UP | NetDeviceFlags.IFF_DORMANT);
        if (IsRunning)
        {
            if (OperUp) f |= NetDeviceFlags.IFF_RUNNING;
            if (CarrierOk) f |= NetDeviceFlags.IFF_LOWER_UP;
            if (Dormant) f |= NetDeviceFlags.IFF_DORMANT;
        }
        return f;
    }

    /// <summary><c>IFLA_OPERSTATE</c> as <c>rtnl_fill_ifinfo</c> fills it: the stored operstate while running, else DOWN.</summary>
    public IfOperState ReportedOperState => IsRunning ? OperState : IfOperState.DOWN;

    /// <summary>The RTM_NEWLINK / RTM_DELLINK payload for this device now (<c>rtnl_fill_ifinfo</c>).</summary>
    public LinkSnapshot Snapshot() => new(IfIndex, Name, GetFlags(), Mtu, RootQdisc, ReportedOperState, LinkMode, TxQueueLen,
        Address, CarrierOk, CarrierChanges, CarrierUpCount, CarrierDownCount, IfLink);

    public override string ToString() => IpLinkFormatter.Format(Snapshot());
}

/// <summary>
/// An immutable copy of what <c>rtnl_fill_ifinfo</c> puts in an RTM_NEWLINK
/// message: safe to send to other actors. <see cref="OperState"/> is already
/// the reported value (DOWN while not running); <see cref="Flags"/> comes from
/// <c>dev_get_flags</c>.
/// </summary>
public sealed record LinkSnapshot(
    int IfIndex,
    string Name,
    NetDeviceFlags Flags,
    int Mtu,
    string Qdisc,
    IfOperState OperState,
    IfLinkMode LinkMode,
    int TxQueueLen,
    MacAddress? Address,
    bool Carrier,
    long CarrierChanges,
    long CarrierUpCount,
    long CarrierDownCount,
    int? IfLink)
{
    public override string ToString() => IpLinkFormatter.Format(this);
}
