using System.Globalization;
using Akka.Actor;
using ActorStack.Actors.Cluster;
using ActorStack.Config;

namespace ActorStack.Cli;

/// <summary>
/// <c>actorstack node --listen HOST:PORT --seed-node ADDR… [--name NAME] [--config FILE]</c>: a worker of a distributed run.
/// Joins the cluster through the seed nodes and waits for a coordinator (<c>actorstack run</c> with
/// <c>actorstack.cluster</c> or <c>--nodes</c>) to place a partition of its scenario here. With <c>--config</c> the node
/// refuses a coordinator running another scenario (a hash of the configuration); another build is always refused. Runs
/// until Ctrl-C (exit 0) or until refused (exit 2, the reason on stderr).
/// </summary>
public static class Node
{
    public const string Usage = "usage: actorstack node --listen HOST:PORT --seed-node akka.tcp://actorstack@HOST:PORT [--seed-node ...] [--name NAME] [--config FILE]";

    public static async Task<int> Execute(string listen, IReadOnlyList<string> seeds, string? name, string? config, TextWriter o, TextWriter err,
        CancellationToken interrupt)
    {
        if (!TryEndpoint(listen, out var host, out int port))
        {
            err.WriteLine($"actorstack: node: --listen HOST:PORT is required (PORT 0: any free port)\n{Usage}");
            return 2;
        }
        if (seeds.Count == 0) { err.WriteLine($"actorstack: node: at least one --seed-node is required\n{Usage}"); return 2; }
        name ??= $"node-{port}";
        string? scenarioHash = null;
        TimeSpan? heartbeatPause = null;
        if (config is not null)
        {
            try
            {
                var text = ConfigText.PrepareFile(config);
                heartbeatPause = StackConfig.Load(text, config).Cluster.HeartbeatPause;
                // The coordinator hashes the effective scenario (run's StackConfig.EffectiveText): the same text here.
                scenarioHash = ClusterPlan.ScenarioHash(StackConfig.EffectiveText(text, config));
            }
            catch (StackConfigException e) { err.WriteLine($"actorstack: {e.Message}"); return 2; }
        }
        var system = ClusterNode.Start(host, port, seeds, heartbeatPause);
        try
        {
            var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(NodeAgentActor.Props(name, scenarioHash, refused), "node-agent");
            o.WriteLine($"node {name} listening on {ClusterNode.AddressOf(system)}, joining {string.Join(", ", seeds)}");
            o.Flush();
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var reg = interrupt.Register(() => stopped.TrySetResult());
            var first = await Task.WhenAny(refused.Task, stopped.Task, system.WhenTerminated);
            if (first == refused.Task)
            {
                err.WriteLine($"actorstack: node {name}: {await refused.Task}");
                return 2;
            }
            return 0;
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>HOST:PORT with a port 0..65535.</summary>
    public static bool TryEndpoint(string s, out string host, out int port)
    {
        int colon = s.LastIndexOf(':');
        host = colon > 0 ? s[..colon] : "";
        port = 0;
        return colon > 0 && int.TryParse(s[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 0 and <= 65535;
    }
}
