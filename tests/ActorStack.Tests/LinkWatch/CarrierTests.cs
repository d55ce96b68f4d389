using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Config;

namespace ActorStack.Tests.LinkWatch;

/// <summary>netif_carrier_on / netif_carrier_off.</summary>
public class CarrierTests
{
    [Fact]
    public void CarrierOnOff_RepeatedSameState_CountsOnlyRealChanges()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        Assert.Equal(1, eth0.CarrierUpCount);   // the bring-up
        Assert.Equal(0, eth0.CarrierDownCount);

        Assert.True(h.Lw.CarrierOff(eth0, 10_000));
        Assert.False(h.Lw.CarrierOff(eth0, 10_001));
        Assert.False(h.Lw.CarrierOff(eth0, 10_002));
        Assert.True(h.Lw.CarrierOn(eth0, 10_003));
        Assert.False(h.Lw.CarrierOn(eth0, 10_004));

        Assert.Equal(2, eth0.CarrierUpCount);
        Assert.Equal(1, eth0.CarrierDownCount);
        Assert.Equal(3, eth0.CarrierChanges);
        // The repeated calls did nothing: only the carrier-on restarted the watchdog.
        Assert.Equal(new[] { "watchdog_up eth0" }, h.Sink.Take());
    }

    [Fact]
    public void CarrierOnOff_UnregisteredDevice_ChangesBitButFiresAndCountsNothing()
    {
        var h = new LinkWatchHarness();
        var dev = new NetDeviceState("eth0", 2);

        Assert.True(h.Lw.CarrierOff(dev, 100));
        Assert.True(dev.NoCarrier);
        Assert.True(h.Lw.CarrierOn(dev, 200));
        Assert.True(h.Lw.CarrierOff(dev, 300));

        Assert.Equal(0, dev.CarrierUpCount);
        Assert.Equal(0, dev.CarrierDownCount);
        Assert.False(dev.LinkwatchPending);
        Assert.Empty(h.Lw.EventList);
        Assert.Null(h.Lw.WorkDueAtMs);
        Assert.Empty(h.Sink.Log);
        Assert.Equal(IfOperState.UNKNOWN, dev.OperState);

        // register_netdevice -> linkwatch_init_dev picks up the pre-registration carrier state.
        Assert.Equal(Messages.Errno.OK, h.Lw.RegisterNetdevice(dev));
        Assert.Equal(IfOperState.DOWN, dev.OperState);
        Assert.Equal(new[] { "NETDEV_REGISTER eth0", "RTM_NEWLINK eth0 DOWN" }, h.Sink.Take());
        Assert.Null(h.Lw.WorkDueAtMs);
    }

    [Fact]
    public void CarrierOn_RunningDevice_RestartsWatchdogImmediately()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.RunWork(10_000);
        Assert.False(eth0.TxWatchdogRunning);   // dev_deactivate -> dev_watchdog_down
        h.Sink.Take();

        h.Lw.CarrierOn(eth0, 10_100);

        Assert.True(eth0.TxWatchdogRunning);
        // __netdev_watchdog_up runs inside netif_carrier_on, before any link-watch work.
        Assert.Equal(new[] { "watchdog_up eth0" }, h.Sink.Take());
    }

    [Fact]
    public void CarrierOn_AdministrativelyDownDevice_DoesNotStartWatchdog()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Registered("eth0", 2);
        h.Sink.Take();

        h.Lw.CarrierOn(eth0, 10_000);

        Assert.False(eth0.TxWatchdogRunning);
        Assert.Empty(h.Sink.Log);
        Assert.True(eth0.LinkwatchPending);   // the event is still queued: operstate must follow
    }

    [Fact]
    public void CarrierOn_DriverWithoutTxTimeout_DoesNotStartWatchdog()
    {
        var h = new LinkWatchHarness();
        var dev = new NetDeviceState("veth0", 2) { HasTxTimeout = false };
        h.Lw.CarrierOff(dev, 0);
        h.Lw.RegisterNetdevice(dev);
        h.Lw.DevOpen(dev);
        h.Sink.Take();

        h.Lw.CarrierOn(dev, 10_000);
        h.Lw.RunWork(10_000);

        Assert.False(dev.TxWatchdogRunning);
        Assert.Equal(new[] { "dev_activate veth0", "NETDEV_CHANGE veth0", "RTM_NEWLINK veth0 UP" }, h.Sink.Take());
    }
}
