using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

// Input: tcp_rcv_state_process / tcp_rcv_established, the sequence and PAWS checks, tcp_data_queue with the
// out-of-order queue, the delayed-ACK policy (__tcp_ack_snd_check), tcp_recvmsg and receive-buffer auto-tuning.
public sealed partial class Tcb
{
    private readonly List<OfoSeg> _ofo = new();
    private readonly ByteRing _rcvBuf;
    private int _rcvSpace;          // the receive buffer (SO_RCVBUF / tcp_rmem[1]) windows are offered from
    private int _rcvSsthresh = int.MaxValue; // tp->rcv_ssthresh: the window offered, grown by tcp_grow_window (set by the SYN)

    /// <summary><c>TCP_DEFAULT_SCALING_RATIO</c> (50 %): a new socket's <c>scaling_ratio</c> out of 1 &lt;&lt; <c>TCP_RMEM_TO_WIN_SCALE</c>.</summary>
    private const int TcpDefaultScalingRatio = 1 << (TcpRmemToWinScale - 1);
    private const int TcpRmemToWinScale = 8;

    /// <summary>
    /// <c>tcp_select_initial_window</c> for the SYN or the SYN-ACK: <c>tcp_full_space</c> (the buffer through
    /// <c>tcp_win_from_space</c> at the default <c>scaling_ratio</c>) rounded down to the MSS (less the aligned
    /// timestamp option on a SYN-ACK that has it, as <c>tcp_openreq_init_rwin</c> passes it; a SYN's
    /// <c>ts_recent_stamp</c> is 0), at most 65535 unscaled. With tcp_rmem[1] 131072 and MSS 1460: 64240 in the SYN,
    /// 65160 in the SYN-ACK (measured on 6.18). <c>rcv_ssthresh</c> starts there.
    /// </summary>
    private int InitialWindow(bool synAck)
    {
        int mss = AdvMss - (synAck && TsOk ? TcpConstants.TCPOLEN_TSTAMP_ALIGNED : 0);
        int space = (int)((long)_rcvSpace * TcpDefaultScalingRatio >> TcpRmemToWinScale);
        if (space > mss) space = space / mss * mss;
        int win = Math.Min(Math.Min(space, RcvSpaceFree), TcpConstants.TCP_MAX_UNSCALED_WINDOW);
        _rcvSsthresh = win;
        return win;
    }

    /// <summary>
    /// <c>tcp_grow_window</c> for in-sequence data of at least 128 bytes (<c>tcp_event_data_recv</c>): <c>rcv_ssthresh</c>
    /// grows by max(2·advmss, 2·len), at most to the free space. The receive buffer here holds payload, so its free
    /// space stands for <c>tcp_space</c> at the ratio the data measured (Linux's <c>scaling_ratio</c> follows
    /// len/truesize); the "Check #2" test (the data fits its truesize) always passes.
    /// </summary>
    private void GrowWindow(int len)
    {
        if (len < 128) return;
        int room = RcvSpaceFree - OfoBytes() - _rcvSsthresh;
        if (room <= 0) return;
        int incr = Math.Max(2 * AdvMss, 2 * len);
        _rcvSsthresh += Math.Min(room, incr);
    }
    private int RcvSpaceFree => Math.Max(0, _rcvSpace - _rcvBuf.Count);

    // Receive sequence variables.
    public TcpSeq Irs { get; private set; }
    public TcpSeq RcvNxt { get; private set; }
    private TcpSeq _rcvWup;      // RCV.NXT when the window was last advertised
    public int RcvWnd { get; private set; }
    private bool _finReceived;
    private TcpSeq _lastSackSeq; // start of the last out-of-order segment (first SACK block)

    // Delayed ACK (inet_connection_sock icsk_ack).
    private int _quickAcks;
    private bool _atoInit, _pingpong, _ackPending;
    private int _rcvSinceAck;

    public int ReadableBytes => _rcvBuf.Count;
    public int OfoSegments => _ofo.Count;
    public bool EofReceived => _finReceived;
    // ---------------------------------------------------------------- receive buffer auto-tuning (DRS)

