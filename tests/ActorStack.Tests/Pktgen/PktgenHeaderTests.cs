using ActorStack.Hardware.Pktgen;
using ActorStack.Config;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Pktgen;

public class PktgenHeaderTests
{
    [Fact]
    public void Write_ThenTryRead_RoundTripsSeqAndMicrosecondTime()
    {
        long t = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero).UtcTicks + 9_876_540;
        var b = new byte[16];
        PktgenHeader.Write(b, 0xDEADBEEF, t);
        Assert.Equal(new byte[] { 0xbe, 0x9b, 0xe9, 0x55, 0xde, 0xad, 0xbe, 0xef }, b[..8]);
        Assert.True(PktgenHeader.TryRead(b, out var seq, out var ticks));
        Assert.Equal(0xDEADBEEFu, seq);
        Assert.Equal(t, ticks);
    }

    [Fact]
    public void TryRead_ShortPayload_ReturnsFalse()
    {
        var b = new byte[16];
        PktgenHeader.Write(b, 5, 0);
        Assert.False(PktgenHeader.TryRead(b.AsSpan(0, 15), out var seq, out var ticks));
        Assert.Equal(0u, seq);
        Assert.Equal(0L, ticks);
    }

    [Fact]
    public void TryRead_WrongMagic_ReturnsFalse()
    {
        var b = new byte[16];
        PktgenHeader.Write(b, 5, 0);
        b[3] ^= 1;
        Assert.False(PktgenHeader.TryRead(b, out _, out _));
    }
}
