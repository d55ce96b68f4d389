using System.Buffers.Binary;
using ActorStack.Hardware.Capture;

namespace ActorStack.Tests.Capture;

public class PcapWriterTests
{
    // 2024-05-06T07:08:09.123456Z plus 7 ticks (700 ns) that the microsecond format drops.
    private static readonly long T0 = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).UtcTicks + 1_234_567;
    private const uint T0Sec = 1714979289;

    [Fact]
    public void Constructor_WritesClassicGlobalHeader()
    {
        var ms = new MemoryStream();
        using (new PcapWriter(ms, leaveOpen: true)) { }
        Assert.Equal(
            new byte[] { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x04, 0x00, 1, 0, 0, 0 },
            ms.ToArray());
    }

    [Fact]
    public void WritePacket_RecordHeader_HasUnixSecondsMicrosecondsAndLengths()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, leaveOpen: true))
        {
            w.WritePacket(new byte[] { 1, 2, 3, 4, 5 }, T0);
            Assert.Equal(1, w.PacketsWritten);
        }
        var b = ms.ToArray();
        Assert.Equal(24 + 16 + 5, b.Length);
        var r = b.AsSpan(24);
        Assert.Equal(T0Sec, BinaryPrimitives.ReadUInt32LittleEndian(r));
        Assert.Equal(123456u, BinaryPrimitives.ReadUInt32LittleEndian(r[4..]));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(r[8..]));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(r[12..]));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, r[16..].ToArray());
    }

    [Fact]
    public void WritePacket_FrameLongerThanSnaplen_IsTruncatedWithOriginalLengthKept()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, snapLength: 100, leaveOpen: true))
            w.WritePacket(Enumerable.Range(0, 300).Select(i => (byte)i).ToArray(), T0);
        ms.Position = 0;
        var rec = Assert.Single(PcapReader.Read(ms));
        Assert.Equal(100, rec.Frame.Length);
        Assert.Equal(300, rec.OriginalLength);
        Assert.Equal(99, rec.Frame[99]);
    }

    [Fact]
    public void RoundTrip_ThroughReader_KeepsFramesAndMicrosecondTimes()
    {
        var frames = new[] { new byte[60], Enumerable.Repeat((byte)0xAB, 1514).ToArray(), new byte[] { 7 } };
        frames[0][0] = 0x42;
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, leaveOpen: true))
            for (int i = 0; i < frames.Length; i++)
                w.WritePacket(frames[i], T0 + i * 15L);   // 1.5 us steps
        ms.Position = 0;
        var got = PcapReader.Read(ms).ToList();

        Assert.Equal(3, got.Count);
        long truncated = T0 - 7;
        Assert.Equal(new[] { truncated, truncated + 20, truncated + 30 }, got.Select(g => g.UtcTicks)); // +0.7, +2.2, +3.7 us
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(frames[i], got[i].Frame);
            Assert.Equal(frames[i].Length, got[i].OriginalLength);
        }
    }

    [Fact]
    public void WritePacket_TimeBeforeUnixEpoch_WritesZero()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, leaveOpen: true))
            w.WritePacket(new byte[14], 0);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(ms.ToArray().AsSpan(24)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(ms.ToArray().AsSpan(28)));
    }

    [Fact]
    public void Dispose_WithoutLeaveOpen_ClosesStream()
    {
        var ms = new MemoryStream();
        new PcapWriter(ms).Dispose();
        Assert.False(ms.CanWrite);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Read_EitherByteOrderAndResolution_DecodesTimeAndFrame(bool bigEndian, bool nanoseconds)
    {
        var ms = new MemoryStream();
        void U32(uint v) { var b = new byte[4]; if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); ms.Write(b); }
        void U16(ushort v) { var b = new byte[2]; if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v); ms.Write(b); }
        U32(nanoseconds ? 0xa1b23c4du : 0xa1b2c3d4u); U16(2); U16(4); U32(0); U32(0); U32(65535); U32(1);
        U32(T0Sec); U32(nanoseconds ? 123_456_789u : 123_456u); U32(3); U32(64);
        ms.Write(new byte[] { 9, 8, 7 });
        ms.Position = 0;

        var rec = Assert.Single(PcapReader.Read(ms));
        long expected = DateTime.UnixEpoch.Ticks + T0Sec * TimeSpan.TicksPerSecond + (nanoseconds ? 1_234_567 : 1_234_560);
        Assert.Equal(expected, rec.UtcTicks);
        Assert.Equal(new byte[] { 9, 8, 7 }, rec.Frame);
        Assert.Equal(64, rec.OriginalLength);
    }

    [Fact]
    public void Read_NotAPcapOrTruncated_YieldsOnlyCompleteRecordsWithoutThrowing()
    {
        Assert.Empty(PcapReader.Read(new MemoryStream(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 })));
        Assert.Empty(PcapReader.Read(new MemoryStream(new byte[] { 0xd4, 0xc3 })));

        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, leaveOpen: true))
        {
            w.WritePacket(new byte[10], T0);
            w.WritePacket(new byte[10], T0);
        }
        var cut = ms.ToArray()[..^3];
        Assert.Single(PcapReader.Read(new MemoryStream(cut)));
    }
}
