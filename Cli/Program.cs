using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using Serilog;
using Serilog.Events;
using ActorStack.Actors.Bridge;
using ActorStack.Actors.Engine;

namespace ActorStack.Cli
{
    /// <summary>
    /// The runnable host: <c>run</c> executes a scenario (the default <c>stack.hocon</c> or
    /// <c>--config FILE</c>), <c>check</c> only validates it, <c>topology</c> prints hosts, switches,
    /// wires and each host's routes. Exit codes: 0 ok, 1 run failed, 2 bad usage or configuration
    /// (nothing started).
    /// </summary>
    /// <summary>What <c>run</c> waits on: the wall clock or the simulation engine's virtual clock.</summary>
    public enum ClockKind { Real, Virtual }

    public static class Runner
    {
        private const string Usage = """
            usage: actorstack run   [--config FILE] [--verbose] [--quiet] [--clock virtual|real] [--duration D]
                                    [--trace-from T] [--check-determinism]
                   actorstack check [--config FILE]
                   actorstack topology [--config FILE]
                   actorstack sweep --config FILE --seeds A..B [--vary KEY=V1,V2,..] [--set KEY=VALUE].. [--metric NAME]..
                                    [--parallel N] --out DIR [--force] [--plot]
                   actorstack plot DIR
                   actorstack node --listen HOST:PORT --seed-node ADDR [--seed-node ADDR].. [--name NAME] [--config FILE]
              run --nodes N [--listen HOST:PORT]: over N cluster nodes (this process is n1, `actorstack node`s the others;
                        actorstack.cluster { seed-nodes, min-nodes, placement, join-timeout }); --partitions N: N threads here
              run, check, topology also take --seed N and --set KEY=VALUE (repeatable; any key of the configuration,
                        actorstack. optional, array elements by index: scenario.wires[0].delay=5ms)
              run --out DIR [--force] [--plot]: summary.json, events.jsonl, timeseries.csv, config.hocon and the capture in DIR
              run       runs the scenario and prints ip -s link, tc -s qdisc, ip route, softnet_stat, SNMP counters,
                        drops, sockets, switches and wires
                        --clock virtual (the default): on the simulation engine, the same run every time; progress,
                          --duration, max-duration and settle are simulated time. --clock real: on the wall clock (the
                          default for a scenario with a TAP wire, whose other end is the kernel)
                        --duration D: end the run after D (e.g. 60s, 500ms); a run with only servers runs until then
                          or Ctrl-C
                        --trace-from T: trace points on from simulated instant T (virtual clock), the run before T
                          unchanged
                        --check-determinism: runs it twice on the virtual clock, prints "identical" and the event digest
                          or the first event where the runs differ
              check     validates the configuration and prints the scenario
              topology  prints hosts (CPUs, devices, forwarding, ip route), switches and wires
            """;

        /// <summary>
        /// The process's entry: Ctrl-C (<see cref="Console.CancelKeyPress"/>) stops a run, which then prints its report as
        /// usual; a second Ctrl-C ends the process.
        /// </summary>
        public static async Task<int> Main(string[] args)
        {
            using var interrupt = new CancellationTokenSource();
            ConsoleCancelEventHandler onCtrlC = (_, e) =>
            {
                if (interrupt.IsCancellationRequested) return; // the second one ends the process
                e.Cancel = true;
                interrupt.Cancel();
            };
            Console.CancelKeyPress += onCtrlC;
            try { return await Execute(args, Console.Out, Console.Error, interrupt.Token); }
            finally { Console.CancelKeyPress -= onCtrlC; }
        }

