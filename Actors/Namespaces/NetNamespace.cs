using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Routing;

namespace ActorStack.Actors.Namespaces;

/// <summary>
/// One host's <c>struct net</c>: what every actor of that host shares.
/// Data moves between actors only in messages; what is shared here is what
/// Linux shares between CPUs: counters updated atomically (SNMP MIBs, device
/// and softnet statistics, the drop monitor) and tables published RCU-style as
/// immutable snapshots by the one actor that owns them (the host actor owns
/// the packet-type lists, XDP programs and netfilter table, the routing actor the FIB and PMTU cache). Actor
/// references are not kept here: they reach each actor through its Props (<see cref="HostRefs"/>). A host lives
/// on one node; nothing here crosses a cluster boundary.
/// </summary>
public sealed class NetNamespace
{
    public NetNamespace(HostSettings settings, int seed, DeviceSupervisionSettings? supervision = null)
    {
        Settings = settings;
        Seed = seed;
        Drops = new DropMonitor(settings.Name);
        Supervision = supervision ?? DeviceSupervisionSettings.Default;
        // ifindex 1 is lo (loopback_net_init registers it first), the NICs follow in configuration order.
        Devices = new[] { new NetDevice(1, LoopbackSettings) }
            .Concat(settings.Devices.Select((d, i) => new NetDevice(i + 2, d))).ToImmutableArray();
        Softnet = Enumerable.Range(0, settings.Cpus).Select(i => new SoftnetData(i)).ToImmutableArray();
        BacklogNapiScheduled = new int[settings.Cpus];
        Ip.Set(IpMib.Forwarding, settings.Sysctl.IpForward ? 1 : 2); // RFC 1213 ipForwarding: 1 forwarding, 2 not
        Ip.Set(IpMib.DefaultTTL, settings.Sysctl.IpDefaultTtl);
        _pmtu = new PmtuCache(settings.Sysctl.MinPmtu, settings.Sysctl.MtuExpires);
        // ip_rt_init: ip_idents start random (here from the run's seed, so a run replays); the values are drawn when
        // a counter is first used (IpIdentStart), the same as if the table had been filled here.
        _ipIdentSeed = SeedFor("ip_idents");

        // fib_add_ifaddr for every address, then the static routes (ip route add), in order; published as the
        // first table, from which the routing actor (the FIB's owner) takes its writer's copy.
        var fib = new Routing.Fib();
        foreach (var d in Devices)
        {
            fib.RegisterDevice(d.Name);
            foreach (var a in d.Settings.Addresses) fib.AddAddress(d.Name, a, d.IsLoopback);
        }
        foreach (var r in settings.Routes)
        {
            var st = fib.AddRoute(r.Destination, r.Via, r.Device, r.Metric, Routing.RouteTypes.Parse(r.Type), src: r.Source);
            if (!st.Ok) throw new InvalidOperationException($"host {settings.Name}: route '{r}': {st}");
        }
        _fib = fib.ToTable();
        var neigh = ImmutableDictionary.CreateBuilder<NeighKey, NeighCacheEntry>();
        foreach (var n in settings.Neighbours)
            if (Device(n.Device) is { } nd) neigh[new NeighKey(nd.Ifindex, n.Address)] = new NeighCacheEntry(n.Mac, long.MaxValue);
        _neighbours = neigh.ToImmutable();
    }

    /// <summary>The loopback device's configuration: MTU 65536, 127.0.0.1/8, no hardware address.</summary>
    public static readonly DeviceSettings LoopbackSettings = new("lo", default, Mtu: 65536, TxQueueLen: 1000,
        Addresses: [new Ipv4Prefix(Ipv4Address.Loopback, 8)]);

    /// <summary>
    /// A seed for one random source of this host (<paramref name="purpose"/> names it), derived from the run's
    /// seed and the host's name with a stable hash (string.GetHashCode differs between processes), so a run replays.
    /// </summary>
    public int SeedFor(string purpose)
    {
        uint h = 2166136261;
        foreach (char c in Name + "/" + purpose) h = (h ^ c) * 16777619;
        return (int)(h ^ (uint)Seed * 0x9E3779B1u) & 0x7fffffff;
    }

    public HostSettings Settings { get; }
    public string Name => Settings.Name;
    public SysctlSettings Sysctl => Settings.Sysctl;
    public int Seed { get; }

