using System.Globalization;
using ActorStack.Messages;

namespace ActorStack.Hardware.Netem;

/// <summary>
/// Parses the option part of <c>tc qdisc add dev X root netem ...</c> exactly as iproute2's
/// <c>netem_parse_opt</c> (tc/q_netem.c) does, then applies the checks the kernel's
/// <c>netem_change</c> makes. Keywords may be abbreviated as tc's <c>matches()</c> allows
/// ("del" for delay), tried in tc's order. Numbers follow tc's helpers:
/// <list type="bullet">
/// <item>delay/jitter: <c>get_time</c> — s|sec|secs, ms|msec|msecs, us|usec|usecs, a bare number is µs,
/// ns is NOT accepted; truncated to whole µs, then to 64 ns psched ticks (<c>tc_core_time2tick</c>);</item>
/// <item>slot times: <c>get_time64</c> — the same units plus ns|nsec|nsecs, a bare number is ns;</item>
/// <item>rate: <c>get_rate64</c> — bit, kbit (1000), mbit, gbit, tbit, Kibit…, Bps (bytes), KBps, MBps…,
/// matched case-insensitively so "bps" means bytes/s and "kbps" kilobytes/s; a bare number is bit/s;</item>
/// <item>percentages: <c>parse_percent</c> — "1%" or "1", 0..100;</item>
/// <item>limit and slot bytes: <c>get_size</c> (k/kb = 1024, m/mb, g/gb, kbit = 128, b).</item>
/// </list>
/// Error text: tc's own message, followed for a bad value by ": " and the value
/// (e.g. <c>Illegal "loss percent": 101%</c>).
/// </summary>
public static class NetemParser
{
    private const string Incomplete = "Command line is not complete. Try option \"help\"";
    private const string Usage =
        "Usage: ... netem [ limit PACKETS ] [ delay TIME [ JITTER [CORRELATION]]] " +
        "[ distribution {uniform|normal|pareto|paretonormal} ] [ corrupt PERCENT [CORRELATION]] " +
        "[ duplicate PERCENT [CORRELATION]] [ loss random PERCENT [CORRELATION]] " +
        "[ loss state P13 [P31 [P32 [P23 P14]]] [ loss gemodel PERCENT [R [1-H [1-K]]] [ seed SEED ] [ ecn ] " +
        "[ reorder PERCENT [CORRELATION] [ gap DISTANCE ]] [ rate RATE [PACKETOVERHEAD] [CELLSIZE] [CELLOVERHEAD]] " +
        "[ slot MIN_DELAY [MAX_DELAY] [packets MAX_PACKETS] [bytes MAX_BYTES]] " +
        "[ slot distribution {uniform|normal|pareto|paretonormal|custom} DELAY JITTER [packets MAX_PACKETS] [bytes MAX_BYTES]]";

