using System.Diagnostics;
using System.Globalization;
using ActorStack.Actors.Cluster;
using ActorStack.Config;

namespace ActorStack.Bench;

/// <summary>
/// <c>bench -- config-load [--hosts N,N,…] [--nodes K]</c>: how the start of a big scenario grows with its size, before
/// any actor exists. For each N, the <c>cluster</c> bench's scenario (N hosts in N/2 pinging pairs over K nodes) is
/// generated and timed through each step a run takes: <see cref="ConfigText.Prepare"/> (the pre-pass over the text),
/// Akka's HOCON parser alone (<c>ConfigurationFactory.ParseString</c>), the whole <see cref="StackConfig.Load(string?, string)"/>
/// (the parse again, the tree, validation), the scenario hash and <see cref="ClusterPlan.Make"/>. Prints each step's wall
/// time and its µs per host: a step linear in N keeps its µs per host as N doubles.
/// </summary>
public static class ConfigLoadBench
{
    public static int Run(string[] args)
    {
        int[] sizes = [10_000, 20_000, 40_000];
        int nodes = 3;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--hosts" when i + 1 < args.Length:
                    sizes = [.. args[++i].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture))];
                    break;
                case "--nodes" when i + 1 < args.Length: nodes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine("usage: bench config-load [--hosts N,N,...] [--nodes K]"); return 2;
            }
        }
        if (sizes.Any(n => n < 2 || n % 2 != 0) || nodes < 1) { Console.Error.WriteLine("bench config-load: hosts even >= 2, nodes >= 1"); return 2; }
        var names = Enumerable.Range(1, nodes).Select(i => $"n{i}").ToList();
        Console.WriteLine($"config-load: {nodes} node(s), {Environment.ProcessorCount} cores, load average {SimSpeedBench.LoadAverage()}");
        Console.WriteLine("   hosts  text-MiB   prepare-s  akka-parse-s     load-s   hash-s   plan-s   load-us/host  total-us/host");
        foreach (int n in sizes)
        {
            string text = ClusterBench.Scenario(n, nodes, 1000);
            var sw = Stopwatch.StartNew();
            var prepared = ConfigText.Prepare(text, "bench");
            double prepare = sw.Elapsed.TotalSeconds;
            sw.Restart();
            _ = Akka.Configuration.ConfigurationFactory.ParseString(prepared);
            double parse = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var s = StackConfig.Load(text);
            double load = sw.Elapsed.TotalSeconds;
            sw.Restart();
            _ = ClusterPlan.ScenarioHash(text);
            double hash = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var plan = ClusterPlan.Make(s, names);
            double make = sw.Elapsed.TotalSeconds;
            if (s.Hosts.Length != n || plan.CrossWires.Length == 0 && nodes > 1) { Console.Error.WriteLine("bench config-load: wrong scenario"); return 1; }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{n,8} {text.Length / 1048576.0,9:0.0} {prepare,11:0.00} {parse,13:0.00} {load,10:0.00} {hash,8:0.00} {make,8:0.00} {load * 1e6 / n,14:0.0} {(load + hash + make) * 1e6 / n,14:0.0}"));
        }
        return 0;
    }
}
