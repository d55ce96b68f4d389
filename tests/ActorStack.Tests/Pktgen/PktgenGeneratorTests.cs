using System.Buffers.Binary;
using ActorStack.Hardware.Pktgen;
using ActorStack.Config;
using ActorStack.Messages.Packets;
using PacketDotNet;

namespace ActorStack.Tests.Pktgen;

public class PktgenGeneratorTests
{
    private static readonly long T0 = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).UtcTicks + 1_234_567;
    private const uint T0Sec = 1714979289;

    private static (EthernetPacket Eth, IPv4Packet Ip, UdpPacket Udp) Parse(byte[] frame)
    {
        var eth = Assert.IsType<EthernetPacket>(Packet.ParsePacket(LinkLayers.Ethernet, frame));
        var ip = Assert.IsType<IPv4Packet>(eth.PayloadPacket);
        var udp = Assert.IsType<UdpPacket>(ip.PayloadPacket);
        return (eth, ip, udp);
    }

    /// <summary>Checks both checksums with ActorStack's own views (independent of PacketDotNet).</summary>
    private static void AssertChecksumsValid(byte[] frame)
    {
        Assert.True(Ipv4Header.TryRead(frame.AsSpan(14), out var ip));
        Assert.True(ip.ChecksumValid);
        var datagram = frame.AsSpan(34, ip.TotalLength - 20);
        Assert.NotEqual(0, BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]));
        Assert.True(UdpHeader.ChecksumValid(datagram, ip.Source, ip.Destination));
    }

    [Fact]
    public void Next_DefaultSettings_BuildsLinuxShapedFrame()
    {
        var g = new PktgenGenerator(new PktgenSettings
        {
            SrcMac = MacAddress.Parse("02:00:00:00:00:0a"),
            DstMac = MacAddress.Parse("02:00:00:00:00:0b"),
        });
        var frame = g.Next();

        Assert.Equal(64, frame.Length);
        var (eth, ip, udp) = Parse(frame);
        Assert.Equal("02000000000A", eth.SourceHardwareAddress.ToString());
        Assert.Equal("02000000000B", eth.DestinationHardwareAddress.ToString());
        Assert.Equal(EthernetType.IPv4, eth.Type);
        Assert.Equal("10.0.0.1", ip.SourceAddress.ToString());
        Assert.Equal("10.0.0.2", ip.DestinationAddress.ToString());
        Assert.Equal(32, ip.TimeToLive); // Linux pktgen writes iph->ttl = 32
        Assert.Equal(0, ip.Id);
        Assert.Equal(0, ip.FragmentFlags);   // DF not set
        Assert.Equal(50, ip.TotalLength);
        Assert.Equal(5, ip.HeaderLength);
        Assert.True(ip.ValidIPChecksum);
        Assert.Equal(9, udp.SourcePort);
        Assert.Equal(9, udp.DestinationPort);
        Assert.Equal(30, udp.Length);
        Assert.True(udp.ValidUdpChecksum);
        Assert.Equal(
            new byte[] { 0xbe, 0x9b, 0xe9, 0x55, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
            udp.PayloadData);
        AssertChecksumsValid(frame);
        Assert.Equal(1, g.Sent);
    }

    [Theory]
    [InlineData(60)]
    [InlineData(64)]
    [InlineData(1514)]
    [InlineData(9014)]
    public void Next_PktSize_FrameHasExactlyThatLengthAndValidChecksums(int pktSize)
    {
        var g = new PktgenGenerator(new PktgenSettings { PktSize = pktSize, Flows = 3 });
        for (int i = 0; i < 7; i++)
        {
            var frame = g.Next(T0 + i * 1_000_003L);
            Assert.Equal(pktSize, frame.Length);
            var (_, ip, udp) = Parse(frame);
            Assert.Equal(pktSize - 14, ip.TotalLength);
            Assert.Equal(pktSize - 34, udp.Length);
            Assert.Equal(pktSize - 42, udp.PayloadData.Length);
            Assert.True(ip.ValidIPChecksum);
            Assert.True(udp.ValidUdpChecksum);
            AssertChecksumsValid(frame);
            Assert.All(udp.PayloadData.Skip(16), b => Assert.Equal(0, b));
        }
    }

    [Fact]
    public void Next_FiveFlowsOverRanges_CyclesExactTuplesRoundRobin()
    {
        var g = new PktgenGenerator(new PktgenSettings
        {
            Flows = 5,
            SrcMin = Ipv4Address.Parse("10.0.0.1"), SrcMax = Ipv4Address.Parse("10.0.0.3"),
            DstMin = Ipv4Address.Parse("10.0.1.1"), DstMax = Ipv4Address.Parse("10.0.1.2"),
            UdpSrcMin = 1000, UdpSrcMax = 1001,
            UdpDstMin = 2000, UdpDstMax = 2003,
        });
        string[] flows =
        [
            "10.0.0.1:1000 -> 10.0.1.1:2000",
            "10.0.0.2:1001 -> 10.0.1.2:2001",
            "10.0.0.3:1000 -> 10.0.1.1:2002",
            "10.0.0.1:1001 -> 10.0.1.2:2003",
            "10.0.0.2:1000 -> 10.0.1.1:2000",
        ];
        var got = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            var (_, ip, udp) = Parse(g.Next());
            got.Add($"{ip.SourceAddress}:{udp.SourcePort} -> {ip.DestinationAddress}:{udp.DestinationPort}");
        }

        Assert.Equal(Enumerable.Range(0, 12).Select(i => flows[i % 5]), got);
        Assert.Equal(flows, Enumerable.Range(0, 5).Select(i => g.GetFlow(i).ToString()));
    }

    [Fact]
    public void Next_FlowLenThree_SendsThreeFramesPerFlowInTurn()
    {
        var g = new PktgenGenerator(new PktgenSettings { Flows = 2, FlowLen = 3, UdpSrcMin = 100, UdpSrcMax = 101 });
        var ports = Enumerable.Range(0, 9).Select(_ => (int)Parse(g.Next()).Udp.SourcePort).ToArray();
        Assert.Equal(new[] { 100, 100, 100, 101, 101, 101, 100, 100, 100 }, ports);
    }

    [Fact]
    public void Next_SeqAndIpId_IncrementGloballyFromLinuxStartValues()
    {
        var g = new PktgenGenerator(new PktgenSettings { Flows = 3 });
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal((uint)(i + 1), g.NextSeq);
            var frame = g.Next(T0);
            var (_, ip, udp) = Parse(frame);
            Assert.Equal(i, ip.Id);
            Assert.True(PktgenHeader.TryRead(udp.PayloadData, out var seq, out _));
            Assert.Equal((uint)(i + 1), seq);
        }
    }

    [Fact]
    public void Next_WithTime_StampsTruncatedMicrosecondsThatTryReadReturns()
    {
        var g = new PktgenGenerator(new PktgenSettings());
        var frame = g.Next(T0);
        var payload = frame.AsSpan(42);
        Assert.Equal(T0Sec, BinaryPrimitives.ReadUInt32BigEndian(payload[8..]));
        Assert.Equal(123456u, BinaryPrimitives.ReadUInt32BigEndian(payload[12..]));
        Assert.True(PktgenHeader.TryRead(payload, out var seq, out var ticks));
        Assert.Equal(1u, seq);
        Assert.Equal(T0 - 7, ticks);
    }

    [Fact]
    public void Next_WithoutTime_WritesZeroTimevalAndTryReadReturnsZeroTicks()
    {
        var frame = new PktgenGenerator(new PktgenSettings()).Next();
        Assert.True(PktgenHeader.TryRead(frame.AsSpan(42), out var seq, out var ticks));
        Assert.Equal(1u, seq);
        Assert.Equal(0L, ticks);
        Assert.Equal(new byte[8], frame.AsSpan(50, 8).ToArray());
    }

    [Fact]
    public void Next_IpIdWrapsAfter65536Frames_ChecksumStillValid()
    {
        var g = new PktgenGenerator(new PktgenSettings { PktSize = 60 });
        var buffer = new byte[60];
        for (int i = 0; i < 65536; i++) g.WriteNext(buffer, T0);
        Assert.Equal(65535, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(18)));
        AssertChecksumsValid(buffer);
        var frame = g.Next(T0);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(18)));
        AssertChecksumsValid(frame);
        Assert.Equal(65537L, g.Sent);
    }

    [Fact]
    public void Next_ReturnsFreshArrayPerFrame()
    {
        var g = new PktgenGenerator(new PktgenSettings());
        var a = g.Next();
        var b = g.Next();
        Assert.NotSame(a, b);
        Assert.True(PktgenHeader.TryRead(a.AsSpan(42), out var seqA, out _));
        Assert.Equal(1u, seqA);
    }

    [Fact]
    public void Done_AfterCountFrames_BecomesTrue()
    {
        var g = new PktgenGenerator(new PktgenSettings { Count = 3 });
        g.Next(); g.Next();
        Assert.False(g.Done);
        g.Next();
        Assert.True(g.Done);
        Assert.False(new PktgenGenerator(new PktgenSettings { Count = 0 }).Done);
    }

    [Fact]
    public void Next_FlowRandomSameSeed_SameFlowSequenceWithinRange()
    {
        var s = new PktgenSettings { Flows = 4, FlowRandom = true, Seed = 42, UdpSrcMin = 10, UdpSrcMax = 13 };
        var a = new PktgenGenerator(s);
        var b = new PktgenGenerator(s);
        var portsA = Enumerable.Range(0, 50).Select(_ => (int)Parse(a.Next()).Udp.SourcePort).ToArray();
        var portsB = Enumerable.Range(0, 50).Select(_ => (int)Parse(b.Next()).Udp.SourcePort).ToArray();
        Assert.Equal(portsA, portsB);
        Assert.All(portsA, p => Assert.InRange(p, 10, 13));
        Assert.Equal(4, portsA.Distinct().Count());
        Assert.Equal(10, portsA[0]);   // the first frame is always flow 0
    }

    [Fact]
    public void WriteNext_MatchesNextByteForByte()
    {
        var s = new PktgenSettings { Flows = 2, PktSize = 128 };
        var a = new PktgenGenerator(s);
        var b = new PktgenGenerator(s);
        var buffer = new byte[200];
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(128, b.WriteNext(buffer, T0 + i));
            Assert.Equal(a.Next(T0 + i), buffer[..128]);
        }
    }

    [Fact]
    public void Constructor_InvalidSettings_ThrowsWithPktgenKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PktgenGenerator(new PktgenSettings { PktSize = 59 }));
        Assert.Contains("pkt_size", ex.Message);
    }

    [Fact]
    public void Next_ComputedUdpChecksumZero_IsSentAsFFFF()
    {
        // seq 1..65535 steps the UDP sum through every one's-complement residue once, so exactly one
        // frame's checksum computes to 0 and must go out as 0xFFFF (CSUM_MANGLED_0); none may carry 0.
        var g = new PktgenGenerator(new PktgenSettings { PktSize = 60 });
        var buffer = new byte[60];
        int mangled = 0, zero = 0;
        for (int i = 0; i < 65535; i++)
        {
            g.WriteNext(buffer, T0);
            ushort check = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(40));
            if (check == 0xFFFF) { mangled++; AssertChecksumsValid(buffer); }
            if (check == 0) zero++;
        }
        Assert.Equal(1, mangled);
        Assert.Equal(0, zero);
    }
}
