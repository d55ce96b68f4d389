using ActorStack.Messages.Packets;
using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using static ActorStack.Tests.Tcp.TcpPair;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

public class TcbTests
{
    private static bool IsData(TcpSegment s) => s.Payload.Length > 0;

    [Fact]
    public void Handshake_Default_EstablishedWithLinuxOptions()
    {
        var p = new TcpPair();
        p.A.Connect(p.Now);
        p.RunFor(TimeSpan.FromMilliseconds(100));

        Assert.Equal(TcpState.Established, p.A.State);
        Assert.Equal(TcpState.Established, p.B.State);
        var syn = p.Trace[0].Seg;
        Assert.Equal(TcpFlags.Syn, syn.Flags);
        Assert.Equal((ushort)1460, syn.Options.Mss);
        Assert.Equal((byte)7, syn.Options.WindowScale);
        Assert.True(syn.Options.SackPermitted && syn.Options.HasTimestamp);
        Assert.Equal(64240, syn.Window); // tcp_select_initial_window: rounddown(131072 / 2, 1460)
        var synAck = p.Trace[1].Seg;
        Assert.Equal(65160, synAck.Window); // rounddown(131072 / 2, 1460 - 12)
        Assert.Equal((byte)7, synAck.Options.WindowScale);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(syn.Seq + 1, synAck.Ack);
        Assert.Equal(syn.Options.TsVal, synAck.Options.TsEcr);
        Assert.Equal(3, p.Trace.Count); // SYN, SYN-ACK, ACK
        foreach (var t in new[] { p.A, p.B })
        {
            Assert.True(t.WscaleOk && t.SackOk && t.TsOk);
            Assert.Equal(7, t.SndWscale);
            Assert.Equal(1448, t.Mss);
        }
        Assert.Equal(1, p.MibA[TcpMib.ActiveOpens]);
        Assert.Equal(0, p.MibA[TcpMib.PassiveOpens]);
        Assert.Equal(1, p.MibB[TcpMib.PassiveOpens]);
        Assert.Equal(1, p.MibA[TcpMib.CurrEstab]);
        Assert.Equal(1, p.MibB[TcpMib.CurrEstab]);
        Assert.Contains(new TcpEvent(TcpEventKind.Connected), p.EventsA);
        Assert.Contains(new TcpEvent(TcpEventKind.Connected), p.EventsB);
        // The RTT of the handshake (2 x 5 ms) was measured: RTO = srtt + max(4 rttvar, 200 ms).
        Assert.Equal(Ms(10), p.A.Srtt);
        Assert.Equal(Ms(210), p.A.Rto);
    }

    /// <summary>
    /// The windows a Linux 6.18 pair advertises with tcp_rmem 4096 131072 6291456 and MSS 1460, captured on a veth
    /// pair: SYN 64240 (wscale 7), SYN-ACK 65160 (wscale 7), the client's handshake ACK 502 (ALIGN(64240, 128) = 64256:
    /// <c>rcv_ssthresh</c> caps the free space), the server's first data segment 510 (ALIGN(65160, 128)), and the
    /// client's ACK of those 1000 bytes 525 (<c>tcp_grow_window</c>: 64240 + 2·1460 = 67160, aligned 67200).
    /// </summary>
    [Fact]
    public void Window_HandshakeAndFirstAcks_AsLinux618()
    {
        var p = new TcpPair();
        p.ToSendB = RandomBytes(1000, 7);
        p.AutoReadA = false;
        p.Establish();
        p.RunFor(TimeSpan.FromMilliseconds(100));

        var t = p.Trace.Select(x => (x.FromA, x.Seg.Flags, x.Seg.Window, x.Seg.Payload.Length, x.Seg.Options.WindowScale)).ToArray();
        Assert.Equal((true, TcpFlags.Syn, (ushort)64240, 0, (byte?)7), t[0]);
        Assert.Equal((false, TcpFlags.Syn | TcpFlags.Ack, (ushort)65160, 0, (byte?)7), t[1]);
        Assert.Equal((true, TcpFlags.Ack, (ushort)502, 0, (byte?)null), t[2]);
        var data = p.Trace.First(x => !x.FromA && x.Seg.Payload.Length > 0).Seg;
        Assert.Equal((ushort)510, data.Window);
        var ack = p.Trace.First(x => x.FromA && x.Seg.Ack == data.Seq + 1000).Seg;
        Assert.Equal((ushort)525, ack.Window);
        Assert.Equal(7, p.A.RcvWscale);
    }

