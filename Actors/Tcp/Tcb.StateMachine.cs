using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

// The connection state machine: opening (tcp_connect, tcp_conn_request / tcp_create_openreq_child), the user's
// shutdown and close (tcp_shutdown, tcp_close, tcp_disconnect), ICMP errors (tcp_v4_err) and the endings
// (tcp_set_state, tcp_time_wait, tcp_done).
public sealed partial class Tcb
{
    public TcpState State { get; private set; }
    public Errno Error { get; private set; }

    // User state.
    private bool _userClosed, _wrShutdown, _active, _forceRetrans;

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
        InitialWindow(synAck: true); // cookie_v4_check → tcp_select_initial_window: rcv_wnd and rcv_ssthresh as the SYN-ACK's
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
        int win = InitialWindow(ack); // the window in a SYN is never scaled
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

    /// <summary>A request sock dropped (<c>inet_csk_reqsk_queue_drop</c>): CLOSED without sending anything.</summary>
    public void Drop(long now) => Abort(Errno.OK, now, sendRst: false);

    private void Abort(Errno e, long now, bool sendRst)
    {
        if (sendRst && State is not (TcpState.Closed or TcpState.SynSent or TcpState.TimeWait or TcpState.Listen))
            SendReset(SndNxt, now);
        if (e != Errno.OK) Fail(e, now);
        else Done(now);
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

    /// <summary>
    /// <c>tcp_timewait_state_process</c> returned TCP_TW_SYN (<see cref="TimeWaitAcceptsSyn"/>): <c>tcp_v4_rcv</c>
    /// deschedules the TIME_WAIT socket (<c>inet_twsk_deschedule_put</c>) and looks the SYN up again, now reaching the listener.
    /// </summary>
    public void EndTimeWait(long now)
    {
        if (State == TcpState.TimeWait) Done(now);
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
}
