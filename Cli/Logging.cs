using System.Collections.Concurrent;
using System.Globalization;
using Akka.Actor;
using Akka.Event;
using ActorStack.Actors.Engine;
using Serilog;
using Serilog.Core;
using LogEventLevel = Serilog.Events.LogEventLevel;
using LogEvent = Akka.Event.LogEvent;
using Serilog.Formatting.Compact;

namespace ActorStack.Cli;

/// <summary>
/// The CLI's log: Serilog, fed by the actor system's log events with structured properties taken centrally from the
/// logging actor's path (<c>/user/sim/HOST/dev-DEVICE</c>, <c>…/softnet-cpuN</c>, <c>…/sock-N</c>, <c>…/tcp/tcp-N</c>,
/// <c>/user/sim/wire-…</c>, <c>/user/sim/switch-NAME</c>, a workload's <c>TYPE-J-HOST</c>) and the simulated time of the
/// moment the actor logged (the engine's clock; wall seconds since the start on the real clock):
/// <c>Host</c>, <c>Device</c>, <c>Cpu</c>, <c>Socket</c>, <c>Wire</c>, <c>Switch</c>, <c>Workload</c>, <c>SimTime</c>
/// (seconds), <c>ActorPath</c>. Console: Serilog's text lines (warnings and errors on stderr) or compact JSON; with
/// <c>--out DIR</c> also a rolling file <c>DIR/logs/actorstack-YYYYMMDD.log</c> in the same format.
/// </summary>
/// <remarks>
/// Akka's loggers run on a dispatcher of their own, outside the simulation, so a logger actor would see the event later
/// than it happened. Instead <see cref="StackLogger"/> (the <c>akka.loggers</c> entry the CLI sets) subscribes a
/// <see cref="LogTap"/> to the event stream when Akka initialises it: a non-actor reference whose <c>Tell</c> runs on
/// the publishing actor's thread, inside the event that logs, where the engine's clock is the event's time.
/// </remarks>
public static class StackLog
{
    /// <summary>The <c>akka.loggers</c> entry of the CLI.</summary>
    public const string LoggerType = "ActorStack.Cli.StackLogger, actorstack";

    /// <summary>The config path naming the run's log (<see cref="Register"/>) to <see cref="StackLogger"/>.</summary>
    public const string IdPath = "actorstack-cli.log-id";
    /// <summary>The config path listing the scenario's host names (a path segment under <c>/user/sim</c> that is one is a host).</summary>
    public const string HostsPath = "actorstack-cli.log-hosts";

    /// <summary>The file under <c>--out DIR</c>: <c>logs/actorstack-.log</c>, the date inserted by the rolling sink.</summary>
    public const string FilePattern = "logs/actorstack-.log";

