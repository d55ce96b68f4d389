using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// The receiver's check of the <c>struct pktgen_hdr</c> at the start of every datagram (what pktgen's receive side,
/// <c>pgrx</c>, checks: the magic, then <c>seq_num</c> per flow), as the udp-sink applies it to what it reads. A flow is
/// the sender's (address, port). Each datagram is one of:
/// <list type="bullet">
/// <item>in order (seq = last + 1), or after a gap (last + 1 &lt; seq ≤ last + <see cref="ConfirmJump"/>: the missing
/// ones are counted in <see cref="Skipped"/>; pktgen numbers its frames across all flows, so its flows always skip);</item>
/// <item>a duplicate (seq seen among the last 64 of the flow, the anti-replay window of RFC 4303 §3.4.3), or reordered
/// (older than last and not seen, or older than the window: a late arrival);</item>
/// <item>a corrupt header: the payload is shorter than the header or its magic is wrong, on a flow whose datagrams have
/// carried the header; or the seq is implausible: more than <see cref="ConfirmJump"/> behind the flow, or more than
/// that ahead and not confirmed by the flow's next datagram (which continues from the old position instead). A corrupt
/// seq never moves the flow's position, so what follows it is not mis-sequenced;</item>
/// <item>unsequenced: no header on a flow that never carried one (another application's traffic); not checked.</item>
/// </list>
/// A jump ahead by more than <see cref="ConfirmJump"/> is held until the flow's next datagram: if that one continues
/// from it (within <see cref="ConfirmJump"/> after it), the jump was a real gap; otherwise it is counted corrupt.
/// Plain class, one owner; no time.
/// </summary>
public sealed class PktgenSeqCheck
{
    /// <summary>The width of the duplicate window (bits of <see cref="FlowState.Seen"/>).</summary>
    public const int Window = 64;

    private sealed class FlowState(uint last)
    {
        public uint Last = last;
        /// <summary>Bit i: seq <c>Last - i</c> arrived.</summary>
        public ulong Seen = 1;
        /// <summary>A jump ahead by more than ConfirmJump, waiting for the flow's next datagram.</summary>
        public uint? Suspect;
    }

    private readonly Dictionary<(uint Address, ushort Port), FlowState> _flows = new();

    /// <param name="confirmJump">The largest step ahead (and back) taken at once; a larger one needs the next datagram to confirm it.</param>
    public PktgenSeqCheck(int confirmJump = 1 << 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(confirmJump, Window);
        ConfirmJump = confirmJump;
    }

    public int ConfirmJump { get; }
    public long InOrder { get; private set; }
    /// <summary>Datagrams that arrived after a gap (their own count; the missing seqs are in <see cref="Skipped"/>).</summary>
    public long AfterGap { get; private set; }
    public long Skipped { get; private set; }
    public long Duplicates { get; private set; }
    public long Reordered { get; private set; }
    public long CorruptHeaders { get; private set; }
    public long Unsequenced { get; private set; }
    /// <summary>Out of order or duplicated: what the sink reports as <c>OutOfOrder</c>.</summary>
    public long OutOfOrder => Duplicates + Reordered;
    /// <summary>Flows whose datagrams carried the header.</summary>
    public int Flows => _flows.Count;

    /// <summary>Checks one datagram's payload from <paramref name="address"/>:<paramref name="port"/>.</summary>
    public void Observe(uint address, ushort port, ReadOnlySpan<byte> payload)
    {
        var key = (address, port);
        _flows.TryGetValue(key, out var f);
        if (!PktgenHeader.TryRead(payload, out var seq, out _))
        {
            if (f is null) Unsequenced++;
            else CorruptHeaders++;
            return;
        }
        if (f is null)
        {
            _flows[key] = new FlowState(seq);
            InOrder++;
            return;
        }
        if (f.Suspect is { } s)
        {
            f.Suspect = null;
            int fromSuspect = (int)(seq - s);
            if (fromSuspect > 0 && fromSuspect <= ConfirmJump) Advance(f, s); // the flow went on from it: a real gap
            else CorruptHeaders++;
        }
        int d = (int)(seq - f.Last); // RFC 1982 serial arithmetic: seq_num wraps
        if (d > ConfirmJump) f.Suspect = seq;
        else if (d > 0) Advance(f, seq);
        else if (d < -ConfirmJump) CorruptHeaders++;
        else if (-d < Window)
        {
            ulong bit = 1UL << -d;
            if ((f.Seen & bit) != 0) Duplicates++;
            else
            {
                f.Seen |= bit;
                Reordered++;
            }
        }
        else Reordered++;
    }

    private void Advance(FlowState f, uint seq)
    {
        int d = (int)(seq - f.Last);
        if (d == 1) InOrder++;
        else
        {
            AfterGap++;
            Skipped += d - 1;
        }
        f.Seen = d >= Window ? 1 : (f.Seen << d) | 1;
        f.Last = seq;
    }
}
