using ActorStack.Messages.Packets;
using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Config;

namespace ActorStack.Tests.LinkWatch;

/// <summary>Device registration, bring-up, unregistration and the ip link view across the link watch (netif_carrier_on/off to netdev_state_change).</summary>
public class LifecycleTests
{
    [Fact]
    public void BringUp_ProbeRegisterOpenCarrierOn_ExactEventSequence()
    {
        var h = new LinkWatchHarness();
        var eth0 = new NetDeviceState("eth0", 2);

        h.Lw.CarrierOff(eth0, 0);                    // driver probe: no link yet
        h.Lw.RegisterNetdevice(eth0);
        h.Lw.DevOpen(eth0);
        Assert.Equal("2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000",
            eth0.ToString());
        Assert.Equal(TxQdiscState.Noop, eth0.TxQdisc);   // dev_activate delayed until carrier

        h.Lw.CarrierOn(eth0, 2_000);                 // link partner found
        Assert.Equal(2_000, h.Lw.WorkDueAtMs);       // urgent
        h.Lw.RunWork(2_000);

        Assert.Equal(new[]
        {
            "NETDEV_REGISTER eth0", "RTM_NEWLINK eth0 DOWN",
            "RTM_NEWLINK eth0 DOWN", "NETDEV_UP eth0",
            "watchdog_up eth0",
            "dev_activate eth0", "watchdog_up eth0", "NETDEV_CHANGE eth0", "RTM_NEWLINK eth0 UP",
        }, h.Sink.Take());
        Assert.Equal("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000",
            eth0.ToString());
        Assert.Equal(0, eth0.CarrierDownCount);      // the probe's carrier-off was before registration
        Assert.Equal(1, eth0.CarrierUpCount);
    }

    [Fact]
    public void DevOpen_UpDeviceOrDetachedDevice_NoOpOrEnodev()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        Assert.Equal(Messages.Errno.OK, h.Lw.DevOpen(eth0));
        Assert.Empty(h.Sink.Log);

        var eth1 = h.Registered("eth1", 3);
        h.Lw.DeviceDetach(eth1);
        h.Sink.Take();
        Assert.Equal(ActorStack.Actors.LinkWatch.LinkWatch.ENODEV, h.Lw.DevOpen(eth1));
        Assert.False(eth1.IsUp);
        Assert.Empty(h.Sink.Log);

        Assert.Equal(ActorStack.Actors.LinkWatch.LinkWatch.ENODEV, h.Lw.DevOpen(new NetDeviceState("eth9", 9)));
    }

    [Fact]
    public void RegisterNetdevice_DuplicateIndexOrName_Eexist()
    {
        var h = new LinkWatchHarness();
        h.Registered("eth0", 2);
        Assert.Equal(ActorStack.Actors.LinkWatch.LinkWatch.EEXIST, h.Lw.RegisterNetdevice(new NetDeviceState("eth1", 2)));
        Assert.Equal(ActorStack.Actors.LinkWatch.LinkWatch.EEXIST, h.Lw.RegisterNetdevice(new NetDeviceState("eth0", 3)));
        Assert.Single(h.Lw.Devices);
    }

    [Fact]
    public void UnregisterNetdevice_UpDeviceWithPendingEvent_ClosesNotifiesAndForgetsEvent()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        h.Lw.CarrierOff(eth0, 10_000);
        Assert.True(eth0.LinkwatchPending);
        long doDev = h.Lw.DoDevCalls;

        Assert.True(h.Lw.UnregisterNetdevice(eth0));

        Assert.Equal(new[]
        {
            "NETDEV_GOING_DOWN eth0", "dev_deactivate eth0", "RTM_NEWLINK eth0 DOWN", "NETDEV_DOWN eth0",
            "NETDEV_UNREGISTER eth0", "RTM_DELLINK eth0",
        }, h.Sink.Take());
        Assert.Equal(doDev + 1, h.Lw.DoDevCalls);    // linkwatch_forget_dev handled it, silently
        Assert.False(eth0.LinkwatchPending);
        Assert.Empty(h.Lw.EventList);
        Assert.Equal(NetRegState.Unregistered, eth0.RegState);
        Assert.Equal("noop", eth0.RootQdisc);
        Assert.Null(h.Lw.GetByIndex(2));
        Assert.False(h.Lw.UnregisterNetdevice(eth0));

        // The stale timer finds nothing to do.
        Assert.True(h.Lw.RunWork(10_000));
        Assert.Empty(h.Sink.Log);
    }

    [Fact]
    public void IpLinkFormatter_LoopbackAndEthernetWithAddress_MatchIproute2()
    {
        var h = new LinkWatchHarness();
        var lo = new NetDeviceState("lo", 1, NetDeviceFlags.IFF_LOOPBACK, mtu: 65536, address: MacAddress.Zero) { NoQueue = true };
        h.Lw.RegisterNetdevice(lo);
        h.Lw.DevOpen(lo);
        var eth0 = new NetDeviceState("eth0", 2, address: MacAddress.Parse("52:54:00:12:34:56"));
        h.Lw.CarrierOff(eth0, 0);
        h.Lw.RegisterNetdevice(eth0);
        var vlan = new NetDeviceState("eth0.10", 3) { IfLink = 2 };
        h.Lw.CarrierOff(vlan, 0);
        h.Lw.RegisterNetdevice(vlan);

        Assert.Equal(new[]
        {
            @"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
            @"2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff",
            "3: eth0.10@eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
        }, h.Lw.FormatIpLink());
        Assert.False(lo.TxWatchdogRunning);          // noqueue: dev_activate arms no watchdog
    }

    [Fact]
    public void IpLinkFormatter_DormantRunningDevice_ShowsNoCarrierAndDormant()
    {
        var h = new LinkWatchHarness();
        var wlan0 = h.Up("wlan0")[0];
        h.Lw.DormantOn(wlan0, 10_000);
        h.Lw.RunWork(10_000);

        // Not oper-up -> no IFF_RUNNING -> iproute2 prints NO-CARRIER even with LOWER_UP.
        Assert.Equal("2: wlan0: <NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP,DORMANT> mtu 1500 qdisc pfifo_fast state DORMANT mode DEFAULT group default qlen 1000",
            wlan0.ToString());
        Assert.Equal("carrier_changes 1 carrier_up_count 1 carrier_down_count 0",
            IpLinkFormatter.FormatCarrierStats(wlan0.Snapshot()));
    }
}
