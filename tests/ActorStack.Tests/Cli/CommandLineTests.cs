using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ActorStack.Cli;
using Xunit.Abstractions;

namespace ActorStack.Tests.Cli;

/// <summary>
/// The CLI of issue 15 on System.CommandLine: help per command, errors that say what is wrong (exit 2, nothing run),
/// <c>--schedule</c> and its companions as the engine's configuration keys, <c>--report summary</c> (the default above
/// 50 hosts), the progress line, and the log (<c>--out DIR/logs</c>, <c>--log-format compact</c>) with the actors'
/// structured properties.
/// </summary>
public sealed class CommandLineTests(ITestOutputHelper output)
{
    private static Task<(int Rc, string Out, string Err)> Cli(params string[] args) => ClockTests.Cli(args);

    private static string N(string s) => s.Replace("\r\n", "\n");

    [Fact]
    public async Task Help_PerCommand()
    {
        var run = await Cli("run", "--help");
        Assert.Equal(0, run.Rc);
        Assert.Equal("", run.Err);
        Assert.Contains("Usage:\n  actorstack run [options]\n", N(run.Out));
        foreach (var option in new[] { "--config <FILE>", "--seed <N>", "--set <KEY=VALUE>", "-v, --verbose", "-q, --quiet", "--clock <virtual|real>",
                                       "--duration <D>", "--trace-from <T>", "--check-determinism", "--out <DIR>", "--force", "--plot",
                                       "--report <full|summary>", "--log-format <text|compact>", "--schedule <fifo|random|pct>",
                                       "--schedule-seed <N>", "--pct-depth <N>" })
            Assert.Contains("  " + option + " ", run.Out);
        Assert.DoesNotContain("--seeds", run.Out);

        var sweep = await Cli("sweep", "-h");
        Assert.Equal(0, sweep.Rc);
        Assert.Contains("actorstack sweep [options]", sweep.Out);
        Assert.Contains("--seeds <A..B|S1,S2,..> (REQUIRED)", sweep.Out);
        Assert.Contains("--vary <KEY=V1,V2,..>", sweep.Out);
        Assert.DoesNotContain("--clock", sweep.Out);

        var check = await Cli("check", "--help");
        Assert.Contains("actorstack check [options]", check.Out);
        Assert.Contains("--set <KEY=VALUE>", check.Out);
        Assert.DoesNotContain("--duration", check.Out);
        Assert.Contains("actorstack plot <DIR> [options]", (await Cli("plot", "--help")).Out);
        Assert.Contains("actorstack topology [options]", (await Cli("help", "topology")).Out);

        // The root: every command listed; without arguments the same on stderr, exit 2.
        var root = await Cli("--help");
        Assert.Equal(0, root.Rc);
        foreach (var c in new[] { "run", "check", "topology", "sweep", "plot <DIR>" })
            Assert.Matches($@"\n  {Regex.Escape(c)} +\S", N(root.Out));
        var none = await Cli();
        Assert.Equal(2, none.Rc);
        Assert.Equal("", none.Out);
        Assert.Contains("Commands:", none.Err);
    }

