using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Net;

/// <summary>
/// One host's <c>struct net</c> (S28): what every actor of that host shares.
/// Data moves between actors only in messages; what is shared here is what
/// Linux shares between CPUs: counters updated atomically (SNMP MIBs, device
/// and softnet statistics, the drop monitor) and tables published RCU-style as
/// immutable snapshots by the one actor that owns them (the host actor owns
/// the packet-type lists and XDP programs). A host lives on one node; nothing
/// here crosses a cluster boundary.
/// </summary>
public sealed class NetNamespace
{
    public NetNamespace(HostSettings settings, int seed)
    {
        Settings = settings;
        Seed = seed;
        Devices = settings.Devices.Select((d, i) => new NetDevice(i + 2, d)).ToImmutableArray(); // ifindex 1 is lo
        Softnet = Enumerable.Range(0, settings.Cpus).Select(i => new SoftnetData(i)).ToImmutableArray();
        Ip.Set(IpMib.Forwarding, 2); // 2 = not forwarding (RFC 1213 ipForwarding)
        Ip.Set(IpMib.DefaultTTL, settings.Sysctl.IpDefaultTtl);
    }

    public HostSettings Settings { get; }
    public string Name => Settings.Name;
    public SysctlSettings Sysctl => Settings.Sysctl;
    public int Seed { get; }

    public Mib<IpMib> Ip { get; } = new("Ip");
    public Mib<IpExtMib> IpExt { get; } = new("IpExt");
    public Mib<UdpMib> Udp { get; } = new("Udp");
    public DropMonitor Drops { get; } = new();

    public ImmutableArray<NetDevice> Devices { get; }
    public ImmutableArray<SoftnetData> Softnet { get; }

    /// <summary>Frames a <c>ptype_all</c> tap consumed because no protocol handler wanted them (Linux's <c>pt_prev</c> rule).</summary>
    public long ConsumedByTap;

    public NetDevice? Device(int ifindex) => ifindex >= 2 && ifindex - 2 < Devices.Length ? Devices[ifindex - 2] : null;
    public NetDevice? Device(string name) => Devices.FirstOrDefault(d => d.Name == name);

    private PtypeTable _ptypes = PtypeTable.Empty;
    /// <summary><c>ptype_all</c> and <c>ptype_base</c>, replaced whole on every change (RCU publish).</summary>
    public PtypeTable Ptypes { get => Volatile.Read(ref _ptypes); set => Volatile.Write(ref _ptypes, value); }

    private ImmutableArray<IActorRef> _softnetActors = ImmutableArray<IActorRef>.Empty;
    /// <summary>The softnet actors by CPU, set once the host has started them.</summary>
    public ImmutableArray<IActorRef> SoftnetActors { get => _softnetActors; set => _softnetActors = value; }

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

    /// <summary>RTN_BROADCAST on input: the limited broadcast or a directed broadcast of the receiving device's subnets.</summary>
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

/// <summary>A <c>struct net_device</c> (S27): identity and the counters <c>ip -s link</c> shows.</summary>
public sealed class NetDevice(int ifindex, DeviceSettings settings)
{
    public int Ifindex { get; } = ifindex;
    public DeviceSettings Settings { get; } = settings;
    public string Name => Settings.Name;
    public MacAddress Mac => Settings.Mac;
    public DeviceCounters Stats { get; } = new();
    public long[] IrqCounts { get; } = new long[settings.RxQueues];

    /// <summary>The device's driver actor (<c>netdev_ops</c>), set when the host starts it.</summary>
    public Akka.Actor.IActorRef Driver { get; set; } = Akka.Actor.ActorRefs.Nobody;

    private XdpProgram? _xdp;
    public XdpProgram? Xdp { get => Volatile.Read(ref _xdp); set => Volatile.Write(ref _xdp, value); }

    private volatile bool _up = true;
    public bool Up { get => _up; set => _up = value; }
    public string OperState => Up ? "UP" : "DOWN";
}

/// <summary><c>struct rtnl_link_stats64</c>, updated atomically.</summary>
public sealed class DeviceCounters
{
    public long RxBytes, RxPackets, RxErrors, RxDropped, RxMissedErrors, RxFifoErrors, RxLengthErrors, RxCrcErrors, RxNohandler, Multicast;
    public long TxBytes, TxPackets, TxErrors, TxDropped, TxCarrierErrors, Collisions, CarrierUpCount, CarrierDownCount;

    public LinkCounters Snapshot() => new(
        Volatile.Read(ref RxBytes), Volatile.Read(ref RxPackets), Volatile.Read(ref RxErrors), Volatile.Read(ref RxDropped),
        Volatile.Read(ref RxMissedErrors), Volatile.Read(ref RxFifoErrors), Volatile.Read(ref RxLengthErrors), Volatile.Read(ref RxCrcErrors),
        Volatile.Read(ref RxNohandler), Volatile.Read(ref Multicast),
        Volatile.Read(ref TxBytes), Volatile.Read(ref TxPackets), Volatile.Read(ref TxErrors), Volatile.Read(ref TxDropped),
        Volatile.Read(ref TxCarrierErrors), Volatile.Read(ref Collisions), Volatile.Read(ref CarrierUpCount), Volatile.Read(ref CarrierDownCount));
}

/// <summary><c>struct softnet_data</c>'s counters (S7), updated by the CPU's softnet actor.</summary>
public sealed class SoftnetData(int cpu)
{
    public int Cpu { get; } = cpu;
    public long Processed, Dropped, TimeSqueeze, ReceivedRps, FlowLimitCount;
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
    public int RcvBuf, QueuedDatagrams;
    public long Drops, DatagramsRead, BytesRead;

    public SocketInfo Snapshot() => new(Type, Protocol, LocalAddress, LocalPort, RemoteAddress, RemotePort,
        (int)(Queue?.Charge ?? 0), Volatile.Read(ref QueuedDatagrams), Volatile.Read(ref RcvBuf), Volatile.Read(ref Drops),
        Volatile.Read(ref DatagramsRead), Volatile.Read(ref BytesRead));
}

/// <summary>
/// The packet-type lists (S13): <c>ptype_all</c> taps and <c>ptype_base</c>
/// handlers by EtherType, immutable; <c>dev_add_pack</c> publishes a new table.
/// </summary>
public sealed record PtypeTable(ImmutableArray<PacketTypeRegistration> All,
    ImmutableDictionary<ushort, ImmutableArray<PacketTypeRegistration>> Base)
{
    public static readonly PtypeTable Empty = new(ImmutableArray<PacketTypeRegistration>.Empty,
        ImmutableDictionary<ushort, ImmutableArray<PacketTypeRegistration>>.Empty);

    public PtypeTable Add(PacketTypeRegistration r) => r.EtherType == EtherType.All
        ? this with { All = All.Add(r) }
        : this with { Base = Base.SetItem(r.EtherType, (Base.TryGetValue(r.EtherType, out var l) ? l : ImmutableArray<PacketTypeRegistration>.Empty).Add(r)) };

    public PtypeTable Remove(PacketTypeRegistration r)
    {
        if (r.EtherType == EtherType.All) return this with { All = All.Remove(r) };
        if (!Base.TryGetValue(r.EtherType, out var l)) return this;
        var rest = l.Remove(r);
        return this with { Base = rest.IsEmpty ? Base.Remove(r.EtherType) : Base.SetItem(r.EtherType, rest) };
    }
}
