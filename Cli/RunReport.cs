using ActorStack.Actors.Cluster;
using ActorStack.Actors.Simulation;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Cli;

/// <summary>
/// The end-of-run report of <c>run</c>, from what was gathered (<see cref="ClusterReport"/>: every host's, switch's and
/// wire's figures, every workload's status, every capture's flush), whether one process asked its actors or the partitions
/// of a distributed run asked theirs: the same data print the same text. <c>--report full</c> prints every host's
/// tables; <c>summary</c> the aggregate (<see cref="SummaryReport"/>).
/// </summary>
public static class RunReport
{
    public static string Text(StackSettings settings, ClusterReport d, bool full)
    {
        var w = new StringWriter();
        Print(settings, d, full, w);
        return w.ToString();
    }

    public static void Print(StackSettings settings, ClusterReport d, bool full, TextWriter o)
    {
        var report = full ? o : TextWriter.Null;
        foreach (var h in d.Hosts)
        {
            var stats = h.Stats;
            report.WriteLine($"\n===== host {h.Host} =====");
            report.WriteLine("--- ip -s -s link");
            report.Write(Report.IpSLink(stats));
            report.WriteLine("--- tc -s qdisc");
            report.Write(Report.TcQdisc(stats));
            report.WriteLine("--- ip route");
            report.Write(ScenarioCheck.BuildFib(settings.Host(h.Host)).Format());
            if (!h.Netfilter.Rules.IsEmpty)
            {
                report.WriteLine("--- iptables -v (packets matched per rule)");
                foreach (var r in h.Netfilter.Rules) report.WriteLine($"{r.Packets,10}  {Topology.IptablesRule(r.Rule)}");
            }
            report.WriteLine("--- ip neigh");
            report.Write(h.Neighbours.Text);
            report.WriteLine("--- /proc/net/softnet_stat");
            report.Write(Report.SoftnetStat(stats));
            report.WriteLine("--- /proc/net/snmp");
            report.Write(Report.Snmp(stats));
            report.WriteLine("--- drops (dropwatch)");
            report.Write(Report.Drops(stats));
            report.WriteLine("--- ss -uanm");
            report.Write(Report.Sockets(stats));
            report.WriteLine("--- ss -tanmi");
            report.Write(SsTcp.Format(SsQuery.Order(h.Tcp), stats.Sockets));
        }
        if (!full) o.Write(SummaryReport.Hosts([.. d.Hosts.Select(h => h.Stats)]));
        foreach (var sw in d.Switches)
        {
            report.WriteLine($"\n===== switch {sw.Switch} =====");
            report.Write(Report.Switch(sw.Stats));
            report.WriteLine("--- bridge fdb show");
            report.Write(sw.Fdb.Text.Length == 0 ? "  (no learned entries)\n" : sw.Fdb.Text);
        }
        if (!full && d.Switches.Length > 0) o.Write(SummaryReport.Switches([.. d.Switches.Select(s => s.Stats)]));
        o.WriteLine("\n===== wires =====");
        var allWires = new List<(string Name, WireStats Stats)>();
        for (int i = 0; i < d.Wires.Length; i++)
        {
            if (d.Wires[i] is not { } w) continue;
            allWires.Add((settings.Wires[i].ToString(), w));
            report.WriteLine($"{settings.Wires[i]}: {w.AToB} frames a->b, {w.BToA} b->a, {w.Dropped} dropped");
            foreach (var (dir, x) in new[] { ("a->b", w.AToBDetail), ("b->a", w.BToADetail) })
                if (x is not null && (x.Dropped > 0 || x.Duplicated > 0 || x.Corrupted > 0 || x.Reordered > 0 || x.InFlight > 0))
                    report.WriteLine($"  {dir}: offered {x.Offered} delivered {x.Delivered} in flight {x.InFlight} duplicated {x.Duplicated} " +
                                     $"corrupted {x.Corrupted} reordered {x.Reordered} ecn {x.EcnMarked}" +
                                     string.Concat(x.Drops.Select(y => $" {y.Key} {y.Value}")));
        }
        if (!full)
        {
            o.WriteLine($"{allWires.Count} wires: {allWires.Sum(w => w.Stats.AToB)} frames a->b, {allWires.Sum(w => w.Stats.BToA)} b->a, " +
                        $"{allWires.Sum(w => w.Stats.Dropped)} dropped");
            foreach (var (wn, w) in allWires.Where(w => w.Stats.Dropped > 0).OrderByDescending(w => w.Stats.Dropped).Take(SummaryReport.TopHosts))
                o.WriteLine($"  {wn}: {w.Dropped} dropped");
        }
        o.WriteLine("\n===== applications =====");
        var appLines = d.Apps.Select(AppLine).ToList();
        foreach (var line in full ? appLines : appLines.Take(SummaryReport.TopHosts)) o.WriteLine(line);
        if (!full && appLines.Count > SummaryReport.TopHosts)
            o.WriteLine($"... and {appLines.Count - SummaryReport.TopHosts} more applications (--report full prints them all; so does summary.json under --out)");
        foreach (var f in d.Captures)
            o.WriteLine($"capture: {f.Frames} frames written to {f.File}" + (f.Comments > 0 ? $", {f.Comments} with a cause" : "") +
                        (f.Dropped > 0 ? $" ({f.Dropped} copies dropped by the tap)" : ""));
    }

    /// <summary>One application line: a socket reader, pktgen, or a client or server (<see cref="Report.App"/>).</summary>
    public static string AppLine(object status) => status switch
    {
        SinkStatus st => $"udp-sink {st.Host} {st.Bind}: read {st.Datagrams} datagrams ({st.Bytes} bytes) from {st.Flows} flow(s), {st.OutOfOrder} out of order",
        PktgenStatus st => $"pktgen {st.Host}/{st.Device}: sent {st.Sent} of {st.Count} frames, {st.TxDropped} dropped at transmit",
        _ => Report.App(status),
    };
}
