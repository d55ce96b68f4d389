using System.Collections.Immutable;
using ActorStack.Config;
using ActorStack.Hardware.Capture;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>How the coordinator reaches one partition: in this process (<see cref="LocalPartitionLink"/>) or on a node.</summary>
public interface IPartitionLink
{
    string Node { get; }
    /// <summary>Sends one message of the window protocol and completes with the answer; faults when the node is lost.</summary>
    Task<object> Send(object message);
}

/// <summary>A partition in this process, run on a thread-pool thread per call (partitions of one window run in parallel).</summary>
public sealed class LocalPartitionLink(string node, string? expectedScenarioHash = null, Func<TimeSpan>? wallClock = null) : IPartitionLink, IDisposable
{
    private readonly PartitionHost _host = new(node, expectedScenarioHash, wallClock);
    public string Node => node;
    public PartitionHost Host => _host;
    public Task<object> Send(object message) => Task.Run(() => _host.Handle(message));
    public void Dispose() => _host.Dispose();
}

/// <summary>A node left during the run (unreachable, then downed; or its process ended).</summary>
public sealed class NodeLostException(string node, string detail) : Exception($"node {node} was lost: {detail}")
{
    public string Node => node;
}

/// <summary>The outcome of a distributed run: every host's counters, the crossing's drops, and the synchronisation's cost.</summary>
public sealed record ClusterRunResult(
    ImmutableSortedDictionary<string, string> HostCounters,
    ImmutableSortedDictionary<string, long> CrossDrops,
    ImmutableArray<string> Files,
    long Windows, long FramesCrossed, long Events, long StartNs, long EndNs,
    TimeSpan Wall, TimeSpan SyncWall, string? Error)
{
    /// <summary>Wall time to place every partition and reach the start of the workloads.</summary>
    public TimeSpan StartWall { get; init; }
    /// <summary>Wall time of the windows (the run proper).</summary>
    public TimeSpan RunWall { get; init; }
    /// <summary>Engine events each node ran during the windows.</summary>
    public ImmutableSortedDictionary<string, long> EventsByNode { get; init; } = ImmutableSortedDictionary<string, long>.Empty;
    /// <summary>The end-of-run report merged from the surviving partitions (<see cref="ClusterReport.Merge"/>).</summary>
    public ClusterReport? Report { get; init; }
    /// <summary>The run was on the real clock (<see cref="RealTimeCoordinator"/>): no windows; a lost node did not stop it.</summary>
    public bool RealClock { get; init; }
    /// <summary>The real clock: the nodes lost during the run, when (after the workloads started) and how.</summary>
    public ImmutableArray<NodeLoss> Lost { get; init; } = [];
}

/// <summary>
/// Drives the partitions of one scenario through the windows of the conservative synchronisation (a barrier per window):
/// places every partition, starts the workloads at the latest partition's ready instant, then repeats: each partition runs
/// every event before the window's end and reports the frames that left it; the coordinator routes each to the node of
/// the wire's far end for the next window. A window is [start, start + lookahead), where start is the earliest event left
/// anywhere (an idle stretch costs one round, not one per lookahead). Losing a node stops the run (virtual time cannot go
/// on without it): the survivors cut their wires to it (carrier down), frames on the way count as SIM_NODE_LOST, and
/// the result carries the counters so far and the error.
/// </summary>
public sealed class WindowCoordinator(StackSettings settings, ClusterPlan plan, string configText)
{
    public StackSettings Settings => settings;

    /// <summary>
    /// The control plane's clock for the wall-time figures of the result (start, run, synchronisation): its actor
    /// system's scheduler (<c>MonotonicClock</c>), or the bench's and CLI's own; null: those figures are zero.
    /// </summary>
    public Func<TimeSpan>? WallClock { get; init; }

    /// <summary>Called after each window with its number (progress; tests stop a node there).</summary>
    public Action<long>? OnWindow { get; init; }
    public ClusterPlan Plan => plan;

