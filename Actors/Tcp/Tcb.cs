using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Tcp;

/// <summary>Connection states (RFC 9293 section 3.3.2; Linux <c>TCP_ESTABLISHED</c> ...).</summary>
public enum TcpState
{
    Closed, Listen, SynSent, SynReceived, Established, FinWait1, FinWait2, CloseWait, Closing, LastAck, TimeWait,
}

/// <summary>Linux's congestion avoidance states (<c>enum tcp_ca_state</c>).</summary>
public enum TcpCaState { Open, Disorder, Recovery, Loss }

public enum TcpEventKind
{
    /// <summary>The handshake completed (connect returns / the child is ready for accept).</summary>
    Connected,
    /// <summary>In-order data became readable (<c>sk_data_ready</c>).</summary>
    Readable,
    /// <summary>Send buffer space was freed (<c>sk_write_space</c>).</summary>
    Writable,
    /// <summary>The peer's FIN was received: reads return 0 after the queued data.</summary>
    Eof,
    /// <summary>The connection failed or was reset; <see cref="TcpEvent.Error"/> holds the errno (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE).</summary>
    Error,
    /// <summary>The TCB reached CLOSED and can be freed.</summary>
    Closed,
}

/// <summary>What <see cref="Tcb.IcmpError"/> made of an ICMP error.</summary>
public enum TcpIcmpVerdict { Ignored, FragNeeded, HardError, SoftError }

public readonly record struct TcpEvent(TcpEventKind Kind, Errno Error = Errno.OK);

/// <summary>Why a segment handed to <see cref="Tcb.SegmentArrived"/> was dropped (Linux SKB_DROP_REASON_* names).</summary>
public enum TcpDropReason
{
    None, TCP_FLAGS, TCP_ZEROWINDOW, TCP_OLD_DATA, TCP_OVERWINDOW, TCP_OFOMERGE, TCP_RFC7323_PAWS, TCP_INVALID_SEQUENCE,
    TCP_RESET, TCP_INVALID_SYN, TCP_CLOSE, TCP_OLD_ACK, TCP_TOO_OLD_ACK, TCP_ACK_UNSENT_DATA, TCP_OFO_DROP, SOCKET_RCVBUFF,
    TCP_INVALID_ACK_SEQUENCE, TCP_ABORT_ON_DATA,
}

/// <summary>
/// One TCP connection's control block: the RFC 9293 state machine with the behaviour Linux
/// adds (RFC 5961 challenge ACKs, RFC 7323 window scaling/timestamps/PAWS, RFC 2018 SACK,
/// RFC 6298 RTO, RFC 6582/6675 recovery, delayed ACK with quick-ack, Nagle, SWS avoidance,
/// zero-window probes, keepalive). A plain, single-threaded class: its owner (a socket actor)
/// calls <see cref="SegmentArrived"/>, the user calls and <see cref="OnTimer"/>, then drains
/// <see cref="Outbox"/> (segments to send, addressed by the owner) and <see cref="Events"/>,
/// and schedules a timer for <see cref="NextDeadline"/>. Time is passed in as ticks.
/// The owner demultiplexes by 4-tuple and handles LISTEN (see <see cref="ListenQueue{T}"/>).
/// </summary>
public sealed partial class Tcb
{
    private sealed class TxSeg
    {
        public TcpSeq Seq;
        public int Len;          // payload bytes
        public bool Syn, Fin;
        public long SentAt;      // last (re)transmission, ticks
        public bool Retrans;     // retransmitted since the last RTO (counts in retrans_out)
        public bool EverRetrans; // Karn: no RTT sample from it
        public bool Sacked, Lost;
        public long XmitOrder;   // transmissions so far when last sent: orders sends within one tick (RACK)
        public TcpSeq End => Seq + (Len + (Syn ? 1 : 0) + (Fin ? 1 : 0));
    }

    private sealed class OfoSeg
    {
        public TcpSeq Seq;
        public byte[] Data = [];
        public bool Fin;
        public TcpSeq End => Seq + (Data.Length + (Fin ? 1 : 0));
    }

    private readonly TcpSettings _s;
    private readonly TcpCounters _mib;
    private ICongestionControl _cc;
    private readonly CongestionState _cwnd = new();
    private readonly uint _tsOffset;
    private readonly SegQueue<TxSeg> _rtx = new();
    // False: no segment in _rtx is marked Sacked, so the per-ACK scoreboard walks (SackedOut, SackedAbove) are skipped.
    // Set wherever a mark is made (TagSacked; Fragment copies a mark), cleared when SackedOut counts none.
    private bool _anySacked;
    // False: no segment in _rtx is marked Lost or Retrans, so PacketsInFlight is _rtx.Count without a walk (Linux keeps
    // packets_out, lost_out and retrans_out as counters). Set wherever such a mark is made, cleared by a walk that finds none.
    private bool _anyLostOrRetrans;
    private readonly List<OfoSeg> _ofo = new();
    private readonly ByteRing _sndBuf;
    private readonly ByteRing _rcvBuf;
    private int _rcvSpace;          // the receive buffer (SO_RCVBUF / tcp_rmem[1]) windows are offered from
    private int RcvSpaceFree => Math.Max(0, _rcvSpace - _rcvBuf.Count);

    public ushort LocalPort { get; }
    public ushort RemotePort { get; }
    public TcpState State { get; private set; }
    public TcpCaState CaState { get; private set; }
    public Errno Error { get; private set; }

    // RFC 9293 send sequence variables.
    public TcpSeq Iss { get; }
    public TcpSeq SndUna { get; private set; }
    public TcpSeq SndNxt { get; private set; }
    public int SndWnd { get; private set; }
    private TcpSeq _sndWl1, _sndWl2;
    public int MaxSndWnd { get; private set; }
    private TcpSeq _sndBufSeq;   // sequence number of the first byte in _sndBuf
    private TcpSeq _sndSml;      // end of the last sub-MSS segment sent (Minshall's Nagle)
    private TcpSeq _highSeq;     // recovery point
    private bool _finQueued, _finSent;

