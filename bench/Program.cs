using System.Diagnostics;
using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Bench;

// ActorStack benchmarks. Wall-clock time is fine here: this measures the stack from outside.
//   dotnet run -c Release --project bench -- rx [--seconds N] [--ratep PPS (default 1100000, 0 = max)] [--alloc-profile]
//   dotnet run -c Release --project bench -- rx-overload [--seconds N] [--ratep PPS (default 0 = max)]
//   dotnet run -c Release --project bench -- udp-rtt|udp-stream|frag [options]   (bench/TxBench.cs)
//   dotnet run -c Release --project bench -- tcp-bulk|tcp-rr|tcp-conns [options]  (bench/TcpBench.cs)
//   dotnet run -c Release --project bench -- tcp-core [--seconds N]                (bench/TcpCoreBench.cs: Tcbs only, no actors)
//   dotnet run -c Release --project bench -- sim-speed|sim-idle [options]          (bench/SimSpeedBench.cs: the simulation engine)
//   dotnet run -c Release --project bench -- cluster --nodes 1|2|3 [--hosts N] [--remote] (bench/ClusterBench.cs: over several nodes)
//   dotnet run -c Release --project bench -- scale [--hosts N] [--sim-seconds S]   (bench/ScaleBench.cs: N hosts in one process)
//   dotnet run -c Release --project bench -- config-load [--hosts N,N,...]        (bench/ConfigLoadBench.cs: loading a big scenario)
var mode = args.Length > 0 ? args[0] : "rx";
if (mode is "udp-rtt" or "udp-stream" or "frag") return await ActorStack.Bench.TxBench.Run(mode, args[1..]);
if (mode is "sim-speed" or "sim-idle") return ActorStack.Bench.SimSpeedBench.Run(mode, args[1..]);
if (mode is "scale") return ActorStack.Bench.ScaleBench.Run(args[1..]);
if (mode is "tcp-core") return ActorStack.Bench.TcpCoreBench.Run(args[1..]);
if (mode is "config-load") return ActorStack.Bench.ConfigLoadBench.Run(args[1..]);
if (mode is "cluster") return await ActorStack.Bench.ClusterBench.Run(args[1..]);
if (mode is "tcp-bulk" or "tcp-rr" or "tcp-conns") return await ActorStack.Bench.TcpBench.Run(mode, args[1..]);
int seconds = mode == "rx-overload" ? 30 : 10;
// rx: pktgen paced a little above the receiver's capacity, so the figure is the receiver's rate and
// not the cost of building and dropping a 10x overload; rx-overload: as fast as the sender can build.
long ratep = mode == "rx" ? 1_100_000 : 0;
bool allocProfile = false;
for (int i = 1; i < args.Length; i++)
{
    if (args[i] == "--seconds" && i + 1 < args.Length) seconds = int.Parse(args[++i]);
    else if (args[i] == "--ratep" && i + 1 < args.Length) ratep = long.Parse(args[++i]);
    else if (args[i] == "--alloc-profile") allocProfile = true;
    else { Console.Error.WriteLine($"unknown argument {args[i]}"); return 2; }
}
if (mode is not ("rx" or "rx-overload"))
{
    Console.Error.WriteLine("usage: bench rx|rx-overload [--seconds N] [--ratep PPS]");
    return 2;
}

// 64-byte UDP frames from pktgen into one receiver: 1 NIC, 2 simulated CPUs, RPS on both,
// 8 flows over 2 sockets read by applications with recvmmsg(64).
string scenario = $$"""
actorstack.scenario {
  hosts {
    sender { cpus = 1, devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"] } } }
    receiver { cpus = 2, devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"], rps-cpus = "3", rx-ring = 4096 } } }
  }
  wires = [ { a = "sender/eth0", b = "receiver/eth0" } ]
  workloads = [
    { type = pktgen, host = sender, device = eth0, count = 0, pkt_size = 64, ratep = {{ratep}}, flows = 8,
      dst_mac = "02:00:00:00:00:02", dst_min = "10.0.0.2", udp_src_min = 10000, udp_src_max = 10003, udp_dst_min = 9000, udp_dst_max = 9001 }
    { type = udp-sink, host = receiver, bind = "0.0.0.0:9000", batch = 256, rcvbuf = 4194304 }
    { type = udp-sink, host = receiver, bind = "0.0.0.0:9001", batch = 256, rcvbuf = 4194304 }
  ]
}
actorstack.sysctl.net.core.rmem_max = 4194304
actorstack.sysctl.net.core.netdev_max_backlog = 10000
akka.loglevel = WARNING
""";
// The simulation answers SimulationStarted, or CommandFailed when it cannot build the scenario (as the CLI reports it).
if (await BenchSim.Start(scenario) is not { } bench) return 1;
using var system = bench.System;
var started = bench.Started;
var receiver = started.Hosts["receiver"];

