using System.Globalization;
using System.Text;

namespace ActorStack.Messages;

/// <summary>Delay distribution tables shipped with iproute2 (<c>/usr/lib/tc/*.dist</c>).</summary>
public enum NetemDistribution
{
    /// <summary>No table: <c>tabledist</c> draws jitter uniformly in [-jitter, +jitter).</summary>
    None,
    /// <summary>Named explicitly; iproute2 ships no uniform.dist, the kernel's table-less default is used.</summary>
    Uniform,
    Normal,
    Pareto,
    ParetoNormal,
}

/// <summary>The kernel's <c>loss_model</c>: <c>CLG_RANDOM</c>, <c>CLG_4_STATES</c>, <c>CLG_GILB_ELL</c>.</summary>
public enum NetemLossModel
{
    Random,
    FourState,
    GilbertElliott,
}

/// <summary>
/// <c>struct tc_netem_gimodel</c>: 4-state Markov loss (Salsano et al., "GI" model).
/// Probabilities are scaled like the kernel's: 0 = never, <see cref="uint.MaxValue"/> = always.
/// </summary>
public readonly record struct NetemGiModel(uint P13, uint P31, uint P32, uint P23, uint P14);

/// <summary>
/// <c>struct tc_netem_gemodel</c>: Gilbert-Elliott loss. <see cref="H"/> is the kernel's h
/// (tc takes "1-h" and stores <c>UINT32_MAX - (1-h)</c>); <see cref="K1"/> is "1-k".
/// </summary>
public readonly record struct NetemGeModel(uint P, uint R, uint H, uint K1);

/// <summary><c>struct tc_netem_slot</c>: times in ns; 0 packets/bytes means unlimited (the kernel stores INT_MAX).</summary>
public readonly record struct NetemSlot(long MinDelayNs, long MaxDelayNs, int MaxPackets = 0, int MaxBytes = 0,
    NetemDistribution Distribution = NetemDistribution.None, long DistDelayNs = 0, long DistJitterNs = 0);

/// <summary>
/// Every tc-netem parameter with the Linux default, in the kernel's own representation
/// (<c>struct netem_sched_data</c>): the options <c>tc qdisc … netem</c> sends the kernel (<c>struct tc_netem_qopt</c>
/// and its <c>TCA_NETEM_*</c> attributes), so it lives with the messages that carry it (<c>SetNetem</c>, the
/// wire's options) rather than with the tunables in Config. Probabilities and correlations are u32 scaled so that
/// <see cref="uint.MaxValue"/> is 100% (tc's <c>set_percent</c>), times are ns, the rate is bytes/s.
/// Build one with <c>NetemParser.TryParse</c> (Hardware/Netem) or with <c>with</c> on <see cref="Default"/>
/// and <see cref="Percent"/>.
/// </summary>
public sealed record NetemQopt
{
    public static readonly NetemQopt Default = new();

    /// <summary><c>limit</c>: packets held (sch->limit); tc default 1000.</summary>
    public uint Limit { get; init; } = 1000;
    /// <summary><c>latency</c> in ns (the kernel's <c>q->latency</c>).</summary>
    public long LatencyNs { get; init; }
    /// <summary><c>jitter</c> in ns, capped at INT_MAX as <c>netem_change</c> does.</summary>
    public long JitterNs { get; init; }
    public uint DelayCorrelation { get; init; }
    public NetemDistribution Distribution { get; init; } = NetemDistribution.None;

    public NetemLossModel LossModel { get; init; } = NetemLossModel.Random;
    /// <summary><c>loss random</c> probability (<c>q->loss</c>).</summary>
    public uint Loss { get; init; }
    public uint LossCorrelation { get; init; }
    public NetemGiModel FourState { get; init; }
    public NetemGeModel GilbertElliott { get; init; }
    /// <summary><c>ecn</c>: mark CE on ECN-capable packets instead of dropping them.</summary>
    public bool Ecn { get; init; }

    public uint Duplicate { get; init; }
    public uint DuplicateCorrelation { get; init; }
    public uint Corrupt { get; init; }
    public uint CorruptCorrelation { get; init; }
    public uint Reorder { get; init; }
    public uint ReorderCorrelation { get; init; }
    /// <summary><c>gap</c>; tc sets 1 when reorder is given without it.</summary>
    public uint Gap { get; init; }

    /// <summary><c>rate</c> in bytes per second; 0 = no rate emulation.</summary>
    public ulong RateBytesPerSecond { get; init; }
    public int PacketOverhead { get; init; }
    public uint CellSize { get; init; }
    public int CellOverhead { get; init; }

