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
        }
        return sb.ToString();
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
