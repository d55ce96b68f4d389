using System.Collections.Immutable;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

/// <summary>Asks a host for an immutable snapshot of all its counters; answered by <see cref="HostStats"/>.</summary>
public sealed record GetStats
{
    public static readonly GetStats Instance = new();
}

/// <summary>The counters of <c>ip -s -s link</c> (<c>struct rtnl_link_stats64</c>).</summary>
public sealed record LinkCounters(
    long RxBytes, long RxPackets, long RxErrors, long RxDropped, long RxMissedErrors, long RxFifoErrors,
    long RxLengthErrors, long RxCrcErrors, long RxNohandler, long Multicast,
    long TxBytes, long TxPackets, long TxErrors, long TxDropped, long TxCarrierErrors, long Collisions,
    long CarrierUpCount, long CarrierDownCount);

public sealed record DeviceStats(string Name, int Ifindex, MacAddress Mac, int Mtu, bool Up, string OperState,
    int RxQueues, ImmutableArray<long> IrqsPerQueue, LinkCounters Counters, string? XdpProgram)
{
    /// <summary>The device's root qdisc (<c>tc -s qdisc show dev DEV</c>).</summary>
    public QdiscStats? Qdisc { get; init; }
    public int TxQueueLen { get; init; }
    /// <summary>Offload features (<c>ethtool -k</c>) and GRO/GSO counters; null for a device without them.</summary>
    public OffloadStats? Offload { get; init; }
}

/// <summary>
/// <c>tc -s qdisc</c>'s line for a device's root qdisc (<c>pfifo_fast</c>, or <c>noqueue</c> on lo):
/// sent packets/bytes, dropped, requeues, backlog (packets now queued), overlimits; plus the driver's
/// stop/wake counts of its TX queue.
/// </summary>
public sealed record QdiscStats(long Packets, long Bytes, long Drops, long Requeues, long Backlog, long Overlimits,
    long TxQueueStopped, long TxRestartQueue);

/// <summary>One line of <c>/proc/net/softnet_stat</c>.</summary>
public sealed record SoftnetStat(int Cpu, long Processed, long Dropped, long TimeSqueeze, long ReceivedRps, long FlowLimitCount,
    int InputQlen, int ProcessQlen)
{
    public int BacklogLen => InputQlen + ProcessQlen;
}

/// <summary>One MIB of <c>/proc/net/snmp</c> or <c>netstat</c> (Ip, IpExt, Udp, …) with Linux's counter names, in Linux's order.</summary>
public sealed record MibSnapshot(string Name, ImmutableArray<KeyValuePair<string, long>> Counters)
{
    public long this[string counter] => Counters.First(c => c.Key == counter).Value;
}

public sealed record DropCount(DropSite Site, long Packets);

/// <summary>Asks a host for its IPv4 reassembly state; answered by <see cref="FragStats"/> (from the host's IP handler, the owner).</summary>
public sealed record GetFragStats
{
    public static readonly GetFragStats Instance = new();
}

/// <summary>
/// <c>/proc/net/sockstat</c>'s line <c>FRAG: inuse N memory M</c> (queues held, truesize of their fragments, the
/// <c>frag_mem_limit</c> sum) plus <paramref name="PeakMemory"/>: the most memory the queues held at any instant since the
/// host started (the reassembly owner updates it as it queues a fragment; Linux keeps no such high-water mark).
/// </summary>
public sealed record FragStats(int InUse, long Memory, long PeakMemory);

public sealed record HostStats(string Host, ImmutableArray<DeviceStats> Devices, ImmutableArray<SoftnetStat> Softnet,
    ImmutableArray<MibSnapshot> Snmp, ImmutableArray<DropCount> Drops, ImmutableArray<SocketInfo> Sockets)
{
    public MibSnapshot Mib(string name) => Snmp.First(m => m.Name == name);
    public DeviceStats Device(string name) => Devices.First(d => d.Name == name);
    public long DropsOf(DropReason reason) => Drops.Where(d => d.Site.Reason == reason).Sum(d => d.Packets);

    /// <summary>Packets dropped for <paramref name="reason"/> at one site (<see cref="DropSite.Location"/>, e.g. <c>udp/sock</c>).</summary>
    public long DropsAt(DropReason reason, string location)
        => Drops.Where(d => d.Site.Reason == reason && d.Site.Location == location).Sum(d => d.Packets);
    public long TotalDrops => Drops.Sum(d => d.Packets);
}
