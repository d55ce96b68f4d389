using Akka.Actor;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Receive;

/// <summary>
/// net_rx_action's bookkeeping without actors, as Linux ≥ 4.x: poll_list, one poll per NAPI per run (repoll),
/// budget, time limit (ns), time_squeeze, and handle_softirqs' restart limit (10 runs or 2 ms, then ksoftirqd).
/// </summary>
public class NetRxActionTests
{
    private static readonly NapiRef A = new(ActorRefs.Nobody, 0);
    private static readonly NapiRef B = new(ActorRefs.Nobody, 1);
    private static readonly NapiRef C = new(ActorRefs.Nobody, 2);

    [Fact]
    public void Schedule_TwoNapisTwice_RaisesSoftirqOnce()
    {
        var rx = new NetRxAction(300, 2000, 64);
        Assert.True(rx.Schedule(A));
        Assert.False(rx.Schedule(A));  // already on the poll_list (NAPI_STATE_SCHED)
        Assert.False(rx.Schedule(B));  // listed, but the softirq is already raised
        Assert.Equal(2, rx.Listed);
        Assert.True(rx.SoftirqPending);
    }

    [Fact]
    public void PollDone_TwoFullNapis_EachPolledOncePerRun_RepollRestartsWithoutSqueeze()
    {
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        rx.Schedule(B);
        Assert.Equal(A, rx.StartSoftirq(0, out var step));
        Assert.Equal(NetRxStep.Poll, step);
        Assert.Equal(B, rx.PollDone(A, 64, completed: false, 0, out step, out var squeezed));
        Assert.Equal(NetRxStep.Poll, step);
        // Both used their whole weight: the run ends after one poll each (128 of 300), re-raised, no squeeze.
        Assert.Null(rx.PollDone(B, 64, completed: false, 0, out step, out squeezed));
        Assert.Equal(NetRxStep.Restart, step);
        Assert.False(squeezed);
        Assert.Equal(0, rx.TimeSqueeze);
        Assert.True(rx.SoftirqPending);
        Assert.False(rx.Running);

        // The next run alternates again, A then B, with a fresh budget.
        Assert.Equal(A, rx.Restart(0, out step));
        Assert.Equal(B, rx.PollDone(A, 64, completed: false, 0, out step, out _));
        Assert.Null(rx.PollDone(B, 10, completed: true, 0, out step, out _));
        Assert.Equal(NetRxStep.Restart, step);            // A is still listed (repoll)
        Assert.Equal(A, rx.Restart(0, out step));
        Assert.Null(rx.PollDone(A, 5, completed: true, 0, out step, out _));
        Assert.Equal(NetRxStep.Done, step);
        Assert.Equal((0L, 3L, 2L, 0L), (rx.TimeSqueeze, rx.Runs, rx.Restarts, rx.KsoftirqdWakeups));
        Assert.Equal(0, rx.Listed);
        Assert.False(rx.SoftirqPending);
    }

    [Fact]
    public void PollDone_BudgetExhaustedWithWorkLeft_ExactlyOneSqueezePerRun()
    {
        // budget 150 = weight 64 × 2 + 22: the third NAPI's poll exhausts it; one squeeze per run, never two.
        var rx = new NetRxAction(150, 2000, 64);
        rx.Schedule(A);
        rx.Schedule(B);
        rx.Schedule(C);
        var next = rx.StartSoftirq(0, out var step);
        var polled = new List<NapiRef>();
        int squeezes = 0;
        for (int run = 0; run < 3; run++)
        {
            while (step == NetRxStep.Poll)
            {
                polled.Add(next!.Value);
                next = rx.PollDone(next.Value, 64, completed: false, 0, out step, out var squeezed);
                if (squeezed) squeezes++;
            }
            Assert.Equal(NetRxStep.Restart, step);
            Assert.Equal(run + 1, squeezes);
            next = rx.Restart(0, out step);
        }
        // The squeezed run's unpolled NAPIs stay at the head, the polled ones (repoll) go behind them.
        Assert.Equal(new[] { A, B, C, A, B, C, A, B, C }, polled);
        Assert.Equal(3, rx.TimeSqueeze);
    }

    [Fact]
    public void PollDone_Squeezed_UnpolledStayAhead_NewlyScheduledBeforeRepoll()
    {
        var rx = new NetRxAction(100, 2000, 64);
        rx.Schedule(A);
        rx.Schedule(B);
        Assert.Equal(A, rx.StartSoftirq(0, out _));
        Assert.False(rx.Schedule(C));                      // scheduled during the run: on sd->poll_list
        Assert.Equal(B, rx.PollDone(A, 64, false, 0, out _, out _));
        Assert.Null(rx.PollDone(B, 40, false, 0, out var step, out var squeezed)); // 104 ≥ 100
        Assert.True(squeezed);
        Assert.Equal(NetRxStep.Restart, step);
        // list (empty) + poll_list (C) + repoll (A, B)
        Assert.Equal(C, rx.Restart(0, out _));
        Assert.Equal(A, rx.PollDone(C, 1, true, 0, out _, out _));
        Assert.Equal(B, rx.PollDone(A, 1, true, 0, out _, out _));
    }

