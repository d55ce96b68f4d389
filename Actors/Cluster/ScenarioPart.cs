using Akka.Actor;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// The part of a scenario one partition runs (<see cref="Simulation.SimulationActor"/> given one builds only it): the hosts
/// and switches <see cref="Plan"/> places on <see cref="Node"/>, the wires between them, and for each wire that crosses
/// to another node the local half (a <see cref="Wire.WireActor"/> whose channel hands frames to <see cref="Egress"/>
/// with their arrival time instead of propagating them). The hooks are set by <see cref="SimPartition"/> and called on
/// the engine's thread only (inside the partition's events), as the engine's own state is: infrastructure under the
/// actors, not state shared between actors.
/// </summary>
public sealed class ScenarioPart(string node, ClusterPlan plan)
{
    public string Node { get; } = node;
    public ClusterPlan Plan { get; } = plan;

    public bool IsLocal(string hostOrSwitch) => Plan.NodeOf(hostOrSwitch) == Node;

    /// <summary>A frame left the local half of cross wire (index, direction) and reaches the far end at the absolute ns.</summary>
    public Action<int, WireDirection, ReadOnlyMemory<byte>, long>? Egress { get; set; }

    /// <summary>
    /// The local half of cross wire (index) was built: frames arriving in (direction) go to (local end) from (half),
    /// as the whole wire would send them.
    /// </summary>
    public Action<int, WireDirection, IActorRef, IActorRef>? HalfBuilt { get; set; }

    /// <summary>
    /// The fault schedule cut split wire (index) at this instant: frames that crossed before it and arrive after it were on
    /// the cable when it was cut, and the receiving partition drops them (SIM_LINK_DOWN), as the whole wire does.
    /// </summary>
    public Action<int>? HalfCut { get; set; }

    /// <summary>Every local server listens (the workloads wait for <see cref="StartPartitionWorkloads"/>).</summary>
    public Action? Ready { get; set; }
}
