using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using Serilog;
using Serilog.Events;
using ActorStack.Actors.Bridge;

namespace ActorStack.Cli
{
    /// <summary>
    /// The runnable host: <c>run</c> executes a scenario (the default <c>stack.hocon</c> or
    /// <c>--config FILE</c>), <c>check</c> only validates it, <c>topology</c> prints hosts, switches,
    /// wires and each host's routes. Exit codes: 0 ok, 1 run failed, 2 bad usage or configuration
    /// (nothing started).
    /// </summary>
    public static class Runner
    {
        private const string Usage = """
            usage: actorstack run   [--config FILE] [--verbose] [--quiet]
                   actorstack check [--config FILE]
                   actorstack topology [--config FILE]
              run       runs the scenario and prints ip -s link, tc -s qdisc, ip route, softnet_stat, SNMP counters,
                        drops, sockets, switches and wires
              check     validates the configuration and prints the scenario
              topology  prints hosts (CPUs, devices, forwarding, ip route), switches and wires
            """;

        public static async Task<int> Main(string[] args)
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                Console.WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            string command = args[0];
            string? configPath = null;
            bool verbose = false, quiet = false;
            for (int i = 1; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--config" when i + 1 < args.Length: configPath = args[++i]; break;
                    case "--verbose" or "-v": verbose = true; break;
                    case "--quiet" or "-q": quiet = true; break;
                    default:
                        Console.Error.WriteLine($"actorstack: unknown argument '{args[i]}'\n{Usage}");
                        return 2;
                }
            }
            if (command is not ("run" or "check" or "topology"))
            {
                Console.Error.WriteLine($"actorstack: unknown command '{command}'\n{Usage}");
                return 2;
            }

            StackSettings settings;
            string? userText = null;
            try
            {
                if (configPath is not null)
                {
                    settings = StackConfig.LoadFile(configPath);
                    userText = File.ReadAllText(configPath);
                }
                else settings = StackConfig.Load();
                // Routes the FIB refuses; for check and run also workloads this build cannot start.
                ScenarioCheck.Validate(settings, forRun: command != "topology");
            }
            catch (StackConfigException e)
            {
                Console.Error.WriteLine($"actorstack: {e.Message}");
                return 2;
            }

