using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Perf;

/// <summary>The word-at-a-time <see cref="Checksum.Partial"/> against RFC 1071's definition, byte pair by byte pair.</summary>
public class ChecksumTests
{
    private static uint Reference(ReadOnlySpan<byte> d, uint sum)
    {
        ulong acc = sum;
        int i = 0;
        for (; i + 1 < d.Length; i += 2) acc += (uint)(d[i] << 8 | d[i + 1]);
        if (i < d.Length) acc += (uint)(d[i] << 8);
        while (acc >> 32 != 0) acc = (acc & 0xFFFFFFFF) + (acc >> 32);
        return (uint)acc;
    }

    [Fact]
    public void Partial_Rfc1071Example_SumsToDdf2()
    {
        // RFC 1071 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (one's complement, network order).
        byte[] d = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7];
        Assert.Equal(0x220D, Checksum.Fold(Checksum.Partial(d)));
    }

    [Fact]
    public void Partial_RandomLengthsOffsetsAndSeeds_FoldsAsReference()
    {
        var rnd = new Random(6);
        var buf = new byte[70_000];
        rnd.NextBytes(buf);
        for (int k = 0; k < 2000; k++)
        {
            int off = rnd.Next(0, 64);
            int len = k < 200 ? k : rnd.Next(0, k % 10 == 0 ? 65_536 : 3000);
            uint seed = k % 3 == 0 ? 0 : (uint)rnd.Next();
            var span = buf.AsSpan(off, len);
            Assert.Equal(Checksum.Fold(Reference(span, seed)), Checksum.Fold(Checksum.Partial(span, seed)));
        }
    }

    [Fact]
    public void Partial_AllOnesAndZeros_KeepsTheZeroDistinction()
    {
        Assert.Equal(0xFFFF, Checksum.Fold(Checksum.Partial(new byte[4000])));   // all zero: +0, complemented
        var ones = new byte[4000];
        Array.Fill(ones, (byte)0xFF);
        Assert.Equal(0x0000, Checksum.Fold(Checksum.Partial(ones)));              // -0 (0xFFFF) complemented
    }
}
