using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

/// <summary>tcp_current_mss / tcp_sync_mss / tcp_v4_mtu_reduced, and the receive window under bidirectional bulk.</summary>
public sealed class TcpMssWindowTests
{
    private static int IpLength(TcpSegment s) => 20 + s.Length;

    [Fact]
    public void CurrentMss_SackBlocksOnDataSegments_EverySegmentFitsPathMtu()
    {
        var p = new TcpPair();
        p.A.SyncMss(1500);
        p.B.SyncMss(1500);
        p.Establish();
        // Both sides send; A loses some segments so B holds out-of-order data and its data segments carry SACK blocks.
        p.ToSendA = TcpPair.RandomBytes(400_000, 1);
        p.ToSendB = TcpPair.RandomBytes(400_000, 2);
        int dataA = 0;
        p.Drop = (fromA, s, _) => fromA && s.Payload.Length > 0 && ++dataA is 20 or 22 or 24 or 26;
        p.RunFor(TimeSpan.FromSeconds(30));
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(p.ToSendB, p.ReadA.ToArray());
        var fromB = p.SentBy(false).ToList();
        Assert.True(fromB.Any(s => s.Options.SackCount == 3 && s.Payload.Length > 0),
            string.Join(",", fromB.Where(s => s.Options.SackCount > 0).Take(40).Select(s => $"{s.Options.SackCount}/{s.Payload.Length}")) + " dropped " + p.DroppedA);
        Assert.All(fromB, s => Assert.True(IpLength(s) <= 1500, $"{IpLength(s)} bytes"));
        // A full data segment with 3 SACK blocks: 1500 - 20 - 20 - 12 (TS) - 28 (SACK) = 1420 payload bytes.
        Assert.Equal(1420, fromB.Where(s => s.Options.SackCount == 3).Max(s => s.Payload.Length));
        Assert.Equal(1448, p.B.Mss);
    }

    [Fact]
    public void SyncMss_RouteMtu1000_SegmentsSizedToMtu()
    {
        var p = new TcpPair();
        p.A.SyncMss(1000);
        p.Establish();
        Assert.Equal(948, p.A.Mss); // 1000 - 40 - 12
        p.ToSendA = TcpPair.RandomBytes(100_000, 3);
        p.RunFor(TimeSpan.FromSeconds(5));
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(948, p.SentBy(true).Max(s => s.Payload.Length));
    }

    [Fact]
    public void MtuReduced_FragNeededMidTransfer_ShrinksMssRetransmitsAndCompletes()
    {
        var p = new TcpPair();
        p.A.SyncMss(1500);
        p.Establish();
        p.ToSendA = TcpPair.RandomBytes(200_000, 4);
        // A router with MTU 1200 on the path: every bigger packet is dropped until A learns the MTU.
        bool learned = false;
        p.Drop = (fromA, s, _) => fromA && !learned && IpLength(s) > 1200;
        p.Flush();
        p.RunFor(TimeSpan.FromMilliseconds(2));
        learned = true;
        Assert.True(p.A.MtuReduced(1200, p.Now));
        Assert.False(p.A.MtuReduced(1300, p.Now));
        Assert.Equal(1148, p.A.Mss);
        p.RunFor(TimeSpan.FromSeconds(10));
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(0, p.A.Timeouts); // retransmitted at once, not after an RTO
        Assert.True(p.A.SegmentsRetransmitted > 0);
    }

