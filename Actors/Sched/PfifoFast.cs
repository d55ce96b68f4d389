namespace ActorStack.Actors.Sched;

/// <summary>
/// The default qdisc, <c>pfifo_fast</c> (net/sched/sch_generic.c): three FIFO bands,
/// band 0 dequeued first. A buffer's band comes from its <c>skb->priority</c> through
/// <c>prio2band</c>; each band holds at most <c>txqueuelen</c> buffers (one
/// <c>skb_array</c> of that size per band) and what does not fit is dropped
/// (<c>qdisc_drop</c>, counted by the caller). <c>txqueuelen</c> 0 means no queue at all.
/// </summary>
public sealed class PfifoFast<T>
{
    public const int Bands = 3;
    /// <summary><c>sch_default_prio2band</c>: TC_PRIO_* (0–15) to band.</summary>
    public static readonly byte[] Prio2Band = [1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];

    private readonly Queue<T>[] _bands = [new(), new(), new()];

    public PfifoFast(int txQueueLen) => Limit = Math.Max(0, txQueueLen);

    /// <summary>Buffers per band (<c>tx_queue_len</c>).</summary>
    public int Limit { get; }
    public int Count { get; private set; }

    public static int BandOf(byte priority) => Prio2Band[priority & 15];

    /// <summary><c>pfifo_fast_enqueue</c>: false (drop) when the band is full.</summary>
    public bool Enqueue(T item, byte priority)
    {
        var band = _bands[BandOf(priority)];
        if (band.Count >= Limit) return false;
        band.Enqueue(item);
        Count++;
        return true;
    }

    /// <summary><c>pfifo_fast_dequeue</c>: the head of the first non-empty band.</summary>
    public bool TryDequeue(out T item)
    {
        foreach (var band in _bands)
            if (band.TryDequeue(out item!))
            {
                Count--;
                return true;
            }
        item = default!;
        return false;
    }

    /// <summary><c>qdisc_reset</c>: everything queued, in dequeue order (to be freed by the caller).</summary>
    public List<T> Reset()
    {
        var all = new List<T>(Count);
        while (TryDequeue(out var x)) all.Add(x);
        return all;
    }

    /// <summary>
    /// <c>rt_tos2priority</c>: the priority Linux gives a buffer from its IP TOS byte (<c>ip_tos2prio</c>):
    /// minimise delay → interactive (band 0), maximise throughput → bulk (band 2), else best effort (band 1).
    /// </summary>
    public static byte Tos2Priority(byte tos) => Tos2Prio[(tos & 0x1E) >> 1];

    private static readonly byte[] Tos2Prio = [0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4];
}