    private bool _rcvBufLocked;      // SO_RCVBUF given: no auto-tuning (SOCK_RCVBUF_LOCK)
    private int _rcvqSpace;          // tp->rcvq_space.space: bytes the application read in the last measured RTT
    private TcpSeq _rcvqSeq;         // tp->rcvq_space.seq: copied_seq at the start of the measurement
    private long _rcvqTime;          // tp->rcvq_space.time (0: not started)
    private long _rcvRtt;            // tp->rcv_rtt_est.rtt: the receiver's RTT estimate (ticks), 0 = none yet
    private TcpSeq _rcvRttSeq;       // tp->rcv_rtt_est.seq
    private long _rcvRttTime;        // tp->rcv_rtt_est.time (0: not started)

    private uint _rcvRttLastTsecr;

    /// <summary>
    /// The receiver's RTT estimate. With timestamps, <c>tcp_rcv_rtt_measure_ts</c>: now − TSecr of a full-sized
    /// segment (at least one timestamp tick, 1 ms), once per TSecr, smoothed with gain 1/8 (<c>tcp_rcv_rtt_update</c>).
    /// Without, <c>tcp_rcv_rtt_measure</c>: the time one receive window of data takes to arrive, keeping the
    /// smallest sample (win_dep).
    /// </summary>
    private void RcvRttMeasure(TcpSegment seg, long now)
    {
        if (TsOk)
        {
            var o = seg.Options;
            if (!o.HasTimestamp || o.TsEcr == 0 || o.TsEcr == _rcvRttLastTsecr || seg.Payload.Length < Mss) return;
            _rcvRttLastTsecr = o.TsEcr;
            int delta = unchecked((int)(TsNow(now) - o.TsEcr));
            if (delta < 0) return;
            long sample = Math.Max(delta, 1) * TimeSpan.TicksPerMillisecond;
            _rcvRtt = _rcvRtt == 0 ? sample : _rcvRtt + (sample - _rcvRtt) / 8;
            return;
        }
        if (_rcvRttTime != 0)
        {
            if (RcvNxt < _rcvRttSeq) return;
            long sample = Math.Max(1, now - _rcvRttTime);
            _rcvRtt = _rcvRtt == 0 ? sample : Math.Min(_rcvRtt, sample);
        }
        _rcvRttSeq = RcvNxt + Math.Max(ReceiveWindow(), 1);
        _rcvRttTime = now;
    }

    /// <summary>
    /// <c>tcp_rcv_space_adjust</c> (dynamic right-sizing), after the application read: once per receiver RTT, when
    /// the application read more than in the previous RTT, the buffer the window is offered from grows to
    /// 2·copied + 16·advmss plus twice the growth, at most tcp_rmem[2] — unless SO_RCVBUF fixed it.
    /// </summary>
    private void RcvSpaceAdjust(long now)
    {
        var copiedSeq = RcvNxt - _rcvBuf.Count;
        if (_rcvqTime == 0) { _rcvqTime = now; _rcvqSeq = copiedSeq; return; }
        if (_rcvRtt == 0 || now - _rcvqTime < _rcvRtt) return;
        int copied = copiedSeq - _rcvqSeq;
        if (copied > _rcvqSpace)
        {
            if (!_rcvBufLocked)
            {
                long rcvwin = 2L * copied + 16L * AdvMss;
                long grow = rcvwin * (copied - _rcvqSpace) / Math.Max(_rcvqSpace, 1);
                rcvwin += 2 * grow;
                int target = (int)Math.Min(rcvwin, _s.RmemMax);
                if (target > _rcvSpace)
                {
                    _rcvSpace = target;
                    _rcvBuf.Limit = _rcvSpace + Math.Max(1 << RcvWscale, _rcvSpace / 8);
                }
            }
            _rcvqSpace = copied;
        }
        _rcvqSeq = copiedSeq;
        _rcvqTime = now;
    }

