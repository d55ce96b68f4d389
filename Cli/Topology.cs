using System.Text;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Cli;

/// <summary>
/// <c>actorstack topology</c>: the scenario as the tools on each host would show it before anything runs —
/// devices (<c>ip link</c> / <c>ip addr</c>: ifindex, MAC, MTU, addresses, and what the device is cabled to),
/// forwarding, routes (<c>ip route</c>, from the FIB the host will start with), permanent neighbours
/// (<c>ip neigh</c>) and netfilter rules (<c>iptables -S</c>); then the switches with their ports, and the wires.
/// </summary>
public static class Topology
{
    public static string Format(StackSettings s)
    {
        var sb = new StringBuilder();
        var peerOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var w in s.Wires)
        {
            var a = $"{w.HostA}/{w.DeviceA}";
            var b = w.Tap is { } tap ? $"TAP {tap} (Linux kernel)" : $"{w.HostB}/{w.DeviceB}";
            peerOf[a] = b;
            if (w.Tap is null) peerOf[b] = a;
        }

        foreach (var h in s.Hosts)
        {
            sb.Append($"host {h.Name}: {h.Cpus} CPU(s), ip_forward {(h.Sysctl.IpForward ? 1 : 0)}")
              .AppendLine(h.Sysctl.IpForward ? " (router)" : "");
            var lo = NetNamespace.LoopbackSettings;
            sb.AppendLine($"  1: lo: mtu {lo.Mtu} link/loopback 00:00:00:00:00:00 {string.Join(' ', lo.Addresses.Select(a => $"inet {a}"))}");
            for (int i = 0; i < h.Devices.Length; i++)
            {
                var d = h.Devices[i];
                var line = new StringBuilder($"  {i + 2}: {d.Name}: mtu {d.Mtu} link/ether {d.Mac} qlen {d.TxQueueLen} speed {d.Speed}Mb/s");
                foreach (var a in d.Addresses) line.Append(" inet ").Append(a);
                line.Append(peerOf.TryGetValue($"{h.Name}/{d.Name}", out var peer) ? $" <-> {peer}" : " (no carrier: not cabled)");
                sb.AppendLine(line.ToString());
            }
            sb.AppendLine("  ip route:");
            foreach (var r in ScenarioCheck.BuildFib(h).Format().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                sb.Append("    ").AppendLine(r);
            if (h.Neighbours.Length > 0)
            {
                sb.AppendLine("  ip neigh:");
                foreach (var n in h.Neighbours) sb.AppendLine($"    {n.Address} dev {n.Device} lladdr {n.Mac} PERMANENT");
            }
            if (h.Netfilter.Length > 0)
            {
                sb.AppendLine("  iptables -S:");
                foreach (var r in h.Netfilter) sb.Append("    ").AppendLine(IptablesRule(r));
            }
        }

        foreach (var sw in s.Switches)
        {
            sb.AppendLine($"switch {sw.Name}: {sw.Ports} ports, ageing_time {sw.AgeingTime.TotalSeconds:0.###}s, fdb_max_learned {sw.FdbMaxLearned}, txqueuelen {sw.TxQueueLen}, speed {sw.Speed}Mb/s");
            for (int p = 1; p <= sw.Ports; p++)
                if (peerOf.TryGetValue($"{sw.Name}/port{p}", out var peer)) sb.AppendLine($"  port{p} <-> {peer}");
            int free = Enumerable.Range(1, sw.Ports).Count(p => !peerOf.ContainsKey($"{sw.Name}/port{p}"));
            if (free > 0) sb.AppendLine($"  {free} port(s) not cabled");
        }

        foreach (var w in s.Wires)
        {
            var b = w.Tap is { } tap ? $"TAP {tap}" : $"{w.HostB}/{w.DeviceB}";
            // The speed both ends settle on (autonegotiation: the lower); a TAP's other end is the real kernel.
            var speed = w.Tap is null ? $", speed {Math.Min(EndSpeed(s, w.HostA, w.DeviceA, w.SwitchPortA), EndSpeed(s, w.HostB, w.DeviceB, w.SwitchPortB))}Mb/s" : "";
            sb.AppendLine($"wire {w.HostA}/{w.DeviceA} <-> {b}, delay {w.Delay.TotalMilliseconds:0.###}ms{speed}");
            foreach (var line in WireFaults(s, w)) sb.Append("  ").AppendLine(line);
        }
        foreach (var line in ScheduleLines(s)) sb.AppendLine(line);
        return sb.ToString();
    }

    /// <summary>
    /// A wire's fault plan as the config writes it: netem per direction (<c>netem-a-to-b</c>, tc-netem's options) and the
    /// conditional fault rules of <c>scenario.faults</c> on it (<see cref="FaultRuleText"/>).
    /// </summary>
    public static IEnumerable<string> WireFaults(StackSettings s, WireSettings w)
    {
        int index = s.Wires.IndexOf(w);
        if (w.NetemAToB is { Length: > 0 } ab) yield return $"netem-a-to-b \"{ab}\" ({w.HostA}/{w.DeviceA} -> {w.HostB}/{w.DeviceB})";
        if (w.NetemBToA is { Length: > 0 } ba) yield return $"netem-b-to-a \"{ba}\" ({w.HostB}/{w.DeviceB} -> {w.HostA}/{w.DeviceA})";
        foreach (var f in s.Faults)
            if (f.Wire == index) yield return $"fault {FaultRuleText(f.Rule)}";
    }

