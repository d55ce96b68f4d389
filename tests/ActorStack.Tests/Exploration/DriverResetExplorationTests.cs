using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Exploration.StackNet;

namespace ActorStack.Tests.Exploration;

/// <summary>
/// Driver reset against NAPI polls and TX completion, under 200 random and 200 PCT schedules each: a and b each send
/// a burst of 16 UDP datagrams to the other while b's driver crashes (<c>crash driver</c>: the supervisor resets the
/// device) at 0..30 µs after the sends (by iteration): b's RX ring is being polled, its TX ring has frames whose
/// completions are on the wire. Whatever the interleaving: every datagram is queued at the receiving socket or dropped
/// with a reason (none lost), b's device counters agree with the wire, the device comes back up after one reset, and
/// a second burst after it is delivered whole.
/// </summary>
public class DriverResetExplorationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Burst = 16, Second = 4;

    private static SendMany To(string ip, int n) => new([.. Enumerable.Range(0, n).Select(i => new SendTo(new byte[] { (byte)i, 7 }, Ip(ip), 9000))]);

    internal static string DriverResetBody(ExplorationContext ctx, int variant)
    {
        var net = new StackNet(ctx);
        var a = net.Host("a", 1, "10.0.0.1", permanent: ("10.0.0.2", 2));
        var b = net.Host("b", 2, "10.0.0.2", permanent: ("10.0.0.1", 1));
        var wire = net.Wire(a, b, TimeSpan.FromMicroseconds(10));
        var sa = net.Socket(a, SockType.Dgram);
        var sb = net.Socket(b, SockType.Dgram);
        Assert.Equal(Errno.OK, net.Command(sa, new Bind(Ipv4Address.Any, 9000)));
        Assert.Equal(Errno.OK, net.Command(sb, new Bind(Ipv4Address.Any, 9000)));
        var (inbox, got) = net.Inbox("inbox");
        var crashAt = TimeSpan.FromMicroseconds(2 * (variant % 16));
        ctx.System.Scheduler.ScheduleTellOnce(crashAt, b.Host, new CrashDriver("b", "eth0"), inbox);
        sa.Tell(To("10.0.0.2", Burst), inbox);
        sb.Tell(To("10.0.0.1", Burst), inbox);
        ctx.Engine.RunFor(TimeSpan.FromSeconds(3)); // the reset's link-up delay (2 s) is over
        var link = net.Ask<LinkList>(b.Host, GetLinks.Instance).Links.Single(l => l.Device == "eth0");
        Assert.Equal((1L, false, true, "UP"), (link.DriverResets, link.DriverFailed, link.Carrier, link.OperState));
        long qa = net.Ask<SocketInfo>(sa, GetSocketInfo.Instance).RecvQueueDatagrams;
        long qb = net.Ask<SocketInfo>(sb, GetSocketInfo.Instance).RecvQueueDatagrams;
        var mid = (A: net.Stats(a), B: net.Stats(b), W: net.WireStats(wire));
        sa.Tell(To("10.0.0.2", Second), inbox);
        sb.Tell(To("10.0.0.1", Second), inbox);
        ctx.Engine.RunFor(TimeSpan.FromMilliseconds(20));

        var stA = net.Stats(a);
        var stB = net.Stats(b);
        var w = net.WireStats(wire);
        // Four sendmmsg answers and the crash's acknowledgement. The fault is a supervised reset (logged as a warning);
        // any actor's crash beyond it would fail the iteration (ExploreOptions.FailOnActorError).
        Assert.Equal(4, got.OfType<SentMany>().Count());
        Assert.True(got.OfType<DriverFaultInjected>().Count() == 1, string.Join(", ", got));
        // The second burst, after the reset, arrives whole on both sides.
        long qa2 = stA.Sockets.Single(s => s.LocalPort == 9000).RecvQueueDatagrams;
        long qb2 = stB.Sockets.Single(s => s.LocalPort == 9000).RecvQueueDatagrams;
        Assert.Equal((qa + Second, qb + Second), (qa2, qb2));
        Assert.Equal((mid.A.TotalDrops, mid.B.TotalDrops, mid.W.Dropped), (stA.TotalDrops, stB.TotalDrops, w.Dropped));
        // Conservation over both hosts and the wire: sent = queued at the sockets + dropped by reason; nothing in flight.
        Assert.Equal(0L, w.AToBDetail!.InFlight + w.BToADetail!.InFlight);
        Assert.Equal(2L * (Burst + Second), Mib(stA, "Udp", "OutDatagrams") + Mib(stB, "Udp", "OutDatagrams"));
        long dropped = stA.TotalDrops + stB.TotalDrops + w.Dropped;
        Assert.True(2 * (Burst + Second) == qa2 + qb2 + dropped,
            $"sent {2 * (Burst + Second)} != queued {qa2}+{qb2} + dropped {dropped}: a: {Drops(stA)}; b: {Drops(stB)}; wire {w.Dropped}");
        // b's device: what the wire delivered to it was received or dropped by the device; what it sent is on the wire.
        var cb = stB.Device("eth0").Counters;
        var ca = stA.Device("eth0").Counters;
        Assert.Equal(w.BToADetail.Offered, cb.TxPackets);
        Assert.Equal(w.AToBDetail.Offered, ca.TxPackets);
        // (tx_dropped counts the qdisc purged at the reset too, as the ring's frames: every frame handed to the device once.)
        Assert.Equal((long)Burst + Second, cb.TxPackets + cb.TxDropped);
        Assert.Equal((long)Burst + Second, ca.TxPackets + ca.TxDropped);
        Assert.Equal(w.AToBDetail.Delivered, cb.RxPackets + cb.RxDropped);
        Assert.InRange(qb2, Second, Burst + Second);
        Assert.InRange(qa2, Second, Burst + Second);
        return $"queued a {qa2} b {qb2}; a: {Drops(stA)}; b: {Drops(stB)}; wire {w.Dropped}; b eth0 {cb}";
    }

    private static ExploreOptions Options(int seed) => new()
    {
        Scenario = "driver-reset-v1", Seed = seed, MaxTime = TimeSpan.FromSeconds(10), MaxSteps = 200_000,
    };

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void DriverReset_AgainstNapiPollAndTxCompletion_EveryFrameAccounted(string strategy)
        => ExplorationLog.Run(output, "driver reset vs NAPI/TX completion", 200, strategy, ctx => DriverResetBody(ctx, ctx.Iteration), Options(1));
}
