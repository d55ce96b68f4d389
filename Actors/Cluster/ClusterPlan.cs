using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>A wire whose two ends are on different nodes, with the lookahead its two directions give.</summary>
/// <param name="LookaheadNs">
/// The least virtual time between a half-wire's event and the arrival it sends: the propagation delay less the sending
/// end's TX interrupt coalescing (a frame enters the medium at its own completion, up to <c>tx-usecs</c> before the
/// completion interrupt that hands it on), the smaller of the two directions.
/// </param>
public sealed record CrossWire(int Wire, string Name, string NodeA, string NodeB, long LookaheadNs);

/// <summary>Refused placement: a node never named, a cross-node wire without lookahead, a TAP wire that would cross.</summary>
public sealed class ClusterPlanException(string message) : Exception(message);

/// <summary>
/// Where each host and switch of a scenario runs, the wires that cross nodes, and the lookahead (the smallest
/// <see cref="CrossWire.LookaheadNs"/>): the window length of the conservative synchronisation. Pure: built from the
/// settings and the node names, so every node computes the same plan.
/// </summary>
public sealed class ClusterPlan
{
    private ClusterPlan(ImmutableArray<string> nodes, ImmutableSortedDictionary<string, string> placement, ImmutableArray<CrossWire> split)
    {
        Nodes = nodes;
        Placement = placement;
        Split = split;
        _split = split.ToDictionary(c => c.Wire);
        CrossWires = [.. split.Where(c => c.NodeA != c.NodeB)];
        LookaheadNs = split.IsEmpty ? long.MaxValue : split.Min(c => c.LookaheadNs);
    }

    private readonly Dictionary<int, CrossWire> _split;

    /// <summary>The nodes, in the order given (the first is the coordinator's).</summary>
    public ImmutableArray<string> Nodes { get; }
    /// <summary>Host or switch name → node.</summary>
    public ImmutableSortedDictionary<string, string> Placement { get; }
    /// <summary>The wires whose ends are on two nodes.</summary>
    public ImmutableArray<CrossWire> CrossWires { get; }
    /// <summary>
    /// Every wire run as two halves with the crossing between them: each wire with a positive lookahead, whether its ends
    /// are on one node or two. Splitting them all, on every node count, is what makes the runs identical on 1, 2 or 3
    /// nodes: every such frame reaches its far end the same way (injected at a window barrier, at its arrival instant), and
    /// the windows (from the smallest lookahead of all of them) are the same whatever the placement.
    /// </summary>
    public ImmutableArray<CrossWire> Split { get; }
    /// <summary>Window length in ns (the smallest lookahead of <see cref="Split"/>); long.MaxValue when no wire is split.</summary>
    public long LookaheadNs { get; }

    public string NodeOf(string hostOrSwitch) => Placement[hostOrSwitch];

    /// <summary>The cross wire with index <paramref name="wire"/>, or null for a wire within one node.</summary>
    public CrossWire? Cross(int wire) => _split.GetValueOrDefault(wire);

    /// <summary>Hosts per node, in node order.</summary>
    public IEnumerable<(string Node, int Hosts, int Switches)> Counts(StackSettings s)
        => Nodes.Select(n => (n, s.Hosts.Count(h => Placement[h.Name] == n), s.Switches.Count(w => Placement[w.Name] == n)));

