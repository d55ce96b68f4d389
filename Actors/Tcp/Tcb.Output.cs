using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

// Output: tcp_sendmsg, tcp_write_xmit / tcp_transmit_skb, tcp_xmit_retransmit_queue, tcp_fragment, the ACK and RST
// senders, SACK blocks and window selection (tcp_select_window), TCP small queues and send-buffer growth.
public sealed partial class Tcb
{
    private readonly SegQueue<TxSeg> _rtx = new();
    private readonly ByteRing _sndBuf;
    // RFC 9293 send sequence variables.
    public TcpSeq Iss { get; }
    public TcpSeq SndUna { get; private set; }
    public TcpSeq SndNxt { get; private set; }
    public int SndWnd { get; private set; }
    private TcpSeq _sndWl1, _sndWl2;
    public int MaxSndWnd { get; private set; }
    private TcpSeq _sndBufSeq;   // sequence number of the first byte in _sndBuf
    private TcpSeq _sndSml;      // end of the last sub-MSS segment sent (Minshall's Nagle)
    private bool _finQueued, _finSent;

    public int SendQueueBytes => _sndBuf.Count;
    public int SendBufferFree => _sndBuf.Free;

    /// <summary>
    /// <c>sk_wmem_alloc</c> for TCP small queues: the truesize of this connection's packets still in the host's
    /// qdisc and device queues (the socket actor adds what it sends and subtracts each TX completion's WmemFree).
    /// </summary>
    public long HostQueuedBytes { get; set; }

    /// <summary>
    /// <c>tcp_small_queue_check</c>'s limit: max(two full GSO packets, ~1 ms at the pacing rate
    /// (<c>sk_pacing_rate &gt;&gt; sk_pacing_shift</c> 10; pacing rate 200% of cwnd·mss/srtt in slow start, else 120%)),
    /// at most net.ipv4.tcp_limit_output_bytes.
    /// </summary>
    public long TsqLimit()
    {
        long pct = _cwnd.InSlowStart ? 200 : 120; // net.ipv4.tcp_pacing_ss_ratio / tcp_pacing_ca_ratio
        long rate = Srtt > 0 ? pct * Mss * _cwnd.Cwnd * TimeSpan.TicksPerSecond / (100 * Srtt) : 0;
        return Math.Min(Math.Max(2L * SkbTruesizeGso, rate >> 10), _s.LimitOutputBytes);
    }

    private const int SkbTruesizeGso = 65536 + 576;

    /// <summary>TSQ_THROTTLED: new data waits for a TX completion (<c>tcp_wfree</c> only then schedules the handler).</summary>
    public bool TsqThrottled { get; private set; }

    /// <summary><c>tcp_tsq_handler</c> → <c>tcp_write_xmit</c>: sends what TCP small queues held back.</summary>
    public void XmitPending(long now)
    {
        TsqThrottled = false;
        Push(now);
    }

    /// <summary>
    /// <c>tcp_new_space</c> → <c>tcp_should_expand_sndbuf</c> / <c>tcp_sndbuf_expand</c>: unless SO_SNDBUF fixed it,
    /// the send buffer grows to hold twice max(TCP_INIT_CWND, cwnd, reordering + 1) segments, at most tcp_wmem[2];
    /// not while the congestion window is full. Linux counts truesize (a 4 KiB slot per MSS); this queue counts
    /// payload, so the bound is in MSS-sized payloads: the same number of segments.
    /// </summary>
    private void SndBufExpand()
    {
        if (_sndBufLocked) return;
        int nrSegs = Math.Max(_s.InitialCwnd, Math.Max(_cwnd.Cwnd, Reordering + 1));
        long sndmem = Math.Min(2L * nrSegs * Math.Max(Mss, TcpConstants.TCP_MSS_DEFAULT), _s.WmemMax);
        if (_sndBuf.Limit >= sndmem) return;
        if (PacketsInFlight() >= _cwnd.Cwnd) return;
        _sndBuf.Limit = (int)sndmem;
    }

    public int SendBufferLimit => _sndBuf.Limit;
    public int ReceiveBufferLimit => _rcvSpace;
    // ---------------------------------------------------------------- user calls

