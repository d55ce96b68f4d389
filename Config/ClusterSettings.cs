using System.Collections.Immutable;

namespace ActorStack.Config;

/// <summary>How a scenario's hosts and switches are placed on cluster nodes (<c>actorstack.cluster.placement</c>).</summary>
public enum PlacementMode
{
    /// <summary>Every host and switch names its node (<c>node = "n2"</c>); those without one go to the first node.</summary>
    Explicit,
    /// <summary>Balanced host counts with few cut wires (a breadth-first greedy partition); a <c>node</c> key still pins.</summary>
    Auto,
}

/// <summary>
/// <c>actorstack.cluster</c>: the Akka.Cluster nodes a run spreads over. <see cref="MinNodes"/> 1 (the default) is one
/// process, no cluster. <see cref="JoinTimeout"/> bounds the wait for the nodes (a scenario naming a node that never
/// joins fails after it, naming the node). <see cref="HeartbeatPause"/> is the failure detector's acceptable heartbeat
/// pause on every member: a member silent for longer is unreachable, then downed (node loss). A large partition's build
/// and its gen-2 collections stall a member for seconds, so the default is far above Akka's 3 s.
/// </summary>
public sealed record ClusterSettings(ImmutableArray<string> SeedNodes, int MinNodes, PlacementMode Placement, TimeSpan JoinTimeout)
{
    public static readonly TimeSpan DefaultHeartbeatPause = TimeSpan.FromSeconds(30);
    public static readonly ClusterSettings Default = new([], 1, PlacementMode.Explicit, TimeSpan.FromSeconds(30));
    public TimeSpan HeartbeatPause { get; init; } = DefaultHeartbeatPause;
}