    /// <summary>The console's text template (Serilog's default, the level as three letters).</summary>
    public const string TextTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}";
    /// <summary>The file's text template: the console's with the simulated time and the structured properties.</summary>
    public const string FileTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] [sim {SimTime:0.000000000}s] {Message:lj} {Properties:j}{NewLine}{Exception}";

    private static readonly ConcurrentDictionary<string, Logger> Logs = new();

    /// <summary>
    /// A run's logger: the console (stderr from Warning, or compact JSON on stderr and stdout alike) and, with
    /// <paramref name="outDir"/>, the rolling file; registered under a new id for <see cref="StackLogger"/>.
    /// </summary>
    public static (string Id, Logger Logger) Create(bool verbose, LogFormat format, string? outDir)
    {
        var c = new LoggerConfiguration().MinimumLevel.Is(verbose ? LogEventLevel.Verbose : LogEventLevel.Information);
        // The actor system's own "CoordinatedShutdown invoked" at the end of every run: only with --verbose.
        if (!verbose) c = c.MinimumLevel.Override("Akka.Actor.CoordinatedShutdown", LogEventLevel.Warning);
        c = format == LogFormat.Compact
            ? c.WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Warning)
            : c.WriteTo.Console(outputTemplate: TextTemplate, standardErrorFromLevel: LogEventLevel.Warning, formatProvider: CultureInfo.InvariantCulture);
        if (outDir is not null)
        {
            var path = Path.Combine(outDir, FilePattern);
            c = format == LogFormat.Compact
                ? c.WriteTo.File(new RenderedCompactJsonFormatter(), path, rollingInterval: RollingInterval.Day, fileSizeLimitBytes: 256L << 20,
                    rollOnFileSizeLimit: true, retainedFileCountLimit: 31)
                : c.WriteTo.File(path, outputTemplate: FileTemplate, rollingInterval: RollingInterval.Day, fileSizeLimitBytes: 256L << 20,
                    rollOnFileSizeLimit: true, retainedFileCountLimit: 31, formatProvider: CultureInfo.InvariantCulture);
        }
        var logger = c.CreateLogger();
        var id = Guid.NewGuid().ToString("N");
        Logs[id] = logger;
        return (id, logger);
    }

    /// <summary>Forgets the run's logger and flushes it (the file is complete after this).</summary>
    public static void Release(string id)
    {
        if (Logs.TryRemove(id, out var logger)) logger.Dispose();
    }

    /// <summary>The HOCON that names the run's log and hosts to <see cref="StackLogger"/>.</summary>
    public static string Hocon(string id, IEnumerable<string> hosts)
        => $"akka.loggers = [\"{LoggerType}\"]\n{IdPath} = \"{id}\"\n{HostsPath} = [{string.Join(", ", hosts.Select(h => $"\"{h}\""))}]";

    internal static Serilog.ILogger? Lookup(string? id) => id is not null && Logs.TryGetValue(id, out var l) ? l : null;

    /// <summary>
    /// The structured properties of a log event from <paramref name="logSource"/> (an actor path): the host, and what
    /// under it logged. Hosts are recognised by name (<paramref name="hosts"/>), the rest by the names the simulation gives
    /// its actors.
    /// </summary>
    public static List<(string Name, string Value)> PathProperties(string logSource, IReadOnlySet<string> hosts)
    {
        var props = new List<(string, string)>();
        int at = logSource.IndexOf("/user/sim/", StringComparison.Ordinal);
        if (at < 0) return props;
        var segs = logSource[(at + "/user/sim/".Length)..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segs.Length == 0) return props;
        string top = Uri.UnescapeDataString(segs[0]);
        if (hosts.Contains(top))
        {
            props.Add(("Host", top));
            foreach (var raw in segs.Skip(1))
            {
                var s = Uri.UnescapeDataString(raw);
                if (s.StartsWith("dev-", StringComparison.Ordinal)) props.Add(("Device", s[4..]));
                else if (s.StartsWith("softnet-cpu", StringComparison.Ordinal)) props.Add(("Cpu", s["softnet-cpu".Length..]));
                else if (s.StartsWith("sock-", StringComparison.Ordinal) || (s != "tcp" && segs.Length > 2 && segs[1] == "tcp" && raw == segs[^1]))
                    props.Add(("Socket", s));
            }
            return props;
        }
        if (top.StartsWith("wire-", StringComparison.Ordinal) || top.StartsWith("tap-", StringComparison.Ordinal)) props.Add(("Wire", top));
        else if (top.StartsWith("switch-", StringComparison.Ordinal)) props.Add(("Switch", top["switch-".Length..]));
        else if (top != "capture")
        {
            // A workload: TYPE-J-HOST, sink-HOST-PORT, pktgen-I-HOST-DEVICE; the longest host name found between dashes.
            var host = hosts.Where(h => top.EndsWith("-" + h, StringComparison.Ordinal) || top.Contains("-" + h + "-", StringComparison.Ordinal))
                            .OrderByDescending(h => h.Length).FirstOrDefault();
            if (host is not null) props.Add(("Host", host));
            props.Add(("Workload", top));
        }
        return props;
    }

    /// <summary>Writes one Akka log event to <paramref name="log"/> with the path's properties and <paramref name="simTime"/>.</summary>
    internal static void Write(Serilog.ILogger log, LogEvent e, IReadOnlySet<string> hosts, double simTime)
    {
        var level = e switch
        {
            Akka.Event.Error => LogEventLevel.Error,
            Warning => LogEventLevel.Warning,
            Info => LogEventLevel.Information,
            _ => LogEventLevel.Debug,
        };
        if (!log.IsEnabled(level)) return;
        var l = log.ForContext("SimTime", simTime).ForContext("ActorPath", e.LogSource);
        foreach (var (name, value) in PathProperties(e.LogSource ?? "", hosts)) l = l.ForContext(name, value);
        if (e.LogClass is not null) l = l.ForContext(Constants.SourceContextPropertyName, e.LogClass.FullName);
        // The message as Akka renders it (its formats are positional, {0}); Serilog would quote every string argument.
        // Serilog takes the text as a template without properties: its braces doubled.
        l.Write(level, e.Cause, (e.Message?.ToString() ?? "").Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal));
    }
}

