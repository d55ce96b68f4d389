using System.Collections.Immutable;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sockets;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Ipv4Udp;
using ActorStack.Tests.Offload;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Tests.Nic;

/// <summary>
/// <see cref="TxPath"/> and <see cref="GsoPosting"/> without actors: <c>__dev_xmit_skb</c> (bypass, <c>pfifo_fast</c>
/// bands, <c>qdisc_drop</c>), <c>qdisc_run</c> against a small TX ring (<c>netif_tx_stop_queue</c>, requeue, wake on
/// completion), TSO versus software GSO, pktgen and a reset, with exact device counters.
/// </summary>
public sealed class TxPathTests
{
    private const long Now = 5 * TimeSpan.TicksPerSecond;

    private NetNamespace _ns = null!;
    private NetDevice _dev = null!;
    private readonly SkbFree _free = new();
    private readonly RecordingRef _sock = new("sock");
    private TxPath _tx = null!;

    private void Start(int ring = 4, int txqueuelen = 1000, bool tso = true)
    {
        var settings = new HostSettings("h", 1, new SysctlSettings(),
            [new DeviceSettings("eth0", MacAddress.Parse("02:00:00:00:00:02"), TxRing: ring, TxQueueLen: txqueuelen) { Tso = tso }]);
        _ns = new NetNamespace(settings, seed: 1);
        _dev = _ns.Device(2)!;
        _tx = new TxPath(_ns, _dev, _free);
    }

    private DeviceCounters Stats => _dev.Stats;

    /// <summary>A 60-byte frame marked with <paramref name="tag"/>, charged to the test's socket.</summary>
    private SkBuff Skb(byte tag, byte priority = 0)
    {
        var f = new byte[60];
        f[59] = tag;
        return new SkBuff(f, 2, 0, 0, 0, SkBuff.TruesizeFor(60)) { Owner = _sock, Priority = priority, Protocol = EtherType.Ipv4 };
    }

    private static byte[] Tags(ImmutableArray<ReadOnlyMemory<byte>> frames) => frames.Select(f => f.Span[59]).ToArray();

    [Fact]
    public void DevXmit_EmptyQdisc_BypassesToTheRing()
    {
        Start();
        _tx.DevXmit([Skb(1), Skb(2), Skb(3)], Now);
        Assert.Equal(new byte[] { 1, 2, 3 }, Tags(_tx.TakeWireFrames()));
        Assert.Equal((3, 0, false), (_tx.RingCount, _tx.Backlog, _tx.Stopped));
        Assert.Equal((3L, 180L, 3L, 180L, 0L), (Stats.QdiscPackets, Stats.QdiscBytes, Stats.TxPackets, Stats.TxBytes, Stats.QdiscBacklog));
        Assert.Equal(Now, _tx.TransStartTicks);
        Assert.True(_tx.TakeWireFrames().IsEmpty);
    }

    [Fact]
    public void RingFull_QueueStopsRequeuesAndWakesOnCompletion()
    {
        Start(ring: 2);
        _tx.DevXmit([Skb(1), Skb(2), Skb(3), Skb(4), Skb(5)], Now);
        Assert.Equal(new byte[] { 1, 2 }, Tags(_tx.TakeWireFrames()));
        Assert.Equal((3, true), (_tx.Backlog, _tx.Stopped));
        Assert.Equal((3L, 1L, 1L), (Stats.QdiscBacklog, Stats.TxQueueStopped, Stats.QdiscRequeues));

        _tx.Complete(1, noop: false, Now + 1);
        Assert.Equal(new byte[] { 3 }, Tags(_tx.TakeWireFrames()));
        Assert.Equal((2, true), (_tx.Backlog, _tx.Stopped)); // woken, ran, stopped again
        Assert.Equal((1L, 2L, 2L), (Stats.TxRestartQueue, Stats.TxQueueStopped, Stats.QdiscRequeues));
        Assert.Equal(Now + 1, _tx.TransStartTicks);

        _tx.Complete(2, noop: false, Now + 2);
        Assert.Equal(new byte[] { 4, 5 }, Tags(_tx.TakeWireFrames()));
        Assert.Equal((0, false, 2), (_tx.Backlog, _tx.Stopped, _tx.RingCount));
        Assert.Equal((0L, 2L, 2L), (Stats.QdiscBacklog, Stats.TxRestartQueue, Stats.TxQueueStopped));

        _free.Flush(_sock);
        var freed = Assert.Single(_sock.Messages.OfType<WmemFree>());
        Assert.Equal(new WmemFree(3, 3 * SkBuff.TruesizeFor(60), 0), freed);
    }

