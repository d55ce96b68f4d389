using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Tests.Routing;

/// <summary>The PMTU cache as an immutable value (<c>__ip_rt_update_pmtu</c> on <c>fib_nh_exception</c>s).</summary>
public class PmtuCacheTests
{
    private static readonly TimeSpan Expires = TimeSpan.FromSeconds(600);
    private static Ipv4Address Dst(int i) => new((uint)(0xC0A80000 + i));

    [Fact]
    public void Update_LowerThanDevice_NewCacheOldUnchanged()
    {
        var empty = new PmtuCache(552, Expires);
        var c = empty.Update(Dst(1), 1400, 1500, nowTicks: 0, out int inForce);
        Assert.Equal(1400, inForce);
        Assert.Equal(1400, c.Get(Dst(1), 0));
        Assert.Null(empty.Get(Dst(1), 0));
        Assert.Equal(0, empty.Count);
    }

    [Fact]
    public void Update_NotLower_SameCacheAndMtuInForce()
    {
        var c = new PmtuCache(552, Expires).Update(Dst(1), 1400, 1500, 0, out _);
        Assert.Same(c, c.Update(Dst(1), 1450, 1500, 0, out int inForce));
        Assert.Equal(1400, inForce);
        var lower = c.Update(Dst(1), 1200, 1500, 0, out inForce);
        Assert.Equal(1200, inForce);
        Assert.Equal(1200, lower.Get(Dst(1), 0));
        Assert.Equal(1400, c.Get(Dst(1), 0));
    }

    [Fact]
    public void Update_BelowMinPmtu_Floored_ExpiresOnReadersClock()
    {
        var c = new PmtuCache(552, Expires).Update(Dst(1), 100, 1500, 0, out int inForce);
        Assert.Equal(552, inForce);
        Assert.Equal(552, c.Get(Dst(1), Expires.Ticks - 1));
        Assert.Null(c.Get(Dst(1), Expires.Ticks));
    }

    [Fact]
    public void Update_AtCapacity_ExpiredDroppedFirstThenOldest()
    {
        var c = new PmtuCache(552, Expires);
        for (int i = 0; i < PmtuCache.Capacity; i++) c = c.Update(Dst(i), 1000, 1500, nowTicks: i, out _);
        Assert.Equal(PmtuCache.Capacity, c.Count);
        var full = c.Update(Dst(PmtuCache.Capacity), 1000, 1500, nowTicks: 10_000, out _);
        Assert.Equal(PmtuCache.Capacity, full.Count);
        Assert.Null(full.Get(Dst(0), 10_000));           // the oldest went
        Assert.Equal(1000, full.Get(Dst(1), 10_000));
        // Later, when the first 10 have expired on the owner's clock, an update drops all of them.
        var later = full.Update(Dst(PmtuCache.Capacity + 1), 1000, 1500, nowTicks: Expires.Ticks + 10, out _);
        Assert.Equal(PmtuCache.Capacity - 10 + 1, later.Count);
    }
}
