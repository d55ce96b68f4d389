using ActorStack.Actors.Workloads;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Apps;

public class PingStatisticsTests
{
    private static readonly Ipv4Address Dst = Ipv4Address.Parse("10.0.0.2");
    private static readonly Ipv4Address Router = Ipv4Address.Parse("10.0.1.1");

    [Fact]
    public void Header_DefaultSize_PrintsIputilsHeader()
        => Assert.Equal("PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.", new PingStatistics(Dst, 56).Header());

    [Fact]
    public void Run_FourReplies_PrintsIputilsLinesAndSummary()
    {
        var s = new PingStatistics(Dst, 56);
        var lines = new List<string> { s.Header() };
        long[] rtts = [123, 190, 215, 181];
        foreach (var rtt in rtts)
        {
            ushort seq = s.NextSequence();
            lines.Add(s.OnReply(Dst, seq, 64, 64, rtt, checksumFailed: false)!);
        }
        Assert.True(s.AllAnswered(4));
        lines.AddRange(s.Summary(TimeSpan.FromMilliseconds(3004)));
        Assert.Equal(
        [
            "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.",
            "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.123 ms",
            "64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=0.190 ms",
            "64 bytes from 10.0.0.2: icmp_seq=3 ttl=64 time=0.215 ms",
            "64 bytes from 10.0.0.2: icmp_seq=4 ttl=64 time=0.181 ms",
            "",
            "--- 10.0.0.2 ping statistics ---",
            "4 packets transmitted, 4 received, 0% packet loss, time 3004ms",
            // avg 709/4 = 177; var = (130215 - 709*709/4)/4 = 1136; llsqrt = 33
            "rtt min/avg/max/mdev = 0.123/0.177/0.215/0.033 ms",
        ], lines);
    }

    [Fact]
    public void Run_ErrorsAndLoss_CountsErrorsAndPrintsLossWithPercentG()
    {
        var s = new PingStatistics(Dst, 56);
        var a = s.NextSequence();
        Assert.Equal("From 10.0.1.1 icmp_seq=1 Time to live exceeded", s.OnError(Router, a, 11, 0, 0));
        var b = s.NextSequence();
        var c = s.NextSequence();
        // The error for 2 comes after 3 was sent: two probes were outstanding (pipe 2).
        Assert.Equal("From 10.0.0.1 icmp_seq=2 Destination Host Unreachable", s.OnError(Ipv4Address.Parse("10.0.0.1"), b, 3, 1, 0));
        Assert.Equal("64 bytes from 10.0.0.2: icmp_seq=3 ttl=63 time=1.23 ms", s.OnReply(Dst, c, 64, 63, 1234, false));
        Assert.Equal(
        [
            "",
            "--- 10.0.0.2 ping statistics ---",
            "3 packets transmitted, 1 received, +2 errors, 66.6667% packet loss, time 2000ms",
            "rtt min/avg/max/mdev = 1.234/1.234/1.234/0.000 ms, pipe 2",
        ], s.Summary(TimeSpan.FromMilliseconds(2000)));
    }

    [Fact]
    public void Summary_NothingReceived_NoRttLineButPipeAlone()
    {
        var s = new PingStatistics(Dst, 56);
        s.NextSequence();
        s.NextSequence();
        s.NextSequence();
        s.OnError(Router, 1, 3, 1, 0); // acknowledged with 3 outstanding
        Assert.Equal(
        [
            "",
            "--- 10.0.0.2 ping statistics ---",
            "3 packets transmitted, 0 received, +1 errors, 100% packet loss, time 2001ms",
            "pipe 3",
        ], s.Summary(TimeSpan.FromTicks(20_005_000)));
    }

