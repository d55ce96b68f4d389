using System.Collections.Immutable;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// The end-of-run report of a distributed run, merged from every partition's <see cref="PartitionReport"/> into what a
/// single-node run gathers: hosts and switches by name, every wire's stats by index, the applications in the report's
/// order (socket readers, applications, pktgens, each by workload position), the captures by point.
/// </summary>
public sealed record ClusterReport(ImmutableArray<HostReport> Hosts, ImmutableArray<SwitchReport> Switches,
    ImmutableArray<WireStats?> Wires, ImmutableArray<object> Apps, ImmutableArray<CaptureFlushed> Captures)
{
    /// <summary>
    /// Merges the partitions' reports. A split wire's direction is put together as the whole wire counts it: the sending
    /// half's channel (offered, netem, fault rules, its drops) with the receiving side's crossing: delivered = the frames
    /// that reached the far end, SIM_LINK_DOWN += those the cable's cut caught while crossing (<c>WireChannel.Cut</c> drops
    /// the whole wire's propagating frames), in flight += those handed to the crossing that have not arrived yet.
    /// A wire nobody reported (both ends on a lost node) is null.
    /// </summary>
    public static ClusterReport Merge(StackSettings s, IEnumerable<PartitionReport> reports)
    {
        var list = reports.ToList();
        var hosts = list.SelectMany(r => r.Hosts).OrderBy(h => h.Host, StringComparer.Ordinal).ToImmutableArray();
        var switches = list.SelectMany(r => r.Switches).OrderBy(w => w.Switch, StringComparer.Ordinal).ToImmutableArray();
        var wires = new WireStats?[s.Wires.Length];
        foreach (var g in list.SelectMany(r => r.Wires).Where(w => w.Wire >= 0 && w.Wire < wires.Length).GroupBy(w => w.Wire))
        {
            if (g.FirstOrDefault(w => w.Whole is not null) is { Whole: { } whole })
            {
                wires[g.Key] = whole;
                continue;
            }
            var ab = Direction(g, WireDirection.AToB);
            var ba = Direction(g, WireDirection.BToA);
            wires[g.Key] = new WireStats(ab.Offered - ab.Dropped, ba.Offered - ba.Dropped, ab.Dropped, ba.Dropped) { AToBDetail = ab, BToADetail = ba };
        }
        var apps = list.SelectMany(r => r.Apps).OrderBy(a => a.Kind).ThenBy(a => a.Workload).Select(a => a.Status).ToImmutableArray();
        // A device = all point has a part on every partition: one line with the merged file and the parts' sums.
        var captures = list.SelectMany(r => r.Captures).GroupBy(c => c.Point).OrderBy(g => g.Key).Select(g => g.Count() == 1 && s.Captures[g.Key].Device != CaptureSettings.AllDevices
            ? g.First().Flushed
            : new CaptureFlushed(s.Captures[g.Key].File, g.Sum(c => c.Flushed.Frames), g.Sum(c => c.Flushed.Dropped)) { Comments = g.Sum(c => c.Flushed.Comments) })
            .ToImmutableArray();
        return new ClusterReport(hosts, switches, [.. wires], apps, captures);
    }

    private static readonly WireDirectionStats Nothing = new(0, 0, 0, 0, 0, 0, 0, ImmutableSortedDictionary<DropReason, long>.Empty);

    /// <summary>One direction of a split wire from its sending and receiving sides (a lost side counts nothing).</summary>
    public static WireDirectionStats Direction(IEnumerable<WireReport> parts, WireDirection d)
    {
        var sent = parts.FirstOrDefault(p => p.Direction == d && p.Sent is not null)?.Sent ?? Nothing;
        long arrived = 0, lost = 0;
        foreach (var p in parts.Where(p => p.Direction == d && p.Sent is null))
        {
            arrived += p.Arrived;
            lost += p.LostAtCut;
        }
        long crossing = sent.Delivered - arrived - lost; // handed to the crossing, not yet at the far end
        var drops = lost == 0 ? sent.Drops : sent.Drops.SetItem(DropReason.SIM_LINK_DOWN, sent.DroppedBy(DropReason.SIM_LINK_DOWN) + lost);
        return sent with { Delivered = arrived, InFlight = sent.InFlight + Math.Max(0, crossing), Drops = drops };
    }
}
