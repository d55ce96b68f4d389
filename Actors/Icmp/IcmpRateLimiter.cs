using ActorStack.Config;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Icmp;

/// <summary>
/// Linux's two ICMP output limits (net/ipv4/icmp.c), deciding whether <c>icmp_send</c> / <c>icmp_reply</c> may
/// emit a message of a given type to a destination:
/// <list type="number">
/// <item><c>icmpv4_mask_allow</c>: types outside <c>icmp_ratemask</c> (echo reply among them), unknown types
/// (&gt; NR_ICMP_TYPES) and fragmentation-needed (PMTU discovery) are never limited;</item>
/// <item><c>icmp_global_allow</c>: a host-wide token bucket of <c>icmp_msgs_burst</c> credits refilled at
/// <c>icmp_msgs_per_sec</c>, refilled only when at least 20 ms (HZ/50) passed; on refusal <c>OutRateLimitGlobal</c>;</item>
/// <item><c>icmpv4_xrlim_allow</c> → <c>inet_peer_xrlim_allow</c>: per-destination tokens in jiffies, one message
/// costs <c>icmp_ratelimit</c>, the bucket holds XRLIM_BURST_FACTOR (6) messages, a new peer starts full; on
/// refusal <c>OutRateLimitHost</c>, on success the global credit is consumed (<c>icmp_global_consume</c>).</item>
/// </list>
/// Linux consumes a random 0–2 global credits per message (1 on average) so the limit is not a side channel;
/// with a <see cref="Random"/> given this limiter does the same, without one it consumes exactly 1 (deterministic
/// counts). Loopback destinations are not per-destination limited, as in Linux.
/// </summary>
public sealed class IcmpRateLimiter
{
    /// <summary><c>XRLIM_BURST_FACTOR</c>.</summary>
    public const int XrlimBurstFactor = 6;
    /// <summary><c>NR_ICMP_TYPES</c>.</summary>
    public const int NrIcmpTypes = 18;
    public const byte TypeDestUnreach = 3;
    public const byte CodeFragNeeded = 4;

    private sealed class Peer
    {
        public long RateTokens;
        public long RateLast;
    }

    private readonly Dictionary<uint, Peer> _peers = new();
    private readonly Random? _random;
    private long _globalCredit;
    private long _globalStamp;
    private bool _globalStarted;

    public IcmpRateLimitSettings Settings { get; }
    /// <summary>Messages allowed (<c>icmp_send</c> proceeded).</summary>
    public long Allowed { get; private set; }
    /// <summary>Icmp: <c>OutRateLimitGlobal</c>.</summary>
    public long OutRateLimitGlobal { get; private set; }
    /// <summary>Icmp: <c>OutRateLimitHost</c>.</summary>
    public long OutRateLimitHost { get; private set; }
    /// <summary>Peers reclaimed to stay under <c>inet_peer_threshold</c>.</summary>
    public long PeersReclaimed { get; private set; }
    public int PeerCount => _peers.Count;
    public long GlobalCredit => _globalCredit;

    public IcmpRateLimiter(IcmpRateLimitSettings? settings = null, Random? random = null)
    {
        Settings = settings ?? IcmpRateLimitSettings.Default;
        _random = random;
    }

    /// <summary>
    /// Whether an ICMP message of <paramref name="type"/>/<paramref name="code"/> to <paramref name="dst"/> may be
    /// sent at <paramref name="nowMs"/>; consumes the credits when it may. Both limits in one call, for callers
    /// that have no route in between (<see cref="GlobalAllow"/> and <see cref="XrlimAllow"/> are the two halves).
    /// </summary>
    public bool Allow(byte type, byte code, Ipv4Address dst, long nowMs)
        => GlobalAllow(type, code, nowMs, out bool apply) && XrlimAllow(dst, nowMs, apply, dst.IsLoopback);

