using System.Collections.Immutable;
using ActorStack.Actors.Softnet;
using ActorStack.Messages;

namespace ActorStack.Tests.Receive;

/// <summary>process_backlog without actors (softnet_data): input_pkt_queue, process_queue, quota, splice, completion.</summary>
public class SoftnetBacklogTests
{
    private static ImmutableArray<SkBuff> Batch(int first, int count)
        => Enumerable.Range(first, count).Select(i => new SkBuff(new byte[] { (byte)i }, 2, 0, (uint)i, 0, 0)).ToImmutableArray();

    [Fact]
    public void Poll_150QueuedQuota64_ProcessesInOrderAndCompletesOnThirdPoll()
    {
        var bl = new SoftnetBacklog();
        bl.Enqueue(Batch(0, 100));
        bl.Enqueue(Batch(100, 50));
        Assert.Equal(150, bl.InputQlen);
        var seen = new List<int>();

        Assert.Equal(64, bl.Poll(64, s => seen.Add((int)s.Hash), out int spliced, out bool completed));
        Assert.Equal(150, spliced);        // the whole input_pkt_queue moves to process_queue at once
        Assert.False(completed);
        Assert.Equal(0, bl.InputQlen);
        Assert.Equal(86, bl.ProcessQlen);

        Assert.Equal(64, bl.Poll(64, s => seen.Add((int)s.Hash), out spliced, out completed));
        Assert.Equal(0, spliced);
        Assert.False(completed);
        Assert.Equal(22, bl.Poll(64, s => seen.Add((int)s.Hash), out spliced, out completed));
        Assert.True(completed);
        Assert.Equal(Enumerable.Range(0, 150), seen);
        Assert.Equal(0, bl.ProcessQlen);
    }

    [Fact]
    public void Poll_ExactlyQuotaQueued_ReturnsQuotaWithoutCompletingThenCompletesEmpty()
    {
        // Linux returns as soon as ++work >= quota: the NAPI stays listed and the next poll completes it with 0.
        var bl = new SoftnetBacklog();
        bl.Enqueue(Batch(0, 64));
        Assert.Equal(64, bl.Poll(64, _ => { }, out _, out bool completed));
        Assert.False(completed);
        Assert.Equal(0, bl.Poll(64, _ => { }, out int spliced, out completed));
        Assert.True(completed);
        Assert.Equal(0, spliced);
    }

    [Fact]
    public void Poll_EnqueueWhileProcessQueueHoldsItems_SplicedOnlyWhenProcessQueueEmpties()
    {
        var bl = new SoftnetBacklog();
        bl.Enqueue(Batch(0, 10));
        Assert.Equal(4, bl.Poll(4, _ => { }, out int spliced, out _));
        Assert.Equal(10, spliced);
        bl.Enqueue(Batch(10, 5));
        var seen = new List<int>();
        Assert.Equal(8, bl.Poll(8, s => seen.Add((int)s.Hash), out spliced, out bool completed));
        Assert.Equal(5, spliced);          // 6 left in process_queue, then the 5 new ones spliced behind them
        Assert.False(completed);
        Assert.Equal(new[] { 4, 5, 6, 7, 8, 9, 10, 11 }, seen);
        Assert.Equal(3, bl.ProcessQlen);
    }
}
