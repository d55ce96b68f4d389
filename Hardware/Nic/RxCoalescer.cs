namespace ActorStack.Hardware.Nic;

/// <summary>What the NIC does with a receive interrupt's cause (<see cref="RxCoalescer.FrameArrived"/>).</summary>
public enum RxIrqAction : byte
{
    /// <summary>The window is open: the interrupt comes when it ends.</summary>
    Wait,
    /// <summary>The frame opened a window: the interrupt is due at <see cref="RxCoalescer.DueNs"/>.</summary>
    Arm,
    /// <summary>Raise the interrupt now (the window has passed, or <c>rx-frames</c> frames are waiting).</summary>
    Raise,
}

/// <summary>
/// RX interrupt moderation of one queue (<c>ethtool -C DEV rx-usecs N rx-frames M</c>; the interrupt throttle of igb's
/// <c>EITR</c> register, as ethtool defines it: "how many µs to delay an RX interrupt after a packet arrives"). The
/// first frame DMA-written while the queue's interrupt is enabled starts the window; the interrupt is raised when
/// <see cref="UsecsNs"/> have passed since that frame, or at once when <see cref="Frames"/> frames (if not 0) are
/// waiting, and every frame of the window is then taken by the one NAPI poll it schedules. While NAPI runs the driver
/// keeps the interrupt masked (<c>igb_msix_ring</c> → <c>napi_schedule</c>, re-enabled by <c>igb_ring_irq_enable</c> at
/// <c>napi_complete_done</c>): frames arriving then are not a cause for this window, the poll sees them.
/// Plain state with the time passed in; not thread-safe: owned by the driver actor.
/// </summary>
public sealed class RxCoalescer
{
    public RxCoalescer(long usecsNs, int frames)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(usecsNs);
        ArgumentOutOfRangeException.ThrowIfNegative(frames);
        UsecsNs = usecsNs;
        Frames = frames;
    }

    /// <summary><c>rx-usecs</c> in ns.</summary>
    public long UsecsNs { get; }

    /// <summary><c>rx-frames</c> (0: no frame limit).</summary>
    public int Frames { get; }

    /// <summary>When the first frame since the last interrupt arrived (ns), or -1 when no frame is waiting for one.</summary>
    public long FirstNs { get; private set; } = -1;

    /// <summary>Frames that arrived in the current window.</summary>
    public int Waiting { get; private set; }

    /// <summary>When the current window ends and its interrupt is raised (ns); meaningful while <see cref="TimerArmed"/>.</summary>
    public long DueNs => FirstNs + UsecsNs;

    /// <summary>True while a window is open (its throttle timer runs).</summary>
    public bool TimerArmed { get; private set; }

    /// <summary>A frame was DMA-written at <paramref name="nowNs"/> while the queue's interrupt is enabled.</summary>
    public RxIrqAction FrameArrived(long nowNs)
    {
        if (FirstNs < 0)
        {
            FirstNs = nowNs;
            Waiting = 0;
        }
        Waiting++;
        if (nowNs >= DueNs || (Frames > 0 && Waiting >= Frames)) return RxIrqAction.Raise;
        if (TimerArmed) return RxIrqAction.Wait;
        TimerArmed = true;
        return RxIrqAction.Arm;
    }

    /// <summary>The interrupt was raised early (<c>rx-frames</c>), or NAPI completed: the window is closed, its cause cleared.</summary>
    public void Raised()
    {
        FirstNs = -1;
        Waiting = 0;
        TimerArmed = false;
    }
}
