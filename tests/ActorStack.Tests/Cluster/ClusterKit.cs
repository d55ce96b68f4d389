using System.Collections.Immutable;
using ActorStack.Actors.Cluster;
using ActorStack.Config;
using Xunit;

namespace ActorStack.Tests.Cluster;

/// <summary>Cluster tests run one at a time: they start actor systems with remoting and child processes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster";
}

/// <summary>A routed scenario for the distributed runs and helpers to run it over in-process partitions.</summary>
public static class ClusterKit
{
    /// <summary>
    /// h1, h3 ─ sw1 ─ r1 ── r2 ── h2 (examples/routed.hocon with delays): ping h1→h2, UDP echo h3→h2 (3000 bytes, fragmented
    /// over r1–r2's MTU 1400), a TCP transfer h1→h2 with SHA-256. <paramref name="placement"/>: host or switch → node.
    /// </summary>
    public static string Routed(IReadOnlyDictionary<string, string>? placement = null, string r1r2Delay = "200us", string? capture = null,
        string scenarioExtra = "")
    {
        string Node(string name) => placement is not null && placement.TryGetValue(name, out var n) ? $"\n    node = \"{n}\"" : "";
        return $$"""
        actorstack {
          seed = 7
          scenario {
            hosts {
              h1 {
                devices { eth0 { addresses = ["10.0.1.10/24"] } }
                routes = ["default via 10.0.1.1"]{{Node("h1")}}
              }
              h3 {
                devices { eth0 { addresses = ["10.0.1.11/24"] } }
                routes = ["default via 10.0.1.1"]{{Node("h3")}}
              }
              r1 {
                sysctl { net.ipv4.ip_forward = 1 }
                devices {
                  eth0 { addresses = ["10.0.1.1/24"] }
                  eth1 { addresses = ["10.0.2.1/24"], mtu = 1400 }
                }
                routes = ["10.0.3.0/24 via 10.0.2.2"]{{Node("r1")}}
              }
              r2 {
                sysctl { net.ipv4.ip_forward = 1 }
                devices {
                  eth0 { addresses = ["10.0.2.2/24"], mtu = 1400 }
                  eth1 { addresses = ["10.0.3.1/24"] }
                }
                routes = ["10.0.1.0/24 via 10.0.2.1"]{{Node("r2")}}
              }
              h2 {
                devices { eth0 { addresses = ["10.0.3.10/24"] } }
                routes = ["default via 10.0.3.1"]{{Node("h2")}}
              }
            }
            switches {
              sw1 {
                ports = 4{{Node("sw1")}}
              }
            }
            wires = [
              { a = "h1/eth0", b = "sw1/port1", delay = 50us }
              { a = "h3/eth0", b = "sw1/port2", delay = 50us }
              { a = "r1/eth0", b = "sw1/port3", delay = 100us }
              { a = "r1/eth1", b = "r2/eth0", delay = {{r1r2Delay}} }
              { a = "r2/eth1", b = "h2/eth0", delay = 100us }
            ]
            workloads = [
              { type = ping, host = h1, dst = "10.0.3.10", count = 5, interval = 100ms, deadline = 5s }
              { type = udp-echo-server, host = h2, bind = "0.0.0.0:7" }
              { type = udp-echo-client, host = h3, server = "10.0.3.10:7", count = 10, size = 3000, interval = 50ms, timeout = 1s }
              { type = tcp-bulk-server, host = h2, bind = "0.0.0.0:5201" }
              { type = tcp-bulk-client, host = h1, server = "10.0.3.10:5201", bytes = 300K }
            ]
            {{(capture is null ? "" : $"capture {{ enabled = on, host = r2, device = eth0, file = \"{capture}\" }}")}}
            {{scenarioExtra}}
          }
        }
        """;
    }

    public static readonly ImmutableDictionary<string, string> TwoNodes = new Dictionary<string, string>
    {
        ["h1"] = "n1", ["h3"] = "n1", ["sw1"] = "n1", ["r1"] = "n1", ["r2"] = "n2", ["h2"] = "n2",
    }.ToImmutableDictionary();

    public static readonly ImmutableDictionary<string, string> ThreeNodes = new Dictionary<string, string>
    {
        ["h1"] = "n1", ["h3"] = "n1", ["sw1"] = "n1", ["r1"] = "n2", ["r2"] = "n3", ["h2"] = "n3",
    }.ToImmutableDictionary();

    /// <summary>The cable r1–r2 cut at 3 ms, during the TCP transfer, and mended at 60 ms (the fault schedule).</summary>
    public const string CutR1R2 = """
        schedule = [
          { at = 3ms, action = cut, wire = "r1/eth1" }
          { at = 60ms, action = restore, wire = "r1/eth1" }
        ]
        """;

    /// <summary>Runs <paramref name="config"/> over in-process partitions, one per node of its placement.</summary>
    public static async Task<ClusterRunResult> RunInProcess(string config, IReadOnlyList<string> nodes, TimeSpan duration)
    {
        var s = StackConfig.Load(config);
        var plan = ClusterPlan.Make(s, nodes);
        var links = nodes.Select(n => new LocalPartitionLink(n)).ToList();
        try
        {
            return await new WindowCoordinator(s, plan, config).Run(links, duration);
        }
        finally
        {
            foreach (var l in links) l.Dispose();
        }
    }
}
