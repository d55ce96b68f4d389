using ActorStack.Actors.Tcp;
using ActorStack.Messages.Packets;
using ActorStack.Messages;
using static ActorStack.Tests.Tcp.TcpPair;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

/// <summary>
/// Loss recovery as Linux does it: the tcp_disordered_ack PAWS exemption, D-SACK (RFC 2883) on both sides, RACK-TLP
/// (RFC 8985) and reordering detection (tcp_check_sack_reordering), on two TCBs over <see cref="TcpPair"/>.
/// </summary>
public class TcpRecoveryTests
{
    private static bool IsData(TcpSegment s) => s.Payload.Length > 0;

    private static TcpSettings NoTimestamps => new() { Timestamps = false };

    /// <summary>A connection with 10 bytes A→B delivered; returns B's last segment (what A's TS.Recent and window came from).</summary>
    private static (TcpPair P, TcpSegment LastFromB) Quiet()
    {
        var p = new TcpPair();
        p.Establish();
        p.ToSendA = new byte[10];
        p.RunFor(TimeSpan.FromMilliseconds(100));
        return (p, p.SentBy(false).Last());
    }

    /// <summary>A pair whose A has <paramref name="bytes"/> seeded random bytes to send (not yet established).</summary>
    private static TcpPair Bulk(int bytes, int seed, TcpSettings? both = null, int? sndBuf = 262144, int? rcvBufB = null)
    {
        var p = new TcpPair(both, both, sndBuf: sndBuf, rcvBufB: rcvBufB);
        p.ToSendA = RandomBytes(bytes, seed);
        return p;
    }

    /// <summary>True for A's data segments whose 1-based ordinal (counting only A's data segments) is listed.</summary>
    private static Func<bool, TcpSegment, int, bool> NthDataFromA(params int[] ordinals)
    {
        int n = 0;
        return (fromA, s, _) => fromA && IsData(s) && ordinals.Contains(++n);
    }

    /// <summary>Delays the listed A data segments (<see cref="NthDataFromA"/>) by 2 ms, behind the rest of their burst.</summary>
    private static Func<bool, TcpSegment, int, long> LateFromA(params int[] ordinals)
    {
        var nth = NthDataFromA(ordinals);
        return (fromA, s, i) => nth(fromA, s, i) ? Ms(2) : 0;
    }

    /// <summary>Establishes, runs for <paramref name="run"/> and asserts A's whole stream reached B intact.</summary>
    private static void EstablishAndDeliver(TcpPair p, TimeSpan run)
    {
        p.Establish();
        p.RunFor(run);
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
    }

    private static TcpSegment AckToA(TcpPair p, TcpSegment last, uint tsVal, ushort? window = null) => new()
    {
        SourcePort = PortB, DestinationPort = PortA, Seq = p.A.RcvNxt, Ack = p.A.SndUna, Flags = TcpFlags.Ack,
        Window = window ?? last.Window, Options = new TcpOptions { HasTimestamp = true, TsVal = tsVal, TsEcr = last.Options.TsEcr },
    };

    [Fact]
    public void Paws_ReorderedPureDuplicateAck_ExemptAsDisorderedAck()
    {
        var (p, last) = Quiet();
        var r = p.Inject(toB: false, AckToA(p, last, last.Options.TsVal - 20));
        Assert.Equal(DropReason.NOT_DROPPED_YET, r);
        Assert.Equal(0, p.MibA[TcpExtMib.PAWSEstabRejected]);
    }

    [Fact]
    public void Paws_OldAckThatUpdatesWindow_Dropped()
    {
        var (p, last) = Quiet();
        var r = p.Inject(toB: false, AckToA(p, last, last.Options.TsVal - 20, (ushort)(last.Window + 100)));
        Assert.Equal(DropReason.TCP_RFC7323_PAWS, r);
        Assert.Equal(1, p.MibA[TcpExtMib.PAWSEstabRejected]);
    }

    [Fact]
    public void Paws_DuplicateAckOlderThanOneRto_Dropped()
    {
        var (p, last) = Quiet();
        // tcp_disordered_ack's replay window is one RTO (≈ 210 ms here) of timestamp ticks.
        var r = p.Inject(toB: false, AckToA(p, last, last.Options.TsVal - 5000));
        Assert.Equal(DropReason.TCP_RFC7323_PAWS, r);
        Assert.Equal(1, p.MibA[TcpExtMib.PAWSEstabRejected]);
    }

