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
    private long? _readyNs;
    private ReplyBox? _startBox;
    private SimulationStarted? _started;

    public SimPartition(StackSettings settings, ClusterPlan plan, string node)
    {
        Node = node;
        // The partition's own log stays quiet at INFO (its start and shutdown); warnings and errors still show.
        _system = ActorSystem.Create($"part-{node}", StackConfig.AkkaConfig(SimEngine.Hocon + "\nakka.loglevel = WARNING"));
        _engine = SimEngine.For(_system);
        _engine.Pause();
        _part = new ScenarioPart(node, plan)
        {
            Egress = OnEgress,
            HalfBuilt = (wire, dir, end, half) => _in[(wire, dir)] = (end, half),
            Ready = () => _readyNs = _engine.NowNs,
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
                _engine.TellAtNs(f.ArrivalNs, dest.End, new WireFrames([.. frames]), dest.Half);
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
                if (key.Wire == c.Wire) v.Half.Tell(CutCable.Instance, box);
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

    /// <summary>The counters of every local host (<see cref="CounterText"/>), and the capture's flush when it is here.</summary>
    public PartitionCounters Counters()
    {
        var hosts = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (name, host) in Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
            hosts.Add(new(name, AskNow(host, GetStats.Instance) is HostStats st ? CounterText.Render(st) : "(no answer)"));
        // The workloads' results (ping statistics, echo counts, the TCP transfer's bytes and SHA-256 verdict) by actor name.
        if (AskNow(_sim, GetSimulationTopology.Instance) is SimulationTopology topo)
            foreach (var app in topo.Apps.OrderBy(a => a.Path.Name, StringComparer.Ordinal))
                hosts.Add(new($"app {app.Path.Name}", AskNow(app, GetWorkloadStatus.Instance)?.ToString() ?? "(no answer)"));
        var files = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        if (_started?.Capture is { } cap && AskNow(cap, FlushCapture.Instance) is CaptureFlushed cf)
            files.Add(new("pcap", cf.File));
        return new PartitionCounters(Node, hosts.ToImmutable(), CrossDrops, files.ToImmutable());
    }

    public void Dispose()
    {
        _engine.ReleaseControl();
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
    }
}