    // Receive sequence variables.
    public TcpSeq Irs { get; private set; }
    public TcpSeq RcvNxt { get; private set; }
    private TcpSeq _rcvWup;      // RCV.NXT when the window was last advertised
    public int RcvWnd { get; private set; }
    private bool _finReceived;
    private TcpSeq _lastSackSeq; // start of the last out-of-order segment (first SACK block)

    // Negotiated options.
    public int SndWscale { get; private set; }
    public int RcvWscale { get; private set; }
    public bool WscaleOk { get; private set; }
    public bool SackOk { get; private set; }
    public bool TsOk { get; private set; }
    private uint _tsRecent;
    public int PeerMss { get; private set; }
    /// <summary>
    /// Payload bytes per full segment (<c>mss_cache</c>, <c>tcp_sync_mss</c>): the peer's MSS clamped to what the
    /// path MTU leaves after the IP and TCP headers, less the timestamp option; at least TCP_MIN_SND_MSS (48).
    /// </summary>
    public int Mss => Math.Max(Math.Min(Math.Min(PeerMss, UserMss > 0 ? UserMss : int.MaxValue), PathMtu > 0 ? PathMtu - 40 : int.MaxValue)
        - (TsOk ? 12 : 0), MinSndMss);
    /// <summary><c>TCP_MAXSEG</c> (<c>rx_opt.user_mss</c>): clamps the MSS announced and used; 0 = none.</summary>
    public int UserMss { get; set; }
    /// <summary>The path MTU the MSS follows (<c>icsk_pmtu_cookie</c>); 0 until the owner calls <see cref="SyncMss"/>.</summary>
    public int PathMtu { get; private set; }
    /// <summary>TCP_MIN_SND_MSS: the smallest MSS a path MTU can force.</summary>
    public const int MinSndMss = 48;
    /// <summary>The MSS announced in SYNs (<c>tcp_advertise_mss</c>): the route MTU less 40 when known, at most tcp default.</summary>
    private int AdvMss => Math.Min(PathMtu > 0 ? Math.Max(Math.Min(_s.DefaultMss, PathMtu - 40), MinSndMss) : _s.DefaultMss,
        UserMss > 0 ? UserMss : int.MaxValue);

    // RTT / RTO (RFC 6298), in ticks.
    public long Srtt { get; private set; }
    public long RttVar { get; private set; }
    public long Rto { get; private set; }
    private int _backoff;
    public int Retransmits { get; private set; }
    private long _retransStamp;
    private int _renoSacked; // dup ACKs standing in for SACKed packets without SACK (tcp_add_reno_sack)
    public int DupAcks { get; private set; }

    // Timers (absolute ticks, 0 = not armed).
    private long _rtoTimer, _probeTimer, _delackTimer, _keepaliveTimer, _timeWaitTimer, _finWait2Timer;
    private int _probesOut;
    private long _lastRecv, _lastOowAck;

    // Delayed ACK (inet_connection_sock icsk_ack).
    private int _quickAcks;
    private bool _atoInit, _pingpong, _ackPending;
    private int _rcvSinceAck;

    // User state.
    private bool _userClosed, _wrShutdown, _active, _forceRetrans;
    public bool NoDelay { get; set; }
    public bool KeepAlive { get; set; }
    public TimeSpan? KeepaliveTime { get; set; }
    public TimeSpan? KeepaliveInterval { get; set; }
    public int? KeepaliveProbes { get; set; }
    private int _keepaliveProbesOut;

    /// <summary>Segments to transmit, in order; the owner drains it after every call.</summary>
    public List<TcpSegment> Outbox { get; } = new();
    public List<TcpEvent> Events { get; } = new();
    public long SegmentsRetransmitted { get; private set; }
    public long FastRetransmits { get; private set; }
    public long Timeouts { get; private set; }
    public long ZeroWindowProbes { get; private set; }
    public string CongestionName => _cc.Name;
    public int Cwnd => _cwnd.Cwnd;
    public int SsThresh => _cwnd.SsThresh;
    public int PacketsOut => _rtx.Count;
    public int ReadableBytes => _rcvBuf.Count;
    public int SendQueueBytes => _sndBuf.Count;
    public int SendBufferFree => _sndBuf.Free;
    public int OfoSegments => _ofo.Count;
    public bool EofReceived => _finReceived;

    /// <param name="iss">Initial send sequence (the owner derives it like <c>secure_tcp_seq</c>, seeded).</param>
    /// <param name="tsOffset">Per-connection timestamp offset (<c>tcp_ts_off</c>).</param>
    /// <param name="sndBuf">SO_SNDBUF in bytes (default tcp_wmem[1]).</param>
    /// <param name="rcvBuf">SO_RCVBUF in bytes (default tcp_rmem[1]).</param>
    public Tcb(TcpSettings settings, TcpCounters mib, ushort localPort, ushort remotePort, uint iss, uint tsOffset = 0,
        CongestionAlgorithm? congestion = null, int? sndBuf = null, int? rcvBuf = null)
    {
        _s = settings;
        _mib = mib;
        LocalPort = localPort;
        RemotePort = remotePort;
        Iss = new TcpSeq(iss);
        SndUna = SndNxt = _sndBufSeq = _sndSml = Iss;
        _tsOffset = tsOffset;
        Recovery = settings.Recovery;
        _cc = ICongestionControl.Create(congestion ?? settings.CongestionControl);
        _cwnd.Cwnd = settings.InitialCwnd;
        _sndBuf = new ByteRing(Math.Clamp(sndBuf ?? settings.WmemDefault, settings.WmemMin, settings.WmemMax));
        _sndBufLocked = sndBuf is not null;
        _rcvSpace = Math.Clamp(rcvBuf ?? settings.RmemDefault, settings.RmemMin, settings.RmemMax);
        _rcvBuf = new ByteRing(_rcvSpace);
        Rto = settings.RtoInitial.Ticks;
        PeerMss = settings.PeerMssDefault;
        // tcp_select_initial_window: the shift that lets the largest buffer (tcp_rmem[2]) be advertised.
        RcvWscale = settings.WindowScaling ? Math.Clamp(Log2(Math.Max(settings.RmemMax, _rcvSpace)) - 15, 0, 14) : 0;
        // The queue may hold more than the buffer the window is offered from: tcp_select_window keeps a right edge by
        // rounding it up to the scale on every ACK, so with full-sized segments the edge creeps past the buffer by up to
        // one scale unit per segment (under 9%); data up to that edge must still fit, as Linux overcommits rmem.
        _rcvBuf.Limit = _rcvSpace + Math.Max(1 << RcvWscale, _rcvSpace / 8);
        _rcvBufLocked = rcvBuf is not null;
        _rcvqSpace = Math.Min(_rcvSpace, settings.InitialCwnd * AdvMss); // tcp_init_buffer_space
    }

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

