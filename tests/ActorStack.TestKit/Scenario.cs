using System.Globalization;
using System.Text;
using ActorStack.Config;

namespace ActorStack.Testing;

/// <summary>
/// A scenario as the CLI reads it: HOCON text (an <c>actorstack { scenario { … } }</c> block and any tunables) over the
/// embedded <c>stack.hocon</c>, validated by <see cref="StackConfig"/> exactly as <c>actorstack run --config</c> does.
/// Make one from text (<see cref="FromHocon"/>, <see cref="FromFile"/>) or with <see cref="Build"/>.
/// </summary>
public sealed class Scenario
{
    private StackSettings? _settings;

    private Scenario(string hocon, string origin)
    {
        Hocon = hocon;
        Origin = origin;
    }

    /// <summary>The scenario's text: what a file given to <c>actorstack run --config</c> would hold.</summary>
    public string Hocon { get; }

    /// <summary>Where the text came from (named in configuration errors).</summary>
    public string Origin { get; }

    /// <summary>
    /// The validated settings the SimulationActor builds the network from (read once). Bad input throws
    /// <see cref="StackConfigException"/> naming the key, as the CLI reports it.
    /// </summary>
    public StackSettings Settings => _settings ??= StackConfig.Load(Hocon, Origin);

    public static Scenario FromHocon(string hocon, string origin = "scenario") => new(hocon, origin);

    /// <summary>A scenario file (includes relative to its folder, as the CLI reads it).</summary>
    public static Scenario FromFile(string path) => new(ConfigText.PrepareFile(path), path);

    /// <summary>
    /// This scenario with <paramref name="hocon"/> merged over it (later keys win, objects merge), e.g.
    /// <c>With("actorstack.scenario.capture.enabled = off")</c> or <c>With("actorstack.seed = 7")</c>.
    /// </summary>
    public Scenario With(string hocon) => string.IsNullOrWhiteSpace(hocon) ? this : new(Hocon + "\n" + hocon + "\n", Origin);

    /// <summary>A fluent builder whose <see cref="ScenarioBuilder.Build"/> writes the HOCON text.</summary>
    public static ScenarioBuilder Build() => new();

    public override string ToString() => Hocon;
}

/// <summary>
/// Writes a scenario's HOCON: hosts (CPUs, sysctls, devices with addresses, routes, neighbours), switches, wires (delay,
/// netem per direction), workloads, the fault schedule, and tunables. Keys are the configuration's own
/// (README "Configuration"); the builder only spells them, <see cref="StackConfig"/> validates them.
/// Devices get MACs 02:00:00:00:HH:DD (host and device number, from 1) unless given one.
/// </summary>
public sealed class ScenarioBuilder
{
    private readonly List<HostBuilder> _hosts = new();
    private readonly List<(string Name, List<(string Key, object Value)> Keys)> _switches = new();
    private readonly List<List<(string Key, object Value)>> _wires = new();
    private readonly List<List<(string Key, object Value)>> _workloads = new();
    private readonly List<List<(string Key, object Value)>> _schedule = new();
    private readonly List<string> _tunables = new();
    private int? _seed;
    private string? _capture;

    /// <summary><c>actorstack.seed</c>: every random draw of the run (netem, ports, ping ids) follows from it.</summary>
    public ScenarioBuilder Seed(int seed)
    {
        _seed = seed;
        return this;
    }

    /// <summary>A host (one network namespace); <paramref name="configure"/> adds its devices, routes, sysctls.</summary>
    public ScenarioBuilder Host(string name, Action<HostBuilder> configure)
    {
        var h = new HostBuilder(name, _hosts.Count + 1);
        configure(h);
        _hosts.Add(h);
        return this;
    }

    /// <summary>A learning switch with ports port1..portN (<c>switches { NAME { ports = N } }</c>).</summary>
    public ScenarioBuilder Switch(string name, int ports, params (string Key, object Value)[] keys)
    {
        _switches.Add((name, [("ports", ports), .. keys]));
        return this;
    }

    /// <summary>A cable between two ends ("host/dev" or "switch/portN"); <paramref name="configure"/> sets delay and netem.</summary>
    public ScenarioBuilder Wire(string a, string b, Action<WireBuilder>? configure = null)
    {
        var w = new WireBuilder();
        configure?.Invoke(w);
        _wires.Add([("a", a), ("b", b), .. w.Keys]);
        return this;
    }