/// <summary>
/// The CLI's Akka logger (<c>akka.loggers</c>): answers Akka's <see cref="InitializeLogger"/> after subscribing a
/// <see cref="LogTap"/> for the run's log (<see cref="StackLog.IdPath"/>) to the event stream; the events it is sent
/// itself were written by the tap. Without a registered log (an actor system not started by <c>run</c>) it writes them
/// to Serilog's <see cref="Log.Logger"/>, without simulated time.
/// </summary>
public sealed class StackLogger : ReceiveActor, Akka.Dispatch.IRequiresMessageQueue<Akka.Event.ILoggerMessageQueueSemantics>
{
    public StackLogger()
    {
        var config = Context.System.Settings.Config;
        var log = StackLog.Lookup(config.GetString(StackLog.IdPath, null));
        var hosts = new HashSet<string>(config.HasPath(StackLog.HostsPath) ? config.GetStringList(StackLog.HostsPath) : [], StringComparer.Ordinal);
        Receive<InitializeLogger>(_ =>
        {
            if (log is not null) Context.System.EventStream.Subscribe(new LogTap(Context.System, log, hosts), typeof(LogEvent));
            Sender.Tell(new LoggerInitialized());
        });
        Receive<LogEvent>(e =>
        {
            if (log is null) StackLog.Write(Log.Logger, e, hosts, double.NaN);
        });
    }
}

/// <summary>
/// A log event stream subscriber that is not an actor: <see cref="TellInternal"/> runs in the publishing actor's turn,
/// so the engine's clock is the simulated time of the event that logs.
/// </summary>
public sealed class LogTap : MinimalActorRef
{
    private readonly ActorSystem _system;
    private readonly Serilog.ILogger _log;
    private readonly IReadOnlySet<string> _hosts;
    private readonly SimEngine? _engine;
    private readonly DateTimeOffset _start;

    public LogTap(ActorSystem system, Serilog.ILogger log, IReadOnlySet<string> hosts)
    {
        _system = system;
        _log = log;
        _hosts = hosts;
        _engine = (system.Scheduler as VirtualTimeScheduler)?.Engine;
        _start = system.Scheduler.Now;
        Path = new RootActorPath(((ExtendedActorSystem)system).Provider.DefaultAddress) / "actorstack-log-tap";
    }

    public override ActorPath Path { get; }
    public override IActorRefProvider Provider => ((ExtendedActorSystem)_system).Provider;

    /// <summary>Simulated seconds since virtual 0 (the engine), or wall seconds since the tap started (real clock).</summary>
    private double SimTime => _engine is not null ? _engine.NowNs / 1e9 : (_system.Scheduler.Now - _start).TotalSeconds;

    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is LogEvent e) StackLog.Write(_log, e, _hosts, SimTime);
    }
}
