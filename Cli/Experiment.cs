using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Simulation;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Cli;

/// <summary>
/// <c>run --out DIR</c>: what a pipeline reads after a run. <see cref="Tick"/> (at each progress interval of the run's
/// clock) appends the counters of every host, device, CPU, drop reason, socket and workload to <c>timeseries.csv</c>;
/// an actor on the event stream records fault actions, <c>ip monitor</c> link events and workload output with their
/// time in <c>events.jsonl</c>; <see cref="Finish"/> writes <c>summary.json</c> (every table of the report),
/// <c>config.hocon</c> (the merged configuration) and copies the capture. The README's "Running an experiment"
/// documents the schemas. Nothing here runs on a hot path: JSON is written once at the end.
/// </summary>
public sealed class ExperimentRecorder
{
    public const string Summary = "summary.json", Events = "events.jsonl", TimeSeries = "timeseries.csv", ConfigFile = "config.hocon";
    public const string TimeSeriesHeader = "time_s,host,kind,object,metric,value";

    private readonly string _dir;
    private readonly StreamWriter _series;
    private readonly ConcurrentQueue<(DateTime At, JsonObject Event)> _events = new();
    private Func<DateTime> _now = () => DateTime.UnixEpoch;
    private DateTime? _origin;

    /// <summary>The merged configuration written as config.hocon.</summary>
    public string ConfigText { get; init; } = "";
    /// <summary><c>run --plot</c>: draw the plots of the directory at the end.</summary>
    public bool Plot { get; init; }

