using System.Collections.Immutable;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// A partition's end-of-run counters in pages (<see cref="CollectCounters.Page"/>): page k holds elements
/// [k × <see cref="CollectCounters.PageSize"/>, (k + 1) × PageSize) of every list of <see cref="PartitionCounters"/> and
/// its <see cref="PartitionReport"/> (the cross-node drops, the files and the capture parts whole, on page 0); <see cref="Join"/> puts the pages
/// back together in order, so the coordinator sees what one message would have carried.
/// </summary>
public static class CounterPages
{
    public static PartitionCounters Page(PartitionCounters all, int page, int size = CollectCounters.PageSize)
    {
        int from = checked(page * size);
        ImmutableArray<T> Slice<T>(ImmutableArray<T> a) => from >= a.Length ? [] : a.Slice(from, Math.Min(size, a.Length - from));
        bool More<T>(ImmutableArray<T> a) => a.Length > from + size;
        var r = all.Report;
        return new PartitionCounters(all.Node, Slice(all.Hosts), page == 0 ? all.CrossDrops : [], page == 0 ? all.Files : [])
        {
            Report = r is null ? null : new PartitionReport(r.Node, Slice(r.Hosts), Slice(r.Switches), Slice(r.Wires), Slice(r.Apps), Slice(r.Captures)),
            CaptureParts = page == 0 ? all.CaptureParts : [],
            More = More(all.Hosts) || (r is not null && (More(r.Hosts) || More(r.Switches) || More(r.Wires) || More(r.Apps) || More(r.Captures))),
        };
    }

    /// <summary>Pages 0, 1, … of one partition, in order, as one <see cref="PartitionCounters"/>.</summary>
    public static PartitionCounters Join(IReadOnlyList<PartitionCounters> pages)
    {
        var first = pages[0];
        if (pages.Count == 1) return first with { More = false };
        var reports = pages.Select(p => p.Report).ToList();
        PartitionReport? report = reports.Any(r => r is null) ? null : new PartitionReport(first.Report!.Node,
            [.. reports.SelectMany(r => r!.Hosts)], [.. reports.SelectMany(r => r!.Switches)], [.. reports.SelectMany(r => r!.Wires)],
            [.. reports.SelectMany(r => r!.Apps)], [.. reports.SelectMany(r => r!.Captures)]);
        return new PartitionCounters(first.Node, [.. pages.SelectMany(p => p.Hosts)], first.CrossDrops, first.Files) { Report = report, CaptureParts = first.CaptureParts };
    }
}
