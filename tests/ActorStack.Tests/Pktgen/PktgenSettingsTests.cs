using ActorStack.Hardware.Pktgen;
using ActorStack.Config;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Pktgen;

public class PktgenSettingsTests
{
    [Fact]
    public void Defaults_AreValidWithDocumentedValues()
    {
        var s = new PktgenSettings();
        Assert.Empty(s.Validate());
        Assert.Equal(64, s.PktSize);
        Assert.Equal(1, s.Flows);
        Assert.Equal(1, s.FlowLen);
        Assert.Equal(1, s.Burst);
        Assert.Equal(0L, s.Count);
        Assert.Equal(0L, s.RatePps);
        Assert.Equal(32, s.Ttl);
        Assert.Equal(0L, s.DelayNanoseconds);
    }

    [Fact]
    public void DelayNanoseconds_FromRatep_IsNsecPerSecDividedByRate()
    {
        Assert.Equal(1_000L, new PktgenSettings { RatePps = 1_000_000 }.DelayNanoseconds);
        Assert.Equal(333L, new PktgenSettings { RatePps = 3_000_000 }.DelayNanoseconds);
    }

    [Fact]
    public void Validate_OutOfRangeValues_ListsEachKeyAndValue()
    {
        var s = new PktgenSettings
        {
            Count = -1,
            PktSize = 9019,
            RatePps = -5,
            Flows = 0,
            FlowLen = 0,
            Burst = 0,
            Ttl = 0,
            SrcMin = Ipv4Address.Parse("10.0.0.9"), SrcMax = Ipv4Address.Parse("10.0.0.1"),
            DstMin = Ipv4Address.Parse("10.0.1.9"), DstMax = Ipv4Address.Parse("10.0.1.1"),
            UdpSrcMin = 10, UdpSrcMax = 9,
            UdpDstMin = 20, UdpDstMax = 19,
            SrcMac = MacAddress.Parse("01:00:5e:00:00:01"),
        };
        Assert.Equal(new[]
        {
            "count: must be >= 0 (got -1)",
            "pkt_size: must be between 60 and 9018 (got 9019)",
            "ratep: must be >= 0 (got -5)",
            "flows: must be between 1 and 65536 (got 0)",
            "flowlen: must be >= 1 (got 0)",
            "burst: must be >= 1 (got 0)",
            "ttl: must be >= 1 (got 0)",
            "src_min: must be <= src_max (got 10.0.0.9 > 10.0.0.1)",
            "dst_min: must be <= dst_max (got 10.0.1.9 > 10.0.1.1)",
            "udp_src_min: must be <= udp_src_max (got 10 > 9)",
            "udp_dst_min: must be <= udp_dst_max (got 20 > 19)",
            "src_mac: must be a unicast address (got 01:00:5e:00:00:01)",
        }, s.Validate());
    }

    [Theory]
    [InlineData(59, false)]
    [InlineData(60, true)]
    [InlineData(9018, true)]
    [InlineData(9019, false)]
    public void Validate_PktSizeBounds(int pktSize, bool valid)
        => Assert.Equal(valid, new PktgenSettings { PktSize = pktSize }.Validate().Count == 0);

    [Fact]
    public void Validate_TooManyFlows_IsAnError()
        => Assert.Equal(new[] { "flows: must be between 1 and 65536 (got 65537)" }, new PktgenSettings { Flows = 65537 }.Validate());
}