    /// <summary>
    /// <c>icmpv4_global_allow</c>, the half of <c>icmp_send</c>'s limit checked before the route lookup: true
    /// when the type is not limited (<paramref name="applyRatelimit"/> false) or the host-wide bucket has credit
    /// (<paramref name="applyRatelimit"/> true: <see cref="XrlimAllow"/> must follow); false counts
    /// <c>OutRateLimitGlobal</c>.
    /// </summary>
    public bool GlobalAllow(byte type, byte code, long nowMs, out bool applyRatelimit)
    {
        applyRatelimit = false;
        if (MaskAllow(type, code))
        {
            Allowed++;
            return true;
        }
        if (!GlobalBucketAllow(nowMs))
        {
            OutRateLimitGlobal++;
            return false;
        }
        applyRatelimit = true;
        return true;
    }

    /// <summary>
    /// <c>icmpv4_xrlim_allow</c>, checked once the route is known: without <paramref name="applyRatelimit"/>
    /// always true; a route out of loopback (<paramref name="outLoopback"/>) is not limited per destination;
    /// otherwise the destination's bucket decides (false counts <c>OutRateLimitHost</c>). When allowed the global
    /// credit is consumed (<c>icmp_global_consume</c>).
    /// </summary>
    public bool XrlimAllow(Ipv4Address dst, long nowMs, bool applyRatelimit, bool outLoopback)
    {
        if (!applyRatelimit) return true;
        if (!outLoopback && !PeerAllow(dst, nowMs))
        {
            OutRateLimitHost++;
            return false;
        }
        GlobalConsume();
        Allowed++;
        return true;
    }

    /// <summary><c>icmpv4_mask_allow</c>: true when the type is not subject to rate limiting.</summary>
    public bool MaskAllow(byte type, byte code)
    {
        if (type > NrIcmpTypes) return true;
        if (type == TypeDestUnreach && code == CodeFragNeeded) return true;
        return ((1u << type) & Settings.IcmpRatemask) == 0;
    }

    // icmp_global_allow: credit left → yes; else refill by msgs_per_sec * delta / HZ (delta capped at HZ, and
    // only once 20 ms passed), capped at the burst.
    private bool GlobalBucketAllow(long now)
    {
        if (!_globalStarted)
        {
            // Linux's stamp starts far in the past: the first refill grants a full second's worth (capped at the burst).
            _globalStarted = true;
            _globalStamp = now - 1000;
        }
        if (_globalCredit > 0) return true;
        long delta = Math.Min(now - _globalStamp, 1000);
        if (delta < 1000 / 50) return false;
        long incr = Settings.IcmpMsgsPerSec * delta / 1000;
        if (incr == 0) return false;
        _globalStamp = now;
        _globalCredit = Math.Min(_globalCredit + incr, Settings.IcmpMsgsBurst);
        return true;
    }

    // icmp_global_consume: get_random_u32_below(3) credits, which may drive the credit negative.
    private void GlobalConsume() => _globalCredit -= _random?.Next(3) ?? 1;

    // inet_peer_xrlim_allow with a peer created as inet_getpeer does (rate_last = now - 60 s, so it starts full).
    private bool PeerAllow(Ipv4Address dst, long now)
    {
        long timeout = Settings.IcmpRatelimitMs;
        if (timeout <= 0) return true;
        if (!_peers.TryGetValue(dst.Value, out var peer))
        {
            if (_peers.Count >= Settings.InetPeerThreshold) Reclaim(now);
            peer = new Peer { RateTokens = 0, RateLast = now - 60_000 };
            _peers[dst.Value] = peer;
        }
        long token = peer.RateTokens + (now - peer.RateLast);
        peer.RateLast = now;
        if (token > XrlimBurstFactor * timeout) token = XrlimBurstFactor * timeout;
        bool rc = false;
        if (token >= timeout)
        {
            token -= timeout;
            rc = true;
        }
        peer.RateTokens = token;
        return rc;
    }

    // inet_peer GC: drop peers idle beyond inet_peer_maxttl; if none are, the least recently used one.
    private void Reclaim(long now)
    {
        var old = _peers.Where(p => now - p.Value.RateLast > Settings.InetPeerMaxTtlMs).Select(p => p.Key).ToList();
        if (old.Count == 0)
            old.Add(_peers.MinBy(p => p.Value.RateLast).Key);
        foreach (var k in old) _peers.Remove(k);
        PeersReclaimed += old.Count;
    }
}
