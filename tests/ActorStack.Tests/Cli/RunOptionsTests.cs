using System.Globalization;
using System.Text.RegularExpressions;
using ActorStack.Actors.Engine;
using ActorStack.Cli;

namespace ActorStack.Tests.Cli;

/// <summary>
/// <c>run</c>'s options of issue 13: virtual time by default (a TAP scenario falls back to the real clock and says so),
/// <c>--duration</c> and Ctrl-C for runs of only servers (the idle virtual clock jumps), <c>--duration</c> bounding any
/// run, and <c>--trace-from</c> turning the trace points on at a simulated instant without changing the run before it.
/// </summary>
public sealed class RunOptionsTests
{
    /// <summary>Two hosts with a UDP echo server and a UDP sink: nothing ends by itself.</summary>
    private const string ServersOnly = """
        actorstack.scenario {
          hosts {
            a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"] } } }
            b { devices { eth0 { mac = "02:00:00:00:00:0b", addresses = ["10.1.0.2/24"] } } }
          }
          wires = [ { a = "a/eth0", b = "b/eth0", delay = 1ms } ]
          workloads = [
            { type = udp-echo-server, host = b, bind = "0.0.0.0:7" }
            { type = udp-sink, host = a, bind = "0.0.0.0:7000" }
          ]
        }
        """;

    private static string Temp(string text)
    {
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-runopt-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(file, text);
        return file;
    }

