using System.Text;
using ActorStack.Messages;

namespace ActorStack.Cli;

/// <summary>
/// <c>run --report summary</c> (the default above <see cref="CommandLine.SummaryAboveHosts"/> hosts): the end-of-run
/// tables summed over all hosts instead of one set per host — every device's <c>ip -s link</c> and <c>tc -s qdisc</c>
/// counters, every CPU's <c>softnet_stat</c>, the SNMP MIBs, the drops by reason and place — then the 10 hosts with
/// the most drops. <c>summary.json</c> (<c>--out</c>) still holds every host.
/// </summary>
public static class SummaryReport
{
    /// <summary>The hosts the summary names (by drops, most first).</summary>
    public const int TopHosts = 10;

    public static string Hosts(IReadOnlyList<HostStats> hosts)
    {
        var sb = new StringBuilder();
        var devices = hosts.SelectMany(h => h.Devices).ToList();
        int nics = devices.Count(d => d.Name != "lo");
        sb.AppendLine($"\n===== {hosts.Count} hosts (summary; --report full prints each host) =====");
        sb.AppendLine($"--- ip -s -s link: {devices.Count} devices ({nics} NICs, {devices.Count(d => d.Name != "lo" && d.Up)} up), summed");
        long S(Func<LinkCounters, long> f) => devices.Sum(d => f(d.Counters));
        sb.AppendLine("    RX:  bytes packets errors dropped  missed   mcast");
        sb.AppendLine($"    {S(c => c.RxBytes),10} {S(c => c.RxPackets),7} {S(c => c.RxErrors),6} {S(c => c.RxDropped),7} {S(c => c.RxMissedErrors),7} {S(c => c.Multicast),7}");
        sb.AppendLine("    RX errors:  length    crc   frame    fifo overrun");
        sb.AppendLine($"    {S(c => c.RxLengthErrors),15} {S(c => c.RxCrcErrors),6} {0,7} {S(c => c.RxFifoErrors),7} {0,7}");
        sb.AppendLine("    TX:  bytes packets errors dropped carrier collsns");
        sb.AppendLine($"    {S(c => c.TxBytes),10} {S(c => c.TxPackets),7} {S(c => c.TxErrors),6} {S(c => c.TxDropped),7} {S(c => c.TxCarrierErrors),7} {S(c => c.Collisions),7}");
        var q = devices.Select(d => d.Qdisc).OfType<QdiscStats>().ToList();
        sb.AppendLine($"--- tc -s qdisc: {q.Count} pfifo_fast root qdiscs, summed");
        sb.AppendLine($" Sent {q.Sum(x => x.Bytes)} bytes {q.Sum(x => x.Packets)} pkt (dropped {q.Sum(x => x.Drops)}, overlimits {q.Sum(x => x.Overlimits)} requeues {q.Sum(x => x.Requeues)})");
        sb.AppendLine($" backlog {q.Sum(x => x.Backlog)}p, tx queue stopped {q.Sum(x => x.TxQueueStopped)}, restarted {q.Sum(x => x.TxRestartQueue)}");
        var cpus = hosts.SelectMany(h => h.Softnet).ToList();
        sb.AppendLine($"--- /proc/net/softnet_stat: {cpus.Count} CPUs, summed");
        sb.AppendLine("  processed   dropped  time_squeeze  received_rps  flow_limit  input_qlen");
        sb.AppendLine($"{cpus.Sum(c => c.Processed),11} {cpus.Sum(c => c.Dropped),9} {cpus.Sum(c => c.TimeSqueeze),13} {cpus.Sum(c => c.ReceivedRps),13} " +
                      $"{cpus.Sum(c => c.FlowLimitCount),11} {cpus.Sum(c => (long)c.InputQlen),11}");
        sb.AppendLine("--- /proc/net/snmp, summed over hosts (settings, not counters: the hosts' value, * where they differ)");
        foreach (var m in Sum(hosts).Snmp)
        {
            sb.AppendLine($"{m.Name}: {string.Join(' ', m.Counters.Select(c => c.Key))}");
            sb.AppendLine($"{m.Name}: {string.Join(' ', m.Counters.Select(c => Setting(hosts, m.Name, c.Key) ?? c.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)))}");
        }
        sb.AppendLine("--- drops (dropwatch), summed over hosts");
        var drops = hosts.SelectMany(h => h.Drops).GroupBy(d => d.Site)
                         .Select(g => new DropCount(g.Key, g.Sum(d => d.Packets)))
                         .OrderByDescending(d => d.Packets).ThenBy(d => d.Site.Reason.ToString(), StringComparer.Ordinal)
                         .ThenBy(d => d.Site.Location, StringComparer.Ordinal).ToList();
        if (drops.Count == 0) sb.AppendLine("  (no drops)");
        else
        {
            sb.AppendLine($"  {"reason",-22} {"location",-16} {"packets",10} {"hosts",6}");
            foreach (var d in drops)
                sb.AppendLine($"  {d.Site.Reason,-22} {d.Site.Location,-16} {d.Packets,10} {hosts.Count(h => h.Drops.Any(x => x.Site == d.Site && x.Packets > 0)),6}");
        }
        sb.Append(TopByDrops(hosts));
        return sb.ToString();
    }