    public Mib<IpMib> Ip { get; } = new("Ip");
    public Mib<IpExtMib> IpExt { get; } = new("IpExt");
    public Mib<UdpMib> Udp { get; } = new("Udp");
    /// <summary>TCP counters (/proc/net/snmp <c>Tcp:</c>, /proc/net/netstat <c>TcpExt:</c>), shared by every connection.</summary>
    public Tcp.TcpCounters Tcp { get; } = new();
    public DropMonitor Drops { get; }

    public ImmutableArray<NetDevice> Devices { get; }
    public ImmutableArray<SoftnetData> Softnet { get; }
    /// <summary>Per CPU, the backlog NAPI's <c>NAPI_STATE_SCHED</c> bit (1 = on its CPU's poll list or owed an IPI), shared by the softnet actors.</summary>
    public int[] BacklogNapiScheduled { get; }

    /// <summary>Frames a <c>ptype_all</c> tap consumed because no protocol handler wanted them (Linux's <c>pt_prev</c> rule).</summary>
    public long ConsumedByTap;

    public NetDevice? Device(int ifindex) => ifindex >= 1 && ifindex - 1 < Devices.Length ? Devices[ifindex - 1] : null;
    public NetDevice Loopback => Devices[0];

    private Routing.FibTable _fib;
    /// <summary>
    /// The FIB (tables local and main) as last published by its owner, the host's routing actor (RCU): every
    /// actor of the host looks routes up in it without a lock or a message. <see cref="FibGeneration"/> moves on
    /// each publication so that cached routes (a connected socket's <c>sk_dst_cache</c>) are looked up again, as
    /// <c>rt_genid</c> does. Only the owner sets it (and tests of plain classes, standing in for it).
    /// </summary>
    public Routing.FibTable Fib { get => Volatile.Read(ref _fib); set => Volatile.Write(ref _fib, value); }
    public long FibGeneration => Fib.Generation;

    private Ipv4.Netfilter _netfilter = Ipv4.Netfilter.Empty;
    /// <summary>
    /// The host's netfilter rule table, read by every hook point without a lock; replaced whole (RCU publish) only
    /// by its owner, the host actor (the configured rules at start, <see cref="NfAddRule"/>).
    /// </summary>
    public Ipv4.Netfilter Netfilter { get => Volatile.Read(ref _netfilter); set => Volatile.Write(ref _netfilter, value); }

    private const int IpIdentsSize = 2048, IpIdentsBlock = 64;
    private readonly int _ipIdentSeed;
    // The counters in blocks of 64, each made when one of its counters is first used (an idle host holds none of the
    // table's 8 KiB); published with a compare-and-swap, so two threads making the same block agree (same draws).
    private readonly int[]?[] _ipIdents = new int[]?[IpIdentsSize / IpIdentsBlock];

    /// <summary>
    /// <c>ip_select_ident</c>: the next IP identification for packets to <paramref name="dst"/> of
    /// <paramref name="protocol"/>, from 2048 counters hashed by destination and protocol (<c>ip_idents</c>),
    /// seeded from the run's seed (<c>ip_rt_init</c> fills them with random bytes at boot: counter i starts at the
    /// i-th draw of the host's <c>ip_idents</c> random source, drawn when its block is first used).
    /// </summary>
    public ushort NextIpId(Ipv4Address dst, byte protocol)
    {
        uint h = (dst.Value * 0x9E3779B1u) ^ ((uint)protocol * 0x85EBCA77u);
        int bucket = (int)((h >> 21) & (IpIdentsSize - 1));
        ref var slot = ref _ipIdents[bucket / IpIdentsBlock];
        var block = Volatile.Read(ref slot);
        if (block is null)
        {
            Interlocked.CompareExchange(ref slot, IpIdentsBlockAt(bucket / IpIdentsBlock), null);
            block = Volatile.Read(ref slot)!;
        }
        return (ushort)Interlocked.Increment(ref block[bucket % IpIdentsBlock]);
    }

    /// <summary>Block <paramref name="b"/>'s boot values: draws b·64 … b·64+63 of the host's <c>ip_idents</c> source.</summary>
    private int[] IpIdentsBlockAt(int b)
    {
        var r = new Random(_ipIdentSeed);
        for (int i = 0; i < b * IpIdentsBlock; i++) r.Next();
        var block = new int[IpIdentsBlock];
        for (int i = 0; i < block.Length; i++) block[i] = r.Next();
        return block;
    }

