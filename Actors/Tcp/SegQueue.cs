using ActorStack.Config;
namespace ActorStack.Actors.Tcp;

/// <summary>
/// An indexable FIFO of references kept in sequence order: the TCB's retransmit queue (<c>tcp_rtx_queue</c>).
/// A cumulative ACK removes segments from the head in O(removed) (<c>tcp_clean_rtx_queue</c>), where
/// <see cref="List{T}.RemoveRange"/> at index 0 moved every remaining entry — O(cwnd) per ACK, ~5,800 entries in
/// tcp-bulk. Storage is a power-of-two ring that grows by doubling; removed slots are cleared for the GC.
/// Bounded by its owner (the send buffer bounds the segments queued). Not thread-safe: one TCB owns it.
/// </summary>
public sealed class SegQueue<T> where T : class
{
    private T?[] _buf = [];
    private int _head;

    public int Count { get; private set; }

    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            return _buf[(_head + index) & (_buf.Length - 1)]!;
        }
    }

    public void Add(T item)
    {
        if (Count == _buf.Length) Grow();
        _buf[(_head + Count) & (_buf.Length - 1)] = item;
        Count++;
    }

    /// <summary>Inserts at <paramref name="index"/> (0..Count), moving the entries behind it one slot on.</summary>
    public void Insert(int index, T item)
    {
        if ((uint)index > (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        if (Count == _buf.Length) Grow();
        int mask = _buf.Length - 1;
        for (int i = Count; i > index; i--) _buf[(_head + i) & mask] = _buf[(_head + i - 1) & mask];
        _buf[(_head + index) & mask] = item;
        Count++;
    }

    /// <summary>Removes <paramref name="count"/> entries from <paramref name="index"/>; from the head (index 0) in O(count).</summary>
    public void RemoveRange(int index, int count)
    {
        if (index < 0 || count < 0 || index + count > Count) throw new ArgumentOutOfRangeException(nameof(count));
        if (count == 0) return;
        int mask = _buf.Length - 1;
        if (index == 0)
        {
            for (int i = 0; i < count; i++) _buf[(_head + i) & mask] = null;
            _head = (_head + count) & mask;
        }
        else
        {
            for (int i = index; i + count < Count; i++) _buf[(_head + i) & mask] = _buf[(_head + i + count) & mask];
            for (int i = Count - count; i < Count; i++) _buf[(_head + i) & mask] = null;
        }
        Count -= count;
        if (Count == 0) _head = 0;
    }

    /// <summary>The position of <paramref name="item"/> (by reference), or -1.</summary>
    public int IndexOf(T item)
    {
        for (int i = 0; i < Count; i++)
            if (ReferenceEquals(_buf[(_head + i) & (_buf.Length - 1)], item)) return i;
        return -1;
    }

    public void Clear()
    {
        if (Count > 0) Array.Clear(_buf);
        _head = 0;
        Count = 0;
    }

    public Enumerator GetEnumerator() => new(this);

    /// <summary>Walks head to tail; the queue must not change during the walk.</summary>
    public struct Enumerator(SegQueue<T> q)
    {
        private int _i = -1;

        public readonly T Current => q[_i];

        public bool MoveNext() => ++_i < q.Count;
    }

    private void Grow()
    {
        var nb = new T?[Math.Max(16, _buf.Length * 2)];
        for (int i = 0; i < Count; i++) nb[i] = _buf[(_head + i) & (_buf.Length - 1)];
        _buf = nb;
        _head = 0;
    }
}
