using ActorStack.Actors.Engine;

namespace ActorStack.Cli;

/// <summary>
/// <c>run --check-determinism</c>: the scenario twice on the virtual clock, one actor system after the other with the same
/// seed. Prints <c>identical</c> with the event digest (<see cref="SimEngine.Digest"/>) and event count, or the first event
/// where the runs differ (simulated time, kind, actor, message type), from <see cref="SimEngine.Trace"/>. Bounded: the
/// first <see cref="Keep"/> events of the first run are kept whole, after that a rolling hash every <see cref="Block"/> events.
/// </summary>
public static class Determinism
{
    /// <summary>Events of the first run kept whole, to name the first difference exactly.</summary>
    public const int Keep = 200_000;
    /// <summary>Beyond <see cref="Keep"/>: the rolling hash is compared every this many events.</summary>
    public const int Block = 4096;
    private const int MaxCheckpoints = 1 << 20;

    /// <summary>
    /// Runs <paramref name="run"/> (the CLI's run on the virtual clock, given its output, a hook that sees the engine
    /// before the simulation starts and one called when the report is printed, before shutdown) twice; writes the first run's report and the verdict to <paramref name="o"/>.
    /// 0 identical, 1 different (or a run failed).
    /// </summary>
    public static async Task<int> Check(TextWriter o, TextWriter err,
        Func<TextWriter, Action<SimEngine>, Action<SimEngine>, Task<int>> run)
    {
        var first = new Recorder(null);
        var out1 = new StringWriter();
        (ulong Digest, long Executed, TimeSpan Now)? end1 = null, end2 = null;
        int rc = await run(out1, e => e.Trace = first.Record, e => { e.Trace = null; end1 = (e.Digest, e.Executed, e.Now); });
        o.Write(out1.ToString());
        if (rc != 0 || end1 is not { } r1end) { err.WriteLine("actorstack: check-determinism: the first run failed"); return rc == 0 ? 1 : rc; }
        var (digest1, executed1, now1) = r1end;

        var second = new Recorder(first);
        var out2 = new StringWriter();
        rc = await run(out2, e => e.Trace = second.Record, e => { e.Trace = null; end2 = (e.Digest, e.Executed, e.Now); });
        if (rc != 0 || end2 is not { } r2end) { err.WriteLine("actorstack: check-determinism: the second run failed"); return rc == 0 ? 1 : rc; }
        second.Finish();

        if (second.Difference is { } diff)
        {
            o.WriteLine($"actorstack: check-determinism: runs differ {diff}");
            return 1;
        }
        if (r2end.Digest != digest1 || r2end.Executed != executed1)
        {
            // Events before the trace hook (system boot) differ: the digest covers them, the trace does not.
            o.WriteLine($"actorstack: check-determinism: runs differ before the simulation started (digest {digest1:x16} vs {r2end.Digest:x16}, {executed1} vs {r2end.Executed} events)");
            return 1;
        }
        string r1 = WithoutClockLine(out1.ToString()), r2 = WithoutClockLine(out2.ToString());
        if (r1 != r2)
        {
            int line = FirstDifferentLine(r1, r2, out string a, out string b);
            o.WriteLine($"actorstack: check-determinism: same events but the reports differ at line {line}: \"{a}\" vs \"{b}\"");
            return 1;
        }
        o.WriteLine($"actorstack: check-determinism: identical, digest {digest1:x16}, {executed1} events, {now1.TotalSeconds:F3}s simulated");
        return 0;
    }

    /// <summary>The run's last line names wall time, which differs every run.</summary>
    private static string WithoutClockLine(string report)
        => string.Join('\n', report.Split('\n').Where(l => !l.StartsWith("clock: virtual,", StringComparison.Ordinal)));

    private static int FirstDifferentLine(string a, string b, out string la, out string lb)
    {
        var x = a.Split('\n');
        var y = b.Split('\n');
        for (int i = 0; ; i++)
        {
            la = i < x.Length ? x[i] : "(end)";
            lb = i < y.Length ? y[i] : "(end)";
            if (la != lb) return i + 1;
        }
    }

    /// <summary>Format of one event in the verdict.</summary>
    public static string Describe(SimEventRecord r)
        => $"{r.TimeNs / 1_000_000_000}.{r.TimeNs % 1_000_000_000:D9}s {r.Kind} {r.Target} ({r.Message})";

    /// <summary>
    /// Records a run's events (<paramref name="reference"/> null) or compares them as they come with a recorded run.
    /// Runs on the engine's thread only.
    /// </summary>
    private sealed class Recorder(Recorder? reference)
    {
        private readonly List<SimEventRecord> _kept = [];
        private readonly List<ulong> _checkpoints = [];
        private ulong _hash = 0xcbf29ce484222325UL;
        private long _count;

        public string? Difference { get; private set; }

        public void Record(SimEventRecord r)
        {
            long i = _count++;
            _hash = SimEngine.Mix(_hash, r.TimeNs, r.Kind, r.Target, r.Message);
            if (reference is null)
            {
                if (i < Keep) _kept.Add(r);
                if (_count % Block == 0 && _checkpoints.Count < MaxCheckpoints) _checkpoints.Add(_hash);
                return;
            }
            if (Difference is not null) return;
            if (i >= reference._count)
                Difference = $"at event {i + 1}: run 1 had ended after {reference._count} events; run 2: {Describe(r)}";
            else if (i < Keep)
            {
                if (!reference._kept[(int)i].Equals(r))
                    Difference = $"at event {i + 1}: run 1: {Describe(reference._kept[(int)i])}; run 2: {Describe(r)}";
            }
            else if (_count % Block == 0 && _count / Block - 1 < reference._checkpoints.Count
                     && reference._checkpoints[(int)(_count / Block - 1)] != _hash)
                Difference = $"between events {_count - Block + 1} and {_count} (beyond the first {Keep} kept whole); run 2's last there: {Describe(r)}";
        }

        /// <summary>After run 2: a shorter run 2 differs where it ended.</summary>
        public void Finish()
        {
            if (reference is null || Difference is not null || _count >= reference._count) return;
            Difference = _count < Keep
                ? $"at event {_count + 1}: run 2 had ended after {_count} events; run 1: {Describe(reference._kept[(int)_count])}"
                : $"at event {_count + 1}: run 2 had ended after {_count} events, run 1 had {reference._count}";
        }
    }
}
