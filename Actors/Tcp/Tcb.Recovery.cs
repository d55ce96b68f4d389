using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

/// <summary>Linux's <c>icsk_pending</c>: which job the retransmission timer slot holds.</summary>
internal enum TcpXmitTimer { Retrans, ReoTimeout, LossProbe }

// Retransmission and loss recovery: SACK scoreboard (tcp_sacktag_write_queue), tcp_fastretrans_alert, RACK-TLP
// (tcp_recovery.c), D-SACK, undo, tcp_enter_recovery and tcp_retransmit_timer; the congestion window state.
public sealed partial class Tcb
{
    /// <summary>The loss-recovery tunables (set by the owner before the connection opens).</summary>
    public TcpRecoverySettings Recovery { get; set; } = TcpRecoverySettings.Default;

    /// <summary>TCP_TIMEOUT_MIN (2 jiffies): slack added to RACK's reordering timer and to a multi-packet PTO.</summary>
    private static readonly long TimeoutMin = TcpConstants.TCP_TIMEOUT_MIN.Ticks;
    /// <summary>tcp_min_rtt_wlen: the window of the min-RTT filter (300 s).</summary>
    private static readonly long MinRttWindow = TimeSpan.FromSeconds(300).Ticks;
    /// <summary>One jiffy at HZ=1000 (<c>jiffies_to_usecs(1)</c>): what the min-RTT filter takes for a 0 µs sample.</summary>
    public static readonly long Jiffy = TimeSpan.TicksPerMillisecond;

    private ICongestionControl _cc;
    private readonly CongestionState _cwnd = new();
    // False: no segment in _rtx is marked Sacked, so the per-ACK scoreboard walks (SackedOut, SackedAbove) are skipped.
    // Set wherever a mark is made (TagSacked; Fragment copies a mark), cleared when SackedOut counts none.
    private bool _anySacked;
    // False: no segment in _rtx is marked Lost or Retrans, so PacketsInFlight is _rtx.Count without a walk (Linux keeps
    // packets_out, lost_out and retrans_out as counters). Set wherever such a mark is made, cleared by a walk that finds none.
    private bool _anyLostOrRetrans;
    public TcpCaState CaState { get; private set; }
    private TcpSeq _highSeq;     // recovery point
    // RTT / RTO (RFC 6298), in ticks.
    public long Srtt { get; private set; }
    public long RttVar { get; private set; }
    public long Rto { get; private set; }
    private int _backoff;
    public int Retransmits { get; private set; }
    private long _retransStamp;
    private int _renoSacked; // dup ACKs standing in for SACKed packets without SACK (tcp_add_reno_sack)
    public int DupAcks { get; private set; }

    public long SegmentsRetransmitted { get; private set; }
    public long FastRetransmits { get; private set; }
    public long Timeouts { get; private set; }
    public long ZeroWindowProbes { get; private set; }
    public string CongestionName => _cc.Name;
    public int Cwnd => _cwnd.Cwnd;
    public int SsThresh => _cwnd.SsThresh;
    public int PacketsOut => _rtx.Count;
    private int _reordering = -1;          // tp->reordering; -1 until first used (taken from tcp_reordering)
    private int _reordSeen;                // tp->reord_seen
    private TcpSeq _highestSack;           // end of the highest SACKed segment (tcp_highest_sack_seq)
    private long _minRtt, _minRttStamp;    // tcp_min_rtt (windowed minimum)

    // RACK (tp->rack).
    private long _rackMstamp, _rackRtt, _rackXmitOrder;
    private long _xmitCount;               // data transmissions so far (TxSeg.XmitOrder)
    private bool _rackAdvanced;
    private readonly RackReorderWindow _rackReo = new();

    // TLP.
    private bool _tlpActive, _tlpRetrans;
    private TcpSeq _tlpHighSeq;

    // Undo (tp->undo_marker / undo_retrans / prior_cwnd / prior_ssthresh).
    private bool _undoActive;
    private TcpSeq _undoMarker;
    private int _undoRetrans, _priorCwnd, _priorSsthresh;

    // Receiver D-SACK (tp->rx_opt.dsack, tp->duplicate_sack[0]).
    private bool _dsackPending;
    private SackBlock _dsackBlock;

    // Sender D-SACK accounting (tp->dsack_dups against tp->total_retrans).
    private long _dsackDups;

