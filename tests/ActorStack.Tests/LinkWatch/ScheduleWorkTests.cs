using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Config;

namespace ActorStack.Tests.LinkWatch;

/// <summary>linkwatch_schedule_work (rate limit, urgent override); __linkwatch_run_queue(urgent_only).</summary>
public class ScheduleWorkTests
{
    [Fact]
    public void ScheduleWork_SecondNonUrgentEventWithinOneSecond_DelayedToNextEvent()
    {
        var h = new LinkWatchHarness();
        var devs = h.Up("eth0", "eth1");
        var (eth0, eth1) = (devs[0], devs[1]);

        h.Lw.CarrierOff(eth0, 10_000);
        // linkwatch_nextevent (1000) is long past: delay wraps to 0.
        Assert.Equal(10_000, h.Lw.WorkDueAtMs);
        Assert.True(h.Lw.RunWork(10_000));
        Assert.Equal(11_000, h.Lw.NextEventMs);   // jiffies + HZ
        Assert.Equal(new[] { "dev_deactivate eth0", "NETDEV_CHANGE eth0", "RTM_NEWLINK eth0 DOWN" }, h.Sink.Take());

        h.Lw.CarrierOff(eth1, 10_300);

        Assert.Equal(11_000, h.Lw.WorkDueAtMs);    // delay = nextevent - jiffies = 700
        Assert.False(h.Lw.RunWork(10_999));        // a timer firing early does nothing
        Assert.Empty(h.Sink.Log);
        Assert.True(eth1.LinkwatchPending);

        Assert.True(h.Lw.RunWork(11_000));

        Assert.Equal(new[] { "dev_deactivate eth1", "NETDEV_CHANGE eth1", "RTM_NEWLINK eth1 DOWN" }, h.Sink.Take());
        Assert.Equal(12_000, h.Lw.NextEventMs);
        Assert.Null(h.Lw.WorkDueAtMs);
    }

    [Fact]
    public void ScheduleWork_NonUrgentWhileTimerPending_DoesNotOverrideTimer()
    {
        var h = new LinkWatchHarness();
        var devs = h.Up("eth0", "eth1", "eth2");
        h.Lw.CarrierOff(devs[0], 10_000);
        h.Lw.RunWork(10_000);
        h.Sink.Take();

        h.Lw.CarrierOff(devs[1], 10_200);   // due 11_000
        h.Lw.CarrierOff(devs[2], 10_900);   // would also be 11_000; schedule_delayed_work keeps the pending timer

        Assert.Equal(11_000, h.Lw.WorkDueAtMs);
        Assert.Equal(new[] { devs[1], devs[2] }, h.Lw.EventList);
        h.Lw.RunWork(11_000);
        Assert.Equal(new[]
        {
            "dev_deactivate eth1", "NETDEV_CHANGE eth1", "RTM_NEWLINK eth1 DOWN",
            "dev_deactivate eth2", "NETDEV_CHANGE eth2", "RTM_NEWLINK eth2 DOWN",
        }, h.Sink.Take());
    }

    [Fact]
    public void ScheduleWork_UrgentCarrierUpWhileQdiscNoop_RunsWithoutWaitingForRateLimit()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.RunWork(10_000);                       // nextevent = 11_000, qdisc noop
        Assert.Equal(TxQdiscState.Noop, eth0.TxQdisc);
        h.Sink.Take();

        h.Lw.CarrierOn(eth0, 10_200);

        Assert.True(LinkWatchUrgent(eth0));
        Assert.True(h.Lw.UrgentPending);
        Assert.Equal(10_200, h.Lw.WorkDueAtMs);     // delay 0, not 800
        Assert.True(h.Lw.RunWork(10_200));          // time_after(nextevent, jiffies): urgent-only run

