using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Tests.LinkState;

/// <summary>Driver faults under the host's supervision: reset sequence, TX watchdog, back-off, frame conservation.</summary>
public sealed class DriverSupervisionTests() : LinkStateKit("driver-supervision")
{
    [Fact]
    public async Task CrashDriver_ResetSequence_CarrierDownThenUrgentUpWithNotifiers()
    {
        var h = await StartHost();
        var seq = Probe();   // one probe for both streams, so their interleaving is asserted too
        await AttachProbeWire(h);
        await Monitor(h, seq);
        await Ask<NetdevNotifierChanged>(h.Ref, new RegisterNetdevNotifier("user", seq.Ref));
        await ReceiveManyAsync(seq, 4);       // replay for lo and eth0
        AdvanceMs(1000);               // out of the attach's rate-limit second

        var ack = await Ask<DriverFaultInjected>(h.Ref, new CrashDriver("h1", "eth0"));
        Assert.Equal("eth0", ack.Device);
        // Carrier off (not urgent, but the second is over: handled now): NETDEV_CHANGE, then RTM_NEWLINK.
        var n1 = await Expect<NetdevNotification>(seq);
        Assert.Equal(("NETDEV_CHANGE", false, "DOWN"), (n1.Event, n1.Carrier, n1.OperState));
        await ExpectLinkAsync(seq, "eth0", "DOWN", false);
        await ExpectNothingNow(seq);
        AdvanceMs(1999);
        await ExpectNothingNow(seq);        // the PHY autonegotiates for link-up-delay (2 s)
        AdvanceMs(1);
        var n2 = await Expect<NetdevNotification>(seq);
        Assert.Equal(("NETDEV_CHANGE", true, "UP"), (n2.Event, n2.Carrier, n2.OperState));
        var up = await ExpectLinkAsync(seq, "eth0", "UP", true);   // urgent (qdisc on noop): no wait for the second
        Assert.Equal((2L, 1L), (up.CarrierUpCount, up.CarrierDownCount));
        var l = await Link(h);
        Assert.Equal((1L, false, "pfifo_fast"), (l.DriverResets, l.DriverFailed, l.Qdisc));
    }

    [Fact]
    public async Task Watchdog_TxHang_TimeoutResetsAndDropsTheRing()
    {
        var h = await StartHost();
        var wire = await AttachProbeWire(h);
        var nic = h.Nics["eth0"];
        await Ask<DriverFaultInjected>(nic, new InjectDriverFault("eth0", DriverFaultKind.TxHang));
        nic.Tell(new DevQueueXmit(Skbs(300)));   // 256 descriptors hang on the ring, 44 wait in the qdisc, queue stopped
        Assert.Equal(0, await FramesOnWireAsync(wire));
        AdvanceMs(4999);
        Assert.Equal(0L, (await Link(h)).TxTimeouts);
        AdvanceMs(1);                            // watchdog_timeo after the last transmission
        await LinkNow(h, x => x.TxTimeouts == 1 && x.DriverResets == 1);
        // The supervisor counts the reset before the driver's PreRestart frees the ring (qdisc first, then the ring,
        // descriptor by descriptor): all of it has run at this instant.
        Assert.Equal(256, Dropped(await Stats(h), DropReason.SIM_DRIVER_RESET, "eth0/tx"));
        var s = await Stats(h);
        Assert.Equal(44, Dropped(s, DropReason.QUEUE_PURGE, "eth0/qdisc"));
        Assert.Equal((0L, 300L), (Counters(s).TxPackets, Counters(s).TxDropped));
        Assert.Equal(0L, s.Devices.Single(d => d.Name == "eth0").Qdisc!.Backlog);
    }

    [Fact]
    public async Task Backoff_FaultsBeyondTheLimit_DeviceStaysDown()
    {
        var link = HostLinkSettings.Default with
        {
            Supervision = DeviceSupervisionSettings.Default with { ResetLimit = 2, ResetWindow = TimeSpan.FromSeconds(60) },
        };
        var h = await StartHost(link: link);
        var mon = await Monitor(h);
        var wire = await AttachProbeWire(h);
        await ExpectLinkAsync(mon, "eth0", "UP", true);
        AdvanceMs(1000);

        await Ask<DriverFaultInjected>(h.Ref, new CrashDriver("h1", "eth0"));
        await ExpectLinkAsync(mon, "eth0", "DOWN", false);
        AdvanceMs(2000);                                    // first reset: 2 s link-up delay
        await ExpectLinkAsync(mon, "eth0", "UP", true);

        await Ask<DriverFaultInjected>(h.Ref, new CrashDriver("h1", "eth0"));
        await LinkNow(h, x => !x.Carrier);                    // the reset has begun (link-up timer armed)
        AdvanceMs(1000);
        await ExpectLinkAsync(mon, "eth0", "DOWN", false);
        AdvanceMs(2999);
        await ExpectNothingNow(mon);                             // second reset in the window: delay doubled to 4 s
        AdvanceMs(1);
        await ExpectLinkAsync(mon, "eth0", "UP", true);

        await Ask<DriverFaultInjected>(h.Ref, new CrashDriver("h1", "eth0"));
        await LinkNow(h, x => !x.Carrier);                    // the reset has begun (link-up timer armed)
        AdvanceMs(1000);
        await ExpectLinkAsync(mon, "eth0", "DOWN", false);
        AdvanceMs(60_000);
        await ExpectNothingNow(mon);                             // given up: the carrier never comes back
        var l = await Link(h);
        Assert.Equal((2L, true, false, "DOWN"), (l.DriverResets, l.DriverFailed, l.Carrier, l.OperState));

        // A dead driver drops what it is given, with a reason.
        h.Nics["eth0"].Tell(new CarrierChanged(true));
        h.Nics["eth0"].Tell(new WireFrames([FrameBuilder.Udp(Mac(10), Mac(99), Ipv4Address.Parse("10.0.0.2"), Ipv4Address.Parse("10.0.0.1"), 1, 2, [1])]));
        Assert.Equal(1, Dropped(await Stats(h), DropReason.DEV_READY, "eth0"));
        Assert.False((await Link(h)).Carrier);
        Assert.Equal(0, await FramesOnWireAsync(wire));
    }

