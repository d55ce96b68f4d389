using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Net;

/// <summary>
/// Learned path MTUs per destination, as Linux keeps them in next-hop exceptions
/// (<c>fib_nh_exception</c>, <c>__ip_rt_update_pmtu</c>): an ICMP fragmentation-needed
/// lowers a destination's MTU, never below <c>min_pmtu</c> (552), and the entry
/// expires <c>mtu_expires</c> (600 s) after it was learned. Bounded: past
/// <see cref="Capacity"/> entries the oldest is evicted (Linux reclaims the oldest
/// exception of a bucket). Thread-safe: every actor of a host may read it.
/// </summary>
public sealed class PmtuCache(int minPmtu, TimeSpan expires)
{
    public const int Capacity = 4096;
    private readonly Dictionary<Ipv4Address, (int Mtu, long Expires)> _entries = new();
    private readonly object _lock = new();

    public int MinPmtu { get; } = minPmtu;

    /// <summary>The path MTU toward <paramref name="dst"/> at <paramref name="nowTicks"/>, or null when none is learned (or it expired).</summary>
    public int? Get(Ipv4Address dst, long nowTicks)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(dst, out var e)) return null;
            if (nowTicks >= e.Expires) { _entries.Remove(dst); return null; }
            return e.Mtu;
        }
    }

    /// <summary>
    /// <c>__ip_rt_update_pmtu</c>: learn <paramref name="mtu"/> for <paramref name="dst"/> when it is lower than
    /// <paramref name="deviceMtu"/> and than what is known; clamped up to <c>min_pmtu</c>. Returns the MTU now in force.
    /// </summary>
    public int Update(Ipv4Address dst, int mtu, int deviceMtu, long nowTicks)
    {
        mtu = Math.Max(mtu, MinPmtu);
        lock (_lock)
        {
            int current = deviceMtu;
            if (_entries.TryGetValue(dst, out var e) && nowTicks < e.Expires) current = Math.Min(current, e.Mtu);
            if (mtu >= current) return current;
            if (!_entries.ContainsKey(dst) && _entries.Count >= Capacity)
            {
                var oldest = _entries.MinBy(kv => kv.Value.Expires).Key;
                _entries.Remove(oldest);
            }
            _entries[dst] = (mtu, nowTicks + expires.Ticks);
            return mtu;
        }
    }

    public int Count { get { lock (_lock) return _entries.Count; } }
}