    /// <summary>
    /// <c>tcp_sendmsg</c>: queues as many bytes as the send buffer holds and transmits what the
    /// windows allow. Returns the bytes taken (0 = buffer full, the caller blocks or returns EAGAIN)
    /// or -1 with <paramref name="err"/> set (EPIPE after shutdown, ENOTCONN, the pending socket error).
    /// </summary>
    public int Send(ReadOnlySpan<byte> data, long now, out Errno err)
    {
        err = Errno.OK;
        if (Error != Errno.OK) { err = Error; return -1; }
        if (_wrShutdown) { err = Errno.EPIPE; return -1; }
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.SynSent or TcpState.SynReceived))
        {
            err = State == TcpState.Closed ? Errno.ENOTCONN : Errno.EPIPE;
            return -1;
        }
        int n = _sndBuf.Append(data);
        if (State is TcpState.Established or TcpState.CloseWait) Push(now);
        return n;
    }
    // ---------------------------------------------------------------- output

    /// <summary>
    /// <c>tcp_write_xmit</c>: retransmits lost segments in recovery, then sends new data as cwnd,
    /// the peer's window, Nagle (Minshall variant, TCP_NODELAY) and sender SWS avoidance allow;
    /// then the FIN; arms the persist timer when the window blocks with nothing in flight.
    /// </summary>
    private void Push(long now)
    {
        if (State is TcpState.Closed or TcpState.Listen or TcpState.SynSent or TcpState.SynReceived or TcpState.TimeWait) return;

        int inFlight = PacketsInFlight();
        if (CaState is TcpCaState.Recovery or TcpCaState.Loss) RetransmitLost(ref inFlight, now);
        int mssNow = CurrentMss();
        bool sentNew = false;

        while (true)
        {
            int avail = (_sndBufSeq + _sndBuf.Count) - SndNxt;
            bool finPending = _finQueued && !_finSent;
            if (avail <= 0 && !finPending) break;
            if (inFlight >= _cwnd.Cwnd) break;
            if (HostQueuedBytes > TsqLimit()) { TsqThrottled = true; break; } // tcp_small_queue_check: resumed by tcp_tsq_handler
            int room = (SndUna + SndWnd) - SndNxt;
            int len = Math.Min(Math.Min(mssNow, avail), Math.Max(room, 0));
            bool fin = finPending && len == avail;
            if (len <= 0 && !(fin && room > 0))
            {
                if (_rtx.Count == 0 && _probeTimer == 0) ArmProbe(now);
                break;
            }
            if (len < mssNow && len < avail)
            {
                // Window-limited sub-MSS segment: sender SWS avoidance (RFC 9293 3.8.6.2.1) — only if at
                // least half the largest window seen; otherwise wait for the window or the persist timer.
                if (len < MaxSndWnd / 2)
                {
                    if (_rtx.Count == 0 && _probeTimer == 0) ArmProbe(now);
                    break;
                }
            }
            else if (len < mssNow && !fin && (Cork || !NoDelay && _rtx.Count > 0 && _sndSml > SndUna))
            {
                break; // tcp_nagle_check: corked, or (Minshall) a small segment is still unacknowledged
            }
            SendNew(len, fin, now, mssNow);
            inFlight++;
            sentNew = true;
        }
        if (sentNew) ScheduleLossProbe(now, advancingRto: false); // tcp_write_xmit: one loss probe per tail
    }

    private void SendNew(int len, bool fin, long now, int mssNow)
    {
        var t = new TxSeg { Seq = SndNxt, Len = len, Fin = fin, SentAt = now };
        _rtx.Add(t);
        if (len < mssNow) _sndSml = t.End;
        SndNxt = t.End;
        if (fin) _finSent = true;
        _mib.Ext.Inc(TcpExtMib.TCPOrigDataSent);
        EmitData(t, now);
        // tcp_event_new_data_sent: the first segment out, or one sent while a loss probe is pending, (re)arms the RTO.
        if (_rtoTimer == 0 || _xmitTimer == TcpXmitTimer.LossProbe) RearmRto(now);
        // tcp_event_data_sent: a reply within ato of the last received data → interactive (pingpong).
        if (len > 0 && _lastRecv != 0 && now - _lastRecv < _s.DelayedAckMin.Ticks) _pingpong = true;
    }

    /// <summary><c>tcp_xmit_retransmit_queue</c>: lost, not yet retransmitted segments while pipe &lt; cwnd.</summary>
    private void RetransmitLost(ref int inFlight, long now)
    {
        for (int i = 0; i < _rtx.Count; i++)
        {
            var t = _rtx[i];
            if (!t.Lost || t.Retrans || t.Sacked) continue;
            if (!_forceRetrans && inFlight >= _cwnd.Cwnd) break;
            _forceRetrans = false;
            RetransmitSeg(t, now);
            inFlight++;
            if (CaState == TcpCaState.Recovery) { _mib.Ext.Inc(TcpExtMib.TCPFastRetrans); FastRetransmits++; }
            else _mib.Ext.Inc(TcpExtMib.TCPSlowStartRetrans);
        }
    }

    private void RetransmitSeg(TxSeg t, long now)
    {
        if (!t.Syn && t.Len > CurrentMss()) Fragment(t, CurrentMss());
        t.Retrans = true; _anyLostOrRetrans = true;
        t.EverRetrans = true;
        t.SentAt = now;
        if (_undoActive) _undoRetrans = Math.Max(_undoRetrans, 0) + 1; // tp->undo_retrans
        if (_retransStamp == 0) _retransStamp = now;
        _mib.Tcp.Inc(TcpMib.RetransSegs);
        SegmentsRetransmitted++;
        _retransmitting = true;
        if (t.Syn)
        {
            _mib.Ext.Inc(TcpExtMib.TCPSynRetrans);
            Emit(SynSegment(ack: State == TcpState.SynReceived, now), now);
        }
        else EmitData(t, now);
        _retransmitting = false;
    }

    /// <summary>
    /// A segment being emitted is a retransmission (<see cref="RetransmitSeg"/>): <c>tcp_transmit_skb</c> counts
    /// <c>Tcp: OutSegs</c> only for a segment that advances <c>snd_nxt</c> or has no sequence space, never for
    /// retransmitted octets (RFC 1213 tcpOutSegs; found by the differential case tcp-time-wait-after-victim-closes
    /// when its tester answered late and both victims retransmitted).
    /// </summary>
    private bool _retransmitting;

    /// <summary>
    /// <c>tcp_fragment</c>: cuts <paramref name="t"/> to <paramref name="mss"/> payload bytes; the rest becomes the
    /// next queued segment with the same marks (a smaller MSS after a PMTU drop, or room taken by SACK blocks).
    /// </summary>
    private void Fragment(TxSeg t, int mss)
    {
        int i = _rtx.IndexOf(t);
        var rest = new TxSeg
        {
            Seq = t.Seq + mss, Len = t.Len - mss, Fin = t.Fin, SentAt = t.SentAt, Retrans = t.Retrans, EverRetrans = t.EverRetrans,
            Sacked = t.Sacked, Lost = t.Lost, XmitOrder = t.XmitOrder, // a copied Sacked mark: _anySacked is already set
        };
        t.Len = mss;
        t.Fin = false;
        _rtx.Insert(i + 1, rest);
    }

    /// <summary>
    /// Outbox data segments may carry their payload as a slice of the send queue instead of a copy (the socket actor
    /// serializes the outbox before its message ends). Such a payload stays valid until those bytes are ACKed.
    /// </summary>
    public bool AliasSendQueue { get; set; }

    private void EmitData(TxSeg t, long now)
    {
        t.XmitOrder = ++_xmitCount;
        ReadOnlyMemory<byte> data = ReadOnlyMemory<byte>.Empty;
        if (t.Len > 0 && !(AliasSendQueue && _sndBuf.TryGetContiguous(t.Seq - _sndBufSeq, t.Len, out data)))
        {
            var copy = GC.AllocateUninitializedArray<byte>(t.Len);
            _sndBuf.CopyTo(t.Seq - _sndBufSeq, copy);
            data = copy;
        }
        var flags = TcpFlags.Ack | (t.Fin ? TcpFlags.Fin : 0);
        if (t.Len > 0 && t.End - (t.Fin ? 1 : 0) == _sndBufSeq + _sndBuf.Count) flags |= TcpFlags.Psh;
        Emit(Segment(t.Seq, flags, data, now), now);
    }

    private TcpSegment Segment(TcpSeq seq, TcpFlags flags, ReadOnlyMemory<byte> payload, long now)
    {
        var opts = default(TcpOptions);
        if (TsOk) opts = opts with { HasTimestamp = true, TsVal = TsNow(now), TsEcr = _tsRecent };
        if (SackOk && (_ofo.Count > 0 || _dsackPending) && (flags & TcpFlags.Ack) != 0) opts = opts with { Sack = TakeSackBlocks() };
        ushort win = 0;
        if ((flags & TcpFlags.Ack) != 0) win = SelectWindow();
        return new TcpSegment
        {
            SourcePort = LocalPort, DestinationPort = RemotePort, Seq = seq,
            Ack = (flags & TcpFlags.Ack) != 0 ? RcvNxt : default, Flags = flags, Window = win, Options = opts, Payload = payload,
        };
    }

    private void Emit(TcpSegment seg, long now)
    {
        Outbox.Add(seg);
        if (!_retransmitting) _mib.Tcp.Inc(TcpMib.OutSegs);
        if (seg.Rst) _mib.Tcp.Inc(TcpMib.OutRsts);
        if (seg.HasAck)
        {
            // Any segment carrying the current ACK clears the pending delayed ACK (tcp_event_ack_sent).
            _delackTimer = 0;
            _ackPending = false;
            _rcvSinceAck = 0;
        }
    }

    /// <summary><c>tcp_send_ack</c>.</summary>
    private void SendAck(long now)
    {
        if (State is TcpState.Closed or TcpState.SynSent or TcpState.Listen) return;
        Emit(Segment(SndNxt, TcpFlags.Ack, default, now), now);
    }

    /// <summary>RFC 5961 challenge ACK (<c>tcp_send_challenge_ack</c>; Linux's global limit is off by default since 6.0).</summary>
    private void SendChallengeAck(long now)
    {
        // tcp_send_challenge_ack first checks the per-socket limit (__tcp_oow_rate_limited, tcp_invalid_ratelimit).
        if (_lastOowAck != 0 && now - _lastOowAck < _s.InvalidRateLimit.Ticks)
        {
            _mib.Ext.Inc(TcpExtMib.TCPACKSkippedChallenge);
            return;
        }
        _lastOowAck = now;
        _mib.Ext.Inc(TcpExtMib.TCPChallengeACK);
        SendAck(now);
    }

    /// <summary>Duplicate ACK for an unacceptable segment, at most one per tcp_invalid_ratelimit (<c>tcp_oow_rate_limited</c>).</summary>
    private void SendDupAckRateLimited(long now, TcpExtMib skipped)
    {
        if (_lastOowAck != 0 && now - _lastOowAck < _s.InvalidRateLimit.Ticks)
        {
            _mib.Ext.Inc(skipped);
            return;
        }
        _lastOowAck = now;
        SendAck(now);
    }

    private void SendReset(TcpSeq seq, long now)
    {
        Emit(new TcpSegment
        {
            SourcePort = LocalPort, DestinationPort = RemotePort, Seq = seq, Ack = RcvNxt, Flags = TcpFlags.Rst | TcpFlags.Ack,
        }, now);
    }

    /// <summary>RST in answer to <paramref name="seg"/> (RFC 9293 3.10.7.1 / <c>tcp_v4_send_reset</c>), queued on the outbox.</summary>
    private void SendResetFor(TcpSegment seg, long now)
    {
        var r = ResetFor(seg, LocalPort);
        if (r is not null) Emit(r, now);
    }

    /// <summary>
    /// The RST that answers a segment for which there is no connection (<c>tcp_v4_send_reset</c>):
    /// with ACK set: &lt;SEQ=SEG.ACK&gt;&lt;CTL=RST&gt;; else &lt;SEQ=0&gt;&lt;ACK=SEG.SEQ+SEG.LEN&gt;&lt;CTL=RST,ACK&gt;.
    /// Null for a RST (never answered).
    /// </summary>
    public static TcpSegment? ResetFor(TcpSegment seg, ushort localPort)
    {
        if (seg.Rst) return null;
        return seg.HasAck
            ? new TcpSegment { SourcePort = localPort, DestinationPort = seg.SourcePort, Seq = seg.Ack, Flags = TcpFlags.Rst }
            : new TcpSegment
            {
                SourcePort = localPort, DestinationPort = seg.SourcePort, Seq = default, Ack = seg.Seq + seg.SeqLength,
                Flags = TcpFlags.Rst | TcpFlags.Ack,
            };
    }

    /// <summary>How many SACK blocks the next ACK carries (what <see cref="SackBlocks"/> returns, without building them).</summary>
    private int SackBlockCount()
    {
        if (!SackOk || (_ofo.Count == 0 && !_dsackPending)) return 0;
        int max = TsOk ? 3 : 4, n = _dsackPending ? 1 : 0;
        if (n >= max) return max;
        TcpSeq right = default;
        foreach (var o in _ofo)
        {
            var e = o.Seq + o.Data.Length;
            if (n > 0 && o.Seq <= right) { if (e > right) right = e; }
            else
            {
                if (++n >= max) return max;
                right = e;
            }
        }
        return n;
    }

    private ImmutableArray<SackBlock> SackBlocks()
    {
        // RFC 2018 4: the first block holds the most recently received segment; at most 3 with timestamps.
        var ranges = new List<SackBlock>();
        foreach (var o in _ofo)
        {
            var e = o.Seq + o.Data.Length;
            if (ranges.Count > 0 && o.Seq <= ranges[^1].Right)
            {
                if (e > ranges[^1].Right) ranges[^1] = ranges[^1] with { Right = e };
            }
            else ranges.Add(new SackBlock(o.Seq, e));
        }
        int max = TsOk ? 3 : 4;
        var b = ImmutableArray.CreateBuilder<SackBlock>(Math.Min(max, ranges.Count));
        int first = ranges.FindIndex(r => _lastSackSeq >= r.Left && _lastSackSeq < r.Right);
        if (first >= 0) b.Add(ranges[first]);
        for (int i = 0; i < ranges.Count && b.Count < max; i++)
            if (i != first) b.Add(ranges[i]);
        return b.ToImmutable();
    }

    /// <summary>
    /// <c>__tcp_select_window</c>: free receive buffer space, 0 below min(mss, buffer/16) when the buffer
    /// is more than half full (receiver SWS avoidance), at most <c>rcv_ssthresh</c>; with a window scale the
    /// result is rounded up to it (<c>ALIGN(window, 1 &lt;&lt; rcv_wscale)</c>, "so that it won't get scaled away"):
    /// the handshake's ACK offers ALIGN(64240, 128) = 64256 (field 502), as Linux 6.18 does.
    /// </summary>
    private int SelectWindowRaw()
    {
        int full = _rcvSpace;
        int free = RcvSpaceFree - OfoBytes();
        if (free < full / 2)
        {
            free = free >> RcvWscale << RcvWscale;
            if (free < full / 16 || free < Mss) return 0;
        }
        if (free > _rcvSsthresh)
        {
            free = _rcvSsthresh;
            if (RcvWscale > 0) free = (free + (1 << RcvWscale) - 1) >> RcvWscale << RcvWscale;
        }
        return Math.Min(free, TcpConstants.TCP_MAX_UNSCALED_WINDOW << RcvWscale);
    }

    /// <summary>
    /// <c>tcp_select_window</c>: never shrinks the right edge already advertised (RFC 9293 3.8.6.2.2): a smaller
    /// window keeps the edge, rounded up to the scale (<c>ALIGN(cur_win, 1 &lt;&lt; rcv_wscale)</c>). The receive queue
    /// has room beyond the buffer for that rounding; only if tiny segments made the edge creep past even that is it
    /// pulled in, by less than a unit.
    /// </summary>
    private ushort SelectWindow()
    {
        int cur = ReceiveWindow();
        int nw = SelectWindowRaw() >> RcvWscale << RcvWscale;
        if (nw < cur)
        {
            int up = ((cur + (1 << RcvWscale) - 1) >> RcvWscale) << RcvWscale;
            // Out-of-order bytes already lie inside the promised window, so the receive queue's free
            // space alone must cover it.
            int room = _rcvBuf.Free >> RcvWscale << RcvWscale;
            nw = up <= _rcvBuf.Free ? up : Math.Max(nw, room);
        }
        if (RcvWnd > 0 && nw == 0) _mib.Ext.Inc(TcpExtMib.TCPToZeroWindowAdv);
        if (RcvWnd == 0 && nw > 0) _mib.Ext.Inc(TcpExtMib.TCPFromZeroWindowAdv);
        if (nw == 0) _mib.Ext.Inc(TcpExtMib.TCPWantZeroWindowAdv);
        ushort field = (ushort)Math.Min(nw >> RcvWscale, TcpConstants.TCP_MAX_UNSCALED_WINDOW);
        RcvWnd = field << RcvWscale;
        _rcvWup = RcvNxt;
        return field;
    }
}