    private PmtuCache _pmtu;
    /// <summary>
    /// Path MTUs learned from ICMP fragmentation needed (<c>fib_nh_exception</c>s), as last published by their
    /// owner, the routing actor; readers judge expiry against their own clock.
    /// </summary>
    public PmtuCache Pmtu { get => Volatile.Read(ref _pmtu); set => Volatile.Write(ref _pmtu, value); }

    private ImmutableDictionary<NeighKey, NeighCacheEntry> _neighbours;
    /// <summary>
    /// The neighbour entries a sender may use without the neighbour actor (NUD_CONNECTED: PERMANENT, NOARP,
    /// and REACHABLE until its time runs out), published whole by the neighbour actor on every change (RCU).
    /// Anything not here goes to the neighbour actor as <see cref="NeighOutput"/>.
    /// </summary>
    public ImmutableDictionary<NeighKey, NeighCacheEntry> Neighbours { get => Volatile.Read(ref _neighbours); set => Volatile.Write(ref _neighbours, value); }

    /// <summary>NIC driver supervision tunables (reset back-off, TX watchdog, link-up delay after a reset).</summary>
    public DeviceSupervisionSettings Supervision { get; }

    /// <summary>ICMP counters (/proc/net/snmp <c>Icmp:</c>), and per-type message counts (<c>IcmpMsg:</c>).</summary>
    public Mib<IcmpMib> Icmp { get; } = new("Icmp");
    public IcmpTypeCounters IcmpInType { get; } = new();
    public IcmpTypeCounters IcmpOutType { get; } = new();

    /// <summary><c>inet_select_addr</c>: an address of <paramref name="dev"/> in <paramref name="dst"/>'s subnet, else its primary, else any of the host's.</summary>
    public Ipv4Address SelectSource(NetDevice dev, Ipv4Address dst)
    {
        foreach (var p in dev.Settings.Addresses)
            if (p.Contains(dst)) return p.Address;
        if (dev.Settings.Addresses.Length > 0) return dev.Settings.Addresses[0].Address;
        foreach (var d in Devices)
            if (!d.IsLoopback && d.Settings.Addresses.Length > 0) return d.Settings.Addresses[0].Address;
        return dev.IsLoopback ? Ipv4Address.Loopback : Ipv4Address.Any;
    }
    public NetDevice? Device(string name) => Devices.FirstOrDefault(d => d.Name == name);

    private PtypeTable _ptypes = PtypeTable.Empty;
    /// <summary><c>ptype_all</c> and <c>ptype_base</c>, replaced whole on every change (RCU publish).</summary>
    public PtypeTable Ptypes { get => Volatile.Read(ref _ptypes); set => Volatile.Write(ref _ptypes, value); }

    private volatile bool _tracing;
    public bool Tracing { get => _tracing; set => _tracing = value; }

    /// <summary>Sockets of this host, for <c>ss</c> and the snapshot (each socket actor registers its own state).</summary>
    public ConcurrentDictionary<IActorRef, SocketCounters> Sockets { get; } = new();

    /// <summary>True when <paramref name="a"/> is one of the host's own addresses (RTN_LOCAL).</summary>
    public bool IsLocalAddress(Ipv4Address a)
    {
        if (a.IsLoopback) return true;
        foreach (var d in Devices)
            foreach (var p in d.Settings.Addresses)
                if (p.Address == a) return true;
        return false;
    }

    /// <summary>
    /// RTN_BROADCAST from the local table (<c>fib_add_ifaddr</c> puts every address's subnet broadcast there, whatever the
    /// device a packet arrives on): the limited broadcast or a directed broadcast of any device's subnets. The input route
    /// (<c>ip_route_input_slow</c> → <c>brd_input</c>) and a route's RTCF_BROADCAST use this.
    /// </summary>
    public bool IsLocalBroadcast(Ipv4Address a)
    {
        if (a.IsLimitedBroadcast) return true;
        foreach (var d in Devices)
            if (IsBroadcastAddress(a, d.Ifindex)) return true;
        return false;
    }