    // ---------------------------------------------------------------- segment arrival

    /// <summary>
    /// A segment for this connection arrived (already checksum-validated and demultiplexed):
    /// <c>tcp_rcv_state_process</c> / <c>tcp_rcv_established</c>. Returns why it was dropped (<c>SKB_DROP_REASON_*</c>), or <see cref="DropReason.NOT_DROPPED_YET"/>.
    /// Counts Tcp: InSegs.
    /// </summary>
    public DropReason SegmentArrived(TcpSegment seg, long now) => SegmentArrived(seg, now, countIn: true);

    private DropReason SegmentArrived(TcpSegment seg, long now, bool countIn)
    {
        if (countIn) _mib.Tcp.Inc(TcpMib.InSegs);
        var r = Process(seg, now);
        Push(now);
        return r;
    }

    private DropReason Process(TcpSegment seg, long now)
    {
        switch (State)
        {
            case TcpState.Closed:
                if (!seg.Rst) SendResetFor(seg, now);
                return DropReason.TCP_CLOSE;
            case TcpState.Listen:
                return DropReason.TCP_CLOSE; // LISTEN is the listener's (ListenQueue) job
            case TcpState.SynSent:
                return SynSentProcess(seg, now);
        }

        _lastRecv = now;
        // RFC 7323 5.3 PAWS (tcp_paws_discard): an old timestamp on a non-RST segment is a duplicate, unless it is a
        // reordered pure duplicate ACK (tcp_disordered_ack).
        if (TsOk && seg.Options.HasTimestamp && !seg.Rst && PawsDiscard(seg))
        {
            _mib.Ext.Inc(TcpExtMib.PAWSEstabRejected);
            SendDupAckRateLimited(now, TcpExtMib.TCPACKSkippedPAWS);
            return DropReason.TCP_RFC7323_PAWS;
        }

        // Step 1: sequence acceptability (tcp_sequence).
        if (!SequenceAcceptable(seg))
        {
            if (!seg.Rst)
            {
                // tcp_send_dupack for duplicate data (below RCV.NXT: D-SACK); Linux's tcp_oow_rate_limited spares every
                // data segment, here only those, so that blind data beyond the window stays rate limited.
                if (seg.Payload.Length > 0 && !seg.Syn && seg.Seq < RcvNxt) SendDupAck(seg, now);
                else SendDupAckRateLimited(now, TcpExtMib.TCPACKSkippedSeq);
            }
            return seg.EndSeq <= _rcvWup ? DropReason.TCP_OLD_DATA :
                seg.Seq > RcvNxt + ReceiveWindow() ? DropReason.TCP_OVERWINDOW : DropReason.TCP_INVALID_SEQUENCE;
        }

        // Step 2: RST (RFC 5961 3.2): exact match resets, in-window otherwise gets a challenge ACK.
        if (seg.Rst)
        {
            if (seg.Seq == RcvNxt || (State == TcpState.SynReceived && seg.Seq == Irs + 1))
            {
                HandleReset(now);
                return DropReason.TCP_RESET;
            }
            SendChallengeAck(now);
            return DropReason.TCP_RESET;
        }

        // RFC 7323 4.3: remember the timestamp of an in-order segment (tcp_replace_ts_recent).
        if (TsOk && seg.Options.HasTimestamp && seg.Seq <= _rcvWup) _tsRecent = seg.Options.TsVal;

        // Step 4: SYN in a synchronized state (RFC 5961 4.2): challenge ACK. A retransmitted SYN in SYN_RECEIVED gets the SYN-ACK again.
        if (seg.Syn)
        {
            if (State == TcpState.SynReceived && seg.Seq == Irs && !seg.HasAck)
            {
                Emit(SynSegment(ack: true, now), now);
                return DropReason.NOT_DROPPED_YET;
            }
            // tcp_validate_incoming: in a simultaneous open the peer's SYN-ACK completes our SYN_RECEIVED.
            bool simOpen = State == TcpState.SynReceived && _active && seg.HasAck && seg.Seq + 1 == RcvNxt
                           && seg.Payload.Length == 0 && !seg.Fin && seg.Ack == SndNxt;
            if (!simOpen)
            {
                // syn_challenge: tcp_rcv_established validates with syn_inerr = 1, so an ESTABLISHED socket also counts
                // InErrs (found by the differential suite: tcp-rfc5961-syn-on-established-challenge-ack).
                if (State == TcpState.Established) _mib.Tcp.Inc(TcpMib.InErrs);
                _mib.Ext.Inc(TcpExtMib.TCPSYNChallenge);
                SendChallengeAck(now);
                return DropReason.TCP_INVALID_SYN;
            }
            seg = seg with { Seq = seg.Seq + 1, Flags = seg.Flags & ~TcpFlags.Syn };
        }

        // Step 5: no ACK bit: drop.
        if (!seg.HasAck) return DropReason.TCP_FLAGS;

        if (State == TcpState.SynReceived)
        {
            if (!(seg.Ack > SndUna && seg.Ack <= SndNxt))
            {
                SendResetFor(seg, now);
                return DropReason.TCP_INVALID_ACK_SEQUENCE;
            }
            EnterEstablished(now);
            SndWnd = seg.Window << SndWscale;
            MaxSndWnd = Math.Max(MaxSndWnd, SndWnd);
            _sndWl1 = seg.Seq;
            _sndWl2 = seg.Ack;
        }

        var ackResult = ProcessAck(seg, now);
        if (ackResult is DropReason.TCP_TOO_OLD_ACK or DropReason.TCP_ACK_UNSENT_DATA) return ackResult;
        if (State == TcpState.Closed) return DropReason.NOT_DROPPED_YET;

        // State transitions on our FIN being ACKed.
        bool finAcked = _finSent && SndUna == SndNxt;
        switch (State)
        {
            case TcpState.FinWait1 when finAcked:
                SetState(TcpState.FinWait2);
                if (_userClosed) _finWait2Timer = now + _s.FinTimeout.Ticks;
                break;
            case TcpState.Closing when finAcked:
                EnterTimeWait(now);
                return DropReason.NOT_DROPPED_YET;
            case TcpState.LastAck when finAcked:
                Done(now);
                return DropReason.NOT_DROPPED_YET;
            case TcpState.TimeWait:
                if (seg.Fin)
                {
                    SendAck(now);
                    _timeWaitTimer = now + _s.TimeWait.Ticks; // RFC 9293: restart the 2 MSL timeout
                }
                return DropReason.NOT_DROPPED_YET;
        }

        // Step 7: segment text.
        int len = seg.Payload.Length;
        if (len > 0 || seg.Fin)
        {
            if (State is TcpState.CloseWait or TcpState.Closing or TcpState.LastAck)
            {
                // The peer already sent its FIN: anything more is a duplicate (ACK it).
                if (seg.EndSeq > RcvNxt) return DropReason.TCP_CLOSE;
                SendAck(now);
                return DropReason.TCP_OLD_DATA;
            }
            if (_userClosed && len > 0 && seg.Seq + len > RcvNxt)
            {
                // tcp_rcv_state_process: data after close() → RST (TCPAbortOnData).
                _mib.Ext.Inc(TcpExtMib.TCPAbortOnData);
                SendReset(SndNxt, now);
                Abort(Errno.ECONNRESET, now, sendRst: false);
                return DropReason.TCP_ABORT_ON_DATA;
            }
            return DataQueue(seg, now);
        }
        return DropReason.NOT_DROPPED_YET;
    }

