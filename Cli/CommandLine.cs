using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using ActorStack.Config;

namespace ActorStack.Cli;

/// <summary>How much of the end-of-run report <c>run</c> prints: every host's tables, or the aggregate over all hosts.</summary>
public enum ReportKind { Full, Summary }

/// <summary>The console (and log file) format of the log: Serilog's text lines or compact JSON (CLEF).</summary>
public enum LogFormat { Text, Compact }

/// <summary>
/// The command line as System.CommandLine parses it: <c>run</c>, <c>check</c>, <c>topology</c>, <c>sweep</c> and
/// <c>plot</c>, each with its options and <c>--help</c>. One instance per parse (a sweep parses its runs in parallel).
/// </summary>
public sealed class CommandLine
{
    /// <summary>The hosts above which <c>run</c>'s report is the summary unless <c>--report full</c> says otherwise.</summary>
    public const int SummaryAboveHosts = 50;

    /// <summary>The values of <c>--schedule</c>: the engine's order of the events due at one instant (<c>actorstack.run.schedule</c>).</summary>
    public static readonly string[] Schedules = ["fifo", "random", "pct"];

    /// <summary>The root, named <c>actorstack</c> whatever the process is (<c>dotnet test</c>'s testhost runs it too).</summary>
    public readonly Command Root = new("actorstack", "A simulation of the Linux network stack on Akka.NET. Exit codes: 0 ok, " +
                                                   "1 the run failed, 2 bad arguments or configuration (nothing started).");
    public readonly Command Run = new("run", "Runs the scenario (stack.hocon's main job, or --config FILE) and prints ip -s link, tc -s qdisc, " +
                                             "ip route, softnet_stat, SNMP counters, drops, sockets, switches and wires.");
    public readonly Command Check = new("check", "Validates the configuration and prints the scenario (with its fault plan).");
    public readonly Command Topology = new("topology", "Prints hosts (CPUs, devices, forwarding, ip route), switches, wires and the fault plan.");
    public readonly Command Sweep = new("sweep", "Runs the scenario once per seed and per value of a swept key; writes sweep.csv and sweep.md.");
    public readonly Command Plot = new("plot", "(Re)draws the plots of a directory written by run --out or sweep --out.");
    public readonly Command Node = new("node", "Starts a worker node of a distributed run (Akka.Cluster): it joins the seed nodes and builds the " +
                                               "part of the scenario the coordinator (run --nodes N) places on it.");

    // Options shared by run, check and topology (each command gets its own instance: a symbol has one parent).
    public readonly Option<string?> Config = new("--config") { Description = "The scenario file (HOCON) over stack.hocon", HelpName = "FILE" };
    public readonly Option<string?> Seed = new("--seed") { Description = "actorstack.seed (the run's randomness)", HelpName = "N" };
    public readonly Option<ConfigOverride[]> Set = SetOption("Any key of the configuration (repeatable; actorstack. optional; " +
                                                             "array elements by index: scenario.wires[0].delay=5ms)");