        /// <summary>
        /// <see cref="Main"/> writing to <paramref name="o"/> and <paramref name="err"/> (the tests capture them);
        /// <paramref name="interrupt"/> is Ctrl-C; <paramref name="onEngine"/> sees the simulation engine of a virtual run
        /// before the simulation starts (e.g. to record <see cref="SimEngine.Trace"/>).
        /// </summary>
        public static async Task<int> Execute(string[] args, TextWriter o, TextWriter err, CancellationToken interrupt = default,
            Action<SimEngine>? onEngine = null)
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                o.WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            string command = args[0];
            if (command == "sweep") return await Sweep.Execute(args[1..], o, err);
            if (command == "plot") return Plots.Execute(args[1..], o, err);
            if (command == "node") return await Node.Execute(args[1..], o, err, interrupt);
            string? configPath = null;
            bool verbose = false, quiet = false, checkDeterminism = false;
            ClockKind? clock = null;
            TimeSpan? duration = null, traceFrom = null;
            var overrides = new List<ConfigOverride>();
            string? outDir = null;
            bool force = false, plot = false;
            int? nodes = null, partitions = null;
            string? listen = null;
            for (int i = 1; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--config" when i + 1 < args.Length: configPath = args[++i]; break;
                    case "--verbose" or "-v": verbose = true; break;
                    case "--quiet" or "-q": quiet = true; break;
                    case "--clock" when i + 1 < args.Length && args[i + 1] is "real" or "virtual":
                        clock = args[++i] == "real" ? ClockKind.Real : ClockKind.Virtual; break;
                    case "--check-determinism": checkDeterminism = true; break;
                    case "--nodes" or "--partitions" when i + 1 < args.Length && int.TryParse(args[i + 1], out int n) && n is >= 1 and <= 64:
                        if (args[i] == "--nodes") nodes = n; else partitions = n;
                        i++; break;
                    case "--listen" when i + 1 < args.Length: listen = args[++i]; break;
                    case "--duration" or "--trace-from" when i + 1 < args.Length:
                        {
                            string option = args[i];
                            if (ParseDuration(args[++i], allowZero: option == "--trace-from") is not { } d)
                            {
                                err.WriteLine($"actorstack: {option} {args[i]}: not a duration (e.g. 60s, 2.5s, 500ms, 2m)\n{Usage}");
                                return 2;
                            }
                            if (option == "--duration") duration = d; else traceFrom = d;
                            break;
                        }
                    case "--seed" when i + 1 < args.Length: overrides.Add(new ConfigOverride("seed", args[++i])); break;
                    case "--set" when i + 1 < args.Length && ConfigOverride.Parse(args[i + 1]) is { } set: overrides.Add(set); i++; break;
                    case "--out" when i + 1 < args.Length: outDir = args[++i]; break;
                    case "--force": force = true; break;
                    case "--plot": plot = true; break;
                    default:
                        err.WriteLine($"actorstack: unknown argument '{args[i]}'\n{Usage}");
                        return 2;
                }
            }
            if (command is not ("run" or "check" or "topology"))
            {
                err.WriteLine($"actorstack: unknown command '{command}'\n{Usage}");
                return 2;
            }
            if ((clock is not null || checkDeterminism || duration is not null || traceFrom is not null) && command != "run")
            {
                err.WriteLine($"actorstack: --clock, --duration, --trace-from and --check-determinism are options of run\n{Usage}");
                return 2;
            }
            if (checkDeterminism && clock == ClockKind.Real)
            {
                err.WriteLine("actorstack: --check-determinism needs the virtual clock (the real clock is not reproducible)");
                return 2;
            }
            if (traceFrom is not null && clock == ClockKind.Real)
            {
                err.WriteLine("actorstack: --trace-from needs the virtual clock (on the real clock no instant comes twice: a rerun is another run)");
                return 2;
            }
            if ((outDir is not null || force || plot) && (command != "run" || checkDeterminism || (plot && outDir is null)))
            {
                err.WriteLine($"actorstack: --out, --force and --plot are options of run (--plot needs --out), not with --check-determinism\n{Usage}");
                return 2;
            }