    [Fact]
    public async Task BadInput_ClearMessage_Exit2_NothingRuns()
    {
        async Task Bad(string expected, params string[] args)
        {
            var r = await Cli(args);
            Assert.Equal(2, r.Rc);
            Assert.Equal("", r.Out);
            Assert.Equal(expected, N(r.Err));
        }
        await Bad("actorstack: unknown argument '--bogus'\nsee 'actorstack run --help'\n", "run", "--bogus");
        await Bad("actorstack: unknown command 'frobnicate' (commands: run, check, topology, sweep, plot, node)\nsee 'actorstack --help'\n", "frobnicate");
        await Bad("actorstack: --report brief: must be one of full, summary\nsee 'actorstack run --help'\n", "run", "--report", "brief");
        await Bad("actorstack: --log-format xml: must be one of text, compact\nsee 'actorstack run --help'\n", "run", "--log-format", "xml");
        await Bad("actorstack: --schedule lifo: must be one of fifo, random, pct\nsee 'actorstack run --help'\n", "run", "--schedule", "lifo");
        await Bad("actorstack: --clock wall: must be one of virtual, real\nsee 'actorstack run --help'\n", "run", "--clock", "wall");
        await Bad("actorstack: --schedule-seed -1: takes a number >= 0\nsee 'actorstack run --help'\n", "run", "--schedule-seed", "-1");
        await Bad("actorstack: --pct-depth 0: takes a number >= 1\nsee 'actorstack run --help'\n", "run", "--pct-depth", "0");
        await Bad("actorstack: --set nokey: takes KEY=VALUE\nsee 'actorstack check --help'\n", "check", "--set", "nokey");
        await Bad("actorstack: --duration 5x: not a duration (e.g. 60s, 2.5s, 500ms, 2m)\nsee 'actorstack run --help'\n", "run", "--duration", "5x");
        await Bad("actorstack: --parallel 0: takes a positive number\nsee 'actorstack sweep --help'\n",
            "sweep", "--config", "x.hocon", "--seeds", "1..2", "--out", "o", "--parallel", "0");
        await Bad("actorstack: --seeds 3..1: takes A..B or a list S1,S2,..\nsee 'actorstack sweep --help'\n",
            "sweep", "--config", "x.hocon", "--seeds", "3..1", "--out", "o");
        var missing = await Cli("sweep", "--config", "x.hocon", "--out", "o");
        Assert.Equal(2, missing.Rc);
        Assert.Contains("--seeds", missing.Err);
        Assert.EndsWith("see 'actorstack sweep --help'\n", N(missing.Err));
        // A key the configuration does not have, through --set or the options that map to keys: the key and a suggestion.
        var unknown = await Cli("check", "--set", "run.schedul=random");
        Assert.Equal(2, unknown.Rc);
        Assert.Contains("--set run.schedul=random: actorstack.run.schedul: unknown key (did you mean 'schedule'?)", unknown.Err);
        // Options of run only are refused by check and topology.
        await Bad("actorstack: unknown argument '--report'\nactorstack: unknown argument 'full'\nsee 'actorstack topology --help'\n", "topology", "--report", "full");
    }

