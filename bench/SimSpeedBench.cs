using System.Diagnostics;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Bench;

/// <summary>
/// Issue 13's speed of the simulation engine (<see cref="SimEngine"/>), one thread running virtual time, measured with
/// the wall clock from outside:
///   sim-speed [--seconds N]                     a 5-actor forwarding ring (1 and 64 messages in flight), then two
///                                               hosts + a wire + ping on the real stack (events/s, simulated:wall)
///   sim-idle  [--hosts N] [--sim-seconds S] [--max-wall W] [--rx-usecs U] [--warmup S] [--no-collect]
///                                               N hosts in N/2 pairs, a wire per pair, each pair pinging once a second
///                                               for S simulated seconds: simulated:wall, events, memory at start and end;
///                                               stops after the first of its ten rows past W wall seconds (default 240);
///                                               the NICs' rx-usecs is U (default 0, an interrupt per frame; stack.hocon's 3);
///                                               --warmup S first runs 100 hosts for S simulated seconds in a system of
///                                               their own, unmeasured, so tiered JIT is done before the measured run;
///                                               --no-collect: the rows read the heap without a full collection, so every
///                                               collection of the run is inside the measured wall time
/// </summary>
public static class SimSpeedBench
{
    public static int Run(string mode, string[] args)
    {
        int seconds = 5, hosts = 1000, simSeconds = 600, maxWall = 240, rxUsecs = 0, warmup = 0;
        bool events = false, allocProfile = false, collectRows = true;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--seconds": seconds = int.Parse(Next()); break;
                case "--hosts": hosts = int.Parse(Next()); break;
                case "--sim-seconds": simSeconds = int.Parse(Next()); break;
                case "--max-wall": maxWall = int.Parse(Next()); break;
                case "--rx-usecs": rxUsecs = int.Parse(Next()); break;
                case "--warmup": warmup = int.Parse(Next()); break;
                case "--events": events = true; break;
                case "--alloc-profile": allocProfile = true; break;
                case "--no-collect": collectRows = false; break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        if (seconds < 1 || hosts < 2 || hosts % 2 != 0 || simSeconds < 1 || maxWall < 1 || rxUsecs is < 0 or > 10_000 || warmup < 0)
        {
            Console.Error.WriteLine("usage: bench sim-speed [--seconds N>=1] | sim-idle [--hosts EVEN>=2] [--sim-seconds S>=1] [--max-wall SECONDS] [--rx-usecs 0..10000] [--warmup SIM-SECONDS] [--no-collect]");
            return 2;
        }
        Console.WriteLine($"mode {mode}, {Environment.ProcessorCount} cores, load average {LoadAverage()}, {Reference(warm: true)}");
        if (mode == "sim-speed") return Speed(seconds);
        if (warmup > 0) WarmUp(warmup, rxUsecs);
        return Idle(hosts, simSeconds, maxWall, eventsByKind: events, allocProfile, rxUsecs, collectRows);
    }

    /// <summary>An actor system on the engine, booted inline and paused: from now on only this thread's Run* runs events.</summary>
    internal static (ActorSystem System, SimEngine Engine) EngineSystem(string name)
    {
        var system = ActorSystem.Create(name, StackConfig.AkkaConfig("akka.loglevel = WARNING\n" + SimEngine.Hocon));
        var engine = SimEngine.For(system);
        engine.Pause();
        return (system, engine);
    }

    internal static void Shutdown(ActorSystem system, SimEngine engine)
    {
        engine.ReleaseControl();
        system.Terminate().Wait(TimeSpan.FromSeconds(30));
    }

    // ------------------------------------------------------------------ sim-speed: the forwarding ring

    /// <summary>How many hops the ring may still make in this batch, and how many deliveries it made (one thread: plain fields).</summary>
    private sealed class Budget
    {
        public long Remaining;
        public long Delivered;
    }

    private sealed record SetNext(IActorRef Next);

    private sealed record Token
    {
        public static readonly Token Instance = new();
    }

    /// <summary>A plain actor that forwards what it gets to the next one in the ring while the batch's budget lasts.</summary>
    private sealed class Forwarder(Budget budget) : UntypedActor
    {
        private IActorRef _next = ActorRefs.Nobody;

        protected override void OnReceive(object message)
        {
            if (message is SetNext s) { _next = s.Next; return; }
            budget.Delivered++;
            if (budget.Remaining > 0)
            {
                budget.Remaining--;
                _next.Forward(message);
            }
        }
    }

