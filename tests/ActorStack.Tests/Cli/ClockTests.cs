using System.Text.RegularExpressions;
using ActorStack.Actors.Engine;
using ActorStack.Cli;

namespace ActorStack.Tests.Cli;

/// <summary>
/// <c>run --clock virtual</c> and <c>run --check-determinism</c> (issue 13's CLI part): the CLI drives the simulation
/// engine, so the default main job's report, its event digest and its pcap are the same every run.
/// </summary>
public sealed partial class ClockTests
{
    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ActorStack.sln"))) return Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException(relative);
    }

    internal static string RepoPath(string relative) => RepoFile(relative);

    internal static async Task<(int Rc, string Out, string Err)> Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = await Runner.Execute(args, o, e);
        return (rc, o.ToString(), e.ToString());
    }

    /// <summary>
    /// The default main job (stack.hocon) as a user file, its pcap written to <paramref name="pcap"/> instead of the working
    /// directory; <paramref name="count"/> overrides pktgen's <c>count</c> (100,000) to keep a test short.
    /// </summary>
    internal static string MainJobWithCapture(string pcap, int? count = null)
    {
        var text = File.ReadAllText(RepoFile("stack.hocon"));
        Assert.Contains("file = \"actorstack.pcapng\"", text);
        text = text.Replace("file = \"actorstack.pcapng\"", $"file = \"{pcap}\"");
        if (count is { } n)
        {
            Assert.Contains("count = 100000,", text);
            text = text.Replace("count = 100000,", $"count = {n},");
        }
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-clock-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(file, text);
        return file;
    }

    private static string[] Headers(string report)
        => [.. report.Split('\n').Where(l => l.StartsWith("=====", StringComparison.Ordinal) || l.StartsWith("--- ", StringComparison.Ordinal))];

    [GeneratedRegex(@"check-determinism: identical, digest ([0-9a-f]{16}), (\d+) events")]
    private static partial Regex Identical();

    /// <summary>
    /// The command's writers are safe for several threads (on the real clock actors print from the thread pool while the
    /// command prints progress): four threads printing at once lose no line and tear none, in each thread's order. A plain
    /// <see cref="StringWriter"/> throws or loses lines here ("Destination is too short", the flake of the TAP run test).
    /// </summary>
    [Fact]
    public async Task Writers_FourThreadsPrintingAtOnce_NoLineLostOrTorn_TheConsoleAsItIs()
    {
        Assert.Same(Console.Out, Runner.Writers(Console.Out, Console.Error).Out);
        var sw = new StringWriter();
        var (o, _) = Runner.Writers(sw, new StringWriter());
        const int threads = 4, each = 20_000;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var printers = Enumerable.Range(0, threads).Select(t => Task.Run(async () =>
        {
            await start.Task;
            for (int i = 0; i < each; i++) o.WriteLine($"t{t} line {i}");
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(printers);
        var lines = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(threads * each, lines.Length);
        for (int t = 0; t < threads; t++)
            Assert.Equal(Enumerable.Range(0, each).Select(i => $"t{t} line {i}"), lines.Where(l => l.StartsWith($"t{t} ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Virtual_MainJob_RunsToCompletion_SameReportAsRealClock_ByteIdenticalPcap()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-clock-");
        string[] configs = [MainJobWithCapture(Path.Combine(dir.FullName, "v1.pcap")), MainJobWithCapture(Path.Combine(dir.FullName, "v2.pcap")),
                            MainJobWithCapture(Path.Combine(dir.FullName, "real.pcap"))];
        try
        {
            var v1 = await Cli("run", "--clock", "virtual", "--config", configs[0]);
            var v2 = await Cli("run", "--config", configs[1]); // virtual is the default
            var real = await Cli("run", "--clock", "real", "--config", configs[2]);
            Assert.Equal(0, v1.Rc);
            Assert.Equal(0, v2.Rc);
            Assert.Equal(0, real.Rc);

            // Progress in simulated time: pktgen sends 50,000/s, each frame at its own instant (20 µs apart, the first at
            // 0): 50,001 sent by 1 s, the one sent at 1 s itself not read yet; the last leaves at 1.99998 s and is read
            // before the 2 s line.
            Assert.Contains("[   1.0s] sent      50001  read      50000  (     50000 datagrams/s)", v1.Out);
            Assert.Contains("[   2.0s] sent     100000  read     100000  (     50000 datagrams/s)", v1.Out);
            Assert.Contains("[   3.0s] sent     100000  read     100000  (     33333 datagrams/s)", v1.Out);
            Assert.Contains("pktgen sender/eth0: sent 100000 of 100000 frames, 0 dropped at transmit", v1.Out);
            Assert.Contains("capture: 100000 frames written to", v1.Out);
            Assert.Matches(@"\nclock: virtual, 3\.000s simulated in \d+\.\d{3}s wall \(simulated:wall \d+\.\d\d:1\), \d+ events, digest [0-9a-f]{16}\n", v1.Out);
            Assert.DoesNotContain("clock: virtual", real.Out);
            Assert.Matches(@"\nclock: real, \d+\.\d{3}s wall\n", real.Out);
            Assert.Contains("[   3.0s] sent     100000  read     100000", v2.Out);
            // The ratio it prints is simulated over wall time (both as printed, to their rounding).
            var m = Regex.Match(v1.Out, @"clock: virtual, (\d+\.\d{3})s simulated in (\d+\.\d{3})s wall \(simulated:wall (\d+\.\d\d):1\)");
            double sim = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            double wall = double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            double ratio = double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(3.0, sim);
            Assert.True(wall > 0);
            Assert.InRange(ratio, sim / (wall + 0.0005) - 0.005, sim / Math.Max(wall - 0.0005, 1e-6) + 0.005);
            Assert.DoesNotContain("max-duration reached", v1.Out);

            // The same report structure as on the real clock, and the same report every virtual run.
            Assert.NotEmpty(Headers(v1.Out));
            Assert.Equal(Headers(real.Out), Headers(v1.Out));
            static string NoWall(string s) => Regex.Replace(s, @"in \d+\.\d{3}s wall \(simulated:wall \d+\.\d\d:1\)", "").Replace(".pcap", "").Replace("v2", "v1");
            Assert.Equal(NoWall(v1.Out), NoWall(v2.Out));

            // The capture's timestamps are simulated time from actorstack.run.epoch (2026-01-01T00:00:00Z): byte-identical files.
            var p1 = await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "v1.pcap"));
            var p2 = await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "v2.pcap"));
            Assert.True(p1.Length > 24 + 16);
            Assert.Equal(p1, p2);
            // pcapng (the default format): the first frame's ns since 1970 fall in the epoch's first second.
            long firstNs = ActorStack.Hardware.Capture.PcapNgReader.Read(p1).Packets[0].UnixNs;
            Assert.Equal(SimEngine.DefaultEpoch.ToUnixTimeSeconds(), firstNs / 1_000_000_000);
        }
        finally
        {
            foreach (var c in configs) File.Delete(c);
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("examples/routed.hocon")]
    public async Task CheckDeterminism_Identical_SameDigestEveryInvocation(string? example)
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-clock-");
        string config = example is null ? MainJobWithCapture(Path.Combine(dir.FullName, "d.pcap"), count: 20_000) : RepoFile(example);
        try
        {
            var a = await Cli("run", "--clock", "virtual", "--check-determinism", "--config", config);
            var b = await Cli("run", "--check-determinism", "--config", config); // implies the virtual clock
            Assert.Equal(0, a.Rc);
            Assert.Equal(0, b.Rc);
            var ma = Identical().Match(a.Out);
            var mb = Identical().Match(b.Out);
            Assert.True(ma.Success, a.Out[^Math.Min(a.Out.Length, 600)..]);
            Assert.True(mb.Success, b.Out[^Math.Min(b.Out.Length, 600)..]);
            Assert.Equal(ma.Groups[1].Value, mb.Groups[1].Value);
            Assert.Equal(ma.Groups[2].Value, mb.Groups[2].Value);
            Assert.True(long.Parse(ma.Groups[2].Value) > 1000);
            // The digest it names is the one the run's report prints.
            Assert.Contains($"events, digest {ma.Groups[1].Value}\n", a.Out);
        }
        finally
        {
            if (example is null) File.Delete(config);
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Virtual_TapWire_RefusedBeforeStart_NamingTheWire()
    {
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-clock-tap-{Guid.NewGuid():N}.hocon");
        await File.WriteAllTextAsync(file, """
            actorstack.scenario {
              hosts {
                h1 { devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.9.0.1/24"] } } }
                h2 { devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.8.0.1/24"] }
                  eth1 { mac = "02:00:00:00:00:03", addresses = ["10.9.0.2/24"] } } }
              }
              wires = [ { a = "h1/eth0", b = "h2/eth1" }, { a = "h2/eth0", tap = "astap9" } ]
            }
            """);
        try
        {
            var r = await Cli("run", "--clock", "virtual", "--config", file);
            Assert.Equal(2, r.Rc);
            Assert.Equal("", r.Out); // nothing started
            Assert.Equal("actorstack: wire h2/eth0 <-> tap/astap9 (actorstack.scenario.wires[1].tap = \"astap9\") is a TAP link to the kernel, which runs on wall time: it needs --clock real\n",
                r.Err.Replace("\r\n", "\n"));
            var d = await Cli("run", "--check-determinism", "--config", file);
            Assert.Equal(2, d.Rc);
            Assert.Equal("", d.Out);
            Assert.Equal("actorstack: wire h2/eth0 <-> tap/astap9 (actorstack.scenario.wires[1].tap = \"astap9\") is a TAP link to the kernel, which runs on wall time: " +
                         "it runs on the real clock, and --check-determinism needs the virtual clock\n", d.Err.Replace("\r\n", "\n"));
            var t = await Cli("run", "--trace-from", "1s", "--config", file);
            Assert.Equal(2, t.Rc);
            Assert.Equal("", t.Out);
            Assert.EndsWith("it runs on the real clock, and --trace-from needs the virtual clock\n", t.Err.Replace("\r\n", "\n"));
            // check and topology do not run it: no clock involved.
            Assert.Equal(0, (await Cli("check", "--config", file)).Rc);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task BadClockArguments_Return2()
    {
        Assert.Equal(2, (await Cli("run", "--clock", "wall")).Rc);
        Assert.Equal(2, (await Cli("run", "--clock")).Rc);
        var r = await Cli("run", "--clock", "real", "--check-determinism");
        Assert.Equal(2, r.Rc);
        Assert.Contains("--check-determinism needs the virtual clock", r.Err);
        Assert.Equal(2, (await Cli("check", "--clock", "virtual")).Rc);
        var tr = await Cli("run", "--clock", "real", "--trace-from", "2.5s");
        Assert.Equal(2, tr.Rc);
        Assert.Contains("--trace-from needs the virtual clock", tr.Err);
        foreach (var bad in new[] { "0s", "-1s", "5 parsecs", "x", "1e400s" })
        {
            var r2 = await Cli("run", "--duration", bad);
            Assert.Equal(2, r2.Rc);
            Assert.Contains($"--duration {bad}: not a duration", r2.Err);
        }
        Assert.Equal(2, (await Cli("run", "--trace-from", "-2s")).Rc);
        Assert.Equal(2, (await Cli("run", "--duration")).Rc);
        Assert.Equal(2, (await Cli("topology", "--duration", "1s")).Rc);
    }

    [Theory]
    [InlineData("60s", 600_000_000L)]
    [InlineData("2.5s", 25_000_000L)]
    [InlineData("2.5", 25_000_000L)]
    [InlineData("500ms", 5_000_000L)]
    [InlineData("250us", 2_500L)]
    [InlineData("2m", 1_200_000_000L)]
    [InlineData("1h", 36_000_000_000L)]
    [InlineData("100ns", 1L)]
    public void ParseDuration_Units(string text, long ticks)
    {
        Assert.Equal(TimeSpan.FromTicks(ticks), Runner.ParseDuration(text));
        Assert.Null(Runner.ParseDuration("0s"));
        Assert.Equal(TimeSpan.Zero, Runner.ParseDuration("0s", allowZero: true));
        Assert.Null(Runner.ParseDuration("3 furlongs"));
    }

    [Fact]
    public async Task CheckDeterminism_NamesTheFirstEventWhereTheRunsDiffer()
    {
        // Two fake runs whose third event differs: the verdict names it (time, kind, actor, message type), exit 1.
        int runNo = 0;
        var o = new StringWriter();
        int rc = await Determinism.Check(o, new StringWriter(), async (output, onEngine, onReported) =>
        {
            runNo++;
            var engine = new SimEngine(SimEngine.DefaultEpoch);
            onEngine(engine);
            engine.Trace!(new SimEventRecord(0, SimEventKind.MailboxRun, "/user/sim", "StartSimulation"));
            engine.Trace!(new SimEventRecord(1_000, SimEventKind.TimerTell, "/user/sim/h1", "Tick"));
            engine.Trace!(runNo == 1
                ? new SimEventRecord(2_500_000_001, SimEventKind.MailboxRun, "/user/sim/h1/eth0", "SkbBatch")
                : new SimEventRecord(2_500_000_001, SimEventKind.MailboxRun, "/user/sim/h2/eth0", "SkbBatch"));
            engine.Trace!(new SimEventRecord(2_500_000_002, SimEventKind.MailboxRun, "/user/sim", "GetStats"));
            output.WriteLine("report");
            onReported(engine);
            await Task.Yield();
            return 0;
        });
        Assert.Equal(1, rc);
        Assert.Equal("report\nactorstack: check-determinism: runs differ at event 3: run 1: 2.500000001s MailboxRun /user/sim/h1/eth0 (SkbBatch); " +
                     "run 2: 2.500000001s MailboxRun /user/sim/h2/eth0 (SkbBatch)\n", o.ToString().Replace("\r\n", "\n"));

        // A second run that stops early differs where it ended.
        runNo = 0;
        o = new StringWriter();
        rc = await Determinism.Check(o, new StringWriter(), async (output, onEngine, onReported) =>
        {
            runNo++;
            var engine = new SimEngine(SimEngine.DefaultEpoch);
            onEngine(engine);
            engine.Trace!(new SimEventRecord(0, SimEventKind.MailboxRun, "/user/sim", "StartSimulation"));
            if (runNo == 1) engine.Trace!(new SimEventRecord(7, SimEventKind.Task, "/user/sim", "Done"));
            onReported(engine);
            await Task.Yield();
            return 0;
        });
        Assert.Equal(1, rc);
        Assert.Equal("actorstack: check-determinism: runs differ at event 2: run 2 had ended after 1 events; run 1: 0.000000007s Task /user/sim (Done)\n",
            o.ToString().Replace("\r\n", "\n"));
    }
}