    [Fact]
    public void Paws_TimestampOneTickOld_WithinPawsWindow()
    {
        var (p, last) = Quiet();
        // TCP_PAWS_WINDOW 1: a data segment whose TSval is one tick older than TS.Recent is still accepted.
        var seg = AckToA(p, last, last.Options.TsVal - 1, (ushort)(last.Window + 100)) with { Payload = new byte[5] };
        Assert.Equal(DropReason.NOT_DROPPED_YET, p.Inject(toB: false, seg));
        Assert.Equal(5, p.ReadA.Length);
    }

    [Fact]
    public void Dsack_DuplicatedSegment_ReportedBelowAckAndRecognised()
    {
        var p = Bulk(50_000, 21);
        var fifth = NthDataFromA(5);
        TcpSegment? dup = null;
        p.Duplicate = (fromA, s, i) =>
        {
            if (!fifth(fromA, s, i)) return false;
            dup = s;
            return true;
        };
        EstablishAndDeliver(p, TimeSpan.FromSeconds(1));

        Assert.Equal(1, p.MibB[TcpExtMib.TCPDSACKOldSent]);
        Assert.Equal(0, p.MibB[TcpExtMib.TCPDSACKOfoSent]);
        Assert.Equal(1, p.MibB[TcpExtMib.DelayedACKLost]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPDSACKRecv]);
        // RFC 2883: the first SACK block holds the duplicate, below the cumulative ACK; only one ACK carries it.
        var withDsack = p.SentBy(false).Where(s => s.Options.SackCount > 0).ToList();
        var d = Assert.Single(withDsack);
        Assert.Equal(new SackBlock(dup!.Seq, dup.Seq + dup.Payload.Length), d.Options.Sack[0]);
        Assert.True(d.Options.Sack[0].Left < d.Ack);
        // Nothing was retransmitted and nothing lost: the sender neither recovers nor undoes.
        Assert.Equal(0, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPDSACKUndo]);
    }

    [Fact]
    public void Dsack_DuplicateOfOutOfOrderSegment_ReportedInsideSecondBlock()
    {
        var p = Bulk(100_000, 22);
        p.Drop = NthDataFromA(20);
        p.Duplicate = NthDataFromA(22);
        EstablishAndDeliver(p, TimeSpan.FromSeconds(2));

        Assert.Equal(1, p.MibB[TcpExtMib.TCPDSACKOfoSent]);
        Assert.Equal(0, p.MibB[TcpExtMib.TCPDSACKOldSent]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPDSACKOfoRecv]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPDSACKRecv]);
        var d = Assert.Single(p.SentBy(false), s => s.Options.SackCount > 1 && s.Options.Sack[0].Left >= s.Ack
            && s.Options.Sack[0].Left >= s.Options.Sack[1].Left && s.Options.Sack[0].Right <= s.Options.Sack[1].Right);
        Assert.Equal(1448, d.Options.Sack[0].Right - d.Options.Sack[0].Left);
    }

    [Fact]
    public void Tlp_TailLoss_RecoveredByProbeWithoutRto()
    {
        var p = new TcpPair();
        var data = RandomBytes(20_000, 23);
        p.ToSendA = data[..5000]; // 4 segments: 3 x 1448 + 656; the last is lost
        p.Drop = NthDataFromA(4);
        EstablishAndDeliver(p, TimeSpan.FromSeconds(1));

        Assert.Equal(1, p.MibA[TcpExtMib.TCPLossProbes]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPTimeouts]);
        Assert.Equal(1, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPFastRetrans]);
        Assert.Equal(TcpCaState.Open, p.A.CaState);
        // The probe repeats the last segment. The ACK of the first three (one RTT, 10 ms, after the burst) re-arms it with
        // one segment out: PTO = min(2·SRTT + rto_min, RTO) = min(20 + 200, 210) ms = 210 ms.
        var sends = p.Trace.Where(x => x.FromA && IsData(x.Seg)).ToList();
        Assert.Equal(5, sends.Count);
        Assert.Equal(sends[3].Seg.Seq, sends[4].Seg.Seq);
        Assert.Equal(Ms(10 + 210), sends[4].At - sends[3].At);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPLossProbeRecovery]);

        // tcp_process_tlp_ack: the next ACK beyond the probe without a D-SACK proves the probe repaired a loss.
        p.ToSendA = data;
        p.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(data, p.ReadB.ToArray());
        Assert.Equal(1, p.MibA[TcpExtMib.TCPLossProbeRecovery]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPLossProbes]);
        Assert.NotEqual(int.MaxValue, p.A.SsThresh);
    }

    [Fact]
    public void Tlp_ProbeOfDelayedAck_EndsEpisodeWithoutReduction()
    {
        var p = Bulk(1000, 24, sndBuf: null); // one segment
        // The ACK of the only segment is delayed past the PTO: the probe duplicates it, the receiver D-SACKs the probe.
        bool first = true;
        p.Jitter = (fromA, s, _) =>
        {
            if (fromA || !(s.Ack == p.A.Iss + 1 + 1000) || !first) return 0;
            first = false;
            return Ms(400);
        };
        EstablishAndDeliver(p, TimeSpan.FromSeconds(2));

        Assert.Equal(1, p.MibA[TcpExtMib.TCPLossProbes]);
        Assert.Equal(1, p.MibB[TcpExtMib.TCPDSACKOldSent]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPDSACKRecv]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPLossProbeRecovery]);
        Assert.Equal(int.MaxValue, p.A.SsThresh);
    }

    [Fact]
    public void Reordering_DegreeAboveThree_DetectedThenNoSpuriousFastRetransmit()
    {
        var p = Bulk(600_000, 25);
        // Two data segments each arrive 2 ms late, behind the rest of their burst (many segments: degree > 3).
        p.Jitter = LateFromA(40, 200);
        EstablishAndDeliver(p, TimeSpan.FromSeconds(3));

        // The first late segment is taken for lost (nothing learned yet: dupthresh-like RACK), retransmitted once;
        // the ACK of the original (its timestamp predates the retransmission: tcp_packet_delayed) reveals the
        // reordering and undoes the cwnd reduction at once (tcp_try_undo_partial); the D-SACK for the retransmission
        // that follows finds nothing left to undo but widens RACK's reordering window.
        Assert.Equal(1, p.MibA[TcpExtMib.TCPSackRecovery]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPFastRetrans]);
        Assert.Equal(1, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPTSReorder]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPPartialUndo]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPDSACKRecv]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPDSACKUndo]);
        Assert.Equal(int.MaxValue, p.A.SsThresh);
        Assert.Equal(TcpCaState.Open, p.A.CaState);
        // The second late segment waits out RACK's reordering window (min_rtt/4 per D-SACK step): no retransmission,
        // the hole filled by the original is counted by SACK.
        Assert.Equal(1, p.MibA[TcpExtMib.TCPSACKReorder]);
        Assert.Equal(2, p.A.ReorderingSeen);
        Assert.True(p.A.Reordering > 3, $"reordering {p.A.Reordering}");
        Assert.Equal(0, p.MibA[TcpExtMib.TCPTimeouts]);
    }

    [Fact]
    public void Reordering_Degree_BoundedByTcpMaxReordering()
    {
        var p = Bulk(600_000, 25);
        p.A.Recovery = new TcpRecoverySettings { MaxReordering = 5 };
        p.Jitter = LateFromA(40, 200);
        EstablishAndDeliver(p, TimeSpan.FromSeconds(3));

        Assert.Equal(5, p.A.Reordering);
    }

    [Fact]
    public void Dsack_SpuriousRetransmitAckedWithTheFullAck_UndoneWhenRecoveryEnds()
    {
        // The receiver's buffer auto-tunes (no SO_RCVBUF), so the D-SACK for the one retransmission comes with the ACK
        // that ends recovery: tcp_try_undo_recovery undoes there (TCPFullUndo), or a later D-SACK does (TCPDSACKUndo).
        var p = Bulk(300_000, 26, NoTimestamps);
        p.Jitter = LateFromA(40);
        EstablishAndDeliver(p, TimeSpan.FromSeconds(3));

        Assert.Equal(1, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPDSACKRecv]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPDSACKUndo] + p.MibA[TcpExtMib.TCPFullUndo]);
        Assert.Equal(int.MaxValue, p.A.SsThresh);
    }

    [Fact]
    public void Dsack_SpuriousFastRetransmitWithoutTimestamps_UndoneByDsack()
    {
        var p = Bulk(300_000, 26, NoTimestamps, rcvBufB: 131072);
        p.Jitter = LateFromA(40);
        EstablishAndDeliver(p, TimeSpan.FromSeconds(3));

        // Without timestamps only the receiver's D-SACK for the retransmission shows it was spurious
        // (undo_retrans reaches 0: tcp_try_undo_dsack), and cwnd/ssthresh come back.
        Assert.Equal(1, p.MibA[TcpExtMib.TCPSackRecovery]);
        Assert.Equal(1, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(1, p.MibB[TcpExtMib.TCPDSACKOldSent]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPDSACKRecv]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPDSACKUndo]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPPartialUndo]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPTSReorder]);
        Assert.Equal(int.MaxValue, p.A.SsThresh);
    }
}