    /// <summary>
    /// The limited broadcast or a directed broadcast of one device's subnets (<c>inet_addr_type_dev_table</c> with that
    /// device: a broadcast route of another device's subnet is not RTN_BROADCAST there).
    /// </summary>
    public bool IsBroadcastAddress(Ipv4Address a, int ifindex)
    {
        if (a.IsLimitedBroadcast) return true;
        var dev = Device(ifindex);
        if (dev is null) return false;
        foreach (var p in dev.Settings.Addresses)
            if (p.Length < 31 && (p.BroadcastAddress == a || p.Network == a)) return true;
        return false;
    }
}

/// <summary>A <c>struct net_device</c>: identity and the counters <c>ip -s link</c> shows.</summary>
public sealed class NetDevice(int ifindex, DeviceSettings settings)
{
    public int Ifindex { get; } = ifindex;
    public DeviceSettings Settings { get; } = settings;
    public string Name => Settings.Name;
    public MacAddress Mac => Settings.Mac;
    public DeviceCounters Stats { get; } = new();
    public long[] IrqCounts { get; } = new long[settings.RxQueues];

    private XdpProgram? _xdp;
    public XdpProgram? Xdp { get => Volatile.Read(ref _xdp); set => Volatile.Write(ref _xdp, value); }

    public bool IsLoopback => Ifindex == 1;

    private volatile bool _gro = settings.Gro, _gso = settings.Gso, _tso = settings.Tso;
    /// <summary><c>NETIF_F_GRO</c> (<c>ethtool -K DEV gro</c>): the softnet merges this device's TCP segments per poll.</summary>
    public bool Gro { get => _gro; set => _gro = value; }
    /// <summary><c>NETIF_F_GSO</c>: TCP may hand this device super-packets (<c>sk_can_gso</c>).</summary>
    public bool Gso { get => _gso; set => _gso = value; }
    /// <summary><c>NETIF_F_TSO</c>: the NIC cuts TCP super-packets itself; without it the driver path does (<c>skb_gso_segment</c>).</summary>
    public bool Tso { get => _tso; set => _tso = value; }
    /// <summary>GRO results and GSO/TSO work on this device.</summary>
    public OffloadCounters Offload { get; } = new();

    private volatile bool _up = true;
    /// <summary>IFF_UP (<c>ip link set up/down</c>), published by the host's link watch.</summary>
    public bool Up { get => _up; set => _up = value; }

    private volatile string _operState = "UNKNOWN";
    /// <summary>RFC 2863 operstate as <c>ip link</c> reports it (<c>IFLA_OPERSTATE</c>), published by the host's link watch.</summary>
    public string OperState { get => _operState; set => _operState = value; }

    private volatile bool _carrier;
    /// <summary><c>netif_carrier_ok</c> as the link watch last saw it.</summary>
    public bool Carrier { get => _carrier; set => _carrier = value; }

    // ---- State of the device that outlives a driver restart (the net_device, not the driver's private data).
    // Written only by the device's driver actor (one instance at a time) and its supervisor's decider, which runs
    // while the driver is suspended.

    /// <summary>The wire the NIC is cabled to (<see cref="Messages.AttachWire"/>); Nobody when unattached.</summary>
    public Akka.Actor.IActorRef Wire { get; set; } = Akka.Actor.ActorRefs.Nobody;
    /// <summary>The medium has a link (a wire is attached and not cut): what the PHY would report.</summary>
    public bool PhyLink { get; set; }
    /// <summary>The TX queue points at <c>noop_qdisc</c> (<c>dev_deactivate</c> ran and no <c>dev_activate</c> since).</summary>
    public bool TxNoop { get; set; }
    /// <summary>TX completions still to come from the wire for frames a reset already freed; the new driver ignores them.</summary>
    public int StaleTxCompletions { get; set; }
    /// <summary>The supervisor gave up: the driver stays down, every frame to or from it is dropped (<c>DEV_READY</c>).</summary>
    public bool DriverFailed { get; set; }
    /// <summary>Resets within the current back-off window, as the supervisor last counted (sets the link-up delay).</summary>
    public int ResetsInWindow { get; set; }
    /// <summary>Armed driver exception faults by kind, kept across resets (a driver restart does not disarm them).</summary>
    public Dictionary<DriverFaultKind, ArmedFault> Faults { get; } = new();
    /// <summary>The generator every fault draw of this device uses, seeded from the run (<see cref="NetNamespace.SeedFor"/>).</summary>
    public Random? FaultRandom { get; set; }
    /// <summary>Driver resets done (ethtool-style counter) and TX timeouts seen (<c>tx_timeout_count</c>).</summary>
    public long DriverResets, TxTimeouts;
}

