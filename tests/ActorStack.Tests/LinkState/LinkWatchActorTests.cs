using Akka.Actor;
using Akka.TestKit;
using ActorStack.Messages;

namespace ActorStack.Tests.LinkState;

/// <summary>The link watch (netif_carrier_on/off to netdev_state_change) through a whole host: the driver reports carrier changes, the link watch runs on the scheduler's clock.</summary>
public sealed class LinkWatchActorTests() : LinkStateKit("linkwatch-actor")
{
    [Fact]
    public async Task Carrier_AttachThenRepeatedOn_OneEventAndOneUpCount()
    {
        var h = await StartHost();
        var mon = await Monitor(h);
        var wire = Probe();
        h.Nics["eth0"].Tell(new AttachWire(wire.Ref));
        // Carrier on while the qdisc is still noop is urgent: handled without the clock moving.
        var e = await ExpectLinkAsync(mon, "eth0", "UP", true);
        // The probe's carrier off came before register_netdevice: not counted (netif_carrier_off before registration).
        Assert.Equal((1L, 0L), (e.CarrierUpCount, e.CarrierDownCount));
        Assert.Contains("state UP", e.Line);
        // netif_carrier_on on a carrier that is already on changes nothing.
        h.Nics["eth0"].Tell(new CarrierChanged(true));
        h.Nics["eth0"].Tell(new CarrierChanged(true));
        AdvanceMs(1000);
        await ExpectNothingNow(mon);
        var l = await Link(h);
        Assert.Equal((1L, 0L), (l.CarrierUpCount, l.CarrierDownCount));
    }

    [Fact]
    public async Task FireEvent_TenFlapsWithinTheSecond_OneEvent()
    {
        var h = await StartHost();
        var mon = await Monitor(h);
        await AttachProbeWire(h);
        await ExpectLinkAsync(mon, "eth0", "UP", true);
        for (int i = 0; i < 10; i++) h.Nics["eth0"].Tell(new CarrierChanged(i % 2 == 1));   // off, on, ..., on
        await LinkNow(h, l => l.CarrierDownCount == 5);
        await ExpectNothingNow(mon);                          // PENDING: one queued event, the work waits for the second
        AdvanceMs(1000);
        var e = await ExpectLinkAsync(mon, "eth0", "UP", true);
        Assert.Equal((6L, 5L), (e.CarrierUpCount, e.CarrierDownCount));
        await ExpectNothingNow(mon);
    }

    [Fact]
    public async Task ScheduleWork_CarrierOffInsideTheSecond_WaitsForTheSchedulerClock()
    {
        var h = await StartHost();
        var mon = await Monitor(h);
        await AttachProbeWire(h);
        await ExpectLinkAsync(mon, "eth0", "UP", true);
        h.Nics["eth0"].Tell(new CarrierChanged(false));
        await LinkNow(h, l => !l.Carrier);
        AdvanceMs(999);
        await ExpectNothingNow(mon);
        Assert.Equal("UP", (await Link(h)).OperState);   // operstate moves only when linkwatch_do_dev runs
        AdvanceMs(1);
        await ExpectLinkAsync(mon, "eth0", "DOWN", false);
        Assert.Equal("DOWN", (await Link(h)).OperState);
    }

    [Fact]
    public async Task ScheduleWork_CarrierUpAfterDeactivate_UrgentBypassesRateLimit()
    {
        var h = await StartHost();
        var mon = await Monitor(h);
        await AttachProbeWire(h);
        await ExpectLinkAsync(mon, "eth0", "UP", true);
        h.Nics["eth0"].Tell(new CarrierChanged(false));
        await LinkNow(h, l => !l.Carrier);
        AdvanceMs(1000);
        await ExpectLinkAsync(mon, "eth0", "DOWN", false);
        // Inside the new rate-limit second: carrier up with the qdisc on noop is urgent and runs at once.
        h.Nics["eth0"].Tell(new CarrierChanged(true));
        await ExpectLinkAsync(mon, "eth0", "UP", true);
    }

    [Fact]
    public async Task RunQueue_UrgentOnlyRun_PutsTheOtherDeviceBack()
    {
        var h = await StartHost(devices: 2);
        var mon = await Monitor(h);
        await AttachProbeWire(h, "eth0");
        await AttachProbeWire(h, "eth1");
        await ExpectLinkAsync(mon, "eth0", "UP", true);
        await ExpectLinkAsync(mon, "eth1", "UP", true);
        h.Nics["eth0"].Tell(new CarrierChanged(false));
        await LinkNow(h, l => !l.Carrier, "eth0");
        AdvanceMs(1000);
        await ExpectLinkAsync(mon, "eth0", "DOWN", false);
        h.Nics["eth1"].Tell(new CarrierChanged(false));          // not urgent: waits for the second
        await LinkNow(h, l => !l.Carrier, "eth1");
        h.Nics["eth0"].Tell(new CarrierChanged(true));           // urgent: an urgent-only run now
        await ExpectLinkAsync(mon, "eth0", "UP", true);
        await ExpectNothingNow(mon);                                  // eth1 went back on the list
        AdvanceMs(1000);
        await ExpectLinkAsync(mon, "eth1", "DOWN", false);
    }

