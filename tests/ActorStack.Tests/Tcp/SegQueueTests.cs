using ActorStack.Actors.Tcp;
using Xunit;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

public class SegQueueTests
{
    private static string Dump(SegQueue<string> q)
    {
        var parts = new List<string>();
        foreach (var s in q) parts.Add(s);
        return string.Join(",", parts);
    }

    [Fact]
    public void SegQueue_RemoveFromHeadAcrossWrap_KeepsOrder()
    {
        var q = new SegQueue<string>();
        for (int i = 0; i < 16; i++) q.Add($"s{i}");
        q.RemoveRange(0, 10);
        for (int i = 16; i < 26; i++) q.Add($"s{i}"); // wraps around the 16-slot ring, then grows
        Assert.Equal(16, q.Count);
        Assert.Equal("s10", q[0]);
        Assert.Equal("s25", q[^1]);
        Assert.Equal(string.Join(",", Enumerable.Range(10, 16).Select(i => $"s{i}")), Dump(q));
    }

    [Fact]
    public void SegQueue_InsertAndRemoveInMiddle_ShiftEntries()
    {
        var q = new SegQueue<string>();
        foreach (var s in new[] { "a", "b", "d" }) q.Add(s);
        q.Insert(2, "c");
        Assert.Equal("a,b,c,d", Dump(q));
        Assert.Equal(2, q.IndexOf("c"));
        q.RemoveRange(1, 2);
        Assert.Equal("a,d", Dump(q));
        Assert.Equal(-1, q.IndexOf("c"));
    }

    [Fact]
    public void SegQueue_Clear_EmptiesAndAcceptsNewEntries()
    {
        var q = new SegQueue<string>();
        q.Add("x");
        q.Add("y");
        q.RemoveRange(0, 1);
        q.Clear();
        Assert.Equal(0, q.Count);
        q.Add("z");
        Assert.Equal("z", Dump(q));
        Assert.Throws<ArgumentOutOfRangeException>(() => q[1]);
    }
}
