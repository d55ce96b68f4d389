using Akka.Actor;
using ActorStack.Actors.Engine;

namespace ActorStack.Tests.Engine;

/// <summary>
/// The engine mailboxes' envelope store (<see cref="EngineEnvelopeStore"/>, here through the default and the stashing
/// queue): a head slot and a ring buffer under a spin gate. FIFO through growth and wrap-around,
/// and no envelope lost or reordered when senders on other threads enqueue while the owner's thread dequeues.
/// </summary>
public class EngineEnvelopeStoreTests
{
    [Fact]
    public void Fifo_ThroughGrowthAndWrapAround_SameAsAQueue()
    {
        var q = new EngineMessageQueue(null);
        var reference = new Queue<int>();
        var rng = new Random(5);
        int next = 0, maxLength = 0;
        Assert.Null(q.HeadMessage);
        for (int step = 0; step < 20_000; step++)
        {
            // Runs of enqueues and dequeues, so the head wraps around arrays of every size the store grows through.
            bool put = reference.Count == 0 || rng.Next(100) < (step / 2_000 % 2 == 0 ? 60 : 40);
            if (put)
            {
                q.Enqueue(ActorRefs.Nobody, new Envelope(next, ActorRefs.NoSender));
                reference.Enqueue(next++);
            }
            else
            {
                Assert.True(q.TryDequeue(out var e));
                Assert.Equal(reference.Dequeue(), (int)e.Message);
            }
            maxLength = Math.Max(maxLength, reference.Count);
            Assert.Equal(reference.Count, q.Count);
            Assert.Equal(reference.Count == 0 ? null : reference.Peek(), (int?)q.HeadMessage);
        }
        Assert.True(maxLength > 64, $"the store grew to {maxLength} only"); // several doublings
        while (reference.Count > 0)
        {
            Assert.True(q.TryDequeue(out var e));
            Assert.Equal(reference.Dequeue(), (int)e.Message);
        }
        Assert.False(q.TryDequeue(out _));
        Assert.Equal(0, q.Count);
        Assert.Null(q.HeadMessage);
    }

    [Fact]
    public void DequeQueue_PutBackEnvelopesComeFirst_InTheirOrder_ThroughGrowthAndWrapAround()
    {
        // The stashing mailbox: EnqueueFirst puts an envelope back at the head (a stash's unstash puts its envelopes back
        // last first). Against a reference deque, with runs of appends, put-backs and takes.
        var q = new EngineDequeMessageQueue(null);
        var reference = new LinkedList<int>();
        var rng = new Random(11);
        int next = 0;
        for (int step = 0; step < 20_000; step++)
        {
            int roll = rng.Next(100);
            if (reference.Count == 0 || roll < 40)
            {
                q.Enqueue(ActorRefs.Nobody, new Envelope(next, ActorRefs.NoSender));
                reference.AddLast(next++);
            }
            else if (roll < 55)
            {
                q.EnqueueFirst(new Envelope(next, ActorRefs.NoSender));
                reference.AddFirst(next++);
            }
            else
            {
                Assert.True(q.TryDequeue(out var e));
                Assert.Equal(reference.First!.Value, (int)e.Message);
                reference.RemoveFirst();
            }
            Assert.Equal(reference.Count, q.Count);
            Assert.Equal(reference.Count > 0, q.HasMessages);
            Assert.Equal(reference.Count == 0 ? null : reference.First!.Value, (int?)q.HeadMessage);
        }
        // An unstash of three stashed in the order -3, -2, -1 (Akka puts them back last first) before what waits: they
        // come out in their stashed order.
        foreach (var m in new[] { -1, -2, -3 }) q.EnqueueFirst(new Envelope(m, ActorRefs.NoSender));
        foreach (var m in new[] { -1, -2, -3 }) reference.AddFirst(m);
        var dead = new List<int>();
        while (q.TryDequeue(out var e)) dead.Add((int)e.Message);
        Assert.Equal(reference, dead);
        Assert.Equal([-3, -2, -1], dead.Take(3));
    }

    [Fact]
    public async Task SendersOnTwoThreads_OwnerDequeuing_EveryEnvelopeOnceInEachSendersOrder()
    {
        var q = new EngineMessageQueue(null);
        const int each = 200_000;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task Sender(int id) => Task.Run(async () =>
        {
            await start.Task;
            for (int i = 0; i < each; i++) q.Enqueue(ActorRefs.Nobody, new Envelope((id, i), ActorRefs.NoSender));
        });
        var senders = new[] { Sender(0), Sender(1) };
        var got = new[] { new List<int>(each), new List<int>(each) };
        var owner = Task.Run(async () =>
        {
            await start.Task;
            int seen = 0;
            while (seen < 2 * each)
            {
                if (!q.TryDequeue(out var e))
                {
                    await Task.Yield();
                    continue;
                }
                var (id, i) = ((int, int))e.Message;
                got[id].Add(i);
                seen++;
            }
        });
        start.SetResult();
        await Task.WhenAll(senders);
        await owner;
        for (int id = 0; id < 2; id++) Assert.Equal(Enumerable.Range(0, each), got[id]);
        Assert.Equal(0, q.Count);
        Assert.False(q.TryDequeue(out _));
    }
}
