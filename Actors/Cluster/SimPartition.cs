using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// One partition of a distributed run: its own actor system on its own <see cref="SimEngine"/> (local, no remoting: the
/// simulation never talks to the network), a <see cref="SimulationActor"/> that builds only the hosts, switches, wires
/// and workloads placed here, and the windows of the conservative synchronisation: <see cref="RunWindow"/> injects the
/// frames that crossed from other partitions at their exact arrival times, in (time, wire, direction, seq) order, runs
/// every event before the window's end and hands back the frames that left (each due at or after that end, since a
/// window is no longer than the lookahead). A plain class driven by one thread at a time (the engine's).
/// </summary>
public sealed class SimPartition : IDisposable
{
    /// <summary>Events run before the partition's servers must be listening (a stuck start fails, it does not hang).</summary>
    public const long MaxStartEvents = 50_000_000;
    /// <summary>Simulated time the start may take.</summary>
    public static readonly TimeSpan MaxStartTime = TimeSpan.FromSeconds(60);

    private readonly ActorSystem _system;
    private readonly SimEngine _engine;
    private readonly ScenarioPart _part;
    private readonly IActorRef _sim;
    private readonly Dictionary<(int Wire, WireDirection Dir), (IActorRef End, IActorRef Half)> _in = new();
    private readonly Dictionary<(int Wire, WireDirection Dir), long> _seq = new();
    private readonly List<CrossFrame> _out = new();
    private readonly SortedDictionary<DropReason, long> _crossDrops = new();
    // The crossing's receiving side (the whole wire's propagation stage): per split wire the instant the cable was last cut
    // here, and per (wire, direction) the frames that arrived and those lost because the cable was cut while they crossed.
    private readonly Dictionary<int, long> _lastCutNs = new();
    private readonly Dictionary<(int Wire, WireDirection Dir), (long Arrived, long LostAtCut)> _arrivals = new();
    private readonly StackSettings _settings;
    private long? _readyNs;
    private ReplyBox? _startBox;
    private SimulationStarted? _started;

    public SimPartition(StackSettings settings, ClusterPlan plan, string node)
    {
        Node = node;
        _settings = settings;
        // The partition's own log stays quiet at INFO (its start and shutdown); warnings and errors still show.
        _system = ActorSystem.Create($"part-{node}", StackConfig.AkkaConfig(SimEngine.Hocon + "\nakka.loglevel = WARNING"));
        _engine = SimEngine.For(_system);
        _engine.Pause();
        _part = new ScenarioPart(node, plan)
        {
            Egress = OnEgress,
            HalfBuilt = (wire, dir, end, half) => _in[(wire, dir)] = (end, half),
            Ready = () => _readyNs = _engine.NowNs,
            HalfCut = wire => _lastCutNs[wire] = _engine.NowNs,
        };
        _sim = _system.ActorOf(SimulationActor.Props(settings, _part), "sim");
    }

    public string Node { get; }
    public SimEngine Engine => _engine;
    public ClusterPlan Plan => _part.Plan;
    /// <summary>The local hosts, once started.</summary>
    public ImmutableDictionary<string, IActorRef> Hosts => _started?.Hosts ?? ImmutableDictionary<string, IActorRef>.Empty;
    /// <summary>Frames this partition handed to others and received from them.</summary>
    public long FramesOut { get; private set; }
    public long FramesIn { get; private set; }

    private void OnEgress(int wire, WireDirection dir, ReadOnlyMemory<byte> frame, long arrivalNs)
    {
        long seq = _seq.GetValueOrDefault((wire, dir));
        _seq[(wire, dir)] = seq + 1;
        _out.Add(new CrossFrame(arrivalNs, wire, dir, seq, frame));
    }

    /// <summary>Builds the partition and runs it until its servers listen; returns that virtual instant (ns).</summary>
    public long Start()
    {
        var box = _startBox = new ReplyBox(_system);
        _sim.Tell(StartSimulation.Instance, box);
        long events = 0;
        while (_readyNs is null && box.Reply is not CommandFailed)
        {
            if (!_engine.Step()) throw new ClusterPlanException($"node {Node}: the partition stopped before its servers listened");
            if (++events > MaxStartEvents || _engine.Now > MaxStartTime)
                throw new ClusterPlanException($"node {Node}: the partition's servers did not listen within {MaxStartEvents} events / {MaxStartTime.TotalSeconds}s simulated");
        }
        if (box.Reply is CommandFailed f) throw new ClusterPlanException($"node {Node}: {f.Message}");
        return _readyNs!.Value;
    }

