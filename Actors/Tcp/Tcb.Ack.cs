using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

// ACK processing: tcp_ack, tcp_clean_rtx_queue and the RTT estimator (tcp_rtt_estimator, tcp_set_rto).
public sealed partial class Tcb
{
    // ---------------------------------------------------------------- ACK processing

    /// <summary><c>tcp_ack</c>: RFC 5961 5.2 ACK validation, window update, SACK, RTT, congestion control, loss detection.</summary>
    private DropReason ProcessAck(TcpSegment seg, long now)
    {
        var ack = seg.Ack;
        if (ack > SndNxt) return DropReason.TCP_ACK_UNSENT_DATA;
        if (ack < SndUna)
        {
            if (ack < SndUna - MaxSndWnd)
            {
                SendChallengeAck(now);
                return DropReason.TCP_TOO_OLD_ACK;
            }
            return DropReason.TCP_OLD_ACK; // ignore the ACK, still take the data
        }

        var priorUna = SndUna;
        int priorWnd = SndWnd;
        int priorOut = _rtx.Count;
        _probesOut = 0; // any acceptable ACK shows the peer is alive (tcp_ack: icsk_probes_out = 0)
        _keepaliveProbesOut = 0;

        // Window update (tcp_may_update_window): an ACK that advances SND.UNA always carries the peer's current
        // window, even on a retransmission with a sequence older than SND.WL1; else the RFC 9293 3.10.7.4 rule,
        // where an equal SEG.SEQ updates only to a larger or a zero window as Linux does.
        int segWnd = seg.Window << SndWscale;
        if (MayUpdateWindow(ack, seg.Seq, segWnd))
        {
            int nw = segWnd;
            SndWnd = nw;
            _sndWl1 = seg.Seq;
            _sndWl2 = ack;
            MaxSndWnd = Math.Max(MaxSndWnd, SndWnd);
        }

        var priorFack = Fack();
        bool dsack = SackOk && seg.Options.SackCount > 0 && CheckDsack(seg.Options.Sack, ack);
        bool newSack = SackOk && seg.Options.SackCount > 0 && TagSacked(seg.Options.Sack, ack, dsack, priorFack, now);

        int ackedPkts = 0;
        if (ack > priorUna)
        {
            CleanRtxQueue(seg, now, out ackedPkts, priorFack);
            // Everything sent is acknowledged, so it has left this host: a TX completion still on its way must not
            // hold TCP small queues shut.
            if (SndUna == SndNxt) HostQueuedBytes = 0;
            if (SndWnd > 0 && _probeTimer != 0) { _probeTimer = 0; _backoff = 0; }
        }
        if (ack > priorUna || newSack) RackUpdateReoWnd(ack);
        ProcessTlpAck(ack, dsack, ack > priorUna, seg.Payload.Length > 0 || SndWnd != priorWnd || ack > priorUna, newSack);

        bool dup = ack == priorUna && seg.Payload.Length == 0 && !seg.Syn && !seg.Fin && SndWnd == priorWnd && priorOut > 0;
        if (dup || newSack && ack == priorUna)
        {
            DupAcks++;
            if (!SackOk) { _renoSacked++; CheckRenoReordering(0); } // tcp_add_reno_sack
        }
        else if (ack > priorUna)
        {
            DupAcks = 0;
            if (!SackOk && ackedPkts > 0)
            {
                // tcp_remove_reno_sacks: one ACK acked the hole, the rest eat duplicate ACKs.
                _renoSacked = ackedPkts - 1 >= _renoSacked ? 0 : _renoSacked - (ackedPkts - 1);
                CheckRenoReordering(ackedPkts);
            }
        }

        // tcp_ack_is_dubious: only a duplicate, a SACK / D-SACK or a state other than Open reaches the loss logic.
        bool reoArmed = false;
        if (dup || newSack || dsack || CaState != TcpCaState.Open) reoArmed = FastRetransAlert(ack, priorUna, ackedPkts, now);
        if (ack > priorUna && !reoArmed) SetXmitTimer(now); // FLAG_SET_XMIT_TIMER
        if (ack > priorUna && CaState is not TcpCaState.Recovery && IsCwndLimited(priorOut))
            _cc.CongAvoid(_cwnd, ackedPkts, now);

        if (ack > priorUna) SndBufExpand();
        if (_sndBuf.Free > 0 && ack > priorUna) Events.Add(new TcpEvent(TcpEventKind.Writable));
        return DropReason.NOT_DROPPED_YET;
    }