    /// <summary><c>tp->reordering</c>: the reordering degree (packets) the connection has learned, from tcp_reordering up to tcp_max_reordering.</summary>
    public int Reordering => _reordering < 0 ? _s.Reordering : _reordering;
    /// <summary><c>tp->reord_seen</c>: reordering events detected.</summary>
    public int ReorderingSeen => _reordSeen;
    /// <summary>The RACK reordering window now (<c>tcp_rack_reo_wnd</c>), in ticks.</summary>
    public long RackReoWnd => RackReoWindow();
    /// <summary>The windowed minimum RTT in ticks (<c>tcp_min_rtt</c>), 0 before a sample.</summary>
    public long MinRtt => _minRtt;

    // ------------------------------------------------------------ receiver: D-SACK

    /// <summary>
    /// <c>tcp_dsack_set</c>: the next ACK reports [<paramref name="seq"/>, <paramref name="end"/>) as a duplicate in its
    /// first SACK block (RFC 2883); TcpExt TCPDSACKOldSent below RCV.NXT, TCPDSACKOfoSent above.
    /// </summary>
    private void DsackSet(TcpSeq seq, TcpSeq end)
    {
        if (!SackOk || !Recovery.Dsack || end <= seq) return;
        _mib.Ext.Inc(seq < RcvNxt ? TcpExtMib.TCPDSACKOldSent : TcpExtMib.TCPDSACKOfoSent);
        _dsackPending = true;
        _dsackBlock = new SackBlock(seq, end);
    }

    /// <summary>
    /// <c>tcp_send_dupack</c>: ACK an unacceptable segment; a data segment below RCV.NXT is a duplicate: DelayedACKLost,
    /// D-SACK for its part below RCV.NXT. Data segments are never rate limited (<c>tcp_oow_rate_limited</c>).
    /// </summary>
    private void SendDupAck(TcpSegment seg, long now)
    {
        if (seg.SeqLength > 0 && seg.Seq < RcvNxt)
        {
            _mib.Ext.Inc(TcpExtMib.DelayedACKLost);
            var end = seg.EndSeq > RcvNxt ? RcvNxt : seg.EndSeq;
            DsackSet(seg.Seq, end);
        }
        SendAck(now);
    }

    /// <summary>The SACK blocks of the next ACK, the pending D-SACK block first (cleared once written, as <c>tcp_options_write</c>).</summary>
    private ImmutableArray<SackBlock> TakeSackBlocks()
    {
        if (!_dsackPending) return SackBlocks();
        _dsackPending = false;
        int max = TsOk ? 3 : 4;
        var rest = _ofo.Count > 0 ? SackBlocks() : ImmutableArray<SackBlock>.Empty;
        var b = ImmutableArray.CreateBuilder<SackBlock>(Math.Min(max, rest.Length + 1));
        b.Add(_dsackBlock);
        for (int i = 0; i < rest.Length && b.Count < max; i++) b.Add(rest[i]);
        return b.ToImmutable();
    }

    // ------------------------------------------------------------ sender: D-SACK, reordering

    /// <summary>
    /// <c>tcp_check_dsack</c>: the first SACK block is a D-SACK when it lies below the ACK (TCPDSACKRecv) or inside the
    /// second block (TCPDSACKOfoRecv). It counts down undo_retrans (the retransmission was spurious) and, through
    /// <c>tcp_dsack_seen</c>, asks RACK to widen its reordering window.
    /// </summary>
    private bool CheckDsack(ImmutableArray<SackBlock> sack, TcpSeq ack)
    {
        var b0 = sack[0];
        if (b0.Right <= b0.Left) return false;
        if (b0.Left < ack) _mib.Ext.Inc(TcpExtMib.TCPDSACKRecv);
        else if (sack.Length > 1 && b0.Left >= sack[1].Left && b0.Right <= sack[1].Right) _mib.Ext.Inc(TcpExtMib.TCPDSACKOfoRecv);
        else return false;
        int dupSegs = DsackSeen(b0.Left, b0.Right);
        if (dupSegs == 0) return false;
        if (_undoActive && _undoRetrans > 0 && b0.Right > _undoMarker) _undoRetrans = Math.Max(0, _undoRetrans - dupSegs);
        return true;
    }

