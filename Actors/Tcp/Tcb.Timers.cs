using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

// Timers: the one transmit timer slot shared by RTO / TLP / RACK REO (tcp_rearm_rto, tcp_set_xmit_timer), the
// persist (zero-window probe), delayed-ACK, keepalive, FIN_WAIT2 and TIME_WAIT timers, and their expiry (OnTimer).
public sealed partial class Tcb
{
    private TcpXmitTimer _xmitTimer;
    // Timers (absolute ticks, 0 = not armed).
    private long _rtoTimer, _probeTimer, _delackTimer, _keepaliveTimer, _timeWaitTimer, _finWait2Timer;
    private int _probesOut;
    private long _lastRecv, _lastOowAck;

    // ------------------------------------------------------------ timers: RTO / TLP / REO share one slot

    private long RtoNow => Math.Min(Rto << Math.Min(_backoff, TcpConstants.TCP_MAX_BACKOFF_SHIFT), _s.RtoMax.Ticks);

    /// <summary><c>tcp_rto_delta_us</c>: how far in the future the RTO of the head segment lies.</summary>
    private long RtoDelta(long now) => _rtx.Count == 0 ? RtoNow : _rtx[0].SentAt + RtoNow - now;

    /// <summary>
    /// <c>tcp_rearm_rto</c>: no RTO with nothing outstanding; a full RTO from now, or — replacing a pending TLP or REO
    /// timer — what is left of the head segment's RTO.
    /// </summary>
    private void RearmRto(long now)
    {
        if (_rtx.Count == 0) { _rtoTimer = 0; _xmitTimer = TcpXmitTimer.Retrans; return; }
        long rto = RtoNow;
        if (_rtoTimer != 0 && _xmitTimer is TcpXmitTimer.ReoTimeout or TcpXmitTimer.LossProbe) rto = Math.Max(RtoDelta(now), 1);
        _rtoTimer = now + rto;
        _xmitTimer = TcpXmitTimer.Retrans;
    }

    /// <summary><c>tcp_set_xmit_timer</c>: a loss probe if one may be scheduled, else the RTO.</summary>
    private void SetXmitTimer(long now)
    {
        if (!ScheduleLossProbe(now, advancingRto: true)) RearmRto(now);
    }

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
        _rtoTimer = now + Math.Min(Rto << Math.Min(_backoff, TcpConstants.TCP_MAX_BACKOFF_SHIFT), _s.RtoMax.Ticks);
        _xmitTimer = TcpXmitTimer.Retrans;
    }

    private void ArmProbe(long now) => _probeTimer = now + Math.Min(Rto << Math.Min(_backoff, TcpConstants.TCP_MAX_BACKOFF_SHIFT), _s.RtoMax.Ticks);

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
}
