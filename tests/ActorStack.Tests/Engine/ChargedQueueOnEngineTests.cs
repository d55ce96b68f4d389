using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Mailboxes;
using ActorStack.Messages;

namespace ActorStack.Tests.Engine;

/// <summary>
/// <see cref="ChargedMessageQueue"/> in both stores (ConcurrentQueue on the real clock, Queue under a monitor on the
/// engine): the same admission, drops, charge and FIFO order, with the engine's head peek before every dequeue.
/// </summary>
public class ChargedQueueOnEngineTests
{
    private static WireFrames Frames(int n, int tag) =>
        new(Enumerable.Range(0, n).Select(i => (ReadOnlyMemory<byte>)new byte[] { (byte)tag, (byte)i }).ToImmutableArray());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdmitsUpToTheLimit_DropsTheRest_FifoWithHeadPeeks(bool onEngine)
    {
        var q = new ChargedMessageQueue(5, onEngine);
        var dropped = new List<int>();
        q.OnDrop = (m, _) => dropped.Add(m.Count);
        IEngineVisibleQueue visible = q;
        Assert.Null(visible.HeadMessage);
        Assert.False(q.HasMessages);

        q.Enqueue(ActorRefs.Nobody, new Envelope(Frames(4, 1), ActorRefs.NoSender));
        q.Enqueue(ActorRefs.Nobody, new Envelope(Frames(4, 2), ActorRefs.NoSender)); // charge 4 <= 5: admits 2 (to 6), drops 2
        q.Enqueue(ActorRefs.Nobody, new Envelope(Frames(1, 3), ActorRefs.NoSender)); // charge 6 > 5: all dropped
        q.Enqueue(ActorRefs.Nobody, new Envelope("command", ActorRefs.NoSender));     // never dropped
        Assert.Equal([2, 1], dropped);
        Assert.Equal(3, q.DroppedItems);
        Assert.Equal(6, q.Charge);
        Assert.Equal(3, q.Count);
        Assert.True(q.HasMessages);

        var head = Assert.IsType<WireFrames>(visible.HeadMessage);
        Assert.Equal(4, head.Count);
        Assert.True(q.TryDequeue(out var e1));
        Assert.Same(head, e1.Message);
        var second = Assert.IsType<WireFrames>(visible.HeadMessage);
        Assert.Equal((2, (byte)2), (second.Count, second.Frames[1].Span[0]));
        Assert.True(q.TryDequeue(out _));
        Assert.Equal("command", visible.HeadMessage);
        Assert.True(q.TryDequeue(out var e3));
        Assert.Equal("command", e3.Message);
        Assert.False(q.TryDequeue(out _));
        Assert.Null(visible.HeadMessage);
        q.Uncharge(6);
        Assert.Equal(0, q.Charge);

        // Many messages through, a peek before each dequeue (as the engine's digest does): order kept.
        for (int i = 0; i < 200; i++) q.Enqueue(ActorRefs.Nobody, new Envelope(i, ActorRefs.NoSender));
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(i, visible.HeadMessage);
            Assert.True(q.TryDequeue(out var e));
            Assert.Equal(i, e.Message);
        }
        Assert.False(q.HasMessages);
    }
}
