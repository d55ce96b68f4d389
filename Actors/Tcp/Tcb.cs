using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

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
    /// <summary>
    /// A listener's child in SYN_RECEIVED whose SYN-ACK timer fired (<c>reqsk_timer_handler</c>): the listener decides
    /// whether it is resent or the request expires (<see cref="Tcb.SynAckVerdict"/>), since that depends on its queue.
    /// </summary>
    SynAckTimeout,
}

/// <summary>What <see cref="Tcb.IcmpError"/> made of an ICMP error.</summary>
public enum TcpIcmpVerdict { Ignored, FragNeeded, HardError, SoftError }

public readonly record struct TcpEvent(TcpEventKind Kind, Errno Error = Errno.OK);

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
    public ushort LocalPort { get; }
    public ushort RemotePort { get; }
    /// <summary>Segments to transmit, in order; the owner drains it after every call.</summary>
    public List<TcpSegment> Outbox { get; } = new();
    public List<TcpEvent> Events { get; } = new();

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
        RcvWscale = settings.WindowScaling ? Math.Clamp(Log2(Math.Max(settings.RmemMax, _rcvSpace)) - 15, 0, TcpConstants.TCP_MAX_WSCALE) : 0;
        // The queue may hold more than the buffer the window is offered from: tcp_select_window keeps a right edge by
        // rounding it up to the scale on every ACK, so with full-sized segments the edge creeps past the buffer by up to
        // one scale unit per segment (under 9%); data up to that edge must still fit, as Linux overcommits rmem.
        _rcvBuf.Limit = _rcvSpace + Math.Max(1 << RcvWscale, _rcvSpace / 8);
        _rcvBufLocked = rcvBuf is not null;
        _rcvqSpace = Math.Min(_rcvSpace, settings.InitialCwnd * AdvMss); // tcp_init_buffer_space
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