    [Fact]
    public void Window_BidirectionalBulk4MiB_NoOverwindowDropsAndComplete()
    {
        var p = new TcpPair();
        p.A.SyncMss(1500);
        p.B.SyncMss(1500);
        p.Establish();
        p.ToSendA = TcpPair.RandomBytes(4 << 20, 5);
        p.ToSendB = TcpPair.RandomBytes(4 << 20, 6);
        p.RunFor(TimeSpan.FromSeconds(60));
        Assert.Equal(p.ToSendA.Length, (int)p.ReadB.Length);
        Assert.Equal(p.ToSendB.Length, (int)p.ReadA.Length);
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(p.ToSendB, p.ReadA.ToArray());
        Assert.DoesNotContain(DropReason.TCP_OVERWINDOW, p.DropReasonsA);
        Assert.DoesNotContain(DropReason.TCP_OVERWINDOW, p.DropReasonsB);
        Assert.Empty(p.DropReasonsA);
        Assert.Empty(p.DropReasonsB);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPToZeroWindowAdv]);
        Assert.Equal(0, p.MibB[TcpExtMib.TCPToZeroWindowAdv]);
    }

    [Fact]
    public void Window_BidirectionalBulkWithLossAndSlowReaders_NoOverwindowDrops()
    {
        // Retransmitted data carries a newer ACK with an older sequence number: the window in it must still be taken
        // (tcp_may_update_window: after(ack, snd_una)), or the sender keeps an old window past the receiver's edge.
        var p = new TcpPair(rcvBufB: 65536);
        p.A.SyncMss(1500);
        p.B.SyncMss(1500);
        p.Establish();
        p.AutoReadA = p.AutoReadB = false;
        p.ToSendA = TcpPair.RandomBytes(4 << 20, 7);
        p.ToSendB = TcpPair.RandomBytes(4 << 20, 8);
        var rng = new Random(9);
        p.Drop = (_, s, _) => s.Payload.Length > 0 && rng.Next(100) == 0;
        var buf = new byte[16384];
        for (int i = 0; i < 6000 && (p.ReadA.Length < p.ToSendB.Length || p.ReadB.Length < p.ToSendA.Length); i++)
        {
            p.RunFor(TimeSpan.FromMilliseconds(10));
            int n = p.A.Receive(buf, p.Now, peek: false, out _);
            if (n > 0) p.ReadA.Write(buf, 0, n);
            n = p.B.Receive(buf, p.Now, peek: false, out _);
            if (n > 0) p.ReadB.Write(buf, 0, n);
        }
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(p.ToSendB, p.ReadA.ToArray());
        Assert.DoesNotContain(DropReason.TCP_OVERWINDOW, p.DropReasonsA);
        Assert.DoesNotContain(DropReason.TCP_OVERWINDOW, p.DropReasonsB);
        AssertNeverShrinks(p, fromA: true, p.A.RcvWscale);
        AssertNeverShrinks(p, fromA: false, p.B.RcvWscale);
    }

    /// <summary>tcp_select_window: the right edge (ACK + window) one side offers never moves left.</summary>
    private static void AssertNeverShrinks(TcpPair p, bool fromA, int wscale)
    {
        TcpSeq? edge = null;
        int shrinks = 0;
        foreach (var s in p.SentBy(fromA))
        {
            if (s.Syn || !s.HasAck || s.Rst) continue;
            var e = s.Ack + (s.Window << wscale);
            if (edge is { } prev && e < prev) shrinks++;
            if (edge is null || e > edge.Value) edge = e;
        }
        Assert.Equal(0, shrinks);
    }

    [Fact]
    public void MayUpdateWindow_OldSeqNewAck_WindowTaken()
    {
        // tcp_may_update_window: after(ack, snd_una) takes the window even when the segment's sequence is older than snd_wl1
        // (a retransmission of old data carrying a new ACK); RFC 9293's SND.WL1 rule alone would keep a stale window.
        var p = new TcpPair();
        p.Establish();
        p.ToSendB = TcpPair.RandomBytes(3000, 10);
        p.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(3000, (int)p.ReadA.Length);
        p.Drop = (fromA, _, _) => !fromA; // nothing from B reaches A
        p.ToSendA = TcpPair.RandomBytes(2000, 11);
        p.RunFor(TimeSpan.FromMilliseconds(100));
        var ackNew = p.A.SndNxt;
        Assert.True(ackNew > p.A.SndUna);
        var r = p.Inject(toB: false, new TcpSegment
        {
            SourcePort = TcpPair.PortB, DestinationPort = TcpPair.PortA, Seq = p.A.RcvNxt - 2000, Ack = ackNew,
            Flags = ActorStack.Messages.Packets.TcpFlags.Ack, Window = 10, Payload = new byte[2000],
        });
        Assert.Equal(DropReason.TCP_OLD_DATA, r);
        Assert.Equal(ackNew, p.A.SndUna);
        Assert.Equal(10 << p.A.SndWscale, p.A.SndWnd);
    }
}
