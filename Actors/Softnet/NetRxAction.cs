using Akka.Actor;

namespace ActorStack.Actors.Softnet;

/// <summary>A NAPI context on a <c>poll_list</c>: a driver and its RX queue.</summary>
public readonly record struct NapiRef(IActorRef Driver, int Queue);

/// <summary>
/// <c>net_rx_action</c>'s bookkeeping for one CPU, without actors: the
/// <c>poll_list</c>, the budget (<c>netdev_budget</c>) and time limit
/// (<c>netdev_budget_usecs</c>) of a softirq run, the weight per poll, and the
/// <c>time_squeeze</c> decision. A driver's poll is asynchronous (a message to
/// the driver and its answer) and the backlog's is local, so a run advances one
/// poll result at a time. Time is passed in (the scheduler's clock, in ticks).
/// </summary>
public sealed class NetRxAction(int budget, int budgetUsecs, int weight)
{
    private readonly LinkedList<NapiRef> _pollList = new();
    private readonly HashSet<NapiRef> _listed = new();
    private int _budgetLeft;
    private long _timeLimitTicks;

    public int Weight { get; } = weight;
    /// <summary>NET_RX_SOFTIRQ is raised (a softirq message is on its way) or a run is going on.</summary>
    public bool SoftirqPending { get; private set; }
    /// <summary>A poll was sent to a driver and its result has not come back.</summary>
    public NapiRef? InFlight { get; private set; }
    public int Listed => _pollList.Count;
    public long TimeSqueeze { get; private set; }

    /// <summary><c>____napi_schedule</c>: list the NAPI; true when the caller must raise the softirq.</summary>
    public bool Schedule(NapiRef napi)
    {
        if (!_listed.Add(napi)) return false;
        _pollList.AddLast(napi);
        if (SoftirqPending) return false;
        SoftirqPending = true;
        return true;
    }

    /// <summary>Start of <c>net_rx_action</c>: a fresh budget and time limit; the first NAPI to poll, or null.</summary>
    public NapiRef? StartRun(long nowTicks)
    {
        if (InFlight is not null) return null; // a run is already polling
        _budgetLeft = budget;
        _timeLimitTicks = nowTicks + budgetUsecs * 10L;
        return PollNext();
    }

    private NapiRef? PollNext()
    {
        if (_pollList.First is not { } first)
        {
            SoftirqPending = false;
            return null;
        }
        InFlight = first.Value;
        return first.Value;
    }

    /// <summary>
    /// A poll came back. A NAPI that completed (<c>napi_complete_done</c>) leaves
    /// the list; one that used its whole weight goes to the tail. When budget or
    /// time is exhausted after a poll, the run stops and <c>time_squeeze</c> is
    /// counted (<paramref name="squeezed"/>); with work left the softirq must be
    /// raised again (<paramref name="reRaise"/>), so other messages to this CPU run in between.
    /// </summary>
    public NapiRef? PollDone(NapiRef napi, int work, bool completed, long nowTicks, out bool reRaise, out bool squeezed)
    {
        reRaise = false;
        squeezed = false;
        InFlight = null;
        _budgetLeft -= work;
        // The node moves to the tail as it is: a poll allocates nothing.
        var node = _pollList.First is { } first && first.Value == napi ? first : _pollList.Find(napi);
        if (node is not null) _pollList.Remove(node);
        if (completed) _listed.Remove(napi);
        else if (node is not null) _pollList.AddLast(node);
        else _pollList.AddLast(napi);

        // "If softirq window is exhausted then punt": counted whether or not work is left.
        if (_budgetLeft <= 0 || nowTicks >= _timeLimitTicks)
        {
            TimeSqueeze++;
            squeezed = true;
            reRaise = _pollList.Count > 0; // SoftirqPending stays set while the re-raised softirq continues the list
            if (!reRaise) SoftirqPending = false;
            return null;
        }
        if (_pollList.Count == 0)
        {
            SoftirqPending = false;
            return null;
        }
        return PollNext();
    }
}
