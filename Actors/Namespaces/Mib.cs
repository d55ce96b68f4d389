using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using ActorStack.Messages;

namespace ActorStack.Actors.Namespaces;

/// <summary>Ip: counters of /proc/net/snmp, in Linux's order.</summary>
public enum IpMib
{
    Forwarding, DefaultTTL, InReceives, InHdrErrors, InAddrErrors, ForwDatagrams, InUnknownProtos, InDiscards, InDelivers,
    OutRequests, OutDiscards, OutNoRoutes, ReasmTimeout, ReasmReqds, ReasmOKs, ReasmFails, FragOKs, FragFails, FragCreates,
    OutTransmits,
}

/// <summary>IpExt: counters of /proc/net/netstat (the ones ActorStack models).</summary>
public enum IpExtMib
{
    InNoRoutes, InTruncatedPkts, InMcastPkts, OutMcastPkts, InBcastPkts, OutBcastPkts, InOctets, OutOctets, InCsumErrors,
    ReasmOverlaps,
}

/// <summary>Icmp: counters of /proc/net/snmp, in Linux's order (<c>icmp_put</c>).</summary>
public enum IcmpMib
{
    InMsgs, InErrors, InCsumErrors, InDestUnreachs, InTimeExcds, InParmProbs, InSrcQuenchs, InRedirects, InEchos, InEchoReps,
    InTimestamps, InTimestampReps, InAddrMasks, InAddrMaskReps,
    OutMsgs, OutErrors, OutRateLimitGlobal, OutRateLimitHost, OutDestUnreachs, OutTimeExcds, OutParmProbs, OutSrcQuenchs,
    OutRedirects, OutEchos, OutEchoReps, OutTimestamps, OutTimestampReps, OutAddrMasks, OutAddrMaskReps,
}

/// <summary>Udp: counters of /proc/net/snmp, in Linux's order.</summary>
public enum UdpMib
{
    InDatagrams, NoPorts, InErrors, OutDatagrams, RcvbufErrors, SndbufErrors, InCsumErrors, IgnoredMulti, MemErrors,
}

/// <summary>
/// One SNMP MIB of a network namespace: counters updated atomically by the
/// actors of that host (as Linux's per-CPU MIB arrays are updated by every CPU)
/// and read at any moment by a snapshot.
/// </summary>
public sealed class Mib<T> where T : struct, Enum
{
    private static readonly string[] Names = Enum.GetNames<T>();
    private readonly long[] _values = new long[Names.Length];
    public string Name { get; }

    public Mib(string name) => Name = name;

    public void Inc(T field) => Interlocked.Increment(ref _values[Unsafe.As<T, int>(ref field)]);
    public void Add(T field, long n)
    {
        if (n != 0) Interlocked.Add(ref _values[Unsafe.As<T, int>(ref field)], n);
    }
    public void Set(T field, long v) => Volatile.Write(ref _values[Unsafe.As<T, int>(ref field)], v);
    public long this[T field] => Volatile.Read(ref _values[Unsafe.As<T, int>(ref field)]);

    public MibSnapshot Snapshot()
        => new(Name, Names.Select((n, i) => KeyValuePair.Create(n, Volatile.Read(ref _values[i]))).ToImmutableArray());
}

