using System.Collections.Immutable;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Routing;

/// <summary>
/// Learned path MTUs per destination, as Linux keeps them in next-hop exceptions
/// (<c>fib_nh_exception</c>, <c>__ip_rt_update_pmtu</c>): an ICMP fragmentation-needed
/// lowers a destination's MTU, never below <c>min_pmtu</c> (552), and the entry
/// expires <c>mtu_expires</c> (600 s) after it was learned. Immutable: <see cref="Update"/>
/// returns a new cache, which the one owner (the routing actor, since the exceptions live with
/// the FIB) publishes in <see cref="NetNamespace.Pmtu"/>; readers look it up without a lock and
/// judge expiry against their own clock. Bounded: past <see cref="Capacity"/> entries the owner drops
/// the expired ones and then the oldest (Linux reclaims the oldest exception of a bucket).
/// </summary>
public sealed class PmtuCache
{
    public const int Capacity = 4096;
    private readonly ImmutableDictionary<Ipv4Address, Entry> _entries;
    private readonly TimeSpan _expires;

    private readonly record struct Entry(int Mtu, long Expires);

    public PmtuCache(int minPmtu, TimeSpan expires) : this(minPmtu, expires, ImmutableDictionary<Ipv4Address, Entry>.Empty) { }

    private PmtuCache(int minPmtu, TimeSpan expires, ImmutableDictionary<Ipv4Address, Entry> entries)
        => (MinPmtu, _expires, _entries) = (minPmtu, expires, entries);

    public int MinPmtu { get; }

    /// <summary>Entries held, expired ones included until the owner's next update drops them.</summary>
    public int Count => _entries.Count;

    /// <summary>The path MTU toward <paramref name="dst"/> at <paramref name="nowTicks"/>, or null when none is learned (or it expired).</summary>
    public int? Get(Ipv4Address dst, long nowTicks)
        => _entries.TryGetValue(dst, out var e) && nowTicks < e.Expires ? e.Mtu : null;

    /// <summary>
    /// <c>__ip_rt_update_pmtu</c>: learn <paramref name="mtu"/> for <paramref name="dst"/> when it is lower than
    /// <paramref name="deviceMtu"/> and than what is known; clamped up to <c>min_pmtu</c>. Returns the cache with
    /// the entry (this one when nothing is learned); <paramref name="inForce"/> is the MTU now in force.
    /// </summary>
    public PmtuCache Update(Ipv4Address dst, int mtu, int deviceMtu, long nowTicks, out int inForce)
    {
        mtu = Math.Max(mtu, MinPmtu);
        int current = deviceMtu;
        if (_entries.TryGetValue(dst, out var e) && nowTicks < e.Expires) current = Math.Min(current, e.Mtu);
        if (mtu >= current)
        {
            inForce = current;
            return this;
        }
        var entries = _entries;
        if (!entries.ContainsKey(dst) && entries.Count >= Capacity)
        {
            // The owner's clock decides expiry here: expired exceptions go first, then the oldest one.
            entries = entries.RemoveRange(entries.Where(kv => nowTicks >= kv.Value.Expires).Select(kv => kv.Key).ToList());
            if (entries.Count >= Capacity) entries = entries.Remove(entries.MinBy(kv => kv.Value.Expires).Key);
        }
        inForce = mtu;
        return new PmtuCache(MinPmtu, _expires, entries.SetItem(dst, new Entry(mtu, nowTicks + _expires.Ticks)));
    }
}
