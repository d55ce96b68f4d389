using System.Collections.Immutable;
using System.Globalization;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

// The topology parts of a scenario: per-host routes, permanent neighbours and netfilter rules, the switches,
// and the ping / traceroute / UDP echo workloads. Syntax errors are found here; whether the FIB accepts a
// route (a reachable gateway, a usable prefsrc) is checked by building the host's FIB (ScenarioCheck in Actors).
public static partial class StackConfig
{
    /// <summary>Route types <c>ip route add</c> accepts here (<c>RTN_*</c> names as iproute2 spells them).</summary>
    public static readonly string[] RouteTypeNames = ["unicast", "unreachable", "blackhole", "prohibit"];

    /// <summary>The netfilter hooks, as iptables names the built-in chains.</summary>
    public static readonly ImmutableArray<(string Chain, NfHook Hook)> NetfilterChains =
    [
        ("PREROUTING", NfHook.PreRouting), ("INPUT", NfHook.LocalIn), ("FORWARD", NfHook.Forward),
        ("OUTPUT", NfHook.LocalOut), ("POSTROUTING", NfHook.PostRouting),
    ];

    /// <summary>The iptables chain name of a hook (INPUT for <see cref="NfHook.LocalIn"/>, …).</summary>
    public static string ChainName(NfHook hook) => NetfilterChains.First(c => c.Hook == hook).Chain;

    // ip route add [TYPE] PREFIX|default [via GW] [dev DEV] [metric N] [src ADDR]
    private static ImmutableArray<RouteSettings> ReadRoutes(Reader r, Dictionary<string, object?> h, string hp, ImmutableArray<DeviceSettings> devs)
    {
        var result = ImmutableArray.CreateBuilder<RouteSettings>();
        if (!h.TryGetValue("routes", out var v) || v is null) return result.ToImmutable();
        if (v is not List<object?> list) { r.Error($"{hp}.routes", v, "must be a list of \"PREFIX via GW\" strings as `ip route add` takes them"); return result.ToImmutable(); }
        for (int i = 0; i < list.Count; i++)
        {
            var p = $"{hp}.routes[{i}]";
            if (list[i] is not string text) { r.Error(p, list[i], "must be a string such as \"10.0.2.0/24 via 10.0.1.1\""); continue; }
            if (ParseRoute(text, devs, out var route) is { } err) r.Error(p, text, err);
            else result.Add(route!);
        }
        return result.ToImmutable();
    }

