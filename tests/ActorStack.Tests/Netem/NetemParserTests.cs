using ActorStack.Hardware.Netem;
using ActorStack.Messages;

namespace ActorStack.Tests.Netem;

public class NetemParserTests
{
    [Theory]
    [InlineData(
        "limit 1000 delay 10ms 2ms 25% distribution normal loss random 1% 25% corrupt 0.1% duplicate 1% reorder 25% 50% gap 5 rate 100mbit 20 100 5 slot 1ms 2ms packets 10 bytes 1500 seed 42",
        "limit 1000 delay 10ms  2ms 25% loss 1% 25% duplicate 1% reorder 25% 50% corrupt 0.1% seed 42 rate 100Mbit packetoverhead 20 cellsize 100 celloverhead 5 slot 1ms 2ms packets 10 bytes 1500 gap 5")]
    [InlineData("delay 100ms", "limit 1000 delay 100ms")]
    [InlineData("", "limit 1000")]
    [InlineData("loss state 1%", "limit 1000 loss state p13 1% p31 99% p32 0% p23 100% p14 0%")]
    [InlineData("loss state 2% 30% 10% 50% 1%", "limit 1000 loss state p13 2% p31 30% p32 10% p23 50% p14 1%")]
    [InlineData("loss gemodel 1%", "limit 1000 loss gemodel p 1% r 99% 1-h 100% 1-k 0%")]
    [InlineData("loss gemodel 1% 10% 70% 0.1%", "limit 1000 loss gemodel p 1% r 10% 1-h 70% 1-k 0.1%")]
    [InlineData("loss 5% ecn", "limit 1000 loss 5% ecn ")]
    [InlineData("drop 5", "limit 1000 loss 5%")]
    [InlineData("rate 1kbit", "limit 1000 rate 1Kbit")]
    [InlineData("rate 1mbps", "limit 1000 rate 8Mbit")]
    [InlineData("rate 1500", "limit 1000 rate 1496bit")] // 187 B/s after get_rate64 truncates
    [InlineData("rate 1Gbit -4", "limit 1000 rate 1Gbit packetoverhead -4")]
    [InlineData("l 5 d 1ms", "limit 5 delay 1ms")]
    [InlineData("limit 1k", "limit 1024")]
    [InlineData("slot 500us", "limit 1000 slot 500us 500us")]
    [InlineData("slot 100 200 packets 0x10", "limit 1000 slot 100ns 200ns packets 16")]
    [InlineData("slot distribution normal 1ms 200us", "limit 1000 slot distribution 1ms 200us")]
    [InlineData("delay 10ms reorder 25%", "limit 1000 delay 10ms reorder 25% gap 1")]
    [InlineData("delay 1s 100ms distribution pareto", "limit 1000 delay 1s  100ms")]
    [InlineData("delay 1.5ms", "limit 1000 delay 1.5ms")]
    [InlineData("delay 10ms 1ms 25% duplicate 3% 10% corrupt 1% 1%", "limit 1000 delay 10ms  1ms 25% duplicate 3% 10% corrupt 1% 1%")]
    [InlineData("seed 18446744073709551615", "limit 1000 seed 18446744073709551615")]
    public void TryParse_ValidSpec_PrintsLikeTcQdiscShow(string spec, string shown)
    {
        Assert.True(NetemParser.TryParse(spec, out var s, out var error), error);
        Assert.Equal("", error);
        Assert.Equal(shown, s.ToString());
    }