    [Fact]
    public async Task DoDev_AdminDown_NoNotificationForCarrierChanges()
    {
        var h = await StartHost();
        var mon = await Monitor(h);
        var nb = Probe();
        await Ask<NetdevNotifierChanged>(h.Ref, new RegisterNetdevNotifier("user", nb.Ref));
        Assert.Equal(["NETDEV_REGISTER", "NETDEV_UP", "NETDEV_REGISTER", "NETDEV_UP"],
            (await NotificationsAsync(nb, 4)).Select(n => n.Event).ToArray());   // replay: lo, eth0
        await AttachProbeWire(h);
        await ExpectLinkAsync(mon, "eth0", "UP", true);
        Assert.Equal("NETDEV_CHANGE", (await Expect<NetdevNotification>(nb)).Event);

        var set = await Ask<LinkAdminSet>(h.Ref, new LinkSetAdmin("eth0", false));
        Assert.Equal(new LinkAdminSet("eth0", false), set);
        var down = await ExpectLinkAsync(mon, "eth0", "DOWN", true);        // dev_close: RTM_NEWLINK without IFF_UP
        Assert.False(down.AdminUp);
        Assert.Equal(["NETDEV_GOING_DOWN", "NETDEV_DOWN"], [(await Expect<NetdevNotification>(nb)).Event, (await Expect<NetdevNotification>(nb)).Event]);

        AdvanceMs(1000);
        h.Nics["eth0"].Tell(new CarrierChanged(false));
        await LinkNow(h, l => l.CarrierDownCount == 1);
        AdvanceMs(1000);
        await ExpectNothingNow(mon);                                  // linkwatch_do_dev ran, but IFF_UP is clear
        await ExpectNothingNow(nb);

        set = await Ask<LinkAdminSet>(h.Ref, new LinkSetAdmin("eth0", true));
        Assert.Equal(new LinkAdminSet("eth0", true), set);
        var up = await ExpectLinkAsync(mon, "eth0", "DOWN", false);          // up, but no carrier: NO-CARRIER, state DOWN
        Assert.True(up.AdminUp);
        Assert.Contains("NO-CARRIER", up.Line);
        Assert.Equal("NETDEV_UP", (await Expect<NetdevNotification>(nb)).Event);
        var noDev = new LinkSetAdmin("eth9", true);
        Assert.Equal(new CommandFailed(noDev, Errno.ENODEV), await Ask<CommandFailed>(h.Ref, noDev));
        await ExpectNothingNow(mon);                                  // nothing changed: no RTM_NEWLINK
        await ExpectNothingNow(nb);
    }

    [Fact]
    public async Task StateChange_NotifiersByPriority_UnregisteredOneHearsNothingMore()
    {
        var h = await StartHost();
        await AttachProbeWire(h);
        var nb = Probe();
        foreach (var (name, prio) in new[] { ("low", 0), ("high", 10), ("mid", 5) })
        {
            var r = await Ask<NetdevNotifierChanged>(h.Ref, new RegisterNetdevNotifier(name, nb.Ref, prio));
            Assert.True(r.Registered);
        }
        await ReceiveManyAsync(nb, 12);   // each block's replay: REGISTER and UP for lo and eth0
        var again = new RegisterNetdevNotifier("mid", nb.Ref);
        Assert.Equal(new CommandFailed(again, Errno.EEXIST), await Ask<CommandFailed>(h.Ref, again));
        await ExpectNothingNow(nb);                           // nothing changed: no second replay

        AdvanceMs(1000);
        h.Nics["eth0"].Tell(new CarrierChanged(false));
        var seen = await NotificationsAsync(nb, 3);
        Assert.Equal(["high", "mid", "low"], seen.Select(n => n.Notifier).ToArray());
        Assert.All(seen, n => Assert.Equal(("NETDEV_CHANGE", "eth0", false, "DOWN"), (n.Event, n.Device, n.Carrier, n.OperState)));

        var u = await Ask<NetdevNotifierChanged>(h.Ref, new UnregisterNetdevNotifier("mid"));
        Assert.False(u.Registered);
        // The leaving block hears GOING_DOWN, DOWN, UNREGISTER for each up device (lo, eth0).
        var bye = await NotificationsAsync(nb, 6);
        Assert.All(bye, n => Assert.Equal("mid", n.Notifier));
        Assert.Equal(["NETDEV_GOING_DOWN", "NETDEV_DOWN", "NETDEV_UNREGISTER"], bye.Take(3).Select(n => n.Event).ToArray());

        AdvanceMs(1000);
        h.Nics["eth0"].Tell(new CarrierChanged(true));
        Assert.Equal(["high", "low"], new[] { (await Expect<NetdevNotification>(nb)).Notifier, (await Expect<NetdevNotification>(nb)).Notifier });
        await ExpectNothingNow(nb);
    }

    [Fact]
    public async Task UnknownMonitorOrNotifier_Leaving_AnsweredByCommandFailedWithEnoent()
    {
        var h = await StartHost();
        var mon = await Monitor(h);
        var stranger = new UnsubscribeLinkMonitor(Probe().Ref);
        Assert.Equal(new CommandFailed(stranger, Errno.ENOENT), await Ask<CommandFailed>(h.Ref, stranger));
        var nobody = new UnregisterNetdevNotifier("nobody");
        Assert.Equal(new CommandFailed(nobody, Errno.ENOENT), await Ask<CommandFailed>(h.Ref, nobody));

        // The real subscriber is still subscribed, and leaves once.
        Assert.Equal(new LinkMonitorSubscribed(mon.Ref, false), await Ask<LinkMonitorSubscribed>(h.Ref, new UnsubscribeLinkMonitor(mon.Ref)));
        var again = new UnsubscribeLinkMonitor(mon.Ref);
        Assert.Equal(new CommandFailed(again, Errno.ENOENT), await Ask<CommandFailed>(h.Ref, again));
    }
}