    /// <summary>The partition as <c>topology</c> prints it.</summary>
    public string Describe(StackSettings s)
    {
        var b = new StringBuilder();
        b.AppendLine($"placement over {Nodes.Length} node(s), {CrossWires.Length} wire(s) cut, window {(LookaheadNs == long.MaxValue ? "none" : $"{LookaheadNs / 1000.0:0.###} us")}:");
        foreach (var (node, hosts, switches) in Counts(s))
        {
            var names = Placement.Where(kv => kv.Value == node).Select(kv => kv.Key);
            b.AppendLine($"  {node}: {hosts} host(s), {switches} switch(es): {string.Join(" ", names)}");
        }
        foreach (var c in CrossWires)
            b.AppendLine($"  cut: wire {c.Wire} {c.Name} ({c.NodeA} <-> {c.NodeB}, lookahead {c.LookaheadNs / 1000.0:0.###} us)");
        return b.ToString().TrimEnd('\n');
    }

    /// <summary>
    /// Places <paramref name="s"/> on <paramref name="nodes"/>: a host's or switch's <c>node</c> key pins it; the rest go to
    /// the first node (<see cref="PlacementMode.Explicit"/>) or are spread (<see cref="PlacementMode.Auto"/>: groups joined by
    /// wires that cannot be cut, taken breadth-first from the first host and filled node by node to balanced host counts,
    /// so neighbours stay together and few wires cross). Refused: a <c>node</c> that is not in <paramref name="nodes"/>,
    /// a cut wire whose lookahead is not positive (delay 0, or not above the sender's <c>tx-usecs</c>), a cut TAP wire.
    /// </summary>
    public static ClusterPlan Make(StackSettings s, IReadOnlyList<string> nodes, PlacementMode? mode = null,
        IReadOnlyDictionary<string, string>? pinned = null)
    {
        if (nodes.Count == 0) throw new ClusterPlanException("no nodes");
        var place = new Dictionary<string, string>(StringComparer.Ordinal);
        if (pinned is not null)
            foreach (var (k, v) in pinned) place[k] = v;
        var known = nodes.ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var (name, node) in s.Hosts.Select(h => (h.Name, h.Node)).Concat(s.Switches.Select(w => (w.Name, w.Node))))
        {
            if (node is null || place.ContainsKey(name)) continue;
            if (!known.Contains(node)) missing.Add($"{name} is placed on node {node}");
            else place[name] = node;
        }
        if (missing.Count > 0)
            throw new ClusterPlanException($"{string.Join("; ", missing)}, which is not a member (members: {string.Join(", ", nodes)})");

        var m = mode ?? s.Cluster.Placement;
        if (m == PlacementMode.Auto) AutoPlace(s, nodes, place);
        foreach (var h in s.Hosts) place.TryAdd(h.Name, nodes[0]);
        foreach (var w in s.Switches) place.TryAdd(w.Name, nodes[0]);

        var cross = ImmutableArray.CreateBuilder<CrossWire>();
        var bad = new List<string>();
        for (int i = 0; i < s.Wires.Length; i++)
        {
            var w = s.Wires[i];
            if (w.Tap is not null) continue; // the TAP end is on its host's node by definition
            string na = place[w.HostA], nb = place[w.HostB];
            long look = Lookahead(s, w);
            if (na == nb)
            {
                if (look > 0) cross.Add(new CrossWire(i, w.Name, na, nb, look));
                continue;
            }
            if (look <= 0)
                bad.Add($"wire {w.Name} ({na} <-> {nb}) has delay {w.Delay.TotalMilliseconds:0.###}ms: a wire between two nodes needs a delay above its ends' tx-usecs (the lookahead of the synchronisation)");
            else cross.Add(new CrossWire(i, w.Name, na, nb, look));
        }
        // A capture point writes one file from one tap: a point over every host's devices would need one tap on each node.
        if (nodes.Count > 1)
            foreach (var c in s.Captures.Where(c => c.Device == CaptureSettings.AllDevices))
                bad.Add($"capture {c.Key} (device = all) spans every host: over several nodes or partitions capture per host (host = …, device = any)");
        if (bad.Count > 0) throw new ClusterPlanException(string.Join("; ", bad));
        return new ClusterPlan([.. nodes], place.ToImmutableSortedDictionary(StringComparer.Ordinal), cross.ToImmutable());
    }

    /// <summary>The lookahead a wire would give if cut (see <see cref="CrossWire.LookaheadNs"/>).</summary>
    public static long Lookahead(StackSettings s, WireSettings w)
        => w.Delay.Ticks * 100 - Math.Max(TxUsecsNs(s, w.HostA, w.DeviceA, w.SwitchPortA), TxUsecsNs(s, w.HostB, w.DeviceB, w.SwitchPortB));

    private static long TxUsecsNs(StackSettings s, string end, string device, int? port)
        => port is not null ? 3_000 : s.Host(end).Devices.First(d => d.Name == device).TxUsecs * 1000L;

    private static void AutoPlace(StackSettings s, IReadOnlyList<string> nodes, Dictionary<string, string> place)
    {
        // Vertices: hosts and switches in scenario order; edges: wires. Wires without lookahead join their ends into one group.
        var names = s.Hosts.Select(h => h.Name).Concat(s.Switches.Select(w => w.Name)).ToList();
        var index = names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        var parent = Enumerable.Range(0, names.Count).ToArray();
        int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        var adj = names.Select(_ => new List<int>()).ToArray();
        foreach (var w in s.Wires)
        {
            if (w.Tap is not null) continue;
            int a = index[w.HostA], b = index[w.HostB];
            adj[a].Add(b);
            adj[b].Add(a);
            if (Lookahead(s, w) <= 0) parent[Find(a)] = Find(b);
        }
        var isHost = names.Select((n, i) => i < s.Hosts.Length).ToArray();
        // Breadth-first over vertices from the first one; each newly reached group is placed whole.
        var order = new List<int>();
        var seen = new bool[names.Count];
        for (int start = 0; start < names.Count; start++)
        {
            if (seen[start]) continue;
            var q = new Queue<int>();
            q.Enqueue(start);
            seen[start] = true;
            while (q.Count > 0)
            {
                int v = q.Dequeue();
                order.Add(v);
                foreach (var u in adj[v].Order())
                    if (!seen[u]) { seen[u] = true; q.Enqueue(u); }
            }
        }
        int free = s.Hosts.Count(h => !place.ContainsKey(h.Name));
        var load = nodes.ToDictionary(n => n, n => s.Hosts.Count(h => place.GetValueOrDefault(h.Name) == n), StringComparer.Ordinal);
        int target = (int)Math.Ceiling((double)(free + load.Values.Sum()) / nodes.Count);
        int cur = 0;
        var groupNode = new Dictionary<int, string>();
        foreach (int v in order)
        {
            if (place.ContainsKey(names[v])) continue;
            int g = Find(v);
            if (!groupNode.TryGetValue(g, out var node))
            {
                while (cur < nodes.Count - 1 && load[nodes[cur]] >= target) cur++;
                node = nodes[cur];
                groupNode[g] = node;
            }
            place[names[v]] = node;
            if (isHost[v]) load[node]++;
        }
    }

    /// <summary>A hash of the build: the Actors assembly's module version id (every build differs).</summary>
    public static string BuildHash() => typeof(ClusterPlan).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..16];

    /// <summary>A hash of the scenario as every node reads it: SHA-256 of the merged configuration text.</summary>
    public static string ScenarioHash(string configText)
        => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(configText.ReplaceLineEndings("\n"))))[..16].ToLowerInvariant();
}
