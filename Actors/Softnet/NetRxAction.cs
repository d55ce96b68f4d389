using Akka.Actor;

namespace ActorStack.Actors.Softnet;

/// <summary>A NAPI context on a <c>poll_list</c>: a driver and its RX queue.</summary>
/// <remarks>
/// Hashed by the driver's uid (<see cref="ActorRefComparer"/>), not Akka's whole-path hash: the softirq looks a NAPI up
/// (<c>NAPI_STATE_SCHED</c>, its GRO context) on every schedule and every poll result.
/// </remarks>
public readonly record struct NapiRef(IActorRef Driver, int Queue)
{
    public bool Equals(NapiRef other) => Queue == other.Queue && ActorRefComparer.Instance.Equals(Driver, other.Driver);

    public override int GetHashCode() => HashCode.Combine(Driver is null ? 0 : ActorRefComparer.Instance.GetHashCode(Driver), Queue);
}

/// <summary>What the softirq does after a poll (or at the start of a softirq).</summary>
public enum NetRxStep
{
    /// <summary>Poll the NAPI returned (<c>napi_poll</c>), still in the same <c>net_rx_action</c> run.</summary>
    Poll,
    /// <summary>The run ended with nothing listed: NET_RX_SOFTIRQ is no longer pending.</summary>
    Done,
    /// <summary>
    /// The run ended with NAPIs listed and NET_RX_SOFTIRQ raised again; <c>__do_softirq</c> restarts at once
    /// (<see cref="NetRxAction.Restart"/>), inside its window of <see cref="NetRxAction.MaxSoftirqRestart"/> runs and 2 ms.
    /// </summary>
    Restart,
    /// <summary>
    /// The run ended with NET_RX_SOFTIRQ raised again past <c>__do_softirq</c>'s restart limit: <c>wakeup_softirqd</c>,
    /// the rest runs in ksoftirqd, after the other work pending on the CPU (<see cref="NetRxAction.StartSoftirq"/> again).
    /// </summary>
    Ksoftirqd,
}

/// <summary>
/// <c>net_rx_action</c>'s bookkeeping for one CPU as Linux ≥ 4.x does it (net/core/dev.c), without actors: the
/// <c>poll_list</c>, the budget (<c>netdev_budget</c>) and time limit (<c>netdev_budget_usecs</c>) of a run, the
/// weight per poll, the <c>repoll</c> list and <c>time_squeeze</c>; and <c>handle_softirqs</c>' restart limit
/// (kernel/softirq.c: <c>MAX_SOFTIRQ_RESTART</c>, <c>MAX_SOFTIRQ_TIME</c>, <c>wakeup_softirqd</c>).
/// A run takes the <c>poll_list</c> as its own <c>list</c> and polls each NAPI on it at most once: one that used
/// its whole weight goes on <c>repoll</c>, spliced back behind the rest when the run ends, and the softirq is raised
/// again without a <c>time_squeeze</c>; NAPIs scheduled during the run are polled in it (<c>goto start</c>) only
/// once <c>list</c> and <c>repoll</c> are both empty. <c>time_squeeze</c> counts only a run whose budget or time
/// ran out. A driver's poll is asynchronous (a message to the driver and its answer) and the backlog's is local,
/// so a run advances one poll at a time. Time is passed in, in nanoseconds of the scheduler's clock.
/// </summary>
public sealed class NetRxAction(int budget, int budgetUsecs, int weight)
{
    /// <summary><c>MAX_SOFTIRQ_RESTART</c>: <c>--max_restart</c> allows 9 restarts, 10 runs per <c>__do_softirq</c>.</summary>
    public const int MaxSoftirqRestart = 10;
    /// <summary><c>MAX_SOFTIRQ_TIME</c>: 2 ms (<c>msecs_to_jiffies(2)</c>).</summary>
    public const long MaxSoftirqTimeNs = 2_000_000;

