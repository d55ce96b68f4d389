using System.Collections.Immutable;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

// The neighbour layer (ARP, arp_tbl) of one host: commands to its neighbour actor
// and what it answers. The host forwards GetNeighbours to it.

/// <summary>
/// <c>ip neigh show [dev DEV]</c>: to a host or its neighbour actor; answered by <see cref="NeighbourList"/>.
/// <paramref name="Device"/> null lists every device.
/// </summary>
public sealed record GetNeighbours(string? Device = null)
{
    public static readonly GetNeighbours Instance = new();
}

/// <summary>One neighbour entry as <c>ip neigh</c> shows it; <paramref name="State"/> is the NUD word (REACHABLE, STALE, ...).
/// <paramref name="LinkAddress"/> is null while the entry has no valid address (INCOMPLETE, FAILED).</summary>
public sealed record NeighbourEntry(Ipv4Address Address, string Device, MacAddress? LinkAddress, string State,
    int QueuedPackets, int Probes);

/// <summary>
/// The answer to <see cref="GetNeighbours"/>: <paramref name="Text"/> is exactly what <c>ip neigh show</c>
/// prints (one line per entry, device then address order, each ending in a newline).
/// </summary>
public sealed record NeighbourList(string Text, ImmutableArray<NeighbourEntry> Entries)
{
    public override string ToString() => $"NeighbourList({Entries.Length} entries)";
}

/// <summary>
/// Sends one gratuitous ARP request (<c>arp_send(ARPOP_REQUEST, ETH_P_ARP, ifa, dev, ifa, NULL, dev_addr, NULL)</c>,
/// what <c>arp_notify</c> or <c>arping -U</c> does) for every address of <paramref name="Device"/>;
/// answered by <see cref="GratuitousArpSent"/>.
/// </summary>
public sealed record SendGratuitousArp(string Device);

/// <summary><paramref name="Count"/> announcements went to the device (0: no such device, lo, or no address).</summary>
public sealed record GratuitousArpSent(string Device, int Count);

/// <summary>Asks a neighbour actor for its counters; answered by <see cref="ArpStats"/>.</summary>
public sealed record GetArpStats
{
    public static readonly GetArpStats Instance = new();
}

/// <summary>
/// The neighbour layer's counters: <paramref name="Arp"/> counts ARP packets received and sent, by outcome
/// (named like the SNMP counters); <paramref name="ArpCache"/> is <c>/proc/net/stat/arp_cache</c>
/// (<c>struct neigh_statistics</c>, with <c>entries</c>); <paramref name="ReachableTimeMs"/> is the
/// current randomised <c>reachable_time</c>.
/// </summary>
public sealed record ArpStats(MibSnapshot Arp, MibSnapshot ArpCache, long ReachableTimeMs)
{
    public long this[string counter] => Arp.Counters.Concat(ArpCache.Counters).First(c => c.Key == counter).Value;
}