    private DropReason SynSentProcess(TcpSegment seg, long now)
    {
        // RFC 9293 3.10.7.3.
        bool ackOk = false;
        if (seg.HasAck)
        {
            if (seg.Ack <= Iss || seg.Ack > SndNxt)
            {
                if (!seg.Rst) SendReset(seg.Ack, now);
                return DropReason.TCP_INVALID_ACK_SEQUENCE;
            }
            ackOk = true;
        }
        if (seg.Rst)
        {
            if (!ackOk) return DropReason.TCP_RESET;
            Fail(Errno.ECONNREFUSED, now);
            return DropReason.TCP_RESET;
        }
        if (!seg.Syn) return DropReason.TCP_FLAGS;
        if (seg.Fin) return DropReason.TCP_FLAGS;
        _lastRecv = now;
        Irs = seg.Seq;
        RcvNxt = _rcvWup = seg.Seq + 1;
        TakeSynOptions(seg);
        if (ackOk)
        {
            // tcp_rcv_synsent_state_process: our SYN is ACKed, the window is the SYN-ACK's (unscaled).
            SndWnd = seg.Window;
            MaxSndWnd = SndWnd;
            _sndWl1 = seg.Seq;
            _sndWl2 = seg.Ack;
            CleanRtxQueue(seg, now, out _);
            EnterEstablished(now);
            SendAck(now);
            return DropReason.NOT_DROPPED_YET;
        }
        // Simultaneous open (RFC 9293 3.5 figure 8): SYN_SENT → SYN_RECEIVED, answer with SYN-ACK.
        SetState(TcpState.SynReceived);
        SndWnd = seg.Window;
        MaxSndWnd = SndWnd;
        _sndWl1 = seg.Seq;
        _sndWl2 = Iss;
        Emit(SynSegment(ack: true, now), now);
        return DropReason.NOT_DROPPED_YET;
    }

