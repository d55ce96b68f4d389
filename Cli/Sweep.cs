using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ActorStack.Config;

namespace ActorStack.Cli;

/// <summary>
/// <c>sweep --config X --seeds A..B [--vary KEY=V1,V2,..] [--set KEY=VALUE].. [--metric NAME].. [--parallel N] --out DIR</c>:
/// the scenario once per seed and per value of the swept key, each run a whole <c>run --clock virtual --out</c> in its own
/// actor system (<c>DIR/runs/SETTING-seedN/</c>), then <c>sweep.csv</c> and <c>sweep.md</c>: the chosen metrics per run
/// and, per setting, mean, sample standard deviation and the 95 % interval of the mean (Student t). A run that fails
/// (a bad value of the swept key, a crash) is a row marked failed with its error; the sweep goes on.
/// </summary>
/// <summary><c>sweep</c>'s options as parsed (<see cref="CommandLine.Sweep"/>).</summary>
public sealed record SweepArgs(string Config, List<int> Seeds, ConfigOverride? Vary, ConfigOverride[] Sets, List<string> Metrics, int Parallel,
    string Out, bool Force, bool Plot);

public static class Sweep
{
    public const string CsvFile = "sweep.csv", MdFile = "sweep.md";
    /// <summary>sweep.csv: setting, seed, status, error, then one column per metric.</summary>
    public const int FirstMetricColumn = 4;

    /// <summary>The metrics when none is chosen (see <see cref="Metric"/> for all).</summary>
    public static readonly string[] DefaultMetrics = ["drops", "udp_datagrams", "tcp_bytes", "tcp_retransmits", "ping_received"];

    public sealed record RunResult(string Setting, int Seed, bool Ok, string Error, double[] Values);

    public static async Task<int> Execute(SweepArgs a, TextWriter o, TextWriter err)
    {
        string config = a.Config, outDir = a.Out;
        List<int> seeds = a.Seeds;
        var sets = a.Sets;
        var metrics = new List<string>(a.Metrics);
        int parallel = a.Parallel;
        bool force = a.Force, plot = a.Plot;
        if (metrics.Count == 0) metrics.AddRange(DefaultMetrics);
        if (metrics.FirstOrDefault(m => !IsMetric(m)) is { } badMetric) return Bad(err, $"unknown metric '{badMetric}'");

        // The settings: one per value of the swept key (or the file as it is).
        var settings = new List<(string Name, ConfigOverride? Over)>();
        if (a.Vary is { } kv)
        {
            foreach (var v in kv.Value.Split(',')) settings.Add(($"{kv.Key}={v}", new ConfigOverride(kv.Key, v)));
        }
        else settings.Add(("", null));

        // Bad input is refused before anything runs: the file, the --set keys, the swept key (with its first value).
        ImmutableArray<CaptureSettings> captures;
        try
        {
            var text = ConfigText.PrepareFile(config);
            captures = StackConfig.Load(text, config, [.. sets, .. settings[0].Over is { } first ? [first] : Array.Empty<ConfigOverride>()]).Captures;
        }
        catch (StackConfigException e)
        {
            err.WriteLine($"actorstack: {e.Message}");
            return 2;
        }
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !force)
        {
            err.WriteLine($"actorstack: --out {outDir}: the directory exists and is not empty (--force writes over it)");
            return 2;
        }
        Directory.CreateDirectory(outDir);

        var jobs = settings.SelectMany((s, si) => seeds.Select(seed => (Setting: s, Index: si, Seed: seed))).ToList();
        var results = new RunResult[jobs.Count];
        using var gate = new SemaphoreSlim(parallel);
        var tasks = jobs.Select((job, k) => Task.Run(async () =>
        {
            await gate.WaitAsync();
            try
            {
                var runDir = Path.Combine(outDir, "runs", $"{job.Index}-seed{job.Seed}");
                if (Directory.Exists(runDir)) Directory.Delete(runDir, true);
                var runArgs = new List<string> { "run", "--config", config, "--clock", "virtual", "--quiet", "--seed", job.Seed.ToString(CultureInfo.InvariantCulture), "--out", runDir };
                foreach (var s in sets) runArgs.AddRange(["--set", s.ToString()]);
                if (job.Setting.Over is { } ov) runArgs.AddRange(["--set", ov.ToString()]);
                // Each run its own capture file (runs in parallel would write the same one).
                for (int c = 0; c < captures.Length; c++)
                {
                    string name = (c == 0 ? "capture" : $"capture-{c}") + (captures[c].Format == CaptureFormat.PcapNg ? ".pcapng" : ".pcap");
                    runArgs.AddRange(["--set", $"{captures[c].Key}.file={Path.Combine(runDir, name)}"]);
                }
                var so = new StringWriter();
                var se = new StringWriter();
                int rc;
                try { rc = await Runner.Execute([.. runArgs], so, se); }
                catch (Exception e) { rc = 1; se.WriteLine($"actorstack: run failed: {e.Message}"); }
                Directory.CreateDirectory(runDir);
                await File.WriteAllTextAsync(Path.Combine(runDir, "stdout.txt"), so.ToString());
                var summary = Path.Combine(runDir, ExperimentRecorder.Summary);
                results[k] = rc == 0 && File.Exists(summary)
                    ? new RunResult(job.Setting.Name, job.Seed, true, "", Metrics(File.ReadAllText(summary), metrics))
                    : new RunResult(job.Setting.Name, job.Seed, false, FirstLine(se.ToString(), rc), []);
                lock (o) o.WriteLine($"sweep: {(job.Setting.Name.Length == 0 ? "" : job.Setting.Name + " ")}seed {job.Seed}: " +
                                     (results[k].Ok ? "ok" : "failed: " + results[k].Error));
            }
            finally { gate.Release(); }
        })).ToList();
        await Task.WhenAll(tasks);

