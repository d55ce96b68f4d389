using System.Collections.Immutable;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

/// <summary>The sysctls of one network namespace, with Linux names and defaults.</summary>
public sealed record SysctlSettings(
    int NetdevMaxBacklog = 1000,
    int NetdevBudget = 300,
    int NetdevBudgetUsecs = 2000,
    int DevWeight = 64,
    int RmemDefault = 212992,
    int RmemMax = 212992,
    int WmemDefault = 212992,
    int IpDefaultTtl = 64)
{
    /// <summary><c>net.core.wmem_max</c>: cap for <c>SO_SNDBUF</c>.</summary>
    public int WmemMax { get; init; } = 212992;
    /// <summary><c>net.core.gro_normal_batch</c>: segments on a NAPI's <c>rx_list</c> before it is handed up (<c>gro_normal_one</c>).</summary>
    public int GroNormalBatch { get; init; } = 8;
    /// <summary><c>net.ipv4.ip_forward</c>: route packets not addressed to this host (<c>ip_forward</c>).</summary>
    public bool IpForward { get; init; }
    /// <summary><c>net.ipv4.ip_local_port_range</c>: ephemeral ports.</summary>
    public int LocalPortLow { get; init; } = 32768;
    public int LocalPortHigh { get; init; } = 60999;
    /// <summary><c>net.ipv4.icmp_echo_ignore_all</c>.</summary>
    public bool IcmpEchoIgnoreAll { get; init; }
    /// <summary><c>net.ipv4.icmp_echo_ignore_broadcasts</c>.</summary>
    public bool IcmpEchoIgnoreBroadcasts { get; init; } = true;
    /// <summary><c>net.ipv4.route.min_pmtu</c>: a learned path MTU is never below this.</summary>
    public int MinPmtu { get; init; } = 552;
    /// <summary><c>net.ipv4.route.mtu_expires</c>: a learned path MTU is forgotten after this.</summary>
    public TimeSpan MtuExpires { get; init; } = TimeSpan.FromSeconds(600);
    /// <summary><c>net.ipv4.ip_no_pmtu_disc</c>: 0 = sockets start with IP_PMTUDISC_WANT.</summary>
    public int IpNoPmtuDisc { get; init; }
    /// <summary><c>net.ipv4.neigh.default.*</c>.</summary>
    public NeighParms Neigh { get; init; } = NeighParms.Default;
    /// <summary><c>net.ipv4.icmp_ratelimit</c>, <c>icmp_ratemask</c>, <c>icmp_msgs_per_sec</c>, <c>icmp_msgs_burst</c>.</summary>
    public IcmpRateLimitSettings Icmp { get; init; } = IcmpRateLimitSettings.Default;
    /// <summary><c>net.ipv4.ipfrag_*</c>.</summary>
    public DefragSettings Frag { get; init; } = DefragSettings.Default;
    /// <summary><c>net.ipv4.tcp_*</c> and <c>net.core.somaxconn</c>.</summary>
    public TcpSysctl Tcp { get; init; } = TcpSysctl.Default;
}