    /// <summary>
    /// Without window scaling (both sides off) the SYN and SYN-ACK offer the same 64240 and 65160, and later windows are
    /// rcv_ssthresh unrounded (__tcp_select_window's no-scale branch keeps rcv_wnd within an MSS of the free space), at most 65535.
    /// </summary>
    [Fact]
    public void Window_NoScaling_SynAck65160_LaterWindowsUnscaled()
    {
        var noWs = TcpSettings.Default with { WindowScaling = false };
        var p = new TcpPair(noWs, noWs);
        p.ToSendB = RandomBytes(1000, 8);
        p.AutoReadA = false;
        p.Establish();
        p.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal((ushort)64240, p.Trace[0].Seg.Window);
        Assert.Null(p.Trace[0].Seg.Options.WindowScale);
        Assert.Equal((ushort)65160, p.Trace[1].Seg.Window);
        Assert.Equal((ushort)64240, p.Trace[2].Seg.Window);
        var data = p.Trace.First(x => !x.FromA && x.Seg.Payload.Length > 0).Seg;
        Assert.Equal((ushort)65160, data.Window);
        Assert.Equal((ushort)65535, p.Trace.First(x => x.FromA && x.Seg.Ack == data.Seq + 1000).Seg.Window); // 67160, unscaled at most 65535
    }

    [Fact]
    public void Transfer_BothWays_ByteForByte()
    {
        var p = new TcpPair(sndBuf: 262144);
        p.ToSendA = RandomBytes(1_000_000, 1);
        p.ToSendB = RandomBytes(300_000, 2);
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(10));

        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(p.ToSendB, p.ReadA.ToArray());
        Assert.Equal(0, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(0, p.MibB[TcpMib.RetransSegs]);
        Assert.All(p.SentBy(true).Where(IsData), s => Assert.True(s.Payload.Length <= 1448));
        Assert.True(p.A.Cwnd > 10, $"cwnd {p.A.Cwnd} grew in slow start");
    }