    /// <summary>
    /// <c>tcp_dsack_seen</c>: the duplicated segments of a D-SACK block, 0 for a dubious one (longer than the largest
    /// window the peer offered, or more duplicates than this end ever retransmitted: tp->dsack_dups &gt; total_retrans).
    /// RACK widens its window (rack.dsack_seen) only once reordering was seen and not for a D-SACK of a one-segment
    /// loss probe (FLAG_DSACK_TLP: timer driven, not a RACK decision).
    /// </summary>
    private int DsackSeen(TcpSeq start, TcpSeq end)
    {
        int seqLen = end - start;
        if (seqLen <= 0 || seqLen > MaxSndWnd) return 0;
        int mss = Math.Max(Mss, 1);
        int dupSegs = 1;
        bool dsackTlp = false;
        if (seqLen > mss) dupSegs = (seqLen + mss - 1) / mss;
        else if (_tlpActive && _tlpHighSeq == end) dsackTlp = true;
        _dsackDups += dupSegs;
        if (_dsackDups > SegmentsRetransmitted) return 0;
        _rackReo.OnDsack(_reordSeen, dsackTlp);
        return dupSegs;
    }

    /// <summary>
    /// <c>tcp_check_reno_reordering</c> after <c>tcp_limit_reno_sacked</c>, without SACK: more duplicate ACKs than
    /// segments out beyond the holes (max(lost_out, 1)) can only be reordering (or duplication): the dup-ACK count is
    /// capped and tp->reordering set to packets_out + <paramref name="addend"/> (at most tcp_max_reordering); TcpExt
    /// TCPRenoReorder.
    /// </summary>
    private void CheckRenoReordering(int addend)
    {
        int packetsOut = _rtx.Count, lostOut = 0;
        foreach (var t in _rtx) if (t.Lost) lostOut++;
        int holes = Math.Min(Math.Max(lostOut, 1), packetsOut);
        if (_renoSacked + holes <= packetsOut) return;
        _renoSacked = packetsOut - holes;
        _reordering = Math.Min(packetsOut + addend, Recovery.MaxReordering);
        _reordSeen++;
        _mib.Ext.Inc(TcpExtMib.TCPRenoReorder);
    }

    /// <summary><c>tcp_highest_sack_seq</c>: SND.UNA with nothing SACKed, else the end of the highest SACKed segment.</summary>
    private TcpSeq Fack() => HighestSackValid ? _highestSack : SndUna;

    private bool HighestSackValid => _highestSack > SndUna && _highestSack <= SndNxt;

    /// <summary>
    /// <c>tcp_check_sack_reordering</c>: data below the highest SACK was delivered without a retransmission (a hole
    /// filled by the original): reordering. tp->reordering grows to the distance in packets (at most
    /// tcp_max_reordering); counted TCPTSReorder when timestamps proved it, else TCPSACKReorder.
    /// </summary>
    private void CheckSackReordering(TcpSeq lowSeq, TcpSeq fack, bool ts)
    {
        if (lowSeq >= fack) return;
        int mss = Mss;
        int metric = fack - lowSeq;
        if (metric > Reordering * mss && mss > 0)
            _reordering = Math.Min((metric + mss - 1) / mss, Recovery.MaxReordering);
        _reordSeen++;
        _mib.Ext.Inc(ts ? TcpExtMib.TCPTSReorder : TcpExtMib.TCPSACKReorder);
    }

    /// <summary>
    /// <c>tcp_update_rtt_min</c>: the windowed minimum RTT (tcp_min_rtt_wlen 300 s). Samples count in whole
    /// microseconds as Linux's <c>tcp_stamp_us_delta</c>, and a 0 µs sample counts as one jiffy (1 ms at HZ=1000),
    /// so a path faster than the clock does not leave RACK's reordering window (min_rtt/4 per step) at zero.
    /// </summary>
    private void UpdateMinRtt(long rtt, long now)
    {
        rtt = MinRttSample(rtt);
        if (_minRtt == 0 || rtt <= _minRtt || now - _minRttStamp > MinRttWindow)
        {
            _minRtt = rtt;
            _minRttStamp = now;
        }
    }

    /// <summary>The min-RTT filter's sample for an RTT of <paramref name="rtt"/> ticks: µs granularity, 0 µs → one jiffy (<c>rtt_us ? : jiffies_to_usecs(1)</c>).</summary>
    public static long MinRttSample(long rtt)
    {
        long us = rtt / (TimeSpan.TicksPerMillisecond / 1000);
        return us > 0 ? us * (TimeSpan.TicksPerMillisecond / 1000) : Jiffy;
    }

    /// <summary>
    /// <c>tcp_init_undo</c> with the <c>prior_cwnd</c>/<c>prior_ssthresh</c> of <c>tcp_enter_recovery</c> /
    /// <c>tcp_enter_loss</c>: remember what a proven-spurious recovery restores.
    /// </summary>
    private void InitUndo()
    {
        _undoActive = true;
        _undoMarker = SndUna;
        _undoRetrans = -1;
        _priorCwnd = _cwnd.Cwnd;
        // tcp_current_ssthresh outside CWR/Recovery: max(ssthresh, 3/4 cwnd).
        _priorSsthresh = Math.Max(_cwnd.SsThresh, _cwnd.Cwnd / 2 + _cwnd.Cwnd / 4);
    }