    /// <summary><c>slot</c>; null when not configured.</summary>
    public NetemSlot? Slot { get; init; }

    /// <summary><c>seed</c> (TCA_NETEM_PRNG_SEED). The caller seeds the <see cref="Random"/> given to
    /// <see cref="NetemQueue"/> from it (or from the scenario seed when null).</summary>
    public ulong? Seed { get; init; }

    /// <summary>tc's <c>set_percent</c>: <c>rint(percent/100 * UINT32_MAX)</c>.</summary>
    public static uint Percent(double percent) => (uint)Math.Round(percent / 100.0 * uint.MaxValue, MidpointRounding.ToEven);

    /// <summary>
    /// The kernel-side checks of <c>netem_change</c>/<c>validate_slot</c>/<c>validate_time</c> and tc's
    /// cross-parameter checks (<c>netem_parse_opt</c>), with tc's / the kernel's messages.
    /// </summary>
    public bool TryValidate(out string error)
    {
        if (LatencyNs < 0) { error = "negative latency"; return false; }
        if (JitterNs < 0) { error = "negative jitter"; return false; }
        if (Reorder != 0 && LatencyNs == 0) { error = "reordering not possible without specifying some delay"; return false; }
        if (Reorder == 0 && Gap > 0) { error = "gap specified without reorder probability"; return false; }
        if (Ecn && LossModel == NetemLossModel.Random && Loss == 0) { error = "ecn requested without loss model"; return false; }
        if (Distribution != NetemDistribution.None && (LatencyNs == 0 || JitterNs == 0))
        {
            error = "distribution specified but no latency and jitter values";
            return false;
        }
        if (Slot is { } s)
        {
            if (s.MinDelayNs < 0 || s.MaxDelayNs < 0) { error = "negative slot delay"; return false; }
            if (s.MinDelayNs > s.MaxDelayNs) { error = "slot min delay greater than max delay"; return false; }
            if (s.DistDelayNs < 0 || s.DistJitterNs < 0) { error = "negative dist delay"; return false; }
            if (s.MaxPackets < 0 || s.MaxBytes < 0) { error = "negative slot limit"; return false; }
        }
        error = "";
        return true;
    }

    /// <summary>Options as <c>tc qdisc show</c> prints them (<c>netem_print_opt</c>), starting at "limit".</summary>
    public override string ToString()
    {
        var b = new StringBuilder();
        b.Append("limit ").Append(Limit.ToString(CultureInfo.InvariantCulture));
        // tc reads back psched ticks (ns >> 6) and converts them to whole microseconds.
        uint latencyTicks = (uint)Math.Min(LatencyNs >> 6, uint.MaxValue);
        uint jitterTicks = (uint)Math.Min(JitterNs >> 6, uint.MaxValue);
        if (latencyTicks != 0)
        {
            b.Append(" delay ").Append(TcFormat.Ticks(latencyTicks));
            if (jitterTicks != 0)
                b.Append("  ").Append(TcFormat.Ticks(jitterTicks));
            if (jitterTicks != 0 && DelayCorrelation != 0)
                b.Append(' ').Append(TcFormat.Percent(DelayCorrelation));
        }
        if (LossModel == NetemLossModel.Random && Loss != 0)
        {
            b.Append(" loss ").Append(TcFormat.Percent(Loss));
            if (LossCorrelation != 0) b.Append(' ').Append(TcFormat.Percent(LossCorrelation));
        }
        if (LossModel == NetemLossModel.FourState)
        {
            var g = FourState;
            b.Append(" loss state p13 ").Append(TcFormat.Percent(g.P13))
             .Append(" p31 ").Append(TcFormat.Percent(g.P31))
             .Append(" p32 ").Append(TcFormat.Percent(g.P32))
             .Append(" p23 ").Append(TcFormat.Percent(g.P23))
             .Append(" p14 ").Append(TcFormat.Percent(g.P14));
        }
        if (LossModel == NetemLossModel.GilbertElliott)
        {
            var g = GilbertElliott;
            b.Append(" loss gemodel p ").Append(TcFormat.Percent(g.P))
             .Append(" r ").Append(TcFormat.Percent(g.R))
             .Append(" 1-h ").Append(TcFormat.Percent(uint.MaxValue - g.H))
             .Append(" 1-k ").Append(TcFormat.Percent(g.K1));
        }
        if (Duplicate != 0)
        {
            b.Append(" duplicate ").Append(TcFormat.Percent(Duplicate));
            if (DuplicateCorrelation != 0) b.Append(' ').Append(TcFormat.Percent(DuplicateCorrelation));
        }
        if (Reorder != 0)
        {
            b.Append(" reorder ").Append(TcFormat.Percent(Reorder));
            if (ReorderCorrelation != 0) b.Append(' ').Append(TcFormat.Percent(ReorderCorrelation));
        }
        if (Corrupt != 0)
        {
            b.Append(" corrupt ").Append(TcFormat.Percent(Corrupt));
            if (CorruptCorrelation != 0) b.Append(' ').Append(TcFormat.Percent(CorruptCorrelation));
        }
        if (Seed is { } seed)
            b.Append(" seed ").Append(seed.ToString(CultureInfo.InvariantCulture));
        if (RateBytesPerSecond != 0)
        {
            b.Append(" rate ").Append(TcFormat.Rate(RateBytesPerSecond));
            if (PacketOverhead != 0) b.Append(" packetoverhead ").Append(PacketOverhead.ToString(CultureInfo.InvariantCulture));
            if (CellSize != 0) b.Append(" cellsize ").Append(CellSize.ToString(CultureInfo.InvariantCulture));
            if (CellOverhead != 0) b.Append(" celloverhead ").Append(CellOverhead.ToString(CultureInfo.InvariantCulture));
        }
        if (Slot is { } s && (s.MinDelayNs != 0 || s.MaxDelayNs != 0 || s.DistJitterNs != 0))
        {
            if (s.DistJitterNs > 0)
                b.Append(" slot distribution ").Append(TcFormat.Time64(s.DistDelayNs)).Append(' ').Append(TcFormat.Time64(s.DistJitterNs));
            else
                b.Append(" slot ").Append(TcFormat.Time64(s.MinDelayNs)).Append(' ').Append(TcFormat.Time64(s.MaxDelayNs));
            if (s.MaxPackets != 0) b.Append(" packets ").Append(s.MaxPackets.ToString(CultureInfo.InvariantCulture));
            if (s.MaxBytes != 0) b.Append(" bytes ").Append(s.MaxBytes.ToString(CultureInfo.InvariantCulture));
        }
        if (Ecn) b.Append(" ecn ");
        if (Gap != 0) b.Append(" gap ").Append(Gap.ToString(CultureInfo.InvariantCulture));
        return b.ToString();
    }
}

