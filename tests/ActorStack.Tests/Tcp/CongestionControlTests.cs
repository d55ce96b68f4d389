using ActorStack.Actors.Tcp;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

public class CongestionControlTests
{
    private const long Rtt = 100 * TimeSpan.TicksPerMillisecond;

    /// <summary>Drives an algorithm with one ACK per packet per RTT after a loss at W = 100 packets; returns cwnd per RTT.</summary>
    private static List<int> Run(ICongestionControl cc, int rtts)
    {
        var s = new CongestionState { Cwnd = 100, SrttTicks = Rtt };
        s.SsThresh = cc.SsThresh(s);
        s.Cwnd = s.SsThresh;
        var trace = new List<int> { s.Cwnd };
        long now = 0;
        for (int r = 0; r < rtts; r++)
        {
            int acks = s.Cwnd;
            for (int i = 0; i < acks; i++) cc.CongAvoid(s, 1, now + Rtt * i / acks);
            now += Rtt;
            trace.Add(s.Cwnd);
        }
        return trace;
    }

    [Fact]
    public void Reno_AfterLoss_HalvesThenOnePacketPerRtt()
    {
        var t = Run(new RenoCongestionControl(), 20);
        Assert.Equal(50, t[0]);
        for (int i = 1; i < t.Count; i++) Assert.Equal(t[i - 1] + 1, t[i]);
    }

    [Fact]
    public void Reno_SlowStart_DoublesPerRttUpToSsthresh()
    {
        var cc = new RenoCongestionControl();
        var s = new CongestionState { Cwnd = 10, SsThresh = 70 };
        cc.CongAvoid(s, 10, 0);
        Assert.Equal(20, s.Cwnd);
        cc.CongAvoid(s, 20, 0);
        Assert.Equal(40, s.Cwnd);
        cc.CongAvoid(s, 40, 0); // 30 to ssthresh, the other 10 in congestion avoidance (10/70 of a packet)
        Assert.Equal(70, s.Cwnd);
        Assert.Equal(10, s.CwndCnt);
    }

    [Fact]
    public void Cubic_AfterLoss_BetaPoint7AndConcaveThenConvexAroundWmax()
    {
        var cubic = new CubicCongestionControl();
        var t = Run(cubic, 80);
        Assert.Equal(70, t[0]);
        Assert.Equal(100, cubic.WMax);
        // K = cbrt(W_max (1 - beta) / C) = cbrt(75) = 4.217 s ≈ 42 RTTs.
        Assert.Equal(Math.Cbrt(75), cubic.K, 9);
        // Concave: fast growth first, slowing down as cwnd approaches W_max.
        int early = t[10] - t[0], late = t[40] - t[30];
        Assert.True(early > late, $"early {early} late {late}");
        Assert.InRange(t[42], 97, 101); // plateau at W_max near t = K
        // Convex beyond K: growth accelerates again.
        Assert.True(t[80] - t[70] > t[50] - t[42], $"{t[42]} {t[50]} {t[70]} {t[80]}");
        // Always at or above what the formula gives at t - RTT (cwnd tracks W_cubic(t + RTT)).
        for (int r = 5; r <= 80; r += 5)
        {
            double tt = r * 0.1;
            double w = 100 + 0.4 * Math.Pow(tt - cubic.K, 3);
            Assert.True(t[r] >= Math.Floor(w) - 1, $"rtt {r}: cwnd {t[r]} formula {w}");
        }
    }

    [Fact]
    public void Cubic_VsReno_HigherWindowAfterSameTime()
    {
        var reno = Run(new RenoCongestionControl(), 42);
        var cubic = Run(new CubicCongestionControl(), 42);
        Assert.Equal(92, reno[42]);
        Assert.True(cubic[42] >= 97);
    }

    [Fact]
    public void Cubic_FastConvergence_LowersWmaxWhenLossBelowPreviousWmax()
    {
        var cc = new CubicCongestionControl();
        var s = new CongestionState { Cwnd = 100 };
        cc.SsThresh(s);
        s.Cwnd = 80;
        cc.SsThresh(s);
        Assert.Equal(80 * 1.7 / 2, cc.WMax, 9);
    }
}
