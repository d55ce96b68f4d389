using Akka.Actor;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Scale;

/// <summary>Run alone: the footprint test measures the process's managed heap, which a test running beside it would move.</summary>
[CollectionDefinition(nameof(HostFootprintCollection), DisableParallelization = true)]
public sealed class HostFootprintCollection;

/// <summary>
/// Issue 17, scale in one process: an idle host (2 CPUs, <c>lo</c> and one NIC, the peer a static neighbour) costs at
/// most 64 KiB of managed memory, measured as <c>bench scale</c> measures it (the GC heap after a full collection,
/// before and after building hosts, divided by their number); and a few hundred hosts in pinging pairs, each pair on
/// its own wire, all get every reply, on the virtual clock.
/// </summary>
[Collection(nameof(HostFootprintCollection))]
public sealed class HostFootprintTests() : EngineKit("footprint", "akka.loglevel = WARNING")
{
    private const long MaxIdleHostBytes = 64 * 1024;

    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);
    private static Ipv4Address Addr(int pair, int end) => new((10u << 24) | ((uint)pair << 8) | (uint)end);

    /// <summary>Host 2p+e-1 of pair p (e = 1 or 2): 2 CPUs, eth0 on 10.p.q.e/24, the other end a permanent neighbour.</summary>
    private static HostSettings PairHost(int pair, int end)
    {
        int n = 2 * pair + end, peer = end == 1 ? n + 1 : n - 1;
        return new HostSettings($"h{n - 1}", 2, new SysctlSettings(), [new DeviceSettings("eth0", Mac(n), Addresses: [new Ipv4Prefix(Addr(pair, end), 24)])])
        {
            Neighbours = [new NeighbourSettings(Addr(pair, end == 1 ? 2 : 1), Mac(peer), "eth0")],
        };
    }

    /// <summary>Builds pairs [<paramref name="first"/>, first + count) and runs the engine until every host has started.</summary>
    private IActorRef[] BuildPairs(int first, int count)
    {
        var hosts = new IActorRef[2 * count];
        for (int i = 0; i < count; i++)
        {
            int p = first + i;
            hosts[2 * i] = Sys.ActorOf(HostActor.Props(PairHost(p, 1), seed: p + 1), $"h{2 * p}");
            hosts[2 * i + 1] = Sys.ActorOf(HostActor.Props(PairHost(p, 2), seed: p + 1), $"h{2 * p + 1}");
        }
        Engine.RunUntilIdle();
        return hosts;
    }

    [Fact]
    public void IdleHost_ManagedMemory_AtMost64KiB_GcHeapDeltaOverHostsBuilt()
    {
        // Warm-up: the statics, caches and JIT-time allocations the first hosts pay once (Toeplitz table, MIB names,
        // Akka's props and dispatcher caches) are not a host's cost.
        BuildPairs(0, 8);
        // Five rounds of 40 idle hosts, each the heap after a full collection before and after; the median round
        // is the figure (a collection of another system's leftovers, or a late allocation, moves one round, not it).
        const int PairsPerRound = 20, Rounds = 5;
        var perHost = new List<double>();
        int next = 8;
        for (int r = 0; r < Rounds; r++)
        {
            long before = GC.GetTotalMemory(forceFullCollection: true);
            var built = BuildPairs(next, PairsPerRound);
            long after = GC.GetTotalMemory(forceFullCollection: true);
            GC.KeepAlive(built);
            next += PairsPerRound;
            perHost.Add((after - before) / (2.0 * PairsPerRound));
        }
        perHost.Sort();
        double median = perHost[Rounds / 2];
        // The lower side: a host is a dozen actors with their state, never a few KiB (a broken measurement, or hosts
        // that did not start, would be).
        Assert.True(median is >= 16 * 1024 and <= MaxIdleHostBytes,
            $"an idle host costs {median / 1024:F1} KiB of managed memory (rounds: {string.Join(", ", perHost.Select(b => $"{b / 1024:F1}"))} KiB); at most {MaxIdleHostBytes / 1024} KiB");
    }

    [Fact]
    public async Task ThreeHundredHosts_InPingingPairs_EveryProbeAnswered_Rtt500Us()
    {
        const int Pairs = 150, Count = 3;
        var hosts = BuildPairs(0, Pairs);
        var devices = new HostDevices[hosts.Length];
        for (int i = 0; i < hosts.Length; i++) devices[i] = await Ask<HostDevices>(hosts[i], GetHostDevices.Instance);
        for (int p = 0; p < Pairs; p++)
        {
            var (a, b) = (devices[2 * p].Devices["eth0"], devices[2 * p + 1].Devices["eth0"]);
            var w = Sys.ActorOf(WireActor.Props(a, b, new WireOptions($"w{p}", p + 1, TimeSpan.FromMicroseconds(250))), $"w{p}");
            a.Tell(new AttachWire(w));
            b.Tell(new AttachWire(w));
        }
        Engine.RunUntilIdle();
        var pings = new IActorRef[Pairs];
        for (int p = 0; p < Pairs; p++)
            pings[p] = Sys.ActorOf(PingActor.Props(new PingSettings($"h{2 * p}", Addr(p, 2), Count: Count) { Quiet = true },
                hosts[2 * p], ActorRefs.Nobody, seed: p + 7), $"ping{p}");
        var status = new PingStatus[Pairs];
        async Task<bool> AllDone()
        {
            for (int p = 0; p < Pairs; p++) status[p] = await Ask<PingStatus>(pings[p], GetWorkloadStatus.Instance);
            return status.All(s => s.Done);
        }
        await RunUntilAsync(AllDone, TimeSpan.FromSeconds(10), "every ping done");
        foreach (var s in status)
        {
            // 3 probes a second apart, each answered over the 250 µs wire both ways: 500 µs (the hosts' CPU cost is zero).
            Assert.Equal((Count, Count, 0L, 0L), (s.Transmitted, s.Received, s.Errors, s.Duplicates));
            Assert.Equal((500L, 500L, 500L), (s.RttMinUs, s.RttAvgUs, s.RttMaxUs));
        }
        Assert.Equal(Pairs, status.Select(s => s.Destination).Distinct().Count());
    }
}