    /// <summary>Parses one <c>ip route add</c> argument list; returns an error message or null.</summary>
    internal static string? ParseRoute(string text, ImmutableArray<DeviceSettings> devs, out RouteSettings? route)
    {
        route = null;
        var t = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int i = 0;
        string type = "unicast";
        if (t.Length > 0 && RouteTypeNames.Contains(t[0])) type = t[i++];
        if (i >= t.Length) return "names no destination (PREFIX or default)";
        Ipv4Prefix dst;
        if (t[i] == "default") dst = new Ipv4Prefix(Ipv4Address.Any, 0);
        else if (!Ipv4Prefix.TryParse(t[i], out dst)) return $"'{t[i]}' is not a destination prefix such as 10.0.2.0/24, or default (types: {string.Join(", ", RouteTypeNames)})";
        else if ((dst.Address.Value & ~dst.Mask) != 0) return $"'{t[i]}' has host bits set (Invalid prefix for given prefix length)";
        i++;
        Ipv4Address? via = null, src = null;
        string? dev = null;
        int? metric = null;
        for (; i < t.Length; i += 2)
        {
            var word = t[i];
            if (word is not ("via" or "dev" or "metric" or "src")) return $"unknown word '{word}' (known: via, dev, metric, src)";
            if (i + 1 >= t.Length) return $"'{word}' needs a value";
            var arg = t[i + 1];
            switch (word)
            {
                case "via":
                    if (via is not null) return "'via' given twice";
                    if (!Ipv4Address.TryParse(arg, out var gw) || gw.IsAny || gw.IsMulticast || gw.IsLimitedBroadcast) return $"gateway '{arg}' is not a unicast IPv4 address";
                    via = gw;
                    break;
                case "dev":
                    if (dev is not null) return "'dev' given twice";
                    if (arg != "lo" && devs.All(d => d.Name != arg)) return $"no device '{arg}' on this host (Cannot find device)";
                    dev = arg;
                    break;
                case "metric":
                    if (metric is not null) return "'metric' given twice";
                    if (!int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out var m)) return $"metric '{arg}' is not an integer 0-{int.MaxValue}";
                    metric = m;
                    break;
                case "src":
                    if (src is not null) return "'src' given twice";
                    if (!Ipv4Address.TryParse(arg, out var sa) || sa.IsAny || sa.IsMulticast) return $"src '{arg}' is not a unicast IPv4 address";
                    src = sa;
                    break;
            }
        }
        if (type != "unicast" && (via is not null || dev is not null))
            return $"a {type} route takes no gateway or device (Gateway, device and multipath can not be specified for this route type)";
        if (type == "unicast" && via is null && dev is null) return "needs 'via GW' or 'dev DEV' (No nexthop device)";
        route = new RouteSettings(dst, via, dev, metric ?? 0, type, src);
        return null;
    }

    /// <summary>The route as <c>ip route add</c> takes it (the form the configuration used).</summary>
    public static string RouteText(RouteSettings r)
        => (r.Type == "unicast" ? "" : r.Type + " ") + (r.Destination.Length == 0 ? "default" : r.Destination.ToString())
           + (r.Via is { } v ? $" via {v}" : "") + (r.Device is { } d ? $" dev {d}" : "")
           + (r.Metric != 0 ? $" metric {r.Metric}" : "") + (r.Source is { } s ? $" src {s}" : "");

    // ip neigh add ADDR lladdr MAC dev DEV [nud permanent]
    private static ImmutableArray<NeighbourSettings> ReadNeighbours(Reader r, Dictionary<string, object?> h, string hp, ImmutableArray<DeviceSettings> devs)
    {
        var result = ImmutableArray.CreateBuilder<NeighbourSettings>();
        if (!h.TryGetValue("neighbours", out var v) || v is null) return result.ToImmutable();
        if (v is not List<object?> list) { r.Error($"{hp}.neighbours", v, "must be a list of \"ADDR lladdr MAC dev DEV\" strings"); return result.ToImmutable(); }
        var seen = new HashSet<(Ipv4Address, string)>();
        for (int i = 0; i < list.Count; i++)
        {
            var p = $"{hp}.neighbours[{i}]";
            if (list[i] is not string text) { r.Error(p, list[i], "must be a string such as \"10.0.0.9 lladdr 02:00:00:00:00:09 dev eth0\""); continue; }
            var t = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string? err = null;
            if (t.Length is not (5 or 7) || t[1] != "lladdr" || t[3] != "dev" || (t.Length == 7 && (t[5] != "nud" || t[6] != "permanent")))
                err = "must be \"ADDR lladdr MAC dev DEV\" (optionally followed by \"nud permanent\")";
            else if (!Ipv4Address.TryParse(t[0], out var a) || a.IsAny || a.IsMulticast || a.IsLimitedBroadcast)
                err = $"'{t[0]}' is not a unicast IPv4 address";
            else if (!MacAddress.TryParse(t[2], out var mac) || mac.IsMulticast || mac.Value == 0)
                err = $"'{t[2]}' is not a unicast MAC address like 02:00:00:00:00:09";
            else if (devs.All(d => d.Name != t[4]))
                err = $"no device '{t[4]}' on this host (Cannot find device)";
            else if (!seen.Add((a, t[4])))
                err = $"{a} on {t[4]} is listed twice (File exists)";
            else
                result.Add(new NeighbourSettings(a, mac, t[4]));
            if (err is not null) r.Error(p, text, err);
        }
        return result.ToImmutable();
    }

    private static readonly string[] NetfilterKeys = ["hook", "action", "src", "dst", "proto", "sport", "dport"];

    // iptables -A CHAIN [-s SRC] [-d DST] [-p PROTO [--sport N] [--dport N]] -j ACCEPT|DROP
    private static ImmutableArray<NfRule> ReadNetfilter(Reader r, Dictionary<string, object?> h, string hp)
    {
        var result = ImmutableArray.CreateBuilder<NfRule>();
        if (!h.TryGetValue("netfilter", out var v) || v is null) return result.ToImmutable();
        if (v is not List<object?> list) { r.Error($"{hp}.netfilter", v, "must be a list of rules { hook, action, src, dst, proto, sport, dport }"); return result.ToImmutable(); }
        for (int i = 0; i < list.Count; i++)
        {
            var p = $"{hp}.netfilter[{i}]";
            if (list[i] is not Dictionary<string, object?> d) { r.Error(p, list[i], "must be an object { hook, action, src, dst, proto, sport, dport }"); continue; }
            int before = r.Errors.Count;
            r.KnownKeys(d, p, NetfilterKeys);
            var hookName = d.TryGetValue("hook", out var hv) ? hv as string : null;
            var chain = NetfilterChains.FirstOrDefault(c => string.Equals(c.Chain, hookName, StringComparison.OrdinalIgnoreCase));
            if (chain.Chain is null) r.Error($"{p}.hook", hv, $"must be one of {string.Join(", ", NetfilterChains.Select(c => c.Chain))}");
            var actionName = d.TryGetValue("action", out var av) ? av as string : null;
            NfVerdict verdict = NfVerdict.Accept;
            if (string.Equals(actionName, "ACCEPT", StringComparison.OrdinalIgnoreCase)) verdict = NfVerdict.Accept;
            else if (string.Equals(actionName, "DROP", StringComparison.OrdinalIgnoreCase)) verdict = NfVerdict.Drop;
            else r.Error($"{p}.action", av, "must be ACCEPT or DROP");
            Ipv4Prefix? src = NfPrefix(r, d, "src", p), dst = NfPrefix(r, d, "dst", p);
            byte? proto = null;
            if (d.TryGetValue("proto", out var pv))
            {
                var ps = (pv as string)?.ToLowerInvariant();
                switch (ps)
                {
                    case "udp": proto = IpProtocol.Udp; break;
                    case "tcp": proto = IpProtocol.Tcp; break;
                    case "icmp": proto = IpProtocol.Icmp; break;
                    case "all": break;
                    default:
                        if (ps is not null && byte.TryParse(ps, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) { if (n != 0) proto = n; }
                        else r.Error($"{p}.proto", pv, "must be udp, tcp, icmp, all or a protocol number 0-255");
                        break;
                }
            }
            ushort? sport = null, dport = null;
            foreach (var key in new[] { "sport", "dport" })
            {
                if (!d.ContainsKey(key)) continue;
                var port = (ushort)r.Int(d, key, p, 0, 65535);
                if (proto is not (IpProtocol.Udp or IpProtocol.Tcp))
                    r.Error($"{p}.{key}", d[key], "needs proto = udp or tcp (as iptables' --sport/--dport need -p)");
                if (key == "sport") sport = port; else dport = port;
            }
            if (r.Errors.Count == before)
                result.Add(new NfRule(chain.Hook, verdict, src, dst, proto, sport, dport));
        }
        return result.ToImmutable();
    }

    private static Ipv4Prefix? NfPrefix(Reader r, Dictionary<string, object?> d, string key, string p)
    {
        if (!d.TryGetValue(key, out var v)) return null;
        if (v is string s && Ipv4Prefix.TryParse(s, out var prefix))
            return new Ipv4Prefix(prefix.Network, prefix.Length); // iptables masks the host bits away
        r.Error($"{p}.{key}", v, "must be an IPv4 address or prefix such as 10.0.1.0/24");
        return null;
    }

    private static ImmutableArray<SwitchSettings> ReadSwitches(Reader r, Dictionary<string, object?> sc, string sp, ImmutableArray<HostSettings> hosts)
    {
        var result = ImmutableArray.CreateBuilder<SwitchSettings>();
        if (!sc.TryGetValue("switches", out var v) || v is null) return result.ToImmutable();
        if (v is not Dictionary<string, object?> switches) { r.Error($"{sp}.switches", v, "must be an object { NAME { ports = N } }"); return result.ToImmutable(); }
        foreach (var (name, value) in switches)
        {
            var p = $"{sp}.switches.{name}";
            if (!IsName(name)) r.Error(p, name, "a switch name must be letters, digits, '-' or '_'");
            if (NameIndex.Find(hosts, name) is not null) r.Error(p, name, "is already the name of a host");
            if (value is not Dictionary<string, object?> s) { r.Error(p, value, "must be an object { ports = N, ageing-time = 300s }"); continue; }
            r.KnownKeys(s, p, ["ports", "ageing-time", "fdb-max-learned", "txqueuelen", "speed", "node"]);
            var ageing = r.DurationOr(s, "ageing-time", p, TimeSpan.FromSeconds(300), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1_000_000));
            result.Add(new SwitchSettings(name,
                Ports: r.Int(s, "ports", p, 1, 1024),
                AgeingTime: ageing,
                FdbMaxLearned: r.Int(s, "fdb-max-learned", p, 1, 1 << 20, 8192),
                TxQueueLen: r.Int(s, "txqueuelen", p, 1, 1 << 20, 1000))
            {
                Speed = r.Int(s, "speed", p, 10, 400_000, 10_000),
                Node = ReadNode(r, s, p),
            });
        }
        return result.ToImmutable();
    }

    /// <summary>Largest ICMP/UDP payload of one IPv4 datagram: 65535 - 20 (IP) - 8 (ICMP or UDP header).</summary>
    private const int MaxPayload = 65507;

    private static PingSettings ReadPing(Reader r, Dictionary<string, object?> w, string wp, string host)
    {
        r.KnownKeys(w, wp, ["type", "host", "dst", "count", "interval", "size", "ttl", "timeout", "deadline"]);
        return new PingSettings(host, r.Address(w, "dst", wp),
            Count: r.Int(w, "count", wp, 1, int.MaxValue, 4),
            Interval: r.DurationOr(w, "interval", wp, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)),
            Size: r.Int(w, "size", wp, 0, MaxPayload, 56),
            Ttl: r.Int(w, "ttl", wp, 1, 255, 64),
            Timeout: r.DurationOr(w, "timeout", wp, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)),
            Deadline: w.ContainsKey("deadline")
                ? r.DurationOr(w, "deadline", wp, TimeSpan.Zero, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1))
                : TimeSpan.Zero);
    }

    private static TracerouteSettings ReadTraceroute(Reader r, Dictionary<string, object?> w, string wp, string host)
    {
        r.KnownKeys(w, wp, ["type", "host", "dst", "max-hops", "queries", "wait", "port"]);
        return new TracerouteSettings(host, r.Address(w, "dst", wp),
            MaxHops: r.Int(w, "max-hops", wp, 1, 255, 30),
            Queries: r.Int(w, "queries", wp, 1, 10, 3),
            Wait: r.DurationOr(w, "wait", wp, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)),
            Port: (ushort)r.Int(w, "port", wp, 1, 65535, 33434));
    }

    private static UdpEchoClientSettings ReadUdpEchoClient(Reader r, Dictionary<string, object?> w, string wp, string host)
    {
        r.KnownKeys(w, wp, ["type", "host", "server", "count", "size", "interval", "timeout"]);
        var (addr, port) = r.Endpoint(w, "server", wp, allowAny: false);
        return new UdpEchoClientSettings(host, addr, port,
            Count: r.Int(w, "count", wp, 1, int.MaxValue, 10),
            Size: r.Int(w, "size", wp, 0, MaxPayload, 64),
            Interval: r.DurationOr(w, "interval", wp, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromHours(1)),
            Timeout: r.DurationOr(w, "timeout", wp, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)));
    }

    private sealed partial class Reader
    {
        /// <summary>A duration between <paramref name="min"/> and <paramref name="max"/>, or <paramref name="def"/> when absent.</summary>
        public TimeSpan DurationOr(Dictionary<string, object?> d, string key, string path, TimeSpan def, TimeSpan min, TimeSpan max)
        {
            var v = d.GetValueOrDefault(key);
            if (v is null) return def;
            if (v is not string s || !TryDuration(s, out var t))
            {
                Error($"{path}.{key}", v, "must be a duration such as 500ms, 2s or 1m");
                return def;
            }
            if (t < min || t > max)
            {
                Error($"{path}.{key}", v, $"must be between {Show(min)} and {Show(max)}");
                return def;
            }
            return t;
        }

        private static string Show(TimeSpan t) => t == TimeSpan.Zero ? "0s"
            : t.TotalSeconds >= 1 && t.Ticks % TimeSpan.TicksPerSecond == 0 ? $"{(long)t.TotalSeconds}s"
            : $"{t.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms";

        /// <summary>"address:port" with a port 1-65535; the wildcard address 0.0.0.0 only when <paramref name="allowAny"/>.</summary>
        public (Ipv4Address Address, ushort Port) Endpoint(Dictionary<string, object?> d, string key, string path, bool allowAny)
        {
            var v = d.GetValueOrDefault(key);
            var s = v as string;
            var colon = s?.LastIndexOf(':') ?? -1;
            if (s is null || colon < 0 || !Ipv4Address.TryParse(s[..colon], out var addr)
                || !ushort.TryParse(s[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0)
            {
                Error($"{path}.{key}", v, "must be \"address:port\" with a port 1-65535");
                return default;
            }
            if (!allowAny && (addr.IsAny || addr.IsMulticast))
            {
                Error($"{path}.{key}", v, "must name a unicast address");
                return default;
            }
            return (addr, port);
        }
    }
}
