using Akka.Actor;
using ActorStack.Actors.Engine;

namespace ActorStack.Tests.Engine;

/// <summary>The simulated epoch from config, and cancelled timers that do not pile up in the event heap.</summary>
public class EngineConfigTests() : EngineKit("engine-config", """actorstack.run.epoch = "2030-05-06T07:08:09Z" """)
{
    [Fact]
    public void Epoch_FromConfig_IsWhatTheSchedulerReadsAtZero_AndMovesWithTheClock()
    {
        var epoch = new DateTimeOffset(2030, 5, 6, 7, 8, 9, TimeSpan.Zero);
        Assert.Equal(epoch, Engine.Epoch);
        Assert.Equal(epoch, Sys.Scheduler.Now);
        Engine.RunFor(TimeSpan.FromSeconds(90));
        Assert.Equal(epoch.AddSeconds(90), Sys.Scheduler.Now);
        Assert.Equal(TimeSpan.FromSeconds(90), ((ITimeProvider)Sys.Scheduler).HighResMonotonicClock);
    }

    [Fact]
    public void TenThousandCancelledTimers_DoNotStayInTheHeap()
    {
        var keep = new Cancelable(Sys.Scheduler);
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), ActorRefs.Nobody, "live", ActorRefs.NoSender, keep);
        for (int i = 0; i < 10_000; i++)
        {
            var c = new Cancelable(Sys.Scheduler);
            Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(5), ActorRefs.Nobody, "x", ActorRefs.NoSender, c);
            c.Cancel();
        }
        Assert.Equal((1, TimeSpan.FromSeconds(1)), Engine.Pending);
        Assert.True(Engine.QueueLength <= 2 * 1 + 65, $"heap holds {Engine.QueueLength}");
        long before = Engine.Executed;
        Engine.RunFor(TimeSpan.FromSeconds(10));
        Assert.Equal(1, Engine.Executed - before); // only the live timer ran
        Assert.Equal(0, Engine.QueueLength);
    }
}