/// <summary>A <c>struct net_device</c>'s configuration plus the NIC's hardware geometry.</summary>
public sealed record DeviceSettings(
    string Name,
    MacAddress Mac,
    int Mtu = 1500,
    int RxRing = 256,
    int TxRing = 256,
    int RxBufferSize = 2048,
    int RxQueues = 1,
    ImmutableArray<int> RpsCpus = default,
    ImmutableArray<int> IrqCpus = default,
    int TxQueueLen = 1000,
    int RxFifo = 4096,
    ImmutableArray<Ipv4Prefix> Addresses = default)
{
    public ImmutableArray<int> RpsCpus { get; init; } = RpsCpus.IsDefault ? ImmutableArray<int>.Empty : RpsCpus;
    public ImmutableArray<int> IrqCpus { get; init; } = IrqCpus.IsDefault ? ImmutableArray<int>.Empty : IrqCpus;
    public ImmutableArray<Ipv4Prefix> Addresses { get; init; } = Addresses.IsDefault ? ImmutableArray<Ipv4Prefix>.Empty : Addresses;
    /// <summary><c>ethtool -K DEV gro on</c> (NETIF_F_GRO): TCP segments of a flow merged per NAPI poll. On, as on virtio/veth.</summary>
    public bool Gro { get; init; } = true;
    /// <summary><c>ethtool -K DEV gso on</c> (NETIF_F_GSO): TCP hands the device super-packets (<c>sk_can_gso</c>). On by default.</summary>
    public bool Gso { get; init; } = true;
    /// <summary><c>ethtool -K DEV tso on</c> (NETIF_F_TSO): the NIC cuts TCP super-packets to MSS in hardware. On by default.</summary>
    public bool Tso { get; init; } = true;
    /// <summary>
    /// Line rate in Mbit/s (<c>ethtool DEV</c>: "Speed: 10000Mb/s"; a 10G NIC by default): the TX ring drains onto the
    /// wire at this rate, preamble, FCS and inter-frame gap counted. A wire runs at the lower of its two ends' speeds.
    /// </summary>
    public int Speed { get; init; } = 10_000;
    /// <summary>
    /// TX interrupt coalescing (<c>ethtool -C DEV tx-usecs N</c>; igb's default 3): the completion interrupt for frames
    /// the wire has taken fires at most this many µs after the first of them finished, freeing all that finished by then
    /// (0: one interrupt per frame). Frames a wire without netem passes straight through reach the far end with that batch.
    /// </summary>
    public int TxUsecs { get; init; } = 3;
    /// <summary>
    /// RX interrupt moderation (<c>ethtool -C DEV rx-usecs N</c>; igb's default 3): a queue's receive interrupt is raised
    /// no earlier than this many µs after the first frame DMA-written since its last interrupt, so one interrupt (and one
    /// NAPI poll) takes every frame that arrived in that window (0: an interrupt per frame that finds the line idle).
    /// Modelled on the virtual clock only. igb reads 1..3 as its dynamic ITR modes; here every value is a fixed
    /// interval (<c>adaptive-rx off</c>). Every configured device gets igb's 3 from <c>device-defaults.rx-usecs</c> in
    /// stack.hocon; a device built in code without it has 0 (an interrupt per frame, as before the model).
    /// </summary>
    public int RxUsecs { get; init; }
    /// <summary>
    /// <c>ethtool -C DEV rx-frames N</c>: the receive interrupt is raised at once when this many frames have arrived in the
    /// <see cref="RxUsecs"/> window (0, igb's value: no frame limit, the window alone decides).
    /// </summary>
    public int RxFrames { get; init; }

    /// <summary>Largest frame the device accepts: MTU plus the Ethernet header (and a VLAN tag, as most drivers allow).</summary>
    public int MaxFrame => Mtu + 14 + 4;

    /// <summary>CPU that RX queue <paramref name="queue"/>'s IRQ is bound to.</summary>
    public int IrqCpuOf(int queue, int cpus) => IrqCpus.Length > queue ? IrqCpus[queue] : queue % cpus;
}

/// <summary>One host: a network namespace (<c>struct net</c>) with its CPUs and devices.</summary>
public sealed record HostSettings(string Name, int Cpus, SysctlSettings Sysctl, ImmutableArray<DeviceSettings> Devices)
{
    /// <summary>Static routes (<c>ip route add</c>), installed after the devices' connected routes.</summary>
    public ImmutableArray<RouteSettings> Routes { get; init; } = ImmutableArray<RouteSettings>.Empty;
    /// <summary>Permanent neighbour entries (<c>ip neigh add ... nud permanent</c>).</summary>
    public ImmutableArray<NeighbourSettings> Neighbours { get; init; } = ImmutableArray<NeighbourSettings>.Empty;
    /// <summary>Netfilter rules, in chain order per hook.</summary>
    public ImmutableArray<ActorStack.Messages.NfRule> Netfilter { get; init; } = ImmutableArray<ActorStack.Messages.NfRule>.Empty;
    /// <summary>Simulated CPU cost per packet and stage (<c>host-defaults.cpu-cost</c>, <c>hosts.NAME.cpu-cost</c>); charged on the virtual clock.</summary>
    public CpuCostSettings CpuCost { get; init; } = CpuCostSettings.Zero;
    /// <summary>The cluster node this host runs on (<c>node = "n2"</c>), or null: placed by <c>actorstack.cluster.placement</c>.</summary>
    public string? Node { get; init; }
}