    // ---------------------------------------------------------------- MSS

    /// <summary>
    /// <c>tcp_sync_mss</c>: the owner tells the TCB the route's MTU (learned PMTU included); the MSS follows it.
    /// Returns the new <see cref="Mss"/>.
    /// </summary>
    public int SyncMss(int pmtu)
    {
        if (pmtu >= 68) PathMtu = pmtu;
        return Mss;
    }

    /// <summary>
    /// <c>tcp_current_mss</c>: the payload of a data segment sent now, so that payload plus every option it
    /// carries (timestamps, and the SACK blocks of the out-of-order queue) fits the path MTU.
    /// </summary>
    public int CurrentMss()
    {
        int mss = Mss;
        int blocks = SackBlockCount();
        if (blocks > 0) mss -= 4 + 8 * blocks; // NOP NOP SACK len + 8 per block (tcp_established_options)
        return Math.Max(mss, MinSndMss);
    }

    /// <summary>
    /// <c>tcp_v4_mtu_reduced</c> → <c>tcp_simple_retransmit</c>: an ICMP fragmentation-needed lowered the path MTU:
    /// the MSS shrinks, every outstanding segment larger than it is marked lost (cut up on retransmission) and
    /// the connection enters Loss without reducing cwnd, retransmitting at once. False if the MTU is not smaller.
    /// </summary>
    public bool MtuReduced(int mtu, long now)
    {
        if (mtu < 68 || (PathMtu > 0 && mtu >= PathMtu)) return false;
        SyncMss(mtu);
        if (State is TcpState.Closed or TcpState.Listen or TcpState.TimeWait) return true;
        int mss = Mss;
        bool lost = false;
        foreach (var t in _rtx)
        {
            if (t.Len <= mss || t.Sacked) continue;
            t.Lost = true; _anyLostOrRetrans = true;
            t.Retrans = false;
            lost = true;
        }
        if (!lost) return true;
        if (CaState != TcpCaState.Loss)
        {
            _highSeq = SndNxt;
            CaState = TcpCaState.Loss;
        }
        _forceRetrans = true;
        Push(now);
        return true;
    }

    // ---------------------------------------------------------------- socket options

    /// <summary><c>tcp_set_congestion_control</c>: switches the algorithm, also mid-connection (the new one starts its epoch afresh).</summary>
    public void SetCongestionControl(CongestionAlgorithm a)
    {
        if (_cc.Name == ICongestionControl.Create(a).Name) return;
        _cc = ICongestionControl.Create(a);
        _cc.OnLoss(_cwnd);
    }

    /// <summary>TCP_NODELAY: setting it sends what Nagle held back (<c>tcp_push_pending_frames</c>).</summary>
    public void SetNoDelay(bool on, long now)
    {
        NoDelay = on;
        if (on) Push(now);
    }

    /// <summary>TCP_CORK (TCP_NAGLE_CORK): sub-MSS segments wait; clearing it sends them (<c>tcp_push_pending_frames</c>).</summary>
    public bool Cork { get; private set; }
    public void SetCork(bool on, long now)
    {
        Cork = on;
        if (!on) Push(now);
    }

    /// <summary>SO_SNDBUF on a live connection: the send queue's bound (never below what is queued).</summary>
    /// <summary>SO_SNDBUF: a fixed send buffer, no longer grown by <see cref="SndBufExpand"/> (SOCK_SNDBUF_LOCK).</summary>
    public void SetSendBuffer(int bytes)
    {
        _sndBuf.Limit = Math.Max(bytes, _s.WmemMin);
        _sndBufLocked = true;
    }

