using System.Text.Json;
using ActorStack.Cli;
using Xunit.Abstractions;

namespace ActorStack.Tests.Experiments;

/// <summary>
/// <c>run --out DIR [--plot]</c>, <c>sweep</c> and <c>plot</c> on the virtual clock (issue 15): the files, their schemas and
/// the values a seeded run fixes.
/// </summary>
public sealed class ExperimentRunTests(ITestOutputHelper output)
{
    /// <summary>A TCP bulk transfer over a lossy wire whose far end is cut for 100 ms.</summary>
    public const string TcpScenario = """
        actorstack {
          run { progress-interval = 250ms, settle = 100ms, max-duration = 20s }
          scenario {
            hosts {
              h1 { devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"] } } }
              h2 { devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"] } } }
            }
            wires = [ { a = "h1/eth0", b = "h2/eth0", delay = 2ms, netem-a-to-b = "loss 1%" } ]
            schedule = [ { at = 300ms, action = cut, wire = "h2/eth0" }, { at = 400ms, action = restore, wire = "h2/eth0" } ]
            workloads = [
              { type = tcp-bulk-server, host = h2, bind = "0.0.0.0:5201" }
              { type = tcp-bulk-client, host = h1, server = "10.0.0.2:5201", bytes = 2M, interval = 1s }
            ]
          }
        }
        """;

    /// <summary>pktgen: 200 UDP frames at 400/s over a wire with netem on a→b.</summary>
    public const string UdpScenario = """
        actorstack {
          run { progress-interval = 250ms, settle = 100ms, max-duration = 10s }
          scenario {
            hosts {
              a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"] } } }
              b { devices { eth0 { mac = "02:00:00:00:00:0b", addresses = ["10.1.0.2/24"] } } }
            }
            wires = [ { a = "a/eth0", b = "b/eth0", delay = 1ms } ]
            workloads = [
              { type = pktgen, host = a, device = eth0, count = 200, pkt_size = 128, ratep = 400, flows = 2,
                dst_mac = "02:00:00:00:00:0b", dst_min = "10.1.0.2", udp_dst_min = 7000 }
              { type = udp-sink, host = b, bind = "0.0.0.0:7000" }
            ]
          }
        }
        """;

