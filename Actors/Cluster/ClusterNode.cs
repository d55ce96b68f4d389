using Akka.Actor;
using Akka.Configuration;
using ActorStack.Config;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// The control plane of a distributed run: an Akka.Cluster member (real time, thread pool) per node, named
/// <see cref="SystemName"/>, joined through the seed nodes. It carries only the window protocol (<c>Messages/Cluster.cs</c>,
/// binary); each node's simulation runs in its own local actor system on its own engine (<see cref="SimPartition"/>).
/// Downing: keep-oldest, so the coordinator (the first seed, the oldest member) survives a worker's loss and sees it as
/// unreachable, then removed.
/// </summary>
public static class ClusterNode
{
    public const string SystemName = "actorstack";
    /// <summary>Where a worker's agent lives.</summary>
    public const string AgentPath = "/user/node-agent";

    public static Akka.Configuration.Config Hocon(string host, int port, IEnumerable<string> seeds)
    {
        string seedList = string.Join(", ", seeds.Select(s => $"\"{s}\""));
        return ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp {
              hostname = "{{host}}"
              port = {{port}}
              maximum-frame-size = {{Serialization.ClusterSerializer.MaxMessageBytes}}b
              send-buffer-size = 4MiB
              receive-buffer-size = 4MiB
            }
            akka.cluster {
              seed-nodes = [{{seedList}}]
              min-nr-of-members = 1
              log-info = off
              downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
              split-brain-resolver {
                active-strategy = keep-oldest
                stable-after = 2s
                keep-oldest.down-if-alone = off
              }
              failure-detector.acceptable-heartbeat-pause = 3s
            }
            akka.coordinated-shutdown.exit-clr = off
            actorstack-node-agent-dispatcher {
              type = PinnedDispatcher
            }
            """).WithFallback(StackConfig.AkkaConfig());
    }

    /// <summary>Starts a member listening on <paramref name="host"/>:<paramref name="port"/> (0: a free port).</summary>
    public static ActorSystem Start(string host, int port, IEnumerable<string> seeds)
        => ActorSystem.Create(SystemName, Hocon(host, port, seeds));

    /// <summary>This member's address as a seed node string (<c>akka.tcp://actorstack@host:port</c>).</summary>
    public static string AddressOf(ActorSystem system) => Akka.Cluster.Cluster.Get(system).SelfAddress.ToString();
}
