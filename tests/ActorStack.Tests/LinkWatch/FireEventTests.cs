using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Config;

namespace ActorStack.Tests.LinkWatch;

/// <summary>linkwatch_fire_event, one pending event per device.</summary>
public class FireEventTests
{
    [Fact]
    public void CarrierFlap_TenChangesBeforeWorkRuns_OneDoDevOneNetdevChange()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        long doDevBefore = h.Lw.DoDevCalls;

        for (int i = 0; i < 10; i++)
        {
            long t = 10_000 + i;
            if (i % 2 == 0) h.Lw.CarrierOff(eth0, t);
            else h.Lw.CarrierOn(eth0, t);
        }

        Assert.True(eth0.LinkwatchPending);
        Assert.Single(h.Lw.EventList);
        Assert.Equal(6, eth0.CarrierUpCount);   // bring-up + 5 flaps up
        Assert.Equal(5, eth0.CarrierDownCount);
        // The first (down) event scheduled the work; linkwatch_nextevent (1000) is
        // in the past, so the wrapped delay is 0.
        Assert.Equal(10_000, h.Lw.WorkDueAtMs);
        // Only the five carrier-ons' watchdog restarts happened so far.
        Assert.Equal(Enumerable.Repeat("watchdog_up eth0", 5), h.Sink.Take());

        Assert.True(h.Lw.RunWork(10_009));

        Assert.Equal(1, h.Lw.DoDevCalls - doDevBefore);
        Assert.False(eth0.LinkwatchPending);
        Assert.Equal(new[]
        {
            "dev_activate eth0",
            "watchdog_up eth0",
            "NETDEV_CHANGE eth0",
            "RTM_NEWLINK eth0 UP",
        }, h.Sink.Take());
        Assert.Null(h.Lw.WorkDueAtMs);
    }

    [Fact]
    public void FireEvent_NonUrgentWhilePending_IsAbsorbedWithoutRescheduling()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.RunWork(10_000);   // nextevent = 11_000
        var eth1 = h.Registered("eth1", 3, carrierOffAtProbe: false);
        h.Sink.Take();

        h.Lw.DormantOn(eth1, 10_100);   // not running: never urgent
        Assert.Equal(11_000, h.Lw.WorkDueAtMs);
        h.Lw.DormantOff(eth1, 10_200);
        h.Lw.DormantOn(eth1, 10_300);

        Assert.Equal(new[] { eth1 }, h.Lw.EventList);
        Assert.Equal(11_000, h.Lw.WorkDueAtMs);
        Assert.False(h.Lw.UrgentPending);
    }

    [Fact]
    public void FireEvent_UrgentWhilePending_ReschedulesImmediatelyWithoutSecondQueueEntry()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.RunWork(10_000);                         // qdisc now noop, nextevent = 11_000
        h.Lw.DormantOn(eth0, 10_100);                 // carrier down: not urgent, queued for 11_000
        Assert.Equal(11_000, h.Lw.WorkDueAtMs);
        h.Lw.DormantOff(eth0, 10_150);

        h.Lw.CarrierOn(eth0, 10_200);                 // already PENDING, but urgent

        Assert.Equal(new[] { eth0 }, h.Lw.EventList);
        Assert.True(h.Lw.UrgentPending);
        Assert.Equal(10_200, h.Lw.WorkDueAtMs);
    }
}