    /// <summary>The output directory, checked and created: an existing non-empty one is refused unless <paramref name="force"/>.</summary>
    public static ExperimentRecorder? Create(string dir, bool force, TextWriter err, string configText = "", bool plot = false)
    {
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any() && !force)
        {
            err.WriteLine($"actorstack: --out {dir}: the directory exists and is not empty (--force writes over it)");
            return null;
        }
        if (File.Exists(dir))
        {
            err.WriteLine($"actorstack: --out {dir}: is a file");
            return null;
        }
        Directory.CreateDirectory(dir);
        return new ExperimentRecorder(dir) { ConfigText = configText, Plot = plot };
    }

    private ExperimentRecorder(string dir)
    {
        _dir = dir;
        _series = new StreamWriter(Path.Combine(dir, TimeSeries), false, new UTF8Encoding(false));
        _series.WriteLine(TimeSeriesHeader);
    }

    /// <summary>Where the files go.</summary>
    public string OutputDirectory => _dir;

    /// <summary>Subscribes the event recorder; <paramref name="now"/> is the run's clock (events are timed from <see cref="Start"/>).</summary>
    public void Attach(ActorSystem system, Func<DateTime> now)
    {
        _now = now;
        var rec = system.ActorOf(Props.Create(() => new EventRecorder(this)), "experiment-events");
        system.EventStream.Subscribe(rec, typeof(WorkloadOutput));
        system.EventStream.Subscribe(rec, typeof(FaultScheduleEvent));
        system.EventStream.Subscribe(rec, typeof(RtnlLinkEvent));
    }

    /// <summary>The workloads started: time 0 of events.jsonl and timeseries.csv (events before it have negative times).</summary>
    public void Start(DateTime origin) => _origin = origin;

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000######", CultureInfo.InvariantCulture);

    private void Event(string type, string? host, string text, TimeSpan? scheduled = null)
    {
        var o = new JsonObject { ["type"] = type };
        if (host is not null) o["host"] = host;
        if (scheduled is { } s) o["at"] = Math.Round(s.TotalSeconds, 9);
        o["text"] = text;
        _events.Enqueue((_now(), o));
    }

    /// <summary>Records what the event stream carries; the lines are written at the end.</summary>
    private sealed class EventRecorder : ReceiveActor
    {
        public EventRecorder(ExperimentRecorder r)
        {
            Receive<FaultScheduleEvent>(m => r.Event("fault", null, m.Line.Trim(), m.At));
            Receive<RtnlLinkEvent>(m => r.Event("link", m.Host, Runner.MonitorLine(m)));
            Receive<WorkloadOutput>(m => r.Event("workload", m.Host, $"[{m.Host} {m.Workload}] {m.Line}"));
        }
    }

    private void Row(TimeSpan t, string host, string kind, string obj, string metric, long value)
        => _series.WriteLine($"{Seconds(t)},{Csv(host)},{kind},{Csv(obj)},{metric},{value.ToString(CultureInfo.InvariantCulture)}");

    private void Row(TimeSpan t, string host, string kind, string obj, string metric, double value)
        => _series.WriteLine($"{Seconds(t)},{Csv(host)},{kind},{Csv(obj)},{metric},{value.ToString("0.######", CultureInfo.InvariantCulture)}");

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    /// <summary>The name of a TCP socket in the time series and plots: <c>local:port-&gt;remote:port</c>.</summary>
    public static string TcpName(TcpSocketInfo s) => $"{s.LocalAddress}:{s.LocalPort}->{s.RemoteAddress}:{s.RemotePort}";

    /// <summary>One row per counter at <paramref name="t"/> (cumulative values, as the kernel's counters are).</summary>
    public async Task Tick(RunClock clock, SimulationStarted started, TimeSpan t)
    {
        foreach (var (name, host) in started.Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            var st = await clock.Ask<HostStats>(host, GetStats.Instance, TimeSpan.FromSeconds(10));
            foreach (var d in st.Devices)
            {
                var c = d.Counters;
                Row(t, name, "device", d.Name, "rx_bytes", c.RxBytes);
                Row(t, name, "device", d.Name, "rx_packets", c.RxPackets);
                Row(t, name, "device", d.Name, "tx_bytes", c.TxBytes);
                Row(t, name, "device", d.Name, "tx_packets", c.TxPackets);
                Row(t, name, "device", d.Name, "rx_dropped", c.RxDropped);
                Row(t, name, "device", d.Name, "rx_missed_errors", c.RxMissedErrors);
                Row(t, name, "device", d.Name, "tx_dropped", c.TxDropped);
                if (d.Qdisc is { } q)
                {
                    Row(t, name, "device", d.Name, "qdisc_backlog", q.Backlog);
                    Row(t, name, "device", d.Name, "qdisc_drops", q.Drops);
                }
            }
            foreach (var s in st.Softnet)
            {
                var cpu = $"cpu{s.Cpu}";
                Row(t, name, "softnet", cpu, "processed", s.Processed);
                Row(t, name, "softnet", cpu, "dropped", s.Dropped);
                Row(t, name, "softnet", cpu, "time_squeeze", s.TimeSqueeze);
                Row(t, name, "softnet", cpu, "received_rps", s.ReceivedRps);
                Row(t, name, "softnet", cpu, "input_qlen", s.InputQlen);
            }
            foreach (var g in st.Drops.GroupBy(d => d.Site.Reason.ToString()).OrderBy(g => g.Key, StringComparer.Ordinal))
                Row(t, name, "drop", g.Key, "packets", g.Sum(d => d.Packets));
            foreach (var s in st.Sockets.Where(s => s.Type != SockType.Stream))
            {
                var obj = $"{(s.Type == SockType.Dgram ? "udp" : "raw")}:{s.LocalAddress}:{s.LocalPort}";
                Row(t, name, "socket", obj, "recv_queue_bytes", s.RecvQueueBytes);
                Row(t, name, "socket", obj, "drops", s.Drops);
                Row(t, name, "socket", obj, "bytes_read", s.BytesRead);
                Row(t, name, "socket", obj, "bytes_sent", s.BytesSent);
            }
            foreach (var s in await clock.CollectTcp(host, TimeSpan.FromSeconds(3)))
            {
                if (s.State == "LISTEN") continue;
                var obj = TcpName(s);
                Row(t, name, "tcp", obj, "cwnd", s.Cwnd);
                Row(t, name, "tcp", obj, "srtt_ms", s.Rtt.TotalMilliseconds);
                Row(t, name, "tcp", obj, "retrans", s.Retrans);
                Row(t, name, "tcp", obj, "bytes_acked", s.BytesAcked);
                Row(t, name, "tcp", obj, "bytes_received", s.BytesReceived);
                Row(t, name, "tcp", obj, "send_queue", s.SendQueue);
            }
        }
        foreach (var p in started.Sinks)
        {
            var s = await clock.Ask<SinkStatus>(p, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10));
            Row(t, s.Host, "udp-sink", s.Bind, "datagrams", s.Datagrams);
            Row(t, s.Host, "udp-sink", s.Bind, "bytes", s.Bytes);
        }
        foreach (var p in started.Pktgens)
        {
            var s = await clock.Ask<PktgenStatus>(p, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10));
            Row(t, s.Host, "pktgen", s.Device, "sent", s.Sent);
        }
        await _series.FlushAsync();
    }

    /// <summary>
    /// The end of the run: summary.json, events.jsonl, config.hocon and the captures (<paramref name="capture"/> the first,
    /// <paramref name="captures"/> all of them; <c>capture</c> in summary.json is the first, <c>captures</c> every one).
    /// </summary>
    public async Task Finish(RunClock clock, StackSettings settings, SimulationStarted started, SimulationTopology topo, string clockName,
        SimEngine? engine, TimeSpan simulated, TimeSpan wall, CaptureFlushed? capture, IReadOnlyList<CaptureFlushed>? captures = null)
    {
        captures ??= capture is null ? [] : [capture];
        var root = new JsonObject
        {
            ["seed"] = settings.Seed,
            ["clock"] = clockName,
            ["simulated_s"] = Math.Round(simulated.TotalSeconds, 9),
            ["wall_s"] = Math.Round(wall.TotalSeconds, 3),
        };
        if (engine is not null)
        {
            root["engine"] = new JsonObject { ["events"] = engine.Executed, ["digest"] = engine.Digest.ToString("x16", CultureInfo.InvariantCulture) };
        }
        var hosts = new JsonArray();
        foreach (var (name, host) in started.Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            var st = await clock.Ask<HostStats>(host, GetStats.Instance, TimeSpan.FromSeconds(10));
            var snmp = new JsonObject();
            foreach (var m in st.Snmp)
            {
                var mib = new JsonObject();
                foreach (var (k, v) in m.Counters) mib[k] = v;
                snmp[m.Name] = mib;
            }
            var drops = new JsonArray();
            foreach (var d in st.Drops)
                drops.Add(new JsonObject { ["reason"] = d.Site.Reason.ToString(), ["location"] = d.Site.Location, ["packets"] = d.Packets });
            var nf = await clock.Ask<NfRules>(host, GetNfRules.Instance, TimeSpan.FromSeconds(10));
            var rules = new JsonArray();
            foreach (var r in nf.Rules) rules.Add(new JsonObject { ["rule"] = Topology.IptablesRule(r.Rule), ["packets"] = r.Packets });
            hosts.Add(new JsonObject
            {
                ["name"] = name,
                ["devices"] = JsonFlat.Node(st.Devices),
                ["softnet_stat"] = JsonFlat.Node(st.Softnet),
                ["snmp"] = snmp,
                ["drops"] = drops,
                ["sockets"] = JsonFlat.Node(st.Sockets.Where(s => s.Type != SockType.Stream)),
                ["tcp"] = JsonFlat.Node(await clock.CollectTcp(host, TimeSpan.FromSeconds(3))),
                ["iptables"] = rules,
                ["ip_route"] = ScenarioCheckFib(settings, name),
                ["ip_neigh"] = (await clock.Ask<NeighbourList>(host, GetNeighbours.Instance, TimeSpan.FromSeconds(10))).Text,
            });
        }
        root["hosts"] = hosts;
        var switches = new JsonArray();
        foreach (var (name, sw) in topo.Switches.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            var node = JsonFlat.Node(await clock.Ask<SwitchStatsSnapshot>(sw, GetSwitchStats.Instance, TimeSpan.FromSeconds(10)))!.AsObject();
            node["name"] = name;
            node["fdb"] = (await clock.Ask<SwitchFdb>(sw, GetSwitchFdb.Instance, TimeSpan.FromSeconds(10))).Text;
            switches.Add(node);
        }
        root["switches"] = switches;
        var wires = new JsonArray();
        for (int i = 0; i < started.Wires.Length; i++)
        {
            var node = JsonFlat.Node(await clock.Ask<WireStats>(started.Wires[i], GetWireStats.Instance, TimeSpan.FromSeconds(10)))!.AsObject();
            node["name"] = settings.Wires[i].ToString();
            wires.Add(node);
        }
        root["wires"] = wires;
        var apps = new JsonArray();
        foreach (var s in started.Sinks) apps.Add(App(await clock.Ask<SinkStatus>(s, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10)), "udp-sink", null));
        foreach (var p in started.Pktgens) apps.Add(App(await clock.Ask<PktgenStatus>(p, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10)), "pktgen", null));
        foreach (var a in topo.Apps)
        {
            var st = await clock.Ask<object>(a, GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10));
            apps.Add(App(st, WorkloadType(st), Report.App(st)));
        }
        root["workloads"] = apps;
        if (capture is not null)
            root["capture"] = new JsonObject { ["file"] = Path.GetFileName(capture.File), ["frames"] = capture.Frames, ["dropped"] = capture.Dropped };
        if (captures.Count > 0)
        {
            var all = new JsonArray();
            foreach (var c in captures)
                all.Add(new JsonObject { ["file"] = Path.GetFileName(c.File), ["frames"] = c.Frames, ["dropped"] = c.Dropped, ["comments"] = c.Comments });
            root["captures"] = all;
        }

        await File.WriteAllTextAsync(Path.Combine(_dir, Summary), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        await File.WriteAllLinesAsync(Path.Combine(_dir, Events), _events.Select(e =>
        {
            var line = new JsonObject { ["t"] = Math.Round((e.At - (_origin ?? e.At)).TotalSeconds, 9) };
            foreach (var (k, v) in e.Event.ToArray()) { e.Event.Remove(k); line[k] = v; }
            return line.ToJsonString();
        }));
        await File.WriteAllTextAsync(Path.Combine(_dir, ConfigFile), ConfigText);
        foreach (var c in captures)
            if (File.Exists(c.File) && Path.GetFullPath(c.File) != Path.GetFullPath(Path.Combine(_dir, Path.GetFileName(c.File))))
                File.Copy(c.File, Path.Combine(_dir, Path.GetFileName(c.File)), overwrite: true);
        await _series.DisposeAsync();
    }

    /// <summary>Closes the time series of a run that failed.</summary>
    public void Abandon() => _series.Dispose();

    private static JsonNode ScenarioCheckFib(StackSettings settings, string host)
        => ScenarioCheck.BuildFib(settings.Host(host)).Format();

    private static string WorkloadType(object status) => status switch
    {
        PingStatus => "ping",
        TracerouteStatus => "traceroute",
        UdpEchoServerStatus => "udp-echo-server",
        UdpEchoClientStatus => "udp-echo-client",
        TcpServerStatus t => t.Workload,
        TcpBulkClientStatus => "tcp-bulk-client",
        TcpRrClientStatus => "tcp-rr-client",
        _ => status.GetType().Name,
    };

    private static JsonObject App(object status, string type, string? line)
    {
        var o = JsonFlat.Node(status) as JsonObject ?? new JsonObject();
        o["type"] = type;
        if (line is not null) o["report"] = line;
        return o;
    }
}

