using ActorStack.Config;
using ActorStack.Actors.Neighbour;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Neighbour;

public class NeighbourTableTests
{
    private static readonly Ipv4Address Peer = Ipv4Address.Parse("10.0.0.2");
    private static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly MacAddress NewMac = MacAddress.Parse("02:00:00:00:00:99");
    private const int Seed = 1;

    private static NeighbourTable<byte[]> Table(NeighParms? parms = null)
        => new(parms ?? NeighParms.Default, p => SkBuff.TruesizeFor(p.Length), new Random(Seed));

    private static byte[] Pkt(byte tag, int len = 100)
    {
        var b = new byte[len];
        b[0] = tag;
        return b;
    }

    private static long ExpectedReachableTime() => new Random(Seed).NextInt64(30_000) + 15_000;

    // Drives an entry to REACHABLE at time t.
    private static void Resolve(NeighbourTable<byte[]> t, long at)
    {
        t.NeighOutput(Peer, "eth0", Pkt(0), at);
        t.Update(Peer, "eth0", PeerMac, NudState.Reachable, NeighUpdateFlags.Override, at);
        Assert.Equal(NudState.Reachable, t.Get(Peer, "eth0")!.Value.State);
    }

    [Fact]
    public void ReachableTime_SeededRandom_UniformInHalfToOneAndHalfBase()
    {
        var t = Table();
        Assert.Equal(ExpectedReachableTime(), t.ReachableTimeMs);
        Assert.InRange(t.ReachableTimeMs, 15_000, 44_999);
    }

    [Fact]
    public void NeighOutput_Unresolved_QueuesThreePacketsAndReleasesInOrderOnReply()
    {
        var t = Table();
        var r1 = t.NeighOutput(Peer, "eth0", Pkt(1), 0);
        Assert.Equal(NeighVerdict.Queued, r1.Verdict);
        var solicit = Assert.Single(r1.Actions);
        Assert.Equal(NeighActionKind.Solicit, solicit.Kind);
        Assert.True(solicit.IsBroadcastSolicit);
        Assert.Equal(Peer, solicit.Ip);

        Assert.Equal(NeighVerdict.Queued, t.NeighOutput(Peer, "eth0", Pkt(2), 100).Verdict);
        var r3 = t.NeighOutput(Peer, "eth0", Pkt(3), 200);
        Assert.Equal(NeighVerdict.Queued, r3.Verdict);
        Assert.Empty(r3.Actions);
        Assert.Equal("10.0.0.2 dev eth0 INCOMPLETE\n", t.Format());
        Assert.Equal(3, t.Get(Peer, "eth0")!.Value.QueueLength);

        var released = t.Update(Peer, "eth0", PeerMac, NudState.Reachable, NeighUpdateFlags.Override, 300);
        Assert.Equal(new byte[] { 1, 2, 3 }, released.Select(a => a.Packet![0]).ToArray());
        Assert.All(released, a => { Assert.Equal(NeighActionKind.Transmit, a.Kind); Assert.Equal(PeerMac, a.Mac); });
        Assert.Equal("10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 REACHABLE\n", t.Format());

        var fast = t.NeighOutput(Peer, "eth0", Pkt(4), 400);
        Assert.Equal(NeighVerdict.Send, fast.Verdict);
        Assert.Equal(PeerMac, fast.Mac);
        Assert.Empty(fast.Actions);
    }

    [Fact]
    public void Tick_NoReply_FailsAfterExactlyThreeProbesOneSecondApart()
    {
        var t = Table();
        var probesAt = new List<long>();
        var first = t.NeighOutput(Peer, "eth0", Pkt(1), 0);
        probesAt.AddRange(first.Actions.Where(a => a.Kind == NeighActionKind.Solicit).Select(_ => 0L));
        t.NeighOutput(Peer, "eth0", Pkt(2), 500);

        Assert.Equal(1000, t.NextTimerMs);
        Assert.Empty(t.Tick(999));
        var unreachable = new List<NeighAction<byte[]>>();
        while (t.NextTimerMs is { } next && next <= 5000)
        {
            foreach (var a in t.Tick(next))
            {
                Assert.True(a.IsBroadcastSolicit || a.Kind == NeighActionKind.Unreachable);
                if (a.Kind == NeighActionKind.Solicit) probesAt.Add(next);
                else unreachable.Add(a);
            }
            if (unreachable.Count > 0) { Assert.Equal(3000, next); break; }
        }

        Assert.Equal(new long[] { 0, 1000, 2000 }, probesAt.ToArray());
        Assert.Equal(new byte[] { 1, 2 }, unreachable.Select(a => a.Packet![0]).ToArray());
        Assert.All(unreachable, a => Assert.Equal(DropReason.NEIGH_FAILED, a.Reason));
        Assert.Equal(NudState.Failed, t.Get(Peer, "eth0")!.Value.State);
        Assert.Equal(1, t.Stats.ResFailed);
        Assert.Equal("10.0.0.2 dev eth0 FAILED\n", t.Format());
    }

