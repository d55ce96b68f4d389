using Akka.Actor;
using System.Collections.Immutable;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Receive;

/// <summary>The NIC and its driver on a running host (hard IRQ → napi_schedule, igb_poll): IRQ coalescing under NAPI, ring overflow, jumbo frames.</summary>
public class NicReceiveTests() : ReceiveHostKit("nic-rx")
{
    [Fact]
    public async Task Irq_BurstOf200WhileNapiPolls_OneIrqAllDelivered()
    {
        var (host, nic) = await StartHost("irq-burst", 1, Eth0(), new SysctlSettings(RmemDefault: 1 << 20)); // 200 × 2,304 bytes (RX truesize) unread
        var sock = await OpenUdp(host, 9000);
        nic.Tell(Wire(Enumerable.Range(0, 200).Select(i => UdpFrame(9000, [(byte)i], id: (ushort)i))));
        var got = await ReadExactly(sock, 200);
        for (int i = 0; i < 200; i++) Assert.Equal((byte)i, got[i].Payload.Span[0]);
        var s = await Stats(host);
        var eth0 = s.Device("eth0");
        Assert.Equal(1, eth0.IrqsPerQueue[0]); // masked from the first frame until the ring was empty
        Assert.Equal(200, eth0.Counters.RxPackets);
        Assert.Equal(200, s.Softnet[0].Processed);
    }

    [Fact]
    public async Task Irq_AfterShortPoll_UnmaskedAndNextFrameRaisesIt()
    {
        var (host, nic) = await StartHost("irq-unmask", 1, Eth0());
        var sock = await OpenUdp(host, 9000);
        nic.Tell(Wire(UdpFrame(9000, [1])));
        await ReadExactly(sock, 1);
        Assert.Equal(1, (await Stats(host)).Device("eth0").IrqsPerQueue[0]);
        nic.Tell(Wire(UdpFrame(9000, [2])));
        var second = await ReadExactly(sock, 1);
        Assert.Equal(2, second[0].Payload.Span[0]);
        Assert.Equal(2, (await Stats(host)).Device("eth0").IrqsPerQueue[0]);
    }

    [Fact]
    public async Task Ring_1000FramesIntoRingOf64_936MissedCountedAsFullRing()
    {
        var (host, nic) = await StartHost("ring-overflow", 1, Eth0(rxRing: 64));
        nic.Tell(Wire(Enumerable.Range(0, 1000).Select(i => UdpFrame(7, [(byte)i], id: (ushort)i))));
        Settle();
        var st = await Stats(host);
        Assert.Equal(64, st.Mib("Udp")["NoPorts"]); // the delivered ones reach UDP: port 7 is closed
        var c = st.Device("eth0").Counters;
        Assert.Equal(64, c.RxPackets);
        Assert.Equal(936, c.RxMissedErrors);
        Assert.Equal(1000 - c.RxPackets, c.RxMissedErrors);
        Assert.Equal(936, st.DropsOf(DropReason.FULL_RING));
        Assert.Equal(936, st.Drops.Single(d => d.Site.Reason == DropReason.FULL_RING).Packets);
        Assert.Equal("eth0/rx0", st.Drops.Single(d => d.Site.Reason == DropReason.FULL_RING).Site.Location);
        Assert.Equal(0, c.RxFifoErrors);
    }

    [Fact]
    public async Task Jumbo_9000ByteIpPacketOverFiveDescriptors_DeliveredByteForByte()
    {
        var (host, nic) = await StartHost("jumbo", 1, Eth0(mtu: 9000));
        var sock = await OpenUdp(host, 9000);
        var payload = new byte[9000 - 20 - 8];
        new Random(7).NextBytes(payload);
        var frame = UdpFrame(9000, payload);
        Assert.Equal(9014, frame.Length);
        nic.Tell(Wire(frame));
        var got = await ReadExactly(sock, 1);
        Assert.Equal(payload.Length, got[0].Payload.Length);
        Assert.True(payload.AsSpan().SequenceEqual(got[0].Payload.Span));
        Assert.Equal(PeerIp, got[0].Source);
        Assert.Equal(5000, got[0].SourcePort);
        var c = (await Stats(host)).Device("eth0").Counters;
        Assert.Equal(1, c.RxPackets);
        Assert.Equal(9014, c.RxBytes);
        Assert.Equal(0, c.RxLengthErrors);
    }
}