    private static double WallSeconds(string report)
    {
        var m = Regex.Match(report, @"clock: (?:virtual, \d+\.\d{3}s simulated in|real,) (\d+\.\d{3})s wall");
        Assert.True(m.Success, report[^Math.Min(report.Length, 400)..]);
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task ServersOnly_Virtual_RunsToDuration_IdleClockJumps()
    {
        var file = Temp(ServersOnly);
        try
        {
            var r = await ClockTests.Cli("run", "--config", file, "--duration", "60s");
            Assert.Equal(0, r.Rc);
            Assert.Contains("actorstack: no workload ends by itself (only servers): running for 60.0s (--duration) or until Ctrl-C\n", r.Out);
            // One progress line per simulated second, the last at 60 s exactly, then the end and the report.
            Assert.Equal(60, Regex.Matches(r.Out, @"\n\[\s*\d+\.0s\] sent +0  read +0 ").Count);
            Assert.Contains("[  60.0s] sent          0  read          0", r.Out);
            Assert.DoesNotContain("[  61.0s]", r.Out);
            Assert.Contains("actorstack: --duration 60.0s reached\n", r.Out);
            Assert.DoesNotContain("max-duration", r.Out);
            Assert.Contains("===== wires =====", r.Out);
            Assert.Contains("udp-echo-server b 0.0.0.0:7: read 0 datagrams", r.Out);
            // The run started at simulated 1 ms (link up); 60 s after it, in well under a second of wall time.
            Assert.Contains("\nclock: virtual, 60.001s simulated in ", r.Out);
            Assert.InRange(WallSeconds(r.Out), 0.0, 1.0);

            // Nothing would end it but --duration: without it, it runs until Ctrl-C, which ends it with the report.
            using var ctrlC = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
            var o = new StringWriter();
            int rc = await Runner.Execute(["run", "--config", file, "--quiet"], o, new StringWriter(), ctrlC.Token);
            Assert.Equal(0, rc);
            var text = o.ToString();
            Assert.Contains("running until Ctrl-C (--duration D bounds it)\n", text);
            var stopped = Regex.Match(text, @"actorstack: interrupted \(Ctrl-C\) at (\d+(?:\.\d+)?)s\n");
            Assert.True(stopped.Success, text);
            Assert.Contains("===== wires =====", text);
            Assert.DoesNotContain("max-duration", text); // 120 s of max-duration do not end a run of servers
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task ServersOnly_RealClock_CtrlC_StopsThenReports()
    {
        var file = Temp(ServersOnly);
        try
        {
            using var ctrlC = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            var o = new StringWriter();
            int rc = await Runner.Execute(["run", "--clock", "real", "--config", file], o, new StringWriter(), ctrlC.Token);
            Assert.Equal(0, rc);
            var text = o.ToString();
            Assert.Contains("actorstack: no workload ends by itself (only servers): running until Ctrl-C", text);
            Assert.Matches(@"actorstack: interrupted \(Ctrl-C\) at 0\.\d+s\n", text);
            Assert.Contains("===== host a =====", text);
            Assert.Contains("===== wires =====", text);
            Assert.Matches(@"\nclock: real, \d+\.\d{3}s wall\n", text);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task Duration_BoundsARunWithWorkloads_InSimulatedTime()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-runopt-");
        var file = ClockTests.MainJobWithCapture(Path.Combine(dir.FullName, "d.pcap"));
        try
        {
            var r = await ClockTests.Cli("run", "--config", file, "--duration", "0.5s");
            Assert.Equal(0, r.Rc);
            Assert.DoesNotContain("only servers", r.Out);
            Assert.Contains("actorstack: --duration 0.5s reached\n", r.Out);
            Assert.DoesNotContain("[   1.0s]", r.Out);
            // 50,000 frames/s from pktgen's start, each at its own instant (20 µs apart): frames 0..25,000 are sent by
            // 0.5 s; the one sent at 0.5 s itself has not reached the receiver's capture yet.
            Assert.Contains("pktgen sender/eth0: sent 25001 of 100000 frames, 0 dropped at transmit", r.Out);
            Assert.Contains("capture: 25000 frames written to", r.Out);
            Assert.Contains("\nclock: virtual, 0.500s simulated in ", r.Out);
        }
        finally
        {
            File.Delete(file);
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TapWire_NoClockOption_RunsOnTheRealClock_SayingSoInOneLine()
    {
        var file = Temp("""
            actorstack.scenario {
              hosts { h1 { devices { eth0 { mac = "02:00:00:00:13:01", addresses = ["10.213.0.2/24"] } } } }
              wires = [ { a = "h1/eth0", tap = "ascli13" } ]
            }
            """);
        try
        {
            var r = await ClockTests.Cli("run", "--config", file, "--duration", "300ms", "--quiet");
            var lines = r.Out.Replace("\r\n", "\n").Split('\n');
            Assert.Equal("actorstack: wire h1/eth0 <-> tap/ascli13 (actorstack.scenario.wires[0].tap = \"ascli13\") is a TAP link to the kernel, " +
                         "which runs on wall time: running on the real clock", lines[0]);
            Assert.Single(lines, l => l.Contains("real clock", StringComparison.Ordinal));
            if (r.Rc == 0)
            {
                // Able to open the TAP (root, /dev/net/tun): a host serving the kernel runs until --duration.
                Assert.Contains("running for 0.3s (--duration) or until Ctrl-C", r.Out);
                Assert.Contains("actorstack: --duration 0.3s reached\n", r.Out);
                Assert.Matches(@"\nclock: real, \d+\.\d{3}s wall\n", r.Out);
            }
            else
            {
                Assert.Equal(1, r.Rc);
                Assert.True(r.Err.Contains("TAP link", StringComparison.Ordinal), $"stderr:\n{r.Err}"); // whole, with where a failure came from
            }
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task TraceFrom_SameRunUpToTheInstant_TracePointsAfterIt()
    {
        // examples/routed.hocon: ping every 200 ms from h1 to h2 across two routers, traceroute, UDP echo. Trace points on at 0.15 s.
        const long traceNs = 150_000_000;
        var plain = new List<SimEventRecord>();
        var traced = new List<SimEventRecord>();
        string config = ClockTests.RepoPath("examples/routed.hocon");
        var o1 = new StringWriter();
        var o2 = new StringWriter();
        Assert.Equal(0, await Runner.Execute(["run", "--config", config], o1, new StringWriter(), default, e => e.Trace = plain.Add));
        Assert.Equal(0, await Runner.Execute(["run", "--config", config, "--trace-from", "0.15s"], o2, new StringWriter(), default, e => e.Trace = traced.Add));

        // Every event up to and including the instant is the same event, in the same order; the tells that turn the
        // trace points on come after everything queued at that instant.
        int upTo = plain.FindIndex(r => r.TimeNs > traceNs);
        Assert.True(upTo > 100);
        Assert.Equal(plain.Take(upTo), traced.Take(upTo));
        Assert.Equal(traceNs, traced[upTo].TimeNs);
        Assert.Equal(SimEventKind.MailboxRun, traced[upTo].Kind);
        Assert.Equal("ActorStack.Messages.SetTracing", traced[upTo].Message);
        Assert.EndsWith("/h1", traced[upTo].Target); // the hosts in name order
        Assert.NotEqual(plain.Count, traced.Count); // the trace points publish events after it

        var plainOut = o1.ToString();
        var tracedOut = o2.ToString();
        Assert.DoesNotContain("net:netif_receive_skb", plainOut);
        Assert.Contains("actorstack: trace points on at 0.15s (--trace-from)\n", tracedOut);
        var points = Regex.Matches(tracedOut, @"\n\[(\w+) cpu(\d+)\] (\d+)\.(\d{9}): net:(netif_receive_skb|napi_gro_receive)_(entry|exit): dev=eth\d len=\d+ hash=0x[0-9a-f]{8}");
        Assert.NotEmpty(points);
        foreach (Match p in points)
            Assert.True(long.Parse(p.Groups[3].Value) * 1_000_000_000 + long.Parse(p.Groups[4].Value) >= traceNs, p.Value);
        // ping's second echo (sent at 0.2 s) crosses r1, r2 and reaches h2: its trace points are there.
        // (+ rx-usecs, 3 µs, at each of the three receptions: r1, r2, h2)
        Assert.Contains("\n[h2 cpu0] 0.201009300: net:netif_receive_skb_entry: dev=eth0 len=98", tracedOut);
        // Without tracing the same ping lines and summaries are printed.
        static string Pings(string s) => string.Join('\n', s.Split('\n').Where(l => l.StartsWith("[h1 ping]", StringComparison.Ordinal)));
        Assert.Equal(Pings(plainOut), Pings(tracedOut));
    }
}
