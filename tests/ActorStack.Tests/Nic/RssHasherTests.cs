using ActorStack.Hardware.Nic;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Nic;

public class RssHasherTests
{
    [Fact]
    public void RssHasher_Indirection_RoundRobinOverQueues()
    {
        var rss = new RssHasher(3);
        Assert.Equal(128, rss.Indirection.Length);
        for (int i = 0; i < 128; i++) Assert.Equal(i % 3, rss.Indirection[i]);
        Assert.Equal(2, rss.QueueFor(0x0000_0085));   // 0x85 & 127 = 5 → 5 % 3
        Assert.Equal(0, rss.QueueFor(0));
    }

    [Fact]
    public void RssHasher_UdpFrame_MatchesMicrosoftTcpIpv4Vector()
    {
        // the IPv4-UDP hash type uses the same input layout as IPv4-TCP
        var f = FrameBuilder.Udp(FlowKeysTests.Mac2, FlowKeysTests.Mac1,
            Ipv4Address.Parse("66.9.149.187"), Ipv4Address.Parse("161.142.100.80"), 2794, 1766, new byte[4]);
        var rss = new RssHasher(4);
        Assert.Equal(0x51ccc178u, rss.Hash(f));
        Assert.Equal(rss.Indirection[0x78 & 127], rss.QueueFor(0x51ccc178u));
    }

    [Fact]
    public void RssHasher_FragmentOrOtherProtocol_UsesTwoTupleVector()
    {
        var f = FrameBuilder.Udp(FlowKeysTests.Mac2, FlowKeysTests.Mac1,
            Ipv4Address.Parse("66.9.149.187"), Ipv4Address.Parse("161.142.100.80"), 2794, 1766, new byte[4]);
        var rss = new RssHasher(4);
        f[14 + 6] = 0x20; // MF
        Assert.Equal(0x323e8fc2u, rss.Hash(f));
        f[14 + 6] = 0x00;
        f[14 + 9] = IpProtocol.Icmp;
        Assert.Equal(0x323e8fc2u, rss.Hash(f));
    }

    [Fact]
    public void RssHasher_NonIpFrames_HashZeroQueueZero()
    {
        var rss = new RssHasher(4);
        var arp = new byte[60];
        arp[12] = 0x08; arp[13] = 0x06;
        Assert.Equal(0u, rss.Hash(arp));
        Assert.Equal(0u, rss.Hash(new byte[5]));
        Assert.Equal(0, rss.QueueFor(rss.Hash(arp)));
    }

    [Fact]
    public void RssHasher_ManyFlows_SpreadEvenlyAndStablePerFlow()
    {
        const int queues = 4, flows = 8000;
        var rss = new RssHasher(queues);
        var rnd = new Random(99);
        var perQueue = new int[queues];
        for (int i = 0; i < flows; i++)
        {
            var src = new Ipv4Address((uint)rnd.Next());
            var sport = (ushort)rnd.Next(1024, 65536);
            var a = FrameBuilder.Udp(FlowKeysTests.Mac2, FlowKeysTests.Mac1, src, FlowKeysTests.B, sport, 9, new byte[1], id: 1);
            var b = FrameBuilder.Udp(FlowKeysTests.Mac2, FlowKeysTests.Mac1, src, FlowKeysTests.B, sport, 9, new byte[300], id: 2);
            uint h = rss.Hash(a);
            Assert.Equal(h, rss.Hash(b)); // same flow, other packet: same hash
            perQueue[rss.QueueFor(h)]++;
        }
        foreach (var n in perQueue) Assert.InRange(n, flows / queues * 9 / 10, flows / queues * 11 / 10);
    }

    [Fact]
    public void RssHasher_CustomKey_ChangesHashAndShortKeyThrows()
    {
        var f = FlowKeysTests.Udp();
        var key = new byte[40];
        key[0] = 0xFF;
        Assert.NotEqual(new RssHasher(2).Hash(f), new RssHasher(2, key).Hash(f));
        Assert.Equal(new RssHasher(2).Hash(f), new RssHasher(2, Toeplitz.DefaultKey).Hash(f));
        Assert.Throws<ArgumentException>(() => new RssHasher(2, new byte[15]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RssHasher(0));
    }
}
