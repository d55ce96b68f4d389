using System.Diagnostics;
using System.Globalization;
using System.Text;
using Akka.Actor;
using ActorStack.Actors.Cluster;
using ActorStack.Config;

namespace ActorStack.Bench;

/// <summary>
/// <c>bench -- cluster --nodes 1|2|3 [--hosts N] [--sim-seconds S] [--warmup S] [--interval-ms MS] [--rx-usecs U] [--pairs-together]
/// [--write-scenario FILE] [--remote | --processes]</c>: N hosts in N/2 pinging pairs (a 1 ms
/// wire per pair, a ping every 100 ms, every other pair pinging the other way), host j on node j mod nodes, so with 2 or 3 nodes most pairs' wires cross nodes.
/// Default: the nodes are partitions in this process, one thread each, driven by the window coordinator; <c>--remote</c>:
/// the nodes are Akka.Cluster members in this process joined over loopback Akka.Remote (the window protocol crosses the
/// binary serializer and TCP, as between machines); <c>--processes</c>: n1 is this process and n2.. are <c>actorstack node</c>
/// child processes (Cli's build output, or <c>--node-dll</c>), each with its own heap (peak resident set per process).
/// Prints hosts, memory per host, start time, simulated:wall, engine
/// events (messages) per second, frames crossing nodes per second and the synchronisation's cost per window.
/// </summary>
public static class ClusterBench
{
    /// <summary>The wall clock of the run's figures (start, run, synchronisation per window): measured here, outside the stack.</summary>
    private static TimeSpan Wall() => System.Diagnostics.Stopwatch.GetElapsedTime(WallOrigin);
    private static readonly long WallOrigin = System.Diagnostics.Stopwatch.GetTimestamp();