    [Fact]
    public void Complete_UnderNoopQdisc_WakesButDoesNotRun()
    {
        Start(ring: 1);
        _tx.DevXmit([Skb(1), Skb(2)], Now);
        _tx.TakeWireFrames();
        _tx.Complete(1, noop: true, Now);
        Assert.False(_tx.Stopped);
        Assert.True(_tx.TakeWireFrames().IsEmpty);
        Assert.Equal(1, _tx.Backlog);
    }

    [Fact]
    public void QdiscFull_QdiscDropReturnsTheChargeAsDropped()
    {
        Start(ring: 1, txqueuelen: 2);
        _tx.DevXmit([Skb(1), Skb(2), Skb(3), Skb(4), Skb(5)], Now);
        Assert.Equal(new byte[] { 1 }, Tags(_tx.TakeWireFrames()));
        Assert.Equal(2, _tx.Backlog);
        Assert.Equal(2L, Stats.QdiscDrops);
        var drop = Assert.Single(_ns.Drops.Snapshot());
        Assert.Equal((new DropSite(DropReason.QDISC_DROP, "eth0/qdisc"), 2L), (drop.Site, drop.Packets));
        _free.Flush(_sock);
        Assert.Equal(new WmemFree(2, 2 * SkBuff.TruesizeFor(60), 2), Assert.Single(_sock.Messages.OfType<WmemFree>()));
    }

    [Fact]
    public void PfifoFast_Band0GoesFirst()
    {
        Start(ring: 1);
        _tx.DevXmit([Skb(1), Skb(2), Skb(3, priority: 6)], Now); // TC_PRIO_INTERACTIVE (6) is band 0
        Assert.Equal(new byte[] { 1 }, Tags(_tx.TakeWireFrames()));
        _tx.Complete(1, noop: false, Now);
        Assert.Equal(new byte[] { 3 }, Tags(_tx.TakeWireFrames()));
        _tx.Complete(1, noop: false, Now);
        Assert.Equal(new byte[] { 2 }, Tags(_tx.TakeWireFrames()));
    }

    [Fact]
    public void Xoff_QdiscKeepsItsPacketsUntilTheQueuesWake()
    {
        Start();
        _tx.Xoff = true;
        _tx.DevXmit([Skb(1), Skb(2)], Now);
        Assert.True(_tx.TakeWireFrames().IsEmpty);
        Assert.Equal((2, false), (_tx.Backlog, _tx.Stopped));
        _tx.Xoff = false;
        _tx.QdiscRun(Now);
        Assert.Equal(new byte[] { 1, 2 }, Tags(_tx.TakeWireFrames()));
    }

    [Fact]
    public void Purge_QueuePurgeCountsTxDropped()
    {
        Start(ring: 1);
        _tx.DevXmit([Skb(1), Skb(2), Skb(3)], Now);
        _tx.Purge(DropReason.QUEUE_PURGE);
        Assert.Equal((0, 0L, 2L), (_tx.Backlog, Stats.QdiscBacklog, Stats.TxDropped));
        var drop = Assert.Single(_ns.Drops.Snapshot());
        Assert.Equal((new DropSite(DropReason.QUEUE_PURGE, "eth0/qdisc"), 2L), (drop.Site, drop.Packets));
    }