/// <summary>
/// The drop monitor of one host: packets freed without delivery, by
/// <see cref="DropReason"/> and place (the kernel's <c>kfree_skb</c> tracepoint
/// as dropwatch aggregates it). A caller keeps the counter it got for its site.
/// With listeners (<see cref="DropMonitorStart"/>, drop_monitor in packet alert mode) each drop is also told to them as
/// a <see cref="NetDmPacketAlert"/>, with a copy of the frame where the site passes the buffer; without, a drop costs
/// one read of an empty array more than the counter.
/// </summary>
public sealed class DropMonitor(string host = "")
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<DropSite, StrongBox<long>> _sites = new();
    private Akka.Actor.IActorRef[] _listeners = [];

    /// <summary>The host whose drops these are (named in the alerts).</summary>
    public string Host { get; } = host;

    /// <summary>Who gets a <see cref="NetDmPacketAlert"/> per drop; replaced whole by the host actor only (RCU publish).</summary>
    public ImmutableArray<Akka.Actor.IActorRef> Listeners
    {
        get => System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(Volatile.Read(ref _listeners));
        set => Volatile.Write(ref _listeners, System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(value) ?? []);
    }

    public StrongBox<long> Counter(DropReason reason, string location)
        => _sites.GetOrAdd(new DropSite(reason, location), _ => new StrongBox<long>());

    public void Add(DropReason reason, string location, long n = 1)
    {
        if (n == 0) return;
        Interlocked.Add(ref Counter(reason, location).Value, n);
        Alert(reason, location, n, 0, ReadOnlyMemory<byte>.Empty, false);
    }

    /// <summary>One buffer dropped at a site that has it at hand: counted, and its frame copied to the listeners.</summary>
    public void Add(DropReason reason, string location, in SkBuff skb, bool transmit = false)
        => Add(reason, location, skb.Data, skb.Ifindex, transmit);

    /// <summary>One frame of device <paramref name="ifindex"/> dropped: counted, and copied to the listeners.</summary>
    public void Add(DropReason reason, string location, ReadOnlyMemory<byte> frame, int ifindex, bool transmit = false)
    {
        Interlocked.Increment(ref Counter(reason, location).Value);
        Alert(reason, location, 1, ifindex, frame, transmit);
    }

    /// <summary>Buffers dropped together (a queue purged, a batch refused): counted at once, each frame copied to the listeners.</summary>
    public void Add(DropReason reason, string location, ImmutableArray<SkBuff> skbs, int ifindex, bool transmit = false)
    {
        if (skbs.IsDefaultOrEmpty) return;
        Interlocked.Add(ref Counter(reason, location).Value, skbs.Length);
        if (Listeners.IsEmpty) return;
        foreach (var skb in skbs) Alert(reason, location, 1, ifindex, skb.Data, transmit);
    }

    /// <summary>Tells the listeners about drops already counted (a site that keeps its own counter box).</summary>
    public void Alert(DropReason reason, string location, long n, int ifindex, ReadOnlyMemory<byte> frame, bool transmit)
    {
        var listeners = Listeners;
        if (listeners.IsEmpty || n == 0) return;
        var alert = new NetDmPacketAlert(Host, reason, location, n, ifindex, frame.IsEmpty ? ReadOnlyMemory<byte>.Empty : frame.ToArray(), transmit);
        foreach (var l in listeners) l.Tell(alert, Akka.Actor.ActorRefs.NoSender);
    }

    public ImmutableArray<DropCount> Snapshot()
        => _sites.Select(kv => new DropCount(kv.Key, Volatile.Read(ref kv.Value.Value)))
            .Where(d => d.Packets > 0)
            .OrderBy(d => d.Site.Reason.ToString(), StringComparer.Ordinal).ThenBy(d => d.Site.Location, StringComparer.Ordinal)
            .ToImmutableArray();
}

public static class CounterExtensions
{
    public static void Add(this StrongBox<long> box, long n) => Interlocked.Add(ref box.Value, n);
}

/// <summary>
/// <c>IcmpMsg: InTypeN / OutTypeN</c>: a counter per ICMP type (0–255), updated atomically. Linux keeps them in
/// <c>icmpmsg_statistics</c> (256 × 2 per-CPU counters); here the storage is made per block of 32 types on the first
/// count in that block, since a host sees a handful of types (echo and echo reply share the first block), so an
/// idle host holds none. Reading a type never counted gives 0.
/// </summary>
public sealed class IcmpTypeCounters
{
    private const int BlockBits = 5;
    private readonly long[]?[] _blocks = new long[]?[256 >> BlockBits];

    /// <summary>How many types there are (256), as the kernel's table.</summary>
    public int Length => 256;

    public long this[int type]
    {
        get
        {
            var b = Volatile.Read(ref _blocks[type >> BlockBits]);
            return b is null ? 0 : Volatile.Read(ref b[type & ((1 << BlockBits) - 1)]);
        }
    }

    public void Increment(int type)
    {
        ref var slot = ref _blocks[type >> BlockBits];
        var b = Volatile.Read(ref slot);
        if (b is null)
        {
            Interlocked.CompareExchange(ref slot, new long[1 << BlockBits], null);
            b = Volatile.Read(ref slot)!;
        }
        Interlocked.Increment(ref b[type & ((1 << BlockBits) - 1)]);
    }
}
