using System.Collections.Immutable;
using ActorStack.Messages;

namespace ActorStack.Actors.Softnet;

/// <summary>
/// One CPU's backlog NAPI (<c>softnet_data.backlog</c>) without actors: the
/// part of <c>input_pkt_queue</c> the softnet actor has taken out of its mailbox,
/// and <c>process_queue</c>. Buffers stay charged to the mailbox (counted against
/// <c>netdev_max_backlog</c>) while they are in <c>input_pkt_queue</c>;
/// <see cref="Poll"/> splices them into <c>process_queue</c> and reports how many
/// so the owner releases that charge. Batches are moved whole, never copied.
/// </summary>
public sealed class SoftnetBacklog
{
    private readonly Queue<ImmutableArray<SkBuff>> _input = new();
    private readonly Queue<ImmutableArray<SkBuff>> _process = new();
    private int _head; // index into _process.Peek()

    /// <summary>Buffers taken from the mailbox and not yet spliced (<c>input_pkt_queue</c>'s dequeued part).</summary>
    public int InputQlen { get; private set; }
    /// <summary>Buffers in <c>process_queue</c>, not yet handed to <c>__netif_receive_skb</c>.</summary>
    public int ProcessQlen { get; private set; }

    /// <summary>A <see cref="BacklogEnqueue"/> left the mailbox: its buffers are now at the tail of <c>input_pkt_queue</c>.</summary>
    public void Enqueue(ImmutableArray<SkBuff> items)
    {
        if (items.IsDefaultOrEmpty) return;
        _input.Enqueue(items);
        InputQlen += items.Length;
    }

    /// <summary>
    /// <c>process_backlog</c>: hands buffers from <c>process_queue</c> to
    /// <paramref name="receive"/> until <paramref name="quota"/> is used; when
    /// <c>process_queue</c> runs dry, splices <c>input_pkt_queue</c> onto it
    /// (<c>skb_queue_splice_tail_init</c>, <paramref name="spliced"/> buffers) and
    /// goes on; when both are empty the NAPI completes (<paramref name="completed"/>).
    /// As in Linux, a poll that uses its whole quota returns without completing,
    /// even when nothing is left: the next poll completes it.
    /// </summary>
    public int Poll(int quota, Action<SkBuff> receive, out int spliced, out bool completed)
        => Poll(quota, receive, null, out spliced, out completed);

    /// <summary>
    /// <see cref="Poll(int, Action{SkBuff}, out int, out bool)"/> where a whole enqueued batch
    /// that fits in the quota is first offered to <paramref name="receiveWhole"/>; when it
    /// takes it (true), the batch counts as that many buffers of work, handed on in one piece.
    /// </summary>
    public int Poll(int quota, Action<SkBuff> receive, Func<ImmutableArray<SkBuff>, bool>? receiveWhole,
        out int spliced, out bool completed)
    {
        int work = 0;
        spliced = 0;
        completed = false;
        if (quota <= 0) return 0;
        while (true)
        {
            while (_process.Count > 0)
            {
                var seg = _process.Peek();
                if (_head == 0 && receiveWhole is not null && seg.Length <= quota - work && receiveWhole(seg))
                {
                    _process.Dequeue();
                    ProcessQlen -= seg.Length;
                    work += seg.Length;
                    if (work >= quota) return work;
                    continue;
                }
                var skb = seg[_head++];
                if (_head == seg.Length)
                {
                    _process.Dequeue();
                    _head = 0;
                }
                ProcessQlen--;
                receive(skb);
                if (++work >= quota) return work;
            }
            if (_input.Count == 0)
            {
                completed = true; // napi->state = 0: the next enqueue must schedule the backlog again
                return work;
            }
            while (_input.TryDequeue(out var seg)) _process.Enqueue(seg);
            spliced += InputQlen;
            ProcessQlen += InputQlen;
            InputQlen = 0;
        }
    }
}

/// <summary>
/// <c>NAPI_STATE_SCHED</c> of every CPU's backlog NAPI in one host, shared by its
/// softnet actors as Linux shares <c>softnet_data</c> between CPUs: the CPU that
/// enqueues to another CPU's backlog and finds the bit clear sets it and owes that
/// CPU an IPI (<c>napi_schedule_rps</c>); the owning CPU clears it when its
/// <c>process_backlog</c> finds both queues empty.
/// </summary>
internal static class BacklogNapiState
{
    public static int[] For(ActorStack.Actors.Namespaces.NetNamespace ns) => ns.BacklogNapiScheduled;

    /// <summary><c>__test_and_set_bit(NAPI_STATE_SCHED)</c>: true when this caller set it.</summary>
    public static bool TestAndSet(int[] states, int cpu)
        => Volatile.Read(ref states[cpu]) == 0 && Interlocked.CompareExchange(ref states[cpu], 1, 0) == 0;

    public static void Clear(int[] states, int cpu) => Volatile.Write(ref states[cpu], 0);
}