    /// <summary>Runs to <paramref name="startNs"/> (the latest partition's start) and starts the workloads there.</summary>
    public void StartWorkloads(long startNs)
    {
        _engine.RunUntilNs(startNs);
        if (_out.Count > 0)
            throw new ClusterPlanException($"node {Node}: {_out.Count} frame(s) crossed nodes before the workloads started (the first on wire {_out[0].Wire})");
        _sim.Tell(StartPartitionWorkloads.Instance, ActorRefs.NoSender);
        _engine.RunUntilIdle();
        // The SimulationActor answers StartSimulation's sender once the workloads run.
        _started = _startBox?.Reply as SimulationStarted ?? throw new ClusterPlanException($"node {Node}: the workloads did not start ({_startBox?.Reply})");
    }

    /// <summary>
    /// One window: injects <paramref name="inbound"/> (sorted here by <see cref="CrossFrame.CompareTo"/>; frames of one
    /// wire, direction and instant go as one <see cref="WireFrames"/>, as the whole wire batches them), runs every event
    /// before <paramref name="endNs"/>, returns what left, sorted.
    /// </summary>
    public WindowDone RunWindow(long window, long endNs, IReadOnlyList<CrossFrame> inbound)
    {
        var sorted = inbound.ToArray();
        Array.Sort(sorted);
        for (int i = 0; i < sorted.Length;)
        {
            var f = sorted[i];
            int j = i + 1;
            while (j < sorted.Length && sorted[j].ArrivalNs == f.ArrivalNs && sorted[j].Wire == f.Wire && sorted[j].Direction == f.Direction) j++;
            if (_in.TryGetValue((f.Wire, f.Direction), out var dest))
            {
                var frames = new ReadOnlyMemory<byte>[j - i];
                for (int k = i; k < j; k++) frames[k - i] = sorted[k].Frame;
                // Through the gate: a cut between the frame's entry into the medium and its arrival drops it there.
                long enteredNs = f.ArrivalNs - SimEngine.ToNs(_settings.Wires[f.Wire].Delay);
                _engine.TellAtNs(f.ArrivalNs, new CrossingGate(this, f.Wire, f.Direction, enteredNs, j - i, dest.End), new WireFrames([.. frames]), dest.Half);
                FramesIn += j - i;
            }
            else Drop(DropReason.SIM_LINK_UNATTACHED, j - i); // a frame for a wire with no end here: mis-routed
            i = j;
        }
        long before = _engine.Executed;
        if (endNs - 1 > _engine.NowNs) _engine.RunUntilNs(endNs - 1);
        var outbound = _out.ToImmutableArray().Sort();
        _out.Clear();
        FramesOut += outbound.Length;
        return new WindowDone(Node, window, outbound, _engine.NextDueNs ?? long.MaxValue, _engine.Executed - before);
    }

    /// <summary>
    /// The far end of a split wire as the crossing's arrival sees it: at the arrival instant, frames that entered the medium
    /// at or before the last cut of the cable here were on it when it was cut and are dropped (SIM_LINK_DOWN, counted with
    /// the wire's direction, as <c>WireChannel.Cut</c> drops the whole wire's propagating frames); the rest go to the end.
    /// Runs on the engine's thread inside the arrival's event, as <see cref="SimEngine.TellAtNs"/> delivers it.
    /// </summary>
    private sealed record CrossingGate(SimPartition Partition, int Wire, WireDirection Direction, long EnteredNs, int Count, IActorRef End) : ICanTell
    {
        public void Tell(object message, IActorRef sender) => Partition.Arrive(this, message, sender);
    }

    private void Arrive(CrossingGate g, object message, IActorRef sender)
    {
        var key = (g.Wire, g.Direction);
        var (arrived, lost) = _arrivals.GetValueOrDefault(key);
        if (_lastCutNs.TryGetValue(g.Wire, out long cut) && cut >= g.EnteredNs)
        {
            _arrivals[key] = (arrived, lost + g.Count);
            return;
        }
        _arrivals[key] = (arrived + g.Count, lost);
        g.End.Tell(message, sender);
    }