/// <summary>
/// <c>ip route add TYPE PREFIX [via GW] [dev DEV] [metric N] [src ADDR]</c>. <paramref name="Type"/> is
/// unicast, unreachable, blackhole or prohibit.
/// </summary>
public sealed record RouteSettings(Ipv4Prefix Destination, Ipv4Address? Via = null, string? Device = null, int Metric = 0,
    string Type = "unicast", Ipv4Address? Source = null)
{
    public override string ToString() => $"{Type} {Destination}{(Via is { } v ? $" via {v}" : "")}{(Device is { } d ? $" dev {d}" : "")} metric {Metric}";
}

/// <summary><c>ip neigh add ADDR lladdr MAC dev DEV nud permanent</c>.</summary>
public sealed record NeighbourSettings(Ipv4Address Address, MacAddress Mac, string Device);

/// <summary>A full-duplex cable between two devices.</summary>
public sealed record WireSettings(string HostA, string DeviceA, string HostB, string DeviceB, TimeSpan Delay)
{
    public override string ToString() => $"{HostA}/{DeviceA} <-> {HostB}/{DeviceB}";

    /// <summary>
    /// When end a is a switch port ("sw1/port3"): its number, 1-based as the configuration names it;
    /// <see cref="HostA"/> is then the switch's name and <see cref="DeviceA"/> "port3". Null for a host's device.
    /// </summary>
    public int? SwitchPortA { get; init; }
    /// <summary>As <see cref="SwitchPortA"/>, for end b.</summary>
    public int? SwitchPortB { get; init; }
    /// <summary>
    /// End b is a Linux TAP device of this name (<c>{ a = "h1/eth0", tap = "astap0" }</c>): <see cref="HostB"/> is
    /// "tap" and <see cref="DeviceB"/> the TAP's name. Null for a cable between two simulated ends.
    /// </summary>
    public string? Tap { get; init; }

    /// <summary>The wire's name in <c>faults</c> and <c>schedule</c>, and the key of its random draws: "h1/eth0-h2/eth0".</summary>
    public string Name => $"{HostA}/{DeviceA}-{HostB}/{DeviceB}";

    /// <summary>tc-netem options on the a→b direction (<c>netem-a-to-b</c>), checked before the run; null = none.</summary>
    public string? NetemAToB { get; init; }
    /// <summary>tc-netem options on the b→a direction (<c>netem-b-to-a</c>).</summary>
    public string? NetemBToA { get; init; }
}

/// <summary>
/// An Ethernet learning switch (a Linux bridge with <paramref name="Ports"/> ports, named port1..portN), with the
/// bridge's <c>ageing_time</c> (300 s) and <c>fdb_max_learned</c>, and a bounded egress queue per port
/// (<paramref name="TxQueueLen"/> frames, as a port's <c>txqueuelen</c>; overflow is dropped and counted).
/// </summary>
public sealed record SwitchSettings(string Name, int Ports, TimeSpan AgeingTime = default, int FdbMaxLearned = 8192,
    int TxQueueLen = 1000)
{
    public TimeSpan AgeingTime { get; init; } = AgeingTime == default ? TimeSpan.FromSeconds(300) : AgeingTime;
    /// <summary>Line rate of every port, Mbit/s (default 10000): a port's egress queue drains at it (or at the lower speed of the device cabled to it).</summary>
    public int Speed { get; init; } = 10_000;
    /// <summary>The cluster node this switch runs on (<c>node = "n2"</c>), or null: placed with its hosts.</summary>
    public string? Node { get; init; }
}

public abstract record WorkloadSettings(string Host);

/// <summary>A pktgen thread bound to one device of a host (pktgen's <c>add_device</c>), with its parameters.</summary>
public sealed record PktgenWorkload(string Host, string Device, PktgenSettings Pktgen) : WorkloadSettings(Host);

/// <summary>An application that binds a UDP socket and reads it with <c>recvmmsg</c> as fast as it can.</summary>
public sealed record UdpSinkSettings(string Host, Ipv4Address Address, ushort Port, int Batch = 64, int RcvBuf = 0)
    : WorkloadSettings(Host);

/// <summary>A capture file's format: pcapng (interfaces, directions, comments) or classic libpcap.</summary>
public enum CaptureFormat { PcapNg = 0, Pcap = 1 }

