namespace ActorStack.Actors.Wire;

/// <summary>
/// The arithmetic of an Ethernet link's line rate (IEEE 802.3 clause 4.4.2): how long a frame occupies the medium.
/// The simulation's frames carry no FCS, so a frame of <c>L</c> bytes is on the wire as
/// <c>max(L, 60)</c> (padded to the 64-byte minimum with its FCS) + 4 FCS + 8 preamble/SFD + 12 inter-frame gap bytes,
/// each 8 bits at <c>speed</c> Mbit/s (<c>ethtool DEV</c>: "Speed: 10000Mb/s").
/// </summary>
public static class LineRate
{
    /// <summary>Default <c>speed</c> (Mbit/s) of a device or switch: a 10G NIC, as Linux reports it.</summary>
    public const int DefaultSpeedMbps = 10_000;

    /// <summary>Slowest and fastest <c>speed</c> accepted (10BASE-T … 400GBASE).</summary>
    public const int MinSpeedMbps = 10, MaxSpeedMbps = 400_000;

    /// <summary>Frame bytes before the FCS below which the MAC pads (ETH_ZLEN).</summary>
    public const int MinFrameNoFcs = 60;

    /// <summary>Bytes a frame costs on the medium besides its own: FCS (4), preamble and SFD (8), inter-frame gap (12).</summary>
    public const int OverheadBytes = 4 + 8 + 12;

    /// <summary>Bits one frame of <paramref name="frameBytes"/> (no FCS) occupies on the medium.</summary>
    public static long WireBits(int frameBytes) => (long)(Math.Max(frameBytes, MinFrameNoFcs) + OverheadBytes) * 8;

    /// <summary>
    /// The time a frame occupies a link of <paramref name="speedMbps"/>, in ps (exact for every speed that divides
    /// 10^6 Mbit/s; otherwise rounded down to the ps): bits × 10^6 / speed.
    /// </summary>
    public static long WireTimePs(int frameBytes, int speedMbps) => WireBits(frameBytes) * 1_000_000 / speedMbps;

    /// <summary>
    /// The time a frame occupies the link, in whole ns rounded up (what a lone frame on an idle link costs on the
    /// virtual clock): 64-byte frame at 10 Gbit/s = 672 bits = 67.2 ns → 68 ns.
    /// </summary>
    public static long WireTimeNs(int frameBytes, int speedMbps) => (WireTimePs(frameBytes, speedMbps) + 999) / 1000;

    /// <summary>
    /// The speed two ends run at after autonegotiation (IEEE 802.3 clause 28, <c>ethtool</c>'s "Speed:" on both ends):
    /// the highest both support, i.e. the lower of the two.
    /// </summary>
    public static int Negotiate(int speedA, int speedB) => Math.Min(speedA, speedB);
}

/// <summary>
/// One direction of a link serialising frames at its line rate, as a plain FIFO with the time passed in: a frame
/// offered at <c>now</c> starts when the medium is free (<c>max(now, busy-until)</c>) and its last bit leaves
/// <see cref="LineRate.WireTimePs"/> later; that is its TX completion and the instant it enters the medium's
/// propagation. Busy-until is kept in ps, so back-to-back frames add up exactly (N minimum frames at 10 Gbit/s end
/// at N × 67.2 ns); a completion is due at the first whole ns at or after the last bit left.
/// Bounded by its sender: a NIC puts at most its TX ring on it, a switch port its <c>txqueuelen</c>.
/// </summary>
public sealed class LineSerializer<T>
{
    private readonly Queue<(T Item, long FinishNs)> _q = new();
    // The instant the medium is free again, in ps since time 0.
    private long _busyUntilPs;
    private long _lastFinishNs;

    public LineSerializer(int speedMbps)
    {
        if (speedMbps is < LineRate.MinSpeedMbps or > LineRate.MaxSpeedMbps)
            throw new ArgumentOutOfRangeException(nameof(speedMbps), speedMbps, $"must be {LineRate.MinSpeedMbps}..{LineRate.MaxSpeedMbps} Mbit/s");
        SpeedMbps = speedMbps;
    }

    /// <summary>The line rate, Mbit/s.</summary>
    public int SpeedMbps { get; }

    /// <summary>Frames on the medium whose last bit has not left yet (or whose completion was not taken yet).</summary>
    public int Count => _q.Count;

    /// <summary>When the medium is free again, in ns (rounded up); at or before now when idle.</summary>
    public long BusyUntilNs => (_busyUntilPs + 999) / 1000;

    /// <summary>The completion time of the oldest frame still on the medium; null when none is.</summary>
    public long? NextFinishNs => _q.TryPeek(out var e) ? e.FinishNs : null;

    /// <summary>
    /// When the TX completion interrupt fires with <paramref name="coalesceNs"/> of interrupt coalescing
    /// (<c>ethtool -C tx-usecs</c>): that long after the first queued frame finishes, or when the last queued one does
    /// if that is sooner (the ring went idle); null when nothing is queued.
    /// </summary>
    public long? CompletionDueNs(long coalesceNs)
        => _q.TryPeek(out var e) ? Math.Min(e.FinishNs + coalesceNs, _lastFinishNs) : null;

    /// <summary>Puts a frame of <paramref name="bytes"/> on the medium at <paramref name="nowNs"/>; returns when its last bit leaves (ns, rounded up).</summary>
    public long Enqueue(T item, int bytes, long nowNs)
    {
        long start = Math.Max(nowNs * 1000, _busyUntilPs);
        _busyUntilPs = start + LineRate.WireTimePs(bytes, SpeedMbps);
        long finish = (_busyUntilPs + 999) / 1000;
        _q.Enqueue((item, finish));
        _lastFinishNs = finish;
        return finish;
    }

    /// <summary>Takes, oldest first, every frame whose completion is due at or before <paramref name="limitNs"/>.</summary>
    public int TakeDone(long limitNs, List<(T Item, long FinishNs)> done)
    {
        int n = 0;
        while (_q.TryPeek(out var e) && e.FinishNs <= limitNs)
        {
            _q.Dequeue();
            done.Add(e);
            n++;
        }
        return n;
    }
}
