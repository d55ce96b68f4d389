using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using Serilog;
using Serilog.Events;
using ActorStack.Actors.Bridge;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Cluster;

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
            (o, err) = Writers(o, err);
            var cl = new CommandLine();
            var (parse, parseRc) = cl.Parse(args, o, err);
            if (parse is null) return parseRc;
            var command = parse.CommandResult.Command;
            if (command == cl.Sweep)
                return await Sweep.Execute(new SweepArgs(parse.GetValue(cl.SweepConfig)!, parse.GetValue(cl.Seeds)!, parse.GetValue(cl.Vary),
                    parse.GetValue(cl.SweepSet) ?? [], [.. (parse.GetValue(cl.Metric) ?? []).SelectMany(m => m.Split(',', StringSplitOptions.RemoveEmptyEntries))],
                    parse.GetValue(cl.Parallel), parse.GetValue(cl.SweepOut)!, parse.GetValue(cl.SweepForce), parse.GetValue(cl.SweepPlot)), o, err);
            if (command == cl.Plot) return Plots.Execute(parse.GetValue(cl.PlotDir)!, o, err);
            if (command == cl.Node)
                return await Node.Execute(parse.GetValue(cl.NodeListen)!, parse.GetValue(cl.NodeSeeds) ?? [], parse.GetValue(cl.NodeName), parse.GetValue(cl.NodeConfig), o, err, interrupt);
            var opts = RunArgs.From(cl, parse);
            return await Execute(command.Name, opts, o, err, interrupt, onEngine);
        }

        /// <summary>
        /// The writers a command prints to, safe for several threads: on the real clock actors print from the thread pool
        /// (<c>ip monitor</c> lines, workload output) while the command's own thread prints progress. The console's
        /// writers are already synchronized (and come back as they are); a caller's plain writer (a test's
        /// <see cref="StringWriter"/>) is not, and two threads appending to one <see cref="System.Text.StringBuilder"/>
        /// corrupt it (<c>ArgumentException: Destination is too short</c> from the loser's copy).
        /// </summary>
        public static (TextWriter Out, TextWriter Err) Writers(TextWriter o, TextWriter err)
            => (TextWriter.Synchronized(o), TextWriter.Synchronized(err));

        /// <summary>
        /// <c>run</c>, <c>check</c> or <c>topology</c> with their parsed options: the checks between options, the
        /// configuration, then the command.
        /// </summary>
        private static async Task<int> Execute(string command, RunArgs a, TextWriter o, TextWriter err, CancellationToken interrupt,
            Action<SimEngine>? onEngine)
        {
            string? configPath = a.Config;
            bool verbose = a.Verbose, quiet = a.Quiet, checkDeterminism = a.CheckDeterminism;
            ClockKind? clock = a.Clock;
            TimeSpan? duration = a.Duration, traceFrom = a.TraceFrom;
            var overrides = a.Overrides;
            string? outDir = a.Out;
            bool force = a.Force, plot = a.Plot;
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
            if ((outDir is not null || force || plot) && (checkDeterminism || (plot && outDir is null)))
            {
                err.WriteLine("actorstack: --plot needs --out, and --out, --force and --plot do not go with --check-determinism (see 'actorstack run --help')");
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
                if ((a.Nodes ?? a.Partitions ?? settings.Cluster.MinNodes) is > 1 and var placeOn)
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
            // The report: every host's tables, or above SummaryAboveHosts hosts (unless --report full) the aggregate.
            var view = new RunView(a.Report ?? (settings.Hosts.Length > CommandLine.SummaryAboveHosts ? ReportKind.Summary : ReportKind.Full), a.LogFormat,
                Live: !quiet && ReferenceEquals(o, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null or "" or "false");
            // The actor system reads actorstack.run.* too (the engine's schedule strategy): --seed/--set/--schedule reach it
            // as the merged actorstack block over the user's file.
            string? akkaText = overrides.Count == 0 ? userText : (userText ?? "") + "\n" + StackConfig.EffectiveText(userText, configPath ?? "config", overrides);
            if (command == "run" && (a.Nodes is not null || a.Partitions is not null || settings.Cluster.MinNodes > 1 || !settings.Cluster.SeedNodes.IsEmpty))
                return await ClusterCli.Run(settings, StackConfig.EffectiveText(userText, configPath ?? "config", overrides), a.Nodes, a.Partitions, a.Listen, duration, o, err,
                    fullReport: view.Report == ReportKind.Full, realClock: clockKind == ClockKind.Real);
            if (checkDeterminism)
                return await Determinism.Check(o, err, (output, hook, onReported) =>
                    Run(settings, akkaText, verbose, quiet: true, ClockKind.Virtual, new RunLimits(duration, traceFrom, interrupt), output, err, view, hook, onReported));
            ExperimentRecorder? exp = null;
            if (outDir is not null && (exp = ExperimentRecorder.Create(outDir, force, err, StackConfig.EffectiveText(userText, configPath ?? "config", overrides), plot)) is null)
                return 2;
            return await Run(settings, akkaText, verbose, quiet, clockKind, new RunLimits(duration, traceFrom, interrupt), o, err, view, onEngine, exp: exp);
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
            foreach (var c in s.Captures) lines.Add($"capture {c}");
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

        /// <summary>The options of <c>run</c>, <c>check</c> and <c>topology</c> as parsed (those of run only are unset for the others).</summary>
        private sealed record RunArgs(string? Config, bool Verbose, bool Quiet, ClockKind? Clock, TimeSpan? Duration, TimeSpan? TraceFrom,
            bool CheckDeterminism, List<ConfigOverride> Overrides, string? Out, bool Force, bool Plot, ReportKind? Report, LogFormat LogFormat)
        {
            /// <summary><c>run --nodes</c> or <c>topology --nodes</c>: the cluster nodes to place the scenario on.</summary>
            public int? Nodes { get; init; }
            /// <summary><c>run --partitions</c>: partitions on threads of this process.</summary>
            public int? Partitions { get; init; }
            /// <summary><c>run --listen</c>: this coordinator's remoting endpoint.</summary>
            public string? Listen { get; init; }

            public static RunArgs From(CommandLine cl, System.CommandLine.ParseResult p)
            {
                var cmd = p.CommandResult.Command;
                T? Get<T>(string name) => p.GetValue<T>(cmd.Options.First(x => x.Name == name) is System.CommandLine.Option<T> opt ? opt : throw new InvalidOperationException(name));
                var overrides = new List<ConfigOverride>();
                if (Get<string?>("--seed") is { } seed) overrides.Add(new ConfigOverride("seed", seed));
                overrides.AddRange(Get<ConfigOverride[]>("--set") ?? []);
                if (cmd != cl.Run)
                    return new RunArgs(Get<string?>("--config"), false, false, null, null, null, false, overrides, null, false, false, null, LogFormat.Text)
                    { Nodes = cmd == cl.Topology ? p.GetValue(cl.TopologyNodes) : null };
                // --schedule, --schedule-seed, --pct-depth: the engine's keys, as --set would give them.
                if (p.GetValue(cl.Schedule) is { } schedule) overrides.Add(new ConfigOverride("run.schedule", schedule));
                if (p.GetValue(cl.ScheduleSeed) is { } scheduleSeed) overrides.Add(new ConfigOverride("run.schedule-seed", scheduleSeed.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                if (p.GetValue(cl.PctDepth) is { } depth) overrides.Add(new ConfigOverride("run.pct-depth", depth.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                return new RunArgs(p.GetValue(cl.Config), p.GetValue(cl.Verbose), p.GetValue(cl.Quiet),
                    p.GetValue(cl.Clock) switch { "real" => ClockKind.Real, "virtual" => ClockKind.Virtual, _ => null },
                    p.GetValue(cl.Duration), p.GetValue(cl.TraceFrom), p.GetValue(cl.CheckDeterminism), overrides,
                    p.GetValue(cl.Out), p.GetValue(cl.Force), p.GetValue(cl.PlotOpt),
                    p.GetValue(cl.ReportOpt) switch { "full" => ReportKind.Full, "summary" => ReportKind.Summary, _ => null },
                    p.GetValue(cl.LogFormatOpt) == "compact" ? LogFormat.Compact : LogFormat.Text)
                { Nodes = p.GetValue(cl.Nodes), Partitions = p.GetValue(cl.Partitions), Listen = p.GetValue(cl.Listen) };
            }
        }

        /// <summary>
        /// How the run shows itself: the report's kind, the log's format, and whether progress is a live bar (an interactive
        /// terminal, not CI) or plain lines.
        /// </summary>
        private sealed record RunView(ReportKind Report, LogFormat LogFormat, bool Live);

        /// <summary>What bounds a run besides its workloads: <c>--duration</c>, the <c>--trace-from</c> instant, Ctrl-C.</summary>
        private sealed record RunLimits(TimeSpan? Duration, TimeSpan? TraceFrom, CancellationToken Interrupt);

        /// <summary>
        /// The logger the CLI gives Akka: its log events go to Serilog with the actors' structured properties
        /// (<see cref="StackLogger"/>, configured in <see cref="Run"/>).
        /// </summary>
        public const string AkkaLoggers = "akka.loggers = [\"" + StackLog.LoggerType + "\"]";

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
            RunLimits limits, TextWriter o, TextWriter err, RunView view, Action<SimEngine>? onEngine = null, Action<SimEngine>? onReported = null,
            ExperimentRecorder? exp = null)
        {
            var (logId, logger) = StackLog.Create(verbose, view.LogFormat, exp?.OutputDirectory);
            Log.Logger = logger; // what is not an actor's (and an actor system without the CLI's logger) logs here too
            var akkaConfig = Akka.Configuration.ConfigurationFactory.ParseString(StackLog.Hocon(logId, settings.Hosts.Select(h => h.Name)))
                .WithFallback(AkkaConfig(userText, verbose));
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
                // The run's end for the progress bar: --duration, else max-duration (a run of only servers has none).
                TimeSpan? maxProgress = limits.Duration ?? (serversOnly ? null : settings.Run.MaxDuration);
                ProgressSample? previous = null;
                await ProgressView.Around(view.Live, o, quiet, async progress =>
                {
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
                            long read = sinks.Sum(s => s.Datagrams);
                            elapsed = clock.UtcNow - t0;
                            if (exp is not null) await exp.Tick(clock, started, elapsed);
                            var apps = await Task.WhenAll(topo.Apps.Select(a => clock.Ask<object>(a, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
                            var sample = ProgressSample.From(elapsed, maxProgress, gens, sinks, apps, engine?.Executed);
                            progress.Show(sample, previous);
                            previous = sample;
                            if (read != lastRead) { lastRead = read; quietSince = clock.UtcNow; }
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
                    return 0;
                });

                // The summary asks what the full report asks, in the same order (the same events: the same digest), and prints
                // the aggregate.
                bool full = view.Report == ReportKind.Full;
                var hostReports = new List<HostReport>();
                foreach (var (name, host) in started.Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
                {
                    var stats = await clock.Ask<HostStats>(host, GetStats.Instance, TimeSpan.FromSeconds(10));
                    var nf = await clock.Ask<NfRules>(host, GetNfRules.Instance, TimeSpan.FromSeconds(10));
                    var neigh = await clock.Ask<NeighbourList>(host, GetNeighbours.Instance, TimeSpan.FromSeconds(10));
                    hostReports.Add(new HostReport(name, stats, nf, neigh, await clock.CollectTcp(host, TimeSpan.FromSeconds(3))));
                }
                var switchReports = new List<SwitchReport>();
                foreach (var (name, sw) in topo.Switches.OrderBy(x => x.Key, StringComparer.Ordinal))
                {
                    var st = await clock.Ask<SwitchStatsSnapshot>(sw, GetSwitchStats.Instance, TimeSpan.FromSeconds(10));
                    switchReports.Add(new SwitchReport(name, st, await clock.Ask<SwitchFdb>(sw, GetSwitchFdb.Instance, TimeSpan.FromSeconds(10))));
                }
                var wireStats = new List<WireStats?>();
                foreach (var w in started.Wires) wireStats.Add(await clock.Ask<WireStats>(w, GetWireStats.Instance, TimeSpan.FromSeconds(10)));
                // Every application is asked either way (the same asks, the same run); the summary prints the first
                // TopHosts lines and a count of the rest (summary.json under --out has them all).
                var statuses = new List<object>();
                foreach (var s in started.Sinks) statuses.Add(await clock.Ask<SinkStatus>(s, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10)));
                foreach (var a in topo.Apps) statuses.Add(await clock.Ask<object>(a, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10)));
                foreach (var p in started.Pktgens) statuses.Add(await clock.Ask<PktgenStatus>(p, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10)));
                CaptureFlushed? flushed = null;
                var captures = new List<CaptureFlushed>();
                foreach (var cap in started.Captures)
                {
                    var f = await clock.Ask<CaptureFlushed>(cap, FlushCapture.Instance, TimeSpan.FromSeconds(30));
                    flushed ??= f;
                    captures.Add(f);
                }
                // A device = all file in the canonical order a distributed run's merged file has (by timestamp and
                // interface, CaptureMerge): the same scenario gives the same bytes on one node or several.
                foreach (var point in settings.Captures.Where(c => c.Enabled && c.Device == CaptureSettings.AllDevices && File.Exists(c.File)))
                    ActorStack.Hardware.Capture.CaptureMerge.Canonicalise(point.File);
                RunReport.Print(settings, new ClusterReport([.. hostReports], [.. switchReports], [.. wireStats], [.. statuses], [.. captures]), full, o);
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
                        engine?.Now ?? wall, wall, flushed, captures);
                    o.WriteLine($"experiment: {exp.OutputDirectory}: {ExperimentRecorder.Summary}, {ExperimentRecorder.Events}, {ExperimentRecorder.TimeSeries}, {ExperimentRecorder.ConfigFile}" +
                                string.Concat(captures.Select(c => $", {Path.GetFileName(c.File)}")));
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
                // An unexpected failure: where it came from, so a report of it can be acted on.
                var at = e.StackTrace?.Split('\n').FirstOrDefault()?.Trim();
                err.WriteLine(string.IsNullOrEmpty(at) ? $"  ({e.GetType().FullName})" : $"  ({e.GetType().FullName} {at})");
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
                if (ReferenceEquals(Log.Logger, logger)) Log.Logger = Serilog.Core.Logger.None;
                StackLog.Release(logId); // flushes the log file

                if (!stuck) system.Dispose();
            }
        }
    }
}