    [Fact]
    public void Loss_OneSegmentWithSack_FastRetransmitNoTimeout()
    {
        var p = new TcpPair(sndBuf: 262144);
        p.ToSendA = RandomBytes(200_000, 3);
        int dataIdx = 0;
        p.Drop = (fromA, s, _) => fromA && IsData(s) && ++dataIdx == 20;
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(5));

        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(1, p.DroppedA);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPSackRecovery]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPFastRetrans]);
        Assert.Equal(1, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPTimeouts]);
        Assert.True(p.MibB[TcpExtMib.TCPOFOQueue] >= 3);
        // The receiver's duplicate ACKs carried SACK blocks.
        Assert.Contains(p.SentBy(false), s => s.Options.SackCount > 0);
    }

    [Fact]
    public void Loss_OneSegmentWithoutSack_NewRenoFastRetransmit()
    {
        var noSack = new TcpSettings { Sack = false };
        var p = new TcpPair(noSack, noSack, sndBuf: 262144, cc: CongestionAlgorithm.Reno);
        p.ToSendA = RandomBytes(200_000, 4);
        int dataIdx = 0;
        p.Drop = (fromA, s, _) => fromA && IsData(s) && ++dataIdx == 20;
        p.Establish();
        Assert.False(p.A.SackOk);
        p.RunFor(TimeSpan.FromSeconds(5));

        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(1, p.MibA[TcpExtMib.TCPRenoRecovery]);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPFastRetrans]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPTimeouts]);
        Assert.DoesNotContain(p.SentBy(false), s => s.Options.SackCount > 0);
    }

    [Fact]
    public void Loss_SeveralHolesWithSack_RecoveredInOneEpisode()
    {
        var p = new TcpPair(sndBuf: 262144);
        p.ToSendA = RandomBytes(300_000, 5);
        int dataIdx = 0;
        p.Drop = (fromA, s, _) => fromA && IsData(s) && (++dataIdx is 30 or 33 or 36);
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(5));

        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(3, p.DroppedA);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPSackRecovery]);
        Assert.Equal(3, p.MibA[TcpExtMib.TCPFastRetrans]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPTimeouts]);
    }

    [Fact]
    public void Loss_TailSegment_RetransmittedByRto()
    {
        var p = new TcpPair();
        p.A.Recovery = new TcpRecoverySettings { TailLossProbe = false }; // net.ipv4.tcp_early_retrans 0: no TLP
        p.ToSendA = RandomBytes(5000, 6); // 4 segments: 3 x 1448 + 656
        int dataIdx = 0;
        p.Drop = (fromA, s, _) => fromA && IsData(s) && ++dataIdx == 4;
        p.Establish();
        long start = p.Now;
        p.RunFor(TimeSpan.FromSeconds(2));

        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(1, p.MibA[TcpExtMib.TCPTimeouts]);
        Assert.Equal(1, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPFastRetrans]);
        var retrans = p.Trace.Where(x => x.FromA && IsData(x.Seg)).ToList();
        Assert.Equal(5, retrans.Count);
        Assert.Equal(retrans[3].Seg.Seq, retrans[4].Seg.Seq);
        // Retransmitted one RTO (210 ms after the handshake RTT sample) after the original.
        // The RTO (210 ms) restarts when the ACK for the first three arrives, one RTT after they left.
        Assert.Equal(retrans[3].At + Ms(10) + Ms(210), retrans[4].At);
        Assert.Equal(2, p.A.Cwnd); // slow start again from 1 after the timeout, +1 for the ACK of the retransmission
    }

    [Fact]
    public void Loss_RandomTwoPercentWithReordering_AllBytesDelivered()
    {
        var p = new TcpPair(sndBuf: 262144);
        p.ToSendA = RandomBytes(2_000_000, 7);
        p.ToSendB = RandomBytes(500_000, 8);
        var rng = new Random(42);
        p.Drop = (_, s, _) => rng.NextDouble() < 0.02;
        p.Jitter = (_, _, _) => rng.Next(4) == 0 ? Ms(3) : 0;
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(60));

        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(p.ToSendB, p.ReadA.ToArray());
        Assert.True(p.MibA[TcpExtMib.TCPFastRetrans] > 0);
    }

    [Fact]
    public void ZeroWindow_ReaderStops_ProbesThenResumes()
    {
        var p = new TcpPair(sndBuf: 65536, rcvBufB: 16384);
        p.ToSendA = RandomBytes(100_000, 9);
        p.AutoReadB = false;
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(3));

        Assert.True(0 == p.A.SndWnd, string.Join("\n", p.Trace.TakeLast(12).Select(x => $"{x.At / 10000} {(x.FromA ? "A" : "B")} {x.Seg}")) + "\n" + p.A + "\n" + p.B);
        Assert.True(p.B.ReadableBytes >= 16384 - 1448, $"receive queue {p.B.ReadableBytes}");
        Assert.True(p.MibA[TcpExtMib.TCPWinProbe] >= 2, $"probes {p.MibA[TcpExtMib.TCPWinProbe]}");
        Assert.True(p.MibB[TcpExtMib.TCPToZeroWindowAdv] >= 1);
        Assert.Equal(TcpState.Established, p.A.State);
        // Probes: SEQ = SND.UNA - 1, no data.
        var probe = p.SentBy(true).Last();
        Assert.Equal(p.A.SndUna - 1, probe.Seq);
        Assert.Equal(0, probe.Payload.Length);

        p.AutoReadB = true;
        p.ReadAll(p.B, p.ReadB);
        p.RunFor(TimeSpan.FromSeconds(10));
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
    }

    [Fact]
    public void SimultaneousOpen_BothSynSent_BothEstablished()
    {
        var p = new TcpPair { BListens = false };
        p.A.Connect(p.Now);
        p.B.Connect(p.Now);
        p.RunFor(TimeSpan.FromMilliseconds(100));

        Assert.Equal(TcpState.Established, p.A.State);
        Assert.Equal(TcpState.Established, p.B.State);
        Assert.Equal(1, p.MibA[TcpMib.ActiveOpens]);
        Assert.Equal(0, p.MibA[TcpMib.PassiveOpens]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPChallengeACK]);
        // SYN, SYN-ACK each way; no RST.
        Assert.Equal(2, p.SentBy(true).Count(s => s.Syn));
        Assert.DoesNotContain(p.Trace, x => x.Seg.Rst);
        p.ToSendA = RandomBytes(10_000, 10);
        p.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
    }

    [Fact]
    public void Close_ActiveThenPassive_TimeWaitLasts60Seconds()
    {
        var p = new TcpPair();
        p.Establish();
        p.A.Close(p.Now);
        Assert.Equal(TcpState.FinWait1, p.A.State);
        p.RunFor(TimeSpan.FromMilliseconds(50));
        Assert.Equal(TcpState.FinWait2, p.A.State);
        Assert.Equal(TcpState.CloseWait, p.B.State);
        Assert.Contains(new TcpEvent(TcpEventKind.Eof), p.EventsB);
        Assert.Equal(0, p.B.Receive(new byte[10], p.Now, false, out var err));
        Assert.Equal(Errno.OK, err);

        p.B.Close(p.Now);
        Assert.Equal(TcpState.LastAck, p.B.State);
        p.RunFor(TimeSpan.FromMilliseconds(50));
        Assert.Equal(TcpState.Closed, p.B.State);
        Assert.Equal(TcpState.TimeWait, p.A.State);
        long twStart = p.Trace.Last(x => x.FromA).At;

        p.RunUntil(twStart + TimeSpan.FromSeconds(60).Ticks - 1);
        Assert.Equal(TcpState.TimeWait, p.A.State);
        p.RunUntil(twStart + TimeSpan.FromSeconds(60).Ticks);
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(0, p.MibA[TcpMib.CurrEstab]);
        Assert.Equal(0, p.MibA[TcpMib.EstabResets]);
        Assert.Equal(0, p.MibB[TcpMib.EstabResets]);
    }

    [Fact]
    public void Close_Simultaneous_BothThroughClosingToTimeWait()
    {
        var p = new TcpPair();
        p.Establish();
        p.A.Close(p.Now);
        p.B.Close(p.Now);
        p.Flush();
        Assert.Equal(TcpState.FinWait1, p.A.State);
        Assert.Equal(TcpState.FinWait1, p.B.State);
        p.RunUntil(p.Now + Ms(5)); // the FINs cross
        Assert.Equal(TcpState.Closing, p.A.State);
        Assert.Equal(TcpState.Closing, p.B.State);
        p.RunFor(TimeSpan.FromMilliseconds(20));
        Assert.Equal(TcpState.TimeWait, p.A.State);
        Assert.Equal(TcpState.TimeWait, p.B.State);
        p.RunFor(TimeSpan.FromSeconds(61));
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(TcpState.Closed, p.B.State);
    }

    [Fact]
    public void HalfClose_ShutdownWrite_PeerStillSends()
    {
        var p = new TcpPair();
        p.Establish();
        p.A.Shutdown(p.Now);
        p.RunFor(TimeSpan.FromMilliseconds(50));
        Assert.Equal(TcpState.FinWait2, p.A.State);
        Assert.Equal(-1, p.A.Send(new byte[1], p.Now, out var err));
        Assert.Equal(Errno.EPIPE, err);
        p.ToSendB = RandomBytes(50_000, 11);
        p.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(p.ToSendB, p.ReadA.ToArray());
    }

    [Fact]
    public void Rst_InWindowWrongSeq_ChallengeAckConnectionStays()
    {
        var p = new TcpPair();
        p.Establish();
        int before = p.Trace.Count;
        var r = p.Inject(toB: true, new TcpSegment
        {
            SourcePort = PortA, DestinationPort = PortB, Seq = p.B.RcvNxt + 1000, Flags = TcpFlags.Rst,
        });
        Assert.Equal(DropReason.TCP_RESET, r);
        Assert.Equal(TcpState.Established, p.B.State);
        Assert.Equal(1, p.MibB[TcpExtMib.TCPChallengeACK]);
        var ack = p.Trace[before].Seg;
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(p.B.RcvNxt, ack.Ack);
    }

    [Fact]
    public void Rst_OutOfWindow_IgnoredWithoutChallenge()
    {
        var p = new TcpPair();
        p.Establish();
        var r = p.Inject(toB: true, new TcpSegment
        {
            SourcePort = PortA, DestinationPort = PortB, Seq = p.B.RcvNxt + 10_000_000, Flags = TcpFlags.Rst,
        });
        Assert.Equal(DropReason.TCP_OVERWINDOW, r);
        Assert.Equal(TcpState.Established, p.B.State);
        Assert.Equal(0, p.MibB[TcpExtMib.TCPChallengeACK]);
    }

    [Fact]
    public void Rst_ExactSeq_ConnectionResetCounted()
    {
        var p = new TcpPair();
        p.Establish();
        var r = p.Inject(toB: true, new TcpSegment
        {
            SourcePort = PortA, DestinationPort = PortB, Seq = p.B.RcvNxt, Flags = TcpFlags.Rst,
        });
        Assert.Equal(DropReason.TCP_RESET, r);
        Assert.Equal(TcpState.Closed, p.B.State);
        Assert.Equal(Errno.ECONNRESET, p.B.Error);
        Assert.Contains(new TcpEvent(TcpEventKind.Error, Errno.ECONNRESET), p.EventsB);
        Assert.Equal(1, p.MibB[TcpMib.EstabResets]);
        Assert.Equal(0, p.MibB[TcpMib.CurrEstab]);
    }

    [Fact]
    public void Syn_InEstablished_ChallengeAck()
    {
        var p = new TcpPair();
        p.Establish();
        var r = p.Inject(toB: true, new TcpSegment
        {
            SourcePort = PortA, DestinationPort = PortB, Seq = p.B.RcvNxt + 5, Flags = TcpFlags.Syn,
        });
        Assert.Equal(DropReason.TCP_INVALID_SYN, r);
        Assert.Equal(TcpState.Established, p.B.State);
        Assert.Equal(1, p.MibB[TcpExtMib.TCPChallengeACK]);
        Assert.Equal(1, p.MibB[TcpExtMib.TCPSYNChallenge]);
    }

    [Fact]
    public void Segment_NoFlags_DroppedAsTcpFlags()
    {
        var p = new TcpPair();
        p.Establish();
        var r = p.Inject(toB: true, new TcpSegment
        {
            SourcePort = PortA, DestinationPort = PortB, Seq = p.B.RcvNxt, Payload = new byte[10],
        });
        Assert.Equal(DropReason.TCP_FLAGS, r);
        Assert.Equal(0, p.B.ReadableBytes);
    }

    [Fact]
    public void Ack_TooOld_ChallengeAck()
    {
        var p = new TcpPair();
        p.Establish();
        var r = p.Inject(toB: true, new TcpSegment
        {
            SourcePort = PortA, DestinationPort = PortB, Seq = p.B.RcvNxt, Ack = p.B.SndUna - 1_000_000, Flags = TcpFlags.Ack,
            Payload = new byte[10],
        });
        Assert.Equal(DropReason.TCP_TOO_OLD_ACK, r);
        Assert.Equal(1, p.MibB[TcpExtMib.TCPChallengeACK]);
        Assert.Equal(0, p.B.ReadableBytes);
    }

    [Fact]
    public void Connect_ClosedPort_ConnectionRefused()
    {
        var p = new TcpPair { BListens = false };
        p.A.Connect(p.Now);
        p.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(Errno.ECONNREFUSED, p.A.Error);
        Assert.Equal(1, p.MibA[TcpMib.AttemptFails]);
        Assert.Equal(1, p.MibB[TcpMib.OutRsts]);
        var rst = p.SentBy(false).Single();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(p.A.Iss + 1, rst.Ack);
    }

    [Fact]
    public void Connect_NoAnswer_SixSynRetriesThenEtimedoutAt127s()
    {
        var p = new TcpPair { Drop = (_, _, _) => true };
        p.A.Connect(p.Now);
        p.RunFor(TimeSpan.FromSeconds(200));

        var syns = p.SentBy(true).ToList();
        Assert.Equal(7, syns.Count);
        Assert.Equal(new long[] { 0, 1, 3, 7, 15, 31, 63 }, p.Trace.Select(x => x.At / TimeSpan.TicksPerSecond).ToArray());
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(Errno.ETIMEDOUT, p.A.Error);
        Assert.Equal(6, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(6, p.MibA[TcpExtMib.TCPSynRetrans]);
        Assert.Equal(1, p.MibA[TcpMib.AttemptFails]);
        Assert.Contains(new TcpEvent(TcpEventKind.Error, Errno.ETIMEDOUT), p.EventsA);
    }

    [Fact]
    public void Established_PeerVanishes_GivesUpAfterRetries2Time()
    {
        var p = new TcpPair();
        p.Establish();
        p.Drop = (_, _, _) => true;
        p.ToSendA = new byte[100];
        p.Flush();
        long start = p.Now;
        p.RunFor(TimeSpan.FromSeconds(2000));
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(Errno.ETIMEDOUT, p.A.Error);
        // tcp_model_timeout(15, 200 ms) = 1023 x 0.2 s + 6 x 120 s = 924.6 s after the first transmission.
        Assert.Equal(924_600, p.A.ModelTimeout(15, Ms(200)) / TimeSpan.TicksPerMillisecond);
        Assert.Equal(1, p.MibA[TcpExtMib.TCPAbortOnTimeout]);
        var last = p.Trace.Last(x => x.FromA);
        Assert.True(last.At - start < TimeSpan.FromSeconds(925).Ticks);
        // First a tail loss probe at PTO = min(2·SRTT + rto_min, RTO) = 210 ms, which restarts the RTO; then RFC 6298 5.5:
        // the RTO doubles per retransmission (210 ms after the handshake sample), capped at 120 s.
        var times = p.Trace.Where(x => x.FromA && x.Seg.Payload.Length > 0).Select(x => x.At).ToList();
        var gaps = times.Zip(times.Skip(1), (a, b) => (b - a) / TimeSpan.TicksPerMillisecond).ToList();
        Assert.Equal(new long[] { 210, 210, 420, 840, 1680, 3360, 6720, 13440, 26880, 53760, 107520, 120000 }, gaps.Take(12).ToArray());
        Assert.Equal(1, p.MibA[TcpExtMib.TCPLossProbes]);
        Assert.Equal(1, p.MibA[TcpMib.EstabResets]);
    }

    [Fact]
    public void DelayedAck_AfterQuickAcks_Acks40msLater()
    {
        var p = new TcpPair();
        p.Establish();
        // Use up the quick-ack budget (16) with one-segment writes, each ACKed at once.
        for (int i = 0; i < 16; i++)
        {
            p.A.Send(new byte[100], p.Now, out _);
            p.RunFor(TimeSpan.FromMilliseconds(100));
        }
        Assert.Equal(0, p.MibB[TcpExtMib.DelayedACKs]);
        int before = p.Trace.Count;
        p.A.Send(new byte[100], p.Now, out _);
        long sentAt = p.Now;
        p.RunFor(TimeSpan.FromMilliseconds(100));
        var ack = p.Trace.Skip(before).Single(x => !x.FromA);
        Assert.Equal(sentAt + Ms(5) + Ms(40), ack.At);
        Assert.Equal(1, p.MibB[TcpExtMib.DelayedACKs]);
    }

    [Fact]
    public void Nagle_SmallWritesWaitForAck_NoDelaySendsAtOnce()
    {
        foreach (bool nodelay in new[] { false, true })
        {
            var p = new TcpPair();
            p.Establish();
            p.A.NoDelay = nodelay;
            int before = p.Trace.Count;
            p.A.Send(new byte[10], p.Now, out _);
            p.A.Send(new byte[10], p.Now, out _);
            p.Flush();
            Assert.Equal(nodelay ? 2 : 1, p.Trace.Skip(before).Count(x => x.FromA && IsData(x.Seg)));
            p.RunFor(TimeSpan.FromMilliseconds(100));
            Assert.Equal(20, p.ReadB.Length);
        }
    }

    [Fact]
    public void Paws_OldTimestamp_Dropped()
    {
        var p = new TcpPair();
        p.Establish();
        p.ToSendA = new byte[10];
        p.RunFor(TimeSpan.FromMilliseconds(100));
        var r = p.Inject(toB: true, new TcpSegment
        {
            SourcePort = PortA, DestinationPort = PortB, Seq = p.B.RcvNxt, Ack = p.B.SndNxt, Flags = TcpFlags.Ack,
            Payload = new byte[10], Options = new TcpOptions { HasTimestamp = true, TsVal = 999, TsEcr = 0 },
        });
        Assert.Equal(DropReason.TCP_RFC7323_PAWS, r);
        Assert.Equal(1, p.MibB[TcpExtMib.PAWSEstabRejected]);
        Assert.Equal(10, p.ReadB.Length);
    }

    [Fact]
    public void Close_WithUnreadData_SendsRst()
    {
        var p = new TcpPair { AutoReadB = false };
        p.Establish();
        p.ToSendA = new byte[100];
        p.RunFor(TimeSpan.FromMilliseconds(100));
        p.B.Close(p.Now);
        p.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, p.MibB[TcpExtMib.TCPAbortOnClose]);
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(Errno.ECONNRESET, p.A.Error);
    }

    [Fact]
    public void TimeWait_NewerSyn_AcceptedForReuse()
    {
        var p = new TcpPair();
        p.Establish();
        p.A.Close(p.Now);
        p.RunFor(TimeSpan.FromMilliseconds(50));
        p.B.Close(p.Now);
        p.RunFor(TimeSpan.FromMilliseconds(50));
        Assert.Equal(TcpState.TimeWait, p.A.State);
        var oldSyn = new TcpSegment { SourcePort = PortB, DestinationPort = PortA, Seq = p.A.RcvNxt - 10, Flags = TcpFlags.Syn };
        var newSyn = oldSyn with { Seq = p.A.RcvNxt + 100_000 };
        Assert.False(p.A.TimeWaitAcceptsSyn(oldSyn)); // no timestamps in it, old sequence
        Assert.True(p.A.TimeWaitAcceptsSyn(newSyn with
        {
            Options = new TcpOptions { HasTimestamp = true, TsVal = 600_000 },
        }));
    }

    [Fact]
    public void Keepalive_PeerGone_ProbesThenEtimedout()
    {
        var s = new TcpSettings { KeepaliveTime = TimeSpan.FromSeconds(10), KeepaliveInterval = TimeSpan.FromSeconds(1), KeepaliveProbes = 3 };
        var p = new TcpPair(s, s);
        p.Establish();
        p.A.SetKeepAlive(true, p.Now);
        p.Drop = (_, _, _) => true;
        p.RunFor(TimeSpan.FromSeconds(30));
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(Errno.ETIMEDOUT, p.A.Error);
        Assert.Equal(3, p.MibA[TcpExtMib.TCPKeepAlive]);
    }
}