    [Fact]
    public async Task Schedule_Options_AreTheEnginesKeys()
    {
        // --schedule, --schedule-seed, --pct-depth only set actorstack.run.schedule, .schedule-seed and .pct-depth, as --set
        // would: the merged configuration of --out has them; without them it has stack.hocon's defaults.
        var dir = Directory.CreateTempSubdirectory("actorstack-sched-");
        try
        {
            var cfg = Path.Combine(dir.FullName, "s.hocon");
            File.WriteAllText(cfg, """
                actorstack.scenario {
                  hosts { a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"] } } } }
                  workloads = [ { type = udp-sink, host = a, bind = "0.0.0.0:7000" } ]
                }
                """);
            var a = await Cli("run", "--config", cfg, "--duration", "10ms", "--quiet", "--schedule", "pct", "--schedule-seed", "7", "--pct-depth", "2",
                "--out", Path.Combine(dir.FullName, "a"));
            Assert.Equal(0, a.Rc);
            var merged = Akka.Configuration.ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(dir.FullName, "a", "config.hocon")));
            Assert.Equal(("pct", 7, 2), (merged.GetString("actorstack.run.schedule"), merged.GetInt("actorstack.run.schedule-seed"), merged.GetInt("actorstack.run.pct-depth")));
            var b = await Cli("run", "--config", cfg, "--duration", "10ms", "--quiet", "--out", Path.Combine(dir.FullName, "b"));
            Assert.Equal(0, b.Rc);
            var defaults = Akka.Configuration.ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(dir.FullName, "b", "config.hocon")));
            Assert.Equal(("fifo", 0, 3), (defaults.GetString("actorstack.run.schedule"), defaults.GetInt("actorstack.run.schedule-seed"), defaults.GetInt("actorstack.run.pct-depth")));
        }
        finally { dir.Delete(true); }
    }

    /// <summary>
    /// <paramref name="pairs"/> pairs of hosts aI → bI on a wire each; aI's pktgen sends I+1 UDP frames to bI's port 9,
    /// where nothing listens: bI frees each (SKB_DROP_REASON_NO_SOCKET) and answers with an ICMP port unreachable.
    /// </summary>
    public static string ManyHosts(int pairs)
    {
        var sb = new StringBuilder("actorstack {\n  run { progress-interval = 100ms, settle = 50ms, max-duration = 5s }\n  scenario {\n    hosts {\n");
        for (int i = 0; i < pairs; i++)
        {
            sb.AppendLine($"      a{i} {{ devices {{ eth0 {{ mac = \"02:00:00:00:{i:x2}:01\", addresses = [\"10.{i}.0.1/24\"] }} }} }}");
            sb.AppendLine($"      b{i} {{ devices {{ eth0 {{ mac = \"02:00:00:00:{i:x2}:02\", addresses = [\"10.{i}.0.2/24\"] }} }} }}");
        }
        sb.AppendLine("    }\n    wires = [");
        for (int i = 0; i < pairs; i++) sb.AppendLine($"      {{ a = \"a{i}/eth0\", b = \"b{i}/eth0\", delay = 1ms }}");
        sb.AppendLine("    ]\n    workloads = [");
        for (int i = 0; i < pairs; i++)
            sb.AppendLine($"      {{ type = pktgen, host = a{i}, device = eth0, count = {i + 1}, pkt_size = 128, ratep = 1000, flows = 1, " +
                          $"dst_mac = \"02:00:00:00:{i:x2}:02\", dst_min = \"10.{i}.0.2\", udp_dst_min = 9 }}");
        sb.AppendLine("    ]\n  }\n}");
        return sb.ToString();
    }

    [Fact]
    public async Task Report_SummaryIsTheDefaultAbove50Hosts_MuchShorterThanFull()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-report-");
        try
        {
            var cfg = Path.Combine(dir.FullName, "many.hocon");
            File.WriteAllText(cfg, ManyHosts(26)); // 52 hosts
            var summary = await Cli("run", "--config", cfg, "--quiet");
            output.WriteLine(summary.Out);
            Assert.Equal(0, summary.Rc);
            var full = await Cli("run", "--config", cfg, "--quiet", "--report", "full");
            Assert.Equal(0, full.Rc);
            var s = N(summary.Out);
            var f = N(full.Out);
            Assert.DoesNotContain("===== host ", s);
            Assert.Equal(52, Regex.Matches(f, @"\n===== host \w+ =====\n").Count);
            Assert.True(s.Length * 5 < f.Length, $"summary {s.Length} chars, full {f.Length}");
            // The same run (the summary asks what the full report asks): the same digest.
            string Digest(string t) => Regex.Match(t, @"digest ([0-9a-f]{16})").Groups[1].Value;
            Assert.Equal(Digest(f), Digest(s));
            static string NoWall(string t) => Regex.Replace(t, @"simulated in \d+\.\d+s wall \(simulated:wall [\d.]+:1\)", "");
            Assert.Equal(NoWall(s), NoWall(N((await Cli("run", "--config", cfg, "--quiet", "--report", "summary")).Out)));

            // 1 + 2 + … + 26 = 351 frames, each freed at its bI for want of a socket; ICMP port unreachables go back
            // out: inet_peer_xrlim_allow passes a burst of 6 per peer (XRLIM_BURST_FACTOR), 1 + … + 6 + 20 × 6 = 141.
            Assert.Contains("\n===== 52 hosts (summary; --report full prints each host) =====\n", s);
            Assert.Contains("\n--- ip -s -s link: 104 devices (52 NICs, 52 up), summed\n", s);
            Assert.Contains("\n--- /proc/net/softnet_stat: 52 CPUs, summed\n", s);
            Assert.Contains("\n  reason                 location            packets  hosts\n  NO_SOCKET              udp                     351     26\n", s);
            Assert.Matches(@"\nUdp: InDatagrams NoPorts InErrors .*\nUdp: 0 351 0 ", s);
            Assert.Matches(@"\nIp: Forwarding DefaultTTL InReceives .*\nIp: 2 64 492 ", s); // settings as the hosts have them, counters summed
            Assert.Matches(@"\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn .*\nTcp: 1 200 120000 -1 ", s);
            // pktgen's datagrams have no socket at the sender: each port unreachable counts InErrors there (__udp4_lib_err).
            Assert.Matches(@"\nIcmp: InMsgs InErrors .*\nIcmp: 141 141 0 141 ", s);
            var top = s[s.IndexOf("--- top 10 hosts by drops\n", StringComparison.Ordinal)..];
            Assert.StartsWith("--- top 10 hosts by drops\n  host                  drops  most by\n" +
                              string.Concat(Enumerable.Range(0, 10).Select(k => $"  {"b" + (25 - k),-16} {26 - k,10}  NO_SOCKET {26 - k}\n")) + "\n===== wires =====\n", top);
            Assert.Contains("\n26 wires: 377 frames a->b, 167 b->a, 0 dropped\n", s);
            // 26 pktgens: the summary prints the first 10 and counts the rest; the full report prints all 26.
            Assert.Equal(10, Regex.Matches(s, @"\npktgen a\d+/eth0: sent ").Count);
            Assert.Contains("\npktgen a9/eth0: sent 10 of 10 frames, 0 dropped at transmit\n... and 16 more applications (--report full prints them all; so does summary.json under --out)\n", s);
            Assert.Equal(26, Regex.Matches(f, @"\npktgen a\d+/eth0: sent ").Count);
            Assert.DoesNotContain("more applications", f);
            // The full report has the same drops host by host.
            Assert.Contains("\n===== host b25 =====\n", f);
            Assert.Equal(26, Regex.Matches(f, @"\n  NO_SOCKET              udp +\d+\n").Count);
            // Below the threshold the full report stays the default.
            File.WriteAllText(cfg, ManyHosts(25)); // 50 hosts
            var fifty = N((await Cli("run", "--config", cfg, "--quiet")).Out);
            Assert.Equal(50, Regex.Matches(fifty, @"\n===== host \w+ =====\n").Count);
            Assert.DoesNotContain("(summary;", fifty);
        }
        finally { dir.Delete(true); }
    }

    /// <summary>
    /// pktgen as fast as its TX ring allows (no ratep: at line rate; paced, it sends each frame at its own instant and b
    /// keeps up) to two ports of b, one with a UDP sink whose socket has a 4 KB receive buffer, the other closed: b's RX
    /// ring overflows (FULL_RING), the sink's socket is full (SOCKET_RCVBUFF), the closed port has no socket (NO_SOCKET).
    /// </summary>
    private const string DropsScenario = """
        actorstack {
          run { progress-interval = 10ms, settle = 20ms, max-duration = 2s }
          device-defaults.rx-usecs = 0   # an interrupt per frame: the drop counts below were taken without RX moderation
          scenario {
            hosts {
              a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"] } } }
              b { sysctl.net.core.rmem_default = 4096, devices { eth0 { mac = "02:00:00:00:00:0b", addresses = ["10.1.0.2/24"] } } }
            }
            wires = [ { a = "a/eth0", b = "b/eth0", delay = 1ms } ]
            workloads = [
              { type = pktgen, host = a, device = eth0, count = 2000, pkt_size = 128, ratep = 0, flows = 2,
                dst_mac = "02:00:00:00:00:0b", dst_min = "10.1.0.2", udp_dst_min = 7000, udp_dst_max = 7001 }
              { type = udp-sink, host = b, bind = "0.0.0.0:7000" }
            ]
          }
        }
        """;

    [Fact]
    public async Task Plot_DropsByReason_PngAndSvgWithEachReason()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-dropplot-");
        try
        {
            var cfg = Path.Combine(dir.FullName, "drops.hocon");
            File.WriteAllText(cfg, DropsScenario);
            var outDir = Path.Combine(dir.FullName, "out");
            var r = await Cli("run", "--config", cfg, "--quiet", "--out", outDir);
            Assert.Equal(0, r.Rc);
            Assert.Contains("\n  FULL_RING              eth0/rx0               1538\n  NO_SOCKET              udp                     231\n" +
                            "  SOCKET_RCVBUFF         udp/sock                214\n", N(r.Out));
            var series = File.ReadAllLines(Path.Combine(outDir, ExperimentRecorder.TimeSeries));
            Assert.Contains("0.010,b,drop,FULL_RING,packets,1538", series);
            Assert.Contains("0.010,b,drop,NO_SOCKET,packets,231", series);
            Assert.Contains("0.010,b,drop,SOCKET_RCVBUFF,packets,214", series);
            Assert.False(File.Exists(Path.Combine(outDir, "drops.svg")));

            var p = await Cli("plot", outDir);
            Assert.Equal(0, p.Rc);
            Assert.Equal("plots: throughput.png, throughput.svg, drops.png, drops.svg\n", N(p.Out));
            Assert.True(new FileInfo(Path.Combine(outDir, "drops.png")).Length > 1000);
            var svg = File.ReadAllText(Path.Combine(outDir, "drops.svg"));
            Assert.Contains("Drops by reason (stacked)", svg);
            Assert.Contains("packets per interval", svg);
            foreach (var reason in new[] { "FULL_RING", "NO_SOCKET", "SOCKET_RCVBUFF" })
                Assert.Single(Regex.Matches(svg, $@">\s*{reason}\s*</text>")); // its legend entry
            Assert.DoesNotContain("NO_ROUTE", svg); // only reasons that dropped
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void ProgressLine_ShowsWhatTheScenarioDoes()
    {
        var apps = new object[]
        {
            new ActorStack.Messages.TcpServerStatus("h2", "tcp-bulk-server", "0.0.0.0:5201", true, 1, 3L << 20, 1024, 0, 0),
            new ActorStack.Messages.PingStatus("h1", ActorStack.Messages.Packets.Ipv4Address.Parse("10.0.0.2"), [], 5, 4, 0, 0, 0, 0, 0, 0, 0, false),
        };
        var first = ProgressSample.From(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20), [], [], apps, 1000);
        Assert.Equal("[   1.0s] tcp 3.0 MBytes, ping 4/5  of 20.0s, 1000 events/s", first.Line(null));
        var second = ProgressSample.From(TimeSpan.FromSeconds(1.5), null, [], [], apps, 1600);
        Assert.Equal("[   1.5s] tcp 3.0 MBytes, ping 4/5  1200 events/s", second.Line(first));
        var real = ProgressSample.From(TimeSpan.FromSeconds(2), null, [], [], [], null);
        Assert.Equal("[   2.0s]", real.Line(null));
    }

    [Theory]
    [InlineData("akka://actorstack/user/sim/h2/dev-eth0", "Host=h2 Device=eth0")]
    [InlineData("akka://actorstack/user/sim/h2/softnet-cpu1", "Host=h2 Cpu=1")]
    [InlineData("akka://actorstack/user/sim/h2/sock-3", "Host=h2 Socket=sock-3")]
    [InlineData("akka://actorstack/user/sim/h2/tcp/tcp-4", "Host=h2 Socket=tcp-4")]
    [InlineData("akka://actorstack/user/sim/h2/tcp", "Host=h2")]
    [InlineData("akka://actorstack/user/sim/h-1", "Host=h-1")]
    [InlineData("akka://actorstack/user/sim/wire-0-h1-eth0--h2-eth0", "Wire=wire-0-h1-eth0--h2-eth0")]
    [InlineData("akka://actorstack/user/sim/switch-sw1", "Switch=sw1")]
    [InlineData("akka://actorstack/user/sim/pktgen-0-h-1-eth0", "Host=h-1 Workload=pktgen-0-h-1-eth0")]
    [InlineData("akka://actorstack/user/sim/ping-2-h2", "Host=h2 Workload=ping-2-h2")]
    [InlineData("akka://actorstack/system/log", "")]
    public void LogProperties_FromTheActorPath(string path, string expected)
    {
        var hosts = new HashSet<string> { "h1", "h2", "h-1" };
        Assert.Equal(expected, string.Join(' ', StackLog.PathProperties(path, hosts).Select(p => $"{p.Name}={p.Value}")));
    }
}