    /// <summary>
    /// <c>tcp_paws_discard</c>: the timestamp is older than TS.Recent by more than TCP_PAWS_WINDOW (1) and the segment is
    /// not a disordered ACK (<c>tcp_disordered_ack</c>: a pure duplicate ACK at RCV.NXT for SND.UNA that does not update
    /// the window, with a timestamp within one RTO of TS.Recent — RFC 7323 5.3's note on reordered ACKs).
    /// </summary>
    private bool PawsDiscard(TcpSegment seg)
    {
        if (unchecked((int)(_tsRecent - seg.Options.TsVal)) <= PawsWindow) return false; // tcp_paws_check
        bool disordered = seg.HasAck && seg.SeqLength == 0 && seg.Seq == RcvNxt && seg.Ack == SndUna
            && !MayUpdateWindow(seg.Ack, seg.Seq, seg.Window << SndWscale)
            && unchecked((int)(_tsRecent - seg.Options.TsVal)) <= Rto / TimeSpan.TicksPerMillisecond * 1024 / 1000;
        return !disordered;
    }

    /// <summary>TCP_PAWS_WINDOW: a timestamp this much older than TS.Recent still passes PAWS.</summary>
    private const int PawsWindow = 1;

    /// <summary>
    /// <c>tcp_may_update_window</c>: an ACK that advances SND.UNA always carries the peer's current window; else the
    /// RFC 9293 3.10.7.4 rule, where an equal SEG.SEQ updates only to a larger or a zero window as Linux does.
    /// </summary>
    private bool MayUpdateWindow(TcpSeq ack, TcpSeq seq, int segWnd)
        => ack > SndUna || _sndWl1 < seq || (_sndWl1 == seq && (segWnd > SndWnd || segWnd == 0 || _sndWl2 < ack));

    /// <summary><c>tcp_sequence</c>: the segment overlaps the window (RFC 9293 3.10.7.4 table).</summary>
    private bool SequenceAcceptable(TcpSegment seg)
    {
        int wnd = ReceiveWindow();
        // Linux: !before(end_seq, rcv_wup) && !after(seq, rcv_nxt + window)
        return seg.EndSeq >= _rcvWup && seg.Seq <= RcvNxt + wnd;
    }

    /// <summary><c>tcp_receive_window</c>: what is left of the last advertised window.</summary>
    private int ReceiveWindow() => Math.Max(0, (_rcvWup + RcvWnd) - RcvNxt);