    /// <summary>
    /// <c>tcp_try_undo_dsack</c>: every retransmission since the recovery began was reported as a duplicate: the
    /// reduction was spurious, cwnd and ssthresh are restored (<c>tcp_undo_cwnd_reduction</c>; TCPDSACKUndo).
    /// </summary>
    private bool TryUndoDsack()
    {
        if (!_undoActive || _undoRetrans != 0) return false;
        _rackReo.OnDsackUndo();
        UndoCwndReduction(TcpExtMib.TCPDSACKUndo);
        return true;
    }

    /// <summary><c>tcp_undo_cwnd_reduction</c>: cwnd back to at least prior_cwnd, ssthresh to prior_ssthresh; ends the undo episode.</summary>
    private void UndoCwndReduction(TcpExtMib counter)
    {
        _cwnd.Cwnd = Math.Max(_cwnd.Cwnd, _priorCwnd);
        if (_priorSsthresh > _cwnd.SsThresh) _cwnd.SsThresh = _priorSsthresh;
        _undoActive = false;
        _mib.Ext.Inc(counter);
    }

    /// <summary>
    /// <c>tcp_try_undo_partial</c> after <c>tcp_packet_delayed</c> proved the hole was filled by the original: with no
    /// retransmission left in flight the reduction is undone (TCPPartialUndo) and Recovery ends
    /// (<c>tcp_try_keep_open</c>: Disorder while anything is SACKed or was retransmitted, else Open).
    /// </summary>
    private void TryUndoPartial()
    {
        if (!_undoActive) return;
        foreach (var t in _rtx) if (t.Retrans) return; // tp->retrans_out
        UndoCwndReduction(TcpExtMib.TCPPartialUndo);
        bool leftOut = false;
        foreach (var t in _rtx) if (t.Sacked || t.Lost || t.EverRetrans) { leftOut = true; break; }
        CaState = leftOut ? TcpCaState.Disorder : TcpCaState.Open;
        _highSeq = SndNxt;
    }

    // ------------------------------------------------------------ RACK (RFC 8985, tcp_recovery.c)

    private bool RackOn => SackOk && Recovery.Rack;

    /// <summary>
    /// <c>tcp_skb_sent_after</c>: sent later; within one tick (virtual time has many sends per tick, Linux's µs stamps
    /// rarely tie and then compare end sequences) the later transmission.
    /// </summary>
    private static bool SentAfter(long t1, long t2, long order1, long order2) => t1 > t2 || (t1 == t2 && order1 > order2);

    /// <summary>
    /// <c>tcp_rack_advance</c>: a segment was (S)ACKed: RACK's most recently sent delivered segment and its RTT. A
    /// retransmitted segment ACKed faster than min RTT is ambiguous (the original's ACK) and skipped.
    /// </summary>
    private void RackAdvance(TxSeg t, long now)
    {
        long rtt = now - t.SentAt;
        if (t.EverRetrans && rtt < _minRtt) return;
        _rackAdvanced = true;
        _rackRtt = rtt;
        if (SentAfter(t.SentAt, _rackMstamp, t.XmitOrder, _rackXmitOrder))
        {
            _rackMstamp = t.SentAt;
            _rackXmitOrder = t.XmitOrder;
        }
    }

    /// <summary><c>tcp_rack_reo_wnd</c> (<see cref="RackReorderWindow.Window"/>).</summary>
    private long RackReoWindow()
        => RackReorderWindow.Window(_reordSeen, CaState, _reordSeen == 0 ? SackedOut() : 0, Reordering, _minRtt, _rackReo.Steps, Srtt);

    /// <summary>
    /// <c>tcp_rack_detect_loss</c>: an un-SACKed segment sent before the most recently delivered one is lost once
    /// RACK.rtt + reo_wnd has passed since it was sent (a retransmission lost again is counted TCPLostRetransmit).
    /// Returns the longest wait still pending (0 if none).
    /// </summary>
    private long RackDetectLoss(long now)
    {
        long reoWnd = RackReoWindow(), wait = 0;
        foreach (var t in _rtx)
        {
            if (t.Sacked || t.Syn) continue;
            if (t.Lost && !t.Retrans) continue; // marked lost, not yet retransmitted
            if (!SentAfter(_rackMstamp, t.SentAt, _rackXmitOrder, t.XmitOrder)) continue;
            long remaining = _rackRtt + reoWnd - (now - t.SentAt);
            if (remaining <= 0) MarkSkbLost(t);
            else wait = Math.Max(wait, remaining);
        }
        return wait;
    }

