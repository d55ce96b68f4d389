using System.Collections.Immutable;
using ActorStack.Actors.Workloads;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Apps;

public class TracerouteRunTests
{
    private static readonly Ipv4Address Dst = Ipv4Address.Parse("10.0.2.2");
    private static readonly Ipv4Address R1 = Ipv4Address.Parse("10.0.1.1");
    private static readonly Ipv4Address R2 = Ipv4Address.Parse("10.0.2.1");
    private const byte TimeExceeded = 11, DestUnreach = 3;

    private static long Us(long us) => us * 10;

    [Fact]
    public void Run_TwoRoutersThenDestination_TraceroutePrintout()
    {
        var t = new TracerouteRun(Dst, 30, 3, 33434, 60);
        var lines = new List<string> { t.Header() };
        void Add(string? l) { if (l is not null) lines.Add(l); }

        Assert.Equal(32, t.DataLength);
        Assert.Equal((1, (ushort)33434), (t.Ttl, t.DestinationPort));
        Add(t.Answer(R1, TimeExceeded, 0, 0, Us(215)));
        Add(t.Answer(R1, TimeExceeded, 0, 0, Us(190)));
        Add(t.Answer(R1, TimeExceeded, 0, 0, Us(181)));
        Assert.Equal((2, (ushort)33437), (t.Ttl, t.DestinationPort));
        Add(t.Answer(R2, TimeExceeded, 0, 0, Us(402)));
        Add(t.Timeout());
        Add(t.Answer(R2, TimeExceeded, 0, 0, Us(388)));
        Add(t.Answer(Dst, DestUnreach, 3, 0, Us(1500)));
        Assert.False(t.Done);
        Add(t.Answer(Dst, DestUnreach, 3, 0, Us(1250)));
        Add(t.Answer(Dst, DestUnreach, 3, 0, Us(1205)));
        Assert.True(t.Done);
        Assert.True(t.Reached);

        Assert.Equal(
        [
            "traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets",
            " 1  10.0.1.1 (10.0.1.1)  0.215 ms  0.190 ms  0.181 ms",
            " 2  10.0.2.1 (10.0.2.1)  0.402 ms *  0.388 ms",
            " 3  10.0.2.2 (10.0.2.2)  1.500 ms  1.250 ms  1.205 ms",
        ], lines);
        Assert.Equal(3, t.Hops.Length);
        Assert.Null(t.Hops[1].Probes[1].From);
    }

    [Fact]
    public void Run_NoAnswersAtAll_StopsAtMaxHopsWithStars()
    {
        var t = new TracerouteRun(Dst, 2, 3, 33434, 60);
        var lines = new List<string>();
        while (!t.Done) if (t.Timeout() is { } l) lines.Add(l);
        Assert.Equal([" 1  * * *", " 2  * * *"], lines);
        Assert.False(t.Reached);
        Assert.Null(t.Timeout());
    }

    [Fact]
    public void Run_HostUnreachable_AnnotatedAndFinal()
    {
        var t = new TracerouteRun(Dst, 30, 2, 33434, 60);
        Assert.Null(t.Answer(R1, DestUnreach, 1, 0, Us(3000)));
        Assert.Equal(" 1  10.0.1.1 (10.0.1.1)  3.000 ms !H  3.000 ms !H", t.Answer(R1, DestUnreach, 1, 0, Us(3000)));
        Assert.True(t.Done);
        Assert.False(t.Reached);
    }

    [Fact]
    public void FormatHop_DifferentAddressesInOneHop_EachPrinted()
    {
        var hop = new TracerouteHop(12, ImmutableArray.Create(
            new TracerouteProbe(R1, Us(100)), new TracerouteProbe(R2, Us(200)), new TracerouteProbe(R2, Us(300))));
        Assert.Equal("12  10.0.1.1 (10.0.1.1)  0.100 ms 10.0.2.1 (10.0.2.1)  0.200 ms  0.300 ms", TracerouteRun.FormatHop(hop));
    }

    [Theory]
    [InlineData(11, 0, 0u, "", false)]
    [InlineData(3, 3, 0u, "", true)]
    [InlineData(3, 0, 0u, "!N", true)]
    [InlineData(3, 2, 0u, "!P", true)]
    [InlineData(3, 4, 1400u, "!F-1400", true)]
    [InlineData(3, 13, 0u, "!X", true)]
    [InlineData(3, 99, 0u, "!<99>", true)]
    [InlineData(11, 1, 0u, "!<11-1>", true)]
    public void Classify_IcmpAnswer_ParseIcmpResAnnotation(byte type, byte code, uint info, string annotation, bool final)
        => Assert.Equal((annotation, final), TracerouteRun.Classify(type, code, info));

    [Theory]
    [InlineData(2150, "0.215")]
    [InlineData(625, "0.062")]     // exactly 0.0625 ms: round half to even as printf does
    [InlineData(635, "0.064")]
    [InlineData(123_456_789, "12345.679")]
    public void Ms_Ticks_ThreeDecimals(long ticks, string expected) => Assert.Equal(expected, TracerouteRun.Ms(ticks));

    [Fact]
    public void ProbeData_PacketLength60_32BytesOfTraceroutePattern()
    {
        var d = new TracerouteRun(Dst, 30, 3, 33434, 60).ProbeData();
        Assert.Equal(32, d.Length);
        Assert.Equal(0x40, d[0]);
        Assert.Equal(0x5F, d[31]);
    }
}