    private static async Task<(int Rc, string Out, string Err)> Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = await Runner.Execute(args, o, e);
        return (rc, o.ToString(), e.ToString());
    }

    private static string Write(DirectoryInfo dir, string name, string text)
    {
        var f = Path.Combine(dir.FullName, name);
        File.WriteAllText(f, text);
        return f;
    }

    [Fact]
    public async Task RunOut_WritesSummaryEventsTimeSeriesConfigAndPlots()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-exp-");
        try
        {
            var cfg = Write(dir, "tcp.hocon", TcpScenario);
            var outDir = Path.Combine(dir.FullName, "out");
            var r = await Cli("run", "--config", cfg, "--clock", "virtual", "--quiet", "--seed", "3", "--out", outDir, "--plot");
            output.WriteLine(r.Out);
            output.WriteLine(r.Err);
            Assert.Equal(0, r.Rc);
            Assert.Contains($"experiment: {outDir}: summary.json, events.jsonl, timeseries.csv, config.hocon", r.Out);

            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
            var root = summary.RootElement;
            Assert.Equal(3, root.GetProperty("seed").GetInt32());
            Assert.Equal("virtual", root.GetProperty("clock").GetString());
            Assert.Equal(["h1", "h2"], root.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("name").GetString()));
            var h2 = root.GetProperty("hosts")[1];
            Assert.Equal(["lo", "eth0"], h2.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("name").GetString()).Order(StringComparer.Ordinal).Reverse());
            Assert.True(h2.GetProperty("snmp").GetProperty("Tcp").GetProperty("InSegs").GetInt64() > 0);
            var bulk = root.GetProperty("workloads").EnumerateArray().Single(w => w.GetProperty("type").GetString() == "tcp-bulk-client");
            Assert.Equal(2L * 1024 * 1024, bulk.GetProperty("bytes_received").GetInt64());
            Assert.True(bulk.GetProperty("checksums_match").GetBoolean());
            var digest = root.GetProperty("engine").GetProperty("digest").GetString()!;
            Assert.Matches("^[0-9a-f]{16}$", digest);
            Assert.Contains($"digest {digest}", r.Out); // the digest the report printed

            // Events: the fault schedule's cut and restore at their simulated times, the link going down and up.
            var events = File.ReadAllLines(Path.Combine(outDir, "events.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            foreach (var l in File.ReadAllLines(Path.Combine(outDir, "events.jsonl"))) output.WriteLine(l);
            var faults = events.Where(e => e.GetProperty("type").GetString() == "fault").ToList();
            Assert.Contains(faults, e => e.GetProperty("at").GetDouble() == 0.3 && e.GetProperty("text").GetString()!.Contains("cut"));
            Assert.Contains(faults, e => e.GetProperty("at").GetDouble() == 0.4 && e.GetProperty("text").GetString()!.Contains("restore"));
            Assert.Contains(events, e => e.GetProperty("type").GetString() == "link" && e.GetProperty("host").GetString() == "h2");

            // Time series: one row per counter per tick, ticks every 250 ms of simulated time.
            var series = File.ReadAllLines(Path.Combine(outDir, "timeseries.csv"));
            Assert.Equal(ExperimentRecorder.TimeSeriesHeader, series[0]);
            var ticks = series.Skip(1).Select(l => l.Split(',')[0]).Distinct().ToList();
            Assert.Equal(["0.250", "0.500", "0.750"], ticks.Take(3));
            Assert.Contains(series, l => l.StartsWith("0.250,h1,tcp,10.0.0.1:", StringComparison.Ordinal) && l.Contains(",cwnd,"));
            Assert.Contains(series, l => l.StartsWith("0.250,h2,device,eth0,rx_packets,", StringComparison.Ordinal));

            // The merged configuration loads to the same run settings.
            var merged = ActorStack.Config.StackConfig.Load(File.ReadAllText(Path.Combine(outDir, "config.hocon")), "config.hocon");
            Assert.Equal(3, merged.Seed);
            Assert.Equal(TimeSpan.FromMilliseconds(2), merged.Wires[0].Delay);

            // Plots: PNG and SVG with the series named in the legend.
            foreach (var p in new[] { "throughput", "cwnd", "srtt" })
            {
                Assert.True(new FileInfo(Path.Combine(outDir, p + ".png")).Length > 1000, p);
                Assert.True(File.Exists(Path.Combine(outDir, p + ".svg")), p);
            }
            var cwndSvg = File.ReadAllText(Path.Combine(outDir, "cwnd.svg"));
            Assert.Contains("h1 10.0.0.1:", cwndSvg);
            Assert.Contains("Congestion window per TCP socket", cwndSvg);
            var tput = File.ReadAllText(Path.Combine(outDir, "throughput.svg"));
            Assert.Contains("h2 tcp 10.0.0.2:5201-&gt;10.0.0.1:", tput);

            // An existing non-empty directory is refused unless --force.
            var again = await Cli("run", "--config", cfg, "--clock", "virtual", "--quiet", "--out", outDir);
            Assert.Equal(2, again.Rc);
            Assert.Contains("the directory exists and is not empty (--force writes over it)", again.Err);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task Sweep_ThreeSeedsTwoValues_AndAFailedSetting_TableAndPlot()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-sweep-");
        try
        {
            var cfg = Write(dir, "udp.hocon", UdpScenario);
            var outDir = Path.Combine(dir.FullName, "sweep");
            var o = new StringWriter();
            var e = new StringWriter();
            int rc = await Runner.Execute(["sweep", "--config", cfg, "--seeds", "1..3", "--vary", "scenario.wires[0].netem-a-to-b=loss 0%,loss 20%,loss x",
                "--metric", "udp_datagrams,simulated_s", "--parallel", "2", "--out", outDir, "--plot"], o, e);
            output.WriteLine(o.ToString());
            output.WriteLine(e.ToString());
            var csv = File.ReadAllText(Path.Combine(outDir, "sweep.csv"));
            output.WriteLine(csv);
            output.WriteLine(File.ReadAllText(Path.Combine(outDir, "sweep.md")));
            Assert.Equal(1, rc); // a failed run makes the exit code 1, the sweep still ran everything
            var lines = csv.TrimEnd().Split('\n');
            Assert.Equal("setting,seed,status,error,udp_datagrams,simulated_s", lines[0]);
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss 0%,1,ok,,200,", lines[1][..^lines[1].Split(',')[^1].Length]);
            Assert.Equal(1 + 9 + 3 * 4, lines.Length);
            Assert.Contains("scenario.wires[0].netem-a-to-b=loss 0%,mean,summary,3 ok,200,", csv);
            Assert.Contains("scenario.wires[0].netem-a-to-b=loss 0%,sd,summary,3 ok,0,0", csv);
            Assert.Contains(lines, l => l.StartsWith("scenario.wires[0].netem-a-to-b=loss x,1,failed,", StringComparison.Ordinal));
            // The seeded runs, exactly: 20 % loss drops 45, 45 and 40 of the 200 frames for seeds 1, 2, 3. pktgen sends each
            // frame at its own instant (2.5 ms apart, the last at 497.5 ms): all read by the 0.5 s sample, quiet by 0.75 s.
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss 20%,1,ok,,155,0.75", lines[4]);
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss 20%,2,ok,,155,0.75", lines[5]);
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss 20%,3,ok,,160,0.75", lines[6]);
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss x,1,failed,\"actorstack.scenario.wires[0].netem-a-to-b = \"\"loss x\"\": Unknown loss parameter: x\",,", lines[7]);
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss 20%,mean,summary,3 ok,156.666667,0.75", lines[14]);
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss 20%,sd,summary,3 ok,2.886751,0", lines[15]);
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss 20%,ci95_lo,summary,3 ok,149.495,0.75", lines[16]);
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss 20%,ci95_hi,summary,3 ok,163.838333,0.75", lines[17]);
            Assert.Equal("scenario.wires[0].netem-a-to-b=loss x,mean,summary,0 ok,,", lines[18]);
            var md = File.ReadAllText(Path.Combine(outDir, "sweep.md"));
            Assert.Contains("| scenario.wires[0].netem-a-to-b=loss 20% | udp_datagrams | 3 | 156.666667 | 2.886751 | [149.495, 163.838333] |", md);
            Assert.True(File.Exists(Path.Combine(outDir, "sweep-udp_datagrams.png")));
            var svg = File.ReadAllText(Path.Combine(outDir, "sweep-udp_datagrams.svg"));
            Assert.Contains("udp_datagrams (mean)", svg);
            Assert.Contains("95 % interval", svg);

            // plot DIR draws the same again.
            var p = await Cli("plot", outDir);
            Assert.Equal(0, p.Rc);
            Assert.Contains("sweep-udp_datagrams.svg", p.Out);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Stats_StudentT_MeanSdInterval()
    {
        var (mean, sd, lo, hi) = Sweep.Stats([1, 2, 3, 4]);
        Assert.Equal(2.5, mean);
        Assert.Equal(Math.Sqrt(5.0 / 3), sd, 12);
        double half = 3.182 * Math.Sqrt(5.0 / 3) / 2;
        Assert.Equal(2.5 - half, lo, 12);
        Assert.Equal(2.5 + half, hi, 12);
        Assert.Equal(12.706, Sweep.T975(1));
        Assert.Equal(2.042, Sweep.T975(30));
        Assert.InRange(Sweep.T975(31), 2.039, 2.041); // 2.040
        Assert.InRange(Sweep.T975(1000), 1.962, 1.963);
        Assert.True(double.IsNaN(Sweep.Stats([5]).Sd));
        Assert.Equal([1, 2, 3], Sweep.ParseSeeds("1..3"));
        Assert.Equal([4, 9], Sweep.ParseSeeds("4,9"));
        Assert.Null(Sweep.ParseSeeds("3..1"));
    }
}