    /// <summary><c>tcp_mark_skb_lost</c>.</summary>
    private void MarkSkbLost(TxSeg t)
    {
        if (t.Sacked) return;
        if (t.Lost)
        {
            if (!t.Retrans) return;
            t.Retrans = false;
            _mib.Ext.Inc(TcpExtMib.TCPLostRetransmit);
        }
        else { t.Lost = true; _anyLostOrRetrans = true; }
    }

    /// <summary>
    /// <c>tcp_rack_mark_lost</c>: after a (S)ACK advanced RACK, detect losses; segments still inside the reordering
    /// window arm the REO timer. Returns whether it armed that timer.
    /// </summary>
    private bool RackMarkLost(long now)
    {
        if (!_rackAdvanced) return false;
        _rackAdvanced = false;
        long wait = RackDetectLoss(now);
        if (wait == 0) return false;
        _rtoTimer = now + Math.Min(wait + TimeoutMin, RtoNow);
        _xmitTimer = TcpXmitTimer.ReoTimeout;
        return true;
    }

    /// <summary>
    /// <c>tcp_rack_reo_timeout</c>: the reordering window ran out: mark what is lost by now, enter recovery if
    /// that changed the pipe (from Open/Disorder), retransmit, and re-arm the RTO.
    /// </summary>
    private void RackReoTimeout(long now)
    {
        int prior = PacketsInFlight();
        RackDetectLoss(now);
        if (prior != PacketsInFlight())
        {
            if (CaState is TcpCaState.Open or TcpCaState.Disorder) EnterRecovery();
            Push(now);
        }
        if (_rtoTimer == 0 || _xmitTimer != TcpXmitTimer.Retrans) RearmRto(now);
    }

    /// <summary><c>tcp_rack_update_reo_wnd</c> (<see cref="RackReorderWindow.Update"/>).</summary>
    private void RackUpdateReoWnd(TcpSeq ack) => _rackReo.Update(ack, SndNxt);