async Task<(long Sent, long Read, long OutOfOrder, long Corrupt, long Flows)> Sample(object pktgenQuestion)
{
    var g = await Task.WhenAll(started.Pktgens.Select(p => p.Ask<PktgenStatus>(pktgenQuestion, TimeSpan.FromSeconds(10))));
    var s = await Task.WhenAll(started.Sinks.Select(p => p.Ask<SinkStatus>(GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
    // pktgen writes its header into every frame: a datagram without one is corrupt too.
    return (g.Sum(x => x.Sent), s.Sum(x => x.Datagrams), s.Sum(x => x.OutOfOrder), s.Sum(x => x.CorruptHeaders + x.Unsequenced), s.Sum(x => x.Flows));
}

// --alloc-profile: the runtime's allocation samples (one per ~100 KB allocated) by type.
using var allocSampler = allocProfile ? new AllocationSampler() : null;

// Warm up (JIT, tiered compilation), then measure. pktgen paces against its schedule (pktgen's next_tx), so the
// frames it could not send during the warm-up would be due at once and paid back inside the window, offered above
// ratep. At the window's start the bench therefore re-anchors every pktgen's schedule (PktgenReanchor: next_tx = now, as
// pktgen_run does on a restart, counters kept), and takes the frames sent so far from the answer: inside the window
// pktgen offers ratep at most (on the real clock it sends what is due on each 10 ms tick, so ± one tick's frames).
// offered/s (frames pktgen sent between the anchor and the last sample) is printed next to read/s. The window runs
// from the anchor's answer to the last sample's answer, so `elapsed` covers every frame counted.
await Task.Delay(TimeSpan.FromSeconds(2));
var sw = Stopwatch.StartNew(); // before the anchor: the window is never shorter than the time pktgen had
var (sent0, read0, ooo0, bad0, _) = await Sample(PktgenReanchor.Instance);
long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
var procCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
Console.WriteLine($"mode {mode}, ratep {(ratep == 0 ? "max" : ratep.ToString())}, {Environment.ProcessorCount} cores, {seconds}s, " +
                  $"load average {LoadAverage()}");
Console.WriteLine($"at window start: {sent0 - read0:N0} frames sent and not read (dropped, or queued: read can exceed offered by at most the queued ones); " +
                  "pktgen's schedule re-anchored here");
Console.WriteLine("   t  datagrams-read/s   offered/s   rss-MiB  gc-heap-MiB");
long prevRead = read0, prevSent = sent0;
long sent1 = sent0, read1 = read0, ooo1 = ooo0, bad1 = bad0, flows1 = 0;
double elapsed = 0;
for (int t = 1; t <= seconds; t++)
{
    await Task.Delay(TimeSpan.FromSeconds(1));
    (sent1, read1, ooo1, bad1, flows1) = await Sample(GetWorkloadStatus.Instance);
    elapsed = sw.Elapsed.TotalSeconds; // after the sample: the window holds every frame counted
    var p = Process.GetCurrentProcess();
    Console.WriteLine($"{t,4} {read1 - prevRead,17:N0} {sent1 - prevSent,11:N0} {p.WorkingSet64 / 1048576.0,9:F1} {GC.GetTotalMemory(false) / 1048576.0,12:F1}");
    prevRead = read1;
    prevSent = sent1;
}
long alloc1 = GC.GetTotalAllocatedBytes(precise: true);
var procCpu1 = Process.GetCurrentProcess().TotalProcessorTime;
var stats = await receiver.Ask<HostStats>(GetStats.Instance, TimeSpan.FromSeconds(10));
double readRate = (read1 - read0) / elapsed, offeredRate = (sent1 - sent0) / elapsed;
// Read can exceed offered only by the frames queued at the window's start (printed above).
Console.WriteLine($"result: {readRate:N0} datagrams read/s of {offeredRate:N0} frames offered/s (pktgen sent in the window; " +
                  $"{elapsed:F2} s), {(alloc1 - alloc0) / (double)Math.Max(1, sent1 - sent0):F0} bytes allocated per frame sent" +
                  (ratep > 0 ? $"; ratep {ratep:N0}, offered/ratep {offeredRate / ratep:F4}" : ""));
// pktgen's seq_num in every payload, checked per flow by the sinks (a duplicate or reordered seq counts).
Console.WriteLine($"payload check: {ooo1 - ooo0:N0} datagrams out of order or duplicated in the window (must be 0), " +
                  $"{bad1 - bad0:N0} corrupt headers in the window and {bad1:N0} in the whole run (must be 0: nothing here injects corruption), " +
                  $"{flows1} flows seen with pktgen headers");
// CPU time per datagram read is what the 2 cores must stay under (2 µs for 1,000,000/s), and it is
// less disturbed than the rate by other processes sharing the cores.
Console.WriteLine($"cost: {(procCpu1 - procCpu0).TotalMicroseconds / Math.Max(1, read1 - read0):F2} µs CPU and " +
                  $"{(alloc1 - alloc0) / (double)Math.Max(1, read1 - read0):F0} bytes allocated per datagram read " +
                  $"(process CPU {(procCpu1 - procCpu0).TotalSeconds / elapsed:F2} cores)");
Console.WriteLine("receiver drops: " + string.Join(", ", stats.Drops.Select(d => $"{d.Site.Reason}@{d.Site.Location}={d.Packets:N0}")));
if (allocSampler is not null)
    foreach (var (type, n) in allocSampler.Top(12)) Console.WriteLine($"  alloc samples {n,6}  {type}");
await system.Terminate();
if (bad1 > 0) Console.WriteLine("FAILED: corrupt pktgen headers at the sinks");
return bad1 > 0 ? 1 : 0;

static string LoadAverage()
{
    try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
    catch (IOException) { return "?"; }
}

/// <summary>Counts GCAllocationTick events (the runtime samples about every 100 KB allocated) by type name.</summary>
sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _byType = new();

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick") != true || e.Payload is null) return;
        int i = e.PayloadNames!.IndexOf("TypeName");
        if (i >= 0) _byType.AddOrUpdate(e.Payload[i]?.ToString() ?? "?", 1, (_, n) => n + 1);
    }

    public IEnumerable<(string Type, int Count)> Top(int n)
        => _byType.OrderByDescending(kv => kv.Value).Take(n).Select(kv => (kv.Key, kv.Value));
}