/// <summary>The log of a run: <c>--out DIR/logs</c>, compact JSON, the actors' structured properties (the console is swapped: runs alone).</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class LogFileTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Log_File_CompactJson_WithHostDeviceAndSimTime()
    {
        // h2's driver crashes twice with a reset limit of 1: the host resets it at the first (a warning from /user/sim/h2)
        // and gives up at the second (an error from the host, and one from the NIC actor /user/sim/h2/dev-eth0).
        var dir = Directory.CreateTempSubdirectory("actorstack-log-");
        try
        {
            var cfg = Path.Combine(dir.FullName, "crash.hocon");
            File.WriteAllText(cfg, """
                actorstack {
                  device-defaults { reset-limit = 1 }
                  run { progress-interval = 100ms, settle = 50ms, max-duration = 5s }
                  scenario {
                    hosts {
                      h1 { devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"] } } }
                      h2 { devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"] } } }
                    }
                    wires = [ { a = "h1/eth0", b = "h2/eth0", delay = 1ms } ]
                    schedule = [ { at = 100ms, action = crash, device = "h2/eth0" }, { at = 250ms, action = crash, device = "h2/eth0" } ]
                    workloads = [ { type = ping, host = h1, dst = "10.0.0.2", count = 2, interval = 100ms, deadline = 1s } ]
                  }
                }
                """);
            var outDir = Path.Combine(dir.FullName, "out");
            var (stdout, stderr) = (Console.Out, Console.Error);
            var console = new StringWriter();
            (int Rc, string Out, string Err) r;
            Console.SetOut(console);
            Console.SetError(console);
            try { r = await ClockTests.Cli("run", "--config", cfg, "--quiet", "--out", outDir, "--log-format", "compact"); }
            finally
            {
                Console.SetOut(stdout);
                Console.SetError(stderr);
            }
            output.WriteLine(r.Out);
            output.WriteLine(console.ToString());
            Assert.Equal(0, r.Rc);
            var files = Directory.GetFiles(Path.Combine(outDir, "logs"));
            var file = Assert.Single(files);
            Assert.Matches(@"actorstack-\d{8}\.log$", file);
            var events = File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var sim = events.Where(e => e.TryGetProperty("Host", out _)).ToList();
            foreach (var e in sim) output.WriteLine(e.ToString());
            Assert.Equal(3, sim.Count);
            // Simulated time since virtual 0, when the actor logged: the crashes at 100 ms and 250 ms.
            var reset = sim[0];
            Assert.Equal(("Warning", "h2", 0.1), (reset.GetProperty("@l").GetString(), reset.GetProperty("Host").GetString(), reset.GetProperty("SimTime").GetDouble()));
            Assert.Equal("h2 eth0: eth0: driver fault: crash driver; resetting the device (1 in window)", reset.GetProperty("@m").GetString());
            Assert.Equal("akka://actorstack/user/sim/h2", reset.GetProperty("ActorPath").GetString());
            Assert.Equal("ActorStack.Actors.Namespaces.HostActor", reset.GetProperty("SourceContext").GetString());
            Assert.False(reset.TryGetProperty("Message", out _));
            Assert.False(reset.TryGetProperty("Device", out _));
            var giveUp = sim.Single(e => e.GetProperty("@m").GetString()!.Contains("giving up"));
            Assert.Equal(("Error", 0.25), (giveUp.GetProperty("@l").GetString(), giveUp.GetProperty("SimTime").GetDouble()));
            var nic = sim.Single(e => e.TryGetProperty("Device", out _));
            Assert.Equal(("h2", "eth0", 0.25), (nic.GetProperty("Host").GetString(), nic.GetProperty("Device").GetString(), nic.GetProperty("SimTime").GetDouble()));
            Assert.Equal("eth0: driver reset limit reached after \"eth0: driver fault: crash driver\": device stays down", nic.GetProperty("@m").GetString());
            // The console has the same events in the same format.
            var consoleJson = console.ToString().Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(3, consoleJson.Count(e => e.TryGetProperty("Host", out _)));
        }
        finally { dir.Delete(true); }
    }
}
