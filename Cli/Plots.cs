using System.Globalization;

namespace ActorStack.Cli;

/// <summary>
/// <c>plot DIR</c> and <c>run --plot</c> / <c>sweep --plot</c>: ScottPlot charts, each as PNG and SVG, from the files
/// <c>run --out</c> and <c>sweep</c> write: <c>throughput</c> (Mbit/s per interval per flow: each TCP socket that received
/// data, each UDP sink), <c>cwnd</c> and <c>srtt</c> (per TCP socket that sent data), <c>drops</c> (packets dropped per
/// interval by <c>SKB_DROP_REASON_*</c>, all hosts, stacked), and for a sweep <c>sweep-METRIC</c> (the metric's mean per
/// swept value with its 95 % interval).
/// </summary>
public static class Plots
{
    public const int Width = 900, Height = 500;

    public static int Execute(string dir, TextWriter o, TextWriter err)
    {
        if (!Directory.Exists(dir))
        {
            err.WriteLine($"actorstack: plot {dir}: no such directory");
            return 2;
        }
        var line = Draw(dir);
        o.WriteLine(line);
        return line.StartsWith("plots: none", StringComparison.Ordinal) ? 1 : 0;
    }

    /// <summary>Draws what <paramref name="dir"/> has data for; returns a line naming the files.</summary>
    public static string Draw(string dir)
    {
        var written = new List<string>();
        var series = Path.Combine(dir, ExperimentRecorder.TimeSeries);
        if (File.Exists(series)) written.AddRange(DrawRun(dir, ReadSeries(series)));
        var sweep = Path.Combine(dir, Sweep.CsvFile);
        if (File.Exists(sweep)) written.AddRange(DrawSweep(dir, sweep));
        return written.Count == 0 ? $"plots: none ({dir} has no data to plot)" : $"plots: {string.Join(", ", written)}";
    }

    private sealed record Sample(double T, string Host, string Kind, string Obj, string Metric, double Value);