            if (command == "topology")
            {
                Console.Write(Topology.Format(settings));
                return 0;
            }
            if (command == "check")
            {
                Console.WriteLine(Describe(settings));
                return 0;
            }
            return await Run(settings, userText, verbose, quiet);
        }

        private static string Describe(StackSettings s)
        {
            var lines = new List<string> { $"seed {s.Seed}" };
            foreach (var h in s.Hosts)
            {
                lines.Add($"host {h.Name}: {h.Cpus} cpu(s), netdev_max_backlog {h.Sysctl.NetdevMaxBacklog}, netdev_budget {h.Sysctl.NetdevBudget}, dev_weight {h.Sysctl.DevWeight}");
                foreach (var d in h.Devices)
                    lines.Add($"  {d.Name} {d.Mac} mtu {d.Mtu} rx-ring {d.RxRing} rx-queues {d.RxQueues} rps-cpus [{string.Join(',', d.RpsCpus)}] {string.Join(' ', d.Addresses)}");
                foreach (var r in h.Routes) lines.Add($"  route {StackConfig.RouteText(r)}");
                foreach (var n in h.Neighbours) lines.Add($"  neigh {n.Address} lladdr {n.Mac} dev {n.Device}");
                foreach (var r in h.Netfilter) lines.Add($"  iptables {Topology.IptablesRule(r)}");
            }
            foreach (var sw in s.Switches) lines.Add($"switch {sw.Name}: {sw.Ports} ports, ageing_time {sw.AgeingTime.TotalSeconds:0.###}s");
            foreach (var w in s.Wires) lines.Add($"wire {w} delay {w.Delay.TotalMilliseconds}ms");
            foreach (var w in s.Workloads) lines.Add($"workload {w}");
            if (s.Capture.Enabled) lines.Add($"capture {s.Capture.Host}/{s.Capture.Device} -> {s.Capture.File}");
            return string.Join(Environment.NewLine, lines);
        }

        /// <summary>A client is done when it printed its summary; a server serves until the run ends.</summary>
        private static bool AppDone(object status) => status switch
        {
            PingStatus p => p.Done,
            TracerouteStatus t => t.Done,
            UdpEchoClientStatus c => c.Done,
            TcpBulkClientStatus b => b.Done,
            TcpRrClientStatus r => r.Done,
            _ => true,
        };

        /// <summary>An <c>ip monitor link</c> event as the CLI prints it: <c>[host] ip monitor: &lt;ip -o link line&gt;</c>.</summary>
        public static string MonitorLine(RtnlLinkEvent m)
            => $"[{m.Host}] ip monitor: {(m.Kind == RtnlLinkKind.RTM_DELLINK ? "Deleted " : "")}{m.Line}";

        /// <summary>Prints application output lines (<see cref="WorkloadOutput"/>) as they come.</summary>
        private sealed class OutputPrinter : ReceiveActor
        {
            public OutputPrinter()
            {
                Receive<WorkloadOutput>(m => Console.WriteLine($"[{m.Host} {m.Workload}] {m.Line}"));
                Receive<FaultScheduleEvent>(m => Console.WriteLine(m.ToString()));
                Receive<RtnlLinkEvent>(m => Console.WriteLine(MonitorLine(m)));
            }
        }

        /// <summary>The logger the CLI gives Akka: its log events go to Serilog (configured in <see cref="Run"/>).</summary>
        public const string AkkaLoggers = "akka.loggers = [\"Akka.Logger.Serilog.SerilogLogger, Akka.Logger.Serilog\"]";

        /// <summary>
        /// The CLI's actor-system configuration: the user's file over the CLI's logger (<see cref="AkkaLoggers"/>;
        /// the library's <c>stack.hocon</c> leaves <c>akka.loggers</c> to its host) over <c>stack.hocon</c>;
        /// <c>--verbose</c> logs at DEBUG.
        /// </summary>
        public static Akka.Configuration.Config AkkaConfig(string? userText, bool verbose)
        {
            var config = Akka.Configuration.ConfigurationFactory.ParseString(AkkaLoggers).WithFallback(StackConfig.AkkaConfig());
            if (!string.IsNullOrWhiteSpace(userText)) config = Akka.Configuration.ConfigurationFactory.ParseString(userText).WithFallback(config);
            if (verbose) config = Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = DEBUG").WithFallback(config);
            return config;
        }

        private static async Task<int> Run(StackSettings settings, string? userText, bool verbose, bool quiet)
        {
            Log.Logger = new LoggerConfiguration()
                .MinimumLevel.Is(verbose ? LogEventLevel.Verbose : LogEventLevel.Information)
                .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Warning)
                .CreateLogger();
            using var system = ActorSystem.Create("actorstack", AkkaConfig(userText, verbose));
            try
            {
                // What ping, traceroute and the UDP echo client print, as they print it.
                var printer = system.ActorOf(Akka.Actor.Props.Create(() => new OutputPrinter()), "output");
                system.EventStream.Subscribe(printer, typeof(WorkloadOutput));
                system.EventStream.Subscribe(printer, typeof(FaultScheduleEvent));
                system.EventStream.Subscribe(printer, typeof(RtnlLinkEvent));
                var sim = system.ActorOf(SimulationActor.Props(settings), "sim");
                var reply = await sim.Ask<object>(StartSimulation.Instance, TimeSpan.FromSeconds(30));
                if (reply is CommandFailed refused)
                {
                    Console.Error.WriteLine($"actorstack: run failed: {refused.Message}");
                    return 1;
                }
                var started = (SimulationStarted)reply;
                var topo = await sim.Ask<SimulationTopology>(GetSimulationTopology.Instance, TimeSpan.FromSeconds(10));
                Console.WriteLine($"actorstack: {settings.Hosts.Length} host(s), {topo.Switches.Count} switch(es), {started.Wires.Length} wire(s), " +
                                  $"{started.Pktgens.Length} pktgen(s), {started.Sinks.Length} socket reader(s), {topo.Apps.Length} application(s)");
                var t0 = DateTime.UtcNow;
                long lastRead = -1;
                var quietSince = DateTime.UtcNow;
                while (true)
                {
                    await Task.Delay(settings.Run.ProgressInterval > TimeSpan.Zero ? settings.Run.ProgressInterval : TimeSpan.FromSeconds(1));
                    var gens = await Task.WhenAll(started.Pktgens.Select(p => p.Ask<PktgenStatus>(GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
                    var sinks = await Task.WhenAll(started.Sinks.Select(p => p.Ask<SinkStatus>(GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
                    long sent = gens.Sum(g => g.Sent), read = sinks.Sum(s => s.Datagrams);
                    var elapsed = DateTime.UtcNow - t0;
                    if (!quiet)
                        Console.WriteLine($"[{elapsed.TotalSeconds,6:F1}s] sent {sent,10}  read {read,10}  ({(elapsed.TotalSeconds > 0 ? read / elapsed.TotalSeconds : 0),10:F0} datagrams/s)");
                    if (read != lastRead) { lastRead = read; quietSince = DateTime.UtcNow; }
                    var apps = await Task.WhenAll(topo.Apps.Select(a => a.Ask<object>(GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
                    bool gensDone = gens.All(g => g.Done) && apps.All(AppDone);
                    if (gensDone && DateTime.UtcNow - quietSince >= settings.Run.Settle) break;
                    if (elapsed >= settings.Run.MaxDuration)
                    {
                        Console.WriteLine("actorstack: max-duration reached");
                        break;
                    }
                }

                foreach (var (name, host) in started.Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
                {
                    var stats = await host.Ask<HostStats>(GetStats.Instance, TimeSpan.FromSeconds(10));
                    Console.WriteLine($"\n===== host {name} =====");
                    Console.WriteLine("--- ip -s -s link");
                    Console.Write(Report.IpSLink(stats));
                    Console.WriteLine("--- tc -s qdisc");
                    Console.Write(Report.TcQdisc(stats));
                    Console.WriteLine("--- ip route");
                    Console.Write(ScenarioCheck.BuildFib(settings.Host(name)).Format());
                    var nf = await host.Ask<NfRules>(GetNfRules.Instance, TimeSpan.FromSeconds(10));
                    if (!nf.Rules.IsEmpty)
                    {
                        Console.WriteLine("--- iptables -v (packets matched per rule)");
                        foreach (var r in nf.Rules) Console.WriteLine($"{r.Packets,10}  {Topology.IptablesRule(r.Rule)}");
                    }
                    Console.WriteLine("--- ip neigh");
                    Console.Write((await host.Ask<NeighbourList>(GetNeighbours.Instance, TimeSpan.FromSeconds(10))).Text);
                    Console.WriteLine("--- /proc/net/softnet_stat");
                    Console.Write(Report.SoftnetStat(stats));
                    Console.WriteLine("--- /proc/net/snmp");
                    Console.Write(Report.Snmp(stats));
                    Console.WriteLine("--- drops (dropwatch)");
                    Console.Write(Report.Drops(stats));
                    Console.WriteLine("--- ss -uanm");
                    Console.Write(Report.Sockets(stats));
                    Console.WriteLine("--- ss -tanmi");
                    Console.Write(SsTcp.Format(await SsQuery.CollectTcp(host, TimeSpan.FromSeconds(3)), stats.Sockets));
                }
                foreach (var (name, sw) in topo.Switches.OrderBy(x => x.Key, StringComparer.Ordinal))
                {
                    var st = await sw.Ask<SwitchStatsSnapshot>(GetSwitchStats.Instance, TimeSpan.FromSeconds(10));
                    var fdb = await sw.Ask<SwitchFdb>(GetSwitchFdb.Instance, TimeSpan.FromSeconds(10));
                    Console.WriteLine($"\n===== switch {name} =====");
                    Console.Write(Report.Switch(st));
                    Console.WriteLine("--- bridge fdb show");
                    Console.Write(fdb.Text.Length == 0 ? "  (no learned entries)\n" : fdb.Text);
                }
                Console.WriteLine("\n===== wires =====");
                for (int i = 0; i < started.Wires.Length; i++)
                {
                    var w = await started.Wires[i].Ask<WireStats>(GetWireStats.Instance, TimeSpan.FromSeconds(10));
                    Console.WriteLine($"{settings.Wires[i]}: {w.AToB} frames a->b, {w.BToA} b->a, {w.Dropped} dropped");
                    foreach (var (dir, d) in new[] { ("a->b", w.AToBDetail), ("b->a", w.BToADetail) })
                        if (d is not null && (d.Dropped > 0 || d.Duplicated > 0 || d.Corrupted > 0 || d.Reordered > 0 || d.InFlight > 0))
                            Console.WriteLine($"  {dir}: offered {d.Offered} delivered {d.Delivered} in flight {d.InFlight} duplicated {d.Duplicated} " +
                                              $"corrupted {d.Corrupted} reordered {d.Reordered} ecn {d.EcnMarked}" +
                                              string.Concat(d.Drops.Select(x => $" {x.Key} {x.Value}")));
                }
                Console.WriteLine("\n===== applications =====");
                foreach (var s in started.Sinks)
                {
                    var st = await s.Ask<SinkStatus>(GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10));
                    Console.WriteLine($"udp-sink {st.Host} {st.Bind}: read {st.Datagrams} datagrams ({st.Bytes} bytes) from {st.Flows} flow(s), {st.OutOfOrder} out of order");
                }
                foreach (var a in topo.Apps)
                    Console.WriteLine(Report.App(await a.Ask<object>(GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
                foreach (var p in started.Pktgens)
                {
                    var st = await p.Ask<PktgenStatus>(GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10));
                    Console.WriteLine($"pktgen {st.Host}/{st.Device}: sent {st.Sent} of {st.Count} frames, {st.TxDropped} dropped at transmit");
                }
                if (started.Capture is { } cap)
                {
                    var f = await cap.Ask<CaptureFlushed>(FlushCapture.Instance, TimeSpan.FromSeconds(30));
                    Console.WriteLine($"capture: {f.Frames} frames written to {f.File}" + (f.Dropped > 0 ? $" ({f.Dropped} copies dropped by the tap)" : ""));
                }
                return 0;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"actorstack: run failed: {e.Message}");
                return 1;
            }
            finally
            {
                await system.Terminate();
                await Log.CloseAndFlushAsync();
            }
        }
    }
}