            StackSettings settings;
            string? userText = null;
            try
            {
                if (configPath is not null)
                {
                    userText = ConfigText.PrepareFile(configPath); // includes, ${?VAR}, balanced braces
                    settings = StackConfig.Load(userText, configPath, overrides);
                }
                else settings = StackConfig.Load(null, "config", overrides);
                // Routes the FIB refuses; for check and run also workloads this build cannot start.
                ScenarioCheck.Validate(settings, forRun: command != "topology");
            }
            catch (StackConfigException e)
            {
                err.WriteLine($"actorstack: {e.Message}");
                return 2;
            }
            // Virtual time is the default; a TAP link's other end is the kernel, on wall time: the engine cannot order its
            // frames, so such a scenario runs on the real clock, and asking for the virtual one (or what needs it) is refused.
            var clockKind = clock ?? ClockKind.Virtual;
            if (command == "run" && settings.Wires.FirstOrDefault(w => w.Tap is not null) is { } tapWire)
            {
                string wire = $"wire {tapWire} (actorstack.scenario.wires[{settings.Wires.IndexOf(tapWire)}].tap = \"{tapWire.Tap}\") is a TAP link to the kernel, which runs on wall time";
                string? needsVirtual = clock == ClockKind.Virtual ? null : checkDeterminism ? "--check-determinism" : traceFrom is not null ? "--trace-from" : null;
                if (clock == ClockKind.Virtual || needsVirtual is not null)
                {
                    err.WriteLine(needsVirtual is null ? $"actorstack: {wire}: it needs --clock real"
                                                       : $"actorstack: {wire}: it runs on the real clock, and {needsVirtual} needs the virtual clock");
                    return 2;
                }
                if (clock is null) o.WriteLine($"actorstack: {wire}: running on the real clock");
                clockKind = ClockKind.Real;
            }