    private static int Speed(int seconds)
    {
        var (system, engine) = EngineSystem("simspeed");
        var budget = new Budget();
        var ring = Enumerable.Range(0, 5).Select(i => system.ActorOf(Props.Create(() => new Forwarder(budget)), $"f{i}")).ToArray();
        for (int i = 0; i < ring.Length; i++) ring[i].Tell(new SetNext(ring[(i + 1) % ring.Length]));
        engine.RunUntilIdle();

        // Batches of 1,000,000 hops: tell the tokens in, RunUntilIdle (the clock never moves: every Tell is at the
        // current instant), until the wall time is up. Wall time, deliveries and executed events are measured around it.
        (double Deliveries, double Events, double PerEvent, double Cores) Measure(int inFlight, double wallSeconds)
        {
            long d0 = budget.Delivered, e0 = engine.Executed;
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed.TotalSeconds < wallSeconds)
            {
                budget.Remaining = 1_000_000;
                for (int i = 0; i < inFlight; i++) ring[i % ring.Length].Tell(Token.Instance);
                engine.RunUntilIdle();
            }
            double s = sw.Elapsed.TotalSeconds;
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            long d = budget.Delivered - d0, e = engine.Executed - e0;
            return (d / s, e / s, d / (double)Math.Max(1, e), cpu / s);
        }

        Measure(1, 1);  // warm-up: JIT and tiered compilation
        Measure(64, 1);
        Console.WriteLine($"5-actor forwarding ring on the engine (default dispatcher throughput 30), {seconds} s per figure:");
        Console.WriteLine("  in flight     deliveries/s       events/s  deliveries/event  process-cores");
        foreach (int inFlight in new[] { 1, 64 })
        {
            var (d, e, per, cores) = Measure(inFlight, seconds);
            Console.WriteLine($"  {inFlight,9} {d,16:N0} {e,14:N0} {per,17:F2} {cores,14:F2}");
        }
        if (engine.NowNs != 0) Console.WriteLine($"  (virtual clock moved to {engine.NowNs} ns: it should not have)");
        Shutdown(system, engine);