    private bool IsCwndLimited(int priorOut) => priorOut >= _cwnd.Cwnd || (_cwnd.InSlowStart && priorOut * 2 >= _cwnd.Cwnd);

    /// <summary><c>tcp_clean_rtx_queue</c>: frees ACKed data, takes an RTT sample (RFC 7323 TS or Karn's rule), restarts the RTO.</summary>
    private void CleanRtxQueue(TcpSegment seg, long now, out int ackedPkts, TcpSeq priorFack = default)
    {
        var ack = seg.Ack;
        var priorUna = SndUna;
        ackedPkts = 0;
        long sampleSent = -1;
        bool anyRetrans = false;
        var reord = SndNxt; // lowest never-retransmitted segment cumulatively ACKed without having been SACKed
        bool reordFound = false;
        int i = 0;
        for (; i < _rtx.Count; i++)
        {
            var t = _rtx[i];
            if (t.End > ack)
            {
                // Partially ACKed segment: trim its head (tcp_trim_head).
                if (t.Seq < ack && !t.Syn)
                {
                    int cut = ack - t.Seq;
                    t.Seq = ack;
                    t.Len -= cut;
                }
                break;
            }
            ackedPkts++;
            if (t.EverRetrans) anyRetrans = true;
            else sampleSent = Math.Max(sampleSent, t.SentAt);
            if (!t.Sacked && !t.Syn)
            {
                if (!t.EverRetrans && !reordFound) { reord = t.Seq; reordFound = true; }
                if (SackOk) RackAdvance(t, now);
            }
        }
        _rtx.RemoveRange(0, i);
        int dataAcked = Math.Clamp(ack - _sndBufSeq, 0, _sndBuf.Count);
        _sndBuf.Discard(dataAcked);
        _sndBufSeq += dataAcked;
        SndUna = ack;
        if (_sndSml < SndUna) _sndSml = SndUna;
        if (!HighestSackValid) _highestSack = SndUna;

        long rtt = -1;
        if (sampleSent >= 0 && !anyRetrans) rtt = now - sampleSent;
        else if (TsOk && seg.Options.HasTimestamp && seg.Options.TsEcr != 0)
        {
            // tcp_rtt_tsopt_us: millisecond timestamps; a difference of 0 counts as 1 ms (the clock's granularity).
            long ms = unchecked((int)(TsNow(now) - seg.Options.TsEcr));
            if (ms >= 0) rtt = Math.Max(ms, 1) * TimeSpan.TicksPerMillisecond;
        }
        if (rtt >= 0)
        {
            RttEstimator(Math.Max(rtt, 1));
            UpdateMinRtt(Math.Max(rtt, 1), now);
        }

        if (SackOk && State is not (TcpState.SynSent or TcpState.SynReceived))
        {
            // A hole below the highest SACK filled without a retransmission: reordering (tcp_clean_rtx_queue).
            if (reordFound && reord < priorFack) CheckSackReordering(reord, Fack(), ts: false);
            // tcp_try_undo_partial / tcp_packet_delayed: in recovery, an ACK of retransmitted data that echoes a
            // timestamp from before the first retransmission was sent for the original: the hole was reordering.
            else if (anyRetrans && CaState == TcpCaState.Recovery && TsOk && seg.Options.HasTimestamp && seg.Options.TsEcr != 0
                     && _retransStamp != 0 && unchecked((int)(seg.Options.TsEcr - TsNow(_retransStamp))) < 0)
            {
                CheckSackReordering(priorUna, Fack(), ts: true);
                TryUndoPartial();
            }
        }

        Retransmits = 0;
        _backoff = 0;
        if (_rtx.Count == 0) { _rtoTimer = 0; _retransStamp = 0; }
        else
        {
            ArmRto(now);
            _retransStamp = _rtx[0].EverRetrans ? _retransStamp : 0;
        }
    }

    /// <summary><c>tcp_rtt_estimator</c> (RFC 6298 2.2/2.3) and <c>tcp_set_rto</c>: RTO = SRTT + max(4·RTTVAR, rto_min).</summary>
    private void RttEstimator(long r)
    {
        if (Srtt == 0)
        {
            Srtt = r;
            RttVar = r / 2;
        }
        else
        {
            RttVar = (3 * RttVar + Math.Abs(Srtt - r)) / 4;
            Srtt = (7 * Srtt + r) / 8;
        }
        _cwnd.SrttTicks = Srtt;
        Rto = Math.Clamp(Srtt + Math.Max(4 * RttVar, _s.RtoMin.Ticks), _s.RtoMin.Ticks, _s.RtoMax.Ticks);
    }
}
