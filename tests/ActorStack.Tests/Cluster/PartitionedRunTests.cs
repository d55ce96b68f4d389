using System.Collections.Immutable;
using ActorStack.Actors.Cluster;
using ActorStack.Cli;
using ActorStack.Config;
using ActorStack.Messages;
using Xunit;

namespace ActorStack.Tests.Cluster;

/// <summary>
/// The conservative synchronisation in one process: the routed scenario (ping, UDP echo with fragments, a TCP transfer
/// with SHA-256) split over 1, 2 and 3 partitions gives the same counters on every host, and the same workload results.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PartitionedRunTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task APartitionLeftEmpty_RunsAndChangesNothing()
    {
        // Every host pinned to n1: n2 has no host, no switch and no wire, and the run is the one-partition run.
        var one = await ClusterKit.RunInProcess(ClusterKit.Routed(), ["n1"], Duration);
        var idle = await ClusterKit.RunInProcess(ClusterKit.Routed(), ["n1", "n2"], Duration);
        Assert.Null(idle.Error);
        Assert.Equal(0, idle.FramesCrossed);
        Assert.Equal(one.Events, idle.Events);
        Assert.Equal(one.HostCounters, idle.HostCounters);
    }

    [Fact]
    public async Task Routed_OneTwoThreePartitions_IdenticalCounters()
    {
        var one = await ClusterKit.RunInProcess(ClusterKit.Routed(), ["n1"], Duration);
        var two = await ClusterKit.RunInProcess(ClusterKit.Routed(ClusterKit.TwoNodes), ["n1", "n2"], Duration);
        var three = await ClusterKit.RunInProcess(ClusterKit.Routed(ClusterKit.ThreeNodes), ["n1", "n2", "n3"], Duration);
        foreach (var (k, v) in one.HostCounters.Where(kv => kv.Key.StartsWith("app ", StringComparison.Ordinal))) output.WriteLine($"{k}: {v}");
        output.WriteLine($"windows {two.Windows}/{three.Windows} crossed {two.FramesCrossed}/{three.FramesCrossed} events {one.Events}/{two.Events}/{three.Events}");
        Assert.Null(one.Error);
        Assert.Null(two.Error);
        Assert.Null(three.Error);
        // Seeded virtual runs: exact figures. The same events run on every node count, only their partition differs.
        Assert.Equal(0, one.FramesCrossed);
        // (With rx-usecs 3 on every NIC: before RX interrupt moderation 465, 926, 17,611 events and 180 windows.)
        Assert.Equal(442, two.FramesCrossed);   // r1–r2
        Assert.Equal(878, three.FramesCrossed); // sw1–r1 and r1–r2
        // 13,579 before the neighbour actor answered each NeighOutput (NeighOutputDone, neigh_resolve_output's order):
        // the same 188 NeighOutputs at the routers and 99 at the hosts, each now answered to its sender, 283 more events
        // in the windows; and one more when a raw socket's close began to wait for the IPv4 actor's RawUnregister
        // acknowledgement (the ping's socket). Nothing else moved: the counters below are those of 13,579.
        Assert.Equal(13863, one.Events);
        Assert.Equal(one.Events, two.Events);
        Assert.Equal(one.Events, three.Events);
        Assert.Equal(178, one.Windows);
        Assert.Equal(one.HostCounters.Keys, two.HostCounters.Keys);
        foreach (var (host, text) in one.HostCounters)
        {
            Assert.Equal(text, two.HostCounters[host]);
            Assert.Equal(text, three.HostCounters[host]);
        }
        // The windows are the same on every node count (every wire with lookahead is split, placement or not).
        Assert.Equal(one.Windows, two.Windows);
        Assert.Equal(one.Windows, three.Windows);
        Assert.Equal("PingStatus(h1 -> 10.0.3.10: 5 sent, 5 received, 0 errors, done=True)", one.HostCounters["app ping-0-h1"]);
        Assert.Equal("UdpEchoClientStatus(h3 -> 10.0.3.10:7: 10 sent, 10 answered, 0 lost, done=True)", one.HostCounters["app udp-echo-client-2-h3"]);
        Assert.Contains("BytesSent = 307200, BytesReceived = 307200, Retransmits = 18, ChecksumsMatch = True, Errors = 0, Done = True", one.HostCounters["app tcp-bulk-client-4-h1"]);
    }

    [Fact]
    public async Task CutDuringTraffic_OneAndTwoPartitions_IdenticalCountersAndDropTables()
    {
        // r1–r2 cut at 3 ms during the TCP transfer, mended at 60 ms: on two partitions the cut wire is the one between them.
        string config = ClusterKit.Routed(ClusterKit.TwoNodes, scenarioExtra: ClusterKit.CutR1R2);
        var one = await ClusterKit.RunInProcess(ClusterKit.Routed(scenarioExtra: ClusterKit.CutR1R2), ["n1"], Duration);
        var two = await ClusterKit.RunInProcess(config, ["n1", "n2"], Duration);

        Assert.Null(one.Error);
        Assert.Null(two.Error);
        Assert.Equal(one.HostCounters.Keys, two.HostCounters.Keys);
        foreach (var (host, text) in one.HostCounters) Assert.Equal(text, two.HostCounters[host]);
        var s = StackConfig.Load(config);
        Assert.Equal(RunReport.Text(s, one.Report!, full: true), RunReport.Text(s, two.Report!, full: true));
        // The drop tables: 25 frames lost on r1->r2 to the cut (those in flight at 3 ms and those offered while it was
        // cut), exactly what the whole wire loses in a single-node run (ClusterCliTests); none in flight at the end.
        var ab = two.Report!.Wires[3]!.AToBDetail!;
        Assert.Equal((317L, 292L, 0L, 25L, 25L), (ab.Offered, ab.Delivered, ab.InFlight, ab.DroppedBy(DropReason.SIM_LINK_DOWN), ab.Dropped));
        Assert.Contains("BytesReceived = 307200, Retransmits = 38, ChecksumsMatch = True", two.HostCounters["app tcp-bulk-client-4-h1"]);
    }

    [Fact]
    public async Task DeviceAll_OneTwoThreePartitions_MergedPcapsByteIdentical()
    {
        // Two device = all points (pcapng with the causes, classic pcap), with the r1–r2 cut and restore during the transfer:
        // each partition writes its hosts' devices and its wire halves' events to a part, the coordinator merges them.
        var dir = Directory.CreateTempSubdirectory("actorstack-all-");
        try
        {
            string Extra(string n) => ClusterKit.CutR1R2 + $$"""

                capture = [
                  { device = all, file = "{{dir.FullName}}/{{n}}.pcapng" }
                  { device = all, file = "{{dir.FullName}}/{{n}}.pcap", format = pcap }
                ]
                """;
            var one = await ClusterKit.RunInProcess(ClusterKit.Routed(scenarioExtra: Extra("one")), ["n1"], Duration);
            var two = await ClusterKit.RunInProcess(ClusterKit.Routed(ClusterKit.TwoNodes, scenarioExtra: Extra("two")), ["n1", "n2"], Duration);
            var three = await ClusterKit.RunInProcess(ClusterKit.Routed(ClusterKit.ThreeNodes, scenarioExtra: Extra("three")), ["n1", "n2", "n3"], Duration);
            Assert.Null(one.Error);
            Assert.Null(two.Error);
            Assert.Null(three.Error);
            foreach (var ext in new[] { "pcapng", "pcap" })
            {
                var a = await File.ReadAllBytesAsync(Path.Combine(dir.FullName, $"one.{ext}"));
                Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(dir.FullName, $"two.{ext}")));
                Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(dir.FullName, $"three.{ext}")));
            }
            // The parts are gone; the run's files are the merged ones.
            Assert.Equal(6, dir.GetFiles().Length);
            Assert.Equal(new[] { Path.Combine(dir.FullName, "three.pcapng"), Path.Combine(dir.FullName, "three.pcap") }, three.Files.ToArray());
            var f = Hardware.Capture.PcapNgReader.Read(await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "three.pcapng")));
            // Every host's devices, in the configuration's order, whichever partition wrote them.
            Assert.Equal(["h1/lo", "h1/eth0", "h3/lo", "h3/eth0", "r1/lo", "r1/eth0", "r1/eth1", "r2/lo", "r2/eth0", "r2/eth1", "h2/lo", "h2/eth0"],
                f.Interfaces.Select(i => i.Name));
            // In time order; the cut's comment once on each end of r1–r2 (one written by each half, on n2 and n3).
            Assert.True(f.Packets.Zip(f.Packets.Skip(1)).All(p => p.First.UnixNs <= p.Second.UnixNs));
            var cut = f.Packets.Where(p => p.Comments.Any(c => c.StartsWith("cable cut: carrier off", StringComparison.Ordinal))).ToList();
            Assert.Equal(["r1/eth1", "r2/eth0"], cut.Select(p => f.Interface(p.InterfaceId).Name));
            // Seeded: 1,669 frames and 27 causes (the cut and the restore on each end, 23 frames r1->r2 lost to the cut).
            Assert.Equal((1696, 1669L, 27L), (f.Packets.Length, one.Report!.Captures[0].Frames, one.Report!.Captures[0].Comments));
            Assert.Equal(23, f.Packets.Count(p => p.Comments.Any(c => c == "cable cut (SIM_LINK_DOWN) on wire r1/eth1-r2/eth0 a-to-b")));
            // The report's capture lines: the merged file with the parts' sums, as on one partition.
            var s = StackConfig.Load(ClusterKit.Routed(ClusterKit.ThreeNodes, scenarioExtra: Extra("three")));
            Assert.Equal(RunReport.Text(s, one.Report!, full: true).Replace("/one.", "/three."), RunReport.Text(s, three.Report!, full: true));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task DeviceAll_PlainRunAndThreePartitions_SamePcapng()
    {
        // `actorstack run` (one actor system, whole wires) writes its device = all file in the merge's canonical order:
        // the three partitions' merged file has the same bytes (no cut here: a whole wire's cut reports the frames in
        // flight as one "cable cut: N frame(s) in flight lost" block, the crossing's gate one block per frame).
        var dir = Directory.CreateTempSubdirectory("actorstack-all-plain-");
        try
        {
            string Extra(string n) => $"capture = [ {{ device = all, file = \"{dir.FullName}/{n}.pcapng\" }} ]";
            var three = await ClusterKit.RunInProcess(ClusterKit.Routed(ClusterKit.ThreeNodes, scenarioExtra: Extra("three")), ["n1", "n2", "n3"], Duration);
            string file = Path.Combine(dir.FullName, "plain.hocon");
            await File.WriteAllTextAsync(file, ClusterKit.Routed(scenarioExtra: Extra("plain")));
            var o = new StringWriter();
            var e = new StringWriter();
            int rc = await Runner.Execute(["run", "--config", file, "--duration", "2s", "--quiet"], o, e);

            Assert.True(rc == 0, o + "\n" + e);
            Assert.Null(three.Error);
            Assert.Contains($"capture: 1640 frames written to {dir.FullName}/plain.pcapng", o.ToString());
            var plain = await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "plain.pcapng"));
            Assert.Equal(plain, await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "three.pcapng")));
            Assert.Equal(1640, Hardware.Capture.PcapNgReader.Read(plain).Packets.Length);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void SplitDirection_ArrivalsAndCutLossesReplaceTheSendersDelivered()
    {
        var sent = new WireDirectionStats(13, 10, 1, 0, 0, 0, 0, ImmutableSortedDictionary<DropReason, long>.Empty.Add(DropReason.SIM_LINK_DOWN, 2));
        WireReport[] parts = [new(3, null, WireDirection.AToB, sent, 0, 0), new(3, null, WireDirection.AToB, null, 6, 3),
            new(3, null, WireDirection.BToA, null, 4, 0)];

        var ab = ClusterReport.Direction(parts, WireDirection.AToB);
        var ba = ClusterReport.Direction(parts, WireDirection.BToA);

        // 10 handed to the crossing: 6 arrived, 3 caught by the cut (2 + 3 = 5 SIM_LINK_DOWN), 1 still crossing (+1 in flight).
        Assert.Equal((13L, 6L, 2L, 5L), (ab.Offered, ab.Delivered, ab.InFlight, ab.DroppedBy(DropReason.SIM_LINK_DOWN)));
        Assert.Equal(13 + ab.Duplicated, ab.Delivered + ab.Dropped + ab.InFlight); // conservation, as the whole wire keeps it
        // The sending side lost with its node: only what arrived is known.
        Assert.Equal((0L, 4L, 0L), (ba.Offered, ba.Delivered, ba.InFlight));
    }
}