    /// <summary>Per split wire and direction arriving here: frames delivered to the local end, and frames lost to a cut while crossing.</summary>
    public IReadOnlyDictionary<(int Wire, WireDirection Dir), (long Arrived, long LostAtCut)> Arrivals => _arrivals;

    private void Drop(DropReason reason, long n) => _crossDrops[reason] = _crossDrops.GetValueOrDefault(reason) + n;

    /// <summary>
    /// The peer <paramref name="lostNode"/> is gone: the local end of every wire to it goes carrier-down (the half is cut,
    /// so link watch and <c>ip monitor</c> see it), <paramref name="inFlight"/> frames on their way count as SIM_NODE_LOST.
    /// </summary>
    public void PeerLost(string lostNode, long inFlight)
    {
        if (inFlight > 0) Drop(DropReason.SIM_NODE_LOST, inFlight);
        var box = new ReplyBox(_system);
        foreach (var c in Plan.CrossWires.Where(c => (c.NodeA == lostNode && c.NodeB == Node) || (c.NodeB == lostNode && c.NodeA == Node)))
            foreach (var (key, v) in _in)
                if (key.Wire == c.Wire)
                {
                    _lastCutNs[c.Wire] = _engine.NowNs;
                    v.Half.Tell(CutCable.Instance, box);
                }
        _engine.RunUntilIdle();
    }

    /// <summary>Drop counts of the crossing itself (frames lost with a node, mis-routed frames).</summary>
    public ImmutableArray<KeyValuePair<string, long>> CrossDrops
        => [.. _crossDrops.Select(kv => new KeyValuePair<string, long>(kv.Key.ToString(), kv.Value))];

    /// <summary>Asks <paramref name="target"/> at the current instant (the clock does not move); null when nothing answered.</summary>
    public object? AskNow(IActorRef target, object message)
    {
        var box = new ReplyBox(_system);
        target.Tell(message, box);
        _engine.RunUntilIdle();
        return box.Reply;
    }

