using Akka.Actor;
using ActorStack.Actors.Engine;

namespace ActorStack.Tests.Engine;

/// <summary>Akka timers on the engine: exact virtual instants, repeat, cancel, actor timers, a clock that waits for the actors.</summary>
public class VirtualTimeSchedulerTests() : EngineKit("engine-timers")
{
    /// <summary>Appends (message, virtual ns) for every message; on "spin n" tells itself "spin n-1" (n turns at one instant).</summary>
    private sealed class Recorder : ReceiveActor, IWithTimers
    {
        public ITimerScheduler Timers { get; set; } = null!;

        public Recorder(SimEngine engine, List<(string Msg, long Ns)> log)
        {
            Receive<string>(s =>
            {
                log.Add((s, engine.NowNs));
                if (s.StartsWith("spin ") && int.Parse(s[5..]) is > 0 and var n) Self.Tell($"spin {n - 1}");
                else if (s == "start-timer") Timers.StartSingleTimer("k", "timer-fired", TimeSpan.FromMilliseconds(2));
                else if (s == "start-and-cancel")
                {
                    Timers.StartSingleTimer("c", "must-not-fire", TimeSpan.FromMilliseconds(1));
                    Timers.Cancel("c");
                }
                else if (s == "start-periodic") Timers.StartPeriodicTimer("p", "periodic", TimeSpan.FromMilliseconds(1));
                else if (s == "stop-periodic") Timers.Cancel("p");
            });
        }
    }

    private (IActorRef Actor, List<(string Msg, long Ns)> Log) NewRecorder(string name)
    {
        var log = new List<(string, long)>();
        var a = Sys.ActorOf(Props.Create(() => new Recorder(Engine, log)), name);
        Engine.RunUntilIdle(); // /user handles the Supervise: the actor starts at 0
        return (a, log);
    }

