using ActorStack.Config;
using ActorStack.Actors.Icmp;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Icmp;

public class IcmpRateLimiterTests
{
    private const byte DestUnreach = 3, PortUnreach = 3, TimeExceeded = 11, EchoReply = 0;
    private static readonly Ipv4Address Dst = Ipv4Address.Parse("10.0.0.2");

    private static int AllowedCount(IcmpRateLimiter l, int n, Func<int, Ipv4Address> dst, long now, byte type = DestUnreach, byte code = PortUnreach)
    {
        int ok = 0;
        for (int i = 0; i < n; i++)
            if (l.Allow(type, code, dst(i), now)) ok++;
        return ok;
    }

    [Fact]
    public void Allow_OneDestination_BurstOfSixThenOnePerSecond()
    {
        var l = new IcmpRateLimiter();
        Assert.Equal(6, AllowedCount(l, 10, _ => Dst, 0));
        Assert.Equal(4, l.OutRateLimitHost);
        Assert.False(l.Allow(DestUnreach, PortUnreach, Dst, 999));
        Assert.True(l.Allow(DestUnreach, PortUnreach, Dst, 1000));
        Assert.False(l.Allow(DestUnreach, PortUnreach, Dst, 1000));
        Assert.Equal(1, AllowedCount(l, 5, _ => Dst, 2000));
        Assert.Equal(0, l.OutRateLimitGlobal);
    }

    [Fact]
    public void Allow_IdleDestination_RefillsToBurstCapOfSix()
    {
        var l = new IcmpRateLimiter();
        AllowedCount(l, 6, _ => Dst, 0);
        Assert.Equal(6, AllowedCount(l, 20, _ => Dst, 100_000));
    }

    [Fact]
    public void Allow_EchoReplyAndFragNeeded_NeverLimited()
    {
        var l = new IcmpRateLimiter();
        Assert.Equal(5000, AllowedCount(l, 5000, _ => Dst, 0, EchoReply, 0));
        Assert.Equal(5000, AllowedCount(l, 5000, _ => Dst, 0, DestUnreach, IcmpRateLimiter.CodeFragNeeded));
        Assert.Equal(5000, AllowedCount(l, 5000, _ => Dst, 0, 8, 0)); // echo request: not in the mask either
        Assert.Equal(0, l.OutRateLimitHost + l.OutRateLimitGlobal);
        Assert.Equal(6, AllowedCount(l, 10, _ => Dst, 0, TimeExceeded, 0));
    }

    [Fact]
    public void Allow_ManyDestinations_GlobalBurstOfFifty()
    {
        var l = new IcmpRateLimiter();
        Assert.Equal(50, AllowedCount(l, 200, i => new Ipv4Address(0x0A010000u + (uint)i), 0));
        Assert.Equal(150, l.OutRateLimitGlobal);
        Assert.Equal(0, l.OutRateLimitHost);
        // Less than HZ/50 later: no refill.
        Assert.Equal(0, AllowedCount(l, 10, i => new Ipv4Address(0x0A020000u + (uint)i), 19));
        // 20 ms later: 1000/s * 20 ms = 20 credits.
        Assert.Equal(20, AllowedCount(l, 100, i => new Ipv4Address(0x0A030000u + (uint)i), 20));
    }

    [Fact]
    public void Allow_SustainedLoadOverManyDestinations_AboutThousandPerSecond()
    {
        var l = new IcmpRateLimiter();
        AllowedCount(l, 50, i => new Ipv4Address(0x0B000000u + (uint)i), 0);
        uint next = 0x0C000000;
        int allowed = 0;
        for (long t = 1; t <= 999; t++)
            for (int k = 0; k < 2; k++)
                if (l.Allow(TimeExceeded, 0, new Ipv4Address(next++), t)) allowed++;
        // Refills of 20 credits at t = 20, 40, ..., 980.
        Assert.Equal(980, allowed);
        Assert.Equal(1998 - 980, l.OutRateLimitGlobal);
    }

    [Fact]
    public void Allow_HostLimitedDestination_DoesNotConsumeGlobalCredit()
    {
        var l = new IcmpRateLimiter();
        AllowedCount(l, 6, _ => Dst, 0);
        Assert.Equal(44, l.GlobalCredit);
        AllowedCount(l, 100, _ => Dst, 0);
        Assert.Equal(44, l.GlobalCredit);
        Assert.Equal(100, l.OutRateLimitHost);
    }

    [Fact]
    public void Allow_LoopbackDestination_OnlyGloballyLimited()
    {
        var l = new IcmpRateLimiter();
        Assert.Equal(50, AllowedCount(l, 60, _ => Ipv4Address.Loopback, 0));
        Assert.Equal(10, l.OutRateLimitGlobal);
    }

    [Fact]
    public void Allow_RandomisedGlobalCost_SameSeedSameCounts()
    {
        int Run(int seed)
        {
            var l = new IcmpRateLimiter(random: new Random(seed));
            return AllowedCount(l, 500, i => new Ipv4Address(0x0A000000u + (uint)i), 0);
        }
        int a = Run(7);
        Assert.Equal(a, Run(7));
        Assert.InRange(a, 25, 500); // 0 to 2 credits each: at least burst/2 messages
    }

    [Fact]
    public void Allow_PeerTableAtThreshold_ReclaimsAndStaysBounded()
    {
        var l = new IcmpRateLimiter(new IcmpRateLimitSettings { InetPeerThreshold = 4, IcmpMsgsBurst = 1000, IcmpMsgsPerSec = 100_000 });
        for (uint i = 0; i < 10; i++) l.Allow(DestUnreach, PortUnreach, new Ipv4Address(0x0A000000u + i), 0);
        Assert.Equal(4, l.PeerCount);
        Assert.Equal(6, l.PeersReclaimed);
    }

    [Fact]
    public void MaskAllow_DefaultRatemask_LimitsUnreachSourceQuenchTimeExceededParamProblem()
    {
        var l = new IcmpRateLimiter();
        var limited = Enumerable.Range(0, 19).Where(t => !l.MaskAllow((byte)t, 0)).ToArray();
        Assert.Equal(new[] { 3, 4, 11, 12 }, limited);
        Assert.True(l.MaskAllow(200, 0));
    }
}