        await File.WriteAllTextAsync(Path.Combine(outDir, CsvFile), Csv(results, settings.Select(s => s.Name).ToList(), metrics));
        await File.WriteAllTextAsync(Path.Combine(outDir, MdFile), Markdown(results, settings.Select(s => s.Name).ToList(), metrics));
        o.WriteLine($"sweep: {results.Count(r => r.Ok)} of {results.Length} run(s) ok; {Path.Combine(outDir, CsvFile)}, {Path.Combine(outDir, MdFile)}");
        if (plot) o.WriteLine(Plots.Draw(outDir));
        return results.All(r => r.Ok) ? 0 : 1;
    }

    private static int Bad(TextWriter err, string message)
    {
        err.WriteLine($"actorstack: sweep: {message} (see 'actorstack sweep --help')");
        return 2;
    }

    private static string FirstLine(string s, int rc)
    {
        var line = s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.StartsWith("actorstack: ", StringComparison.Ordinal) ? l["actorstack: ".Length..] : l).FirstOrDefault();
        return line switch
        {
            null => $"exit code {rc}",
            "invalid configuration:" => string.Join(" ", s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1)),
            _ => line,
        };
    }

    /// <summary><c>1..20</c> or <c>1,5,9</c>.</summary>
    public static List<int>? ParseSeeds(string? s)
    {
        if (string.IsNullOrWhiteSpace(s)) return null;
        int dots = s.IndexOf("..", StringComparison.Ordinal);
        if (dots > 0)
        {
            if (!int.TryParse(s[..dots], out int a) || !int.TryParse(s[(dots + 2)..], out int b) || b < a || b - a > 100_000) return null;
            return Enumerable.Range(a, b - a + 1).ToList();
        }
        var list = new List<int>();
        foreach (var p in s.Split(','))
        {
            if (!int.TryParse(p, out int v)) return null;
            list.Add(v);
        }
        return list;
    }

    private static bool IsMetric(string m) => m is "drops" or "udp_datagrams" or "tcp_bytes" or "tcp_retransmits" or "ping_received" or "ping_rtt_avg_ms"
        or "simulated_s" or "events" || m.StartsWith("drops.", StringComparison.Ordinal) || (m.StartsWith("snmp.", StringComparison.Ordinal) && m.Count(c => c == '.') == 2);

    /// <summary>The metrics of one run's summary.json.</summary>
    public static double[] Metrics(string summaryJson, IReadOnlyList<string> metrics)
    {
        using var doc = JsonDocument.Parse(summaryJson);
        var root = doc.RootElement;
        var hosts = root.GetProperty("hosts").EnumerateArray().ToList();
        var workloads = root.GetProperty("workloads").EnumerateArray().ToList();
        double Sum(IEnumerable<JsonElement> xs, string type, string prop)
            => xs.Where(w => w.GetProperty("type").GetString() == type).Sum(w => w.GetProperty(prop).GetDouble());
        return metrics.Select(m => m switch
        {
            "drops" => hosts.Sum(h => h.GetProperty("drops").EnumerateArray().Sum(d => d.GetProperty("packets").GetDouble())),
            "udp_datagrams" => Sum(workloads, "udp-sink", "datagrams"),
            "tcp_bytes" => Sum(workloads, "tcp-bulk-client", "bytes_received"),
            "tcp_retransmits" => Sum(workloads, "tcp-bulk-client", "retransmits"),
            "ping_received" => Sum(workloads, "ping", "received"),
            "ping_rtt_avg_ms" => workloads.Where(w => w.GetProperty("type").GetString() == "ping" && w.GetProperty("received").GetDouble() > 0)
                .Select(w => w.GetProperty("rtt_avg_us").GetDouble() / 1000).DefaultIfEmpty(double.NaN).Average(),
            "simulated_s" => root.GetProperty("simulated_s").GetDouble(),
            "events" => root.TryGetProperty("engine", out var e) ? e.GetProperty("events").GetDouble() : double.NaN,
            _ when m.StartsWith("drops.", StringComparison.Ordinal) => hosts.Sum(h => h.GetProperty("drops").EnumerateArray()
                .Where(d => d.GetProperty("reason").GetString() == m[6..]).Sum(d => d.GetProperty("packets").GetDouble())),
            _ => hosts.Sum(h => h.GetProperty("snmp").TryGetProperty(m.Split('.')[1], out var mib) && mib.TryGetProperty(m.Split('.')[2], out var c) ? c.GetDouble() : 0),
        }).ToArray();
    }

    /// <summary>Mean, sample standard deviation and the 95 % interval of the mean (Student t, n − 1 degrees of freedom).</summary>
    public static (double Mean, double Sd, double Lo, double Hi) Stats(IReadOnlyList<double> xs)
    {
        int n = xs.Count;
        if (n == 0) return (double.NaN, double.NaN, double.NaN, double.NaN);
        double mean = xs.Average();
        if (n == 1) return (mean, double.NaN, double.NaN, double.NaN);
        double sd = Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (n - 1));
        double half = T975(n - 1) * sd / Math.Sqrt(n);
        return (mean, sd, mean - half, mean + half);
    }

    private static readonly double[] TTable =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>The 0.975 quantile of Student's t with <paramref name="df"/> degrees of freedom (table to 30, then Cornish–Fisher).</summary>
    public static double T975(int df)
    {
        if (df <= TTable.Length) return TTable[df - 1];
        const double z = 1.959964;
        return z + (z * z * z + z) / (4.0 * df) + (5 * Math.Pow(z, 5) + 16 * z * z * z + 3 * z) / (96.0 * df * df);
    }

    private static string F(double v) => double.IsNaN(v) ? "" : v.ToString("0.######", CultureInfo.InvariantCulture);

    private static string Q(string s) => s.Contains(',') || s.Contains('"') || s.Contains('\n') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    /// <summary>sweep.csv: one row per run (status ok/failed), then per setting rows whose seed is mean, sd, ci95_lo, ci95_hi.</summary>
    public static string Csv(IReadOnlyList<RunResult> results, IReadOnlyList<string> settings, IReadOnlyList<string> metrics)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(',', new[] { "setting", "seed", "status", "error" }.Concat(metrics)));
        foreach (var r in results)
            sb.AppendLine(string.Join(',', new[] { Q(r.Setting), r.Seed.ToString(CultureInfo.InvariantCulture), r.Ok ? "ok" : "failed", Q(r.Error) }
                .Concat(metrics.Select((_, i) => r.Ok ? F(r.Values[i]) : ""))));
        foreach (var s in settings)
        {
            var ok = results.Where(r => r.Setting == s && r.Ok).ToList();
            var stats = metrics.Select((_, i) => Stats(ok.Select(r => r.Values[i]).ToList())).ToList();
            foreach (var (kind, pick) in new (string, Func<(double Mean, double Sd, double Lo, double Hi), double>)[]
                     { ("mean", x => x.Mean), ("sd", x => x.Sd), ("ci95_lo", x => x.Lo), ("ci95_hi", x => x.Hi) })
                sb.AppendLine(string.Join(',', new[] { Q(s), kind, "summary", ok.Count.ToString(CultureInfo.InvariantCulture) + " ok" }
                    .Concat(stats.Select(x => F(pick(x))))));
        }
        return sb.ToString();
    }

    /// <summary>sweep.md: the runs, then per setting and metric: n, mean, sd and the 95 % interval.</summary>
    public static string Markdown(IReadOnlyList<RunResult> results, IReadOnlyList<string> settings, IReadOnlyList<string> metrics)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Runs").AppendLine();
        sb.AppendLine("| setting | seed | status | " + string.Join(" | ", metrics) + " |");
        sb.AppendLine("|---|---:|---|" + string.Concat(metrics.Select(_ => "---:|")));
        foreach (var r in results)
            sb.AppendLine($"| {Md(r.Setting)} | {r.Seed} | {(r.Ok ? "ok" : "failed: " + Md(r.Error))} | " +
                          string.Join(" | ", metrics.Select((_, i) => r.Ok ? F(r.Values[i]) : "")) + " |");
        sb.AppendLine().AppendLine("## Per setting (mean, standard deviation, 95 % interval of the mean, Student t)").AppendLine();
        sb.AppendLine("| setting | metric | n | mean | sd | 95 % interval |");
        sb.AppendLine("|---|---|---:|---:|---:|---|");
        foreach (var s in settings)
        {
            var ok = results.Where(r => r.Setting == s && r.Ok).ToList();
            for (int i = 0; i < metrics.Count; i++)
            {
                var (mean, sd, lo, hi) = Stats(ok.Select(r => r.Values[i]).ToList());
                sb.AppendLine($"| {Md(s)} | {metrics[i]} | {ok.Count} | {F(mean)} | {F(sd)} | {(double.IsNaN(lo) ? "" : $"[{F(lo)}, {F(hi)}]")} |");
            }
        }
        return sb.ToString();
    }

    private static string Md(string s) => s.Length == 0 ? "(file)" : s.Replace("|", "\\|", StringComparison.Ordinal);
}