/// <summary>A driver fault armed on a device: fires on a run of its path with <paramref name="Probability"/>; <paramref name="Once"/> disarms it after it fired.</summary>
public readonly record struct ArmedFault(double Probability, bool Once);

/// <summary><c>struct rtnl_link_stats64</c>, updated atomically.</summary>
public sealed class DeviceCounters
{
    public long RxBytes, RxPackets, RxErrors, RxDropped, RxMissedErrors, RxFifoErrors, RxLengthErrors, RxCrcErrors, RxNohandler, Multicast;
    public long TxBytes, TxPackets, TxErrors, TxDropped, TxCarrierErrors, Collisions, CarrierUpCount, CarrierDownCount;
    /// <summary>The qdisc's statistics as <c>tc -s qdisc</c> shows them.</summary>
    public long QdiscPackets, QdiscBytes, QdiscDrops, QdiscRequeues, QdiscBacklog, QdiscOverlimits;
    /// <summary>Times the TX ring filled and the driver stopped the queue (<c>netif_tx_stop_queue</c>; ethtool's <c>tx_restart_queue</c> counts the wakes).</summary>
    public long TxQueueStopped, TxRestartQueue;
    public QdiscStats QdiscSnapshot() => new(Volatile.Read(ref QdiscPackets), Volatile.Read(ref QdiscBytes), Volatile.Read(ref QdiscDrops),
        Volatile.Read(ref QdiscRequeues), Volatile.Read(ref QdiscBacklog), Volatile.Read(ref QdiscOverlimits),
        Volatile.Read(ref TxQueueStopped), Volatile.Read(ref TxRestartQueue));

    public LinkCounters Snapshot() => new(
        Volatile.Read(ref RxBytes), Volatile.Read(ref RxPackets), Volatile.Read(ref RxErrors), Volatile.Read(ref RxDropped),
        Volatile.Read(ref RxMissedErrors), Volatile.Read(ref RxFifoErrors), Volatile.Read(ref RxLengthErrors), Volatile.Read(ref RxCrcErrors),
        Volatile.Read(ref RxNohandler), Volatile.Read(ref Multicast),
        Volatile.Read(ref TxBytes), Volatile.Read(ref TxPackets), Volatile.Read(ref TxErrors), Volatile.Read(ref TxDropped),
        Volatile.Read(ref TxCarrierErrors), Volatile.Read(ref Collisions), Volatile.Read(ref CarrierUpCount), Volatile.Read(ref CarrierDownCount));
}

/// <summary>
/// A device's GRO results (<c>napi_skb_finish</c>'s <c>gro_result_t</c>) and GSO/TSO work, updated atomically by
/// the softnet actors (GRO) and the driver (segmentation).
/// </summary>
public sealed class OffloadCounters
{
    public long GroMerged, GroMergedFree, GroHeld, GroNormal, GroFlushed, GroCoalesced;
    public long TsoPackets, TsoSegments, GsoPackets, GsoSegments;

    public OffloadStats Snapshot(NetDevice dev) => new(dev.Gro, dev.Gso, dev.Tso,
        Volatile.Read(ref GroMerged), Volatile.Read(ref GroMergedFree), Volatile.Read(ref GroHeld), Volatile.Read(ref GroNormal),
        Volatile.Read(ref GroFlushed), Volatile.Read(ref GroCoalesced),
        Volatile.Read(ref TsoPackets), Volatile.Read(ref TsoSegments), Volatile.Read(ref GsoPackets), Volatile.Read(ref GsoSegments));
}

/// <summary><c>struct softnet_data</c>'s counters, updated by the CPU's softnet actor.</summary>
public sealed class SoftnetData(int cpu)
{
    public int Cpu { get; } = cpu;
    public long Processed, Dropped, TimeSqueeze, ReceivedRps, FlowLimitCount;
    /// <summary><c>net_rx_action</c> runs on this CPU (<c>/proc/softirqs</c> NET_RX) and <c>wakeup_softirqd</c> calls past the restart limit.</summary>
    public long NetRxSoftirqs, KsoftirqdWakeups;
    /// <summary>The backlog queue, readable for <c>input_qlen</c>; set by the softnet actor when it starts.</summary>
    public Mailboxes.ChargedMessageQueue? Backlog { get; set; }
    public int ProcessQlen;