    private LinkedList<NapiRef> _pollList = new();   // sd->poll_list
    private LinkedList<NapiRef> _list = new();       // the run's list
    private readonly LinkedList<NapiRef> _repoll = new();
    private readonly HashSet<NapiRef> _listed = new(); // NAPI_STATE_SCHED
    private int _budgetLeft;
    private long _timeLimitNs;
    private long _softirqEndNs;
    private int _maxRestart;

    public int Weight { get; } = weight;
    /// <summary>NET_RX_SOFTIRQ is raised (a softirq is on its way) or a run is going on.</summary>
    public bool SoftirqPending { get; private set; }
    /// <summary>A <c>net_rx_action</c> run is going on (between its start and its end).</summary>
    public bool Running { get; private set; }
    /// <summary>The NAPI being polled: a poll was started and <see cref="PollDone"/> has not been called for it.</summary>
    public NapiRef? InFlight { get; private set; }
    /// <summary>NAPIs with <c>NAPI_STATE_SCHED</c>: on the poll_list, the run's list or repoll.</summary>
    public int Listed => _listed.Count;
    public long TimeSqueeze { get; private set; }
    /// <summary><c>net_rx_action</c> calls (what <c>/proc/softirqs</c> counts as NET_RX).</summary>
    public long Runs { get; private set; }
    /// <summary>Runs started by <c>__do_softirq</c>'s <c>goto restart</c>.</summary>
    public long Restarts { get; private set; }
    /// <summary>Times the restart limit handed the softirq to ksoftirqd (<c>wakeup_softirqd</c>).</summary>
    public long KsoftirqdWakeups { get; private set; }

    /// <summary><c>____napi_schedule</c>: list the NAPI; true when the caller must raise the softirq.</summary>
    public bool Schedule(NapiRef napi)
    {
        if (!_listed.Add(napi)) return false;
        _pollList.AddLast(napi);
        if (SoftirqPending) return false;
        SoftirqPending = true;
        return true;
    }

    /// <summary>
    /// <c>handle_softirqs</c> entered (from <c>irq_exit</c> or ksoftirqd): a fresh restart window
    /// (<see cref="MaxSoftirqRestart"/> runs, <see cref="MaxSoftirqTimeNs"/>), then the first <c>net_rx_action</c> run.
    /// Null with <see cref="NetRxStep.Done"/> when a run is already going on or nothing is listed.
    /// </summary>
    public NapiRef? StartSoftirq(long nowNs, out NetRxStep step)
    {
        if (Running)
        {
            step = NetRxStep.Done;
            return null;
        }
        _softirqEndNs = nowNs + MaxSoftirqTimeNs;
        _maxRestart = MaxSoftirqRestart;
        return StartRun(nowNs, out step);
    }

    /// <summary><c>goto restart</c> after <see cref="NetRxStep.Restart"/>: the next <c>net_rx_action</c> run in the same window.</summary>
    public NapiRef? Restart(long nowNs, out NetRxStep step)
    {
        Restarts++;
        return StartRun(nowNs, out step);
    }

    /// <summary>Start of <c>net_rx_action</c>: a fresh budget and time limit, the poll_list spliced onto the run's list.</summary>
    private NapiRef? StartRun(long nowNs, out NetRxStep step)
    {
        Runs++;
        Running = true;
        _budgetLeft = budget;
        _timeLimitNs = nowNs + budgetUsecs * 1000L;
        (_list, _pollList) = (_pollList, _list); // list_splice_init(&sd->poll_list, &list): _list was empty
        return Next(nowNs, out step);
    }

    /// <summary>The loop's head: the next NAPI of the run's list, <c>goto start</c>, or the end of the run.</summary>
    private NapiRef? Next(long nowNs, out NetRxStep step)
    {
        if (_list.Count == 0)
        {
            if (_repoll.Count > 0) return EndRun(nowNs, out step);
            if (_pollList.Count == 0)
            {
                Running = false;
                SoftirqPending = false;
                step = NetRxStep.Done;
                return null;
            }
            (_list, _pollList) = (_pollList, _list); // goto start: the same budget and time limit
        }
        InFlight = _list.First!.Value;
        step = NetRxStep.Poll;
        return InFlight;
    }

