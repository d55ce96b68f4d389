using System.Buffers.Binary;
using ActorStack.Actors.Softnet;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Offload.OffloadFrames;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Tests.Offload;

public class GroTests
{
    private readonly Gro _gro = new();
    private readonly OffloadCounters _c = new();

    private GroResult Rx(byte[] frame) => _gro.Receive(Skb(frame));

    [Fact]
    public void Gro_FourInOrderSegments_MergedIntoOnePacket()
    {
        var p = Enumerable.Range(0, 4).Select(i => Payload(1000, i)).ToArray();
        var results = p.Select((x, i) => Rx(Frame(1000 + (uint)(i * 1000), x, ipId: (ushort)(1 + i)))).ToArray();
        Assert.Equal([GroResult.Held, GroResult.MergedFree, GroResult.MergedFree, GroResult.MergedFree], results);
        Assert.Equal(1, _gro.Held);

        var up = _gro.Flush(_c);
        var skb = Assert.Single(up);
        Assert.Equal(14 + 20 + 32 + 4000, skb.Length);
        Assert.Equal(1000, skb.GsoSize);
        Assert.Equal(4, skb.GsoSegs);
        Assert.True(skb.ChecksumUnnecessary);
        var ip = skb.Data.Span[14..];
        Assert.Equal(20 + 32 + 4000, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
        Assert.Equal(0, Checksum.Compute(ip[..20]));
        var seg = Parse(skb.Data, verify: false);
        Assert.Equal(1000u, seg.Seq.Value);
        Assert.Equal(p.SelectMany(x => x).ToArray(), seg.Payload.ToArray());
        Assert.Equal((1L, 3L, 0L, 1L, 1L), (_c.GroHeld, _c.GroMergedFree, _c.GroNormal, _c.GroFlushed, _c.GroCoalesced));
        Assert.Equal(0, _gro.Held);
    }

    [Fact]
    public void Gro_OutOfOrderSegment_FlushesHeldAndIsHeldItself()
    {
        Assert.Equal(GroResult.Held, Rx(Frame(1000, Payload(1000, 1))));
        Assert.Equal(GroResult.Held, Rx(Frame(3000, Payload(1000, 2)))); // a hole at 2000
        var up = _gro.Flush(_c);
        Assert.Equal(2, up.Length);
        Assert.Equal([1000u, 3000u], up.Select(s => Parse(s.Data).Seq.Value).ToArray());
        Assert.All(up, s => Assert.Equal(0, s.GsoSegs));
        Assert.All(up, s => Assert.True(s.ChecksumUnnecessary));
        Assert.Equal((2L, 0L, 2L, 0L), (_c.GroHeld, _c.GroMerged, _c.GroFlushed, _c.GroCoalesced));
    }

    [Fact]
    public void Gro_InterleavedFlows_EachMerged_InFirstArrivalOrder()
    {
        Rx(Frame(1000, Payload(1000, 1), sport: 1));
        Rx(Frame(5000, Payload(1000, 2), sport: 2));
        Assert.Equal(GroResult.MergedFree, Rx(Frame(2000, Payload(1000, 3), sport: 1)));
        Assert.Equal(GroResult.MergedFree, Rx(Frame(6000, Payload(1000, 4), sport: 2)));
        var up = _gro.Flush(_c);
        Assert.Equal(2, up.Length);
        Assert.Equal([(ushort)1, (ushort)2], up.Select(s => Parse(s.Data, false).SourcePort).ToArray());
        Assert.All(up, s => Assert.Equal(2, s.GsoSegs));
    }

    [Fact]
    public void Gro_PshSegment_MergedThenPacketCompleted_NextOneHeldAnew()
    {
        Rx(Frame(1000, Payload(1000, 1)));
        Assert.Equal(GroResult.MergedFree, Rx(Frame(2000, Payload(1000, 2), TcpFlags.Ack | TcpFlags.Psh)));
        Assert.Equal(0, _gro.Held);
        Assert.Equal(GroResult.Held, Rx(Frame(3000, Payload(1000, 3))));
        var up = _gro.Flush(_c);
        Assert.Equal(2, up.Length);
        var first = Parse(up[0].Data, false);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, first.Flags);
        Assert.Equal(2000, first.Payload.Length);
        Assert.Equal(3000u, Parse(up[1].Data).Seq.Value);
    }

