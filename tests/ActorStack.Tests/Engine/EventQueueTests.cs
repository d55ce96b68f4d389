using ActorStack.Actors.Engine;

namespace ActorStack.Tests.Engine;

/// <summary>The engine's event queue alone: (virtual time, sequence number) order, FIFO ties, removal.</summary>
public class EventQueueTests
{
    private static List<(string, long, long)> Drain(EventQueue<string> q)
    {
        var r = new List<(string, long, long)>();
        while (q.TryDequeue(out var s, out long t, out long seq)) r.Add((s, t, seq));
        return r;
    }

    [Fact]
    public void OrdersByTimeThenSequence()
    {
        var q = new EventQueue<string>();
        Assert.Equal(0, q.Enqueue(300, "c"));
        Assert.Equal(1, q.Enqueue(100, "a1"));
        Assert.Equal(2, q.Enqueue(200, "b"));
        Assert.Equal(3, q.Enqueue(100, "a2"));
        Assert.Equal(4, q.Enqueue(0, "z"));
        Assert.Equal(5, q.NextSeq);
        Assert.Equal([("z", 0L, 4L), ("a1", 100L, 1L), ("a2", 100L, 3L), ("b", 200L, 2L), ("c", 300L, 0L)], Drain(q));
        Assert.False(q.TryPeek(out _, out _, out _));
    }

    [Fact]
    public void TiesAtOneInstantComeOutInQueueOrder_ManyItems()
    {
        var q = new EventQueue<string>();
        for (int i = 0; i < 1000; i++) q.Enqueue(i % 3 == 0 ? 5 : 7, i.ToString());
        var got = Drain(q);
        var expect = Enumerable.Range(0, 1000).Where(i => i % 3 == 0).Concat(Enumerable.Range(0, 1000).Where(i => i % 3 != 0))
            .Select(i => i.ToString()).ToList();
        Assert.Equal(expect, got.Select(x => x.Item1).ToList());
        Assert.True(got.Zip(got.Skip(1)).All(p => p.First.Item2 < p.Second.Item2 || (p.First.Item2 == p.Second.Item2 && p.First.Item3 < p.Second.Item3)));
    }

    [Fact]
    public void PeekDoesNotRemove_RemoveWhereKeepsOrderOfTheRest()
    {
        var q = new EventQueue<string>();
        q.Enqueue(10, "x1");
        q.Enqueue(5, "dead1");
        q.Enqueue(10, "x2");
        q.Enqueue(1, "dead2");
        Assert.True(q.TryPeek(out var head, out long t, out long seq));
        Assert.Equal(("dead2", 1L, 3L), (head, t, seq));
        Assert.Equal(4, q.Count);
        Assert.Equal(2, q.RemoveWhere(s => s.StartsWith("dead")));
        Assert.Equal(0, q.RemoveWhere(s => s.StartsWith("dead")));
        q.Enqueue(10, "x3");
        Assert.Equal([("x1", 10L, 0L), ("x2", 10L, 2L), ("x3", 10L, 4L)], Drain(q));
    }

    [Fact]
    public void LaneAndHeap_InterleavedEnqueueDequeue_MatchASortedReference()
    {
        // The engine's pattern (most items at the instant just dequeued, some later, some earlier for a generic
        // caller) with dequeues in between: the order is exactly (time, seq), as a sorted list gives it.
        var rnd = new Random(13);
        var q = new EventQueue<string>();
        var reference = new SortedSet<(long Time, long Seq, string Item)>();
        long now = 0;
        int dequeued = 0;
        for (int step = 0; step < 20_000; step++)
        {
            int r = rnd.Next(10);
            if (r < 5 || reference.Count == 0)
            {
                long t = r switch { 0 => now + rnd.Next(1, 1000), 1 => Math.Max(0, now - rnd.Next(0, 50)), _ => now };
                string item = $"i{step}";
                long seq = q.Enqueue(t, item);
                reference.Add((t, seq, item));
            }
            else
            {
                var expect = reference.Min;
                reference.Remove(expect);
                Assert.True(q.TryPeek(out var p, out long pt, out long ps));
                Assert.Equal(expect, (pt, ps, p));
                Assert.True(q.TryDequeue(out var got, out long t, out long seq));
                Assert.Equal(expect, (t, seq, got));
                now = t;
                dequeued++;
            }
            Assert.Equal(reference.Count, q.Count);
        }
        Assert.True(dequeued > 5_000, $"{dequeued} dequeued");
        int removed = q.RemoveWhere(s => s.EndsWith('7'));
        Assert.Equal(reference.RemoveWhere(e => e.Item.EndsWith('7')), removed);
        Assert.True(removed > 0);
        Assert.Equal(reference.Select(e => (e.Item, e.Time, e.Seq)).ToList(), Drain(q));
    }

    [Fact]
    public void DigestMixSeparatesFieldsAndOrder()
    {
        ulong h0 = 0xcbf29ce484222325UL;
        var a = SimEngine.Mix(h0, 1, SimEventKind.MailboxRun, "ab", "c");
        var b = SimEngine.Mix(h0, 1, SimEventKind.MailboxRun, "a", "bc");
        var c = SimEngine.Mix(h0, 2, SimEventKind.MailboxRun, "ab", "c");
        var d = SimEngine.Mix(h0, 1, SimEventKind.TimerTell, "ab", "c");
        Assert.Equal(4, new HashSet<ulong> { a, b, c, d }.Count);
        Assert.Equal(a, SimEngine.Mix(h0, 1, SimEventKind.MailboxRun, "ab", "c"));
        var xy = SimEngine.Mix(SimEngine.Mix(h0, 1, SimEventKind.Task, "x", ""), 1, SimEventKind.Task, "y", "");
        var yx = SimEngine.Mix(SimEngine.Mix(h0, 1, SimEventKind.Task, "y", ""), 1, SimEventKind.Task, "x", "");
        Assert.NotEqual(xy, yx);
    }
}
