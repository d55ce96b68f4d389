using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// What a node does with the coordinator's messages, one at a time: <see cref="PlacePartition"/> builds its
/// <see cref="SimPartition"/>, <see cref="RunWindow"/> runs a window (the first also starts the workloads),
/// <see cref="PeerLost"/> cuts the wires to a lost node, <see cref="CollectCounters"/> reports and ends the partition. Every failure is an answer
/// (<see cref="NodeRefused"/> with the reason), never an exception to the caller. Used in process (one per thread) and
/// by <see cref="NodeAgentActor"/> on a worker node.
/// </summary>
/// <remarks><paramref name="wallClock"/>: the control plane's clock (its actor system's scheduler) for each window's
/// <see cref="WindowDone.WallNs"/>; null: 0.</remarks>
public sealed class PartitionHost(string node, string? expectedScenarioHash = null, Func<TimeSpan>? wallClock = null) : IDisposable
{
    private SimPartition? _p;
    private bool _workloads;

    public string Node => node;
    /// <summary>The node's agent when an actor runs this host (<see cref="NodeAgentActor"/>): a real-clock partition's crossing runs there.</summary>
    public IActorRef? Agent { get; set; }
    public SimPartition? Partition => _p;

    public object Handle(object message)
    {
        try
        {
            switch (message)
            {
                case PlacePartition place:
                {
                    string hash = ClusterPlan.ScenarioHash(place.ConfigText);
                    if (expectedScenarioHash is not null && hash != expectedScenarioHash)
                        return new NodeRefused(node, $"node {node} runs another scenario (hash {expectedScenarioHash}, the coordinator's {hash})");
                    var s = StackConfig.Load(place.ConfigText, "cluster");
                    var pins = place.Placement.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
                    var nodes = pins.Values.Append(place.Node).Distinct().Order(StringComparer.Ordinal).ToList();
                    var plan = ClusterPlan.Make(s, nodes, pinned: pins);
                    _p?.Dispose();
                    if (place.RealClock && Agent is null) return new NodeRefused(node, $"node {node}: the real clock needs the node's agent");
                    _p = new SimPartition(s, plan, node, place.RealClock, Agent);
                    _workloads = false;
                    return new PartitionReady(node, _p.Start());
                }
                case RunWindow w when _p is not null:
                    if (!_workloads)
                    {
                        _p.StartWorkloads(w.StartNs);
                        _workloads = true;
                    }
                    var t0 = wallClock?.Invoke() ?? TimeSpan.Zero;
                    var done = _p.RunWindow(w.Window, w.EndNs, w.Inbound);
                    return done with { WallNs = wallClock is null ? 0 : SimEngine.ToNs(wallClock() - t0) };
                case PeerLost lost when _p is not null:
                    _p.PeerLost(lost.LostNode, lost.InFlight);
                    return new WindowDone(node, -1, [], _p.RealClock ? long.MaxValue : _p.Engine.NextDueNs ?? long.MaxValue, 0);
                case CollectCounters { Page: 0 } when _p is not null:
                {
                    // The run's last message: the partition ends here (its capture file is closed, its actors stopped);
                    // its counters are kept until their last page is taken.
                    var counters = _p.Counters();
                    Dispose();
                    _workloads = false;
                    return NextPage(counters, 0);
                }
                case CollectCounters { Page: > 0 } c when _collected is not null:
                    return NextPage(_collected, c.Page);
                default:
                    return new NodeRefused(node, $"node {node}: {message.GetType().Name} before the partition was placed");
            }
        }
        catch (Exception e) when (e is ClusterPlanException or StackConfigException or InvalidOperationException or ArgumentException)
        {
            return new NodeRefused(node, e.Message);
        }
    }

    /// <summary>
    /// The real clock: the peers' agents are known, the workloads start now (<see cref="SimPartition.StartRealTime"/>).
    /// Answers <see cref="PartitionReady"/> or <see cref="NodeRefused"/>.
    /// </summary>
    public object StartReal(StartRealPartition m)
    {
        if (_p is not { RealClock: true } p) return new NodeRefused(node, $"node {node}: StartRealPartition before a real-clock partition was placed");
        try
        {
            p.StartRealTime(m.Peers.Where(kv => kv.Key != node).ToImmutableDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
            _workloads = true;
            return new PartitionReady(node, 0);
        }
        catch (ClusterPlanException e)
        {
            return new NodeRefused(node, e.Message);
        }
    }

    private PartitionCounters? _collected;

    private PartitionCounters NextPage(PartitionCounters all, int page)
    {
        var p = CounterPages.Page(all, page);
        _collected = p.More ? all : null;
        return p;
    }

    public void Dispose()
    {
        _p?.Dispose();
        _p = null;
    }
}
