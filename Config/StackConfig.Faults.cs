using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

// Fault injection keys: netem-a-to-b / netem-b-to-a on a wire, scenario.faults, scenario.schedule.
// The netem option strings are only shaped here (Config cannot see the tc parser, which lives in Hardware);
// ScenarioCheck parses them with NetemParser before the run and reports errors under the same keys.
public static partial class StackConfig
{
    /// <summary>"a-to-b" / "b-to-a", as the configuration spells a direction.</summary>
    public static string DirectionName(WireDirection d) => d == WireDirection.AToB ? "a-to-b" : "b-to-a";

    private static string? NetemSpec(Reader r, Dictionary<string, object?> w, string key, string wp, string? tap)
    {
        if (!w.TryGetValue(key, out var v) || v is null) return null;
        if (v is not string s) { r.Error($"{wp}.{key}", v, "must be tc-netem options such as \"delay 10ms loss 1%\""); return null; }
        if (tap is not null) { r.Error($"{wp}.{key}", v, "netem is on simulated cables only, not on a TAP link"); return null; }
        return string.IsNullOrWhiteSpace(s) ? null : s.Trim();
    }

    /// <summary>The wire a fault or schedule entry names: its full name "h1/eth0-h2/eth0" or one of its ends "h1/eth0".</summary>
    private static int WireIndex(Reader r, Dictionary<string, object?> d, string path, ImmutableArray<WireSettings> wires)
    {
        if (!d.TryGetValue("wire", out var v) || v is not string s)
        {
            r.Error($"{path}.wire", d.GetValueOrDefault("wire"), "must name a wire: \"host/dev-host/dev\" or one of its ends \"host/dev\"");
            return -1;
        }
        for (int i = 0; i < wires.Length; i++)
        {
            var w = wires[i];
            if (w.Name == s || $"{w.HostA}/{w.DeviceA}" == s || (w.Tap is null && $"{w.HostB}/{w.DeviceB}" == s))
            {
                if (w.Tap is not null) { r.Error($"{path}.wire", s, "is a TAP link: faults are on simulated cables only"); return -1; }
                return i;
            }
        }
        r.Error($"{path}.wire", s, $"no such wire (known: {string.Join(", ", wires.Where(w => w.Tap is null).Select(w => w.Name))})");
        return -1;
    }

    private static WireDirection? Direction(Reader r, Dictionary<string, object?> d, string path, bool bothAllowed)
    {
        var v = d.GetValueOrDefault("direction");
        switch (v as string)
        {
            case "a-to-b": return WireDirection.AToB;
            case "b-to-a": return WireDirection.BToA;
            case null or "both" when bothAllowed: return null;
            default:
                r.Error($"{path}.direction", v, bothAllowed ? "must be a-to-b, b-to-a or both" : "must be a-to-b or b-to-a");
                return null;
        }
    }

    private static ImmutableArray<WireFaultSettings> ReadFaults(Reader r, Dictionary<string, object?> sc, string sp,
        ImmutableArray<WireSettings> wires)
    {
        var result = ImmutableArray.CreateBuilder<WireFaultSettings>();
        if (!sc.TryGetValue("faults", out var fv) || fv is null) return result.ToImmutable();
        if (fv is not List<object?> list) { r.Error($"{sp}.faults", fv, "must be a list"); return result.ToImmutable(); }
        for (int i = 0; i < list.Count; i++)
        {
            var fp = $"{sp}.faults[{i}]";
            if (list[i] is not Dictionary<string, object?> f) { r.Error(fp, list[i], "must be an object { wire, direction, match, nth | every, action }"); continue; }
            r.KnownKeys(f, fp, ["wire", .. RuleKeys]);
            int wire = WireIndex(r, f, fp, wires);
            var rule = ReadFaultRule(r, f, fp);
            if (wire >= 0 && rule is not null) result.Add(new WireFaultSettings(wire, rule));
        }
        return result.ToImmutable();
    }

    private static readonly string[] RuleKeys = ["direction", "match", "nth", "every", "action", "delay"];