/// <summary>
/// A snapshot record as JSON, by reflection over its public properties: numbers, strings and booleans as they are,
/// enums and addresses as text, <see cref="TimeSpan"/> in seconds, collections as arrays, records as objects.
/// </summary>
public static class JsonFlat
{
    private const int MaxDepth = 8;

    public static JsonNode? Node(object? v) => Node(v, 0);

    private static JsonNode? Node(object? v, int depth)
    {
        switch (v)
        {
            case null: return null;
            case string s: return JsonValue.Create(s);
            case bool b: return JsonValue.Create(b);
            case int or long or short or ushort or byte or uint or sbyte: return JsonValue.Create(Convert.ToInt64(v, CultureInfo.InvariantCulture));
            case ulong u: return JsonValue.Create(u);
            case double or float or decimal: return JsonValue.Create(Convert.ToDouble(v, CultureInfo.InvariantCulture));
            case TimeSpan t: return JsonValue.Create(t.TotalSeconds);
            case Enum e: return JsonValue.Create(e.ToString());
            case IActorRef a: return JsonValue.Create(a.Path.ToString());
        }
        if (depth >= MaxDepth) return JsonValue.Create(v.ToString());
        var type = v.GetType();
        if (v is System.Collections.IEnumerable list)
        {
            var arr = new JsonArray();
            foreach (var item in list)
            {
                if (item is not null && item.GetType() is { IsGenericType: true } it && it.GetGenericTypeDefinition() == typeof(KeyValuePair<,>))
                {
                    // a sequence of pairs: an object
                    var obj = new JsonObject();
                    foreach (var pair in list)
                        obj[it.GetProperty("Key")!.GetValue(pair)!.ToString()!] = Node(it.GetProperty("Value")!.GetValue(pair), depth + 1);
                    return obj;
                }
                arr.Add(Node(item, depth + 1));
            }
            return arr;
        }
        // Value types of the stack (addresses) and anything outside it print as they print.
        if (type.IsValueType || type.Namespace is null || !type.Namespace.StartsWith("ActorStack", StringComparison.Ordinal))
            return JsonValue.Create(v.ToString());
        var o = new JsonObject();
        foreach (var p in type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || p.Name == "EqualityContract") continue;
            o[ToSnake(p.Name)] = Node(p.GetValue(v), depth + 1);
        }
        return o;
    }

    /// <summary><c>RxMissedErrors</c> → <c>rx_missed_errors</c>.</summary>
    public static string ToSnake(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])))) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