    [Fact]
    public async Task ScheduleTellOnce_FiresAtTheExactInstant_NotBefore()
    {
        var probe = Probe();
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromTicks(15_000), probe.Ref, "tick", ActorRefs.NoSender); // 1.5 ms
        Assert.Equal((1, TimeSpan.FromTicks(15_000)), Engine.Pending);
        Engine.RunUntil(TimeSpan.FromTicks(14_999)); // 1.4999 ms
        Assert.False(probe.HasMessages);
        Assert.Equal(1_499_900, Engine.NowNs);
        Assert.Equal(SimEngine.DefaultEpoch + TimeSpan.FromTicks(14_999), Sys.Scheduler.Now);
        Assert.Equal(TimeSpan.FromTicks(14_999), Sys.Scheduler.MonotonicClock);
        Engine.RunUntil(TimeSpan.FromTicks(15_000));
        Assert.Equal("tick", await probe.ExpectMsgAsync<string>(TimeSpan.FromSeconds(1)));
        Assert.Equal(1_500_000, Engine.NowNs);
        Assert.Equal(0, Engine.Pending.Count);
        Assert.Null(Engine.Pending.NextDue);
    }

    [Fact]
    public async Task RepeatingTimer_FiresEveryInterval_UntilCancelled()
    {
        var (rec, log) = NewRecorder("rep");
        var c = new Cancelable(Sys.Scheduler);
        Sys.Scheduler.ScheduleTellRepeatedly(TimeSpan.FromMilliseconds(1), Us(500), rec, "r", ActorRefs.NoSender, c);
        Engine.RunUntil(TimeSpan.FromMilliseconds(2));
        Assert.Equal([("r", 1_000_000L), ("r", 1_500_000L), ("r", 2_000_000L)], log);
        Assert.Equal((1, TimeSpan.FromTicks(25_000)), Engine.Pending);
        c.Cancel();
        Assert.Equal(0, Engine.Pending.Count);
        Engine.RunUntil(TimeSpan.FromMilliseconds(10));
        Assert.Equal(3, log.Count);
        Assert.Equal(10_000_000, Engine.NowNs);
        await Task.CompletedTask;
    }

    [Fact]
    public void CancelledOnceTimer_NeverFires_AndScheduleOnceActionRuns()
    {
        var (rec, log) = NewRecorder("once");
        var c = new Cancelable(Sys.Scheduler);
        Sys.Scheduler.ScheduleTellOnce(Us(10), rec, "cancelled", ActorRefs.NoSender, c);
        long ranAt = -1;
        Sys.Scheduler.Advanced.ScheduleOnce(Us(20), () => ranAt = Engine.NowNs);
        c.Cancel();
        Assert.Equal(1, Engine.Pending.Count);
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        Assert.Empty(log);
        Assert.Equal(20_000, ranAt);
        Assert.Equal(1_000_000, Engine.NowNs);
    }

    [Fact]
    public void ActorTimers_SingleTimerAtExactInstant_CancelledTimerSilent_PeriodicTimer()
    {
        var (rec, log) = NewRecorder("timers");
        rec.Tell("start-timer");
        rec.Tell("start-and-cancel");
        Engine.RunUntil(TimeSpan.FromTicks(19_999));
        Assert.Equal([("start-timer", 0L), ("start-and-cancel", 0L)], log);
        Engine.RunUntil(TimeSpan.FromMilliseconds(2));
        Assert.Equal(("timer-fired", 2_000_000L), log[^1]);
        rec.Tell("start-periodic");
        Engine.RunFor(TimeSpan.FromMilliseconds(3));
        rec.Tell("stop-periodic");
        Engine.RunFor(TimeSpan.FromMilliseconds(5));
        Assert.Equal([("start-periodic", 2_000_000L), ("periodic", 3_000_000L), ("periodic", 4_000_000L), ("periodic", 5_000_000L), ("stop-periodic", 5_000_000L)],
            log.Skip(3).ToList());
        Assert.DoesNotContain(log, e => e.Msg == "must-not-fire");
        Assert.Equal(10_000_000, Engine.NowNs);
    }

    [Fact]
    public void ClockDoesNotMoveWhileAnActorHasAMessage()
    {
        var (rec, log) = NewRecorder("spin");
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromTicks(1), rec, "timer", ActorRefs.NoSender); // 100 ns
        rec.Tell("spin 500");
        Assert.Empty(log); // paused: the Tell is queued, not run
        Engine.RunUntil(TimeSpan.FromMilliseconds(1));
        Assert.Equal(502, log.Count);
        Assert.All(log.Take(501), e => Assert.Equal(0, e.Ns));
        Assert.Equal(("timer", 100L), log[501]);
    }

    [Fact]
    public void RunUntilIdle_DoesNotMoveTheClock_StepDoes()
    {
        var (rec, log) = NewRecorder("step");
        Sys.Scheduler.ScheduleTellOnce(Us(7), rec, "a", ActorRefs.NoSender);
        Assert.Equal(0, Engine.RunUntilIdle());
        Assert.Equal(0, Engine.NowNs);
        Assert.True(Engine.Step()); // the timer: clock to 7 µs, the Tell queues the mailbox run
        Assert.Equal(7_000, Engine.NowNs);
        Assert.Empty(log);
        Assert.True(Engine.Step()); // the mailbox run
        Assert.Equal([("a", 7_000L)], log);
        Assert.False(Engine.Step());
        Assert.Throws<ArgumentOutOfRangeException>(() => Engine.RunUntil(TimeSpan.FromTicks(1)));
    }

    [Fact]
    public void OutsideTells_AreOrderedAfterEventsAlreadyQueuedAtThatInstant()
    {
        var log = new List<(string Msg, long Ns)>();
        var first = Sys.ActorOf(Props.Create(() => new Recorder(Engine, log)), "first");
        var second = Sys.ActorOf(Props.Create(() => new Recorder(Engine, log)), "second");
        Engine.RunUntilIdle();
        // Queued in this order at t=0: a timer event (its Tell to second happens when it runs), then first's mailbox
        // run (an outside Tell), then second's (an outside Tell: the message joins the mailbox at the call).
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.Zero, second, "timer", ActorRefs.NoSender);
        first.Tell("outside");
        second.Tell("outside-2"); // joins second's mailbox now, before the timer's message
        long before = Engine.Executed;
        Engine.RunUntilIdle();
        Assert.Equal([("outside", 0L), ("outside-2", 0L), ("timer", 0L)], log);
        // timer event, first's run (queued by the outside Tell), second's run (queued by the second outside Tell;
        // the timer's Tell found it already scheduled)
        Assert.Equal(3, Engine.Executed - before);
    }

    [Fact]
    public void RunDueBounded_RunsWhatIsDueByTheLimit_StopsPastTheBoundAtOneInstant_AndWhenCancelled()
    {
        var (a, log) = NewRecorder("bounded");
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(1), a, "one", ActorRefs.NoSender);
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(3), a, "three", ActorRefs.NoSender);
        long limit = SimEngine.ToNs(TimeSpan.FromMilliseconds(2));
        Assert.True(Engine.RunDueBounded(limit, maxPerInstant: 10));
        Assert.Equal([("one", 1_000_000L)], log);
        Assert.Equal(1_000_000, Engine.NowNs); // the clock stays at the last event run, not at the limit

        // A loop at one instant: "spin 3000" tells itself 3,000 times at 1 ms. The 11th event without the clock moving
        // is one past the bound of 10: it stops there, the clock where it was.
        a.Tell("spin 3000");
        long before = Engine.Executed;
        Assert.False(Engine.RunDueBounded(limit, maxPerInstant: 10));
        Assert.Equal(11, Engine.Executed - before);
        Assert.Equal(1_000_000, Engine.NowNs);
        // With room for it, the loop ends and nothing due after the limit runs.
        Assert.True(Engine.RunDueBounded(limit, maxPerInstant: 1_000_000));
        Assert.Equal(("spin 0", 1_000_000L), log[^1]);
        Assert.Equal(3002, log.Count);

        // Stopped before the first event: nothing runs.
        before = Engine.Executed;
        Assert.True(Engine.RunDueBounded(long.MaxValue, 10, stop: () => true));
        Assert.Equal(before, Engine.Executed);
        Assert.True(Engine.RunDueBounded(long.MaxValue, 10));
        Assert.Equal(("three", 3_000_000L), log[^1]);
        Assert.Equal(3_000_000, Engine.NowNs);
    }
}