    private bool _completedEarly; // the NAPI in flight completed before its poll's work was done

    /// <summary>
    /// <c>napi_complete_done</c> during the poll of the NAPI in flight, before the poll's work (the protocol
    /// handlers, the CPU's busy time) is done: <c>NAPI_STATE_SCHED</c> is cleared now, so a <see cref="Schedule"/>
    /// in the meantime (a new interrupt, a backlog enqueue) lists it again. <see cref="PollDone"/> follows with
    /// <c>completed</c> true.
    /// </summary>
    public void Complete(NapiRef napi)
    {
        if (InFlight != napi || _completedEarly) return;
        _listed.Remove(napi);
        _completedEarly = true;
    }

    /// <summary>
    /// The poll of <paramref name="napi"/> is done (<c>napi_poll</c> returned <paramref name="work"/>). One that
    /// completed (<c>napi_complete_done</c>) is no longer listed; one that did not goes on <c>repoll</c>. Budget or
    /// time exhausted ends the run with a <c>time_squeeze</c> (<paramref name="squeezed"/>); otherwise the run
    /// goes on (<see cref="NetRxStep.Poll"/>) or ends (<see cref="NetRxStep.Done"/>, <see cref="NetRxStep.Restart"/>,
    /// <see cref="NetRxStep.Ksoftirqd"/>). <paramref name="nowNs"/> is when the poll's work is finished.
    /// </summary>
    public NapiRef? PollDone(NapiRef napi, int work, bool completed, long nowNs, out NetRxStep step, out bool squeezed)
    {
        squeezed = false;
        InFlight = null;
        _budgetLeft -= work;
        var node = _list.First is { } first && first.Value == napi ? first : _list.Find(napi);
        if (node is not null) _list.Remove(node);
        bool early = _completedEarly;
        _completedEarly = false;
        if (completed)
        {
            if (!early) _listed.Remove(napi);
        }
        else if (node is not null) _repoll.AddLast(node); // the node moves as it is: a poll allocates nothing
        else _repoll.AddLast(napi);

        // "If softirq window is exhausted then punt": counted whether or not work is left.
        if (_budgetLeft <= 0 || nowNs >= _timeLimitNs)
        {
            TimeSqueeze++;
            squeezed = true;
            return EndRun(nowNs, out step);
        }
        return Next(nowNs, out step);
    }

    /// <summary>
    /// The end of the run: <c>list_splice_tail_init(&amp;sd-&gt;poll_list, &amp;list)</c>,
    /// <c>list_splice_tail(&amp;repoll, &amp;list)</c>, <c>list_splice(&amp;list, &amp;sd-&gt;poll_list)</c>; with anything
    /// listed NET_RX_SOFTIRQ is raised again and <c>handle_softirqs</c> decides: <c>goto restart</c> while
    /// <c>time_before(jiffies, end)</c> and <c>--max_restart</c>, else <c>wakeup_softirqd</c>.
    /// </summary>
    private NapiRef? EndRun(long nowNs, out NetRxStep step)
    {
        foreach (var n in _pollList) _list.AddLast(n);
        _pollList.Clear();
        while (_repoll.First is { } r)
        {
            _repoll.RemoveFirst();
            _list.AddLast(r);
        }
        (_list, _pollList) = (_pollList, _list);
        Running = false;
        InFlight = null;
        if (_pollList.Count == 0)
        {
            SoftirqPending = false;
            step = NetRxStep.Done;
        }
        else if (nowNs < _softirqEndNs && --_maxRestart > 0)
        {
            step = NetRxStep.Restart;
        }
        else
        {
            KsoftirqdWakeups++;
            step = NetRxStep.Ksoftirqd;
        }
        return null;
    }
}