    private bool _sndBufLocked;

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
        long sndmem = Math.Min(2L * nrSegs * Math.Max(Mss, 536), _s.WmemMax);
        if (_sndBuf.Limit >= sndmem) return;
        if (PacketsInFlight() >= _cwnd.Cwnd) return;
        _sndBuf.Limit = (int)sndmem;
    }

    public int SendBufferLimit => _sndBuf.Limit;
    public int ReceiveBufferLimit => _rcvSpace;

    /// <summary>Whether all sent data and our FIN are acknowledged (<c>sk_stream_wait_close</c>'s test: not FIN_WAIT1/CLOSING/LAST_ACK).</summary>
    public bool CloseCompleted => State is not (TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck);

    /// <summary>
    /// <c>tcp_close</c> with SO_LINGER and a zero linger time: <c>tcp_disconnect</c> — RST when synchronized
    /// (<c>tcp_need_reset</c>), CLOSED at once; counted TcpExt TCPAbortOnData as Linux does (unread data first
    /// takes the TCPAbortOnClose path of <see cref="Close"/>).
    /// </summary>
    public void CloseAbortive(long now)
    {
        _userClosed = true;
        if (_rcvBuf.Count > 0)
        {
            _mib.Ext.Inc(TcpExtMib.TCPAbortOnClose);
            Abort(Errno.OK, now, sendRst: true);
            return;
        }
        _mib.Ext.Inc(TcpExtMib.TCPAbortOnData);
        bool needReset = State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2
            or TcpState.SynReceived; // tcp_need_reset
        Abort(Errno.OK, now, sendRst: needReset);
    }

    // ---------------------------------------------------------------- ICMP errors

    /// <summary>The last soft ICMP error (<c>sk_err_soft</c>): reported instead of ETIMEDOUT if the connection times out.</summary>
    public Errno SoftError { get; private set; }

    /// <summary><c>tcp_write_err</c>: a connection that times out reports <c>sk_err_soft ?: ETIMEDOUT</c>.</summary>
    private Errno TimeoutError => SoftError != Errno.OK ? SoftError : Errno.ETIMEDOUT;

    /// <summary>
    /// <c>icmp_err_convert</c>: errno per destination-unreachable code (0..15); the fatal flag only matters with
    /// IP_RECVERR, which TCP sockets here do not set, so it is not kept.
    /// </summary>
    private static readonly Errno[] IcmpErrConvert =
    [
        Errno.ENETUNREACH, Errno.EHOSTUNREACH, Errno.ENOPROTOOPT, Errno.ECONNREFUSED, Errno.EMSGSIZE, Errno.EOPNOTSUPP,
        Errno.ENETUNREACH, Errno.EHOSTDOWN, Errno.ENONET, Errno.ENETUNREACH, Errno.EHOSTUNREACH, Errno.ENETUNREACH,
        Errno.EHOSTUNREACH, Errno.EHOSTUNREACH, Errno.EHOSTUNREACH, Errno.EHOSTUNREACH,
    ];

    /// <summary>
    /// <c>tcp_v4_err</c> for this connection: an ICMP error quoting a segment with sequence <paramref name="seq"/>.
    /// Outside SND.UNA..SND.NXT it is ignored (TcpExt OutOfWindowIcmps). Fragmentation needed returns
    /// <see cref="TcpIcmpVerdict.FragNeeded"/> (the owner looks up the path MTU and calls <see cref="MtuReduced"/>).
    /// Other errors (unreachable: <c>icmp_err_convert</c>; time exceeded: EHOSTUNREACH; parameter problem: EPROTO) end
    /// a connection in SYN_SENT / SYN_RECV with that errno; later they are soft errors only (<see cref="SoftError"/>).
    /// </summary>
    public TcpIcmpVerdict IcmpError(byte type, byte code, TcpSeq seq, long now)
    {
        if (State is TcpState.Closed or TcpState.Listen or TcpState.TimeWait) return TcpIcmpVerdict.Ignored;
        if (!seq.Between(SndUna, SndNxt))
        {
            _mib.Ext.Inc(TcpExtMib.OutOfWindowIcmps);
            return TcpIcmpVerdict.Ignored;
        }
        Errno err;
        switch (type)
        {
            case 3: // ICMP_DEST_UNREACH
                if (code >= IcmpErrConvert.Length) return TcpIcmpVerdict.Ignored;
                if (code == 4) return TcpIcmpVerdict.FragNeeded; // ICMP_FRAG_NEEDED → tcp_v4_mtu_reduced
                err = IcmpErrConvert[code];
                break;
            case 11: err = Errno.EHOSTUNREACH; break; // ICMP_TIME_EXCEEDED
            case 12: err = Errno.EPROTO; break;       // ICMP_PARAMETERPROB
            default: return TcpIcmpVerdict.Ignored;   // source quench and the rest
        }
        if (State is TcpState.SynSent or TcpState.SynReceived)
        {
            Fail(err, now);
            return TcpIcmpVerdict.HardError;
        }
        SoftError = err;
        return TcpIcmpVerdict.SoftError;
    }

    // ---------------------------------------------------------------- opening

    /// <summary>Active open (<c>tcp_connect</c>): CLOSED → SYN_SENT, sends the SYN.</summary>
    public void Connect(long now)
    {
        if (State != TcpState.Closed) return;
        _active = true;
        SetState(TcpState.SynSent);
        _mib.Tcp.Inc(TcpMib.ActiveOpens);
        var syn = new TxSeg { Seq = Iss, Syn = true, SentAt = now };
        _rtx.Add(syn);
        SndNxt = Iss + 1;
        _sndBufSeq = _sndSml = SndNxt;
        _retransStamp = now;
        Emit(SynSegment(ack: false, now), now);
        ArmRto(now);
    }

    /// <summary>
    /// Passive open from a SYN the listener accepted (<c>tcp_v4_conn_request</c> +
    /// <c>tcp_create_openreq_child</c> folded together): the new TCB is in SYN_RECEIVED and has sent its SYN-ACK.
    /// </summary>
    public void AcceptSyn(TcpSegment syn, long now)
    {
        if (State != TcpState.Closed || !syn.Syn) return;
        SetState(TcpState.SynReceived);
        Irs = syn.Seq;
        RcvNxt = _rcvWup = syn.Seq + 1;
        TakeSynOptions(syn);
        SndWnd = syn.Window; // never scaled in a SYN
        MaxSndWnd = SndWnd;
        _sndWl1 = syn.Seq;
        _sndWl2 = Iss;
        _rtx.Add(new TxSeg { Seq = Iss, Syn = true, SentAt = now });
        SndNxt = Iss + 1;
        _sndBufSeq = _sndSml = SndNxt;
        _retransStamp = now;
        _lastRecv = now;
        Emit(SynSegment(ack: true, now), now);
        ArmRto(now);
    }

    /// <summary>
    /// A connection completed by a valid SYN cookie (<c>cookie_v4_check</c>): straight to ESTABLISHED
    /// with the options recovered from the cookie. <paramref name="ack"/> is the third segment.
    /// </summary>
    public void AcceptCookie(TcpSegment ack, int mss, bool sackOk, int? sndWscale, bool tsOk, long now)
    {
        if (State != TcpState.Closed) return;
        Irs = ack.Seq - 1;
        RcvNxt = _rcvWup = ack.Seq;
        SndUna = SndNxt = _sndBufSeq = _sndSml = Iss + 1;
        PeerMss = mss;
        SackOk = sackOk && _s.Sack;
        WscaleOk = sndWscale is not null && _s.WindowScaling;
        SndWscale = WscaleOk ? sndWscale!.Value : 0;
        if (!WscaleOk) RcvWscale = 0;
        TsOk = tsOk && ack.Options.HasTimestamp && _s.Timestamps;
        if (TsOk) _tsRecent = ack.Options.TsVal;
        // tcp_create_openreq_child: snd_wnd from the ACK and snd_wl1 = rcv_isn, so the window update test passes
        // whatever the peer's ISN (SND.WL1 left at 0 refused every window for ISNs "before" 0: a zero window for ever).
        SndWnd = ack.Window << SndWscale;
        MaxSndWnd = SndWnd;
        _sndWl1 = Irs;
        _sndWl2 = Iss;
        SetState(TcpState.SynReceived);
        _lastRecv = now;
        EnterEstablished(now);
        SegmentArrived(ack, now, countIn: false);
    }

    private void TakeSynOptions(TcpSegment syn)
    {
        var o = syn.Options;
        PeerMss = o.Mss ?? _s.PeerMssDefault;
        PeerMss = Math.Min(PeerMss, AdvMss);
        WscaleOk = _s.WindowScaling && o.WindowScale is not null;
        SndWscale = WscaleOk ? o.WindowScale!.Value : 0;
        if (!WscaleOk) RcvWscale = 0;
        SackOk = _s.Sack && o.SackPermitted;
        TsOk = _s.Timestamps && o.HasTimestamp;
        if (TsOk) _tsRecent = o.TsVal;
    }

    private TcpSegment SynSegment(bool ack, long now)
    {
        // A SYN offers what the sysctls allow; a SYN-ACK only what the peer offered (RFC 7323, RFC 2018).
        bool offerAll = !ack;
        var opts = new TcpOptions
        {
            Mss = (ushort)AdvMss,
            WindowScale = (offerAll ? _s.WindowScaling : WscaleOk) ? (byte)RcvWscale : null,
            SackPermitted = offerAll ? _s.Sack : SackOk,
            HasTimestamp = offerAll ? _s.Timestamps : TsOk,
            TsVal = TsNow(now),
            TsEcr = ack ? _tsRecent : 0,
        };
        int win = Math.Min(RcvSpaceFree, 65535); // the window in a SYN is never scaled
        RcvWnd = win;
        return new TcpSegment
        {
            SourcePort = LocalPort, DestinationPort = RemotePort, Seq = Iss, Ack = ack ? RcvNxt : default,
            Flags = TcpFlags.Syn | (ack ? TcpFlags.Ack : 0), Window = (ushort)win, Options = opts,
        };
    }

    private void EnterEstablished(long now)
    {
        if (!_active) _mib.Tcp.Inc(TcpMib.PassiveOpens);
        SetState(TcpState.Established);
        Retransmits = 0;
        _backoff = 0;
        Events.Add(new TcpEvent(TcpEventKind.Connected));
        ArmKeepalive(now);
    }

    // ---------------------------------------------------------------- segment arrival

    /// <summary>
    /// A segment for this connection arrived (already checksum-validated and demultiplexed):
    /// <c>tcp_rcv_state_process</c> / <c>tcp_rcv_established</c>. Returns why it was dropped, or None.
    /// Counts Tcp: InSegs.
    /// </summary>
    public TcpDropReason SegmentArrived(TcpSegment seg, long now) => SegmentArrived(seg, now, countIn: true);

    private TcpDropReason SegmentArrived(TcpSegment seg, long now, bool countIn)
    {
        if (countIn) _mib.Tcp.Inc(TcpMib.InSegs);
        var r = Process(seg, now);
        Push(now);
        return r;
    }

    private TcpDropReason Process(TcpSegment seg, long now)
    {
        switch (State)
        {
            case TcpState.Closed:
                if (!seg.Rst) SendResetFor(seg, now);
                return TcpDropReason.TCP_CLOSE;
            case TcpState.Listen:
                return TcpDropReason.TCP_CLOSE; // LISTEN is the listener's (ListenQueue) job
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
            return TcpDropReason.TCP_RFC7323_PAWS;
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
            return seg.EndSeq <= _rcvWup ? TcpDropReason.TCP_OLD_DATA :
                seg.Seq > RcvNxt + ReceiveWindow() ? TcpDropReason.TCP_OVERWINDOW : TcpDropReason.TCP_INVALID_SEQUENCE;
        }

        // Step 2: RST (RFC 5961 3.2): exact match resets, in-window otherwise gets a challenge ACK.
        if (seg.Rst)
        {
            if (seg.Seq == RcvNxt || (State == TcpState.SynReceived && seg.Seq == Irs + 1))
            {
                HandleReset(now);
                return TcpDropReason.TCP_RESET;
            }
            SendChallengeAck(now);
            return TcpDropReason.TCP_RESET;
        }

        // RFC 7323 4.3: remember the timestamp of an in-order segment (tcp_replace_ts_recent).
        if (TsOk && seg.Options.HasTimestamp && seg.Seq <= _rcvWup) _tsRecent = seg.Options.TsVal;

        // Step 4: SYN in a synchronized state (RFC 5961 4.2): challenge ACK. A retransmitted SYN in SYN_RECEIVED gets the SYN-ACK again.
        if (seg.Syn)
        {
            if (State == TcpState.SynReceived && seg.Seq == Irs && !seg.HasAck)
            {
                Emit(SynSegment(ack: true, now), now);
                return TcpDropReason.None;
            }
            // tcp_validate_incoming: in a simultaneous open the peer's SYN-ACK completes our SYN_RECEIVED.
            bool simOpen = State == TcpState.SynReceived && _active && seg.HasAck && seg.Seq + 1 == RcvNxt
                           && seg.Payload.Length == 0 && !seg.Fin && seg.Ack == SndNxt;
            if (!simOpen)
            {
                _mib.Ext.Inc(TcpExtMib.TCPSYNChallenge);
                SendChallengeAck(now);
                return TcpDropReason.TCP_INVALID_SYN;
            }
            seg = seg with { Seq = seg.Seq + 1, Flags = seg.Flags & ~TcpFlags.Syn };
        }

        // Step 5: no ACK bit: drop.
        if (!seg.HasAck) return TcpDropReason.TCP_FLAGS;

        if (State == TcpState.SynReceived)
        {
            if (!(seg.Ack > SndUna && seg.Ack <= SndNxt))
            {
                SendResetFor(seg, now);
                return TcpDropReason.TCP_INVALID_ACK_SEQUENCE;
            }
            EnterEstablished(now);
            SndWnd = seg.Window << SndWscale;
            MaxSndWnd = Math.Max(MaxSndWnd, SndWnd);
            _sndWl1 = seg.Seq;
            _sndWl2 = seg.Ack;
        }

        var ackResult = ProcessAck(seg, now);
        if (ackResult is TcpDropReason.TCP_TOO_OLD_ACK or TcpDropReason.TCP_ACK_UNSENT_DATA) return ackResult;
        if (State == TcpState.Closed) return TcpDropReason.None;

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
                return TcpDropReason.None;
            case TcpState.LastAck when finAcked:
                Done(now);
                return TcpDropReason.None;
            case TcpState.TimeWait:
                if (seg.Fin)
                {
                    SendAck(now);
                    _timeWaitTimer = now + _s.TimeWait.Ticks; // RFC 9293: restart the 2 MSL timeout
                }
                return TcpDropReason.None;
        }

        // Step 7: segment text.
        int len = seg.Payload.Length;
        if (len > 0 || seg.Fin)
        {
            if (State is TcpState.CloseWait or TcpState.Closing or TcpState.LastAck)
            {
                // The peer already sent its FIN: anything more is a duplicate (ACK it).
                if (seg.EndSeq > RcvNxt) return TcpDropReason.TCP_CLOSE;
                SendAck(now);
                return TcpDropReason.TCP_OLD_DATA;
            }
            if (_userClosed && len > 0 && seg.Seq + len > RcvNxt)
            {
                // tcp_rcv_state_process: data after close() → RST (TCPAbortOnData).
                _mib.Ext.Inc(TcpExtMib.TCPAbortOnData);
                SendReset(SndNxt, now);
                Abort(Errno.ECONNRESET, now, sendRst: false);
                return TcpDropReason.TCP_ABORT_ON_DATA;
            }
            return DataQueue(seg, now);
        }
        return TcpDropReason.None;
    }

    private TcpDropReason SynSentProcess(TcpSegment seg, long now)
    {
        // RFC 9293 3.10.7.3.
        bool ackOk = false;
        if (seg.HasAck)
        {
            if (seg.Ack <= Iss || seg.Ack > SndNxt)
            {
                if (!seg.Rst) SendReset(seg.Ack, now);
                return TcpDropReason.TCP_INVALID_ACK_SEQUENCE;
            }
            ackOk = true;
        }
        if (seg.Rst)
        {
            if (!ackOk) return TcpDropReason.TCP_RESET;
            Fail(Errno.ECONNREFUSED, now);
            return TcpDropReason.TCP_RESET;
        }
        if (!seg.Syn) return TcpDropReason.TCP_FLAGS;
        if (seg.Fin) return TcpDropReason.TCP_FLAGS;
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
            return TcpDropReason.None;
        }
        // Simultaneous open (RFC 9293 3.5 figure 8): SYN_SENT → SYN_RECEIVED, answer with SYN-ACK.
        SetState(TcpState.SynReceived);
        SndWnd = seg.Window;
        MaxSndWnd = SndWnd;
        _sndWl1 = seg.Seq;
        _sndWl2 = Iss;
        Emit(SynSegment(ack: true, now), now);
        return TcpDropReason.None;
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

    // ---------------------------------------------------------------- ACK processing

    /// <summary><c>tcp_ack</c>: RFC 5961 5.2 ACK validation, window update, SACK, RTT, congestion control, loss detection.</summary>
    private TcpDropReason ProcessAck(TcpSegment seg, long now)
    {
        var ack = seg.Ack;
        if (ack > SndNxt) return TcpDropReason.TCP_ACK_UNSENT_DATA;
        if (ack < SndUna)
        {
            if (ack < SndUna - MaxSndWnd)
            {
                SendChallengeAck(now);
                return TcpDropReason.TCP_TOO_OLD_ACK;
            }
            return TcpDropReason.TCP_OLD_ACK; // ignore the ACK, still take the data
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
        return TcpDropReason.None;
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

    // ---------------------------------------------------------------- receive data

    /// <summary><c>tcp_data_queue</c>: in-order data to the receive queue, out-of-order into the OFO queue, FIN processing, ACK scheduling.</summary>
    private TcpDropReason DataQueue(TcpSegment seg, long now)
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
            return TcpDropReason.TCP_ZEROWINDOW;
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
                return TcpDropReason.TCP_OLD_DATA;
            }
            var fresh = payload[skip..];
            if (skip > 0) DsackSet(seq, RcvNxt); // partial packet, seq < rcv_nxt < end_seq
            if (fresh.Length > _rcvBuf.Free)
            {
                _mib.Ext.Inc(TcpExtMib.TCPRcvQDrop);
                SendAck(now);
                return TcpDropReason.SOCKET_RCVBUFF;
            }
            _rcvBuf.Append(fresh);
            RcvNxt += fresh.Length;
            RcvRttMeasure(seg, now);
            bool hadOfo = _ofo.Count > 0;
            if (fin) ReceiveFin(now);
            else OfoDrain(now);
            if (fresh.Length > 0) Events.Add(new TcpEvent(TcpEventKind.Readable));
            DataReceivedAckPolicy(fresh.Length, hadOfo, now);
            return TcpDropReason.None;
        }

        // Out of order (tcp_data_queue_ofo).
        if (_ofo.Count >= _s.MaxOfoSegments || payload.Length > _rcvBuf.Free - OfoBytes())
        {
            _mib.Ext.Inc(TcpExtMib.TCPOFODrop);
            SendAck(now);
            return TcpDropReason.TCP_OFO_DROP;
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
                return TcpDropReason.TCP_OFOMERGE;
            }
        _ofo.Insert(pos, ns);
        _lastSackSeq = seq;
        SendAck(now); // out-of-order data is ACKed at once, with SACK blocks (tcp_data_queue_ofo → quick ACK)
        return TcpDropReason.None;
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

    /// <summary><c>tcp_shutdown(SEND_SHUTDOWN)</c>: queue a FIN after the data (ESTABLISHED → FIN_WAIT_1, CLOSE_WAIT → LAST_ACK).</summary>
    public void Shutdown(long now)
    {
        if (_wrShutdown) return;
        switch (State)
        {
            case TcpState.SynSent:
            case TcpState.Closed:
                _wrShutdown = true;
                if (State == TcpState.SynSent) Done(now);
                return;
            case TcpState.SynReceived:
            case TcpState.Established:
                SetState(TcpState.FinWait1);
                break;
            case TcpState.CloseWait:
                SetState(TcpState.LastAck);
                break;
            default:
                return;
        }
        _wrShutdown = true;
        _finQueued = true;
        Push(now);
    }

    /// <summary>
    /// <c>tcp_close</c>: unread data → RST and CLOSED (TCPAbortOnClose, RFC 2525); otherwise a
    /// graceful FIN; the TCB becomes orphaned (data arriving afterwards resets it).
    /// </summary>
    public void Close(long now)
    {
        _userClosed = true;
        if (State is TcpState.Closed or TcpState.Listen or TcpState.SynSent)
        {
            Done(now);
            return;
        }
        if (_rcvBuf.Count > 0)
        {
            _mib.Ext.Inc(TcpExtMib.TCPAbortOnClose);
            Abort(Errno.OK, now, sendRst: true);
            return;
        }
        Shutdown(now);
        if (State == TcpState.FinWait2) _finWait2Timer = now + _s.FinTimeout.Ticks;
    }

    /// <summary><c>tcp_abort</c> / SO_LINGER 0: send RST (if synchronized) and go to CLOSED.</summary>
    public void Abort(long now) => Abort(Errno.OK, now, sendRst: true);

    private void Abort(Errno e, long now, bool sendRst)
    {
        if (sendRst && State is not (TcpState.Closed or TcpState.SynSent or TcpState.TimeWait or TcpState.Listen))
            SendReset(SndNxt, now);
        if (e != Errno.OK) Fail(e, now);
        else Done(now);
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
        if (t.Syn)
        {
            _mib.Ext.Inc(TcpExtMib.TCPSynRetrans);
            Emit(SynSegment(ack: State == TcpState.SynReceived, now), now);
        }
        else EmitData(t, now);
    }

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
        _mib.Tcp.Inc(TcpMib.OutSegs);
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
    /// is more than half full (receiver SWS avoidance), rounded to the window scale.
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
        return Math.Min(free, 65535 << RcvWscale);
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
        ushort field = (ushort)Math.Min(nw >> RcvWscale, 65535);
        RcvWnd = field << RcvWscale;
        _rcvWup = RcvNxt;
        return field;
    }

    private uint TsNow(long now) => unchecked((uint)(now / TimeSpan.TicksPerMillisecond) + _tsOffset);

    // ---------------------------------------------------------------- timers

    /// <summary>The earliest armed timer (absolute ticks), or <see cref="long.MaxValue"/>.</summary>
    public long NextDeadline
    {
        get
        {
            // No array per call: the owner reads this after every message.
            long d = long.MaxValue;
            Earliest(ref d, _rtoTimer);
            Earliest(ref d, _probeTimer);
            Earliest(ref d, _delackTimer);
            Earliest(ref d, _keepaliveTimer);
            Earliest(ref d, _timeWaitTimer);
            Earliest(ref d, _finWait2Timer);
            return d;

            static void Earliest(ref long d, long t)
            {
                if (t != 0 && t < d) d = t;
            }
        }
    }

    /// <summary>Runs every timer due at <paramref name="now"/> (the owner calls it at <see cref="NextDeadline"/>).</summary>
    public void OnTimer(long now)
    {
        if (_timeWaitTimer != 0 && now >= _timeWaitTimer)
        {
            _timeWaitTimer = 0;
            Done(now);
            return;
        }
        if (_finWait2Timer != 0 && now >= _finWait2Timer)
        {
            _finWait2Timer = 0;
            if (State == TcpState.FinWait2) { Done(now); return; }
        }
        if (_delackTimer != 0 && now >= _delackTimer)
        {
            _delackTimer = 0;
            if (_ackPending)
            {
                _mib.Ext.Inc(TcpExtMib.DelayedACKs);
                SendAck(now);
            }
        }
        if (_rtoTimer != 0 && now >= _rtoTimer)
        {
            _rtoTimer = 0;
            var job = _xmitTimer;
            _xmitTimer = TcpXmitTimer.Retrans;
            switch (job) // tcp_write_timer_handler: icsk_pending
            {
                case TcpXmitTimer.ReoTimeout: RackReoTimeout(now); break;
                case TcpXmitTimer.LossProbe: SendLossProbe(now); break;
                default: RetransmitTimer(now); break;
            }
            if (State == TcpState.Closed) return;
        }
        if (_probeTimer != 0 && now >= _probeTimer)
        {
            _probeTimer = 0;
            ProbeTimer(now);
            if (State == TcpState.Closed) return;
        }
        if (_keepaliveTimer != 0 && now >= _keepaliveTimer)
        {
            _keepaliveTimer = 0;
            KeepaliveTimer(now);
        }
    }

    private void ArmRto(long now)
    {
        _rtoTimer = now + Math.Min(Rto << Math.Min(_backoff, 20), _s.RtoMax.Ticks);
        _xmitTimer = TcpXmitTimer.Retrans;
    }

    private void ArmProbe(long now) => _probeTimer = now + Math.Min(Rto << Math.Min(_backoff, 20), _s.RtoMax.Ticks);

    /// <summary>
    /// <c>tcp_model_timeout</c>: the time <paramref name="boundary"/> exponential backoffs from
    /// <paramref name="rtoBase"/> take, linear once RTO reaches RTO max.
    /// </summary>
    public long ModelTimeout(int boundary, long rtoBase)
    {
        int thresh = Log2(_s.RtoMax.Ticks / rtoBase);
        return boundary <= thresh
            ? ((2L << boundary) - 1) * rtoBase
            : ((2L << thresh) - 1) * rtoBase + (boundary - thresh) * _s.RtoMax.Ticks;
    }

    /// <summary>
    /// <c>tcp_retransmit_timer</c>: give up after tcp_syn_retries (SYN states) or the tcp_retries2 time
    /// (<c>tcp_write_timeout</c>); else enter Loss (<c>tcp_enter_loss</c>: ssthresh, cwnd 1, all
    /// outstanding marked lost), retransmit the head and back off the RTO.
    /// </summary>
    private void RetransmitTimer(long now)
    {
        if (_rtx.Count == 0) return;
        if (State is TcpState.SynSent or TcpState.SynReceived)
        {
            int limit = State == TcpState.SynSent ? _s.SynRetries : _s.SynAckRetries;
            if (Retransmits >= limit)
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

    /// <summary>
    /// <c>tcp_probe_timer</c> / <c>tcp_write_wakeup</c>: with a window that opened, send what fits
    /// (overriding SWS avoidance); with a zero window send a probe (SEQ = SND.UNA - 1, no data).
    /// Gives up after tcp_retries2 unanswered probes; any ACK resets the count.
    /// </summary>
    private void ProbeTimer(long now)
    {
        if (_rtx.Count > 0 || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.LastAck or TcpState.Closing))
            return;
        int avail = (_sndBufSeq + _sndBuf.Count) - SndNxt;
        bool finPending = _finQueued && !_finSent;
        if (avail <= 0 && !finPending) return;
        if (_probesOut >= _s.Retries2)
        {
            _mib.Ext.Inc(TcpExtMib.TCPAbortOnTimeout);
            Abort(TimeoutError, now, sendRst: false);
            return;
        }
        int room = (SndUna + SndWnd) - SndNxt;
        if (room > 0)
        {
            int mssNow = CurrentMss();
            int len = Math.Min(Math.Min(room, mssNow), avail);
            SendNew(len, finPending && len == avail, now, mssNow);
            _probeTimer = 0;
            return;
        }
        _mib.Ext.Inc(TcpExtMib.TCPWinProbe);
        ZeroWindowProbes++;
        _probesOut++;
        Emit(Segment(SndUna - 1, TcpFlags.Ack, default, now), now);
        _backoff++;
        ArmProbe(now);
    }

    private void ArmKeepalive(long now)
    {
        if (!KeepAlive) { _keepaliveTimer = 0; return; }
        _keepaliveTimer = now + (KeepaliveTime ?? _s.KeepaliveTime).Ticks;
    }

    /// <summary>Enables SO_KEEPALIVE (with per-socket TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT overrides already set).</summary>
    public void SetKeepAlive(bool on, long now)
    {
        KeepAlive = on;
        if (State is TcpState.Established or TcpState.CloseWait) ArmKeepalive(now);
    }

    /// <summary><c>tcp_keepalive_timer</c>: after idle time, probes every interval; ETIMEDOUT after the probe count.</summary>
    private void KeepaliveTimer(long now)
    {
        if (!KeepAlive || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait2)) return;
        long idle = (KeepaliveTime ?? _s.KeepaliveTime).Ticks;
        long intvl = (KeepaliveInterval ?? _s.KeepaliveInterval).Ticks;
        if (_rtx.Count > 0 || _sndBuf.Count > 0 && SndWnd == 0)
        {
            _keepaliveTimer = now + idle;
            return;
        }
        long elapsed = now - _lastRecv;
        if (elapsed >= idle)
        {
            if (_keepaliveProbesOut >= (KeepaliveProbes ?? _s.KeepaliveProbes))
            {
                _mib.Ext.Inc(TcpExtMib.TCPAbortOnTimeout);
                Abort(TimeoutError, now, sendRst: true);
                return;
            }
            _mib.Ext.Inc(TcpExtMib.TCPKeepAlive);
            _keepaliveProbesOut++;
            Emit(Segment(SndUna - 1, TcpFlags.Ack, default, now), now);
            _keepaliveTimer = now + intvl;
        }
        else _keepaliveTimer = _lastRecv + idle;
    }

    // ---------------------------------------------------------------- endings

    /// <summary><c>tcp_set_state</c>: CurrEstab counts ESTABLISHED only; ESTABLISHED/CLOSE_WAIT → CLOSE counts EstabResets.</summary>
    private void SetState(TcpState s)
    {
        var old = State;
        if (old == s) return;
        if (s == TcpState.Established) _mib.Tcp.Inc(TcpMib.CurrEstab);
        else if (old == TcpState.Established) _mib.Tcp.Add(TcpMib.CurrEstab, -1);
        if (s == TcpState.Closed && old is TcpState.Established or TcpState.CloseWait) _mib.Tcp.Inc(TcpMib.EstabResets);
        State = s;
    }

    private void EnterTimeWait(long now)
    {
        SetState(TcpState.TimeWait);
        _mib.Ext.Inc(TcpExtMib.TW);
        _rtoTimer = _probeTimer = _delackTimer = _keepaliveTimer = _finWait2Timer = 0;
        _timeWaitTimer = now + _s.TimeWait.Ticks;
    }

    /// <summary>
    /// TIME_WAIT reuse (<c>tcp_timewait_state_process</c> → TCP_TW_SYN): a new SYN for this 4-tuple may
    /// open a new connection if its sequence is beyond RCV.NXT or its timestamp is newer (RFC 6191).
    /// </summary>
    public bool TimeWaitAcceptsSyn(TcpSegment syn)
    {
        if (State != TcpState.TimeWait || !syn.Syn || syn.Rst || syn.HasAck) return false;
        if (TsOk && syn.Options.HasTimestamp) return unchecked((int)(syn.Options.TsVal - _tsRecent)) > 0;
        return syn.Seq > RcvNxt;
    }

    private void Fail(Errno e, long now)
    {
        Error = e;
        Events.Add(new TcpEvent(TcpEventKind.Error, e));
        Done(now);
    }

    /// <summary><c>tcp_done</c>: CLOSED, timers off, queues freed (the receive queue stays readable).</summary>
    private void Done(long now)
    {
        if (State is TcpState.SynSent or TcpState.SynReceived) _mib.Tcp.Inc(TcpMib.AttemptFails);
        SetState(TcpState.Closed);
        _rtoTimer = _probeTimer = _delackTimer = _keepaliveTimer = _timeWaitTimer = _finWait2Timer = 0;
        _rtx.Clear();
        _ofo.Clear();
        _sndBuf.Discard(_sndBuf.Count);
        Events.Add(new TcpEvent(TcpEventKind.Closed));
    }

    private static int Log2(long v)
    {
        int r = -1;
        while (v > 0) { v >>= 1; r++; }
        return r;
    }

    public override string ToString()
        => $"{State} {LocalPort}->{RemotePort} una {SndUna} nxt {SndNxt} wnd {SndWnd} rcv_nxt {RcvNxt} rcv_wnd {RcvWnd} " +
           $"cwnd {Cwnd} ssthresh {SsThresh} ca {CaState} rto {Rto / TimeSpan.TicksPerMillisecond}ms";
}
