namespace ActorStack.Actors.Engine;

/// <summary>
/// The discrete-event queue: items ordered by (virtual time in ns, sequence number). The sequence number is given
/// at <see cref="Enqueue"/> from one counter, so items due at the same instant come out in the order they were
/// queued (FIFO ties), whatever their kind. Not thread-safe: <see cref="SimEngine"/> guards it with its lock.
/// </summary>
public sealed class EventQueue<T>
{
    // A value tuple compares element by element: time first, then sequence.
    private readonly PriorityQueue<T, (long Time, long Seq)> _heap = new();
    private long _seq;

    public int Count => _heap.Count;

    /// <summary>The next sequence number <see cref="Enqueue"/> will give.</summary>
    public long NextSeq => _seq;

    /// <summary>Queues <paramref name="item"/> at <paramref name="timeNs"/>; returns its sequence number.</summary>
    public long Enqueue(long timeNs, T item)
    {
        long seq = _seq++;
        _heap.Enqueue(item, (timeNs, seq));
        return seq;
    }

    public bool TryPeek(out T item, out long timeNs, out long seq)
    {
        if (_heap.TryPeek(out item!, out var key))
        {
            (timeNs, seq) = key;
            return true;
        }
        timeNs = seq = 0;
        return false;
    }

    public bool TryDequeue(out T item, out long timeNs, out long seq)
    {
        if (_heap.TryDequeue(out item!, out var key))
        {
            (timeNs, seq) = key;
            return true;
        }
        timeNs = seq = 0;
        return false;
    }

    /// <summary>Drops every item <paramref name="dead"/> selects, keeping the others' (time, seq); O(n). Returns how many went.</summary>
    public int RemoveWhere(Func<T, bool> dead)
    {
        var keep = new List<(T, (long, long))>(_heap.Count);
        int removed = 0;
        foreach (var (item, key) in _heap.UnorderedItems)
        {
            if (dead(item)) removed++;
            else keep.Add((item, key));
        }
        if (removed == 0) return 0;
        _heap.Clear();
        _heap.EnqueueRange(keep);
        return removed;
    }
}