    /// <summary>A TCP super-packet of three 1000-byte segments (<c>gso_size</c> 1000).</summary>
    private SkBuff Super(int segs = 3)
    {
        var f = OffloadFrames.Frame(1000, OffloadFrames.Payload(segs * 1000, 1));
        return OffloadFrames.Skb(f) with { GsoSize = 1000, GsoSegs = segs, Owner = _sock };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gso_CutIntoMssFramesByTheNicOrInSoftware(bool tso)
    {
        Start(ring: 8, tso: tso);
        _ns.Ptypes = _ns.Ptypes.Add(new PacketTypeRegistration(EtherType.All, new RecordingRef("tap")));
        var skb = Super();
        _tx.DevXmit([skb], Now);

        var frames = _tx.TakeWireFrames();
        Assert.Equal(3, frames.Length);
        for (int i = 0; i < 3; i++)
        {
            var seg = OffloadFrames.Parse(frames[i]);
            Assert.Equal((1000 + 1000u * (uint)i, 1000), (seg.Seq.Value, seg.Payload.Length));
        }
        var off = _dev.Offload;
        Assert.Equal(tso ? (1L, 3L, 0L, 0L) : (0L, 0L, 1L, 3L), (off.TsoPackets, off.TsoSegments, off.GsoPackets, off.GsoSegments));
        Assert.Equal((3L, 3, 3L), (Stats.QdiscPackets, _tx.RingCount, Stats.TxPackets));
        // Taps see the packet as sent: the super-packet with TSO, each segment without.
        Assert.Equal(tso ? 1 : 3, _tx.Taps.Count);
        if (tso) Assert.Equal(skb.Data.Length, _tx.Taps[0].Data.Length);
        else Assert.All(_tx.Taps, t => Assert.Equal(0, t.GsoSize));

        // The charge returns with the last frame's descriptor.
        _tx.Complete(2, noop: false, Now);
        _free.Flush(_sock);
        Assert.Empty(_sock.Messages);
        _tx.Complete(1, noop: false, Now);
        _free.Flush(_sock);
        Assert.Equal(new WmemFree(1, skb.Truesize, 0), Assert.Single(_sock.Messages.OfType<WmemFree>()));
    }

    [Fact]
    public void Gso_NotEnoughDescriptors_HeadRequeuedUntilTheRingHasRoom()
    {
        Start(ring: 4);
        _tx.DevXmit([Skb(1), Skb(2), Super()], Now);
        Assert.Equal(2, _tx.TakeWireFrames().Length);
        Assert.Equal((1, true, 1L), (_tx.Backlog, _tx.Stopped, Stats.QdiscBacklog));
        _tx.Complete(1, noop: false, Now);            // 3 free descriptors: the 3 segments fit
        Assert.Equal(3, _tx.TakeWireFrames().Length);
        Assert.Equal((0, 0L, 4), (_tx.Backlog, Stats.QdiscBacklog, _tx.RingCount));
    }

    [Fact]
    public void Gso_NotTcp_SkbGsoSegDrop()
    {
        Start();
        _tx.DevXmit([Skb(1) with { GsoSize = 100, GsoSegs = 2 }], Now);
        Assert.True(_tx.TakeWireFrames().IsEmpty);
        Assert.Equal(1L, Stats.TxDropped);
        var drop = Assert.Single(_ns.Drops.Snapshot());
        Assert.Equal(new DropSite(DropReason.SKB_GSO_SEG, "eth0/gso"), drop.Site);
        Assert.Equal((0L, 0L), (_dev.Offload.TsoPackets, _dev.Offload.GsoPackets));
    }

    [Fact]
    public void Pktgen_BusyWhenTheRingIsFullCompletionsPerSender()
    {
        Start(ring: 2);
        var pktgen = new RecordingRef("pktgen");
        var f = new ReadOnlyMemory<byte>(new byte[60]);
        Assert.Equal(1, _tx.PktgenXmit([f, f, f], pktgen, Now));
        Assert.Equal(2, _tx.TakeWireFrames().Length);
        _tx.Complete(2, noop: false, Now);
        var c = Assert.Single(_tx.Completions);
        Assert.Equal((pktgen, new TxCompleted(2, 0)), ((RecordingRef)c.Owner, c.Completed));
    }

    [Fact]
    public void Reset_HungDmaDescriptorsDroppedSentOnesFreed()
    {
        Start(ring: 4);
        _tx.DevXmit([Skb(1)], Now);
        _tx.TxHung = true;
        _tx.DevXmit([Skb(2), Skb(3)], Now);
        Assert.Equal(new byte[] { 1 }, Tags(_tx.TakeWireFrames()));
        Assert.Equal(2, _tx.TxUnsent);

        Assert.Equal(1, _tx.Reset()); // one descriptor is on the wire: its completion is stale
        Assert.Equal(0, _tx.RingCount);
        Assert.Equal(2L, Stats.TxDropped);
        var drop = Assert.Single(_ns.Drops.Snapshot());
        Assert.Equal((new DropSite(DropReason.SIM_DRIVER_RESET, "eth0/tx"), 2L), (drop.Site, drop.Packets));
        _free.Flush(_sock);
        // The reset came after the sends returned: no NET_XMIT_DROP reached the socket (only a qdisc_drop does).
        Assert.Equal(new WmemFree(3, 3 * SkBuff.TruesizeFor(60), 0), Assert.Single(_sock.Messages.OfType<WmemFree>()));
    }
}