    [Fact]
    public void Gro_FinMerged_PureAckAndSynGoUpNormally()
    {
        Rx(Frame(1000, Payload(1000, 1)));
        Assert.Equal(GroResult.MergedFree, Rx(Frame(2000, Payload(300, 2), TcpFlags.Ack | TcpFlags.Fin)));
        Assert.Equal(GroResult.Normal, Rx(Frame(1, [], sport: 9)));
        Assert.Equal(GroResult.Normal, Rx(Frame(1, [], TcpFlags.Syn, sport: 10)));
        var up = _gro.Flush(_c);
        Assert.Equal(3, up.Length);
        var merged = Parse(up[0].Data, false);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Fin, merged.Flags);
        Assert.Equal(1300, merged.Payload.Length);
        Assert.False(up[1].ChecksumUnnecessary);
        Assert.Equal(2L, _c.GroNormal);
    }

    [Fact]
    public void Gro_ShortSegment_EndsThePacket()
    {
        Rx(Frame(1000, Payload(1000, 1)));
        Assert.Equal(GroResult.MergedFree, Rx(Frame(2000, Payload(500, 2))));
        Assert.Equal(GroResult.Held, Rx(Frame(2500, Payload(1000, 3))));
        var up = _gro.Flush(_c);
        Assert.Equal([2, 0], up.Select(s => s.GsoSegs).ToArray());
    }

    [Fact]
    public void Gro_SizeLimit_SplitsAt64KiB()
    {
        for (int i = 0; i < 50; i++) Rx(Frame(1 + (uint)(i * 1400), Payload(1400, i)));
        var up = _gro.Flush(_c);
        // 52 header bytes + 46 × 1400 = 64452; one more would reach GRO_LEGACY_MAX_SIZE.
        Assert.Equal([46, 4], up.Select(s => s.GsoSegs).ToArray());
        Assert.True(up[0].Length - 14 < Gro.GroLegacyMaxSize);
        Assert.Equal((2L, 46L), (_c.GroMerged, _c.GroMergedFree)); // merges 18 and 36 of the first packet are chained
        Assert.Equal(2L, _c.GroHeld);
    }

    [Fact]
    public void Gro_BadTcpChecksum_GoesUpUnverified()
    {
        var f = Frame(1000, Payload(1000, 1));
        f[^1] ^= 0xFF;
        Assert.Equal(GroResult.Normal, Rx(f));
        var up = Assert.Single(_gro.Flush(_c));
        Assert.False(up.ChecksumUnnecessary);
        Assert.Equal(f, up.Data.ToArray());
    }

    [Fact]
    public void Gro_TimestampChanged_NotMerged_SameIsMerged()
    {
        // tcp_gro_receive: every option word must be identical, the timestamp included (growing or not).
        Rx(Frame(1000, Payload(1000, 1), tsVal: 100));
        Assert.Equal(GroResult.MergedFree, Rx(Frame(2000, Payload(1000, 2), tsVal: 100)));
        Assert.Equal(GroResult.Held, Rx(Frame(3000, Payload(1000, 3), tsVal: 101)));
        Assert.Equal(GroResult.Held, Rx(Frame(4000, Payload(1000, 4), tsVal: 99)));
        Assert.Equal(GroResult.MergedFree, Rx(Frame(5000, Payload(1000, 5), tsVal: 99)));
        Assert.Equal([2, 0, 2], _gro.Flush(_c).Select(s => s.GsoSegs).ToArray());
    }

    [Fact]
    public void Gro_DifferentAck_FlushesHeld()
    {
        Rx(Frame(1000, Payload(1000, 1), ack: 7));
        Assert.Equal(GroResult.Held, Rx(Frame(2000, Payload(1000, 2), ack: 8)));
        Assert.Equal(2, _gro.Flush(_c).Length);
    }

    [Fact]
    public void Gro_SegmenterOutput_MergesBackToTheSamePayload()
    {
        var data = Payload(10_000, 5);
        var frames = new List<ReadOnlyMemory<byte>>();
        var super = Frame(77, data, TcpFlags.Ack | TcpFlags.Psh);
        // The segmenter works on the frame as sent: a pseudo-header checksum is fine, it recomputes.
        Assert.Equal(7, ActorStack.Actors.Devices.TcpSegmenter.Segment(super, 1448, frames));
        foreach (var f in frames) Rx(f.ToArray());
        var up = Assert.Single(_gro.Flush(_c));
        Assert.Equal(7, up.GsoSegs);
        Assert.Equal(1448, up.GsoSize);
        var seg = Parse(up.Data, false);
        Assert.Equal(data, seg.Payload.ToArray());
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, seg.Flags);
    }

    [Fact]
    public void Gro_PacketCompletedBeforeFlush_WaitsOnRxList_CountedAtFlush()
    {
        Rx(Frame(1000, Payload(1000, 1)));
        Rx(Frame(2000, Payload(1000, 2), TcpFlags.Ack | TcpFlags.Psh)); // completed: 2 segments on rx_list (< 8)
        Assert.Equal(1, _gro.Listed);
        Assert.True(_gro.Up.IsEmpty);
        Assert.Equal((0L, 0L), (_c.GroFlushed, _c.GroCoalesced));
        var up = Assert.Single(_gro.Flush(_c));
        Assert.Equal(2, up.GsoSegs);
        Assert.Equal((1L, 1L), (_c.GroFlushed, _c.GroCoalesced));
    }

    /// <summary>
    /// The hold limit (<c>GRO_HASH_BUCKETS</c> × <c>MAX_GRO_SKBS</c> = 64 packets): 64 flows are all held at once and
    /// every one takes its second segment (64 merges); the 65th flow flushes the oldest (<c>gro_flush_oldest</c>),
    /// whose next segment starts a new packet. With a limit of 63 or 8 the merges would be fewer.
    /// </summary>
    [Fact]
    public void Gro_HoldLimit_64FlowsHeldAndMerged_The65thFlushesTheOldest()
    {
        Assert.Equal(64, Gro.MaxHeld);
        for (int f = 0; f < 64; f++) Assert.Equal(GroResult.Held, Rx(Frame(1000, Payload(1000, f), sport: (ushort)(1 + f))));
        Assert.Equal(64, _gro.Held);
        int merged = 0;
        for (int f = 0; f < 64; f++)
            if (Rx(Frame(2000, Payload(1000, 100 + f), sport: (ushort)(1 + f))) == GroResult.MergedFree) merged++;
        Assert.Equal(64, merged);
        Assert.Equal(64, _gro.Held);

        Assert.Equal(GroResult.Held, Rx(Frame(1000, Payload(1000, 64), sport: 65))); // one over: flow 1 goes
        Assert.Equal(64, _gro.Held);
        Assert.Equal(GroResult.Held, Rx(Frame(3000, Payload(1000, 200), sport: 1))); // a new packet; flow 2 goes
        Assert.Equal(GroResult.MergedFree, Rx(Frame(3000, Payload(1000, 201), sport: 3))); // flow 3 still held
        Assert.Equal(64, _gro.Held);

        var up = _gro.Flush(_c);
        Assert.Equal(66, up.Length);
        Assert.Equal(2, up[0].GsoSegs);  // flow 1's first packet, completed at the limit
        Assert.Single(up, s => s.GsoSegs == 3); // flow 3's three segments
        Assert.Equal((66L, 65L, 66L), (_c.GroHeld, _c.GroMergedFree, _c.GroFlushed));
    }

    [Fact]
    public void Gro_NormalAfterHeld_GoesUpFirst_AsOnLinuxRxList()
    {
        Rx(Frame(1000, Payload(1000, 1)));   // held
        Rx(Frame(1, [], sport: 9));          // a pure ACK of another flow: GRO_NORMAL, onto rx_list at once
        var up = _gro.Flush(_c);
        Assert.Equal([(ushort)9, (ushort)40000], up.Select(s => Parse(s.Data, false).SourcePort).ToArray());
    }

    /// <summary>
    /// <c>gro_normal_one</c>: <c>rx_list</c> goes up when it holds <c>gro_normal_batch</c> (8) segments; 7 wait for the
    /// end of the poll, the 8th hands up all 8, a 9th starts the next list.
    /// </summary>
    [Theory]
    [InlineData(7, new int[0], new[] { 7 })]
    [InlineData(8, new[] { 8 }, new int[0])]
    [InlineData(9, new[] { 8 }, new[] { 1 })]
    public void Gro_NormalBatch_HandsUpEveryEighthSegment(int n, int[] duringPoll, int[] atFlush)
    {
        var gro = new Gro(groNormalBatch: 8);
        for (int i = 0; i < n; i++) Assert.Equal(GroResult.Normal, gro.Receive(Skb(Frame(1, [], sport: (ushort)(100 + i)))));
        Assert.Equal(duringPoll, gro.TakeBatches().Select(b => b.Length).ToArray());
        gro.FlushAll(_c);
        Assert.Equal(atFlush, gro.TakeBatches().Select(b => b.Length).ToArray());
        Assert.Equal(n, _c.GroNormal);
    }

    [Fact]
    public void Gro_NormalBatch_CountsSegmentsOfACompletedPacket()
    {
        var gro = new Gro(groNormalBatch: 8);
        for (int i = 0; i < 6; i++) gro.Receive(Skb(Frame(1000 + (uint)(i * 1000), Payload(1000, i))));
        Assert.True(gro.Up.IsEmpty);
        gro.Receive(Skb(Frame(1, [], sport: 9)));   // normal: 1 segment listed
        Assert.True(gro.Up.IsEmpty);
        // The 7th segment has PSH: the packet of 7 segments is completed, rx_count 1 + 7 = 8: one batch of 2 buffers.
        gro.Receive(Skb(Frame(7000, Payload(1000, 7), TcpFlags.Ack | TcpFlags.Psh)));
        var b = Assert.Single(gro.TakeBatches());
        Assert.Equal([0, 7], b.Select(s => s.GsoSegs).ToArray());
    }

    [Fact]
    public void Gro_FlushOld_KeepsThisJiffysPackets_CompletesOlderOnes()
    {
        var gro = new Gro();
        gro.Receive(Skb(Frame(1000, Payload(1000, 1), sport: 1)), jiffy: 5);
        gro.Receive(Skb(Frame(1000, Payload(1000, 2), sport: 2)), jiffy: 6);
        gro.FlushOld(6, _c);                    // end of a full-weight poll in jiffy 6: flow 1 (jiffy 5) goes up
        Assert.Equal([(ushort)1], gro.TakeBatches().SelectMany(b => b).Select(s => Parse(s.Data).SourcePort).ToArray());
        Assert.Equal(1, gro.Held);
        Assert.Equal(GroResult.MergedFree, gro.Receive(Skb(Frame(2000, Payload(1000, 3), sport: 2)), jiffy: 6));
        gro.FlushOld(6, _c);                    // still jiffy 6: kept, merged on
        Assert.Empty(gro.TakeBatches());
        gro.FlushOld(7, _c);                    // the next jiffy: goes
        Assert.Equal(2, gro.TakeBatches().Single().Single().GsoSegs);
        Assert.Equal(0, gro.Held);
    }

    /// <summary>
    /// igb's buffers are page fragments: a merged segment's head is stolen into the packet's frags (GRO_MERGED_FREE,
    /// its sk_buff freed: truesize moved less 256) while they fit <c>MAX_SKB_FRAGS</c> (17); the 18th merge is chained
    /// on the frag_list (GRO_MERGED, whole truesize) and the next 17 are stolen into that buffer.
    /// </summary>
    [Fact]
    public void Gro_MergedFree_UpTo17Frags_ThenChainedOnFragList()
    {
        var r = Enumerable.Range(0, 37).Select(i => _gro.Receive(Skb(Frame(1 + (uint)(i * 1000), Payload(1000, i)) ) with { Truesize = 2304 })).ToArray();
        Assert.Equal(GroResult.Held, r[0]);
        Assert.All(r[1..18], x => Assert.Equal(GroResult.MergedFree, x));
        Assert.Equal(GroResult.Merged, r[18]);
        Assert.All(r[19..36], x => Assert.Equal(GroResult.MergedFree, x));
        Assert.Equal(GroResult.Merged, r[36]);
        var up = Assert.Single(_gro.Flush(_c));
        Assert.Equal(37, up.GsoSegs);
        Assert.Equal(2304 + 34 * (2304 - 256) + 2 * 2304, up.Truesize);
        Assert.Equal((2L, 34L, 1L), (_c.GroMerged, _c.GroMergedFree, _c.GroHeld));
    }
}

public class OffloadConfigTests
{
    [Fact]
    public void Load_DeviceOffloadKeys_ReadAsEthtoolFeatures()
    {
        var s = ActorStack.Config.StackConfig.Load("""
            actorstack.scenario {
              hosts {
                a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"], gro = off, tso = off } } }
                b { devices { eth0 { mac = "02:00:00:00:00:0b", addresses = ["10.1.0.2/24"], gso = off } } }
              }
              wires = [ { a = "a/eth0", b = "b/eth0" } ]
            }
            """);
        var a = s.Hosts.Single(h => h.Name == "a").Devices[0];
        var b = s.Hosts.Single(h => h.Name == "b").Devices[0];
        Assert.Equal((false, true, false), (a.Gro, a.Gso, a.Tso));
        Assert.Equal((true, false, true), (b.Gro, b.Gso, b.Tso));
    }
}