    /// <summary>
    /// <c>tcp_schedule_loss_probe</c>: on a SACK connection in Open with data outstanding, the PTO is 2·SRTT plus
    /// tcp_rto_min with one segment out (the peer may delay its ACK) or TCP_TIMEOUT_MIN with more; TCP_TIMEOUT_INIT
    /// without an RTT sample; never later than the RTO.
    /// </summary>
    private bool ScheduleLossProbe(long now, bool advancingRto)
    {
        if (!Recovery.TailLossProbe || _rtx.Count == 0 || !SackOk || CaState != TcpCaState.Open) return false;
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck))
            return false;
        long timeout = Srtt != 0 ? 2 * Srtt + (_rtx.Count == 1 ? _s.RtoMin.Ticks : TimeoutMin) : _s.RtoInitial.Ticks;
        long rtoDelta = advancingRto ? RtoNow : RtoDelta(now);
        if (rtoDelta > 0) timeout = Math.Min(timeout, rtoDelta);
        _rtoTimer = now + Math.Max(timeout, 1);
        _xmitTimer = TcpXmitTimer.LossProbe;
        return true;
    }

    /// <summary>
    /// <c>tcp_send_loss_probe</c>: at most one probe outstanding; new data if the window allows (regardless of cwnd),
    /// else the last segment retransmitted (its last MSS). TcpExt TCPLossProbes; the RTO is re-armed.
    /// </summary>
    private void SendLossProbe(long now)
    {
        bool sent = false;
        if (!_tlpActive)
        {
            _tlpRetrans = false;
            int mssNow = CurrentMss();
            int avail = (_sndBufSeq + _sndBuf.Count) - SndNxt;
            int room = (SndUna + SndWnd) - SndNxt;
            if (avail > 0 && room >= Math.Min(avail, mssNow))
            {
                int len = Math.Min(mssNow, avail);
                SendNew(len, _finQueued && !_finSent && len == avail, now, mssNow);
                sent = true;
            }
            else if (_rtx.Count > 0)
            {
                var last = _rtx[^1];
                if (!last.Syn && last.Len > mssNow) { Fragment(last, last.Len - mssNow); last = _rtx[^1]; }
                RetransmitSeg(last, now);
                _tlpRetrans = true;
                sent = true;
            }
            if (sent)
            {
                _tlpHighSeq = SndNxt;
                _tlpActive = true;
                _mib.Ext.Inc(TcpExtMib.TCPLossProbes);
                _xmitTimer = TcpXmitTimer.Retrans; // restart the RTO from now
                _rtoTimer = 0;
            }
        }
        if (!sent)
        {
            // rearm_timer with the probe still pending: what is left of the head segment's RTO.
            _rtoTimer = now;
            _xmitTimer = TcpXmitTimer.LossProbe;
        }
        RearmRto(now);
    }

    /// <summary>
    /// <c>tcp_process_tlp_ack</c>: an ACK beyond the probe without a D-SACK for it means the probe repaired a loss:
    /// cwnd is reduced once (CWR: cwnd = ssthresh) and TcpExt TCPLossProbeRecovery counted; a D-SACK or a pure
    /// duplicate ACK shows both the original and the probe arrived.
    /// </summary>
    private void ProcessTlpAck(TcpSeq ack, bool dsack, bool unaAdvanced, bool notDup, bool dataSacked)
    {
        if (!_tlpActive || ack < _tlpHighSeq) return;
        if (!_tlpRetrans || dsack) _tlpActive = false;
        else if (ack > _tlpHighSeq)
        {
            _cwnd.SsThresh = _cc.SsThresh(_cwnd);
            _cwnd.Cwnd = _cwnd.SsThresh;
            _cwnd.CwndCnt = 0;
            _tlpActive = false;
            _mib.Ext.Inc(TcpExtMib.TCPLossProbeRecovery);
        }
        else if (!(unaAdvanced || notDup || dataSacked)) _tlpActive = false;
    }

    /// <summary>
    /// <c>tcp_enter_recovery</c>: Recovery with ssthresh from the congestion control, cwnd = ssthresh
    /// (<c>tcp_init_cwnd_reduction</c>, which also ends a TLP episode), the undo state remembered.
    /// </summary>
    private void EnterRecovery()
    {
        _mib.Ext.Inc(SackOk ? TcpExtMib.TCPSackRecovery : TcpExtMib.TCPRenoRecovery);
        InitUndo();
        CaState = TcpCaState.Recovery;
        _highSeq = SndNxt;
        _cwnd.SsThresh = _cc.SsThresh(_cwnd);
        _cwnd.Cwnd = _cwnd.SsThresh;
        _cwnd.CwndCnt = 0;
        _tlpActive = false;
        _forceRetrans = true; // RFC 6675 4.3 / RFC 6582: the first retransmission goes out whatever the pipe
    }
    /// <summary><c>tcp_sacktag_write_queue</c>: marks fully SACKed segments; D-SACK blocks (below the ACK) are counted only.</summary>
    private bool TagSacked(ImmutableArray<SackBlock> blocks, TcpSeq ack, bool dsack, TcpSeq priorFack, long now)
    {
        bool any = false;
        var reord = SndNxt;
        for (int k = dsack ? 1 : 0; k < blocks.Length; k++)
        {
            var b = blocks[k];
            if (b.Right <= b.Left || b.Left < ack) continue;
            if (b.Right > SndNxt) continue; // RFC 2018: blocks beyond what was sent are invalid
            foreach (var t in _rtx)
            {
                if (t.Sacked) continue;
                if (t.Seq >= b.Left && t.End <= b.Right)
                {
                    t.Sacked = true;
                    _anySacked = true;
                    any = true;
                    // tcp_sacktag_one: a never-retransmitted segment SACKed below the highest SACK was reordered.
                    if (!t.EverRetrans && t.Seq < priorFack && t.Seq < reord) reord = t.Seq;
                    if (!HighestSackValid || t.End > _highestSack) _highestSack = t.End;
                    RackAdvance(t, now);
                }
            }
        }
        if (reord < priorFack && CaState != TcpCaState.Loss) CheckSackReordering(reord, Fack(), ts: false);
        return any;
    }

    private int SackedOut()
    {
        if (!SackOk) return _renoSacked;
        if (!_anySacked) return 0;
        int n = 0;
        foreach (var t in _rtx) if (t.Sacked) n++;
        if (n == 0) _anySacked = false;
        return n;
    }

    /// <summary><c>tcp_packets_in_flight</c>: packets_out - (sacked_out + lost_out) + retrans_out (RFC 6675 "pipe").</summary>
    public int PacketsInFlight()
    {
        int n = 0;
        if (!_anySacked && !_anyLostOrRetrans) n = _rtx.Count; // no marks: packets_out (the walk was O(cwnd) per ACK)
        else
        {
            bool marked = false;
            foreach (var t in _rtx)
            {
                if (t.Retrans) n++;
                if (!t.Sacked && !t.Lost) n++;
                marked |= t.Retrans | t.Lost;
            }
            _anyLostOrRetrans = marked;
        }
        if (!SackOk) n -= Math.Min(_renoSacked, n);
        return n;
    }

    /// <summary>
    /// <c>tcp_fastretrans_alert</c> for a dubious ACK: leaves Recovery/Loss when the recovery point is ACKed; with SACK,
    /// losses are marked by RACK (<c>tcp_identify_packet_loss</c>, tcp_recovery 1) and recovery starts once something
    /// is lost (<c>tcp_time_to_recover</c>); without SACK on tp->reordering duplicate ACKs and NewReno partial ACKs
    /// (RFC 6582). D-SACKs proving every retransmission spurious undo the reduction. Returns whether RACK armed its
    /// reordering timer (the caller then leaves the retransmission timer alone).
    /// </summary>
    private bool FastRetransAlert(TcpSeq ack, TcpSeq priorUna, int ackedPkts, long now)
    {
        switch (CaState)
        {
            case TcpCaState.Recovery:
                if (ack >= _highSeq)
                {
                    // Full ACK: leave recovery with cwnd = ssthresh (RFC 6582 3.2 step 3, tcp_end_cwnd_reduction),
                    // unless the reduction was undone — or every retransmission was D-SACKed by now
                    // (tcp_try_undo_recovery with tcp_may_undo: undo_retrans 0 → TCPFullUndo).
                    // A recovery that was not undone counts down the D-SACK-widened reordering window
                    // (tcp_try_undo_recovery: reo_wnd_persist--).
                    if (_undoActive && _undoRetrans == 0) UndoCwndReduction(TcpExtMib.TCPFullUndo);
                    else
                    {
                        if (_undoActive) _cwnd.Cwnd = _cwnd.SsThresh;
                        _rackReo.OnRecoveryNotUndone();
                    }
                    CaState = TcpCaState.Open;
                    DupAcks = 0;
                    _renoSacked = 0;
                    return false;
                }
                if (ack > priorUna && !SackOk && _rtx.Count > 0)
                {
                    // NewReno partial ACK (RFC 6582 3.2 step 4): the new head is lost too.
                    _rtx[0].Lost = true; _anyLostOrRetrans = true;
                    _rtx[0].Retrans = false;
                    _forceRetrans = true;
                }
                if (SackOk)
                {
                    TryUndoDsack();
                    return MarkLost(now);
                }
                return false;
            case TcpCaState.Loss:
                if (ack >= _highSeq)
                {
                    CaState = TcpCaState.Open;
                    DupAcks = 0;
                    _renoSacked = 0;
                    return false;
                }
                return SackOk && MarkLost(now);
        }

        // Open/Disorder: tcp_try_undo_dsack even when nothing is outstanding any more (a late D-SACK).
        if (SackOk) TryUndoDsack();
        if (_rtx.Count == 0) { CaState = TcpCaState.Open; return false; }
        bool reoArmed = false, recover;
        if (SackOk)
        {
            reoArmed = MarkLost(now);
            recover = false;
            foreach (var t in _rtx) if (t.Lost) { recover = true; break; } // tp->lost_out
            if (!RackOn && !recover) recover = SackedAbove(_rtx[0]) >= Reordering;
        }
        else recover = DupAcks >= Reordering;
        if (recover)
        {
            EnterRecovery();
            if (!SackOk || !RackOn) { _rtx[0].Lost = true; _anyLostOrRetrans = true; }
            if (SackOk && !RackOn) MarkLostSack();
        }
        else if (DupAcks > 0 || SackedOut() > 0) CaState = TcpCaState.Disorder;
        else CaState = TcpCaState.Open;
        return reoArmed;
    }

    /// <summary><c>tcp_identify_packet_loss</c> with SACK: RACK (tcp_recovery 1), else the RFC 6675 dup-threshold rule.</summary>
    private bool MarkLost(long now)
    {
        if (RackOn) return RackMarkLost(now);
        MarkLostSack();
        return false;
    }

    private int SackedAbove(TxSeg seg)
    {
        if (!_anySacked) return 0;
        int n = 0;
        foreach (var t in _rtx) if (t.Sacked && t.Seq > seg.Seq) n++;
        return n;
    }

    /// <summary>RFC 6675 IsLost: an un-SACKed segment with DupThresh SACKed segments above it is lost (<c>tcp_mark_head_lost</c>).</summary>
    private void MarkLostSack()
    {
        int above = 0;
        for (int i = _rtx.Count - 1; i >= 0; i--)
        {
            var t = _rtx[i];
            if (t.Sacked) { above++; continue; }
            if (above >= Reordering && !t.Lost) { t.Lost = true; _anyLostOrRetrans = true; }
        }
    }

    /// <summary>
    /// <c>tcp_retransmit_timer</c>: give up after tcp_syn_retries (SYN states) or the tcp_retries2 time
    /// (<c>tcp_write_timeout</c>); else enter Loss (<c>tcp_enter_loss</c>: ssthresh, cwnd 1, all
    /// outstanding marked lost), retransmit the head and back off the RTO.
    /// </summary>
    private void RetransmitTimer(long now)
    {
        if (_rtx.Count == 0) return;
        if (State == TcpState.SynReceived && SynAckTimerByListener)
        {
            // reqsk_timer_handler runs on the listener (its retry limit depends on the SYN queue): ask it.
            Events.Add(new TcpEvent(TcpEventKind.SynAckTimeout));
            return;
        }
        RetransmitTimerCore(now, checkLimit: true);
    }

    /// <summary>
    /// A request sock's SYN-ACK is retransmitted by its listener's timer (<c>reqsk_timer_handler</c>); the child only
    /// reports <see cref="TcpEventKind.SynAckTimeout"/> and waits for <see cref="SynAckVerdict"/>.
    /// </summary>
    public bool SynAckTimerByListener { get; set; }

    /// <summary>
    /// The listener's answer to <see cref="TcpEventKind.SynAckTimeout"/>: <c>syn_ack_recalc</c> said expire
    /// (<c>inet_csk_reqsk_queue_drop</c>: the request goes, no RST) or resend (<c>tcp_rtx_synack</c>, backed-off timer).
    /// Ignored when the handshake completed in between.
    /// </summary>
    public void SynAckVerdict(bool resend, long now)
    {
        if (State != TcpState.SynReceived || _rtx.Count == 0) return;
        if (!resend)
        {
            _mib.Ext.Inc(TcpExtMib.TCPTimeouts); // tcp_syn_ack_timeout runs before syn_ack_recalc's verdict
            Fail(TimeoutError, now);
            return;
        }
        RetransmitTimerCore(now, checkLimit: false);
    }

    private void RetransmitTimerCore(long now, bool checkLimit)
    {
        if (State is TcpState.SynSent or TcpState.SynReceived)
        {
            int limit = State == TcpState.SynSent ? _s.SynRetries : _s.SynAckRetries;
            if (checkLimit && Retransmits >= limit)
            {
                Fail(TimeoutError, now);
                return;
            }
        }
        else if (Retransmits > 0 && now - _retransStamp >= ModelTimeout(_s.Retries2, _s.RtoMin.Ticks))
        {
            _mib.Ext.Inc(TcpExtMib.TCPAbortOnTimeout);
            Abort(TimeoutError, now, sendRst: false);
            return;
        }

        _mib.Ext.Inc(TcpExtMib.TCPTimeouts);
        Timeouts++;
        if (State is not (TcpState.SynSent or TcpState.SynReceived))
        {
            if (CaState is TcpCaState.Open or TcpCaState.Disorder || SndUna == _highSeq || (CaState == TcpCaState.Loss && Retransmits == 0))
            {
                InitUndo(); // tcp_enter_loss: prior_cwnd / prior_ssthresh, tcp_init_undo
                _cwnd.SsThresh = _cc.SsThresh(_cwnd);
            }
            // tcp_enter_loss: a connection that learned reordering falls back to tcp_reordering when it had enough SACKed.
            if (CaState <= TcpCaState.Disorder && SackedOut() >= Reordering) _reordering = Math.Min(Reordering, _s.Reordering);
            _tlpActive = false;
            _cwnd.Cwnd = 1;
            _cwnd.CwndCnt = 0;
            _cc.OnLoss(_cwnd);
            CaState = TcpCaState.Loss;
            _highSeq = SndNxt;
            DupAcks = 0;
            _renoSacked = 0;
            foreach (var t in _rtx)
            {
                t.Retrans = false;
                if (!t.Sacked) { t.Lost = true; _anyLostOrRetrans = true; }
            }
        }
        var head = _rtx[0];
        if (_retransStamp == 0) _retransStamp = head.SentAt;
        RetransmitSeg(head, now);
        Retransmits++;
        _backoff++;
        ArmRto(now);
    }
}