/// <summary>
/// One capture point (<c>scenario.capture</c>, or one element of it when it is a list): a <c>ptype_all</c> tap on
/// <see cref="Device"/> of <see cref="Host"/>, on every device of the host (<c>any</c>), or on every device of every
/// host (<c>all</c>, <see cref="Host"/> empty), written to <see cref="File"/>.
/// </summary>
public sealed record CaptureSettings(bool Enabled, string Host, string Device, string File, int SnapLength)
{
    /// <summary><c>device = all</c>: every device of every host.</summary>
    public const string AllDevices = "all";
    /// <summary><c>device = any</c>: every device of <see cref="Host"/>.</summary>
    public const string AnyDevice = "any";

    /// <summary><c>format</c>: pcapng (the default) or classic pcap.</summary>
    public CaptureFormat Format { get; init; } = CaptureFormat.PcapNg;
    /// <summary>
    /// <c>tstamp-precision = nano|micro</c> (<c>tcpdump --time-stamp-precision</c>): pcapng's <c>if_tsresol</c> 9 or 6,
    /// classic pcap's magic 0xa1b23c4d or 0xa1b2c3d4. Default nano for pcapng, micro for pcap.
    /// </summary>
    public bool Nanoseconds { get; init; } = true;
    /// <summary>The configuration key of this point (<c>actorstack.scenario.capture</c> or <c>…capture[N]</c>), for messages and overrides.</summary>
    public string Key { get; init; } = "actorstack.scenario.capture";

    /// <summary>Whether this point taps <paramref name="host"/>'s <paramref name="device"/>.</summary>
    public bool Captures(string host, string device)
        => Enabled && (Device == AllDevices || (Host == host && (Device == AnyDevice || Device == device)));

    public override string ToString()
        => $"{(Device == AllDevices ? "all" : $"{Host}/{Device}")} -> {File} ({(Format == CaptureFormat.PcapNg ? "pcapng" : "pcap")}{(Nanoseconds ? ", ns" : ", us")})";
}

public sealed record RunSettings(TimeSpan MaxDuration, TimeSpan ProgressInterval, TimeSpan Settle);

/// <summary>Everything a run needs, validated.</summary>
public sealed record StackSettings(
    int Seed,
    ImmutableArray<HostSettings> Hosts,
    ImmutableArray<WireSettings> Wires,
    ImmutableArray<WorkloadSettings> Workloads,
    CaptureSettings Capture,
    RunSettings Run,
    bool Trace)
{
    public HostSettings Host(string name) => Hosts.First(h => h.Name == name);

    /// <summary>The scenario's Ethernet switches (<c>scenario.switches</c>).</summary>
    public ImmutableArray<SwitchSettings> Switches { get; init; } = ImmutableArray<SwitchSettings>.Empty;

    /// <summary>Conditional fault rules on wires (<c>scenario.faults</c>).</summary>
    public ImmutableArray<WireFaultSettings> Faults { get; init; } = ImmutableArray<WireFaultSettings>.Empty;

    /// <summary>The fault schedule (<c>scenario.schedule</c>), in time order.</summary>
    public ImmutableArray<ScheduledFault> Schedule { get; init; } = ImmutableArray<ScheduledFault>.Empty;

    /// <summary>NIC driver supervision (<c>device-defaults.reset-limit</c>, <c>reset-window</c>, <c>watchdog-timeo</c>, <c>link-up-delay</c>).</summary>
    public DeviceSupervisionSettings Supervision { get; init; } = DeviceSupervisionSettings.Default;

    /// <summary>The capture points after the first when <c>scenario.capture</c> is a list (<see cref="Capture"/> is the first).</summary>
    public ImmutableArray<CaptureSettings> MoreCaptures { get; init; } = ImmutableArray<CaptureSettings>.Empty;

    /// <summary>Every enabled capture point, in the configuration's order.</summary>
    public ImmutableArray<CaptureSettings> Captures => [.. new[] { Capture }.Concat(MoreCaptures).Where(c => c.Enabled)];

    /// <summary>The cluster nodes the run spreads over (<c>actorstack.cluster</c>).</summary>
    public ClusterSettings Cluster { get; init; } = ClusterSettings.Default;
}