    private static FaultRule? ReadFaultRule(Reader r, Dictionary<string, object?> f, string fp)
    {
        var direction = Direction(r, f, fp, bothAllowed: true);
        var match = FaultMatch.All;
        if (f.TryGetValue("match", out var mv))
        {
            if (mv is Dictionary<string, object?> m) match = ReadFaultMatch(r, m, $"{fp}.match");
            else r.Error($"{fp}.match", mv, "must be an object { proto, src, dst, sport, dport, tcp-flags, arp-op, icmp-type }");
        }
        long nth = f.ContainsKey("nth") ? r.Long(f, "nth", fp, 1, long.MaxValue) : 0;
        long every = f.ContainsKey("every") ? r.Long(f, "every", fp, 1, long.MaxValue) : 0;
        if (nth > 0 && every > 0) r.Error($"{fp}.every", f["every"], "a rule has either nth or every, not both");
        FaultAction? action = (f.GetValueOrDefault("action") as string) switch
        {
            "drop" => FaultAction.Drop,
            "corrupt" => FaultAction.Corrupt,
            "delay" => FaultAction.Delay,
            "duplicate" => FaultAction.Duplicate,
            _ => null,
        };
        if (action is null) { r.Error($"{fp}.action", f.GetValueOrDefault("action"), "must be drop, corrupt, delay or duplicate"); return null; }
        var delay = TimeSpan.Zero;
        if (action == FaultAction.Delay)
        {
            delay = r.Duration(f, "delay", fp);
            if (delay <= TimeSpan.Zero && f.ContainsKey("delay")) r.Error($"{fp}.delay", f.GetValueOrDefault("delay"), "a delay rule needs a delay > 0");
        }
        else if (f.ContainsKey("delay")) r.Error($"{fp}.delay", f["delay"], "only a delay rule takes a delay");
        return new FaultRule(match, action.Value) { Direction = direction, Nth = nth, Every = every, Delay = delay };
    }

    private static FaultMatch ReadFaultMatch(Reader r, Dictionary<string, object?> m, string mp)
    {
        r.KnownKeys(m, mp, ["proto", "src", "dst", "sport", "dport", "tcp-flags", "tcp-seq", "arp-op", "icmp-type"]);
        var proto = (m.GetValueOrDefault("proto") as string) switch
        {
            null or "any" => FaultProto.Any,
            "arp" => FaultProto.Arp,
            "icmp" => FaultProto.Icmp,
            "udp" => FaultProto.Udp,
            "tcp" => FaultProto.Tcp,
            _ => (FaultProto?)null,
        };
        if (proto is null) { r.Error($"{mp}.proto", m["proto"], "must be any, arp, icmp, udp or tcp"); proto = FaultProto.Any; }
        var match = new FaultMatch { Proto = proto.Value };

        Ipv4Prefix? Prefix(string key)
        {
            if (!m.TryGetValue(key, out var v)) return null;
            if (v is string s && Ipv4Prefix.TryParse(s, out var p)) return p;
            r.Error($"{mp}.{key}", v, "must be an IPv4 address or prefix such as 10.0.0.2 or 10.0.0.0/24");
            return null;
        }
        ushort? Port(string key) => m.ContainsKey(key) ? (ushort)r.Int(m, key, mp, 0, 65535) : null;
        match = match with { Src = Prefix("src"), Dst = Prefix("dst"), Sport = Port("sport"), Dport = Port("dport") };
        if ((match.Sport is not null || match.Dport is not null) && proto is not (FaultProto.Udp or FaultProto.Tcp))
            r.Error($"{mp}.proto", m.GetValueOrDefault("proto"), "ports match udp or tcp only");

        if (m.TryGetValue("tcp-flags", out var tf))
        {
            if (proto != FaultProto.Tcp) r.Error($"{mp}.tcp-flags", tf, "needs proto = tcp");
            if (tf is string ts && TryTcpFlags(ts, out var comp, out var mask)) match = match with { TcpFlags = comp, TcpFlagsMask = mask };
            else r.Error($"{mp}.tcp-flags", tf, "must be flags such as \"syn,ack\" (exactly these of fin,syn,rst,ack) or iptables' \"MASK COMP\" (\"syn,ack,fin,rst syn\")");
        }
        if (m.TryGetValue("tcp-seq", out var sq))
        {
            // "FIRST-LAST" or one number: segments whose sequence number lies in the range (sequence space, may wrap).
            if (proto != FaultProto.Tcp) r.Error($"{mp}.tcp-seq", sq, "needs proto = tcp");
            if (TrySeqRange(Convert.ToString(sq, System.Globalization.CultureInfo.InvariantCulture), out var first, out var last))
                match = match with { TcpSeqFirst = first, TcpSeqLast = last };
            else r.Error($"{mp}.tcp-seq", sq, "must be a sequence number or a range FIRST-LAST of numbers 0-4294967295");
        }
        if (m.TryGetValue("arp-op", out var ao))
        {
            if (proto != FaultProto.Arp) r.Error($"{mp}.arp-op", ao, "needs proto = arp");
            ushort? op = (ao as string) switch { "request" or "1" => 1, "reply" or "2" => 2, _ => null };
            if (op is null) r.Error($"{mp}.arp-op", ao, "must be request or reply");
            match = match with { ArpOp = op };
        }
        if (m.ContainsKey("icmp-type"))
        {
            if (proto != FaultProto.Icmp) r.Error($"{mp}.icmp-type", m["icmp-type"], "needs proto = icmp");
            match = match with { IcmpType = (byte)r.Int(m, "icmp-type", mp, 0, 255) };
        }
        return match;
    }

