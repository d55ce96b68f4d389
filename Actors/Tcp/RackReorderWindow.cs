using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

/// <summary>
/// RACK's reordering window (RFC 8985 6.2 step 4, Linux <c>tp->rack</c>: reo_wnd_steps, reo_wnd_persist, dsack_seen,
/// last_delivered) with the formula of <c>tcp_rack_reo_wnd</c>. Times are ticks of the scheduler clock.
/// </summary>
public sealed class RackReorderWindow
{
    /// <summary>TCP_RACK_RECOVERY_THRESH: recoveries a D-SACK-widened window persists for.</summary>
    public const int RecoveryThresh = 16;
    /// <summary>The bound of reo_wnd_steps (a u8 in Linux).</summary>
    public const int MaxSteps = 0xFF;

    private TcpSeq _lastAdjust;
    private bool _adjusted;

    /// <summary><c>rack.reo_wnd_steps</c>: multiples of min_rtt/4, 1 to 255.</summary>
    public int Steps { get; private set; } = 1;
    /// <summary><c>rack.reo_wnd_persist</c>: recoveries left before the steps fall back to 1.</summary>
    public int Persist { get; private set; }
    /// <summary><c>rack.dsack_seen</c>: a D-SACK waits to widen the window on the next delivery.</summary>
    public bool DsackSeen { get; private set; }

    /// <summary>
    /// <c>tcp_rack_reo_wnd</c>: 0 while no reordering was seen (tp->reord_seen) and the connection is in
    /// Recovery/Loss or has tp->reordering packets SACKed (the dup-ACK threshold); else
    /// min((min_rtt / 4) · steps, SRTT).
    /// </summary>
    public static long Window(int reordSeen, TcpCaState state, int sackedOut, int reordering, long minRtt, int steps, long srtt)
    {
        if (reordSeen == 0)
        {
            if (state >= TcpCaState.Recovery) return 0;
            if (sackedOut >= reordering) return 0;
        }
        return Math.Min((minRtt >> 2) * steps, srtt);
    }

    /// <summary>
    /// The RACK part of <c>tcp_dsack_seen</c>: a valid D-SACK may mean RACK's window was too small, but only once
    /// reordering was seen, and not for the D-SACK of a loss probe (FLAG_DSACK_TLP: the timer sent it, not RACK).
    /// </summary>
    public void OnDsack(int reordSeen, bool tlpDsack)
    {
        if (reordSeen > 0 && !tlpDsack) DsackSeen = true;
    }

    /// <summary>
    /// <c>tcp_rack_update_reo_wnd</c> on an ACK that delivered data: a pending D-SACK adds a step (at most 255) and
    /// persists for 16 recoveries — once per round trip: a D-SACK for data acknowledged up to where the window last
    /// grew (<paramref name="ack"/> not beyond the SND.NXT of then, standing for rack.last_delivered) is dropped;
    /// without D-SACK and with the persistence used up the window falls back to one step.
    /// </summary>
    public void Update(TcpSeq ack, TcpSeq sndNxt)
    {
        if (DsackSeen && _adjusted && ack <= _lastAdjust) DsackSeen = false;
        if (DsackSeen)
        {
            Steps = Math.Min(MaxSteps, Steps + 1);
            DsackSeen = false;
            _lastAdjust = sndNxt;
            _adjusted = true;
            Persist = RecoveryThresh;
        }
        else if (Persist == 0) Steps = 1;
    }

    /// <summary><c>tcp_try_undo_dsack</c>: a recovery undone by D-SACKs keeps the window one recovery longer (at most 16).</summary>
    public void OnDsackUndo() => Persist = Math.Min(RecoveryThresh, Persist + 1);

    /// <summary><c>tcp_try_undo_recovery</c> when the recovery was not undone: one recovery of the persistence used.</summary>
    public void OnRecoveryNotUndone()
    {
        if (Persist > 0) Persist--;
    }
}
