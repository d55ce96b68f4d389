using ActorStack.Actors.Tcp;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

/// <summary>tcp_add_backlog's per-socket byte budget.</summary>
public sealed class TcpBacklogTests
{
    [Fact]
    public void Limit_LinuxFormula_RcvbufTwiceSndbufHalfPlus64K()
        => Assert.Equal(2 * 131072 + 16384 / 2 + 65536, TcpBacklog<string>.Limit(131072, 16384));

    [Fact]
    public void TryCharge_OverLimit_RefusedUntilProcessed()
    {
        var b = new TcpBacklog<string>();
        Assert.True(b.TryCharge("s", 1500, 3000, out bool isNew));
        Assert.True(isNew);
        Assert.True(b.TryCharge("s", 1500, 3000, out isNew));
        Assert.False(isNew);
        Assert.False(b.TryCharge("s", 1, 3000, out _));
        Assert.Equal(3000, b.Held("s"));
        Assert.True(b.TryCharge("t", 1500, 3000, out _)); // per socket
        b.Processed("s", 1500);
        Assert.True(b.TryCharge("s", 1500, 3000, out _));
        b.Processed("s", 10_000);
        Assert.Equal(0, b.Held("s"));
        b.Remove("s");
        Assert.Equal(1, b.Count);
    }
}
