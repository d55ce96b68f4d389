using Akka.Actor;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Receive;

/// <summary>net_rx_action's bookkeeping without actors: poll_list, budget, time limit, time_squeeze.</summary>
public class NetRxActionTests
{
    private static readonly NapiRef A = new(ActorRefs.Nobody, 0);
    private static readonly NapiRef B = new(ActorRefs.Nobody, 1);

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
    public void PollDone_TwoFullNapisBudget300_SqueezesAfterFivePollsThenContinues()
    {
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        rx.Schedule(B);
        var polled = new List<NapiRef>();
        var next = rx.StartRun(0);
        bool reRaise = false;
        while (next is { } n)
        {
            polled.Add(n);
            Assert.Equal(n, rx.InFlight);
            next = rx.PollDone(n, 64, completed: false, 0, out reRaise, out _);
        }
        // 5 × 64 = 320 ≥ 300: the fifth poll exhausts the budget.
        Assert.Equal(new[] { A, B, A, B, A }, polled);
        Assert.True(reRaise);
        Assert.Equal(1, rx.TimeSqueeze);
        Assert.Equal(2, rx.Listed);
        Assert.True(rx.SoftirqPending);
        Assert.Null(rx.InFlight);

        // The re-raised softirq continues the list where it stopped (B is at the head) with a fresh budget.
        Assert.Equal(B, rx.StartRun(0));
        Assert.Equal(A, rx.PollDone(B, 10, completed: true, 0, out reRaise, out _));
        Assert.False(reRaise);
        Assert.Null(rx.PollDone(A, 5, completed: true, 0, out reRaise, out _));
        Assert.False(reRaise);
        Assert.Equal(1, rx.TimeSqueeze);
        Assert.Equal(0, rx.Listed);
        Assert.False(rx.SoftirqPending);
    }

    [Fact]
    public void PollDone_UnderWeight_NapiLeavesListAndCanBeScheduledAgain()
    {
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        rx.Schedule(B);
        Assert.Equal(A, rx.StartRun(0));
        Assert.Equal(B, rx.PollDone(A, 3, completed: true, 0, out var reRaise, out _));
        Assert.False(reRaise);
        Assert.Equal(1, rx.Listed);
        Assert.False(rx.Schedule(A)); // listed again, no new softirq: the run is still going on
        Assert.Equal(2, rx.Listed);
        Assert.Equal(A, rx.PollDone(B, 64, completed: false, 0, out reRaise, out _)); // B goes to the tail
        Assert.Equal(B, rx.PollDone(A, 0, completed: true, 0, out reRaise, out _));
        Assert.Equal(1, rx.Listed);
        Assert.Equal(0, rx.TimeSqueeze);
    }

    [Fact]
    public void PollDone_TimeLimitPassed_SqueezesWithBudgetLeft()
    {
        var rx = new NetRxAction(300, 2000, 64); // 2000 µs = 20 000 ticks
        rx.Schedule(A);
        rx.Schedule(B);
        Assert.Equal(A, rx.StartRun(1_000));
        Assert.Equal(B, rx.PollDone(A, 64, completed: false, 11_000, out var reRaise, out _)); // 1 ms in: go on
        Assert.False(reRaise);
        Assert.Null(rx.PollDone(B, 64, completed: false, 25_000, out reRaise, out _)); // 2.4 ms in, 128 of 300 used
        Assert.True(reRaise);
        Assert.Equal(1, rx.TimeSqueeze);
        Assert.Equal(2, rx.Listed);
    }

    [Fact]
    public void StartRun_PollInFlight_ReturnsNull()
    {
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        Assert.Equal(A, rx.StartRun(0));
        Assert.Null(rx.StartRun(0));
        Assert.Equal(A, rx.InFlight);
    }

    [Fact]
    public void PollDone_BudgetExhaustedByLastNapi_CountsSqueezeWithoutReRaise()
    {
        // net_rx_action counts time_squeeze whenever the window is exhausted after a poll,
        // even when that poll emptied the list; it re-raises only with work left.
        var rx = new NetRxAction(64, 2000, 64);
        rx.Schedule(A);
        Assert.Equal(A, rx.StartRun(0));
        Assert.Null(rx.PollDone(A, 64, completed: true, 0, out var reRaise, out var squeezed));
        Assert.True(squeezed);
        Assert.False(reRaise);
        Assert.False(rx.SoftirqPending);
        Assert.Equal(1, rx.TimeSqueeze);
    }

    [Fact]
    public void PollDone_AtTimeLimitExactly_Squeezes()
    {
        // time_after_eq(jiffies, time_limit): the limit itself already punts.
        var rx = new NetRxAction(300, 2000, 64);
        rx.Schedule(A);
        rx.Schedule(B);
        Assert.Equal(A, rx.StartRun(0));
        Assert.Null(rx.PollDone(A, 1, completed: false, 2000 * 10, out var reRaise, out var squeezed));
        Assert.True(squeezed);
        Assert.True(reRaise);
    }
}
