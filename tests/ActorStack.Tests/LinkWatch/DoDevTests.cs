using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Config;

namespace ActorStack.Tests.LinkWatch;

/// <summary>linkwatch_do_dev, rfc2863_policy, dev_activate / dev_deactivate.</summary>
public class DoDevTests
{
    [Fact]
    public void DoDev_AdministrativelyDown_UpdatesOperstateWithoutNotification()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Registered("eth0", 2);
        Assert.Equal(IfOperState.DOWN, eth0.OperState);
        h.Sink.Take();

        h.Lw.CarrierOn(eth0, 10_000);
        Assert.Equal(10_000, h.Lw.WorkDueAtMs);
        h.Lw.RunWork(10_000);

        Assert.Equal(1, h.Lw.DoDevCalls);
        Assert.Equal(IfOperState.UP, eth0.OperState);          // stored operstate followed the carrier
        Assert.Equal(IfOperState.DOWN, eth0.ReportedOperState); // rtnl_fill_ifinfo: not running -> DOWN
        Assert.Equal(TxQdiscState.Noop, eth0.TxQdisc);
        Assert.Empty(h.Sink.Log);                                // no dev_activate, NETDEV_CHANGE, RTM_NEWLINK

        // ip link set dev eth0 up: separate from carrier.
        Assert.Equal(Messages.Errno.OK, h.Lw.DevOpen(eth0));
        Assert.Equal(new[] { "dev_activate eth0", "watchdog_up eth0", "RTM_NEWLINK eth0 UP", "NETDEV_UP eth0" }, h.Sink.Take());
        Assert.Equal(TxQdiscState.Active, eth0.TxQdisc);
    }

    [Fact]
    public void DoDev_AfterDevClose_CarrierLossNotifiesNothing()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];

        h.Lw.DevClose(eth0);
        Assert.Equal(new[] { "NETDEV_GOING_DOWN eth0", "dev_deactivate eth0", "RTM_NEWLINK eth0 DOWN", "NETDEV_DOWN eth0" }, h.Sink.Take());
        Assert.False(eth0.NoCarrier);                            // admin down leaves the carrier alone
        Assert.False(eth0.TxWatchdogRunning);

        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.RunWork(10_000);

        Assert.Equal(IfOperState.DOWN, eth0.OperState);
        Assert.Empty(h.Sink.Log);
    }

    [Fact]
    public void DoDev_DeviceNotPresent_UpdatesOperstateButNeitherDeactivatesNorNotifies()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        h.Lw.DeviceDetach(eth0);
        Assert.True(eth0.TxQueuesStopped);

        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.RunWork(10_000);

        Assert.Equal(IfOperState.DOWN, eth0.OperState);
        Assert.Equal(TxQdiscState.Active, eth0.TxQdisc);
        Assert.Empty(h.Sink.Log);

        h.Lw.DeviceAttach(eth0);
        Assert.False(eth0.TxQueuesStopped);
        Assert.Equal(new[] { "watchdog_up eth0" }, h.Sink.Take());
    }

    [Fact]
    public void DoDev_ClearsPendingBeforeHandling_EventFromNotifierIsQueuedAgain()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        bool pendingSeenByNotifier = true;
        // A subscriber that reacts to the change by raising another event on the same device.
        h.Lw.Notifiers.Register(new NetdevNotifierBlock("refire", (ev, dev) =>
        {
            if (ev != NetdevEvent.NETDEV_CHANGE) return NotifyResult.NOTIFY_DONE;
            pendingSeenByNotifier = dev.LinkwatchPending;
            h.Lw.DormantOn(dev, 10_000);
            return NotifyResult.NOTIFY_OK;
        }));

        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.RunWork(10_000);

        Assert.False(pendingSeenByNotifier);
        Assert.True(eth0.LinkwatchPending);
        Assert.Equal(new[] { eth0 }, h.Lw.EventList);
        Assert.Equal(11_000, h.Lw.WorkDueAtMs);                  // the new event waits for the rate limit
    }

    [Fact]
    public void Rfc2863Policy_DormantAndTestingAndLinkModes_GiveRfcOperstates()
    {
        var h = new LinkWatchHarness();
        var wlan0 = h.Registered("wlan0", 2);
        wlan0.LinkMode = IfLinkMode.DORMANT;

        h.Lw.CarrierOn(wlan0, 10_000);
        h.Lw.RunWork(10_000);
        Assert.Equal(IfOperState.DORMANT, wlan0.OperState);      // link mode DORMANT: UP -> DORMANT

        wlan0.LinkMode = IfLinkMode.DEFAULT;
        h.Lw.DormantOn(wlan0, 12_000);
        h.Lw.RunWork(12_000);
        Assert.Equal(IfOperState.DORMANT, wlan0.OperState);      // netif_dormant

        h.Lw.TestingOn(wlan0, 14_000);
        h.Lw.RunWork(14_000);
        Assert.Equal(IfOperState.TESTING, wlan0.OperState);      // netif_testing wins

        h.Lw.TestingOff(wlan0, 16_000);
        h.Lw.DormantOff(wlan0, 16_000);
        h.Lw.RunWork(16_000);
        Assert.Equal(IfOperState.UP, wlan0.OperState);
    }

    [Fact]
    public void Rfc2863Policy_StackedDeviceWithoutLowerCarrier_IsLowerLayerDown()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Registered("eth0", 2);
        var vlan = h.Registered("eth0.10", 3, ifLink: 2);

        Assert.Equal(IfOperState.LOWERLAYERDOWN, vlan.OperState); // linkwatch_init_dev at registration
        Assert.Equal(IfOperState.DOWN, eth0.OperState);

        h.Lw.CarrierOn(eth0, 10_000);
        h.Lw.RunWork(10_000);
        h.Lw.CarrierOn(vlan, 12_000);
        h.Lw.CarrierOff(vlan, 12_001);
        h.Lw.RunWork(12_001);
        Assert.Equal(IfOperState.DOWN, vlan.OperState);           // lower device has carrier: plain DOWN
        Assert.Equal("3: eth0.10@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
            vlan.ToString());
    }

    [Fact]
    public void UrgentEvent_StackedRunningDevice_IsAlwaysUrgent()
    {
        var h = new LinkWatchHarness();
        h.Registered("eth0", 2);
        var vlan = h.Registered("eth0.10", 3, ifLink: 2);
        h.Lw.DevOpen(vlan);
        h.Lw.LinkwatchRunQueue(10_000);                           // nextevent = 11_000

        h.Lw.CarrierOn(vlan, 10_100);

        Assert.True(h.Lw.UrgentPending);
        Assert.Equal(10_100, h.Lw.WorkDueAtMs);
    }
}
