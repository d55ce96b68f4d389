using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

/// <summary>Asks a simulation for its switches and links (after <see cref="SimulationStarted"/>); answered by <see cref="SimulationTopology"/>.</summary>
public sealed record GetSimulationTopology
{
    public static readonly GetSimulationTopology Instance = new();
}

/// <summary>
/// The switches by name, the links in the order of <c>scenario.wires</c> (a <see cref="WireActor"/> per cable,
/// a <see cref="TapLinkActor"/> per TAP end; both answer <see cref="GetWireStats"/>), and the application workloads
/// (ping, traceroute, UDP echo server and client) in the order of <c>scenario.workloads</c>; each answers
/// <see cref="GetWorkloadStatus"/> with its status record (<see cref="PingStatus"/>, <see cref="TracerouteStatus"/>,
/// <see cref="UdpEchoServerStatus"/>, <see cref="UdpEchoClientStatus"/>).
/// </summary>
public sealed record SimulationTopology(ImmutableDictionary<string, IActorRef> Switches, ImmutableArray<IActorRef> Links,
    ImmutableArray<IActorRef> Apps);

/// <summary>
/// Published on the event stream when the fault schedule runs an action (<paramref name="Line"/> says what,
/// e.g. "cut wire h1/eth0-h2/eth0") and when a wire answers it (the outcome); the CLI prints each as it comes.
/// <paramref name="At"/> is the entry's time after the start of the workloads.
/// </summary>
public sealed record FaultScheduleEvent(TimeSpan At, string Line)
{
    public override string ToString() => $"[fault +{At.TotalSeconds:0.###}s] {Line}";
}