    public static bool TrySeqRange(string? s, out uint first, out uint last)
    {
        first = last = 0;
        if (string.IsNullOrWhiteSpace(s)) return false;
        var parts = s.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length is < 1 or > 2 || !uint.TryParse(parts[0], out first)) return false;
        if (parts.Length == 1) { last = first; return true; }
        return uint.TryParse(parts[1], out last);
    }

    /// <summary>
    /// "syn,ack": exactly these among FIN, SYN, RST and ACK (the bits that make a segment's kind; PSH/URG/ECE/CWR
    /// ignored). "MASK COMP" (two lists): as iptables' <c>--tcp-flags</c>; "all" and "none" as there.
    /// </summary>
    public static bool TryTcpFlags(string s, out TcpFlags comp, out TcpFlags mask)
    {
        comp = mask = TcpFlags.None;
        var parts = s.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2) return false;
        if (!TryFlagList(parts[^1], out comp)) return false;
        if (parts.Length == 2) return TryFlagList(parts[0], out mask);
        mask = TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Ack;
        return (comp & ~mask) == 0;
    }

    private static bool TryFlagList(string list, out TcpFlags flags)
    {
        flags = TcpFlags.None;
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            switch (name)
            {
                case "fin": flags |= TcpFlags.Fin; break;
                case "syn": flags |= TcpFlags.Syn; break;
                case "rst": flags |= TcpFlags.Rst; break;
                case "psh": flags |= TcpFlags.Psh; break;
                case "ack": flags |= TcpFlags.Ack; break;
                case "urg": flags |= TcpFlags.Urg; break;
                case "ece": flags |= TcpFlags.Ece; break;
                case "cwr": flags |= TcpFlags.Cwr; break;
                case "all": flags |= (TcpFlags)0xFF; break;
                case "none": break;
                default: return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The driver supervision keys of <c>device-defaults</c> (they apply to every NIC; a device cannot override them):
    /// <c>reset-limit</c> 0–1000, <c>reset-window</c> &gt; 0, <c>watchdog-timeo</c> &gt; 0, <c>link-up-delay</c> ≥ 0.
    /// </summary>
    private static DeviceSupervisionSettings ReadSupervision(Reader r, Dictionary<string, object?> dd, string path)
    {
        int limit = r.Int(dd, "reset-limit", path, 0, 1000);
        var window = r.Duration(dd, "reset-window", path);
        var timeo = r.Duration(dd, "watchdog-timeo", path);
        var upDelay = r.Duration(dd, "link-up-delay", path);
        if (window <= TimeSpan.Zero && dd.GetValueOrDefault("reset-window") is string ws && Reader.TryDuration(ws, out _))
            r.Error($"{path}.reset-window", ws, "must be > 0");
        if (timeo <= TimeSpan.Zero && dd.GetValueOrDefault("watchdog-timeo") is string ts && Reader.TryDuration(ts, out _))
            r.Error($"{path}.watchdog-timeo", ts, "must be > 0");
        return new DeviceSupervisionSettings(limit, window, timeo, upDelay);
    }

    /// <summary>The configuration's name of a device fault kind (<c>tx-hang</c>, <c>irq-handler</c>, ...).</summary>
    public static string DriverFaultKindName(DriverFaultKind k) => k switch
    {
        DriverFaultKind.IrqHandler => "irq-handler",
        DriverFaultKind.NapiPoll => "napi-poll",
        DriverFaultKind.Transmit => "transmit",
        DriverFaultKind.RxRingStall => "rx-ring-stall",
        DriverFaultKind.TxHang => "tx-hang",
        DriverFaultKind.IrqLoss => "irq-loss",
        _ => k.ToString(),
    };

    private static readonly DriverFaultKind[] DriverFaultKinds = Enum.GetValues<DriverFaultKind>();

    /// <summary>
    /// The device a schedule entry names as "host/dev": a configured host and one of its NICs (<c>lo</c> too when
    /// <paramref name="loopbackOk"/>). Null, with an error under <c>.device</c>, otherwise.
    /// </summary>
    private static (string Host, string Device)? DeviceRef(Reader r, Dictionary<string, object?> e, string ep,
        ImmutableArray<HostSettings> hosts, bool loopbackOk)
    {
        var v = e.GetValueOrDefault("device");
        if (v is not string s || s.Split('/') is not [var hn, var dn] || hn.Length == 0 || dn.Length == 0)
        {
            r.Error($"{ep}.device", v, "must name a device as \"host/dev\", such as \"h2/eth0\"");
            return null;
        }
        var host = NameIndex.Find(hosts, hn);
        if (host is null)
        {
            r.Error($"{ep}.device", s, $"no host {hn} (known: {string.Join(", ", hosts.Select(h => h.Name))})");
            return null;
        }
        if (dn == "lo")
        {
            if (loopbackOk) return (hn, dn);
            r.Error($"{ep}.device", s, "lo has no NIC driver: device faults are on NICs only");
            return null;
        }
        if (host.Devices.All(d => d.Name != dn))
        {
            r.Error($"{ep}.device", s, $"host {hn} has no device {dn} (known: {string.Join(", ", host.Devices.Select(d => d.Name))})");
            return null;
        }
        return (hn, dn);
    }

    private static ImmutableArray<ScheduledFault> ReadSchedule(Reader r, Dictionary<string, object?> sc, string sp,
        ImmutableArray<WireSettings> wires, ImmutableArray<HostSettings> hosts)
    {
        var result = new List<ScheduledFault>();
        if (!sc.TryGetValue("schedule", out var sv) || sv is null) return [];
        if (sv is not List<object?> list) { r.Error($"{sp}.schedule", sv, "must be a list"); return []; }
        for (int i = 0; i < list.Count; i++)
        {
            var ep = $"{sp}.schedule[{i}]";
            if (list[i] is not Dictionary<string, object?> e) { r.Error(ep, list[i], "must be an object { at, action, ... }"); continue; }
            if (ReadScheduleEntry(r, e, ep, wires, hosts) is { } entry) result.Add(entry with { Index = i });
        }
        // A stable sort: entries at the same time run in the order written.
        return [.. result.OrderBy(x => x.At)];
    }

    /// <summary>One schedule entry by its <c>action</c>; each action lists its own keys.</summary>
    private static ScheduledFault? ReadScheduleEntry(Reader r, Dictionary<string, object?> e, string ep, ImmutableArray<WireSettings> wires,
        ImmutableArray<HostSettings> hosts)
    {
        var at = r.Duration(e, "at", ep);
        var action = e.GetValueOrDefault("action") as string;
        switch (action)
        {
            case "cut" or "restore":
            {
                r.KnownKeys(e, ep, ["at", "action", "wire"]);
                int w = WireIndex(r, e, ep, wires);
                if (w < 0) return null;
                return action == "cut" ? new CutWireFault(at, w, wires[w].Name) : new RestoreWireFault(at, w, wires[w].Name);
            }
            case "netem":
            {
                r.KnownKeys(e, ep, ["at", "action", "wire", "direction", "netem"]);
                int w = WireIndex(r, e, ep, wires);
                var dir = Direction(r, e, ep, bothAllowed: false);
                var spec = e.GetValueOrDefault("netem");
                if (spec is not string s) { r.Error($"{ep}.netem", spec, "must be tc-netem options (\"\" clears netem)"); return null; }
                if (w < 0 || dir is null) return null;
                return new SetWireNetemFault(at, w, wires[w].Name, dir.Value, s.Trim());
            }
            case "faults":
            {
                r.KnownKeys(e, ep, ["at", "action", "wire", "rules"]);
                int w = WireIndex(r, e, ep, wires);
                var rules = ImmutableArray.CreateBuilder<FaultRule>();
                if (e.GetValueOrDefault("rules") is List<object?> rl)
                {
                    for (int j = 0; j < rl.Count; j++)
                    {
                        var rp = $"{ep}.rules[{j}]";
                        if (rl[j] is not Dictionary<string, object?> rd) { r.Error(rp, rl[j], "must be an object { direction, match, nth | every, action }"); continue; }
                        r.KnownKeys(rd, rp, RuleKeys);
                        if (ReadFaultRule(r, rd, rp) is { } rule) rules.Add(rule);
                    }
                }
                else r.Error($"{ep}.rules", e.GetValueOrDefault("rules"), "must be a list of rules ([] removes them all)");
                if (w < 0) return null;
                return new SetWireFaultsFault(at, w, wires[w].Name, rules.ToImmutable());
            }
            case "crash":
            {
                r.KnownKeys(e, ep, ["at", "action", "device"]);
                return DeviceRef(r, e, ep, hosts, loopbackOk: false) is { } d ? new CrashDriverFault(at, d.Host, d.Device) : null;
            }
            case "fault":
            {
                r.KnownKeys(e, ep, ["at", "action", "device", "kind", "probability", "once"]);
                var dev = DeviceRef(r, e, ep, hosts, loopbackOk: false);
                var kv = e.GetValueOrDefault("kind");
                DriverFaultKind? kind = DriverFaultKinds.Where(k => DriverFaultKindName(k) == kv as string).Select(k => (DriverFaultKind?)k).FirstOrDefault();
                if (kind is null)
                    r.Error($"{ep}.kind", kv, $"must be one of {string.Join(", ", DriverFaultKinds.Select(DriverFaultKindName))}");
                double p = 1.0;
                if (e.GetValueOrDefault("probability") is { } pv)
                {
                    if (pv is not string ps || !double.TryParse(ps, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out p)
                        || !(p > 0 && p <= 1))
                    {
                        r.Error($"{ep}.probability", pv, "must be a number in (0, 1]");
                        p = 1.0;
                    }
                    else if (kind is DriverFaultKind.RxRingStall or DriverFaultKind.TxHang or DriverFaultKind.IrqLoss && p != 1.0)
                        r.Error($"{ep}.probability", pv, $"{DriverFaultKindName(kind.Value)} takes effect at once; probability is for irq-handler, napi-poll and transmit");
                }
                bool once = !e.ContainsKey("once") || r.Bool(e, "once", ep);
                if (dev is not { } d || kind is null) return null;
                return new DriverFaultScheduled(at, d.Host, d.Device, kind.Value, p, once);
            }
            case "link-down" or "link-up":
            {
                r.KnownKeys(e, ep, ["at", "action", "device"]);
                return DeviceRef(r, e, ep, hosts, loopbackOk: true) is { } d ? new LinkAdminFault(at, d.Host, d.Device, action == "link-up") : null;
            }
            default:
                r.Error($"{ep}.action", action, "must be cut, restore, netem, faults, crash, fault, link-down or link-up");
                return null;
        }
    }
}