    [Fact]
    public void Tick_LateCallAfterTenSeconds_ReplaysTimersAtTheirDueTimes()
    {
        var t = Table();
        t.NeighOutput(Peer, "eth0", Pkt(1), 0);
        var actions = t.Tick(10_000);
        Assert.Equal(new[] { NeighActionKind.Solicit, NeighActionKind.Solicit, NeighActionKind.Unreachable },
            actions.Select(a => a.Kind).ToArray());
        Assert.Equal(3000, t.Get(Peer, "eth0")!.Value.UpdatedMs);
    }

    [Fact]
    public void Tick_FailedEntry_NextPacketRestartsResolution()
    {
        var t = Table();
        t.NeighOutput(Peer, "eth0", Pkt(1), 0);
        t.Tick(3000);
        var again = t.NeighOutput(Peer, "eth0", Pkt(2), 4000);
        Assert.Equal(NeighVerdict.Queued, again.Verdict);
        Assert.True(Assert.Single(again.Actions).IsBroadcastSolicit);
        Assert.Equal(NudState.Incomplete, t.Get(Peer, "eth0")!.Value.State);
    }

    [Fact]
    public void Tick_ReachableUnused_BecomesStaleAfterReachableTime()
    {
        var t = Table();
        Resolve(t, 0);
        long rt = ExpectedReachableTime();
        Assert.Equal(rt, t.Get(Peer, "eth0")!.Value.TimerMs);
        t.Tick(rt);
        // At exactly confirmed + reachable_time the handler re-arms (time_before_eq) at least HZ/100 later.
        Assert.Equal(NudState.Reachable, t.Get(Peer, "eth0")!.Value.State);
        Assert.Equal(rt + 10, t.Get(Peer, "eth0")!.Value.TimerMs);
        Assert.Empty(t.Tick(rt + 10));
        Assert.Equal(NudState.Stale, t.Get(Peer, "eth0")!.Value.State);
        Assert.Equal("10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 STALE\n", t.Format());
    }

    [Fact]
    public void NeighOutput_StaleUsed_DelayThenProbeThenReachableOnConfirm()
    {
        var t = Table();
        Resolve(t, 0);
        t.Tick(60_000);
        Assert.Equal(NudState.Stale, t.Get(Peer, "eth0")!.Value.State);

        var send = t.NeighOutput(Peer, "eth0", Pkt(7), 100_000);
        Assert.Equal(NeighVerdict.Send, send.Verdict);
        Assert.Equal(PeerMac, send.Mac);
        Assert.Equal(NudState.Delay, t.Get(Peer, "eth0")!.Value.State);
        Assert.Equal(105_000, t.Get(Peer, "eth0")!.Value.TimerMs);
        Assert.Empty(t.Tick(104_999));

        var probe = Assert.Single(t.Tick(105_000));
        Assert.Equal(NeighActionKind.Solicit, probe.Kind);
        Assert.Equal(PeerMac, probe.Mac); // unicast probe to the cached address
        Assert.Equal(NudState.Probe, t.Get(Peer, "eth0")!.Value.State);
        Assert.Equal(NeighVerdict.Send, t.NeighOutput(Peer, "eth0", Pkt(8), 105_500).Verdict);

        Assert.Empty(t.Update(Peer, "eth0", PeerMac, NudState.Reachable, NeighUpdateFlags.Override, 105_600));
        Assert.Equal(NudState.Reachable, t.Get(Peer, "eth0")!.Value.State);
        Assert.Equal(105_600 + ExpectedReachableTime(), t.Get(Peer, "eth0")!.Value.TimerMs);
    }