    public static async Task<int> Run(string[] args)
    {
        int nodes = 1, hosts = 200, simSeconds = 10, warmupSeconds = 0, intervalMs = 100, rxUsecs = 3;
        bool remote = false, processes = false, pairs = false;
        string? nodeDll = null, writeScenario = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--nodes" when i + 1 < args.Length: nodes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--hosts" when i + 1 < args.Length: hosts = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--sim-seconds" when i + 1 < args.Length: simSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--warmup" when i + 1 < args.Length: warmupSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--interval-ms" when i + 1 < args.Length: intervalMs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rx-usecs" when i + 1 < args.Length: rxUsecs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--pairs-together": pairs = true; break;
                case "--write-scenario" when i + 1 < args.Length: writeScenario = args[++i]; break;
                case "--remote": remote = true; break;
                case "--processes": processes = true; break;
                case "--node-dll" when i + 1 < args.Length: nodeDll = args[++i]; break;
                default:
                    Console.Error.WriteLine("usage: bench cluster [--nodes 1..64] [--hosts EVEN] [--sim-seconds S] [--warmup S] [--interval-ms MS] [--rx-usecs U] [--pairs-together] [--write-scenario FILE] [--remote | --processes [--node-dll PATH]]");
                    return 2;
            }
        }
        if (nodes < 1 || hosts < 2 || hosts % 2 != 0 || intervalMs < 1) { Console.Error.WriteLine("bench cluster: --nodes >= 1, --hosts even >= 2, --interval-ms >= 1"); return 2; }
        if (processes && nodes < 2) { Console.Error.WriteLine("bench cluster: --processes needs --nodes >= 2 (n1 is this process)"); return 2; }
        nodeDll ??= Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "Cli", "bin", "Release", "net10.0", "actorstack.dll"));
        if (processes && !File.Exists(nodeDll)) { Console.Error.WriteLine($"bench cluster: {nodeDll} not found (dotnet build Cli -c Release, or --node-dll PATH)"); return 2; }
        string config = Scenario(hosts, nodes, intervalMs, rxUsecs, pairs);
        if (writeScenario is not null)
        {
            // The same scenario for `actorstack run --config FILE` (one process: the hosts' node keys are then only names).
            File.WriteAllText(writeScenario, config);
            Console.WriteLine($"cluster bench: scenario of {hosts} hosts written to {writeScenario}");
            return 0;
        }
        var s = StackConfig.Load(config);
        ClusterRunResult r;
        var systems = new List<ActorSystem>();
        var children = new List<Process>();
        var childPeak = new List<(string Node, long PeakKiB)>();
        var childCpu = new List<double>();
        try
        {
            if (!remote && !processes)
            {
                var names = Enumerable.Range(1, nodes).Select(i => $"n{i}").ToList();
                if (warmupSeconds > 0)
                {
                    // The same run, shorter and not measured: the JIT's tiering (tier 0, instrumented, tier 1 with PGO)
                    // happens here instead of inside the measured windows, where its thread takes a core.
                    var warm = names.Select(n => new LocalPartitionLink(n)).ToList();
                    try { await new WindowCoordinator(s, ClusterPlan.Make(s, names), config).Run(warm, TimeSpan.FromSeconds(warmupSeconds)); }
                    finally { foreach (var l in warm) l.Dispose(); }
                }
                var links = names.Select(n => new LocalPartitionLink(n, wallClock: Wall)).ToList();
                try { r = await new WindowCoordinator(s, ClusterPlan.Make(s, names), config) { WallClock = Wall }.Run(links, TimeSpan.FromSeconds(simSeconds)); }
                finally { foreach (var l in links) l.Dispose(); }
            }
            else if (processes)
            {
                // n1 (the coordinator and its partition) is this process; n2.. are `actorstack node` child processes.
                var coord = ClusterNode.Start("127.0.0.1", 0, []);
                systems.Add(coord);
                var c = Akka.Cluster.Cluster.Get(coord);
                await c.JoinAsync(c.SelfAddress);
                for (int i = 2; i <= nodes; i++) children.Add(StartNode(nodeDll, $"n{i}", ClusterNode.AddressOf(coord)));
                r = await ClusterRun.Run(coord, s, config, TimeSpan.FromSeconds(simSeconds), minNodes: nodes);
                for (int i = 0; i < children.Count; i++) childPeak.Add(($"n{i + 2}", PeakKiB($"/proc/{children[i].Id}/status")));
                foreach (var ch in children) childCpu.Add(CpuSeconds($"/proc/{ch.Id}/stat"));
            }
            else
            {
                var coord = ClusterNode.Start("127.0.0.1", 0, []);
                systems.Add(coord);
                var c = Akka.Cluster.Cluster.Get(coord);
                await c.JoinAsync(c.SelfAddress);
                for (int i = 2; i <= nodes; i++)
                {
                    var w = ClusterNode.Start("127.0.0.1", 0, [ClusterNode.AddressOf(coord)]);
                    systems.Add(w);
                    w.ActorOf(NodeAgentActor.Props($"n{i}", null, new TaskCompletionSource<string>()), "node-agent");
                }
                r = await ClusterRun.Run(coord, s, config, TimeSpan.FromSeconds(simSeconds), minNodes: nodes);
            }
        }
        finally
        {
            await Task.WhenAll(systems.Select(x => x.Terminate()));
            foreach (var p in children)
            {
                try { if (!p.HasExited) p.Kill(entireProcessTree: true); p.WaitForExit(10_000); }
                catch (InvalidOperationException) { } // never started
                p.Dispose();
            }
        }
        double sim = (r.EndNs - r.StartNs) / 1e9, run = r.RunWall.TotalSeconds;
        string how = processes ? $"n1 in this process, n2..n{nodes} `actorstack node` processes, loopback remoting"
            : remote ? "Akka.Cluster members in this process, loopback remoting" : "partitions in this process, a thread each";
        Console.WriteLine($"cluster bench: {nodes} node(s) ({how}), {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            hosts                 {hosts} ({hosts / 2} pinging pairs, a ping every {intervalMs} ms, {simSeconds} s simulated)
            peak memory per host  {Process.GetCurrentProcess().PeakWorkingSet64 / hosts / 1024.0:0} KiB resident ({(processes ? "this process only; all processes below" : "whole process")} / hosts)
            start                 {r.StartWall.TotalSeconds:0.00} s wall (place every partition, servers listening)
            run                   {run:0.00} s wall, simulated:wall {sim / run:0.00}:1
            events                {r.Events} ({r.Events / run:0} per wall second)
            frames crossing nodes {r.FramesCrossed} ({r.FramesCrossed / run:0} per wall second)
            windows               {r.Windows}, sync cost {r.SyncWall.TotalMilliseconds * 1000 / Math.Max(1, r.Windows):0.0} us per window ({r.SyncWall.TotalSeconds / run * 100:0.0}% of the run)
            counters digest       {Digest(r):x16}
            """));
        foreach (var (node, n) in r.EventsByNode)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"node {node,-4}              {n} events ({n / run:0} per wall second)"));
        if (processes)
        {
            long self = PeakKiB("/proc/self/status"), total = self + childPeak.Sum(x => x.PeakKiB);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak resident         n1 (this process) {self / 1024.0:0} MiB; {string.Join("; ", childPeak.Select(x => $"{x.Node} {x.PeakKiB / 1024.0:0} MiB"))}; all {total / 1024.0:0} MiB = {total / (double)hosts:0.0} KiB per host"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"process CPU           n1 (this process) {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0.0} s; {string.Join("; ", childCpu.Select((c, i) => $"n{i + 2} {c:0.0} s"))} (each process's whole life: start, run and end)"));
        }
        return r.Error is null ? 0 : 1;
    }

    /// <summary>FNV-1a over every host's counters and every workload's result: equal on every node count.</summary>
    private static ulong Digest(ClusterRunResult r)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (var (k, v) in r.HostCounters)
            foreach (char ch in k + "\n" + v) h = (h ^ ch) * 0x100000001b3UL;
        return h;
    }

    private static Process StartNode(string dll, string name, string seed)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "node", "--listen", "127.0.0.1:0", "--seed-node", seed, "--name", name }) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) Console.Error.WriteLine($"[{name}] {line}"); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>User plus system CPU seconds of a process from its <c>/proc/PID/stat</c> (utime, stime in clock ticks of 1/100 s); 0 when it is gone.</summary>
    private static double CpuSeconds(string stat)
    {
        try
        {
            var text = File.ReadAllText(stat);
            var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException) { return 0; }
    }

    /// <summary>The peak resident set (<c>VmHWM</c>, KiB) from a <c>/proc/PID/status</c>; 0 when the process is gone.</summary>
    private static long PeakKiB(string status)
    {
        try
        {
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        return 0;
    }

    /// <summary>
    /// The bench's scenario: N hosts in N/2 pinging pairs, host j on node n(j mod nodes + 1), or with
    /// <paramref name="pairsTogether"/> both hosts of pair p on node n(p mod nodes + 1) (no wire crosses nodes); every NIC's
    /// rx-usecs is <paramref name="rxUsecs"/>.
    /// </summary>
    internal static string Scenario(int hosts, int nodes, int intervalMs, int rxUsecs = 3, bool pairsTogether = false)
    {
        // The workers' processes start while this one holds the scenario: up to 2 minutes to join on a busy machine.
        string rx = rxUsecs == 3 ? "" : $", rx-usecs = {rxUsecs}"; // 3 is device-defaults.rx-usecs: the text of every earlier figure
        var b = new StringBuilder("actorstack {\n  seed = 1\n  cluster { join-timeout = 120s }\n  scenario {\n    hosts {\n");
        for (int j = 0; j < hosts; j++)
        {
            int p = j / 2;
            int node = (pairsTogether ? p : j) % nodes + 1;
            b.Append($"      h{j} {{\n        cpus = 1\n        devices {{ eth0 {{ addresses = [\"{Subnet(p)}.{j % 2 + 1}/24\"]{rx} }} }}\n        node = \"n{node}\"\n      }}\n");
        }
        b.Append("    }\n    wires = [\n");
        for (int p = 0; p < hosts / 2; p++) b.Append($"      {{ a = \"h{2 * p}/eth0\", b = \"h{2 * p + 1}/eth0\", delay = 1ms }}\n");
        b.Append("    ]\n    workloads = [\n");
        for (int p = 0; p < hosts / 2; p++)
        {
            // Every other pair pings the other way, so each window has work on both ends of the crossing wires (with one
            // direction only, the requests run on one node in one window and the replies on the other in the next).
            int from = p % 2 == 0 ? 2 * p : 2 * p + 1;
            b.Append($"      {{ type = ping, host = h{from}, dst = \"{Subnet(p)}.{2 - p % 2}\", count = 1000000, interval = {intervalMs}ms }}\n");
        }
        b.Append("    ]\n  }\n}\n");
        return b.ToString();
    }

    /// <summary>
    /// Pair p's /24: 10.(p / 250).(p % 250) for the first 62,500 pairs (the scenario of every earlier figure), then
    /// 11.x.y, 12.x.y, … (the old 10.(p / 250) passed 255 from 128,000 hosts on: 10.256.0.1 is no address).
    /// </summary>
    private static string Subnet(int p) => $"{10 + p / 62_500}.{p / 250 % 250}.{p % 250}";
}
