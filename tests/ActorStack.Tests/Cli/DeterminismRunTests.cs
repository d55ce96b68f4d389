using System.Text.RegularExpressions;
using ActorStack.Actors.Engine;
using ActorStack.Cli;

namespace ActorStack.Tests.Cli;

/// <summary>
/// What <c>run --check-determinism</c> claims, shown on whole CLI runs: two runs of one scenario and seed have the same
/// event digest, counters, drop tables, report and pcap bytes; another seed gives another digest. The default main job
/// (its pktgen count cut to 20,000 to keep this short; <see cref="ClockTests"/> runs the full 100,000),
/// <c>examples/routed.hocon</c> and <c>examples/tcp.hocon</c> (netem loss, a cut cable, a driver crash).
/// </summary>
public sealed class DeterminismRunTests
{
    private sealed record Run(int Rc, string Report, ulong Digest, long Events, byte[] Pcap);

    /// <summary>
    /// The scenario's text with its capture written to <paramref name="pcap"/> and, if given, a seed. With
    /// <paramref name="lossy"/> one wire loses packets (netem, drawn from the seed): the main job and routed.hocon draw
    /// nothing from the seed that changes which events run (ports and hash keys change values, not events), so that is
    /// where another seed must show.
    /// </summary>
    private static string Scenario(string which, string pcap, int? seed, bool lossy)
    {
        string text = which switch
        {
            "main" => MainJob(pcap),
            "routed" => File.ReadAllText(ClockTests.RepoPath("examples/routed.hocon")).Replace("file = \"routed.pcapng\"", $"file = \"{pcap}\""),
            // tcp.hocon has no capture: one on the receiving host's link.
            _ => File.ReadAllText(ClockTests.RepoPath("examples/tcp.hocon")) +
                 $"\nactorstack.scenario.capture {{ enabled = on, host = h2, device = eth0, file = \"{pcap}\" }}\n",
        };
        Assert.Contains(pcap, text);
        if (lossy)
        {
            var (wire, netem) = which switch
            {
                "main" => ("{ a = \"sender/eth0\", b = \"receiver/eth0\", delay = 0s }", "{ a = \"sender/eth0\", b = \"receiver/eth0\", delay = 0s, netem-a-to-b = \"loss 1%\" }"),
                "routed" => ("{ a = \"r1/eth1\", b = \"r2/eth0\" }", "{ a = \"r1/eth1\", b = \"r2/eth0\", netem-a-to-b = \"loss 10%\" }"),
                _ => ("", ""),
            };
            Assert.Contains(wire, text);
            text = text.Replace(wire, netem);
        }
        return seed is { } s ? text + $"\nactorstack.seed = {s}\n" : text;
    }

    private static string MainJob(string pcap)
    {
        string file = ClockTests.MainJobWithCapture(pcap, count: 20_000);
        try { return File.ReadAllText(file); }
        finally { File.Delete(file); }
    }

    private static async Task<Run> RunOnce(string which, DirectoryInfo dir, string name, int? seed = null, bool lossy = false)
    {
        string pcap = Path.Combine(dir.FullName, name + ".pcap");
        string file = Path.Combine(dir.FullName, name + ".hocon");
        await File.WriteAllTextAsync(file, Scenario(which, pcap, seed, lossy));
        var o = new StringWriter();
        SimEngine? engine = null;
        int rc = await Runner.Execute(["run", "--config", file, "--quiet"], o, new StringWriter(), default, e => engine = e);
        Assert.NotNull(engine);
        var report = o.ToString();
        var m = Regex.Match(report, @"\nclock: virtual, \d+\.\d{3}s simulated in \d+\.\d{3}s wall \(simulated:wall \d+\.\d\d:1\), (\d+) events, digest ([0-9a-f]{16})\n");
        Assert.True(m.Success, report[^Math.Min(report.Length, 600)..]);
        // The report names the digest of the events that ran until it was printed (shutdown adds more to the engine's).
        long events = long.Parse(m.Groups[1].Value);
        ulong digest = Convert.ToUInt64(m.Groups[2].Value, 16);
        // Wall time and the file's own name are what may differ.
        report = Regex.Replace(report.Replace(pcap, "PCAP"), @"in \d+\.\d{3}s wall \(simulated:wall \d+\.\d\d:1\)", "in (wall)");
        return new Run(rc, report, digest, events, File.Exists(pcap) ? await File.ReadAllBytesAsync(pcap) : []);
    }

    private static string Section(string report, string header)
        => string.Join('\n', report.Split('\n').SkipWhile(l => l != header).Skip(1).TakeWhile(l => !l.StartsWith("---", StringComparison.Ordinal) && !l.StartsWith("=====", StringComparison.Ordinal)));

    private static async Task SameSeedIdentical_OtherSeedDiffers(string which, string mustReport)
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-det-");
        try
        {
            var a = await RunOnce(which, dir, "run-a");
            var b = await RunOnce(which, dir, "run-b");
            Assert.Equal(0, a.Rc);
            Assert.Equal(0, b.Rc);
            Assert.Contains(mustReport, a.Report);
            Assert.True(a.Events > 1000, $"{a.Events} events");
            Assert.Equal(a.Digest, b.Digest);
            Assert.Equal(a.Events, b.Events);
            // Counters (ip -s link, softnet_stat, /proc/net/snmp) and drop tables, per host, then the whole report.
            foreach (var header in new[] { "--- ip -s -s link", "--- /proc/net/softnet_stat", "--- /proc/net/snmp", "--- drops (dropwatch)" })
            {
                Assert.Contains(header, a.Report);
                Assert.Equal(Section(a.Report, header), Section(b.Report, header));
            }
            Assert.Equal(a.Report, b.Report);
            Assert.True(a.Pcap.Length > 24 + 16, $"pcap of {a.Pcap.Length} bytes");
            Assert.Equal(a.Pcap, b.Pcap);

            // Another seed: another run where the seed decides something (tcp.hocon's netem loss; a lossy wire added to the others).
            bool lossy = which != "tcp";
            var one = await RunOnce(which, dir, "seed1", seed: 1, lossy: lossy);
            var two = await RunOnce(which, dir, "seed2", seed: 2, lossy: lossy);
            Assert.Equal(0, one.Rc);
            Assert.Equal(0, two.Rc);
            Assert.NotEqual(one.Digest, two.Digest);
            if (lossy) Assert.NotEqual(a.Digest, one.Digest);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public Task MainJob_SameSeedIdentical_OtherSeedDiffers()
        => SameSeedIdentical_OtherSeedDiffers("main", "pktgen sender/eth0: sent 20000 of 20000 frames");

    [Fact]
    public Task Routed_SameSeedIdentical_OtherSeedDiffers()
        => SameSeedIdentical_OtherSeedDiffers("routed", "udp-echo-client h3 -> 10.0.3.10:7: sent 20");

    [Fact]
    public Task Tcp_SameSeedIdentical_OtherSeedDiffers()
        => SameSeedIdentical_OtherSeedDiffers("tcp", "tcp-bulk-client");
}
