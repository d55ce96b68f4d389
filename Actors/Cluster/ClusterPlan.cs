using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

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
        var load = ExpectedLoad(s);
        foreach (var (node, hosts, switches) in Counts(s))
        {
            var names = Placement.Where(kv => kv.Value == node).Select(kv => kv.Key).ToList();
            b.AppendLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"  {node}: {hosts} host(s), {switches} switch(es), expected load {names.Sum(n => load[n]):0} pkt/s: {string.Join(" ", names)}"));
        }
        foreach (var c in CrossWires)
            b.AppendLine($"  cut: wire {c.Wire} {c.Name} ({c.NodeA} <-> {c.NodeB}, lookahead {c.LookaheadNs / 1000.0:0.###} us)");
        return b.ToString().TrimEnd('\n');
    }

    /// <summary>
    /// Places <paramref name="s"/> on <paramref name="nodes"/>: a host's or switch's <c>node</c> key pins it; the rest go to
    /// the first node (<see cref="PlacementMode.Explicit"/>) or are spread (<see cref="PlacementMode.Auto"/>: balanced by
    /// expected load, <see cref="ExpectedLoad"/>, cutting few wires; groups joined by wires that cannot be cut stay together). Refused: a <c>node</c> that is not in <paramref name="nodes"/>,
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
        if (bad.Count > 0) throw new ClusterPlanException(string.Join("; ", bad));
        return new ClusterPlan([.. nodes], place.ToImmutableSortedDictionary(StringComparer.Ordinal), cross.ToImmutable());
    }

    /// <summary>The lookahead a wire would give if cut (see <see cref="CrossWire.LookaheadNs"/>).</summary>
    public static long Lookahead(StackSettings s, WireSettings w)
        => w.Delay.Ticks * 100 - Math.Max(TxUsecsNs(s, w.HostA, w.DeviceA, w.SwitchPortA), TxUsecsNs(s, w.HostB, w.DeviceB, w.SwitchPortB));

    private static long TxUsecsNs(StackSettings s, string end, string device, int? port)
        => port is not null ? 3_000 : s.Host(end).Devices.First(d => d.Name == device).TxUsecs * 1000L;

    /// <summary>What a host or switch costs when it has nothing to do (timers, neighbour upkeep), in packets per second.</summary>
    public const double BaseLoad = 1;

    /// <summary>
    /// Each host's and switch's expected load in packets per second it handles (sends, receives or forwards), from the
    /// scenario's workload rates: every workload's packets are charged to every host and switch on the shortest path of
    /// wires (hop count, ties to the lower index) from its host to the host owning its destination address, both ways for
    /// a request and its reply; plus <see cref="BaseLoad"/> each. Rates: pktgen its <c>rate</c> (unlimited: the device's
    /// line rate at its frame size); ping and traceroute a probe and an answer per interval (traceroute per <c>wait</c>);
    /// UDP echo a datagram's fragments each way per interval (none given: one per 100 µs); a TCP bulk transfer the
    /// client device's line rate in full-size segments plus an ACK per two; TCP request-response a transaction per 100 µs
    /// per connection (about a LAN round trip). An estimate for balancing, not a prediction: routes are taken as the
    /// shortest paths, and a transfer as running at line rate. Pure: the same scenario gives the same loads.
    /// </summary>
    public static ImmutableSortedDictionary<string, double> ExpectedLoad(StackSettings s)
    {
        var names = s.Hosts.Select(h => h.Name).Concat(s.Switches.Select(w => w.Name)).ToList();
        var index = names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        var adj = names.Select(_ => new SortedSet<int>()).ToArray();
        foreach (var w in s.Wires.Where(w => w.Tap is null))
        {
            adj[index[w.HostA]].Add(index[w.HostB]);
            adj[index[w.HostB]].Add(index[w.HostA]);
        }
        var owner = new Dictionary<uint, int>();
        for (int i = 0; i < s.Hosts.Length; i++)
            foreach (var d in s.Hosts[i].Devices)
                foreach (var a in d.Addresses) owner.TryAdd(a.Address.Value, i);
        var load = names.Select(_ => BaseLoad).ToArray();
        void Charge(string host, Ipv4Address? dst, double pps)
        {
            if (pps <= 0 || !index.TryGetValue(host, out int from)) return;
            if (dst is not { } d || !owner.TryGetValue(d.Value, out int to)) { load[from] += pps; return; }
            foreach (int v in ShortestPath(adj, from, to)) load[v] += pps;
        }
        static double PerSecond(TimeSpan t) => t > TimeSpan.Zero ? 1 / t.TotalSeconds : 10_000;
        double LinePps(string host, string? device, int frameBytes)
        {
            var h = s.Host(host);
            int speed = (device is null ? h.Devices.FirstOrDefault(x => x.Name != "lo") : h.Devices.FirstOrDefault(x => x.Name == device))?.Speed ?? 10_000;
            return speed * 1e6 / ((frameBytes + 24) * 8.0); // preamble, FCS and inter-frame gap: 24 bytes on the wire
        }
        foreach (var w in s.Workloads)
            switch (w)
            {
                case PktgenWorkload p:
                    Charge(p.Host, p.Pktgen.DstMin, p.Pktgen.RatePps > 0 ? p.Pktgen.RatePps : LinePps(p.Host, p.Device, p.Pktgen.PktSize));
                    break;
                case PingSettings ping: Charge(ping.Host, ping.Destination, 2 * PerSecond(ping.Interval)); break;
                case TracerouteSettings tr: Charge(tr.Host, tr.Destination, 2.0 * tr.Queries * PerSecond(tr.Wait)); break;
                case UdpEchoClientSettings e:
                    Charge(e.Host, e.Server, 2.0 * Math.Max(1, Math.Ceiling((e.Size + 8) / 1480.0)) * PerSecond(e.Interval));
                    break;
                case TcpBulkClientSettings b: Charge(b.Host, b.Server, 1.5 * LinePps(b.Host, null, 1514)); break;
                case TcpRrClientSettings rr: Charge(rr.Host, rr.Server, 2.0 * Math.Max(1, rr.Connections) * 10_000); break;
            }
        return names.Select((n, i) => (n, i)).ToImmutableSortedDictionary(x => x.n, x => load[x.i], StringComparer.Ordinal);
    }

    /// <summary>The vertices of a shortest path from <paramref name="from"/> to <paramref name="to"/>, both included (just the two when none).</summary>
    private static List<int> ShortestPath(SortedSet<int>[] adj, int from, int to)
    {
        var prev = new int[adj.Length];
        Array.Fill(prev, -1);
        prev[from] = from;
        var q = new Queue<int>();
        q.Enqueue(from);
        while (q.Count > 0 && prev[to] < 0)
        {
            int v = q.Dequeue();
            foreach (int u in adj[v])
                if (prev[u] < 0) { prev[u] = v; q.Enqueue(u); }
        }
        if (prev[to] < 0) return from == to ? [from] : [from, to];
        var path = new List<int> { to };
        for (int v = to; v != from; v = prev[v]) path.Add(prev[v]);
        return path;
    }

    /// <summary>Balance tolerance of <see cref="AutoPlace"/>: a node may carry this much over the average load.</summary>
    public const double Imbalance = 0.10;

    /// <summary>
    /// Places the unpinned hosts and switches by expected load (<see cref="ExpectedLoad"/>), cutting few wires. Vertices
    /// joined by wires that cannot be cut (no lookahead) form one group. Greedy graph growing: each node but the last takes
    /// groups from the first unplaced one, always the frontier group with the most wires into the node (ties: scenario
    /// order), while taking it brings the node's load closer to the average; the last node takes the rest. Then
    /// refinement (Fiduccia–Mattheyses single moves, in scenario order, until none helps): a boundary group moves to a
    /// neighbouring node when that lowers, in this order, the load beyond the tolerance (<see cref="Imbalance"/>), the
    /// wires cut, the sum of squared node loads. Deterministic: the same scenario and nodes give the same placement.
    /// </summary>
    private static void AutoPlace(StackSettings s, IReadOnlyList<string> nodes, Dictionary<string, string> place)
    {
        var names = s.Hosts.Select(h => h.Name).Concat(s.Switches.Select(w => w.Name)).ToList();
        var index = names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        var parent = Enumerable.Range(0, names.Count).ToArray();
        int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        var edges = new List<(int A, int B)>();
        foreach (var w in s.Wires)
        {
            if (w.Tap is not null) continue;
            int a = index[w.HostA], b = index[w.HostB];
            edges.Add((a, b));
            if (Lookahead(s, w) <= 0) parent[Find(a)] = Find(b);
        }
        // Groups, numbered by their first vertex in scenario order; their loads; the wires between them (multi-edges count).
        var vload = ExpectedLoad(s);
        var groupOf = new int[names.Count];
        var groups = new List<List<int>>();
        var byRoot = new Dictionary<int, int>();
        for (int v = 0; v < names.Count; v++)
        {
            if (!byRoot.TryGetValue(Find(v), out int g)) { byRoot[Find(v)] = g = groups.Count; groups.Add([]); }
            groups[g].Add(v);
            groupOf[v] = g;
        }
        int G = groups.Count, N = nodes.Count;
        var gload = groups.Select(m => m.Sum(v => vload[names[v]])).ToArray();
        var gadj = Enumerable.Range(0, G).Select(_ => new SortedDictionary<int, int>()).ToArray();
        foreach (var (a, b) in edges)
        {
            int ga = groupOf[a], gb = groupOf[b];
            if (ga == gb) continue;
            gadj[ga][gb] = gadj[ga].GetValueOrDefault(gb) + 1;
            gadj[gb][ga] = gadj[gb].GetValueOrDefault(ga) + 1;
        }
        var nodeIndex = nodes.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        var at = Enumerable.Repeat(-1, G).ToArray();
        var pinned = new bool[G];
        var load = new double[N];
        for (int g = 0; g < G; g++)
            if (groups[g].Select(v => place.GetValueOrDefault(names[v])).FirstOrDefault(n => n is not null) is { } n)
            {
                at[g] = nodeIndex[n];
                pinned[g] = true;
                load[at[g]] += gload[g];
            }
        double target = gload.Sum() / N;

        // Greedy growth, node by node.
        for (int k = 0; k < N - 1; k++)
        {
            var frontier = new SortedDictionary<int, int>(); // group → wires into node k
            void Take(int g, bool counted = false)
            {
                at[g] = k;
                if (!counted) load[k] += gload[g];
                frontier.Remove(g);
                foreach (var (u, c) in gadj[g])
                    if (at[u] < 0) frontier[u] = frontier.GetValueOrDefault(u) + c;
            }
            foreach (int g in Enumerable.Range(0, G).Where(g => at[g] == k)) Take(g, counted: true); // pinned here: grow from them
            while (true)
            {
                int next = -1;
                if (frontier.Count > 0)
                {
                    int best = frontier.Values.Max();
                    next = frontier.First(kv => kv.Value == best).Key;
                }
                else next = Array.IndexOf(at, -1);
                if (next < 0) break;
                if (load[k] > 0 && Math.Abs(load[k] + gload[next] - target) >= Math.Abs(load[k] - target)) break;
                Take(next);
            }
        }
        for (int g = 0; g < G; g++)
            if (at[g] < 0) { at[g] = N - 1; load[N - 1] += gload[g]; }

        // Refinement: single moves of boundary groups while one strictly improves (over, cut, sum of squares).
        double limit = target * (1 + Imbalance);
        double Over(double l) => Math.Max(0, l - limit);
        for (int pass = 0; pass < 100; pass++)
        {
            bool moved = false;
            for (int g = 0; g < G; g++)
            {
                if (pinned[g]) continue;
                int from = at[g];
                var links = new SortedDictionary<int, int>();
                foreach (var (u, c) in gadj[g]) links[at[u]] = links.GetValueOrDefault(at[u]) + c;
                int own = links.GetValueOrDefault(from);
                foreach (var (to, c) in links)
                {
                    if (to == from) continue;
                    double lf = load[from], lt = load[to], w = gload[g];
                    double overDelta = Over(lf - w) + Over(lt + w) - Over(lf) - Over(lt);
                    int cutDelta = own - c;
                    double sqDelta = (lf - w) * (lf - w) + (lt + w) * (lt + w) - lf * lf - lt * lt;
                    bool better = overDelta < -1e-9 || (Math.Abs(overDelta) <= 1e-9 && (cutDelta < 0 || (cutDelta == 0 && sqDelta < -1e-9)));
                    if (!better) continue;
                    at[g] = to;
                    load[from] -= w;
                    load[to] += w;
                    moved = true;
                    break;
                }
            }
            if (!moved) break;
        }
        for (int g = 0; g < G; g++)
            foreach (int v in groups[g]) place.TryAdd(names[v], nodes[at[g]]);
    }

    /// <summary>A hash of the build: the Actors assembly's module version id (every build differs).</summary>
    public static string BuildHash() => typeof(ClusterPlan).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..16];

    /// <summary>A hash of the scenario as every node reads it: SHA-256 of the merged configuration text.</summary>
    public static string ScenarioHash(string configText)
        => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(configText.ReplaceLineEndings("\n"))))[..16].ToLowerInvariant();
}