    /// <summary>The <see cref="TopHosts"/> hosts with the most drops (ties by name), each with its first reason.</summary>
    public static string TopByDrops(IReadOnlyList<HostStats> hosts)
    {
        var sb = new StringBuilder();
        var top = hosts.Where(h => h.TotalDrops > 0).OrderByDescending(h => h.TotalDrops).ThenBy(h => h.Host, StringComparer.Ordinal).Take(TopHosts).ToList();
        sb.AppendLine($"--- top {TopHosts} hosts by drops");
        if (top.Count == 0) { sb.AppendLine("  (no drops)"); return sb.ToString(); }
        sb.AppendLine($"  {"host",-16} {"drops",10}  most by");
        foreach (var h in top)
        {
            var most = h.Drops.GroupBy(d => d.Site.Reason).Select(g => (Reason: g.Key, Packets: g.Sum(d => d.Packets)))
                              .OrderByDescending(x => x.Packets).ThenBy(x => x.Reason.ToString(), StringComparer.Ordinal).First();
            sb.AppendLine($"  {h.Host,-16} {h.TotalDrops,10}  {most.Reason} {most.Packets}");
        }
        return sb.ToString();
    }

    /// <summary>The fields of <c>/proc/net/snmp</c> that are settings, not counters (<c>snmp_seq_show_ipstats</c>, <c>tcp_mib</c>'s RTO fields).</summary>
    private static readonly HashSet<(string, string)> Settings =
        [("Ip", "Forwarding"), ("Ip", "DefaultTTL"), ("Tcp", "RtoAlgorithm"), ("Tcp", "RtoMin"), ("Tcp", "RtoMax"), ("Tcp", "MaxConn")];

    /// <summary>A setting's value when every host that has it agrees, <c>*</c> where they differ; null for a counter.</summary>
    private static string? Setting(IReadOnlyList<HostStats> hosts, string mib, string field)
    {
        if (!Settings.Contains((mib, field))) return null;
        var values = hosts.SelectMany(h => h.Snmp.Where(m => m.Name == mib)).SelectMany(m => m.Counters.Where(c => c.Key == field)).Select(c => c.Value).Distinct().ToList();
        return values.Count == 1 ? values[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : "*";
    }

    /// <summary>The hosts' MIBs summed counter by counter (MIBs and counters in the order of their first appearance).</summary>
    private static HostStats Sum(IReadOnlyList<HostStats> hosts)
    {
        var mibs = new List<(string Name, List<string> Keys, Dictionary<string, long> Values)>();
        foreach (var m in hosts.SelectMany(h => h.Snmp))
        {
            var acc = mibs.FirstOrDefault(x => x.Name == m.Name);
            if (acc.Name is null) mibs.Add(acc = (m.Name, [], []));
            foreach (var (k, v) in m.Counters)
            {
                if (!acc.Values.ContainsKey(k)) { acc.Keys.Add(k); acc.Values[k] = 0; }
                acc.Values[k] += v;
            }
        }
        var snmp = mibs.Select(m => new MibSnapshot(m.Name, [.. m.Keys.Select(k => new KeyValuePair<string, long>(k, m.Values[k]))])).ToArray();
        return new HostStats("all", [], [], [.. snmp], [], []);
    }

    /// <summary>Switches summed: frames in, forwarded, flooded, dropped.</summary>
    public static string Switches(IReadOnlyList<SwitchStatsSnapshot> switches)
        => $"\n===== {switches.Count} switches (summary) =====\n" +
           $"  rx {switches.Sum(s => s.RxFrames)} forwarded {switches.Sum(s => s.Forwarded)} flooded {switches.Sum(s => s.Flooded)} " +
           $"dropped {switches.Sum(s => s.Dropped)} (invalid {switches.Sum(s => s.DroppedInvalid)}, same port {switches.Sum(s => s.DroppedSamePort)})" +
           $", port tx_dropped {switches.Sum(s => s.Ports.Sum(p => p.TxDropped))}, rx_fifo {switches.Sum(s => s.Ports.Sum(p => p.RxFifoDropped))}\n";
}