    /// <summary>
    /// The fault schedule (<c>scenario.schedule</c>) in time order: <c>schedule:</c>, then one line per action with its
    /// <c>at</c> and the line the run prints for it (<see cref="ScheduledFault.Describe"/>); a <c>faults</c> action lists its rules.
    /// </summary>
    public static IEnumerable<string> ScheduleLines(StackSettings s)
    {
        if (s.Schedule.Length == 0) yield break;
        yield return "schedule:";
        foreach (var e in s.Schedule)
        {
            yield return $"  at {e.At.TotalSeconds.ToString("0.#########", System.Globalization.CultureInfo.InvariantCulture)}s: {e.Describe()}";
            if (e is SetWireFaultsFault sf)
                foreach (var r in sf.Rules) yield return $"    fault {FaultRuleText(r)}";
        }
    }

    /// <summary>
    /// A conditional fault rule in the words of <c>scenario.faults</c>:
    /// <c>direction a-to-b match { proto = tcp, tcp-flags = "fin,syn,rst,ack syn,ack" } nth 3 action drop</c>
    /// (tcp-flags as iptables' "MASK COMP"; no direction = both).
    /// </summary>
    public static string FaultRuleText(FaultRule r)
    {
        var m = r.Match;
        var keys = new List<string> { $"proto = {m.Proto.ToString().ToLowerInvariant()}" };
        if (m.Src is { } src) keys.Add($"src = \"{src}\"");
        if (m.Dst is { } dst) keys.Add($"dst = \"{dst}\"");
        if (m.Sport is { } sp) keys.Add($"sport = {sp}");
        if (m.Dport is { } dp) keys.Add($"dport = {dp}");
        if (m.TcpFlagsMask != TcpFlags.None) keys.Add($"tcp-flags = \"{Flags(m.TcpFlagsMask)} {Flags(m.TcpFlags)}\"");
        if (m.TcpSeqFirst is { } first) keys.Add(m.TcpSeqLast is { } last && last != first ? $"tcp-seq = \"{first}-{last}\"" : $"tcp-seq = {first}");
        if (m.ArpOp is { } op) keys.Add($"arp-op = {(op == 1 ? "request" : op == 2 ? "reply" : op.ToString())}");
        if (m.IcmpType is { } it) keys.Add($"icmp-type = {it}");
        var sb = new StringBuilder();
        if (r.Direction is { } d) sb.Append($"direction {StackConfig.DirectionName(d)} ");
        sb.Append($"match {{ {string.Join(", ", keys)} }}");
        if (r.Nth > 0) sb.Append($" nth {r.Nth}");
        else if (r.Every > 1) sb.Append($" every {r.Every}");
        sb.Append($" action {r.Action.ToString().ToLowerInvariant()}");
        if (r.Action == FaultAction.Delay) sb.Append($" delay {r.Delay.TotalSeconds.ToString("0.#########", System.Globalization.CultureInfo.InvariantCulture)}s");
        return sb.ToString();
    }

    private static string Flags(TcpFlags f)
    {
        if (f == TcpFlags.None) return "none";
        var names = Enum.GetValues<TcpFlags>().Where(x => x != TcpFlags.None && (f & x) == x).Select(x => x.ToString().ToLowerInvariant());
        return string.Join(',', names);
    }

    private static int EndSpeed(StackSettings s, string hostOrSwitch, string device, int? switchPort)
        => switchPort is null
            ? s.Host(hostOrSwitch).Devices.First(d => d.Name == device).Speed
            : s.Switches.First(x => x.Name == hostOrSwitch).Speed;

    /// <summary>One rule as <c>iptables -S</c> prints it.</summary>
    public static string IptablesRule(NfRule r)
    {
        var sb = new StringBuilder("-A ").Append(StackConfig.ChainName(r.Hook));
        if (r.Source is { } src) sb.Append(" -s ").Append(src);
        if (r.Destination is { } dst) sb.Append(" -d ").Append(dst);
        if (r.Protocol is { } p)
            sb.Append(" -p ").Append(p switch { IpProtocol.Udp => "udp", IpProtocol.Tcp => "tcp", IpProtocol.Icmp => "icmp", _ => p.ToString() });
        if (r.Protocol is IpProtocol.Udp or IpProtocol.Tcp && (r.SourcePort is not null || r.DestinationPort is not null))
            sb.Append(" -m ").Append(r.Protocol == IpProtocol.Udp ? "udp" : "tcp");
        if (r.SourcePort is { } sp) sb.Append(" --sport ").Append(sp);
        if (r.DestinationPort is { } dp) sb.Append(" --dport ").Append(dp);
        sb.Append(" -j ").Append(r.Verdict == NfVerdict.Drop ? "DROP" : "ACCEPT");
        return sb.ToString();
    }
}