    /// <summary>Runs the scenario for <paramref name="duration"/> of simulated time after the workloads start.</summary>
    public async Task<ClusterRunResult> Run(IReadOnlyList<IPartitionLink> links, TimeSpan duration)
    {
        var origin = WallClock?.Invoke() ?? TimeSpan.Zero;
        TimeSpan Elapsed() => WallClock is null ? TimeSpan.Zero : WallClock() - origin;
        var syncWall = TimeSpan.Zero;
        var byNode = links.ToDictionary(l => l.Node, StringComparer.Ordinal);
        var missing = plan.Nodes.Where(n => !byNode.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw new ClusterPlanException($"no partition link for node(s) {string.Join(", ", missing)}");

        var placement = plan.Placement.Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value)).ToImmutableArray();
        var ready = await All(links, l => new PlacePartition(l.Node, configText, placement));
        long start = ready.Select(r => r switch
        {
            PartitionReady p => p.ReadyNs,
            NodeRefused f => throw new ClusterPlanException(f.Reason),
            _ => throw new ClusterPlanException($"unexpected answer {r}"),
        }).Max();
        long end = checked(start + SimEngineNs(duration));
        var startWall = Elapsed();
        long look = plan.LookaheadNs;
        var inbound = links.ToDictionary(l => l.Node, _ => new List<CrossFrame>(), StringComparer.Ordinal);
        long windows = 0, crossed = 0, events = 0, at = start;
        var eventsByNode = ImmutableSortedDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        string? error = null;
        string? lost = null;
        try
        {
            while (at < end)
            {
                long we = look == long.MaxValue || at > end - look ? end : at + look;
                long window = windows;
                var t0 = Elapsed();
                var done = await All(links, l => new RunWindow(window, start, we, [.. inbound[l.Node]]));
                var t1 = Elapsed();
                // The barrier's cost: the window's wall time beyond its slowest partition's own work.
                long slowest = done.OfType<WindowDone>().Select(d => d.WallNs).DefaultIfEmpty(0).Max();
                syncWall += (t1 - t0) - TimeSpan.FromTicks(Math.Min((t1 - t0).Ticks, slowest / 100));
                foreach (var list in inbound.Values) list.Clear();
                long next = long.MaxValue;
                foreach (var d in done)
                {
                    if (d is NodeRefused refused) throw new ClusterPlanException(refused.Reason);
                    var w = (WindowDone)d;
                    events += w.Events;
                    eventsByNode[w.Node] = eventsByNode.GetValueOrDefault(w.Node) + w.Events;
                    next = Math.Min(next, w.NextDueNs);
                    foreach (var f in w.Outbound)
                    {
                        var c = plan.Cross(f.Wire) ?? throw new ClusterPlanException($"node {w.Node} sent a frame on wire {f.Wire}, which is not split");
                        string to = f.Direction == WireDirection.AToB ? c.NodeB : c.NodeA;
                        if (f.ArrivalNs < we)
                            throw new ClusterPlanException($"lookahead violated: a frame on wire {c.Name} arrives at {f.ArrivalNs} ns, before the window's end {we} ns");
                        inbound[to].Add(f);
                        next = Math.Min(next, f.ArrivalNs);
                        if (to != w.Node) crossed++;
                    }
                }
                syncWall += Elapsed() - t1; // and routing the frames
                OnWindow?.Invoke(windows);
                windows++;
                at = Math.Max(we, next);
            }
        }
        catch (NodeLostException e)
        {
            lost = e.Node;
            error = $"{e.Message}; the run stopped at {at / 1e9:0.000000}s simulated ({(at - start) / 1e9:0.000000}s after the workloads started), results so far";
        }
        var runWall = Elapsed() - startWall;
        var survivors = links.Where(l => l.Node != lost).ToList();
        if (lost is not null)
        {
            // The surviving end of every wire to the lost node: carrier down; frames on their way to or from it are lost.
            await All(survivors, l => new PeerLost(lost, at, InFlight(l.Node, lost, inbound)));
        }
        var counters = await Task.WhenAll(survivors.Select(Collect));
        var hosts = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var drops = ImmutableSortedDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        var files = ImmutableArray.CreateBuilder<string>();
        foreach (var c in counters.OfType<PartitionCounters>())
        {
            foreach (var (h, text) in c.Hosts) hosts[h] = text;
            foreach (var (r, n) in c.CrossDrops) drops[r] = drops.GetValueOrDefault(r) + n;
            files.AddRange(c.Files.Select(f => f.Value));
        }
        if (MergeCaptures(settings, counters.OfType<PartitionCounters>(), files) is { } captureError) error = error is null ? captureError : $"{error}; {captureError}";
        return new ClusterRunResult(hosts.ToImmutable(), drops.ToImmutable(), files.ToImmutable(), windows, crossed, events, start, end,
            Elapsed(), syncWall, error)
        {
            StartWall = startWall,
            RunWall = runWall,
            EventsByNode = eventsByNode.ToImmutable(),
            Report = ClusterReport.Merge(settings, counters.OfType<PartitionCounters>().Select(c => c.Report).OfType<PartitionReport>()),
        };
    }

    /// <summary>
    /// Every <c>device = all</c> capture point: the partitions' parts merged into the point's file (<see cref="CaptureMerge"/>:
    /// by timestamp and interface, ties broken by the records' bytes, never by node), which is added to
    /// <paramref name="files"/>. A part left on a node (too big to send) is read here when this machine sees its path;
    /// otherwise the merge goes on without it and the returned error names it.
    /// </summary>
    internal static string? MergeCaptures(StackSettings settings, IEnumerable<PartitionCounters> counters, ImmutableArray<string>.Builder files)
    {
        var byNode = counters.OrderBy(c => c.Node, StringComparer.Ordinal).ToList();
        var errors = new List<string>();
        for (int k = 0; k < settings.Captures.Length; k++)
        {
            var point = settings.Captures[k];
            if (point.Device != CaptureSettings.AllDevices) continue;
            var parts = new List<ReadOnlyMemory<byte>>();
            foreach (var c in byNode)
                foreach (var p in c.CaptureParts.Where(p => p.Point == k))
                {
                    if (!p.Bytes.IsEmpty) parts.Add(p.Bytes);
                    else if (File.Exists(p.Path))
                    {
                        parts.Add(File.ReadAllBytes(p.Path));
                        File.Delete(p.Path);
                    }
                    else errors.Add($"capture {point.Key}: node {c.Node}'s part is left at {p.Path} on that node (over {SimPartition.MaxCapturePartBytes >> 20} MiB), merged without it");
                }
            if (parts.Count == 0) continue;
            try
            {
                using (var f = new FileStream(point.File, FileMode.Create, FileAccess.Write, FileShare.Read)) CaptureMerge.Merge(parts, f);
                files.Add(point.File);
            }
            catch (InvalidDataException e)
            {
                errors.Add($"capture {point.Key}: the parts do not merge ({e.Message})");
            }
        }
        return errors.Count == 0 ? null : string.Join("; ", errors);
    }

    // Frames on their way between `node` and the lost one: those routed to the lost node from `node` (never delivered)
    // and those the lost node had sent to `node` are both gone with it; the survivor counts what it sent.
    private long InFlight(string node, string lost, Dictionary<string, List<CrossFrame>> inbound)
        => inbound[lost].Count(f => plan.Cross(f.Wire) is { } c && (f.Direction == WireDirection.AToB ? c.NodeA : c.NodeB) == node);

    /// <summary>A partition's counters, page after page (<see cref="CollectCounters.Page"/>); a refusal or a lost node ends the pages.</summary>
    internal static async Task<object> Collect(IPartitionLink link)
    {
        var pages = new List<PartitionCounters>();
        while (true)
        {
            var answer = await link.Send(new CollectCounters { Page = pages.Count });
            if (answer is not PartitionCounters page) return pages.Count == 0 ? answer : CounterPages.Join(pages);
            pages.Add(page);
            if (!page.More) return CounterPages.Join(pages);
        }
    }

    private static long SimEngineNs(TimeSpan t) => checked(t.Ticks * 100);

    private static async Task<object[]> All(IEnumerable<IPartitionLink> links, Func<IPartitionLink, object> message)
    {
        var tasks = links.Select(l => (l, t: l.Send(message(l)))).ToList();
        try
        {
            return await Task.WhenAll(tasks.Select(x => x.t));
        }
        catch (Exception) when (tasks.FirstOrDefault(x => x.t.IsFaulted && x.t.Exception!.InnerException is NodeLostException) is { l: not null } f)
        {
            throw f.t.Exception!.InnerException!;
        }
    }
}