/// <summary>iproute2's printers: <c>print_time</c>, <c>print_time64</c>, <c>print_rate</c>, netem's percent.</summary>
public static class TcFormat
{
    /// <summary>tick_in_usec on a kernel whose psched clock is 64 ns per tick (/proc/net/psched 000003e8 00000040).</summary>
    public const double TickInUsec = 1000.0 / 64.0;

    /// <summary>C's <c>%.{precision}g</c>.</summary>
    public static string G(double v, int precision)
        => v.ToString("G" + precision, CultureInfo.InvariantCulture).Replace('E', 'e');

    public static string Percent(uint scaled) => G(100.0 * scaled / uint.MaxValue, 6) + "%";

    /// <summary><c>sprint_ticks</c> = <c>print_time(tc_core_tick2time(ticks))</c>, times in µs.</summary>
    public static string Ticks(uint ticks)
    {
        uint usec = (uint)(ticks / TickInUsec);
        double t = usec;
        if (t >= 1_000_000) return G(t / 1_000_000, 3) + "s";
        if (t >= 1000) return G(t / 1000, 3) + "ms";
        return usec.ToString(CultureInfo.InvariantCulture) + "us";
    }

    /// <summary><c>print_time64</c>, times in ns.</summary>
    public static string Time64(long ns)
    {
        double t = ns;
        if (ns >= 1_000_000_000) return G(t / 1_000_000_000, 3) + "s";
        if (ns >= 1_000_000) return G(t / 1_000_000, 3) + "ms";
        if (ns >= 1_000) return G(t / 1_000, 3) + "us";
        return ns.ToString(CultureInfo.InvariantCulture) + "ns";
    }

    /// <summary><c>print_rate</c> without -iec: bytes/s shown in bits with the largest exact SI unit.</summary>
    public static string Rate(ulong bytesPerSecond)
    {
        string[] units = ["", "K", "M", "G", "T"];
        ulong rate = bytesPerSecond << 3;
        int i;
        for (i = 0; i < units.Length - 1; i++)
        {
            if (rate < 1000) break;
            if (rate % 1000 != 0 && rate < 1000 * 1000) break;
            rate /= 1000;
        }
        return ((double)rate).ToString("F0", CultureInfo.InvariantCulture) + units[i] + "bit";
    }
}