    public readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Serilog at Verbose, Akka at DEBUG (trace points too if trace = on)" };
    public readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "No progress lines" };
    public readonly Option<string?> Clock = new Option<string?>("--clock")
    {
        Description = "virtual (the default): on the simulation engine, the same run every time; real: on the wall clock " +
                      "(the default for a scenario with a TAP wire)",
        HelpName = "virtual|real",
    }.OneOf("virtual", "real");
    public readonly Option<TimeSpan?> Duration = DurationOption("--duration", allowZero: false,
        "End the run after D (e.g. 60s, 500ms; simulated on the virtual clock); a run of only servers runs until then or Ctrl-C");
    public readonly Option<TimeSpan?> TraceFrom = DurationOption("--trace-from", allowZero: true,
        "Trace points on from simulated instant T (virtual clock), the run before T unchanged");
    public readonly Option<bool> CheckDeterminism = new("--check-determinism")
    { Description = "Runs it twice on the virtual clock; prints \"identical\" and the event digest, or the first event where the runs differ" };
    public readonly Option<string?> Out = new("--out") { Description = "Writes summary.json, events.jsonl, timeseries.csv, config.hocon, logs/ and the capture into DIR", HelpName = "DIR" };
    public readonly Option<bool> Force = new("--force") { Description = "Writes into an --out directory that exists and is not empty" };
    public readonly Option<bool> PlotOpt = new("--plot") { Description = "Draws the plots into the --out directory" };
    public readonly Option<string?> ReportOpt = new Option<string?>("--report")
    {
        Description = $"full: every host's tables; summary: aggregate tables over all hosts and the top 10 hosts by drops " +
                      $"(the default above {SummaryAboveHosts} hosts)",
        HelpName = "full|summary",
    }.OneOf("full", "summary");
    public readonly Option<string> LogFormatOpt = new Option<string>("--log-format")
    {
        Description = "text (the default) or compact: Serilog's compact JSON (one object a line) on the console and in --out DIR/logs",
        HelpName = "text|compact",
        DefaultValueFactory = _ => "text",
    }.OneOf("text", "compact");
    public readonly Option<string?> Schedule = new Option<string?>("--schedule")
    {
        Description = "The engine's order of events due at one instant (actorstack.run.schedule): fifo, random or pct",
        HelpName = "fifo|random|pct",
    }.OneOf(Schedules);
    public readonly Option<int?> ScheduleSeed = NonNegativeInt("--schedule-seed", "The seed of --schedule random or pct (actorstack.run.schedule-seed)");
    public readonly Option<int?> PctDepth = PositiveInt("--pct-depth", "PCT's bug depth d: d-1 priority change points (actorstack.run.pct-depth)");

    // sweep
    public readonly Option<string> SweepConfig = new("--config") { Description = "The scenario file", HelpName = "FILE", Required = true };
    public readonly Option<List<int>> Seeds = new("--seeds")
    {
        Description = "The seeds: A..B or a list S1,S2,..",
        HelpName = "A..B|S1,S2,..",
        Required = true,
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (ActorStack.Cli.Sweep.ParseSeeds(text) is { } seeds) return seeds;
            r.AddError($"--seeds {text}: takes A..B or a list S1,S2,..");
            return [];
        },
    };
    public readonly Option<ConfigOverride?> Vary = new("--vary")
    {
        Description = "The swept key and its values (one setting each)",
        HelpName = "KEY=V1,V2,..",
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (ConfigOverride.Parse(text) is { Value.Length: > 0 } kv) return kv;
            r.AddError($"--vary {text}: takes KEY=V1,V2,..");
            return null;
        },
    };
    public readonly Option<ConfigOverride[]> SweepSet = SetOption("Any key of the configuration, for every run (repeatable)");
    public readonly Option<string[]> Metric = new("--metric")
    {
        Description = "Metrics (repeatable or comma separated): drops, drops.REASON, udp_datagrams, tcp_bytes, tcp_retransmits, " +
                      "ping_received, ping_rtt_avg_ms, simulated_s, events, snmp.MIB.COUNTER (summed over hosts)",
        HelpName = "NAME",
        AllowMultipleArgumentsPerToken = false,
    };
    public readonly Option<int> Parallel = new("--parallel")
    {
        Description = "Runs at a time",
        HelpName = "N",
        DefaultValueFactory = _ => 1,
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= 1) return n;
            r.AddError($"--parallel {text}: takes a positive number");
            return 1;
        },
    };
    public readonly Option<string> SweepOut = new("--out") { Description = "The sweep's directory (runs/, sweep.csv, sweep.md)", HelpName = "DIR", Required = true };
    public readonly Option<bool> SweepForce = new("--force") { Description = "Writes into an --out directory that exists and is not empty" };
    public readonly Option<bool> SweepPlot = new("--plot") { Description = "Draws sweep-METRIC.png/svg" };

    // cluster: run --nodes/--partitions/--listen, topology --nodes, node
    public readonly Option<int?> Nodes = RangeInt("--nodes", "Runs over N cluster nodes: this process is n1, `actorstack node`s the others " +
                                                             "(actorstack.cluster { seed-nodes, min-nodes, placement, join-timeout })");
    public readonly Option<int?> Partitions = RangeInt("--partitions", "Runs the scenario as N partitions on N threads of this process, synchronised in windows");
    public readonly Option<string?> Listen = new("--listen") { Description = "This node's remoting endpoint (port 0: any free port)", HelpName = "HOST:PORT" };
    public readonly Option<int?> TopologyNodes = RangeInt("--nodes", "Prints the placement of the hosts and switches over N nodes");
    public readonly Option<string> NodeListen = new("--listen") { Description = "This node's remoting endpoint (port 0: any free port)", HelpName = "HOST:PORT", Required = true };
    public readonly Option<string[]> NodeSeeds = new("--seed-node") { Description = "A seed node's address (repeatable)", HelpName = "ADDR", Required = true, AllowMultipleArgumentsPerToken = false };
    public readonly Option<string?> NodeName = new("--name") { Description = "This node's name (default node-PORT)", HelpName = "NAME" };
    public readonly Option<string?> NodeConfig = new("--config") { Description = "The scenario file: its hash must match the coordinator's", HelpName = "FILE" };

    // plot
    public readonly Argument<string> PlotDir = new("DIR") { Description = "A directory written by run --out or sweep --out" };

    public CommandLine()
    {
        Run.Options.Add(Config);
        Run.Options.Add(Seed);
        Run.Options.Add(Set);
        foreach (var o in new Option[] { Verbose, Quiet, Clock, Duration, TraceFrom, CheckDeterminism, Out, Force, PlotOpt, ReportOpt, LogFormatOpt,
                                         Schedule, ScheduleSeed, PctDepth, Nodes, Partitions, Listen })
            Run.Options.Add(o);
        foreach (var c in new[] { Check, Topology })
        {
            c.Options.Add(new Option<string?>("--config") { Description = Config.Description, HelpName = "FILE" });
            c.Options.Add(new Option<string?>("--seed") { Description = Seed.Description, HelpName = "N" });
            c.Options.Add(SetOption(Set.Description!));
            c.Options.Add(new Option<bool>("--verbose", "-v") { Description = "(accepted, as run takes it)", Hidden = true });
            c.Options.Add(new Option<bool>("--quiet", "-q") { Description = "(accepted, as run takes it)", Hidden = true });
        }
        foreach (var o in new Option[] { SweepConfig, Seeds, Vary, SweepSet, Metric, Parallel, SweepOut, SweepForce, SweepPlot })
            Sweep.Options.Add(o);
        Topology.Options.Add(TopologyNodes);
        foreach (var o in new Option[] { NodeListen, NodeSeeds, NodeName, NodeConfig }) Node.Options.Add(o);
        Plot.Arguments.Add(PlotDir);
        foreach (var c in new[] { Run, Check, Topology, Sweep, Plot, Node }) Root.Subcommands.Add(c);
        Root.Options.Add(new HelpOption { Recursive = true });
    }

    private static Option<ConfigOverride[]> SetOption(string description) => new("--set")
    {
        Description = description,
        HelpName = "KEY=VALUE",
        AllowMultipleArgumentsPerToken = false,
        CustomParser = r =>
        {
            var list = new List<ConfigOverride>();
            foreach (var t in r.Tokens)
                if (ConfigOverride.Parse(t.Value) is { } kv) list.Add(kv);
                else r.AddError($"--set {t.Value}: takes KEY=VALUE");
            return [.. list];
        },
    };

    private static Option<TimeSpan?> DurationOption(string name, bool allowZero, string description) => new(name)
    {
        Description = description,
        HelpName = name == "--duration" ? "D" : "T",
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (Runner.ParseDuration(text, allowZero) is { } d) return d;
            r.AddError($"{name} {text}: not a duration (e.g. 60s, 2.5s, 500ms, 2m)");
            return null;
        },
    };

    private static Option<int?> NonNegativeInt(string name, string description) => IntOption(name, description, 0, "a number >= 0");
    private static Option<int?> PositiveInt(string name, string description) => IntOption(name, description, 1, "a number >= 1");

    private static Option<int?> RangeInt(string name, string description) => IntOption(name, description, 1, "a number from 1 to 64", max: 64);

    private static Option<int?> IntOption(string name, string description, int min, string what, int max = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= min && n <= max) return n;
            r.AddError($"{name} {text}: takes {what}");
            return null;
        },
    };

    /// <summary>
    /// Parses <paramref name="args"/>. Returns the parse to act on, or an exit code: 0 after printing help
    /// (<c>--help</c>, <c>-h</c>, <c>help</c>), 2 after printing the errors (and where to find the help) to <paramref name="err"/>.
    /// </summary>
    public (ParseResult? Parse, int Rc) Parse(string[] args, TextWriter o, TextWriter err)
    {
        if (args is ["help", .. var rest]) args = [.. rest, "--help"];
        if (args is [var first, ..] && !first.StartsWith('-') && Root.Subcommands.All(c => c.Name != first))
        {
            err.WriteLine($"actorstack: unknown command '{first}' (commands: {string.Join(", ", Root.Subcommands.Select(c => c.Name))})\nsee 'actorstack --help'");
            return (null, 2);
        }
        if (args.Length == 0)
        {
            Root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = err, Error = err });
            return (null, 2);
        }
        // No response files: a value starting with '@' is a value.
        var parse = Root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Action is HelpAction)
        {
            parse.Invoke(new InvocationConfiguration { Output = o, Error = err });
            return (null, 0);
        }
        if (parse.Errors.Count > 0 || parse.CommandResult.Command == Root)
        {
            foreach (var e in parse.Errors) err.WriteLine($"actorstack: {Reword(e.Message)}");
            if (parse.Errors.Count == 0) err.WriteLine($"actorstack: a command is needed: {string.Join(", ", Root.Subcommands.Select(c => c.Name))}");
            var cmd = parse.CommandResult.Command;
            err.WriteLine(cmd == Root ? "see 'actorstack --help'" : $"see 'actorstack {cmd.Name} --help'");
            return (null, 2);
        }
        return (parse, 0);
    }

    /// <summary>System.CommandLine's "Unrecognized command or argument" in the CLI's words.</summary>
    private static string Reword(string message) =>
        message.StartsWith("Unrecognized command or argument '", StringComparison.Ordinal)
            ? "unknown argument " + message["Unrecognized command or argument ".Length..].TrimEnd('.')
            : message;
}

/// <summary>The CLI's checks of option values, in its words.</summary>
public static class OptionChecks
{
    /// <summary>Accepts only <paramref name="values"/>: <c>--clock wall: must be one of virtual, real</c>.</summary>
    public static Option<T> OneOf<T>(this Option<T> option, params string[] values)
    {
        option.Validators.Add(r =>
        {
            foreach (var t in r.Tokens)
                if (!values.Contains(t.Value, StringComparer.Ordinal))
                    r.AddError($"{option.Name} {t.Value}: must be one of {string.Join(", ", values)}");
        });
        return option;
    }
}
