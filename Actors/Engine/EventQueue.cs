namespace ActorStack.Actors.Engine;

/// <summary>
/// The discrete-event queue: items ordered by (virtual time in ns, sequence number). The sequence number is given
/// at <see cref="Enqueue"/> from one counter, so items due at the same instant come out in the order they were
/// queued (FIFO ties), whatever their kind. Not thread-safe: <see cref="SimEngine"/> guards it with its lock.
/// <para>
/// Two stores, one order: most items are queued for the instant being run (a mailbox run at "now"), and those come
/// out in the order they went in, so they wait in a FIFO lane (a ring buffer, O(1)) instead of the binary heap
/// (O(log n)). The lane takes an item whose time is the lane's time: the time of the last item dequeued while the lane
/// was empty (0 at the start); every other item goes to the heap. Both stores keep each item's
/// (time, seq) key, and <see cref="TryPeek"/>/<see cref="TryDequeue"/> take the smaller of the two heads, so the
/// order is exactly the heap-only order: the lane only saves the heap work.
/// </para>
/// </summary>
public sealed class EventQueue<T>
{
    // A value tuple compares element by element: time first, then sequence.
    private readonly PriorityQueue<T, (long Time, long Seq)> _heap = new();
    private readonly Queue<(T Item, long Seq)> _lane = new();
    private long _laneTime;
    private long _seq;

    public int Count => _heap.Count + _lane.Count;

    /// <summary>The next sequence number <see cref="Enqueue"/> will give.</summary>
    public long NextSeq => _seq;

    /// <summary>Queues <paramref name="item"/> at <paramref name="timeNs"/>; returns its sequence number.</summary>
    public long Enqueue(long timeNs, T item)
    {
        long seq = _seq++;
        if (timeNs == _laneTime) _lane.Enqueue((item, seq)); // seq grows, so the lane stays in (time, seq) order
        else _heap.Enqueue(item, (timeNs, seq));
        return seq;
    }

    /// <summary>True when the lane's head comes before the heap's (or the heap is empty); false when nothing is queued.</summary>
    private bool LaneFirst(out bool any)
    {
        bool heap = _heap.TryPeek(out _, out var hk);
        if (_lane.Count == 0)
        {
            any = heap;
            return false;
        }
        any = true;
        return !heap || (_laneTime, _lane.Peek().Seq).CompareTo(hk) < 0;
    }

    public bool TryPeek(out T item, out long timeNs, out long seq) => Take(remove: false, out item, out timeNs, out seq);

    public bool TryDequeue(out T item, out long timeNs, out long seq) => Take(remove: true, out item, out timeNs, out seq);

    /// <summary>The earliest item, from the lane or the heap, dequeued when <paramref name="remove"/>.</summary>
    private bool Take(bool remove, out T item, out long timeNs, out long seq)
    {
        bool lane = LaneFirst(out bool any);
        if (!any)
        {
            item = default!;
            timeNs = seq = 0;
            return false;
        }
        if (lane)
        {
            (item, seq) = remove ? _lane.Dequeue() : _lane.Peek();
            timeNs = _laneTime;
            return true;
        }
        (long Time, long Seq) key;
        if (remove) _heap.TryDequeue(out item!, out key);
        else _heap.TryPeek(out item!, out key);
        (timeNs, seq) = key;
        // The clock is at timeNs now: what is queued for it from here on goes to the lane (which holds one instant).
        if (remove && _lane.Count == 0) _laneTime = timeNs;
        return true;
    }

    /// <summary>Drops every item <paramref name="dead"/> selects, keeping the others' (time, seq); O(n). Returns how many went.</summary>
    public int RemoveWhere(Func<T, bool> dead)
    {
        int removed = 0;
        int n = _lane.Count;
        for (int i = 0; i < n; i++)
        {
            var e = _lane.Dequeue();
            if (dead(e.Item)) removed++;
            else _lane.Enqueue(e); // one full turn keeps the order
        }
        var keep = new List<(T, (long, long))>(_heap.Count);
        int heapRemoved = 0;
        foreach (var (item, key) in _heap.UnorderedItems)
        {
            if (dead(item)) heapRemoved++;
            else keep.Add((item, key));
        }
        if (heapRemoved > 0)
        {
            _heap.Clear();
            _heap.EnqueueRange(keep);
        }
        return removed + heapRemoved;
    }
}