            if (command == "topology")
            {
                o.Write(Topology.Format(settings));
                if ((nodes ?? partitions ?? settings.Cluster.MinNodes) is > 1 and var placeOn)
                {
                    try { o.WriteLine(ClusterCli.Placement(settings, placeOn)); }
                    catch (Actors.Cluster.ClusterPlanException e) { err.WriteLine($"actorstack: {e.Message}"); return 2; }
                }
                return 0;
            }
            if (command == "check")
            {
                o.WriteLine(Describe(settings));
                return 0;
            }
            if (command == "run" && (nodes is not null || partitions is not null || settings.Cluster.MinNodes > 1 || !settings.Cluster.SeedNodes.IsEmpty))
                return await ClusterCli.Run(settings, StackConfig.EffectiveText(userText, configPath ?? "config", overrides), nodes, partitions, listen, duration, o, err);
            if (checkDeterminism)
                return await Determinism.Check(o, err, (output, hook, onReported) =>
                    Run(settings, userText, verbose, quiet: true, ClockKind.Virtual, new RunLimits(duration, traceFrom, interrupt), output, err, hook, onReported));
            ExperimentRecorder? exp = null;
            if (outDir is not null && (exp = ExperimentRecorder.Create(outDir, force, err, StackConfig.EffectiveText(userText, configPath ?? "config", overrides), plot)) is null)
                return 2;
            return await Run(settings, userText, verbose, quiet, clockKind, new RunLimits(duration, traceFrom, interrupt), o, err, onEngine, exp: exp);
        }

        /// <summary>
        /// A duration as the options take it: a number with <c>ns</c>, <c>us</c>, <c>ms</c>, <c>s</c>, <c>m</c> or <c>h</c>
        /// (a bare number is seconds); null when it is none, negative, or zero unless <paramref name="allowZero"/>.
        /// </summary>
        public static TimeSpan? ParseDuration(string text, bool allowZero = false)
        {
            var t = text.Trim();
            int end = t.Length;
            while (end > 0 && char.IsLetter(t[end - 1])) end--;
            double unitNs = t[end..] switch
            {
                "ns" => 1, "us" or "µs" => 1e3, "ms" => 1e6, "" or "s" => 1e9, "m" or "min" => 60e9, "h" => 3600e9,
                _ => double.NaN,
            };
            if (double.IsNaN(unitNs) || !double.TryParse(t[..end], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v)
                || double.IsNaN(v) || v < 0 || (v == 0 && !allowZero) || v * unitNs > TimeSpan.MaxValue.Ticks * 100.0)
                return null;
            return TimeSpan.FromTicks((long)Math.Round(v * unitNs / 100));
        }

        /// <summary>
        /// A workload that ends by itself: a client, or pktgen with a <c>count</c>. A scenario without one (only servers,
        /// sinks, pktgen with <c>count = 0</c>, or nothing: hosts serving a TAP peer) runs until <c>--duration</c> or Ctrl-C.
        /// </summary>
        public static bool EndsByItself(WorkloadSettings w) => w switch
        {
            PktgenWorkload p => p.Pktgen.Count > 0,
            PingSettings or TracerouteSettings or UdpEchoClientSettings or TcpBulkClientSettings or TcpRrClientSettings => true,
            _ => false,
        };

        private static string Seconds(TimeSpan t) => $"{t.TotalSeconds.ToString("0.0########", System.Globalization.CultureInfo.InvariantCulture)}s";

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
            foreach (var w in s.Wires)
            {
                lines.Add($"wire {w} delay {w.Delay.TotalMilliseconds}ms");
                lines.AddRange(Topology.WireFaults(s, w).Select(f => "  " + f));
            }
            lines.AddRange(Topology.ScheduleLines(s));
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

        /// <summary>An <c>ip monitor link</c> event without its time: <c>[host] ip monitor: &lt;ip -o link line&gt;</c> (events.jsonl has <c>t</c>).</summary>
        public static string MonitorLine(RtnlLinkEvent m)
            => $"[{m.Host}] ip monitor: {(m.Kind == RtnlLinkKind.RTM_DELLINK ? "Deleted " : "")}{m.Line}";

        /// <summary>
        /// An <c>ip monitor link</c> event as the CLI prints it, with the simulated time since the start of the workloads (the
        /// fault schedule's origin; boot events are negative): <c>[+2.000s h1] ip monitor: &lt;ip -o link line&gt;</c>.
        /// </summary>
        public static string MonitorLine(RtnlLinkEvent m, TimeSpan sinceStart)
            => $"[{sinceStart.TotalSeconds.ToString("+0.000;-0.000", System.Globalization.CultureInfo.InvariantCulture)}s {m.Host}] ip monitor: " +
               $"{(m.Kind == RtnlLinkKind.RTM_DELLINK ? "Deleted " : "")}{m.Line}";

        /// <summary>
        /// Prints application output lines (<see cref="WorkloadOutput"/>), fault schedule and link events as they come, and
        /// trace points (<see cref="TraceEvent"/>, published while tracing is on) as <c>perf script</c> prints
        /// <c>net:netif_receive_skb</c>-style events: time since <paramref name="epochTicks"/>, host, CPU, point, fields.
        /// Link events carry the scheduler's time (simulated on the engine) since <paramref name="originTicks"/>: the start of
        /// the workloads once the CLI knows it, the run's epoch before.
        /// </summary>
        private sealed class OutputPrinter : ReceiveActor
        {
            public OutputPrinter(TextWriter o, long epochTicks, System.Runtime.CompilerServices.StrongBox<long> originTicks)
            {
                Receive<WorkloadOutput>(m => o.WriteLine($"[{m.Host} {m.Workload}] {m.Line}"));
                Receive<FaultScheduleEvent>(m => o.WriteLine(m.ToString()));
                Receive<RtnlLinkEvent>(m => o.WriteLine(MonitorLine(m,
                    TimeSpan.FromTicks(Context.System.Scheduler.Now.UtcTicks - Volatile.Read(ref originTicks.Value)))));
                Receive<TraceEvent>(m => o.WriteLine(TraceLine(m, epochTicks)));
            }
        }

        /// <summary>One trace point as the CLI prints it, e.g. <c>[h2 cpu1] 2.500040000: net:netif_receive_skb_entry: dev=eth0 len=98 hash=0x1f2e3d4c</c>.</summary>
        public static string TraceLine(TraceEvent m, long epochTicks)
        {
            long t = m.TstampTicks - epochTicks;
            string point = m.Point switch
            {
                TracePoint.NetifReceiveSkbEntry => "netif_receive_skb_entry",
                TracePoint.NetifReceiveSkbExit => "netif_receive_skb_exit",
                TracePoint.NapiGroReceiveEntry => "napi_gro_receive_entry",
                _ => "napi_gro_receive_exit",
            };
            return $"[{m.Host} cpu{m.Cpu}] {t / TimeSpan.TicksPerSecond}.{t % TimeSpan.TicksPerSecond * 100:D9}: net:{point}: dev={m.Device} len={m.Length} hash=0x{m.Hash:x8}" +
                   (m.Result >= 0 ? $" ret={m.Result}" : "");
        }

        /// <summary>What bounds a run besides its workloads: <c>--duration</c>, the <c>--trace-from</c> instant, Ctrl-C.</summary>
        private sealed record RunLimits(TimeSpan? Duration, TimeSpan? TraceFrom, CancellationToken Interrupt);

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

        private static async Task<int> Run(StackSettings settings, string? userText, bool verbose, bool quiet, ClockKind clockKind,
            RunLimits limits, TextWriter o, TextWriter err, Action<SimEngine>? onEngine = null, Action<SimEngine>? onReported = null, ExperimentRecorder? exp = null)
        {
            Log.Logger = new LoggerConfiguration()
                .MinimumLevel.Is(verbose ? LogEventLevel.Verbose : LogEventLevel.Information)
                .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Warning)
                .CreateLogger();
            var akkaConfig = AkkaConfig(userText, verbose);
            // Virtual: no CLR exit hook (it would hand the engine back to inline mode from another thread); Ctrl-C just ends it.
            if (clockKind == ClockKind.Virtual)
                akkaConfig = Akka.Configuration.ConfigurationFactory.ParseString(SimEngine.Hocon + "\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = off").WithFallback(akkaConfig);
            var system = ActorSystem.Create("actorstack", akkaConfig);
            bool stuck = false;
            SimEngine? engine = null;
            RunClock clock = new RealClock();
            var wallStart = DateTime.UtcNow;
            try
            {
                if (clockKind == ClockKind.Virtual)
                {
                    engine = SimEngine.For(system);
                    onEngine?.Invoke(engine);
                    clock = new VirtualClock(engine, system);
                }
                // What ping, traceroute and the UDP echo client print, as they print it; trace points while tracing is on.
                long epochTicks = engine?.Epoch.UtcTicks ?? wallStart.Ticks;
                var originTicks = new System.Runtime.CompilerServices.StrongBox<long>(epochTicks);
                var printer = system.ActorOf(Akka.Actor.Props.Create(() => new OutputPrinter(o, epochTicks, originTicks)), "output");
                system.EventStream.Subscribe(printer, typeof(WorkloadOutput));
                system.EventStream.Subscribe(printer, typeof(FaultScheduleEvent));
                system.EventStream.Subscribe(printer, typeof(RtnlLinkEvent));
                system.EventStream.Subscribe(printer, typeof(TraceEvent));
                exp?.Attach(system, () => clock.UtcNow);
                var sim = system.ActorOf(SimulationActor.Props(settings), "sim");
                engine?.Pause(); // booted (inline); from here the simulation runs only when the CLI drives it
                var reply = await clock.Ask<object>(sim, StartSimulation.Instance, TimeSpan.FromSeconds(30));
                if (reply is CommandFailed refused)
                {
                    err.WriteLine($"actorstack: run failed: {refused.Message}");
                    return 1;
                }
                var started = (SimulationStarted)reply;
                var topo = await clock.Ask<SimulationTopology>(sim, GetSimulationTopology.Instance, TimeSpan.FromSeconds(10));
                o.WriteLine($"actorstack: {settings.Hosts.Length} host(s), {topo.Switches.Count} switch(es), {started.Wires.Length} wire(s), " +
                                  $"{started.Pktgens.Length} pktgen(s), {started.Sinks.Length} socket reader(s), {topo.Apps.Length} application(s)");
                var t0 = clock.UtcNow;
                Volatile.Write(ref originTicks.Value, t0.Ticks); // the fault schedule's origin: ip monitor lines are timed from here
                var interval = settings.Run.ProgressInterval > TimeSpan.Zero ? settings.Run.ProgressInterval : TimeSpan.FromSeconds(1);
                // Only servers: nothing ends by itself, so the run ends at --duration or Ctrl-C (not at max-duration).
                bool serversOnly = !settings.Workloads.Any(EndsByItself);
                if (serversOnly)
                    o.WriteLine(limits.Duration is { } forD
                        ? $"actorstack: no workload ends by itself (only servers): running for {Seconds(forD)} (--duration) or until Ctrl-C"
                        : "actorstack: no workload ends by itself (only servers): running until Ctrl-C (--duration D bounds it)");
                // --trace-from is a simulated instant since virtual 0 (t0 is there unless starting took simulated time).
                bool tracing = limits.TraceFrom is null;
                var traceAt = (limits.TraceFrom ?? TimeSpan.Zero) - (engine is null ? TimeSpan.Zero : t0 - engine.Epoch.UtcDateTime);
                var nextProgress = interval;
                exp?.Start(t0);
                long lastRead = -1;
                var quietSince = clock.UtcNow;
                while (true)
                {
                    // The next stop: a progress line, the trace instant or the end of --duration, whichever comes first.
                    var elapsed = clock.UtcNow - t0;
                    var stop = nextProgress;
                    if (!tracing && traceAt < stop) stop = traceAt;
                    if (limits.Duration is { } end && end < stop) stop = end;
                    if (stop > elapsed) await clock.Wait(stop - elapsed, limits.Interrupt);
                    elapsed = clock.UtcNow - t0;
                    if (limits.Interrupt.IsCancellationRequested)
                    {
                        o.WriteLine($"actorstack: interrupted (Ctrl-C) at {Seconds(elapsed)}");
                        break;
                    }
                    if (elapsed >= nextProgress)
                    {
                        while (nextProgress <= elapsed) nextProgress += interval;
                        var gens = await Task.WhenAll(started.Pktgens.Select(p => clock.Ask<PktgenStatus>(p, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
                        var sinks = await Task.WhenAll(started.Sinks.Select(p => clock.Ask<SinkStatus>(p, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
                        long sent = gens.Sum(g => g.Sent), read = sinks.Sum(s => s.Datagrams);
                        elapsed = clock.UtcNow - t0;
                        if (exp is not null) await exp.Tick(clock, started, elapsed);
                        if (!quiet)
                            o.WriteLine($"[{elapsed.TotalSeconds,6:F1}s] sent {sent,10}  read {read,10}  ({(elapsed.TotalSeconds > 0 ? read / elapsed.TotalSeconds : 0),10:F0} datagrams/s)");
                        if (read != lastRead) { lastRead = read; quietSince = clock.UtcNow; }
                        var apps = await Task.WhenAll(topo.Apps.Select(a => clock.Ask<object>(a, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
                        bool gensDone = gens.All(g => g.Done) && apps.All(AppDone);
                        if (!serversOnly && gensDone && clock.UtcNow - quietSince >= settings.Run.Settle) break;
                        if (!serversOnly && elapsed >= settings.Run.MaxDuration)
                        {
                            o.WriteLine("actorstack: max-duration reached");
                            break;
                        }
                    }
                    if (!tracing && elapsed >= traceAt)
                    {
                        // After everything queued at this instant (the CLI's tells are outside events): the run up to here
                        // is the run without --trace-from.
                        foreach (var (_, host) in started.Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
                            await clock.Ask<TracingSet>(host, new SetTracing(true), TimeSpan.FromSeconds(10));
                        tracing = true;
                        o.WriteLine($"actorstack: trace points on at {Seconds(engine?.Now ?? elapsed)} (--trace-from)");
                    }
                    if (limits.Duration is { } d && elapsed >= d)
                    {
                        o.WriteLine($"actorstack: --duration {Seconds(d)} reached");
                        break;
                    }
                }

                foreach (var (name, host) in started.Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
                {
                    var stats = await clock.Ask<HostStats>(host, GetStats.Instance, TimeSpan.FromSeconds(10));
                    o.WriteLine($"\n===== host {name} =====");
                    o.WriteLine("--- ip -s -s link");
                    o.Write(Report.IpSLink(stats));
                    o.WriteLine("--- tc -s qdisc");
                    o.Write(Report.TcQdisc(stats));
                    o.WriteLine("--- ip route");
                    o.Write(ScenarioCheck.BuildFib(settings.Host(name)).Format());
                    var nf = await clock.Ask<NfRules>(host, GetNfRules.Instance, TimeSpan.FromSeconds(10));
                    if (!nf.Rules.IsEmpty)
                    {
                        o.WriteLine("--- iptables -v (packets matched per rule)");
                        foreach (var r in nf.Rules) o.WriteLine($"{r.Packets,10}  {Topology.IptablesRule(r.Rule)}");
                    }
                    o.WriteLine("--- ip neigh");
                    o.Write((await clock.Ask<NeighbourList>(host, GetNeighbours.Instance, TimeSpan.FromSeconds(10))).Text);
                    o.WriteLine("--- /proc/net/softnet_stat");
                    o.Write(Report.SoftnetStat(stats));
                    o.WriteLine("--- /proc/net/snmp");
                    o.Write(Report.Snmp(stats));
                    o.WriteLine("--- drops (dropwatch)");
                    o.Write(Report.Drops(stats));
                    o.WriteLine("--- ss -uanm");
                    o.Write(Report.Sockets(stats));
                    o.WriteLine("--- ss -tanmi");
                    o.Write(SsTcp.Format(await clock.CollectTcp(host, TimeSpan.FromSeconds(3)), stats.Sockets));
                }
                foreach (var (name, sw) in topo.Switches.OrderBy(x => x.Key, StringComparer.Ordinal))
                {
                    var st = await clock.Ask<SwitchStatsSnapshot>(sw, GetSwitchStats.Instance, TimeSpan.FromSeconds(10));
                    var fdb = await clock.Ask<SwitchFdb>(sw, GetSwitchFdb.Instance, TimeSpan.FromSeconds(10));
                    o.WriteLine($"\n===== switch {name} =====");
                    o.Write(Report.Switch(st));
                    o.WriteLine("--- bridge fdb show");
                    o.Write(fdb.Text.Length == 0 ? "  (no learned entries)\n" : fdb.Text);
                }
                o.WriteLine("\n===== wires =====");
                for (int i = 0; i < started.Wires.Length; i++)
                {
                    var w = await clock.Ask<WireStats>(started.Wires[i], GetWireStats.Instance, TimeSpan.FromSeconds(10));
                    o.WriteLine($"{settings.Wires[i]}: {w.AToB} frames a->b, {w.BToA} b->a, {w.Dropped} dropped");
                    foreach (var (dir, d) in new[] { ("a->b", w.AToBDetail), ("b->a", w.BToADetail) })
                        if (d is not null && (d.Dropped > 0 || d.Duplicated > 0 || d.Corrupted > 0 || d.Reordered > 0 || d.InFlight > 0))
                            o.WriteLine($"  {dir}: offered {d.Offered} delivered {d.Delivered} in flight {d.InFlight} duplicated {d.Duplicated} " +
                                              $"corrupted {d.Corrupted} reordered {d.Reordered} ecn {d.EcnMarked}" +
                                              string.Concat(d.Drops.Select(x => $" {x.Key} {x.Value}")));
                }
                o.WriteLine("\n===== applications =====");
                foreach (var s in started.Sinks)
                {
                    var st = await clock.Ask<SinkStatus>(s, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10));
                    o.WriteLine($"udp-sink {st.Host} {st.Bind}: read {st.Datagrams} datagrams ({st.Bytes} bytes) from {st.Flows} flow(s), {st.OutOfOrder} out of order");
                }
                foreach (var a in topo.Apps)
                    o.WriteLine(Report.App(await clock.Ask<object>(a, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
                foreach (var p in started.Pktgens)
                {
                    var st = await clock.Ask<PktgenStatus>(p, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10));
                    o.WriteLine($"pktgen {st.Host}/{st.Device}: sent {st.Sent} of {st.Count} frames, {st.TxDropped} dropped at transmit");
                }
                CaptureFlushed? flushed = null;
                if (started.Capture is { } cap)
                {
                    var f = flushed = await clock.Ask<CaptureFlushed>(cap, FlushCapture.Instance, TimeSpan.FromSeconds(30));
                    o.WriteLine($"capture: {f.Frames} frames written to {f.File}" + (f.Dropped > 0 ? $" ({f.Dropped} copies dropped by the tap)" : ""));
                }
                if (engine is not null)
                {
                    var wall = DateTime.UtcNow - wallStart;
                    o.WriteLine($"\nclock: virtual, {engine.Now.TotalSeconds:F3}s simulated in {wall.TotalSeconds:F3}s wall " +
                                $"(simulated:wall {(wall.TotalSeconds > 0 ? engine.Now.TotalSeconds / wall.TotalSeconds : 0):F2}:1), {engine.Executed} events, digest {engine.Digest:x16}");
                    onReported?.Invoke(engine); // the run ends here; shutdown is not part of it
                }
                else o.WriteLine($"\nclock: real, {(DateTime.UtcNow - wallStart).TotalSeconds:F3}s wall");
                if (exp is not null)
                {
                    var wall = DateTime.UtcNow - wallStart;
                    await exp.Finish(clock, settings, started, topo, clockKind == ClockKind.Virtual ? "virtual" : "real", engine,
                        engine?.Now ?? wall, wall, flushed);
                    o.WriteLine($"experiment: {exp.OutputDirectory}: {ExperimentRecorder.Summary}, {ExperimentRecorder.Events}, {ExperimentRecorder.TimeSeries}, {ExperimentRecorder.ConfigFile}" +
                                (flushed is null ? "" : $", {Path.GetFileName(flushed.File)}"));
                    if (exp.Plot) o.WriteLine(Plots.Draw(exp.OutputDirectory));
                }
                return 0;
            }
            catch (SimulationStuckException e)
            {
                // Shutting down would drain the same endless instant inline: leave the paused system to the process's end.
                err.WriteLine($"actorstack: run failed: {e.Message}");
                stuck = true;
                return 1;
            }
            catch (Exception e)
            {
                err.WriteLine($"actorstack: run failed: {e.Message}");
                return 1;
            }
            finally
            {
                if (!stuck)
                {
                    engine?.ReleaseControl(); // shutdown runs inline on whoever queues it
                    await system.Terminate();
                }
                exp?.Abandon();
                await Log.CloseAndFlushAsync();
                if (!stuck) system.Dispose();
            }
        }
    }
}
