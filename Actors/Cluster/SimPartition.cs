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
    private readonly SimEngine? _engine; // null on the real clock (RealClock)
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
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // The real clock's crossing, all on the agent's thread: the halves and the scheduler tell the agent (RealEgress,
    // RealArrival, RealHalfCut), which calls in here one message at a time, as it does for the coordinator's messages.
    private readonly IActorRef _agent;
    private ImmutableDictionary<string, IActorRef> _peers = ImmutableDictionary<string, IActorRef>.Empty;
    private readonly HashSet<string> _lost = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _sentTo = new(StringComparer.Ordinal), _ackedBy = new(StringComparer.Ordinal),
        _receivedFrom = new(StringComparer.Ordinal);
    private ReplyBox? _startBox;
    private Task<object>? _startTask; // the real clock's StartSimulation
    /// <summary>The real clock: how long StartSimulation's answer may take (the servers, then the other partitions' start).</summary>
    public static readonly TimeSpan RealStartTimeout = TimeSpan.FromMinutes(10);
    private SimulationStarted? _started;

    /// <param name="realClock">
    /// Runs on the real clock (<c>run --clock real</c> over several nodes): Akka's own scheduler, no windows; a frame that
    /// leaves a local half goes at once to the far node's agent (<see cref="CrossFrames"/>), which delivers it after the
    /// wire's delay on its own scheduler (<see cref="ReceiveCross"/>); a lost peer does not stop the partition.
    /// </param>
    /// <param name="agent">The real clock: the node's agent (<see cref="NodeAgentActor"/>), which runs the crossing.</param>
    public SimPartition(StackSettings settings, ClusterPlan plan, string node, bool realClock = false, IActorRef? agent = null)
    {
        Node = node;
        _settings = settings;
        RealClock = realClock;
        _agent = agent ?? ActorRefs.Nobody;
        if (realClock && agent is null) throw new ArgumentException($"node {node}: a real-clock partition needs its node's agent", nameof(agent));
        // The partition's own log stays quiet at INFO (its start and shutdown); warnings and errors still show.
        _system = ActorSystem.Create($"part-{node}", StackConfig.AkkaConfig((realClock ? "" : SimEngine.Hocon) + "\nakka.loglevel = WARNING"));
        if (!realClock)
        {
            _engine = SimEngine.For(_system);
            _engine.Pause();
        }
        _part = new ScenarioPart(node, plan)
        {
            Egress = realClock ? (wire, dir, frame, _) => _agent.Tell(new RealEgress(wire, dir, frame), ActorRefs.NoSender) : OnEgress,
            HalfBuilt = (wire, dir, end, half) => _in[(wire, dir)] = (end, half),
            Ready = () => { _readyNs = NowNs; _ready.TrySetResult(); },
            HalfCut = realClock ? wire => _agent.Tell(new RealHalfCut(wire, NowNs), ActorRefs.NoSender) : wire => _lastCutNs[wire] = NowNs,
        };
        _sim = _system.ActorOf(SimulationActor.Props(settings, _part), "sim");
    }

    public string Node { get; }
    /// <summary>The partition's engine (virtual time only).</summary>
    public SimEngine Engine => _engine ?? throw new InvalidOperationException($"node {Node} runs on the real clock: no engine");
    public bool RealClock { get; }

    /// <summary>Now on the partition's clock, in ns: the engine's, or the real scheduler's monotonic clock.</summary>
    public long NowNs => _engine?.NowNs ?? SimEngine.ToNs(_system.Scheduler.MonotonicClock);
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
        if (RealClock)
        {
            // The servers listen on their own (real) time; the partition waits at most MaxStartTime for it. The answer to
            // StartSimulation comes once the workloads run (StartRealTime).
            var started = _startTask = _sim.Ask<object>(StartSimulation.Instance, RealStartTimeout);
            Task.WaitAny([_ready.Task, started], MaxStartTime);
            if (started is { IsCompletedSuccessfully: true, Result: CommandFailed rf }) throw new ClusterPlanException($"node {Node}: {rf.Message}");
            if (!_ready.Task.IsCompleted) throw new ClusterPlanException($"node {Node}: the partition's servers did not listen within {MaxStartTime.TotalSeconds}s");
            return 0;
        }
        var box = _startBox = new ReplyBox(_system);
        _sim.Tell(StartSimulation.Instance, box);
        long events = 0;
        while (_readyNs is null && box.Reply is not CommandFailed)
        {
            if (!Engine.Step()) throw new ClusterPlanException($"node {Node}: the partition stopped before its servers listened");
            if (++events > MaxStartEvents || Engine.Now > MaxStartTime)
                throw new ClusterPlanException($"node {Node}: the partition's servers did not listen within {MaxStartEvents} events / {MaxStartTime.TotalSeconds}s simulated");
        }
        if (box.Reply is CommandFailed f) throw new ClusterPlanException($"node {Node}: {f.Message}");
        return _readyNs!.Value;
    }

    /// <summary>
    /// The real clock: the other partitions' agents (<paramref name="peers"/>, by node); starts the workloads now and
    /// waits (at most <see cref="MaxStartTime"/>) until they run. On the agent's thread, as every real-clock call here.
    /// </summary>
    public void StartRealTime(ImmutableDictionary<string, IActorRef> peers)
    {
        if (!RealClock) throw new InvalidOperationException($"node {Node} runs on the virtual clock");
        _peers = peers;
        _sim.Tell(StartPartitionWorkloads.Instance, ActorRefs.NoSender);
        var start = _startTask ?? throw new InvalidOperationException($"node {Node}: not started");
        try { start.Wait(MaxStartTime); }
        catch (AggregateException e) { throw new ClusterPlanException($"node {Node}: the workloads did not start ({e.InnerException?.Message})"); }
        _started = start.IsCompletedSuccessfully ? start.Result as SimulationStarted : null;
        if (_started is null) throw new ClusterPlanException($"node {Node}: the workloads did not start ({(start.IsCompletedSuccessfully ? start.Result : "no answer")})");
    }

    /// <summary>
    /// The real clock: a frame left the local half of a split wire; it goes at once to the far end's
    /// node (the far partition delays it by the wire's delay). To a lost node, or one never given: SIM_NODE_LOST.
    /// The half told the agent (<see cref="RealEgress"/>), which calls this.
    /// </summary>
    public void EgressReal(RealEgress e)
    {
        var c = Plan.Cross(e.Wire);
        if (c is null) return;
        string far = e.Direction == WireDirection.AToB ? c.NodeB : c.NodeA;
        if (_lost.Contains(far) || !_peers.TryGetValue(far, out var peer))
        {
            Drop(DropReason.SIM_NODE_LOST, 1);
            return;
        }
        long seq = _seq.GetValueOrDefault((e.Wire, e.Direction));
        _seq[(e.Wire, e.Direction)] = seq + 1;
        _sentTo[far] = _sentTo.GetValueOrDefault(far) + 1;
        FramesOut++;
        peer.Tell(new CrossFrames(Node, [new CrossFrame(NowNs, e.Wire, e.Direction, seq, e.Frame.ToArray())]), _agent);
    }

    /// <summary>The real clock: the fault schedule cut split wire <see cref="RealHalfCut.Wire"/> here (the gate drops what was crossing).</summary>
    public void HalfCutReal(RealHalfCut c) => _lastCutNs[c.Wire] = c.AtNs;

    /// <summary>
    /// The real clock: frames from node <see cref="CrossFrames.From"/> enter the medium here now and reach their end after
    /// the wire's delay, on this partition's scheduler, through the crossing's gate (a cut meanwhile drops them,
    /// SIM_LINK_DOWN); from a lost node: SIM_NODE_LOST. Acknowledged to <paramref name="sender"/> with the count so far.
    /// </summary>
    public void ReceiveCross(CrossFrames m, IActorRef sender)
    {
        if (_lost.Contains(m.From))
        {
            Drop(DropReason.SIM_NODE_LOST, m.Frames.Length);
            return;
        }
        long now = NowNs;
        foreach (var f in m.Frames)
        {
            if (_in.ContainsKey((f.Wire, f.Direction)))
            {
                // Back to the agent after the delay (RealArrival → ArriveReal: the gate, on the agent's thread).
                _system.Scheduler.ScheduleTellOnce(_settings.Wires[f.Wire].Delay, _agent, new RealArrival(f.Wire, f.Direction, now, f.Frame), ActorRefs.NoSender);
                FramesIn++;
            }
            else Drop(DropReason.SIM_LINK_UNATTACHED, 1);
        }
        long received = _receivedFrom[m.From] = _receivedFrom.GetValueOrDefault(m.From) + m.Frames.Length;
        sender.Tell(new CrossAck(Node, received), _agent);
    }

    /// <summary>The real clock: a frame's wire delay passed; through the crossing's gate to its end (<see cref="Arrive"/>).</summary>
    public void ArriveReal(RealArrival a)
    {
        if (_in.TryGetValue((a.Wire, a.Direction), out var dest))
            Pass(new CrossingGate(this, a.Wire, a.Direction, a.EnteredNs, 1, dest.End), new WireFrames([a.Frame]), dest.Half);
    }

    /// <summary>The real clock: node <see cref="CrossAck.From"/> received that many of the frames this partition sent it.</summary>
    public void ReceiveAck(CrossAck a) => _ackedBy[a.From] = Math.Max(_ackedBy.GetValueOrDefault(a.From), a.Received);

    /// <summary>Runs to <paramref name="startNs"/> (the latest partition's start) and starts the workloads there.</summary>
    public void StartWorkloads(long startNs)
    {
        Engine.RunUntilNs(startNs);
        if (_out.Count > 0)
            throw new ClusterPlanException($"node {Node}: {_out.Count} frame(s) crossed nodes before the workloads started (the first on wire {_out[0].Wire})");
        _sim.Tell(StartPartitionWorkloads.Instance, ActorRefs.NoSender);
        Engine.RunUntilIdle();
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
                Engine.TellAtNs(f.ArrivalNs, new CrossingGate(this, f.Wire, f.Direction, enteredNs, j - i, dest.End), new WireFrames([.. frames]), dest.Half);
                FramesIn += j - i;
            }
            else Drop(DropReason.SIM_LINK_UNATTACHED, j - i); // a frame for a wire with no end here: mis-routed
            i = j;
        }
        long before = Engine.Executed;
        if (endNs - 1 > Engine.NowNs) Engine.RunUntilNs(endNs - 1);
        var outbound = _out.ToImmutableArray().Sort();
        _out.Clear();
        FramesOut += outbound.Length;
        return new WindowDone(Node, window, outbound, Engine.NextDueNs ?? long.MaxValue, Engine.Executed - before);
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

    private void Arrive(CrossingGate g, object message, IActorRef sender) => Pass(g, message, sender);

    private void Pass(CrossingGate g, object message, IActorRef sender)
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
    /// <remarks>
    /// On the real clock the run goes on: the frames this partition sent the lost node that it never acknowledged
    /// (<see cref="CrossAck"/>) count as SIM_NODE_LOST too, as does every frame for it or from it after this.
    /// </remarks>
    public void PeerLost(string lostNode, long inFlight)
    {
        var box = new ReplyBox(_system);
        if (RealClock && _lost.Add(lostNode))
            inFlight += Math.Max(0, _sentTo.GetValueOrDefault(lostNode) - _ackedBy.GetValueOrDefault(lostNode));
        if (inFlight > 0) Drop(DropReason.SIM_NODE_LOST, inFlight);
        foreach (var c in Plan.CrossWires.Where(c => (c.NodeA == lostNode && c.NodeB == Node) || (c.NodeB == lostNode && c.NodeA == Node)))
            foreach (var (key, v) in _in)
                if (key.Wire == c.Wire)
                {
                    _lastCutNs[c.Wire] = NowNs;
                    v.Half.Tell(CutCable.Instance, box);
                }
        _engine?.RunUntilIdle();
    }

    /// <summary>The real clock: frames sent to and acknowledged by each peer (by node).</summary>
    public (long Sent, long Acked) SentTo(string node)
    {
        return (_sentTo.GetValueOrDefault(node), _ackedBy.GetValueOrDefault(node));
    }

    /// <summary>Drop counts of the crossing itself (frames lost with a node, mis-routed frames).</summary>
    public ImmutableArray<KeyValuePair<string, long>> CrossDrops
        => [.. _crossDrops.Select(kv => new KeyValuePair<string, long>(kv.Key.ToString(), kv.Value))];

    /// <summary>Asks <paramref name="target"/> at the current instant (the clock does not move); null when nothing answered.</summary>
    /// <remarks>On the real clock: waits for the answer, at most <see cref="RealAskTimeout"/>.</remarks>
    public object? AskNow(IActorRef target, object message)
    {
        if (_engine is { } e)
        {
            var box = new ReplyBox(_system);
            target.Tell(message, box);
            e.RunUntilIdle();
            return box.Reply;
        }
        try { return target.Ask<object>(message, RealAskTimeout).GetAwaiter().GetResult(); }
        catch (AskTimeoutException) { return null; }
    }

    /// <summary>How long a question of the end-of-run report waits on the real clock.</summary>
    public static readonly TimeSpan RealAskTimeout = TimeSpan.FromSeconds(10);

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
        // A device = all point's part is no file of the run's own: the coordinator writes the merged one.
        var files = report.Captures.Where(c => _settings.Captures[c.Point].Device != CaptureSettings.AllDevices)
            .Select(c => new KeyValuePair<string, string>("pcap", c.Flushed.File)).ToImmutableArray();
        return new PartitionCounters(Node, hosts.ToImmutable(), CrossDrops, files) { Report = report, CaptureParts = CaptureParts(report) };
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
        => [.. _settings.Captures.Select((c, k) => (c, k)).Where(x => x.c.Device == CaptureSettings.AllDevices || Plan.NodeOf(x.c.Host) == Node).Select(x => x.k)];

    /// <summary>
    /// A part of a <c>device = all</c> point above this size stays in its file on this node (<see cref="CapturePart.Bytes"/>
    /// empty, the path given): the message that carries the parts must stay under <c>ClusterSerializer.MaxMessageBytes</c>.
    /// </summary>
    public const int MaxCapturePartBytes = 32 << 20;

    // The part files of the device = all points written here (flushed by Gather), read and removed: the coordinator merges them.
    private ImmutableArray<CapturePart> CaptureParts(PartitionReport report)
    {
        var parts = ImmutableArray.CreateBuilder<CapturePart>();
        foreach (var c in report.Captures.Where(c => _settings.Captures[c.Point].Device == CaptureSettings.AllDevices))
        {
            string path = c.Flushed.File;
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                if (f.Length > MaxCapturePartBytes)
                {
                    parts.Add(new CapturePart(c.Point, path, ReadOnlyMemory<byte>.Empty));
                    continue;
                }
                var bytes = new byte[f.Length];
                f.ReadExactly(bytes);
                parts.Add(new CapturePart(c.Point, path, bytes));
            }
            File.Delete(path);
        }
        return parts.ToImmutable();
    }

    public void Dispose()
    {
        _engine?.ReleaseControl();
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
    }
}
