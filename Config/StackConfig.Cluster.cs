using System.Collections.Immutable;

namespace ActorStack.Config;

public static partial class StackConfig
{
    /// <summary><c>actorstack.cluster { seed-nodes = ["akka.tcp://actorstack@h:p"], min-nodes = N, placement = auto|explicit, join-timeout = 30s, heartbeat-pause = 30s }</c>.</summary>
    private static ClusterSettings ReadCluster(Reader r, Dictionary<string, object?> merged)
    {
        const string p = $"{Root}.cluster";
        if (merged.GetValueOrDefault("cluster") is not Dictionary<string, object?> c) return ClusterSettings.Default;
        r.KnownKeys(c, p, ["seed-nodes", "min-nodes", "placement", "join-timeout", "heartbeat-pause"]);
        var seeds = ImmutableArray.CreateBuilder<string>();
        switch (c.GetValueOrDefault("seed-nodes"))
        {
            case null: break;
            case List<object?> list:
                foreach (var s in list)
                {
                    if (s is string a && a.Contains("://", StringComparison.Ordinal) && a.Contains('@')) seeds.Add(a);
                    else r.Error($"{p}.seed-nodes", s, "must be an Akka address such as \"akka.tcp://actorstack@127.0.0.1:4053\"");
                }
                break;
            case var v: r.Error($"{p}.seed-nodes", v, "must be a list of Akka addresses"); break;
        }
        int min = r.Int(c, "min-nodes", p, 1, 64, 1);
        var placement = PlacementMode.Explicit;
        switch (c.GetValueOrDefault("placement"))
        {
            case null or "explicit": break;
            case "auto": placement = PlacementMode.Auto; break;
            case var v: r.Error($"{p}.placement", v, "must be auto or explicit"); break;
        }
        var timeout = r.DurationOr(c, "join-timeout", p, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        var pause = r.DurationOr(c, "heartbeat-pause", p, ClusterSettings.DefaultHeartbeatPause, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        return new ClusterSettings(seeds.ToImmutable(), min, placement, timeout) { HeartbeatPause = pause };
    }

    /// <summary>A host's or switch's <c>node = "n2"</c>: a node name (letters, digits, '-', '_'), or null when absent.</summary>
    private static string? ReadNode(Reader r, Dictionary<string, object?> d, string path)
    {
        var v = d.GetValueOrDefault("node");
        if (v is null) return null;
        if (v is string s && IsName(s)) return s;
        r.Error($"{path}.node", v, "must be a node name (letters, digits, '-' or '_'), e.g. \"n2\"");
        return null;
    }
}