    /// <summary>Parses <paramref name="spec"/>; never throws. On failure <paramref name="settings"/> is <see cref="NetemQopt.Default"/>.</summary>
    public static bool TryParse(string? spec, out NetemQopt settings, out string error)
    {
        settings = NetemQopt.Default;
        var argv = (spec ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var p = new State(argv);
        if (!p.Run(out error))
            return false;
        var s = p.Build();
        if (!s.TryValidate(out error))
            return false;
        settings = s;
        error = "";
        return true;
    }

    private sealed class State(string[] argv)
    {
        private int _i;
        // struct tc_netem_qopt and friends, as tc fills them.
        private uint _limit = 1000, _latencyTicks, _jitterTicks, _loss, _gap, _duplicate;
        private uint _delayCorr, _lossCorr, _dupCorr;
        private uint _reorder, _reorderCorr, _corrupt, _corruptCorr;
        private NetemLossModel _lossModel = NetemLossModel.Random;
        private bool _lossTypeSet;
        private NetemGiModel _gi;
        private NetemGeModel _ge;
        private bool _ecn;
        private NetemDistribution _dist = NetemDistribution.None;
        private ulong _rate; private int _packetOverhead, _cellOverhead; private uint _cellSize;
        private NetemSlot? _slot;
        private ulong? _seed;

        private string Arg => argv[_i];
        private bool NextArgOk => _i + 1 < argv.Length;
        private bool NextIsNumber => NextArgOk && char.IsAsciiDigit(argv[_i + 1][0]);
        private bool NextIsSignedNumber => NextArgOk && (char.IsAsciiDigit(argv[_i + 1][0]) || argv[_i + 1][0] == '-');

        private bool NextArg(out string error)
        {
            error = "";
            if (!NextArgOk) { error = Incomplete; return false; }
            _i++;
            return true;
        }

        private static string Illegal(string what, string value) => $"Illegal \"{what}\": {value}";

        public bool Run(out string error)
        {
            error = "";
            for (; _i < argv.Length; _i++)
            {
                string a = Arg;
                bool ok;
                if (Matches(a, "limit")) ok = ParseLimit(out error);
                else if (Matches(a, "latency") || Matches(a, "delay")) ok = ParseDelay(out error);
                else if (Matches(a, "loss") || Matches(a, "drop")) ok = ParseLoss(out error);
                else if (Matches(a, "seed")) ok = ParseSeed(out error);
                else if (Matches(a, "ecn")) { _ecn = true; ok = true; }
                else if (Matches(a, "reorder")) ok = ParseProbability("reorder", ref _reorder, ref _reorderCorr, out error);
                else if (Matches(a, "corrupt")) ok = ParseProbability("corrupt", ref _corrupt, ref _corruptCorr, out error);
                else if (Matches(a, "gap")) ok = ParseGap(out error);
                else if (Matches(a, "duplicate")) ok = ParseProbability("duplicate", ref _duplicate, ref _dupCorr, out error);
                else if (Matches(a, "distribution")) ok = ParseDistribution(out error);
                else if (Matches(a, "rate")) ok = ParseRate(out error);
                else if (Matches(a, "slot")) ok = ParseSlot(out error);
                else if (a == "help") { error = Usage; ok = false; }
                else { error = $"What is \"{a}\"?"; ok = false; }
                if (!ok) return false;
            }
            // netem_parse_opt's checks after the loop, in tc's order.
            if (_reorder != 0)
            {
                if (_latencyTicks == 0) { error = "reordering not possible without specifying some delay"; return false; }
                if (_gap == 0) _gap = 1;
            }
            else if (_gap > 0) { error = "gap specified without reorder probability"; return false; }
            if (_ecn && _loss == 0 && !_lossTypeSet) { error = "ecn requested without loss model"; return false; }
            if (_dist != NetemDistribution.None && (_latencyTicks == 0 || _jitterTicks == 0))
            {
                error = "distribution specified but no latency and jitter values";
                return false;
            }
            return true;
        }

        public NetemQopt Build() => new()
        {
            Limit = _limit,
            // PSCHED_TICKS2NS; jitter capped to INT_MAX as netem_change does.
            LatencyNs = (long)_latencyTicks << 6,
            JitterNs = Math.Min((long)_jitterTicks << 6, int.MaxValue),
            DelayCorrelation = _delayCorr,
            Distribution = _dist,
            LossModel = _lossModel,
            Loss = _loss,
            LossCorrelation = _lossCorr,
            FourState = _gi,
            GilbertElliott = _ge,
            Ecn = _ecn,
            Duplicate = _duplicate,
            DuplicateCorrelation = _dupCorr,
            Corrupt = _corrupt,
            CorruptCorrelation = _corruptCorr,
            Reorder = _reorder,
            ReorderCorrelation = _reorderCorr,
            Gap = _gap,
            RateBytesPerSecond = _rate,
            PacketOverhead = _packetOverhead,
            CellSize = _cellSize,
            CellOverhead = _cellOverhead,
            Slot = _slot,
            Seed = _seed,
        };

        private bool ParseLimit(out string error)
        {
            if (!NextArg(out error)) return false;
            if (!GetSize(Arg, out _limit)) { error = Illegal("limit", Arg); return false; }
            return true;
        }

        private bool ParseDelay(out string error)
        {
            if (!NextArg(out error)) return false;
            if (!GetTicks(Arg, out _latencyTicks, out error)) return false;
            if (NextIsNumber)
            {
                _i++;
                if (!GetTicks(Arg, out _jitterTicks, out error)) return false;
                if (NextIsNumber)
                {
                    _i++;
                    if (!GetPercent(Arg, out _delayCorr)) { error = Illegal("latency", Arg); return false; }
                }
            }
            return true;
        }

        private bool ParseLoss(out string error)
        {
            if (_loss > 0 || _lossTypeSet) { error = Illegal("duplicate loss argument", Arg); return false; }
            if (!NextArg(out error)) return false;
            // Old (deprecated) syntax: "loss 1%".
            if (char.IsAsciiDigit(Arg[0]) || Arg == "random")
            {
                if (Arg == "random" && !NextArg(out error)) return false;
                if (!GetPercent(Arg, out _loss)) { error = Illegal("loss percent", Arg); return false; }
                if (NextIsNumber)
                {
                    _i++;
                    if (!GetPercent(Arg, out _lossCorr)) { error = Illegal("loss correllation", Arg); return false; }
                }
                return true;
            }
            if (Arg == "state")
            {
                if (!NextArg(out error)) return false;
                if (!ParsePercent(Arg, out double p13)) { error = Illegal("loss p13", Arg); return false; }
                // tc's defaults: p31 = 1 - p13, p32 = 0, p23 = 1, p14 = 0.
                _gi = new NetemGiModel(SetPercent(p13), SetPercent(1.0 - p13), 0, uint.MaxValue, 0);
                _lossModel = NetemLossModel.FourState;
                _lossTypeSet = true;
                if (!NextIsNumber) return true;
                _i++;
                if (!GetPercent(Arg, out uint v)) { error = Illegal("loss p31", Arg); return false; }
                _gi = _gi with { P31 = v };
                if (!NextIsNumber) return true;
                _i++;
                if (!GetPercent(Arg, out v)) { error = Illegal("loss p32", Arg); return false; }
                _gi = _gi with { P32 = v };
                if (!NextIsNumber) return true;
                _i++;
                if (!GetPercent(Arg, out v)) { error = Illegal("loss p23", Arg); return false; }
                _gi = _gi with { P23 = v };
                if (!NextIsNumber) return true;
                _i++;
                if (!GetPercent(Arg, out v)) { error = Illegal("loss p14", Arg); return false; }
                _gi = _gi with { P14 = v };
                return true;
            }
            if (Arg == "gemodel")
            {
                if (!NextArg(out error)) return false;
                if (!ParsePercent(Arg, out double pp)) { error = Illegal("loss gemodel p", Arg); return false; }
                // tc's defaults: r = 1 - p, h = 0 (1-h = 100%), 1-k = 0.
                _ge = new NetemGeModel(SetPercent(pp), SetPercent(1.0 - pp), 0, 0);
                _lossModel = NetemLossModel.GilbertElliott;
                _lossTypeSet = true;
                if (!NextIsNumber) return true;
                _i++;
                if (!GetPercent(Arg, out uint v)) { error = Illegal("loss gemodel r", Arg); return false; }
                _ge = _ge with { R = v };
                if (!NextIsNumber) return true;
                _i++;
                if (!GetPercent(Arg, out v)) { error = Illegal("loss gemodel h", Arg); return false; }
                _ge = _ge with { H = uint.MaxValue - v }; // option is "1-h", the kernel wants h
                if (!NextIsNumber) return true;
                _i++;
                if (!GetPercent(Arg, out v)) { error = Illegal("loss gemodel k", Arg); return false; }
                _ge = _ge with { K1 = v };
                return true;
            }
            error = $"Unknown loss parameter: {Arg}";
            return false;
        }

        private bool ParseSeed(out string error)
        {
            if (!NextArg(out error)) return false;
            if (!CNumber.TryStrtoull(Arg, 10, out ulong seed)) { error = Illegal("seed", Arg); return false; }
            _seed = seed;
            return true;
        }

        private bool ParseProbability(string name, ref uint probability, ref uint correlation, out string error)
        {
            if (!NextArg(out error)) return false;
            if (!GetPercent(Arg, out probability)) { error = Illegal(name, Arg); return false; }
            if (NextIsNumber)
            {
                _i++;
                if (!GetPercent(Arg, out correlation)) { error = Illegal(name, Arg); return false; }
            }
            return true;
        }

        private bool ParseGap(out string error)
        {
            if (!NextArg(out error)) return false;
            if (!CNumber.TryGetU32(Arg, out _gap)) { error = Illegal("gap", Arg); return false; }
            return true;
        }

        private bool ParseDistribution(out string error)
        {
            if (!NextArg(out error)) return false;
            if (!TryDistribution(Arg, out _dist, out error)) return false;
            return true;
        }

        private static bool TryDistribution(string name, out NetemDistribution dist, out string error)
        {
            error = "";
            dist = name switch
            {
                "uniform" => NetemDistribution.Uniform,
                "normal" => NetemDistribution.Normal,
                "pareto" => NetemDistribution.Pareto,
                "paretonormal" => NetemDistribution.ParetoNormal,
                _ => NetemDistribution.None,
            };
            if (dist != NetemDistribution.None) return true;
            error = $"No distribution data for {name} (/usr/lib/tc/{name}.dist: No such file or directory)";
            return false;
        }

        private bool ParseRate(out string error)
        {
            if (!NextArg(out error)) return false;
            if (Arg.Contains('%'))
            {
                // get_percent_rate64 needs the device's speed, which a wire direction does not have.
                error = "No device specified; specify device to rate limit by percentage";
                return false;
            }
            if (!GetRate64(Arg, out _rate)) { error = Illegal("rate", Arg); return false; }
            if (NextIsSignedNumber)
            {
                _i++;
                if (!CNumber.TryGetS32(Arg, out _packetOverhead)) { error = Illegal("rate", Arg); return false; }
            }
            if (NextIsNumber)
            {
                _i++;
                if (!CNumber.TryGetU32(Arg, out _cellSize)) { error = Illegal("rate", Arg); return false; }
            }
            if (NextIsSignedNumber)
            {
                _i++;
                if (!CNumber.TryGetS32(Arg, out _cellOverhead)) { error = Illegal("rate", Arg); return false; }
            }
            return true;
        }

        private bool ParseSlot(out string error)
        {
            var slot = new NetemSlot();
            if (NextIsNumber)
            {
                _i++;
                if (!GetTime64(Arg, out long min)) { error = Illegal("slot min_delay", Arg); return false; }
                long max = min;
                if (NextIsNumber)
                {
                    _i++;
                    if (!GetTime64(Arg, out max) || max < min) { error = Illegal("slot max_delay", Arg); return false; }
                }
                slot = slot with { MinDelayNs = min, MaxDelayNs = max };
            }
            else
            {
                if (!NextArg(out error)) return false;
                if (Arg != "distribution") { error = $"Unknown slot parameter: {Arg}"; return false; }
                if (!NextArg(out error)) return false;
                if (!TryDistribution(Arg, out var dist, out error)) return false;
                if (!NextArg(out error)) return false;
                if (!GetTime64(Arg, out long delay)) { error = Illegal("slot delay", Arg); return false; }
                if (!NextArg(out error)) return false;
                if (!GetTime64(Arg, out long jitter)) { error = Illegal("slot jitter", Arg); return false; }
                if (jitter <= 0) { error = $"Non-positive jitter: {Arg}"; return false; }
                slot = slot with { Distribution = dist, DistDelayNs = delay, DistJitterNs = jitter };
            }
            if (NextArgOk && Matches(argv[_i + 1], "packets"))
            {
                _i++;
                if (!NextArgOk || !CNumber.TryGetS32(argv[_i + 1], out int packets))
                {
                    error = Illegal("slot packets", NextArgOk ? argv[_i + 1] : "");
                    return false;
                }
                _i++;
                slot = slot with { MaxPackets = packets };
            }
            if (NextArgOk && Matches(argv[_i + 1], "bytes"))
            {
                _i++;
                if (!NextArgOk || !GetSize(argv[_i + 1], out uint bytes))
                {
                    error = Illegal("slot bytes", NextArgOk ? argv[_i + 1] : "");
                    return false;
                }
                _i++;
                slot = slot with { MaxBytes = unchecked((int)bytes) };
            }
            _slot = slot;
            error = "";
            return true;
        }

        /// <summary><c>get_ticks</c>: <c>get_time</c>, the too-large check, then µs → 64 ns ticks.</summary>
        private bool GetTicks(string s, out uint ticks, out string error)
        {
            ticks = 0;
            error = "";
            if (!GetTime(s, out uint usec)) { error = Illegal("latency", s); return false; }
            double t = usec * TcFormat.TickInUsec;
            if (t >= 4294967296.0)
            {
                error = $"Illegal {usec} time (too large): {s}";
                return false;
            }
            ticks = (uint)t;
            return true;
        }
    }

    /// <summary>tc's <c>matches(arg, keyword)</c>: arg is a non-empty prefix of keyword.</summary>
    internal static bool Matches(string arg, string keyword)
        => arg.Length > 0 && arg.Length <= keyword.Length && keyword.StartsWith(arg, StringComparison.Ordinal);

    /// <summary><c>parse_percent</c>: value/100, out of [0,1] or a suffix other than "%" fails.</summary>
    internal static bool ParsePercent(string s, out double fraction)
    {
        int end = CNumber.Strtod(s, out double v);
        fraction = v / 100.0;
        if (double.IsNaN(fraction) || fraction > 1.0 || fraction < 0.0) return false;
        string rest = s[end..];
        return rest.Length == 0 || rest == "%";
    }

    internal static uint SetPercent(double fraction) => (uint)Math.Round(fraction * uint.MaxValue, MidpointRounding.ToEven);

    internal static bool GetPercent(string s, out uint scaled)
    {
        scaled = 0;
        if (!ParsePercent(s, out double f)) return false;
        scaled = SetPercent(f);
        return true;
    }

    /// <summary><c>get_time</c>: whole microseconds (TIME_UNITS_PER_SEC = 1000000).</summary>
    internal static bool GetTime(string s, out uint usec)
    {
        usec = 0;
        int end = CNumber.Strtod(s, out double t);
        if (end == 0) return false;
        string unit = s[end..].ToLowerInvariant();
        t *= unit switch
        {
            "" => 1,
            "s" or "sec" or "secs" => 1_000_000,
            "ms" or "msec" or "msecs" => 1_000,
            "us" or "usec" or "usecs" => 1,
            _ => double.NaN,
        };
        // A negative or overflowing value wraps in tc's unsigned conversion; reject it instead.
        if (double.IsNaN(t) || t < 0 || t >= 4294967296.0) return false;
        usec = (uint)t;
        return true;
    }

    /// <summary><c>get_time64</c>: nanoseconds; a bare number is ns.</summary>
    internal static bool GetTime64(string s, out long ns)
    {
        ns = 0;
        int end = CNumber.Strtod(s, out double t);
        if (end == 0) return false;
        string unit = s[end..].ToLowerInvariant();
        t *= unit switch
        {
            "" => 1,
            "s" or "sec" or "secs" => 1_000_000_000,
            "ms" or "msec" or "msecs" => 1_000_000,
            "us" or "usec" or "usecs" => 1_000,
            "ns" or "nsec" or "nsecs" => 1,
            _ => double.NaN,
        };
        if (double.IsNaN(t) || t < long.MinValue || t >= 9.2233720368547758e18) return false;
        ns = (long)t;
        return true;
    }

    private static readonly (string Name, double Scale)[] RateSuffixes =
    [
        ("bit", 1.0), ("Kibit", 1024.0), ("kbit", 1000.0), ("mibit", 1024.0 * 1024), ("mbit", 1e6),
        ("gibit", 1024.0 * 1024 * 1024), ("gbit", 1e9), ("tibit", 1024.0 * 1024 * 1024 * 1024), ("tbit", 1e12),
        ("Bps", 8.0), ("KiBps", 8.0 * 1024), ("KBps", 8000.0), ("MiBps", 8.0 * 1024 * 1024), ("MBps", 8e6),
        ("GiBps", 8.0 * 1024 * 1024 * 1024), ("GBps", 8e9), ("TiBps", 8.0 * 1024 * 1024 * 1024 * 1024), ("TBps", 8e12),
    ];

    /// <summary><c>get_rate64</c>: bytes per second; suffixes matched case-insensitively in table order.</summary>
    internal static bool GetRate64(string s, out ulong bytesPerSecond)
    {
        bytesPerSecond = 0;
        int end = CNumber.Strtod(s, out double bps);
        if (end == 0) return false;
        string rest = s[end..];
        if (rest.Length > 0)
        {
            bool found = false;
            foreach (var (name, scale) in RateSuffixes)
                if (string.Equals(name, rest, StringComparison.OrdinalIgnoreCase)) { bps *= scale; found = true; break; }
            if (!found) return false;
        }
        bps /= 8;
        if (double.IsNaN(bps) || bps < 0 || bps >= 18446744073709551616.0) return false;
        bytesPerSecond = (ulong)bps;
        return true;
    }

    /// <summary><c>get_size</c>, with its overflow check.</summary>
    internal static bool GetSize(string s, out uint size)
    {
        size = 0;
        int end = CNumber.Strtod(s, out double sz);
        if (end == 0) return false;
        string unit = s[end..].ToLowerInvariant();
        sz *= unit switch
        {
            "" or "b" => 1,
            "kb" or "k" => 1024,
            "gb" or "g" => 1024.0 * 1024 * 1024,
            "gbit" => 1024.0 * 1024 * 1024 / 8,
            "mb" or "m" => 1024 * 1024,
            "mbit" => 1024 * 1024 / 8,
            "kbit" => 1024 / 8,
            _ => double.NaN,
        };
        if (double.IsNaN(sz) || sz < 0 || sz >= 4294967296.0 || sz != Math.Floor(sz)) return false;
        size = (uint)sz;
        return true;
    }
}

/// <summary>The C library number parsers tc relies on (strtod, strtoul/strtol with base 0, strtoull).</summary>
internal static class CNumber
{
    /// <summary>C <c>strtod</c> on a whitespace-free token: returns the count of characters consumed (0 = no number).</summary>
    public static int Strtod(string s, out double value)
    {
        value = 0;
        int i = 0;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
        foreach (var word in (string[])["infinity", "inf", "nan"])
        {
            if (s.Length - i >= word.Length && string.Compare(s, i, word, 0, word.Length, StringComparison.OrdinalIgnoreCase) == 0)
            {
                value = word == "nan" ? double.NaN : (s[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity);
                return i + word.Length;
            }
        }
        int digits = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; digits++; }
        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; digits++; }
        }
        if (digits == 0) return 0;
        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            int j = i + 1;
            if (j < s.Length && (s[j] == '+' || s[j] == '-')) j++;
            int expDigits = 0;
            while (j < s.Length && char.IsAsciiDigit(s[j])) { j++; expDigits++; }
            if (expDigits > 0) i = j;
        }
        value = double.Parse(s.AsSpan(0, i), NumberStyles.Float, CultureInfo.InvariantCulture);
        return i;
    }

    /// <summary><c>strtoull</c> with base 0 (0x hex, leading-0 octal) or an explicit base; whole string must be consumed.</summary>
    private static bool TryParseUnsigned(string s, int numberBase, out ulong value, out bool negative)
    {
        value = 0;
        negative = false;
        int i = 0;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) { negative = s[i] == '-'; i++; }
        int b = numberBase;
        if ((b == 0 || b == 16) && s.Length - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) { b = 16; i += 2; }
        else if (b == 0 && s.Length - i > 1 && s[i] == '0') { b = 8; }
        else if (b == 0) b = 10;
        if (i >= s.Length) return false;
        UInt128 acc = 0;
        for (; i < s.Length; i++)
        {
            int d = s[i] switch
            {
                >= '0' and <= '9' => s[i] - '0',
                >= 'a' and <= 'f' => s[i] - 'a' + 10,
                >= 'A' and <= 'F' => s[i] - 'A' + 10,
                _ => 99,
            };
            if (d >= b) return false;
            acc = acc * (uint)b + (uint)d;
            if (acc > ulong.MaxValue) return false; // ERANGE
        }
        value = (ulong)acc;
        return true;
    }

    /// <summary><c>get_u32</c>: strtoul base 0, no trailing characters, at most 0xFFFFFFFF.</summary>
    public static bool TryGetU32(string s, out uint value)
    {
        value = 0;
        if (!TryParseUnsigned(s, 0, out ulong v, out bool neg)) return false;
        if (neg && v != 0) return false; // strtoul wraps a negative value past UINT32_MAX on 64-bit
        if (v > uint.MaxValue) return false;
        value = (uint)v;
        return true;
    }

    /// <summary><c>get_s32</c>: strtol base 0, within INT_MIN..INT_MAX.</summary>
    public static bool TryGetS32(string s, out int value)
    {
        value = 0;
        if (!TryParseUnsigned(s, 0, out ulong v, out bool neg)) return false;
        if (neg ? v > 2147483648UL : v > int.MaxValue) return false;
        value = neg ? (int)-(long)v : (int)v;
        return true;
    }

    /// <summary><c>get_u64</c>: strtoull; a leading '-' negates modulo 2^64 as strtoull does.</summary>
    public static bool TryStrtoull(string s, int numberBase, out ulong value)
    {
        if (!TryParseUnsigned(s, numberBase, out value, out bool neg)) return false;
        if (neg) value = unchecked(0UL - value);
        return true;
    }
}