    [Fact]
    public void Tick_ProbeUnanswered_ThreeUnicastProbesThenFailed()
    {
        var t = Table();
        Resolve(t, 0);
        t.Tick(60_000);
        t.NeighOutput(Peer, "eth0", Pkt(7), 100_000);

        var kinds = new List<(long, NeighActionKind, bool)>();
        foreach (var at in new long[] { 105_000, 106_000, 107_000, 108_000 })
            foreach (var a in t.Tick(at))
                kinds.Add((at, a.Kind, a.IsBroadcastSolicit));

        Assert.Equal(new[]
        {
            (105_000L, NeighActionKind.Solicit, false),
            (106_000L, NeighActionKind.Solicit, false),
            (107_000L, NeighActionKind.Solicit, false),
        }, kinds.ToArray());
        Assert.Equal(NudState.Failed, t.Get(Peer, "eth0")!.Value.State);
    }

    [Fact]
    public void Tick_DelayConfirmedMeanwhile_ReturnsToReachableWithoutProbe()
    {
        var t = Table();
        Resolve(t, 0);
        t.Tick(60_000);
        t.NeighOutput(Peer, "eth0", Pkt(7), 100_000);
        // A confirmation that keeps the state (e.g. STALE update with the same address) does not change DELAY,
        // but a REACHABLE update does at once.
        Assert.Empty(t.Update(Peer, "eth0", PeerMac, NudState.Stale, NeighUpdateFlags.None, 101_000));
        Assert.Equal(NudState.Delay, t.Get(Peer, "eth0")!.Value.State);
        t.Update(Peer, "eth0", PeerMac, NudState.Reachable, NeighUpdateFlags.None, 102_000);
        Assert.Equal(NudState.Reachable, t.Get(Peer, "eth0")!.Value.State);
        Assert.Empty(t.Tick(105_000));
    }

    [Fact]
    public void NeighOutput_QueueOverUnresQlenBytes_DropsOldestAndCountsDiscards()
    {
        var t = Table();
        // 1500-byte packets have truesize 2112: 100 fit in 212992 bytes.
        Assert.Equal(2112, SkBuff.TruesizeFor(1500));
        var dropped = new List<NeighAction<byte[]>>();
        for (int i = 0; i < 105; i++)
            dropped.AddRange(t.NeighOutput(Peer, "eth0", Pkt((byte)i, 1500), i).Actions.Where(a => a.Kind == NeighActionKind.Drop));

        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, dropped.Select(a => a.Packet![0]).ToArray());
        Assert.All(dropped, a => Assert.Equal(DropReason.NEIGH_QUEUEFULL, a.Reason));
        Assert.Equal(5, t.Stats.UnresolvedDiscards);
        var info = t.Get(Peer, "eth0")!.Value;
        Assert.Equal(100, info.QueueLength);
        Assert.Equal(211_200, info.QueueBytes);