    public SoftnetStat Snapshot() => new(Cpu, Volatile.Read(ref Processed), Volatile.Read(ref Dropped), Volatile.Read(ref TimeSqueeze),
        Volatile.Read(ref ReceivedRps), Volatile.Read(ref FlowLimitCount), (int)(Backlog?.Charge ?? 0), Volatile.Read(ref ProcessQlen));
}

/// <summary>A socket's state as <c>ss</c> reads it, kept up to date by the socket actor.</summary>
public sealed class SocketCounters(SockType type, byte protocol)
{
    public SockType Type { get; } = type;
    public byte Protocol { get; } = protocol;
    public volatile Mailboxes.ChargedMessageQueue? Queue;
    public Ipv4Address LocalAddress, RemoteAddress;
    public ushort LocalPort, RemotePort;
    public int RcvBuf, QueuedDatagrams, SndBuf, PendingError;
    public long Drops, DatagramsRead, BytesRead, WmemAlloc, DatagramsSent, BytesSent;

    public SocketInfo Snapshot() => new(Type, Protocol, LocalAddress, LocalPort, RemoteAddress, RemotePort,
        (int)(Queue?.Charge ?? 0), Volatile.Read(ref QueuedDatagrams), Volatile.Read(ref RcvBuf), Volatile.Read(ref Drops),
        Volatile.Read(ref DatagramsRead), Volatile.Read(ref BytesRead))
    {
        SendQueueBytes = Volatile.Read(ref WmemAlloc),
        SndBuf = Volatile.Read(ref SndBuf),
        DatagramsSent = Volatile.Read(ref DatagramsSent),
        BytesSent = Volatile.Read(ref BytesSent),
        PendingError = (Errno)Volatile.Read(ref PendingError),
    };
}

/// <summary>
/// The packet-type lists of <c>__netif_receive_skb_core</c>: <c>ptype_all</c> taps and <c>ptype_base</c>
/// handlers by EtherType, immutable; <c>dev_add_pack</c> publishes a new table.
/// </summary>
public sealed record PtypeTable(ImmutableArray<PacketTypeRegistration> All,
    ImmutableDictionary<ushort, ImmutableArray<PacketTypeRegistration>> Base)
{
    public static readonly PtypeTable Empty = new(ImmutableArray<PacketTypeRegistration>.Empty,
        ImmutableDictionary<ushort, ImmutableArray<PacketTypeRegistration>>.Empty);

    /// <summary>
    /// <c>dev_add_pack</c>: <c>list_add_rcu(&amp;pt-&gt;list, head)</c>, so the newest registration is seen first. A
    /// device's own registrations live on its list (<c>dev-&gt;ptype_all</c> / <c>ptype_specific</c>), which
    /// <c>__netif_receive_skb_core</c> walks after the global one: they are kept behind the global ones here.
    /// </summary>
    public PtypeTable Add(PacketTypeRegistration r) => r.EtherType == EtherType.All
        ? this with { All = AddAtHead(All, r) }
        : this with { Base = Base.SetItem(r.EtherType, AddAtHead(Base.TryGetValue(r.EtherType, out var l) ? l : ImmutableArray<PacketTypeRegistration>.Empty, r)) };

    private static ImmutableArray<PacketTypeRegistration> AddAtHead(ImmutableArray<PacketTypeRegistration> list, PacketTypeRegistration r)
    {
        if (r.Device is null) return list.Insert(0, r);
        int globals = 0;
        while (globals < list.Length && list[globals].Device is null) globals++;
        return list.Insert(globals, r);
    }

    public PtypeTable Remove(PacketTypeRegistration r)
    {
        if (r.EtherType == EtherType.All) return this with { All = All.Remove(r) };
        if (!Base.TryGetValue(r.EtherType, out var l)) return this;
        var rest = l.Remove(r);
        return this with { Base = rest.IsEmpty ? Base.Remove(r.EtherType) : Base.SetItem(r.EtherType, rest) };
    }
}

/// <summary>A neighbour entry's key: device and next-hop address.</summary>
public readonly record struct NeighKey(int Ifindex, Ipv4Address Address);

/// <summary>A usable neighbour: its hardware address, valid until <paramref name="ValidUntilTicks"/> on the scheduler's clock; long.MaxValue: permanent.</summary>
public sealed record NeighCacheEntry(MacAddress Mac, long ValidUntilTicks);