    private void HandleReset(long now)
    {
        // tcp_reset: the errno depends on the state.
        Errno e = State switch
        {
            TcpState.SynSent or TcpState.SynReceived => Errno.ECONNREFUSED,
            TcpState.CloseWait => Errno.EPIPE,
            TcpState.Closing or TcpState.LastAck or TcpState.TimeWait => Errno.OK,
            _ => Errno.ECONNRESET,
        };
        if (e == Errno.OK) Done(now);
        else Fail(e, now);
    }

    // ---------------------------------------------------------------- receive data

    /// <summary><c>tcp_data_queue</c>: in-order data to the receive queue, out-of-order into the OFO queue, FIN processing, ACK scheduling.</summary>
    private DropReason DataQueue(TcpSegment seg, long now)
    {
        var payload = seg.Payload.Span;
        var seq = seg.Seq;
        // Trim to the window (tcp_sequence accepted an overlap): bytes already received, and bytes beyond the window.
        var windowEnd = RcvNxt + Math.Max(ReceiveWindow(), 0);
        bool fin = seg.Fin;
        var end = seq + payload.Length;
        if (end > windowEnd)
        {
            int over = end - windowEnd;
            payload = payload[..Math.Max(0, payload.Length - over)];
            fin = false;
            end = seq + payload.Length;
        }

        if (ReceiveWindow() == 0 && seq == RcvNxt && seg.Payload.Length > 0)
        {
            _mib.Ext.Inc(TcpExtMib.TCPZeroWindowDrop);
            SendAck(now);
            return DropReason.TCP_ZEROWINDOW;
        }
        if (seq <= RcvNxt)
        {
            int skip = RcvNxt - seq;
            if (skip > payload.Length || (skip == payload.Length && !fin))
            {
                // Entirely old: a duplicate (RFC 9293: send an ACK), reported by D-SACK (tcp_data_queue → tcp_dsack_set).
                _mib.Ext.Inc(TcpExtMib.DelayedACKLost);
                DsackSet(seq, seq + seg.Payload.Length);
                SendAck(now);
                return DropReason.TCP_OLD_DATA;
            }
            var fresh = payload[skip..];
            if (skip > 0) DsackSet(seq, RcvNxt); // partial packet, seq < rcv_nxt < end_seq
            if (fresh.Length > _rcvBuf.Free)
            {
                _mib.Ext.Inc(TcpExtMib.TCPRcvQDrop);
                SendAck(now);
                return DropReason.SOCKET_RCVBUFF;
            }
            _rcvBuf.Append(fresh);
            RcvNxt += fresh.Length;
            GrowWindow(fresh.Length);
            RcvRttMeasure(seg, now);
            bool hadOfo = _ofo.Count > 0;
            if (fin) ReceiveFin(now);
            else OfoDrain(now);
            if (fresh.Length > 0) Events.Add(new TcpEvent(TcpEventKind.Readable));
            DataReceivedAckPolicy(fresh.Length, hadOfo, now);
            return DropReason.NOT_DROPPED_YET;
        }

        // Out of order (tcp_data_queue_ofo).
        if (_ofo.Count >= _s.MaxOfoSegments || payload.Length > _rcvBuf.Free - OfoBytes())
        {
            _mib.Ext.Inc(TcpExtMib.TCPOFODrop);
            SendAck(now);
            return DropReason.TCP_OFO_DROP;
        }
        _mib.Ext.Inc(TcpExtMib.TCPOFOQueue);
        var ns = new OfoSeg { Seq = seq, Data = payload.ToArray(), Fin = fin };
        int pos = 0;
        while (pos < _ofo.Count && _ofo[pos].Seq < seq) pos++;
        // Drop a segment wholly covered by one already queued (TCPOFOMerge).
        foreach (var o in _ofo)
            if (o.Seq <= seq && o.End >= ns.End)
            {
                _mib.Ext.Inc(TcpExtMib.TCPOFOMerge);
                DsackSet(seq, ns.End);
                SendAck(now);
                return DropReason.TCP_OFOMERGE;
            }
        _ofo.Insert(pos, ns);
        _lastSackSeq = seq;
        SendAck(now); // out-of-order data is ACKed at once, with SACK blocks (tcp_data_queue_ofo → quick ACK)
        return DropReason.NOT_DROPPED_YET;
    }