    /// <summary>A workload of <paramref name="type"/> (pktgen, udp-sink, ping, udp-echo-server, …) on <paramref name="host"/>, with its own keys.</summary>
    public ScenarioBuilder Workload(string type, string host, params (string Key, object Value)[] keys)
    {
        _workloads.Add([("type", type), ("host", host), .. keys]);
        return this;
    }

    /// <summary>An application reading a UDP socket bound to <paramref name="bind"/> (ADDR:PORT) as fast as it can.</summary>
    public ScenarioBuilder UdpSink(string host, string bind) => Workload("udp-sink", host, ("bind", bind));

    /// <summary>A UDP echo server bound to <paramref name="bind"/>.</summary>
    public ScenarioBuilder UdpEchoServer(string host, string bind) => Workload("udp-echo-server", host, ("bind", bind));

    /// <summary><c>ping -c COUNT DST</c> from <paramref name="host"/>.</summary>
    public ScenarioBuilder Ping(string host, string destination, int count = 4, params (string Key, object Value)[] keys)
        => Workload("ping", host, [("dst", destination), ("count", count), .. keys]);

    /// <summary>An entry of the fault schedule at <paramref name="at"/> after the workloads start (action cut, restore, netem, crash, link-down, …).</summary>
    public ScenarioBuilder Schedule(TimeSpan at, string action, params (string Key, object Value)[] keys)
    {
        _schedule.Add([("at", at), ("action", action), .. keys]);
        return this;
    }

    /// <summary>A pcap capture (a <c>ptype_all</c> tap) on <paramref name="host"/>'s <paramref name="device"/> ("any" for all) into <paramref name="file"/>.</summary>
    public ScenarioBuilder Capture(string host, string device, string file)
    {
        _capture = $"capture {{ enabled = on, host = {Quote(host)}, device = {Quote(device)}, file = {Quote(file)} }}";
        return this;
    }

    /// <summary>A tunable under <c>actorstack</c>, e.g. <c>Set("sysctl.net.core.netdev_max_backlog", 300)</c>.</summary>
    public ScenarioBuilder Set(string key, object value)
    {
        _tunables.Add($"{key} = {Value(value)}");
        return this;
    }

    /// <summary>The scenario's HOCON text, validated when its <see cref="Scenario.Settings"/> are first read.</summary>
    public Scenario Build() => Scenario.FromHocon(ToHocon(), "ScenarioBuilder");

    public string ToHocon()
    {
        var sb = new StringBuilder();
        sb.Append("actorstack {\n");
        if (_seed is { } seed) sb.Append("  seed = ").Append(seed.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var t in _tunables) sb.Append("  ").Append(t).Append('\n');
        sb.Append("  scenario {\n");
        sb.Append("    hosts {\n");
        foreach (var h in _hosts) h.Write(sb);
        sb.Append("    }\n");
        if (_switches.Count > 0)
        {
            sb.Append("    switches {\n");
            foreach (var (name, keys) in _switches) sb.Append("      ").Append(Key(name)).Append(' ').Append(Object(keys)).Append('\n');
            sb.Append("    }\n");
        }
        List("wires", _wires, sb);
        List("workloads", _workloads, sb);
        List("schedule", _schedule, sb);
        sb.Append("    ").Append(_capture ?? "capture { enabled = off }").Append('\n');
        sb.Append("  }\n}\n");
        return sb.ToString();
    }

    private static void List(string name, List<List<(string Key, object Value)>> items, StringBuilder sb)
    {
        if (items.Count == 0) return;
        sb.Append("    ").Append(name).Append(" = [\n");
        foreach (var i in items) sb.Append("      ").Append(Object(i)).Append('\n');
        sb.Append("    ]\n");
    }

    public static string Object(IEnumerable<(string Key, object Value)> keys)
        => "{ " + string.Join(", ", keys.Select(k => $"{k.Key} = {Value(k.Value)}")) + " }";

    /// <summary>A HOCON value: strings quoted, durations with their unit (s, ms, us, ns), booleans on/off, lists in brackets.</summary>
    public static string Value(object v) => v switch
    {
        string s => Quote(s),
        bool b => b ? "on" : "off",
        TimeSpan t => Duration(t),
        int or long or short or ushort or byte or uint => Convert.ToString(v, CultureInfo.InvariantCulture)!,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IEnumerable<string> l => "[" + string.Join(", ", l.Select(Quote)) + "]",
        _ => Quote(Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""),
    };

    public static string Duration(TimeSpan t)
    {
        long ns = t.Ticks * 100;
        if (ns % 1_000_000_000 == 0) return $"{ns / 1_000_000_000}s";
        if (ns % 1_000_000 == 0) return $"{ns / 1_000_000}ms";
        if (ns % 1_000 == 0) return $"{ns / 1_000}us";
        return $"{ns}ns";
    }

