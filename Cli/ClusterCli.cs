using System.Globalization;
using ActorStack.Actors.Cluster;
using ActorStack.Config;

namespace ActorStack.Cli;

/// <summary>
/// <c>run</c> over several nodes (<c>actorstack.cluster</c> with seed nodes or <c>min-nodes</c> &gt; 1, or <c>--nodes N</c>):
/// this process is the coordinator (node n1, listening on <c>--listen</c> or the first seed node); <c>actorstack node</c>
/// processes are the other nodes. <c>--partitions N</c> runs N partitions in this process instead, one thread each (the same
/// windows, the same results). Prints the placement, then the report a single-node run prints (<c>--report full|summary</c>), the
/// crossing's drops and the synchronisation's figures. Exit 0; 1 when the run stopped (a node lost); 2 when it could not
/// start (placement refused, a node missing after join-timeout, a node refused).
/// </summary>
public static class ClusterCli
{
    /// <summary>The wall clock of the run's figures (start, run, synchronisation per window): measured here, outside the stack.</summary>
    private static TimeSpan Wall() => System.Diagnostics.Stopwatch.GetElapsedTime(WallOrigin);
    private static readonly long WallOrigin = System.Diagnostics.Stopwatch.GetTimestamp();

    public static async Task<int> Run(StackSettings s, string? userText, int? nodes, int? partitions, string? listen, TimeSpan? duration,
        TextWriter o, TextWriter err, bool fullReport = true, bool realClock = false)
    {
        string config = userText ?? "";
        var d = duration ?? s.Run.MaxDuration;
        ClusterRunResult result;
        if (realClock && partitions is not null)
        {
            err.WriteLine("actorstack: --partitions runs the virtual clock's windows on threads of this process; on the real clock run over nodes (--nodes N and 'actorstack node')");
            return 2;
        }
        try
        {
            if (partitions is { } p)
            {
                var names = Enumerable.Range(1, p).Select(i => $"n{i}").ToList();
                var plan = ClusterPlan.Make(s, names, p > 1 ? PlacementMode.Auto : null);
                o.WriteLine(plan.Describe(s));
                var links = names.Select(n => new LocalPartitionLink(n, wallClock: Wall)).ToList();
                try { result = await new WindowCoordinator(s, plan, config) { WallClock = Wall }.Run(links, d); }
                finally { foreach (var l in links) l.Dispose(); }
            }
            else
            {
                string endpoint = listen ?? (s.Cluster.SeedNodes.FirstOrDefault() is { } seed ? seed[(seed.IndexOf('@') + 1)..] : "127.0.0.1:4053");
                if (!Node.TryEndpoint(endpoint, out var host, out int port))
                {
                    err.WriteLine($"actorstack: --listen {endpoint}: must be HOST:PORT");
                    return 2;
                }
                var system = ClusterNode.Start(host, port, s.Cluster.SeedNodes, s.Cluster.HeartbeatPause);
                try
                {
                    await Akka.Cluster.Cluster.Get(system).JoinAsync(Akka.Cluster.Cluster.Get(system).SelfAddress);
                    o.WriteLine($"coordinator n1 on {ClusterNode.AddressOf(system)}: waiting for {nodes ?? s.Cluster.MinNodes} member(s)");
                    result = realClock ? await ClusterRun.RunReal(system, s, config, d, nodes, o) : await ClusterRun.Run(system, s, config, d, nodes, o);
                }
                finally { await system.Terminate(); }
            }
        }
        catch (ClusterPlanException e)
        {
            err.WriteLine($"actorstack: {e.Message}");
            return 2;
        }
        Print(s, result, o, fullReport);
        if (result.Error is not null)
        {
            err.WriteLine($"actorstack: {result.Error}");
            return 1;
        }
        return 0;
    }

    /// <summary>
    /// The report of a single-node run (<see cref="RunReport"/>: every host's tables or the summary, switches, wires,
    /// applications, captures) from what the partitions gathered, then the crossing's drops and the synchronisation's
    /// figures (the last line, with the wall time).
    /// </summary>
    public static void Print(StackSettings s, ClusterRunResult r, TextWriter o, bool full = true)
    {
        if (r.Report is { } report) RunReport.Print(s, report, full, o);
        o.WriteLine();
        foreach (var (reason, n) in r.CrossDrops) o.WriteLine($"cross-node drops {reason}: {n}");
        foreach (var l in r.Lost)
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"node {l.Node} was lost {l.At.TotalSeconds:0.000}s after the workloads started ({l.Detail}): every wire to it went carrier-down, the run went on without it (its hosts are not in the report)"));
        if (r.RealClock)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cluster: real clock, {r.EndNs / 1e9:0.###}s of workloads, {r.Wall.TotalSeconds:0.###}s wall, {r.Lost.Length} node(s) lost"));
            return;
        }
        double sim = (r.EndNs - r.StartNs) / 1e9;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cluster: {r.Windows} windows, {r.FramesCrossed} frames crossed nodes, {r.Events} events, {sim:0.###}s simulated in {r.Wall.TotalSeconds:0.###}s wall ({sim / Math.Max(1e-9, r.Wall.TotalSeconds):0.##}:1), sync {r.SyncWall.TotalMilliseconds / Math.Max(1, r.Windows) * 1000:0.#} us/window"));
    }

    /// <summary>FNV-1a 64 of a host's counter text: equal digests on 1, 2 or 3 nodes mean identical counters.</summary>
    public static ulong Fnv(string s)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (char c in s) h = (h ^ c) * 0x100000001b3UL;
        return h;
    }

    /// <summary>What <c>topology --nodes N</c> prints: the placement over n1..nN.</summary>
    public static string Placement(StackSettings s, int nodes)
        => ClusterPlan.Make(s, Enumerable.Range(1, nodes).Select(i => $"n{i}").ToList()).Describe(s);

}
