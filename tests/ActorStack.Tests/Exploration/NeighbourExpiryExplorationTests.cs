using ActorStack.Actors.Engine;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Exploration.StackNet;

namespace ActorStack.Tests.Exploration;

/// <summary>
/// Neighbour expiry against the fast path, under 200 random and 200 PCT schedules each: a sends bursts of 3 datagrams
/// to b through its ARP entry while the entry ages with short timers (base_reachable_time 40 ms, delay_first_probe_time
/// 10 ms, gc_stale_time 30 ms, gc_thresh1 0): a burst meets the entry REACHABLE (the published snapshot, the fast
/// path), just expired (STALE, DELAY, PROBE) or garbage-collected (a new INCOMPLETE entry). The bursts start at an
/// offset of 0..15 ms (by iteration) against the timers. Whatever the interleaving: every datagram is delivered, none
/// dropped, and the entry ends usable.
/// </summary>
public class NeighbourExpiryExplorationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Bursts = 5, PerBurst = 3;

    private static readonly SysctlSettings ShortTimers = new()
    {
        Neigh = NeighParms.Default with { BaseReachableTimeMs = 40, DelayFirstProbeTimeMs = 10, GcStaleTimeMs = 30, RetransTimeMs = 10, GcThresh1 = 0 },
    };

    internal static string NeighbourExpiryBody(ExplorationContext ctx, int variant)
    {
        var net = new StackNet(ctx);
        var a = net.Host("a", 1, "10.0.0.1", sysctl: ShortTimers);
        var b = net.Host("b", 2, "10.0.0.2", sysctl: ShortTimers);
        var wire = net.Wire(a, b, TimeSpan.FromMicroseconds(10));
        var sa = net.Socket(a, SockType.Dgram);
        var sb = net.Socket(b, SockType.Dgram);
        Assert.Equal(Errno.OK, net.Command(sb, new Bind(Ipv4Address.Any, 9000)));
        var (inbox, got) = net.Inbox("inbox");
        var offset = TimeSpan.FromMilliseconds(variant % 16);
        for (int j = 0; j < Bursts; j++)
            for (int i = 0; i < PerBurst; i++)
                ctx.System.Scheduler.ScheduleTellOnce(offset + TimeSpan.FromMilliseconds(45 * j), sa,
                    new SendTo(new byte[] { (byte)j, (byte)i }, Ip("10.0.0.2"), 9000), inbox);
        ctx.Engine.RunFor(offset + TimeSpan.FromMilliseconds(45 * Bursts + 20));
        var sA = net.Stats(a);
        var sB = net.Stats(b);
        var arp = net.Arp(a);
        var w = net.WireStats(wire);
        Assert.Equal(Bursts * PerBurst, got.OfType<Sent>().Count());
        Assert.Equal(Bursts * PerBurst, sB.Sockets.Single(s => s.LocalPort == 9000).RecvQueueDatagrams);
        Assert.Equal((0L, 0L, 0L), (sA.TotalDrops, sB.TotalDrops, w.Dropped));
        Assert.Equal(0L, w.AToBDetail!.InFlight + w.BToADetail!.InFlight);
        var neigh = net.Ask<NeighbourList>(a.Host, GetNeighbours.Instance);
        Assert.DoesNotContain(neigh.Entries, e => e.QueuedPackets > 0 || e.State is "INCOMPLETE" or "FAILED");
        return $"arp {string.Join(" ", arp.Arp.Counters.Where(c => c.Value != 0).Select(c => $"{c.Key}={c.Value}"))}; " +
               $"cache {string.Join(" ", arp.ArpCache.Counters.Where(c => c.Value != 0).Select(c => $"{c.Key}={c.Value}"))}; {neigh.Text.Trim()}";
    }

    private static ExploreOptions Options(int seed) => new() { Scenario = "neighbour-expiry-v1", Seed = seed, MaxTime = TimeSpan.FromSeconds(5), MaxSteps = 200_000 };

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void NeighbourExpiry_AgainstTheFastPath_EveryDatagramDelivered(string strategy)
        => ExplorationLog.Run(output, "neighbour expiry vs fast path", 200, strategy, ctx => NeighbourExpiryBody(ctx, ctx.Iteration), Options(1));
}