    internal static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            if (c is '"' or '\\') sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A key as HOCON reads it: a plain name bare, anything else quoted.</summary>
    internal static string Key(string k) => k.All(c => char.IsLetterOrDigit(c) || c is '-' or '_') ? k : Quote(k);
}

/// <summary>One host of a <see cref="ScenarioBuilder"/>.</summary>
public sealed class HostBuilder
{
    private readonly string _name;
    private readonly int _number;
    private readonly List<(string Name, List<(string Key, object Value)> Keys)> _devices = new();
    private readonly List<(string Key, object Value)> _sysctl = new();
    private readonly List<string> _routes = new();
    private readonly List<string> _neighbours = new();
    private int _cpus = 1;

    internal HostBuilder(string name, int number)
    {
        _name = name;
        _number = number;
    }

    /// <summary>CPUs (softnet contexts) of the host; 1 by default.</summary>
    public HostBuilder Cpus(int n)
    {
        _cpus = n;
        return this;
    }

    /// <summary>A device with its addresses ("10.0.0.1/24") and device keys (mtu, rx-ring, rps-cpus, speed, …).</summary>
    public HostBuilder Device(string name, string address, params (string Key, object Value)[] keys) => Device(name, [address], keys);

    public HostBuilder Device(string name, string[] addresses, params (string Key, object Value)[] keys)
    {
        var k = new List<(string Key, object Value)>();
        if (!keys.Any(x => x.Key == "mac")) k.Add(("mac", $"02:00:00:00:{_number:x2}:{_devices.Count + 1:x2}"));
        k.Add(("addresses", addresses));
        k.AddRange(keys);
        _devices.Add((name, k));
        return this;
    }

    /// <summary>A sysctl of this host, by its Linux name (<c>net.ipv4.ip_forward</c>, <c>net.core.netdev_max_backlog</c>).</summary>
    public HostBuilder Sysctl(string name, object value)
    {
        _sysctl.Add((name, value));
        return this;
    }

    /// <summary>A route as <c>ip route add</c> takes it ("default via 10.0.0.254", "10.9.0.0/16 via 10.0.2.2 metric 10").</summary>
    public HostBuilder Route(string route)
    {
        _routes.Add(route);
        return this;
    }

    /// <summary>A permanent neighbour as <c>ip neigh add</c> takes it ("10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0").</summary>
    public HostBuilder Neighbour(string entry)
    {
        _neighbours.Add(entry);
        return this;
    }

    internal void Write(StringBuilder sb)
    {
        sb.Append("      ").Append(ScenarioBuilder.Key(_name)).Append(" {\n");
        sb.Append("        cpus = ").Append(_cpus.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (_sysctl.Count > 0)
            sb.Append("        sysctl { ").Append(string.Join(", ", _sysctl.Select(s => $"{s.Key} = {ScenarioBuilder.Value(s.Value)}"))).Append(" }\n");
        sb.Append("        devices {\n");
        foreach (var (name, keys) in _devices)
            sb.Append("          ").Append(ScenarioBuilder.Key(name)).Append(' ').Append(ScenarioBuilder.Object(keys)).Append('\n');
        sb.Append("        }\n");
        if (_routes.Count > 0) sb.Append("        routes = ").Append(ScenarioBuilder.Value(_routes)).Append('\n');
        if (_neighbours.Count > 0) sb.Append("        neighbours = ").Append(ScenarioBuilder.Value(_neighbours)).Append('\n');
        sb.Append("      }\n");
    }
}

/// <summary>One wire of a <see cref="ScenarioBuilder"/>: propagation delay and tc-netem options per direction.</summary>
public sealed class WireBuilder
{
    internal readonly List<(string Key, object Value)> Keys = new();

    /// <summary>Propagation delay each way.</summary>
    public WireBuilder Delay(TimeSpan delay)
    {
        Keys.Add(("delay", delay));
        return this;
    }

    /// <summary>tc-netem options on the a→b direction ("loss 10%", "delay 10ms 2ms distribution normal").</summary>
    public WireBuilder NetemAToB(string options)
    {
        Keys.Add(("netem-a-to-b", options));
        return this;
    }

    /// <summary>tc-netem options on the b→a direction.</summary>
    public WireBuilder NetemBToA(string options)
    {
        Keys.Add(("netem-b-to-a", options));
        return this;
    }

    /// <summary>The same tc-netem options both ways.</summary>
    public WireBuilder Netem(string options) => NetemAToB(options).NetemBToA(options);
}
