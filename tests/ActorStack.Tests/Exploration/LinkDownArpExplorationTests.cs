using ActorStack.Actors.Engine;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Exploration.StackNet;

namespace ActorStack.Tests.Exploration;

/// <summary>
/// Link down against ARP resolution and queued packets, under 200 random and 200 PCT schedules each: a sends 3
/// datagrams to b with no neighbour entry (INCOMPLETE, the datagrams queued on it, an ARP request out) and the cable
/// is cut 0..30 µs later (by iteration): before the request left, while it or the reply is on the wire, or after the
/// reply. Whatever the interleaving: each datagram is delivered or dropped with a reason (none stays queued on a dead
/// entry), no INCOMPLETE entry is left, and once the cable is mended a new datagram resolves and is delivered.
/// </summary>
public class LinkDownArpExplorationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Queued = 3;

    internal static string LinkDownBody(ExplorationContext ctx, int variant)
    {
        var net = new StackNet(ctx);
        var a = net.Host("a", 1, "10.0.0.1");
        var b = net.Host("b", 2, "10.0.0.2");
        var wire = net.Wire(a, b, TimeSpan.FromMicroseconds(10));
        var sa = net.Socket(a, SockType.Dgram);
        var sb = net.Socket(b, SockType.Dgram);
        Assert.Equal(Errno.OK, net.Command(sb, new Bind(Ipv4Address.Any, 9000)));
        var (inbox, got) = net.Inbox("inbox");
        ctx.System.Scheduler.ScheduleTellOnce(TimeSpan.FromMicroseconds(2 * (variant % 16)), wire, CutCable.Instance, inbox);
        for (int i = 0; i < Queued; i++) sa.Tell(new SendTo(new byte[] { (byte)i }, Ip("10.0.0.2"), 9000), inbox);
        ctx.Engine.RunFor(TimeSpan.FromSeconds(5)); // past every ARP retry (mcast_solicit 3 × retrans_time 1 s)
        var neighA = net.Ask<NeighbourList>(a.Host, GetNeighbours.Instance);
        Assert.DoesNotContain(neighA.Entries, e => e.State == "INCOMPLETE" || e.QueuedPackets > 0);
        var mid = (A: net.Stats(a), B: net.Stats(b));
        long queuedMid = mid.B.Sockets.Single(s => s.LocalPort == 9000).RecvQueueDatagrams;
        // Every frame so far, both ways (the datagrams, a's ARP requests, b's replies): received (the datagrams queued at
        // b's socket, ARP taken in by the other's neighbour layer) or dropped with a reason on a host or the wire.
        var w1 = net.WireStats(wire);
        var (arpA, arpB) = (net.Arp(a).Arp, net.Arp(b).Arp);
        long arpOut = arpA["OutRequests"] + arpA["OutReplies"] + arpB["OutRequests"] + arpB["OutReplies"];
        long arpIn = arpA["InRequests"] + arpA["InReplies"] + arpB["InRequests"] + arpB["InReplies"];
        long dropped = mid.A.TotalDrops + mid.B.TotalDrops + w1.Dropped;
        Assert.True(Queued + arpOut == queuedMid + arpIn + dropped,
            $"{Queued} datagrams + {arpOut} ARP out != queued {queuedMid} + {arpIn} ARP in + dropped {dropped}; a: {Drops(mid.A)}; b: {Drops(mid.B)}; " +
            $"wire a→b {string.Join(",", w1.AToBDetail!.Drops)} b→a {string.Join(",", w1.BToADetail!.Drops)}");
        // The datagrams still queued on the INCOMPLETE entry when the carrier went were purged (neigh_flush_dev → QUEUE_PURGE);
        // the rest were delivered or lost on the cut wire.
        long purged = mid.A.DropsAt(DropReason.QUEUE_PURGE, "neigh");
        Assert.InRange(purged, 0, Queued - queuedMid);
        Assert.InRange(arpOut, 1, 3);

        Assert.Equal(new CableState(false, true), net.Ask<CableState>(wire, RestoreCable.Instance));
        ctx.Engine.RunFor(TimeSpan.FromSeconds(1));
        sa.Tell(new SendTo(new byte[] { 99 }, Ip("10.0.0.2"), 9000), inbox);
        ctx.Engine.RunFor(TimeSpan.FromMilliseconds(10));
        var sA = net.Stats(a);
        var sB = net.Stats(b);
        var w = net.WireStats(wire);
        Assert.Equal(Queued + 1, got.OfType<Sent>().Count());
        Assert.Equal(queuedMid + 1, sB.Sockets.Single(s => s.LocalPort == 9000).RecvQueueDatagrams);
        Assert.Equal(Queued + 1L, Mib(sA, "Udp", "OutDatagrams"));
        Assert.Contains(net.Ask<NeighbourList>(a.Host, GetNeighbours.Instance).Entries, e => e.Address == Ip("10.0.0.2") && e.State == "REACHABLE");
        Assert.Equal(0L, w.AToBDetail!.InFlight + w.BToADetail!.InFlight);
        Assert.InRange(queuedMid, 0, Queued);
        return $"delivered {queuedMid}; purged {purged}; arp out {arpOut} in {arpIn}; a: {Drops(sA)}; b: {Drops(sB)}; wire a→b {string.Join(",", w.AToBDetail.Drops)} b→a {string.Join(",", w.BToADetail.Drops)}";
    }

    private static ExploreOptions Options(int seed) => new() { Scenario = "link-down-arp-v1", Seed = seed, MaxTime = TimeSpan.FromSeconds(10), MaxSteps = 200_000 };

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void LinkDown_AgainstArpResolution_NoPacketStaysOnADeadEntry(string strategy)
        => ExplorationLog.Run(output, "link down vs ARP", 200, strategy, ctx => LinkDownBody(ctx, ctx.Iteration), Options(1));
}
