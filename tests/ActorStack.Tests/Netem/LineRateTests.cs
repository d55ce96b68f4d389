using ActorStack.Actors.Wire;

namespace ActorStack.Tests.Netem;

/// <summary>
/// The line-rate arithmetic without actors: a frame of L bytes (no FCS) costs (max(L, 60) + 4 + 8 + 12) × 8 bits on
/// the medium; back-to-back frames add up in ps and complete at the first ns at or after their last bit.
/// </summary>
public class LineRateTests
{
    [Theory]
    // minimum frame: 60 bytes + FCS 4 + preamble/SFD 8 + IFG 12 = 84 bytes = 672 bits
    [InlineData(60, 10, 67_200_000L, 67_200L)]
    [InlineData(60, 1_000, 672_000L, 672L)]
    [InlineData(60, 10_000, 67_200L, 68L)]
    // a runt (14-byte header only) is padded to the minimum: the same 672 bits
    [InlineData(14, 10_000, 67_200L, 68L)]
    // maximum frame at MTU 1500: 1514 + 24 = 1538 bytes = 12304 bits
    [InlineData(1514, 10, 1_230_400_000L, 1_230_400L)]
    [InlineData(1514, 1_000, 12_304_000L, 12_304L)]
    [InlineData(1514, 10_000, 1_230_400L, 1_231L)]
    [InlineData(1514, 400_000, 30_760L, 31L)]
    public void WireTime_MinAndMaxFrames_AtEachSpeed(int bytes, int speed, long ps, long ns)
    {
        Assert.Equal(ps, LineRate.WireTimePs(bytes, speed));
        Assert.Equal(ns, LineRate.WireTimeNs(bytes, speed));
    }

    [Fact]
    public void WireBits_CountPaddingFcsPreambleAndGap()
    {
        Assert.Equal(672, LineRate.WireBits(0));
        Assert.Equal(672, LineRate.WireBits(60));
        Assert.Equal(680, LineRate.WireBits(61));
        Assert.Equal(12_304, LineRate.WireBits(1514));
    }

    [Theory]
    [InlineData(10_000, 1_000, 1_000)]
    [InlineData(100, 10_000, 100)]
    [InlineData(25_000, 25_000, 25_000)]
    public void Negotiate_RunsAtTheLowerSpeed(int a, int b, int expected) => Assert.Equal(expected, LineRate.Negotiate(a, b));

    [Fact]
    public void BackToBackMinimumFrames_At10G_CompleteAtTheRoundedUpSumOfExactTimes()
    {
        var line = new LineSerializer<int>(10_000);
        var finishes = Enumerable.Range(0, 6).Select(i => line.Enqueue(i, 60, 1_000)).ToArray();
        // last bits at 1000 + k × 67.2 ns: 1067.2, 1134.4, 1201.6, 1268.8, 1336.0, 1403.2
        Assert.Equal(new long[] { 1068, 1135, 1202, 1269, 1336, 1404 }, finishes);
        Assert.Equal(1404, line.BusyUntilNs);
        Assert.Equal(1068, line.NextFinishNs);

        var done = new List<(int, long)>();
        Assert.Equal(0, line.TakeDone(1067, done));
        Assert.Equal(2, line.TakeDone(1135, done));
        Assert.Equal(new[] { (0, 1068L), (1, 1135L) }, done);
        Assert.Equal(4, line.Count);
    }

    [Fact]
    public void IdleLink_AFrameStartsNow_NotWhenThePreviousBurstEnded()
    {
        var line = new LineSerializer<int>(1_000);
        Assert.Equal(12_304, line.Enqueue(1, 1514, 0));
        // The medium was idle from 12304 ns to 50000 ns: the next frame starts at 50000.
        Assert.Equal(50_672, line.Enqueue(2, 60, 50_000));
        // Offered while the medium is busy: it starts when the previous frame's last bit left.
        Assert.Equal(51_344, line.Enqueue(3, 60, 50_100));
    }

    [Theory]
    [InlineData(9)]
    [InlineData(400_001)]
    public void Serializer_RefusesASpeedOutOfRange(int speed)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new LineSerializer<int>(speed));

    [Fact]
    public void Serializer_AcceptsTheLimits()
    {
        Assert.Equal(10, new LineSerializer<int>(10).SpeedMbps);
        Assert.Equal(400_000, new LineSerializer<int>(400_000).SpeedMbps);
    }
}