    [Theory]
    [InlineData("delay", "Command line is not complete. Try option \"help\"")]
    [InlineData("delay 10xs", "Illegal \"latency\": 10xs")]
    [InlineData("delay 100ns", "Illegal \"latency\": 100ns")]
    [InlineData("delay 300s", "Illegal 300000000 time (too large): 300s")]
    [InlineData("delay 10ms 2ms 101%", "Illegal \"latency\": 101%")]
    [InlineData("loss 101%", "Illegal \"loss percent\": 101%")]
    [InlineData("loss random -1%", "Illegal \"loss percent\": -1%")]
    [InlineData("loss -1%", "Unknown loss parameter: -1%")]
    [InlineData("loss 1%%", "Illegal \"loss percent\": 1%%")]
    [InlineData("loss 1% 2x", "Illegal \"loss correllation\": 2x")]
    [InlineData("loss 1% loss 2%", "Illegal \"duplicate loss argument\": loss")]
    [InlineData("loss state 120%", "Illegal \"loss p13\": 120%")]
    [InlineData("loss state 1% 2% 3% 4% 500%", "Illegal \"loss p14\": 500%")]
    [InlineData("loss gemodel abc", "Illegal \"loss gemodel p\": abc")]
    [InlineData("loss gemodel 1% 10% 170%", "Illegal \"loss gemodel h\": 170%")]
    [InlineData("loss foo 1%", "Unknown loss parameter: foo")]
    [InlineData("ecn", "ecn requested without loss model")]
    [InlineData("loss 0% ecn", "ecn requested without loss model")]
    [InlineData("reorder 25%", "reordering not possible without specifying some delay")]
    [InlineData("delay 10ms gap 5", "gap specified without reorder probability")]
    [InlineData("delay 1ms reorder 10% gap -1", "Illegal \"gap\": -1")]
    [InlineData("distribution normal", "distribution specified but no latency and jitter values")]
    [InlineData("delay 10ms distribution normal", "distribution specified but no latency and jitter values")]
    [InlineData("delay 10ms 1ms distribution weibull", "No distribution data for weibull (/usr/lib/tc/weibull.dist: No such file or directory)")]
    [InlineData("slot 2ms 1ms", "Illegal \"slot max_delay\": 1ms")]
    [InlineData("slot foo", "Unknown slot parameter: foo")]
    [InlineData("slot 1ms packets x", "Illegal \"slot packets\": x")]
    [InlineData("slot 1ms packets -5", "negative slot limit")]
    [InlineData("slot 1ms bytes 1q", "Illegal \"slot bytes\": 1q")]
    [InlineData("slot distribution normal 1ms 0", "Non-positive jitter: 0")]
    [InlineData("rate 10foo", "Illegal \"rate\": 10foo")]
    [InlineData("rate 10%", "No device specified; specify device to rate limit by percentage")]
    [InlineData("rate 1mbit 20 x", "What is \"x\"?")]
    [InlineData("limit abc", "Illegal \"limit\": abc")]
    [InlineData("limit -1", "Illegal \"limit\": -1")]
    [InlineData("duplicate 1% 200%", "Illegal \"duplicate\": 200%")]
    [InlineData("corrupt x", "Illegal \"corrupt\": x")]
    [InlineData("seed abc", "Illegal \"seed\": abc")]
    [InlineData("s 1ms", "Illegal \"seed\": 1ms")]
    [InlineData("foo", "What is \"foo\"?")]
    [InlineData("delay 10ms .5ms", "What is \".5ms\"?")]
    public void TryParse_InvalidSpec_FailsWithTcMessage(string spec, string expected)
    {
        Assert.False(NetemParser.TryParse(spec, out var s, out var error));
        Assert.Equal(expected, error);
        Assert.Same(NetemQopt.Default, s);
    }

    [Fact]
    public void TryParse_Times_QuantisedToWholeMicrosecondsAndPschedTicks()
    {
        // get_time truncates to µs, tc_core_time2tick to 64 ns ticks: 1.5 ms = 23437 ticks = 1 499 968 ns.
        Assert.True(NetemParser.TryParse("delay 1.5ms 1", out var s, out _));
        Assert.Equal(1_499_968, s.LatencyNs);
        Assert.Equal(960, s.JitterNs); // 1 µs = 15 ticks
        Assert.True(NetemParser.TryParse("delay 10ms 2ms", out s, out _));
        Assert.Equal(10_000_000, s.LatencyNs);
        Assert.Equal(2_000_000, s.JitterNs);
    }

    [Fact]
    public void TryParse_FullSpec_FillsKernelValues()
    {
        Assert.True(NetemParser.TryParse(
            "limit 1000 delay 10ms 2ms 25% distribution normal loss random 1% 25% corrupt 0.1% duplicate 1% reorder 25% 50% gap 5 rate 100mbit 20 100 5 slot 1ms 2ms packets 10 bytes 1500 seed 42",
            out var s, out _));
        Assert.Equal(1000u, s.Limit);
        Assert.Equal(NetemDistribution.Normal, s.Distribution);
        Assert.Equal(NetemLossModel.Random, s.LossModel);
        Assert.Equal(42949673u, s.Loss);            // rint(0.01 * 0xFFFFFFFF)
        Assert.Equal(1073741824u, s.LossCorrelation); // rint(0.25 * 0xFFFFFFFF)
        Assert.Equal(4294967u, s.Corrupt);
        Assert.Equal(2147483648u, s.ReorderCorrelation);
        Assert.Equal(5u, s.Gap);
        Assert.Equal(12_500_000ul, s.RateBytesPerSecond);
        Assert.Equal(20, s.PacketOverhead);
        Assert.Equal(100u, s.CellSize);
        Assert.Equal(5, s.CellOverhead);
        Assert.Equal(new NetemSlot(1_000_000, 2_000_000, 10, 1500), s.Slot);
        Assert.Equal(42ul, s.Seed);
    }

    [Theory]
    [InlineData("rate 1bps", 1ul)]      // "bps" matches "Bps": bytes per second
    [InlineData("rate 1kbps", 1000ul)]  // "kbps" matches "KBps"
    [InlineData("rate 1kibit", 128ul)]
    [InlineData("rate 1kbit", 125ul)]
    [InlineData("rate 1gbit", 125_000_000ul)]
    [InlineData("rate 100", 12ul)]      // bare number: bit/s
    public void TryParse_RateSuffixes_FollowGetRate64(string spec, ulong bytesPerSecond)
    {
        Assert.True(NetemParser.TryParse(spec, out var s, out var error), error);
        Assert.Equal(bytesPerSecond, s.RateBytesPerSecond);
    }

    [Fact]
    public void TryParse_GeModel_StoresKernelH()
    {
        Assert.True(NetemParser.TryParse("loss gemodel 1% 10% 70% 0.1%", out var s, out _));
        Assert.Equal(NetemLossModel.GilbertElliott, s.LossModel);
        Assert.Equal(uint.MaxValue - NetemQopt.Percent(70), s.GilbertElliott.H);
        Assert.Equal(NetemQopt.Percent(0.1), s.GilbertElliott.K1);
    }
}