        var released = t.Update(Peer, "eth0", PeerMac, NudState.Reachable, NeighUpdateFlags.Override, 200);
        Assert.Equal(Enumerable.Range(5, 100).Select(i => (byte)i).ToArray(), released.Select(a => a.Packet![0]).ToArray());
    }

    /// <summary>
    /// <c>__neigh_event_send</c>: the oldest is dropped while <c>arp_queue_len_bytes + truesize &gt; unres_qlen_bytes</c>.
    /// 1088-byte packets have truesize 1664, and 128 of them are exactly the Linux default 212,992: all 128 are kept
    /// and the 129th drops one; with one byte less only 127 fit.
    /// </summary>
    [Theory]
    [InlineData(212_992, 128)]
    [InlineData(212_991, 127)]
    public void NeighOutput_UnresQlenBytes_ExactBoundBothSides(int limit, int kept)
    {
        Assert.Equal(212_992, NeighParms.Default.UnresQlenBytes);
        Assert.Equal(1664, SkBuff.TruesizeFor(1088));
        var t = Table(NeighParms.Default with { UnresQlenBytes = limit });
        int dropped = 0;
        for (int i = 0; i < 129; i++)
            dropped += t.NeighOutput(Peer, "eth0", Pkt((byte)i, 1088), i).Actions.Count(a => a.Kind == NeighActionKind.Drop);
        Assert.Equal(129 - kept, dropped);
        Assert.Equal(kept, t.Get(Peer, "eth0")!.Value.QueueLength);
        Assert.Equal(kept * 1664, t.Get(Peer, "eth0")!.Value.QueueBytes);
        Assert.Equal(129 - kept, t.Stats.UnresolvedDiscards);
    }

    [Fact]
    public void Update_ValidEntryDifferentAddressWithoutOverride_Ignored()
    {
        var t = Table();
        Resolve(t, 0);
        t.Update(Peer, "eth0", NewMac, NudState.Reachable, NeighUpdateFlags.None, 10);
        Assert.Equal(PeerMac, t.Get(Peer, "eth0")!.Value.Mac);
        t.Update(Peer, "eth0", NewMac, NudState.Stale, NeighUpdateFlags.Override, 20);
        Assert.Equal(NewMac, t.Get(Peer, "eth0")!.Value.Mac);
        Assert.Equal(NudState.Stale, t.Get(Peer, "eth0")!.Value.State);
    }

    [Fact]
    public void AddPermanent_NotChangedByArpNorAged()
    {
        var t = Table();
        t.AddPermanent(Peer, "eth0", PeerMac, 0);
        t.Update(Peer, "eth0", NewMac, NudState.Reachable, NeighUpdateFlags.Override, 10);
        Assert.Equal(PeerMac, t.Get(Peer, "eth0")!.Value.Mac);
        Assert.Equal(NeighVerdict.Send, t.NeighOutput(Peer, "eth0", Pkt(1), 20).Verdict);
        t.Tick(1_000_000);
        Assert.Equal("10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 PERMANENT\n", t.Format());
        Assert.Empty(t.Flush("eth0"));
        Assert.Equal(1, t.Count);
    }

    [Fact]
    public void Flush_CarrierDown_RemovesEntriesAndDropsQueuedPackets()
    {
        var t = Table();
        t.NeighOutput(Peer, "eth0", Pkt(1), 0);
        t.NeighOutput(Ipv4Address.Parse("10.1.0.2"), "eth1", Pkt(2), 0);
        var drops = t.Flush("eth0");
        Assert.Equal(DropReason.QUEUE_PURGE, Assert.Single(drops).Reason);
        Assert.False(t.Contains(Peer, "eth0"));
        Assert.Equal("10.1.0.2 dev eth1 INCOMPLETE\n", t.Format());
    }

    [Fact]
    public void PeriodicGc_AboveThresh1_CollectsFailedAndStaleUnusedEntries()
    {
        var t = Table(NeighParms.Default with { GcThresh1 = 2 });
        t.NeighOutput(Peer, "eth0", Pkt(1), 0);                         // will fail at 3 s
        var other = Ipv4Address.Parse("10.0.0.3");
        Assert.True(t.EventNs(other, "eth0", PeerMac, 0, new List<NeighAction<byte[]>>())); // learned STALE, used at 0
        t.Tick(3000);
        Assert.Equal(2, t.Count);
        t.Tick(15_000);                                                  // first GC run: FAILED one goes
        Assert.False(t.Contains(Peer, "eth0"));
        Assert.True(t.Contains(other, "eth0"));
    }

    [Fact]
    public void Create_TableAtGcThresh3WithNothingCollectable_CountsTableFull()
    {
        var t = Table(NeighParms.Default with { GcThresh1 = 1, GcThresh2 = 2, GcThresh3 = 3 });
        for (int i = 0; i < 3; i++)
            Assert.Equal(NeighVerdict.Queued, t.NeighOutput(new Ipv4Address(0x0A000010u + (uint)i), "eth0", Pkt(1), 0).Verdict);
        var r = t.NeighOutput(Ipv4Address.Parse("10.0.0.99"), "eth0", Pkt(9), 1);
        Assert.Equal(NeighVerdict.Dropped, r.Verdict);
        Assert.Equal(1, t.Stats.TableFulls);
        Assert.Equal(3, t.Count);
    }

    [Fact]
    public void NeighOutput_NoMulticastProbesConfigured_DropsWithNeighFailed()
    {
        var t = Table(NeighParms.Default with { McastSolicit = 0 });
        var r = t.NeighOutput(Peer, "eth0", Pkt(1), 0);
        Assert.Equal(NeighVerdict.Dropped, r.Verdict);
        Assert.Equal(DropReason.NEIGH_FAILED, r.Reason);
        Assert.Equal(NudState.Failed, t.Get(Peer, "eth0")!.Value.State);
    }
}
