using System.Diagnostics;
using Akka.Actor;
using ActorStack.Actors.Workloads;
using ActorStack.Messages;

namespace ActorStack.Bench;

/// <summary>
/// Issue 17's scale in one process, on the simulation engine (virtual time, one thread):
///   scale [--hosts N] [--cpus C] [--sim-seconds S] [--interval-ms I] [--hold SECONDS] [--hold-end SECONDS] [--alloc-profile]
/// N hosts (2 CPUs, <c>lo</c> and <c>eth0</c> each) in N/2 pairs, a wire per pair (250 µs), the peer a static
/// neighbour; the first host of each pair pings the second (<c>ping -q -i 1</c>) for S simulated seconds (default 60).
/// Prints the start time (hosts, then wires and pings), the managed memory per idle host (the GC heap after a full
/// collection with the hosts built, minus the empty system's, divided by N), resident memory, and per row of
/// simulated time the simulated:wall ratio and events/s. <c>--hold</c> pauses with the idle hosts built, <c>--hold-end</c>
/// after the run (for <c>dotnet-gcdump collect -p PID</c>, the heap by type).
/// </summary>
public static class ScaleBench
{
    public static int Run(string[] args)
    {
        int hosts = 100_000, cpus = 2, simSeconds = 60, intervalMs = 1000, hold = 0, holdEnd = 0;
        bool profile = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--hosts": hosts = int.Parse(Next()); break;
                case "--cpus": cpus = int.Parse(Next()); break;
                case "--sim-seconds": simSeconds = int.Parse(Next()); break;
                case "--interval-ms": intervalMs = int.Parse(Next()); break;
                case "--hold": hold = int.Parse(Next()); break;
                case "--hold-end": holdEnd = int.Parse(Next()); break;
                case "--alloc-profile": profile = true; break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        if (hosts < 2 || hosts % 2 != 0 || hosts > 2 * 65536 || cpus < 1 || simSeconds < 1 || intervalMs < 1)
        {
            Console.Error.WriteLine("usage: bench scale [--hosts EVEN 2..131072] [--cpus C>=1] [--sim-seconds S>=1] [--interval-ms I>=1]");
            return 2;
        }
        Console.WriteLine($"mode scale, {Environment.ProcessorCount} cores, load average {SimSpeedBench.LoadAverage()}, " +
                          $"server GC {System.Runtime.GCSettings.IsServerGC}");
        int pairs = hosts / 2;
        var (system, engine) = SimSpeedBench.EngineSystem("scale");
        long heapEmpty = GC.GetTotalMemory(forceFullCollection: true);

        var pause0 = GC.GetTotalPauseDuration();
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        using var allocProfile = profile ? new AllocProfile() : null;
        allocProfile?.Start();
        int[] gc0 = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var hostRefs = SimSpeedBench.PairHosts(system, engine, pairs, cpus);
        double hostsWall = sw.Elapsed.TotalSeconds;
        sw.Stop();
        double hostsCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds;
        double hostsPause = (GC.GetTotalPauseDuration() - pause0).TotalSeconds;
        double hostsAlloc = (GC.GetTotalAllocatedBytes(precise: true) - alloc0) / 1024.0 / hosts;
        allocProfile?.Print();
        string hostsGcs = $"{GC.CollectionCount(0) - gc0[0]}/{GC.CollectionCount(1) - gc0[1]}/{GC.CollectionCount(2) - gc0[2]}";
        long heapHosts = GC.GetTotalMemory(forceFullCollection: true);
        if (hold > 0)
        {
            // For a heap dump of the idle hosts: dotnet-gcdump collect -p PID (the bench's own wall-clock pause).
            Console.WriteLine($"pid {Environment.ProcessId}: holding {hold} s with the hosts built and idle");
            Thread.Sleep(TimeSpan.FromSeconds(hold));
        }
        sw.Start();
        var pings = SimSpeedBench.WireAndPing(system, engine, hostRefs, TimeSpan.FromMilliseconds(intervalMs), quiet: true);
        double startWall = sw.Elapsed.TotalSeconds;
        sw.Stop();
        long heapStart = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"hosts: {hosts:N0} ({cpus} CPUs, lo + eth0 each) in {pairs:N0} pairs; hosts started in {hostsWall:F1} s wall " +
                          $"({hostsCpu:F1} s process CPU, GC pauses {hostsPause:F1} s, collections gen0/1/2 {hostsGcs}, {hostsAlloc:F0} KiB allocated per host), " +
                          $"with wires and pings in {startWall:F1} s wall; {engine.Executed:N0} events to start");
        Console.WriteLine($"managed memory per idle host: {(heapHosts - heapEmpty) / 1024.0 / hosts:F1} KiB " +
                          $"(GC heap after a full collection {heapEmpty / 1048576.0:F1} -> {heapHosts / 1048576.0:F1} MiB); " +
                          $"with its wire and ping: {(heapStart - heapEmpty) / 1024.0 / hosts:F1} KiB; resident {Rss("VmRSS")}");

        Console.WriteLine("  sim-s   wall-s   sim:wall        events      events/s   heap-MiB  resident");
        long e0 = engine.Executed;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var run = Stopwatch.StartNew();
        int step = Math.Max(1, simSeconds / 6), done = 0;
        while (done < simSeconds)
        {
            int chunk = Math.Min(step, simSeconds - done);
            engine.RunFor(TimeSpan.FromSeconds(chunk));
            done += chunk;
            double w = run.Elapsed.TotalSeconds;
            long ev = engine.Executed - e0;
            run.Stop(); // the row's full collection is not the engine's time
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            Console.WriteLine($"  {done,5} {w,8:F1} {done / w,9:F2}:1 {ev,13:N0} {ev / w,13:N0} {heap / 1048576.0,10:F1}  {Rss("VmRSS")}");
            run.Start();
        }
        double wall = run.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        long events = engine.Executed - e0;
        var st = SimSpeedBench.AskAll<PingStatus>(engine, pings, GetWorkloadStatus.Instance);
        long tx = st.Sum(s => s.Transmitted), rx = st.Sum(s => s.Received);
        long heapEnd = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"result: {hosts:N0} hosts, start {startWall:F1} s wall, {simSeconds} s simulated in {wall:F1} s wall, " +
                          $"simulated:wall {simSeconds / wall:F2}:1, {events:N0} events ({events / wall:N0}/s, {events / Math.Max(1.0, cpu):N0} per CPU s), " +
                          $"{tx:N0} probes, {rx:N0} replies; managed {(heapHosts - heapEmpty) / 1024.0 / hosts:F1} KiB per idle host, " +
                          $"{(heapEnd - heapEmpty) / 1024.0 / hosts:F1} KiB per host at the end; resident {Rss("VmRSS")}, peak {Rss("VmHWM")}");
        if (holdEnd > 0)
        {
            Console.WriteLine($"pid {Environment.ProcessId}: holding {holdEnd} s after the run");
            Thread.Sleep(TimeSpan.FromSeconds(holdEnd));
        }
        SimSpeedBench.Shutdown(system, engine);
        return 0;
    }

    /// <summary>A line of /proc/self/status (VmRSS: resident now, VmHWM: its peak), in MiB.</summary>
    private static string Rss(string key)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key + ":"));
            return line is null ? "?" : $"{long.Parse(line.Split(':')[1].Trim().Split(' ')[0]) / 1024.0:F0} MiB";
        }
        catch (IOException) { return "?"; }
    }
}