    [Fact]
    public async Task Reset_FramesInEveryQueue_EachDeliveredOrDroppedWithAReason()
    {
        var h = await StartHost();
        var wire = await AttachProbeWire(h);
        var nic = h.Nics["eth0"];

        // RX: every interrupt is lost, so five frames stay in the RX ring.
        for (int i = 0; i < 5; i++) await Ask<DriverFaultInjected>(nic, new InjectDriverFault("eth0", DriverFaultKind.IrqLoss));
        var rx = Enumerable.Range(0, 5).Select(i => (ReadOnlyMemory<byte>)FrameBuilder.Udp(Mac(10), Mac(99),
            Ipv4Address.Parse("10.0.0.1"), Ipv4Address.Parse("10.0.0.2"), 1, (ushort)(100 + i), [1])).ToImmutableArray();
        nic.Tell(new WireFrames(rx));
        // TX: three frames reach the wire (their completions are still out), then the DMA hangs with ten more posted.
        nic.Tell(new DevQueueXmit(Skbs(3)));
        Assert.Equal(3, await FramesOnWireAsync(wire));
        await Ask<DriverFaultInjected>(nic, new InjectDriverFault("eth0", DriverFaultKind.TxHang));
        nic.Tell(new DevQueueXmit(Skbs(10)));

        await Ask<DriverFaultInjected>(h.Ref, new CrashDriver("h1", "eth0"));
        await LinkNow(h, x => !x.Carrier);
        nic.Tell(new WireTxDone(3), wire.Ref);   // the stale completions of the three sent frames
        AdvanceMs(2000);                          // link up again
        await LinkNow(h, x => x.Carrier && x.OperState == "UP");
        nic.Tell(new DevQueueXmit(Skbs(2)));
        Assert.Equal(2, await FramesOnWireAsync(wire));
        nic.Tell(new WireTxDone(2), wire.Ref);

        var s = await Stats(h);
        var c = Counters(s);
        // TX: 15 handed to the device = 5 on the wire + 10 dropped (SIM_DRIVER_RESET, the hung ring).
        Assert.Equal((5L, 10L), (c.TxPackets, c.TxDropped));
        Assert.Equal(10, Dropped(s, DropReason.SIM_DRIVER_RESET, "eth0/tx"));
        // RX: 5 DMA-written = 5 dropped at the ring reset (SIM_DRIVER_RESET), none delivered.
        Assert.Equal((0L, 5L), (c.RxPackets, c.RxDropped));
        Assert.Equal(5, Dropped(s, DropReason.SIM_DRIVER_RESET, "eth0/rx0"));
        Assert.Equal(15L, s.TotalDrops);
        Assert.Equal(0L, s.Devices.Single(d => d.Name == "eth0").Qdisc!.Backlog);
    }

    [Fact]
    public async Task Fault_OneHostsDriver_OtherHostUntouched()
    {
        var h1 = await StartHost("h1");
        var h2 = await StartHost("h2");
        await AttachProbeWire(h1);
        await AttachProbeWire(h2);
        AdvanceMs(1000);
        await Ask<DriverFaultInjected>(h2.Ref, new InjectDriverFault("eth0", DriverFaultKind.Transmit));
        h2.Nics["eth0"].Tell(new DevQueueXmit(Skbs(4)));
        await LinkNow(h2, x => x.DriverResets == 1 && !x.Carrier);
        var s2 = await Stats(h2);
        Assert.Equal(4, Dropped(s2, DropReason.DEV_READY, "eth0/tx"));
        var l1 = await Link(h1);
        Assert.Equal((0L, true, "UP"), (l1.DriverResets, l1.Carrier, l1.OperState));
        var crash = new CrashDriver("h1", "eth7");
        var refused = Assert.IsType<CommandFailed>(await Ask<object>(h1.Ref, crash));
        Assert.Equal((crash, Errno.ENODEV), (refused.Command, refused.Error));
    }
}