    /// <summary>
    /// The counters of every local host (<see cref="CounterText"/>), every local workload's result by actor name, the
    /// capture files written here, and what the end-of-run report needs (<see cref="PartitionCounters.Report"/>).
    /// </summary>
    public PartitionCounters Counters()
    {
        var (report, apps) = Gather();
        var hosts = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var h in report.Hosts) hosts.Add(new(h.Host, CounterText.Render(h.Stats)));
        // The workloads' results (ping statistics, echo counts, the TCP transfer's bytes and SHA-256 verdict) by actor name.
        foreach (var (name, status) in apps.OrderBy(a => a.Name, StringComparer.Ordinal)) hosts.Add(new($"app {name}", status.ToString() ?? ""));
        var files = report.Captures.Select(c => new KeyValuePair<string, string>("pcap", c.Flushed.File)).ToImmutableArray();
        return new PartitionCounters(Node, hosts.ToImmutable(), CrossDrops, files) { Report = report };
    }

    /// <summary>
    /// Asks every local host, switch, wire, workload and capture what the report prints, in the order a single-node run
    /// asks them (hosts by name, switches by name, wires, socket readers, applications, pktgens, captures), at the current
    /// instant; also returns each application's status by actor name.
    /// </summary>
    private (PartitionReport Report, List<(string Name, object Status)> Apps) Gather()
    {
        var topo = AskNow(_sim, GetSimulationTopology.Instance) as SimulationTopology;
        var hosts = ImmutableArray.CreateBuilder<HostReport>();
        foreach (var (name, host) in Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            if (AskNow(host, GetStats.Instance) is not HostStats st) continue;
            var nf = AskNow(host, GetNfRules.Instance) as NfRules ?? new NfRules(name, []);
            var neigh = AskNow(host, GetNeighbours.Instance) as NeighbourList ?? new NeighbourList("", []);
            var tcp = ImmutableArray.CreateBuilder<TcpSocketInfo>();
            if (AskNow(host, GetTcpSockets.Instance) is TcpSocketList list)
                foreach (var sock in list.Sockets)
                    if (AskNow(sock, GetSocketInfo.Instance) is TcpSocketInfo info) tcp.Add(info); // a socket closed meanwhile is left out
            hosts.Add(new HostReport(name, st, nf, neigh, tcp.ToImmutable()));
        }
        var switches = ImmutableArray.CreateBuilder<SwitchReport>();
        foreach (var (name, sw) in (topo?.Switches ?? ImmutableDictionary<string, IActorRef>.Empty).OrderBy(x => x.Key, StringComparer.Ordinal))
            if (AskNow(sw, GetSwitchStats.Instance) is SwitchStatsSnapshot st && AskNow(sw, GetSwitchFdb.Instance) is SwitchFdb fdb)
                switches.Add(new SwitchReport(name, st, fdb));
        var wires = ImmutableArray.CreateBuilder<WireReport>();
        var started = _started?.Wires ?? [];
        for (int i = 0; i < started.Length; i++)
        {
            if (Plan.Cross(i) is not null || started[i].IsNobody()) continue;
            if (AskNow(started[i], GetWireStats.Instance) is WireStats ws) wires.Add(new WireReport(i, ws, WireDirection.AToB, null, 0, 0));
        }
        foreach (var ((wire, into), (_, half)) in _in.OrderBy(kv => kv.Key.Wire).ThenBy(kv => kv.Key.Dir))
        {
            // The local half sends the other direction; what arrived here in this one passed the crossing's gate.
            var from = into == WireDirection.AToB ? WireDirection.BToA : WireDirection.AToB;
            if (AskNow(half, GetWireStats.Instance) is WireStats ws)
                wires.Add(new WireReport(wire, null, from, from == WireDirection.AToB ? ws.AToBDetail : ws.BToADetail, 0, 0));
            var (arrived, lost) = _arrivals.GetValueOrDefault((wire, into));
            wires.Add(new WireReport(wire, null, into, null, arrived, lost));
        }
        var apps = ImmutableArray.CreateBuilder<AppReport>();
        var named = new List<(string, object)>();
        // The k-th local workload of a kind, by its index in the scenario: the lists built once (a scan per workload made the
        // report quadratic in the workloads).
        var localIndex = new Dictionary<AppReportKind, List<int>>();
        int Local(AppReportKind of, Func<WorkloadSettings, bool> kind, int k)
        {
            if (!localIndex.TryGetValue(of, out var list))
                localIndex[of] = list = [.. _settings.Workloads.Select((w, j) => (w, j)).Where(x => kind(x.w) && Plan.NodeOf(x.w.Host) == Node).Select(x => x.j)];
            return k < list.Count ? list[k] : 0;
        }
        var sinks = _started?.Sinks ?? [];
        for (int k = 0; k < sinks.Length; k++)
            if (AskNow(sinks[k], GetWorkloadStatus.Instance) is { } st) apps.Add(new AppReport(AppReportKind.Sink, Local(AppReportKind.Sink, w => w is UdpSinkSettings, k), st));
        var locals = topo?.Apps ?? [];
        for (int k = 0; k < locals.Length; k++)
            if (AskNow(locals[k], GetWorkloadStatus.Instance) is { } st)
            {
                apps.Add(new AppReport(AppReportKind.App, Local(AppReportKind.App, w => w is not (UdpSinkSettings or PktgenWorkload), k), st));
                named.Add((locals[k].Path.Name, st));
            }
        var gens = _started?.Pktgens ?? [];
        for (int k = 0; k < gens.Length; k++)
            if (AskNow(gens[k], GetWorkloadStatus.Instance) is { } st) apps.Add(new AppReport(AppReportKind.Pktgen, Local(AppReportKind.Pktgen, w => w is PktgenWorkload, k), st));
        var captures = ImmutableArray.CreateBuilder<CaptureReport>();
        var taps = _started?.Captures ?? [];
        var points = LocalCapturePoints();
        for (int k = 0; k < taps.Length && k < points.Count; k++)
            if (AskNow(taps[k], FlushCapture.Instance) is CaptureFlushed cf) captures.Add(new CaptureReport(points[k], cf));
        return (new PartitionReport(Node, hosts.ToImmutable(), switches.ToImmutable(), wires.ToImmutable(), apps.ToImmutable(), captures.ToImmutable()), named);
    }

    /// <summary>The capture points with a tap here, in the order <see cref="SimulationActor"/> made their taps.</summary>
    private List<int> LocalCapturePoints()
        => [.. _settings.Captures.Select((c, k) => (c, k)).Where(x => x.c.Device != CaptureSettings.AllDevices && Plan.NodeOf(x.c.Host) == Node).Select(x => x.k)];

    public void Dispose()
    {
        _engine.ReleaseControl();
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
    }
}
