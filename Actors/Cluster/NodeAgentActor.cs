using Akka.Actor;
using Akka.Event;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// A worker node's end of the window protocol (at <see cref="ClusterNode.AgentPath"/>): answers the coordinator's
/// <see cref="NodeHello"/> with its own (or refuses a coordinator of another build or scenario, on both sides), then hands
/// every message to its <see cref="PartitionHost"/> and answers with the result. It runs on a dispatcher of its own
/// (a pinned thread): a window runs the partition's engine to its end inside one message.
/// <see cref="Refused"/> completes when the coordinator refused this node or this node refused it (the CLI exits 2).
/// </summary>
public sealed class NodeAgentActor : ReceiveActor
{
    private readonly PartitionHost _host;

    public NodeAgentActor(string node, string? scenarioHash, TaskCompletionSource<string> refused)
    {
        var scheduler = Context.System.Scheduler; // the control plane's clock, for the windows' wall-time figures
        _host = new PartitionHost(node, scenarioHash, () => scheduler.MonotonicClock) { Agent = Self };
        var log = Context.GetLogger();
        string build = ClusterPlan.BuildHash();
        Receive<NodeHello>(h =>
        {
            string? why = h.BuildHash != build ? $"another build (coordinator {h.BuildHash}, node {node} {build})"
                : scenarioHash is not null && h.ScenarioHash != scenarioHash ? $"another scenario (coordinator {h.ScenarioHash}, node {node} {scenarioHash})"
                : null;
            if (why is not null)
            {
                string reason = $"node {node} refused coordinator {h.Node}: {why}";
                log.Error(reason);
                Sender.Tell(new NodeRefused(node, reason));
                refused.TrySetResult(reason);
                return;
            }
            Sender.Tell(new NodeHello(node, build, scenarioHash ?? ""));
        });
        Receive<NodeRefused>(r =>
        {
            log.Error("refused by the coordinator: {0}", r.Reason);
            refused.TrySetResult(r.Reason);
        });
        Receive<NodeAccepted>(_ => log.Info("node {0}: accepted by the coordinator", node));
        // The real clock (run --clock real): frames of the split wires straight between the agents, and their acknowledgements.
        // The partition's crossing runs here, one message at a time: its halves' frames, their arrivals after the delay, cuts.
        Receive<StartRealPartition>(m => Sender.Tell(_host.StartReal(m)));
        Receive<CrossFrames>(m => _host.Partition?.ReceiveCross(m, Sender));
        Receive<CrossAck>(m => _host.Partition?.ReceiveAck(m));
        Receive<RealEgress>(m => _host.Partition?.EgressReal(m));
        Receive<RealArrival>(m => _host.Partition?.ArriveReal(m));
        Receive<RealHalfCut>(m => _host.Partition?.HalfCutReal(m));
        ReceiveAny(m => Sender.Tell(_host.Handle(m)));
    }

    protected override void PostStop()
    {
        _host.Dispose();
        base.PostStop();
    }

    public static Props Props(string node, string? scenarioHash, TaskCompletionSource<string> refused)
        => Akka.Actor.Props.Create(() => new NodeAgentActor(node, scenarioHash, refused)).WithDispatcher("actorstack-node-agent-dispatcher");
}