    private static List<Sample> ReadSeries(string path)
    {
        var list = new List<Sample>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = SplitCsv(line);
            if (f.Count != 6) continue;
            list.Add(new Sample(double.Parse(f[0], CultureInfo.InvariantCulture), f[1], f[2], f[3], f[4], double.Parse(f[5], CultureInfo.InvariantCulture)));
        }
        return list;
    }

    /// <summary>One CSV line's fields (RFC 4180 quotes).</summary>
    public static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var cur = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cur.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cur.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(cur.ToString()); cur.Clear(); }
            else cur.Append(c);
        }
        fields.Add(cur.ToString());
        return fields;
    }

    private static IEnumerable<string> Save(ScottPlot.Plot plt, string dir, string name)
    {
        plt.SavePng(Path.Combine(dir, name + ".png"), Width, Height);
        plt.SaveSvg(Path.Combine(dir, name + ".svg"), Width, Height);
        return [name + ".png", name + ".svg"];
    }

    /// <summary>Per-interval rate of a cumulative counter: (t, delta / dt).</summary>
    private static (double[] X, double[] Y) Rate(IEnumerable<Sample> s, double scale)
    {
        var pts = s.OrderBy(x => x.T).ToList();
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 1; i < pts.Count; i++)
        {
            double dt = pts[i].T - pts[i - 1].T;
            if (dt <= 0) continue;
            xs.Add(pts[i].T);
            ys.Add((pts[i].Value - pts[i - 1].Value) * scale / dt);
        }
        return (xs.ToArray(), ys.ToArray());
    }

    private static IEnumerable<string> DrawRun(string dir, List<Sample> samples)
    {
        var written = new List<string>();
        // Throughput per flow: TCP sockets that received payload, UDP sinks.
        var flows = samples.Where(s => (s.Kind == "tcp" && s.Metric == "bytes_received") || (s.Kind == "udp-sink" && s.Metric == "bytes"))
            .GroupBy(s => (s.Host, s.Kind, s.Obj)).Where(g => g.Max(x => x.Value) > 0).OrderBy(g => g.Key.ToString(), StringComparer.Ordinal).ToList();
        if (flows.Count > 0)
        {
            var plt = new ScottPlot.Plot();
            foreach (var g in flows)
            {
                var (x, y) = Rate(g, 8 / 1e6);
                if (x.Length == 0) continue;
                plt.Add.Scatter(x, y).LegendText = $"{g.Key.Host} {g.Key.Kind} {g.Key.Obj}";
            }
            Labels(plt, "Throughput per flow", "Mbit/s");
            written.AddRange(Save(plt, dir, "throughput"));
        }
        // cwnd and srtt per TCP socket that sent data.
        var senders = samples.Where(s => s.Kind == "tcp" && s.Metric == "bytes_acked").GroupBy(s => (s.Host, s.Obj))
            .Where(g => g.Max(x => x.Value) > 1).Select(g => g.Key).OrderBy(k => k.ToString(), StringComparer.Ordinal).ToList();
        foreach (var (metric, title, unit) in new[] { ("cwnd", "Congestion window per TCP socket", "segments"), ("srtt_ms", "Smoothed RTT per TCP socket", "ms") })
        {
            if (senders.Count == 0) break;
            var plt = new ScottPlot.Plot();
            foreach (var k in senders)
            {
                var pts = samples.Where(s => s.Kind == "tcp" && s.Host == k.Host && s.Obj == k.Obj && s.Metric == metric).OrderBy(s => s.T).ToList();
                plt.Add.Scatter(pts.Select(p => p.T).ToArray(), pts.Select(p => p.Value).ToArray()).LegendText = $"{k.Host} {k.Obj}";
            }
            Labels(plt, title, unit);
            written.AddRange(Save(plt, dir, metric == "cwnd" ? "cwnd" : "srtt"));
        }
        // Drops by reason per interval, all hosts, stacked.
        var reasons = samples.Where(s => s.Kind == "drop").GroupBy(s => s.Obj).Where(g => g.Max(x => x.Value) > 0)
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var times = samples.Select(s => s.T).Distinct().Order().ToArray();
        if (reasons.Count > 0 && times.Length > 1)
        {
            var plt = new ScottPlot.Plot();
            var xs = times.Skip(1).ToArray();
            var lower = new double[xs.Length];
            foreach (var g in reasons)
            {
                var total = times.Select(t => g.Where(s => s.T == t).Sum(s => s.Value)).ToArray();
                var upper = new double[xs.Length];
                for (int i = 0; i < xs.Length; i++) upper[i] = lower[i] + Math.Max(0, total[i + 1] - total[i]);
                plt.Add.FillY(xs, lower.ToArray(), upper);
                plt.Add.Scatter(xs, upper).LegendText = g.Key;
                lower = upper;
            }
            Labels(plt, "Drops by reason (stacked)", "packets per interval");
            written.AddRange(Save(plt, dir, "drops"));
        }
        return written;
    }

    private static void Labels(ScottPlot.Plot plt, string title, string y, string x = "simulated time (s)")
    {
        plt.Title(title);
        plt.XLabel(x);
        plt.YLabel(y);
        plt.ShowLegend();
    }

    private static IEnumerable<string> DrawSweep(string dir, string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2) return [];
        var header = SplitCsv(lines[0]);
        var rows = lines.Skip(1).Select(SplitCsv).Where(r => r.Count == header.Count).ToList();
        int setting = header.IndexOf("setting"), seed = header.IndexOf("seed");
        var written = new List<string>();
        var settings = rows.Where(r => r[seed] == "mean").Select(r => r[setting]).ToList();
        foreach (var metric in header.Skip(Sweep.FirstMetricColumn))
        {
            int col = header.IndexOf(metric);
            var means = new List<double>();
            var errs = new List<double>();
            foreach (var s in settings)
            {
                double Get(string kind) => double.TryParse(rows.First(r => r[setting] == s && r[seed] == kind)[col], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
                double m = Get("mean"), lo = Get("ci95_lo"), hi = Get("ci95_hi");
                means.Add(m);
                errs.Add(double.IsNaN(lo) ? 0 : (hi - lo) / 2);
            }
            if (means.Count == 0 || means.All(double.IsNaN)) continue;
            var plt = new ScottPlot.Plot();
            var xs = Enumerable.Range(0, settings.Count).Select(i => (double)i).ToArray();
            var sc = plt.Add.Scatter(xs, means.ToArray());
            sc.LegendText = $"{metric} (mean)";
            plt.Add.ErrorBar(xs, means.ToArray(), errs.ToArray()).LegendText = "95 % interval";
            plt.Axes.Bottom.SetTicks(xs, settings.Select(s => s.Length == 0 ? "(none)" : s).ToArray());
            Labels(plt, $"{metric} per setting", metric, "setting");
            written.AddRange(Save(plt, dir, "sweep-" + metric));
        }
        return written;
    }
}