        PingPair(seconds);
        return 0;
    }

    // ------------------------------------------------------------------ hosts on the engine

    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    internal static HostSettings Host(string name, int mac, Ipv4Address addr, Ipv4Address peer, int peerMac, int cpus = 1, int rxUsecs = 0) =>
        new(name, cpus, new SysctlSettings(), [new DeviceSettings("eth0", Mac(mac), Addresses: [new Ipv4Prefix(addr, 24)]) { RxUsecs = rxUsecs }])
        {
            Neighbours = [new NeighbourSettings(peer, Mac(peerMac), "eth0")],
        };

    /// <summary>Ask on a paused engine: the replies arrive only while the engine runs (Akka's Ask timeout is wall time).</summary>
    internal static T[] AskAll<T>(SimEngine engine, IEnumerable<IActorRef> targets, object message)
    {
        var tasks = targets.Select(t => t.Ask<T>(message, TimeSpan.FromSeconds(60))).ToArray();
        engine.RunUntilIdle();
        for (int i = 0; i < 10 && !tasks.All(t => t.IsCompleted); i++) engine.RunFor(TimeSpan.FromMilliseconds(1));
        return Task.WhenAll(tasks).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Pairs of hosts ("h0"/"h1" on 10.p.q.1/24 and .2), each pair cabled by its own <see cref="WireActor"/> with a
    /// 250 µs delay and the peer in the neighbour table; the first host of each pair pings the second.
    /// </summary>
    private static (IActorRef[] Hosts, IActorRef[] Pings) Pairs(ActorSystem system, SimEngine engine, int pairs, TimeSpan interval, bool quiet = false, int rxUsecs = 0)
    {
        var hosts = PairHosts(system, engine, pairs, cpus: 1, rxUsecs);
        return (hosts, WireAndPing(system, engine, hosts, interval, quiet));
    }

    /// <summary>The hosts of <see cref="Pairs"/> ("h0"/"h1" on 10.p.q.1/24 and .2, the peer a static neighbour), started.</summary>
    internal static IActorRef[] PairHosts(ActorSystem system, SimEngine engine, int pairs, int cpus, int rxUsecs = 0)
    {
        var hosts = new IActorRef[pairs * 2];
        for (int p = 0; p < pairs; p++)
        {
            var a = new Ipv4Address((10u << 24) | ((uint)p << 8) | 1);
            var b = new Ipv4Address((10u << 24) | ((uint)p << 8) | 2);
            hosts[2 * p] = system.ActorOf(HostActor.Props(Host($"h{2 * p}", 2 * p + 1, a, b, 2 * p + 2, cpus, rxUsecs), seed: p + 1), $"h{2 * p}");
            hosts[2 * p + 1] = system.ActorOf(HostActor.Props(Host($"h{2 * p + 1}", 2 * p + 2, b, a, 2 * p + 1, cpus, rxUsecs), seed: p + 1), $"h{2 * p + 1}");
        }
        engine.RunUntilIdle();
        return hosts;
    }

    /// <summary>A wire per pair of <see cref="PairHosts"/> (250 µs), then a ping from the first host of each pair to the second.</summary>
    internal static IActorRef[] WireAndPing(ActorSystem system, SimEngine engine, IActorRef[] hosts, TimeSpan interval, bool quiet)
    {
        int pairs = hosts.Length / 2;
        var devices = AskAll<HostDevices>(engine, hosts, GetHostDevices.Instance);
        for (int p = 0; p < pairs; p++)
        {
            var da = devices[2 * p].Devices["eth0"];
            var db = devices[2 * p + 1].Devices["eth0"];
            var w = system.ActorOf(WireActor.Props(da, db, new WireOptions($"w{p}", p + 1, TimeSpan.FromMicroseconds(250))), $"w{p}");
            da.Tell(new AttachWire(w));
            db.Tell(new AttachWire(w));
        }
        engine.RunUntilIdle();
        var pings = new IActorRef[pairs];
        for (int p = 0; p < pairs; p++)
        {
            var dst = new Ipv4Address((10u << 24) | ((uint)p << 8) | 2);
            pings[p] = system.ActorOf(PingActor.Props(new PingSettings($"h{2 * p}", dst, Count: int.MaxValue, Interval: interval) { Quiet = quiet },
                hosts[2 * p], ActorRefs.Nobody, seed: p + 7), $"ping{p}");
        }
        engine.RunUntilIdle();
        return pings;
    }

    /// <summary>sim-speed's second figure: the real stack, two hosts and a wire, a ping every millisecond.</summary>
    private static void PingPair(int seconds)
    {
        var (system, engine) = EngineSystem("simping");
        var (_, pings) = Pairs(system, engine, 1, TimeSpan.FromMilliseconds(1));
        engine.RunFor(TimeSpan.FromSeconds(1)); // warm-up
        long e0 = engine.Executed, t0 = engine.NowNs;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds) engine.RunFor(TimeSpan.FromMilliseconds(100));
        double wall = sw.Elapsed.TotalSeconds, sim = (engine.NowNs - t0) / 1e9;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        long events = engine.Executed - e0;
        var st = AskAll<PingStatus>(engine, pings, GetWorkloadStatus.Instance)[0];
        Console.WriteLine("two hosts + a 250 µs wire + ping -i 0.001 on the engine (the real stack), " +
                          $"{wall:F1} s wall for {sim:F1} s simulated:");
        Console.WriteLine($"  {events / wall:N0} events/s, simulated:wall {sim / wall:F2}:1, {events / (sim * 1000):F1} events per probe, " +
                          $"{st.Transmitted:N0} probes, {st.Received:N0} replies, rtt {st.RttMinUs}/{st.RttAvgUs}/{st.RttMaxUs} µs");
        Console.WriteLine($"  process CPU {cpu / wall:F2} cores: {events / cpu:N0} events per CPU second, simulated:CPU {sim / cpu:F2}:1");
        Shutdown(system, engine);
    }

    // ------------------------------------------------------------------ sim-idle

    /// <summary>
    /// How fast this machine is right now: a fixed single-threaded loop (dictionary updates and lookups in a 4,096-entry
    /// table, 20 M iterations), in M iterations/s. This VM's host speed moves by up to 2× from minute to minute; printed
    /// before and after a run, it tells a slow run on a slow host from a slow build.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static string Reference(bool warm = false)
    {
        if (warm)
            for (int k = 0; k < 5; k++) Reference(); // CoreLib's dictionary code reaches its final tier first
        var d = new Dictionary<int, int>(4096);
        long sum = 0;
        const int n = 20_000_000;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++)
        {
            d[i & 4095] = i;
            sum += d.GetValueOrDefault((i * 7) & 4095);
        }
        double rate = n / sw.Elapsed.TotalSeconds / 1e6;
        return $"reference loop {rate:F1} M iterations/s (checksum {sum % 1000})";
    }

    /// <summary>The <see cref="Reference"/> loop's rate alone, for a row (not timed: the row's wall clock is stopped).</summary>
    private static double ReferenceRate()
    {
        var sw = Stopwatch.StartNew();
        Reference();
        return 20.0 / sw.Elapsed.TotalSeconds;
    }

    /// <summary>The same scenario, smaller and unmeasured, in a system of its own: the JIT's tiers are done before the measured run.</summary>
    private static void WarmUp(int simSeconds, int rxUsecs)
    {
        var sw = Stopwatch.StartNew();
        var (system, engine) = EngineSystem("simidlewarmup");
        Pairs(system, engine, 50, TimeSpan.FromSeconds(1), quiet: true, rxUsecs);
        engine.RunFor(TimeSpan.FromSeconds(simSeconds));
        long events = engine.Executed;
        Shutdown(system, engine);
        GC.Collect();
        Console.WriteLine($"warm-up (not measured): 100 hosts for {simSeconds} simulated s, {events:N0} events, {sw.Elapsed.TotalSeconds:F1} s wall");
    }

    private static int Idle(int hosts, int simSeconds, int maxWall, bool eventsByKind, bool allocProfile, int rxUsecs, bool collectRows)
    {
        int pairs = hosts / 2;
        var build = Stopwatch.StartNew();
        var (system, engine) = EngineSystem("simidle");
        var (_, heapEmpty) = Memory();
        // ping -q: a line per reply would be kept (up to OutputLines.MaxLines per ping), and memory would grow with them.
        var (_, pings) = Pairs(system, engine, pairs, TimeSpan.FromSeconds(1), quiet: true, rxUsecs);
        // --events: what the engine runs, by (kind, actor path with digits folded, message type), per probe.
        var histogram = new Dictionary<(SimEventKind, string, string), long>();
        if (eventsByKind)
            engine.Trace = r =>
            {
                var key = (r.Kind, System.Text.RegularExpressions.Regex.Replace(r.Target, "[0-9]+", "#"), r.Message);
                histogram[key] = histogram.GetValueOrDefault(key) + 1;
            };
        using var alloc = allocProfile ? new AllocProfile() : null;
        alloc?.Start();
        Console.WriteLine($"{hosts} hosts in {pairs} pairs, a wire each, one ping a second per pair, rx-usecs {rxUsecs}; built in {build.Elapsed.TotalSeconds:F1} s wall");
        var (ws0, heap0) = Memory();
        Console.WriteLine($"start: working set {ws0:F1} MiB, GC heap after a full collection {heap0:F1} MiB, {engine.QueueLength} events queued");
        Console.WriteLine($"managed memory of the hosts (their wires and pings included): {(heap0 - heapEmpty) * 1048576.0 / hosts / 1024:F1} KiB per host " +
                          $"(heap {heapEmpty:F1} MiB before building them)");
        Console.WriteLine("cumulative since the start (sim:wall, events/s) and over the last row (row sim:wall, row events/s); " +
                          (collectRows ? "heap: after a full collection, not timed" : "heap: as it is, no collection (--no-collect)"));
        Console.WriteLine("  sim-s   wall-s   sim:wall       events     events/s  row-s:w   row-events/s   ws-MiB  heap-MiB  queued  ref-M/s");
        long e0 = engine.Executed, t0 = engine.NowNs;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        int[] gc0 = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var pause0 = GC.GetTotalPauseDuration();
        var forcedPause = TimeSpan.Zero;
        var sw = Stopwatch.StartNew();
        int step = Math.Max(1, simSeconds / 10);
        int done = 0;
        bool cut = false;
        int[] forced = [0, 0, 0];
        var forcedCpu = TimeSpan.Zero;
        double prevWall = 0;
        long prevEvents = 0;
        while (done < simSeconds)
        {
            int chunk = Math.Min(step, simSeconds - done);
            engine.RunFor(TimeSpan.FromSeconds(chunk));
            done += chunk;
            double w = sw.Elapsed.TotalSeconds;
            long ev = engine.Executed - e0;
            sw.Stop(); // the full collection and the reference loop below are not the engine's time
            int[] before = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var pauseBefore = GC.GetTotalPauseDuration();
            var (ws, heap) = collectRows ? Memory() : (Process.GetCurrentProcess().WorkingSet64 / 1048576.0, GC.GetTotalMemory(forceFullCollection: false) / 1048576.0);
            double refRate = ReferenceRate(); // the machine's speed at this row, outside the timed run as well
            for (int g = 0; g < 3; g++) forced[g] += GC.CollectionCount(g) - before[g];
            forcedCpu += Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            forcedPause += GC.GetTotalPauseDuration() - pauseBefore;
            sw.Start();
            double dw = Math.Max(1e-9, w - prevWall);
            Console.WriteLine($"  {done,5} {w,8:F1} {done / w,9:F1}:1 {ev,12:N0} {ev / w,12:N0} {chunk / dw,9:F1}:1 {(ev - prevEvents) / dw,12:N0} {ws,8:F1} {heap,9:F1} {engine.QueueLength,7} {refRate,8:F1}");
            prevWall = w;
            prevEvents = ev;
            if (w > maxWall && done < simSeconds)
            {
                Console.WriteLine($"  stopped: more than --max-wall {maxWall} s of wall time");
                cut = true;
                break;
            }
        }
        double wall = sw.Elapsed.TotalSeconds, sim = (engine.NowNs - t0) / 1e9;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0 - forcedCpu).TotalSeconds;
        double pause = (GC.GetTotalPauseDuration() - pause0 - forcedPause).TotalSeconds;
        long events = engine.Executed - e0;
        // Without the rows' full collections (GC.CollectionCount counts a gen2 collection in all three generations).
        int[] gcs = [GC.CollectionCount(0) - gc0[0] - forced[0], GC.CollectionCount(1) - gc0[1] - forced[1], GC.CollectionCount(2) - gc0[2] - forced[2]];
        var (ws1, heap1) = Memory();
        var st = AskAll<PingStatus>(engine, pings, GetWorkloadStatus.Instance);
        long tx = st.Sum(s => s.Transmitted), rx = st.Sum(s => s.Received);
        Console.WriteLine($"end:   working set {ws1:F1} MiB, GC heap after a full collection {heap1:F1} MiB, {engine.QueueLength} events queued");
        Console.WriteLine($"result: {sim:F0} s simulated in {wall:F1} s wall, simulated:wall {sim / wall:F1}:1{(cut ? " (cut short)" : "")}, " +
                          $"{events:N0} events ({events / wall:N0}/s, {events / Math.Max(1.0, tx):F1} per probe), " +
                          $"{tx:N0} probes, {rx:N0} replies, working set {ws0:F1} -> {ws1:F1} MiB, GC heap {heap0:F1} -> {heap1:F1} MiB");
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        Console.WriteLine($"memory: {(heap1 - heapEmpty) * 1048576.0 / hosts / 1024:F1} KiB managed per host at the end (start {(heap0 - heapEmpty) * 1048576.0 / hosts / 1024:F1}); " +
                          $"last GC: heap {info.HeapSizeBytes / 1048576.0:F1} MiB, committed {info.TotalCommittedBytes / 1048576.0:F1} MiB, fragmented {info.FragmentedBytes / 1048576.0:F1} MiB, " +
                          $"{GC.GetTotalAllocatedBytes() / 1048576.0:F0} MiB allocated since the process started");
        Console.WriteLine($"cpu: {cpu:F1} s process CPU ({cpu / wall:F2} cores; the rows' full collections not included), " +
                          $"simulated:CPU {sim / cpu:F1}:1, {events / cpu:N0} events per CPU second; " +
                          $"GC.CollectionCount during the run (without the rows' full collections) gen0 {gcs[0]}, gen1 {gcs[1]}, gen2 {gcs[2]}, " +
                          $"paused {pause:F2} s ({pause / wall * 100:F1} % of the wall time); concurrent GC {(System.Runtime.GCSettings.IsServerGC ? "server" : AppContext.TryGetSwitch("System.GC.Concurrent", out bool c) ? (c ? "on" : "off") : "on (default)")}");
        if (eventsByKind)
        {
            engine.Trace = null;
            Console.WriteLine("events per probe by (kind, actor, message):");
            foreach (var ((k, t, m), n) in histogram.OrderByDescending(kv => kv.Value).Take(40))
                Console.WriteLine($"  {n / Math.Max(1.0, tx),7:F2}  {k,-10} {t,-40} {m}");
        }
        alloc?.Print();
        Console.WriteLine($"after the run: {Reference()}");
        Shutdown(system, engine);
        return 0;
    }

    private static (double WorkingSetMiB, double HeapMiB) Memory()
    {
        double heap = GC.GetTotalMemory(forceFullCollection: true) / 1048576.0;
        return (Process.GetCurrentProcess().WorkingSet64 / 1048576.0, heap);
    }

    internal static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }
}
