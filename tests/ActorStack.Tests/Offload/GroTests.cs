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
        Assert.Equal([GroResult.Held, GroResult.Merged, GroResult.Merged, GroResult.Merged], results);
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
        Assert.Equal((1L, 3L, 0L, 1L, 1L), (_c.GroHeld, _c.GroMerged, _c.GroNormal, _c.GroFlushed, _c.GroCoalesced));
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
        Assert.Equal(GroResult.Merged, Rx(Frame(2000, Payload(1000, 3), sport: 1)));
        Assert.Equal(GroResult.Merged, Rx(Frame(6000, Payload(1000, 4), sport: 2)));
        var up = _gro.Flush(_c);
        Assert.Equal(2, up.Length);
        Assert.Equal([(ushort)1, (ushort)2], up.Select(s => Parse(s.Data, false).SourcePort).ToArray());
        Assert.All(up, s => Assert.Equal(2, s.GsoSegs));
    }

    [Fact]
    public void Gro_PshSegment_MergedThenPacketCompleted_NextOneHeldAnew()
    {
        Rx(Frame(1000, Payload(1000, 1)));
        Assert.Equal(GroResult.Merged, Rx(Frame(2000, Payload(1000, 2), TcpFlags.Ack | TcpFlags.Psh)));
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
        Assert.Equal(GroResult.Merged, Rx(Frame(2000, Payload(300, 2), TcpFlags.Ack | TcpFlags.Fin)));
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
        Assert.Equal(GroResult.Merged, Rx(Frame(2000, Payload(500, 2))));
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
        Assert.Equal(48L, _c.GroMerged);
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
        Assert.Equal(GroResult.Merged, Rx(Frame(2000, Payload(1000, 2), tsVal: 100)));
        Assert.Equal(GroResult.Held, Rx(Frame(3000, Payload(1000, 3), tsVal: 101)));
        Assert.Equal(GroResult.Held, Rx(Frame(4000, Payload(1000, 4), tsVal: 99)));
        Assert.Equal(GroResult.Merged, Rx(Frame(5000, Payload(1000, 5), tsVal: 99)));
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
    public void Gro_PacketCompletedAndTakenBeforeFlush_StillCountedAtFlush()
    {
        Rx(Frame(1000, Payload(1000, 1)));
        Rx(Frame(2000, Payload(1000, 2), TcpFlags.Ack | TcpFlags.Psh));
        var ready = _gro.Ready.ToArray();
        _gro.ClearReady();
        Assert.Equal(2, Assert.Single(ready).GsoSegs);
        Assert.True(_gro.Flush(_c).IsEmpty);
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
            if (Rx(Frame(2000, Payload(1000, 100 + f), sport: (ushort)(1 + f))) == GroResult.Merged) merged++;
        Assert.Equal(64, merged);
        Assert.Equal(64, _gro.Held);

        Assert.Equal(GroResult.Held, Rx(Frame(1000, Payload(1000, 64), sport: 65))); // one over: flow 1 goes
        Assert.Equal(64, _gro.Held);
        Assert.Equal(GroResult.Held, Rx(Frame(3000, Payload(1000, 200), sport: 1))); // a new packet; flow 2 goes
        Assert.Equal(GroResult.Merged, Rx(Frame(3000, Payload(1000, 201), sport: 3))); // flow 3 still held
        Assert.Equal(64, _gro.Held);

        var up = _gro.Flush(_c);
        Assert.Equal(66, up.Length);
        Assert.Equal(2, up[0].GsoSegs);  // flow 1's first packet, completed at the limit
        Assert.Single(up, s => s.GsoSegs == 3); // flow 3's three segments
        Assert.Equal((66L, 65L, 66L), (_c.GroHeld, _c.GroMerged, _c.GroFlushed));
    }

    [Fact]
    public void Gro_ReadyWhileHeld_IsEmpty()
    {
        Rx(Frame(1, [], sport: 9));          // a pure ACK: normal, ready at once
        Assert.Equal(1, _gro.Ready.Length);
        Rx(Frame(1000, Payload(1000, 1)));   // held: nothing may pass it
        Assert.Equal(0, _gro.Ready.Length);
        Assert.Equal(2, _gro.Flush(_c).Length);
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
