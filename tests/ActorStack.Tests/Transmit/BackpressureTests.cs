using Akka.Actor;
using Akka.TestKit;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Transmit;

/// <summary>
/// The qdisc and the TX ring under back-pressure (dev_queue_xmit): a wire end that does not complete transmissions
/// stands in for a slow link, so the ring fills, the queue stops, the qdisc fills and drops; completions
/// wake the queue. And the socket's send buffer: EAGAIN when full, a blocked send goes on when buffers are freed.
/// </summary>
public class BackpressureTests() : VirtualNetKit("tx-backpressure")
{
    private async Task<(Started A, TestProbe Wire)> HostOnProbe(int txRing, int txqueuelen)
    {
        var a = await Start(HostOf("a", null, Dev("eth0", 1, "10.0.0.1/24") with { TxRing = txRing, TxQueueLen = txqueuelen }) with
        {
            Neighbours = [Neigh("10.0.0.2", 2, "eth0")],
        });
        var wire = Probe();
        a.Devices["eth0"].Tell(new AttachWire(wire.Ref));
        Driver.RunIdle();
        return (a, wire);
    }

    [Fact]
    public async Task FullRing_StopsQueue_QdiscDropsOverflow_CompletionWakesQueue()
    {
        var (a, wire) = await HostOnProbe(txRing: 8, txqueuelen: 4);
        var tx = await BoundSocket(a.Host, "0.0.0.0", 0);
        var msgs = Enumerable.Range(0, 20).Select(i => new SendTo(new byte[] { (byte)i }, Ip("10.0.0.2"), 9000)).ToArray();
        Assert.Equal(20, (await Ask<SentMany>(tx, new SendMany([.. msgs]))).Count);

        // The ring took 8 frames in one burst; 4 wait in the qdisc (band 1); 8 were dropped.
        var first = await ExpectSoon<WireFrames>(wire);
        Assert.Equal(8, first.Count);
        await Settled(a.Host, s =>
        {
            var q = s.Devices.Single(d => d.Name == "eth0").Qdisc!;
            Assert.Equal(8, q.Drops);
            Assert.Equal(4, q.Backlog);
            Assert.Equal(1, q.TxQueueStopped);
            // udp_send_skb: the 8 NET_XMIT_DROPs are SndbufErrors and Ip OutDiscards (ip_send_skb), not OutDatagrams.
            Assert.Equal(8, Mib(s, "Udp", "SndbufErrors"));
            Assert.Equal(12, Mib(s, "Udp", "OutDatagrams"));
            Assert.Equal(8, Mib(s, "Ip", "OutDiscards"));
        });

        // TX completion of 8: the queue wakes and the 4 queued frames go, in order.
        a.Devices["eth0"].Tell(new WireTxDone(8), wire.Ref);
        var second = await ExpectSoon<WireFrames>(wire);
        Assert.Equal(4, second.Count);
        Assert.Equal(8, second.Frames[0].Span[^1]); // payload byte of the 9th datagram
        await Settled(a.Host, s =>
        {
            var q = s.Devices.Single(d => d.Name == "eth0").Qdisc!;
            Assert.Equal(0, q.Backlog);
            Assert.Equal(1, q.TxRestartQueue);
            Assert.Equal(12, q.Packets);
            Assert.Equal(12, s.Devices.Single(d => d.Name == "eth0").Counters.TxPackets);
        });
    }

    [Fact]
    public async Task FullSendBuffer_NonBlockingIsEagain_BlockingSendResumesOnCompletion()
    {
        var (a, wire) = await HostOnProbe(txRing: 256, txqueuelen: 1000);
        var tx = await BoundSocket(a.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await Command(tx, new SetSocketOption(SockOpt.SoSndbuf, 1))); // SOCK_MIN_SNDBUF: 4608
        var info = await Ask<SocketInfo>(tx, GetSocketInfo.Instance);
        Assert.Equal(4608, info.SndBuf);

        // Each 43-byte frame is charged 640 bytes (truesize); the 8th finds 4480 < 4608 and goes, the 9th must wait.
        int sent = 0;
        while (await SendErr(tx, [1], "10.0.0.2", 9000, MsgFlags.DontWait) == Errno.OK) sent++;
        Assert.Equal(8, sent);
        Assert.Equal(Errno.EAGAIN, await SendErr(tx, [1], "10.0.0.2", 9000, MsgFlags.DontWait));

        var blocked = Begin(tx, new SendTo(new byte[] { 2 }, Ip("10.0.0.2"), 9000));
        for (int got = 0; got < 8;) got += (await ExpectSoon<WireFrames>(wire)).Count;
        await Ask<SocketInfo>(tx, GetSocketInfo.Instance); // the blocked send has been taken in
        Assert.False(blocked.IsCompleted);
        a.Devices["eth0"].Tell(new WireTxDone(8), wire.Ref);
        RunUntil(() => blocked.IsCompleted, what: "the blocked send");
        Assert.IsType<Sent>(await blocked);
        Assert.Equal(1, (await ExpectSoon<WireFrames>(wire)).Count);
    }

    [Fact]
    public async Task NoCable_DropsWithCarrierErrors_AndReturnsTheCharge()
    {
        var a = await Start(HostOf("a", null, Dev("eth0", 1, "10.0.0.1/24")) with { Neighbours = [Neigh("10.0.0.2", 2, "eth0")] });
        var tx = await BoundSocket(a.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await SendErr(tx, [1], "10.0.0.2", 9000));
        await Settled(a.Host, s =>
        {
            var eth0 = s.Devices.Single(d => d.Name == "eth0");
            Assert.Equal(1, eth0.Counters.TxCarrierErrors);
            Assert.Equal(1, eth0.Counters.TxDropped);
            Assert.Equal(0, s.Sockets.Single(x => x.DatagramsSent == 1).SendQueueBytes);
        });
    }
}