    [Fact]
    public void PollDone_ListDoneNothingRepolled_NewlyScheduledPolledInTheSameRun()
    {
        // goto start: with list and repoll empty, NAPIs scheduled meanwhile run in the same run, same budget.
        var rx = new NetRxAction(100, 2000, 64);
        rx.Schedule(A);
        Assert.Equal(A, rx.StartSoftirq(0, out _));
        rx.Schedule(B);
        Assert.Equal(B, rx.PollDone(A, 60, completed: true, 0, out var step, out _));
        Assert.Equal(NetRxStep.Poll, step);
        Assert.Null(rx.PollDone(B, 40, completed: true, 0, out step, out var squeezed)); // 100: budget spent
        Assert.True(squeezed);
        Assert.Equal(NetRxStep.Done, step);
        Assert.Equal(1L, rx.Runs);
    }

    [Fact]
    public void PollDone_TimeLimit_JudgedInNanoseconds_BothSides()
    {
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        rx.Schedule(B);
        Assert.Equal(A, rx.StartSoftirq(1_000, out _));
        Assert.Equal(B, rx.PollDone(A, 1, completed: true, 1_000 + 1_999_999, out _, out var squeezed)); // 1 ns before
        Assert.False(squeezed);
        Assert.Null(rx.PollDone(B, 1, completed: false, 1_000 + 2_000_000, out var step, out squeezed)); // time_after_eq
        Assert.True(squeezed);
        Assert.Equal(NetRxStep.Ksoftirqd, step); // and 2 ms is also __do_softirq's MAX_SOFTIRQ_TIME
        Assert.Equal(1, rx.TimeSqueeze);
    }

    [Fact]
    public void Restart_TenRunsPerSoftirq_ThenKsoftirqd_WhichStartsAFreshWindow()
    {
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        var next = rx.StartSoftirq(0, out var step);
        var steps = new List<NetRxStep>();
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(A, next);
            rx.PollDone(A, 64, completed: false, 0, out step, out _);
            steps.Add(step);
            if (step == NetRxStep.Restart) next = rx.Restart(0, out _);
        }
        Assert.Equal(Enumerable.Repeat(NetRxStep.Restart, 9).Append(NetRxStep.Ksoftirqd), steps);
        Assert.Equal((10L, 9L, 1L, 0L), (rx.Runs, rx.Restarts, rx.KsoftirqdWakeups, rx.TimeSqueeze));
        Assert.True(rx.SoftirqPending);

        // ksoftirqd: handle_softirqs again, 10 more runs.
        Assert.Equal(A, rx.StartSoftirq(0, out step));
        rx.PollDone(A, 64, completed: false, 0, out step, out _);
        Assert.Equal(NetRxStep.Restart, step);
    }

    [Fact]
    public void Restart_TwoMillisecondsPassed_KsoftirqdBeforeTenRuns_OneNanosecondLessRestarts()
    {
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        rx.StartSoftirq(0, out _);
        rx.PollDone(A, 64, completed: false, 1_999_999, out var step, out _);
        Assert.Equal(NetRxStep.Restart, step);
        rx.Restart(1_999_999, out _);
        rx.PollDone(A, 64, completed: false, 2_000_000, out step, out var squeezed);
        Assert.Equal(NetRxStep.Ksoftirqd, step);
        Assert.False(squeezed); // the run's own limit started at 1 999 999 ns
        Assert.Equal(1, rx.KsoftirqdWakeups);
    }

    [Fact]
    public void StartSoftirq_RunGoingOn_ReturnsNull()
    {
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        Assert.Equal(A, rx.StartSoftirq(0, out _));
        Assert.Null(rx.StartSoftirq(0, out var step));
        Assert.Equal(NetRxStep.Done, step);
        Assert.Equal(A, rx.InFlight);
    }

    [Fact]
    public void PollDone_BudgetExhaustedByLastNapi_CountsSqueezeWithoutReRaise()
    {
        // net_rx_action counts time_squeeze whenever the window is exhausted after a poll,
        // even when that poll emptied the list; it re-raises only with work left.
        var rx = new NetRxAction(64, 2000, 64);
        rx.Schedule(A);
        Assert.Equal(A, rx.StartSoftirq(0, out _));
        Assert.Null(rx.PollDone(A, 64, completed: true, 0, out var step, out var squeezed));
        Assert.True(squeezed);
        Assert.Equal(NetRxStep.Done, step);
        Assert.False(rx.SoftirqPending);
        Assert.Equal(1, rx.TimeSqueeze);
    }

    [Fact]
    public void PollDone_BudgetOneShort_NoSqueeze()
    {
        var rx = new NetRxAction(65, 2000, 64);
        rx.Schedule(A);
        rx.StartSoftirq(0, out _);
        rx.PollDone(A, 64, completed: false, 0, out var step, out var squeezed);
        Assert.False(squeezed);
        Assert.Equal(NetRxStep.Restart, step);
    }

    [Fact]
    public void Complete_DuringThePollsWork_ScheduleListsItAgain_PollDoneKeepsTheNewListing()
    {
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        Assert.Equal(A, rx.StartSoftirq(0, out _));
        rx.Complete(A);                      // napi_complete_done inside the poll
        Assert.False(rx.Schedule(A));        // listed again (no new softirq: the run is going on)
        Assert.Equal(1, rx.Listed);
        Assert.Equal(A, rx.PollDone(A, 3, completed: true, 0, out var step, out _)); // goto start: polled again
        Assert.Equal(NetRxStep.Poll, step);
        Assert.Null(rx.PollDone(A, 0, completed: true, 0, out step, out _));
        Assert.Equal(NetRxStep.Done, step);
        Assert.Equal(0, rx.Listed);
    }
}