        Assert.Equal(new[]
        {
            "watchdog_up eth0",                     // netif_carrier_on
            "dev_activate eth0",                    // linkwatch_do_dev
            "watchdog_up eth0",                     // dev_activate -> dev_watchdog_up
            "NETDEV_CHANGE eth0",
            "RTM_NEWLINK eth0 UP",
        }, h.Sink.Take());
        Assert.Equal(TxQdiscState.Active, eth0.TxQdisc);
        Assert.Equal(11_000, h.Lw.NextEventMs);     // an urgent-only run does not start a new second
        Assert.False(h.Lw.UrgentPending);
        Assert.Null(h.Lw.WorkDueAtMs);
    }

    [Fact]
    public void ScheduleWork_CarrierUpWithQdiscActive_IsNotUrgentAndWaitsForRateLimit()
    {
        var h = new LinkWatchHarness();
        var devs = h.Up("eth0", "eth1");
        h.Lw.CarrierOff(devs[1], 10_000);
        h.Lw.RunWork(10_000);                       // nextevent = 11_000

        // eth0's carrier drops and returns before the work ran: the qdisc is still active.
        h.Lw.CarrierOff(devs[0], 10_100);
        h.Lw.CarrierOn(devs[0], 10_150);

        Assert.False(LinkWatchUrgent(devs[0]));
        Assert.False(h.Lw.UrgentPending);
        Assert.Equal(11_000, h.Lw.WorkDueAtMs);
    }

    [Fact]
    public void RunQueue_UrgentOnly_PutsNonUrgentDeviceBackAndReschedules()
    {
        var h = new LinkWatchHarness();
        var devs = h.Up("eth0", "eth1");
        var (eth0, eth1) = (devs[0], devs[1]);
        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.RunWork(10_000);                       // nextevent = 11_000
        h.Sink.Take();

        h.Lw.CarrierOff(eth1, 10_100);              // non-urgent: due 11_000
        Assert.Equal(11_000, h.Lw.WorkDueAtMs);
        h.Lw.CarrierOn(eth0, 10_200);               // urgent: mod_delayed_work(…, 0) overrides the timer
        Assert.Equal(10_200, h.Lw.WorkDueAtMs);
        Assert.Equal(new[] { eth1, eth0 }, h.Lw.EventList);
        h.Sink.Take();

        Assert.True(h.Lw.RunWork(10_200));

        // Only eth0 was handled; eth1 went back on the list, still pending.
        Assert.Equal(new[] { "dev_activate eth0", "watchdog_up eth0", "NETDEV_CHANGE eth0", "RTM_NEWLINK eth0 UP" }, h.Sink.Take());
        Assert.Equal(new[] { eth1 }, h.Lw.EventList);
        Assert.True(eth1.LinkwatchPending);
        Assert.Equal(TxQdiscState.Active, eth1.TxQdisc);
        // linkwatch_schedule_work(0): delay = nextevent - jiffies = 800.
        Assert.Equal(11_000, h.Lw.WorkDueAtMs);

        Assert.True(h.Lw.RunWork(11_000));          // full run

        Assert.Equal(new[] { "dev_deactivate eth1", "NETDEV_CHANGE eth1", "RTM_NEWLINK eth1 DOWN" }, h.Sink.Take());
        Assert.Empty(h.Lw.EventList);
        Assert.False(eth1.LinkwatchPending);
        Assert.Null(h.Lw.WorkDueAtMs);
    }

    [Fact]
    public void RunWork_NothingScheduled_ReturnsFalseAndDoesNothing()
    {
        var h = new LinkWatchHarness();
        h.Up("eth0");
        long runs = h.Lw.RunQueueCalls;

        Assert.False(h.Lw.RunWork(50_000));

        Assert.Equal(runs, h.Lw.RunQueueCalls);
        Assert.Equal(1_000, h.Lw.NextEventMs);
    }

    private static bool LinkWatchUrgent(NetDeviceState dev) => ActorStack.Actors.LinkWatch.LinkWatch.IsUrgentEvent(dev);
}