    private int OfoBytes()
    {
        int n = 0;
        foreach (var o in _ofo) n += o.Data.Length;
        return n;
    }

    /// <summary><c>tcp_ofo_queue</c>: moves OFO segments that now start at or below RCV.NXT to the receive queue.</summary>
    private void OfoDrain(long now)
    {
        while (_ofo.Count > 0 && _ofo[0].Seq <= RcvNxt)
        {
            var o = _ofo[0];
            _ofo.RemoveAt(0);
            int skip = RcvNxt - o.Seq;
            if (skip > o.Data.Length) continue;
            var fresh = o.Data.AsSpan(skip);
            int n = _rcvBuf.Append(fresh);
            RcvNxt += n;
            if (o.Fin && n == fresh.Length) { ReceiveFin(now); return; }
        }
    }

    /// <summary><c>tcp_fin</c>: the peer's FIN consumed at RCV.NXT.</summary>
    private void ReceiveFin(long now)
    {
        RcvNxt += 1;
        _finReceived = true;
        _ofo.Clear(); // tcp_fin: "It _is_ possible, that we have something out-of-order _after_ FIN" → purged
        Events.Add(new TcpEvent(TcpEventKind.Eof));
        switch (State)
        {
            case TcpState.SynReceived:
            case TcpState.Established:
                SetState(TcpState.CloseWait);
                break;
            case TcpState.FinWait1:
                // Simultaneous close (RFC 9293 figure 13): our FIN not yet ACKed → CLOSING.
                SetState(TcpState.Closing);
                break;
            case TcpState.FinWait2:
                SendAck(now);
                EnterTimeWait(now);
                return;
        }
        SendAck(now);
    }

    /// <summary><c>__tcp_ack_snd_check</c>: ACK now (quick-ack mode, two full segments, a filled hole) or arm the delayed-ACK timer.</summary>
    private void DataReceivedAckPolicy(int bytes, bool hadOfo, long now)
    {
        if (bytes == 0) return;
        if (!_atoInit)
        {
            // tcp_event_data_recv: first data starts quick-ack mode (tcp_incr_quickack).
            _atoInit = true;
            _quickAcks = Math.Clamp(RcvWnd / (2 * Math.Max(Mss, 1)), 2, _s.MaxQuickAcks);
        }
        _rcvSinceAck += bytes;
        _ackPending = true;
        if (hadOfo || (_quickAcks > 0 && !_pingpong) || _rcvSinceAck > Mss)
        {
            if (_quickAcks > 0 && !_pingpong) _quickAcks--;
            SendAck(now);
            return;
        }
        if (_delackTimer == 0) _delackTimer = now + _s.DelayedAckMin.Ticks;
    }

    /// <summary>
    /// <c>tcp_recvmsg</c>: copies queued in-order bytes. Returns the count; 0 means EOF when
    /// <see cref="EofReceived"/> (else nothing yet: EAGAIN); -1 with the socket error after a reset.
    /// Freed space may open the window (<c>tcp_cleanup_rbuf</c> sends a window update).
    /// </summary>
    public int Receive(Span<byte> dest, long now, bool peek, out Errno err)
    {
        err = Errno.OK;
        int n = Math.Min(dest.Length, _rcvBuf.Count);
        if (n == 0)
        {
            if (_finReceived) return 0;
            if (Error != Errno.OK) { err = Error; return -1; }
            err = Errno.EAGAIN;
            return 0;
        }
        _rcvBuf.CopyTo(0, dest[..n]);
        if (peek) return n;
        _rcvBuf.Discard(n);
        RcvSpaceAdjust(now);
        if (State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
        {
            int now_ = ReceiveWindow();
            int possible = SelectWindowRaw();
            if (possible >= 2 * now_ && possible >= Mss || (now_ == 0 && possible >= Mss)) SendAck(now);
        }
        return n;
    }
}
