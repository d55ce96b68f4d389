namespace ActorStack.Hardware.Nic;

/// <summary>
/// A NIC's TX descriptor ring: a bounded FIFO of buffers handed to the hardware and not yet
/// completed. The driver stops its queue when the ring is full (<c>netif_tx_stop_queue</c>) and
/// wakes it when the TX-completion interrupt frees descriptors.
/// </summary>
public sealed class TxRing<T>(int size)
{
    // Grown on demand up to the ring's size (the bound is Size, not the queue's capacity): an idle ring holds no array.
    private readonly Queue<T> _q = new();

    public int Size { get; } = size;
    public int Count => _q.Count;
    public int Free => Size - _q.Count;
    public bool Full => _q.Count >= Size;

    public bool TryPost(T item)
    {
        if (Full) return false;
        _q.Enqueue(item);
        return true;
    }

    /// <summary>Frees the <paramref name="n"/> oldest descriptors (hardware completes in order), handing each buffer to <paramref name="free"/>.</summary>
    public int Complete(int n, Action<T> free)
    {
        int done = 0;
        while (done < n && _q.TryDequeue(out var x)) { free(x); done++; }
        return done;
    }

    /// <summary>Ring reset: every buffer still on it, oldest first.</summary>
    public List<T> Clear()
    {
        var all = new List<T>(_q);
        _q.Clear();
        return all;
    }
}
