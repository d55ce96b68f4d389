using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;
using ActorStack.Config;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

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

    /// <summary>
    /// What Akka.Hosting's options do not say (the split-brain resolver's stable-after, the failure detectors' pause,
    /// no CLR exit from coordinated shutdown, the node agent's thread), over <c>stack.hocon</c>.
    /// </summary>
    public static Akka.Configuration.Config Hocon(TimeSpan? heartbeatPause = null) => ConfigurationFactory.ParseString($$"""
            akka.cluster {
              split-brain-resolver.stable-after = 2s
              failure-detector.acceptable-heartbeat-pause = {{(long)(heartbeatPause ?? ClusterSettings.DefaultHeartbeatPause).TotalMilliseconds}}ms
            }
            akka.remote.watch-failure-detector.acceptable-heartbeat-pause = {{(long)(heartbeatPause ?? ClusterSettings.DefaultHeartbeatPause).TotalMilliseconds}}ms
            akka.coordinated-shutdown.exit-clr = off
            actorstack-node-agent-dispatcher {
              type = PinnedDispatcher
            }
            """).WithFallback(StackConfig.AkkaConfig());

    /// <summary>
    /// Starts a member listening on <paramref name="host"/>:<paramref name="port"/> (0: a free port): an Akka.NET
    /// actor system on the generic host, configured with Akka.Hosting (<c>AddAkka</c>), Akka.Remote.Hosting
    /// (<c>WithRemoting</c>) and Akka.Cluster.Hosting (<c>WithClustering</c>: the seed nodes, keep-oldest downing).
    /// Terminating the system stops its host. <paramref name="heartbeatPause"/>: <c>actorstack.cluster.heartbeat-pause</c>.
    /// </summary>
    public static ActorSystem Start(string host, int port, IEnumerable<string> seeds, TimeSpan? heartbeatPause = null)
    {
        var seedList = seeds.ToArray();
        var app = new HostBuilder()
            .ConfigureServices(services => services.AddAkka(SystemName, b => b
                .AddHocon(Hocon(heartbeatPause), HoconAddMode.Append)
                .WithRemoting(new RemoteOptions
                {
                    HostName = host,
                    Port = port,
                    MaxFrameSize = Serialization.ClusterSerializer.MaxMessageBytes,
                    SendBufferSize = 4 << 20,
                    ReceiveBufferSize = 4 << 20,
                })
                .WithClustering(new ClusterOptions
                {
                    SeedNodes = seedList,
                    MinimumNumberOfMembers = 1,
                    LogInfo = false,
                    SplitBrainResolver = new KeepOldestOption { DownIfAlone = false },
                })))
            .Build();
        app.StartAsync().GetAwaiter().GetResult();
        var system = app.Services.GetRequiredService<ActorSystem>();
        system.WhenTerminated.ContinueWith(_ => app.Dispose(), TaskScheduler.Default);
        return system;
    }

    /// <summary>This member's address as a seed node string (<c>akka.tcp://actorstack@host:port</c>).</summary>
    public static string AddressOf(ActorSystem system) => Akka.Cluster.Cluster.Get(system).SelfAddress.ToString();
}
