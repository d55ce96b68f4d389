using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Faults;

/// <summary>
/// Conservation under each fault type: frames sent (+ duplicates made) = read + queued + dropped by reason (every
/// host's drop table and the wire's) + in flight, exactly (checked in <see cref="ConservationKit.RunToQuiet"/>).
/// </summary>
public class ConservationTests() : ConservationKit("conservation")
{
    private const string Wire = "sender/eth0-receiver/eth0";
    private static readonly TimeSpan Run = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task Conservation_NetemLoss_EveryLostFrameCountedOnTheWire()
    {
        var b = await RunToQuiet(Scenario(wire: """, netem-a-to-b = "loss 20%" """), Run);
        Assert.Equal(200, b.Sent);
        long lost = b.DropsOf(DropReason.SIM_NETEM_LOSS);
        Assert.InRange(lost, 20, 60);
        Assert.Equal(lost, b.Dropped);
        Assert.Equal(200 - lost, b.Read + b.Queued);
    }

    [Fact]
    public async Task Conservation_NetemDuplicate_CopiesDeliveredAndCounted()
    {
        var b = await RunToQuiet(Scenario(wire: """, netem-a-to-b = "duplicate 10%" """), Run);
        Assert.Equal(200, b.Sent);
        Assert.InRange(b.Duplicated, 5, 40);
        Assert.Equal(0, b.Dropped);
        Assert.Equal(200 + b.Duplicated, b.Read + b.Queued);
    }

    [Fact]
    public async Task Conservation_CableCutAndRestore_FramesDuringTheCutDroppedWithAReason()
    {
        var b = await RunToQuiet(Scenario(schedule: $$"""
            { at = 50ms, action = cut, wire = "{{Wire}}" }
            { at = 120ms, action = restore, wire = "{{Wire}}" }
            """), Run);
        Assert.Equal(200, b.Sent);
        Assert.True(b.Dropped > 0, b.ToString());
        Assert.True(b.Read > 0, b.ToString());
        Assert.Equal(b.Dropped, b.DropsOf(DropReason.SIM_LINK_DOWN) + b.DropsOf(DropReason.QDISC_DROP) + b.DropsOf(DropReason.DEV_READY)
                                + b.DropsOf(DropReason.QUEUE_PURGE));
    }

    [Fact]
    public async Task Conservation_SenderDriverCrash_ResetDropsCounted()
    {
        var b = await RunToQuiet(Scenario(schedule: """{ at = 50ms, action = crash, device = "sender/eth0" }"""), Run);
        Assert.Equal(200, b.Sent);
        Assert.True(b.Dropped > 0, b.ToString());
        Assert.True(b.Read > 0, b.ToString());
        Assert.True(b.DropsOf(DropReason.DEV_READY) > 0, b.ToString());   // pktgen's frames while the queues wait for the link
    }

    [Fact]
    public async Task Conservation_ReceiverStallThenCrash_MissedFramesCountedAndResetRecovers()
    {
        var b = await RunToQuiet(Scenario(schedule: """
            { at = 40ms, action = fault, device = "receiver/eth0", kind = rx-ring-stall }
            { at = 70ms, action = crash, device = "receiver/eth0" }
            """), Run);
        Assert.Equal(200, b.Sent);
        Assert.True(b.Dropped >= 20, b.ToString());
        Assert.True(b.Read >= 100, b.ToString());   // the reset cleared the stall
        Assert.True(b.Receiver.Device("eth0").Counters.RxMissedErrors > 0, b.ToString());
    }

    [Fact]
    public async Task Conservation_TxHangWatchdog_HungRingAndQdiscDroppedAtTheReset()
    {
        // UDP from a socket (through the qdisc, so the TX queue stops when the 64-descriptor ring is full).
        var b = await RunToQuiet(Scenario(count: 0, senderDev: ", tx-ring = 64",
            schedule: """{ at = 0ms, action = fault, device = "sender/eth0", kind = tx-hang }"""), Run, async sim =>
        {
            var host = sim.Hosts["sender"];
            var sock = (await Query<SocketCreated>(host, new SocketCreate(SockType.Dgram, 0))).Socket;
            // Each sendmsg costs the application simulated time (cpu-cost: sendmsg + output): tell them all, run 1 ms.
            var p = CreateTestProbe();
            for (int i = 0; i < 150; i++) sock.Tell(new SendTo(new byte[] { (byte)i }, Ipv4Address.Parse("10.0.0.2"), 9000), p.Ref);
            Engine.RunFor(TimeSpan.FromMilliseconds(1));
            for (int i = 0; i < 150; i++) await p.ExpectMsgAsync<Sent>(TimeSpan.Zero);
        });
        // Nothing left the hung ring; the watchdog's reset freed the 64 descriptors and the 86 packets behind them.
        Assert.Equal(150, b.Sent);
        Assert.Equal(0, b.Read);
        Assert.Equal(64, b.DropsOf(DropReason.SIM_DRIVER_RESET));
        Assert.Equal(86, b.DropsOf(DropReason.QUEUE_PURGE));
        Assert.Equal(150, b.Dropped);
        Assert.Equal(150, b.Sender.Device("eth0").Counters.TxDropped);
    }

    [Fact]
    public async Task Conservation_SenderLinkAdminDown_FramesOnADownDeviceCounted()
    {
        var b = await RunToQuiet(Scenario(schedule: """
            { at = 50ms, action = link-down, device = "sender/eth0" }
            { at = 120ms, action = link-up, device = "sender/eth0" }
            """), Run);
        Assert.Equal(200, b.Sent);
        // 70 ms down at 1000 pps; a tick due with an action may go either side of it on a busy machine.
        Assert.True(b.Dropped is >= 60 and <= 80, b.ToString());
        Assert.Equal(b.Dropped, b.DropsOf(DropReason.DEV_READY));   // pktgen's frames on a device whose qdisc is noop
        Assert.Equal(200 - b.Dropped, b.Read);
    }

    [Fact]
    public async Task DropTables_SameSeedTwice_IdenticalAndAnotherSeedDiffers()
    {
        const string netem = """, netem-a-to-b = "loss 10% duplicate 5% corrupt 5%" """;
        var first = await RunToQuiet(Scenario(wire: netem, seed: 7), Run);
        var second = await RunToQuiet(Scenario(wire: netem, seed: 7), Run);
        var other = await RunToQuiet(Scenario(wire: netem, seed: 8), Run);
        Assert.True(first.Dropped > 0, first.ToString());
        Assert.Equal(first.Drops, second.Drops);
        Assert.Equal((first.Read, first.Duplicated), (second.Read, second.Duplicated));
        Assert.NotEqual(first.Drops, other.Drops);
    }
}