    [Fact]
    public void OnReply_Quiet_CountsTheSameAndBuildsNoLine()
    {
        var loud = new PingStatistics(Dst, 56);
        var quiet = new PingStatistics(Dst, 56);
        foreach (var (rtt, again) in new[] { (100L, false), (300L, true), (500L, false) })
        {
            var a = loud.NextSequence();
            var b = quiet.NextSequence();
            Assert.NotNull(loud.OnReply(Dst, a, 64, 64, rtt, false));
            Assert.Null(quiet.OnReply(Dst, b, 64, 64, rtt, false, quiet: true));
            if (again) // a duplicate counts the same, quiet or not
            {
                loud.OnReply(Dst, a, 64, 64, rtt, false);
                Assert.Null(quiet.OnReply(Dst, b, 64, 64, rtt, false, quiet: true));
            }
        }
        Assert.Equal((3L, 1L, 100L, 500L), (quiet.Received, quiet.Repeats, quiet.TminUs, quiet.TmaxUs));
        Assert.Equal(loud.Summary(TimeSpan.FromSeconds(2)), quiet.Summary(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void OnReply_SameSequenceTwice_SecondIsDuplicate()
    {
        var s = new PingStatistics(Dst, 56);
        var seq = s.NextSequence();
        s.OnReply(Dst, seq, 64, 64, 100, false);
        Assert.Equal("64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.300 ms (DUP!)", s.OnReply(Dst, seq, 64, 64, 300, false));
        Assert.Equal(1, s.Received);
        Assert.Equal(1, s.Repeats);
        // Duplicates count in the average, as iputils' total = nreceived + nrepeats.
        Assert.Equal(200, s.AvgUs);
        Assert.Equal("1 packets transmitted, 1 received, +1 duplicates, 0% packet loss, time 0ms", s.Summary(TimeSpan.Zero)[2]);
    }

    [Fact]
    public void OnReply_BadChecksum_CountedCorruptedNotReceived()
    {
        var s = new PingStatistics(Dst, 56);
        var seq = s.NextSequence();
        Assert.Equal("64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.050 ms (BAD CHECKSUM!)", s.OnReply(Dst, seq, 64, 64, 50, true));
        Assert.Equal(0, s.Received);
        Assert.Equal(1, s.Checksum);
    }

    [Fact]
    public void OnReply_ShortReply_Truncated()
    {
        var s = new PingStatistics(Dst, 56);
        var seq = s.NextSequence();
        Assert.Equal("40 bytes from 10.0.0.2: icmp_seq=1 ttl=64 (truncated)", s.OnReply(Dst, seq, 40, 64, 50, false));
    }

    [Fact]
    public void Timing_SmallPayload_NoTimeAndNoRttLine()
    {
        var s = new PingStatistics(Dst, 4);
        Assert.Equal("PING 10.0.0.2 (10.0.0.2) 4(32) bytes of data.", s.Header());
        var seq = s.NextSequence();
        Assert.Equal("12 bytes from 10.0.0.2: icmp_seq=1 ttl=64", s.OnReply(Dst, seq, 12, 64, 50, false));
        Assert.Equal(3, s.Summary(TimeSpan.Zero).Count);
    }

    [Theory]
    [InlineData(0, "0.000 ms")]
    [InlineData(999, "0.999 ms")]
    [InlineData(1000, "1.00 ms")]
    [InlineData(1234, "1.23 ms")]
    [InlineData(9994, "9.99 ms")]
    [InlineData(9996, "10.0 ms")]
    [InlineData(12345, "12.3 ms")]
    [InlineData(99949, "99.9 ms")]
    [InlineData(99950, "100 ms")]
    [InlineData(123456, "123 ms")]
    public void FormatTripTime_Ranges_IputilsPrecision(long us, string expected)
        => Assert.Equal(expected, PingStatistics.FormatTripTime(us));

    [Theory]
    [InlineData(3, 3, 0, "Destination Port Unreachable")]
    [InlineData(3, 4, 1400, "Frag needed and DF set (mtu = 1400)")]
    [InlineData(3, 0, 0, "Destination Net Unreachable")]
    [InlineData(11, 1, 0, "Frag reassembly time exceeded")]
    [InlineData(12, 0, 20, "Parameter problem: pointer = 20")]
    [InlineData(42, 0, 0, "Bad ICMP type: 42")]
    public void Describe_TypeAndCode_PrIcmphText(byte type, byte code, uint info, string expected)
        => Assert.Equal(expected, PingStatistics.Describe(type, code, info));

    [Fact]
    public void ExitWait_AfterReplies_TwiceMaxRttButAtLeastInterval()
    {
        var s = new PingStatistics(Dst, 56);
        Assert.Equal(TimeSpan.FromSeconds(10), s.ExitWait(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10)));
        s.OnReply(Dst, s.NextSequence(), 64, 64, 800_000, false);
        Assert.Equal(TimeSpan.FromMilliseconds(1600), s.ExitWait(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(2), s.ExitWait(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void SendError_Errno_StrerrorText()
        => Assert.Equal("ping: sendmsg: Network is unreachable", PingStatistics.SendError(Errno.ENETUNREACH));
}
