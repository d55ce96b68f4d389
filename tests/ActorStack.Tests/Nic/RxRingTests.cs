using ActorStack.Hardware.Nic;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Nic;

public class RxRingTests
{
    private static byte[] Frame(int len, int seed)
    {
        var f = new byte[len];
        new Random(seed).NextBytes(f);
        return f;
    }

    [Fact]
    public void RxRing_DefaultRingSmallFrames_TakesExactly256AndRefuses257th()
    {
        var ring = new RxRing(256, 2048);
        for (int i = 0; i < 256; i++)
            Assert.True(ring.TryDmaWrite(Frame(64, i), i), $"frame {i}");
        Assert.False(ring.TryDmaWrite(Frame(64, 999), 999));
        Assert.Equal(0, ring.FreeDescriptors);
        Assert.Equal(256, ring.UsedDescriptors);
        Assert.Equal(256, ring.PendingFrames);
        Assert.Equal(256, ring.FramesWrittenTotal);
    }

    [Fact]
    public void RxRing_FrameOfExactlyOneBuffer_UsesOneDescriptor()
    {
        var ring = new RxRing(8, 2048);
        Assert.True(ring.TryDmaWrite(new byte[2048], 0));
        Assert.Equal(1, ring.UsedDescriptors);
        Assert.True(ring.TryDmaWrite(new byte[2049], 0));
        Assert.Equal(3, ring.UsedDescriptors);
    }

    [Fact]
    public void RxRing_Jumbo9000_UsesFiveDescriptorsAndComesBackIdentical()
    {
        var ring = new RxRing(256, 2048);
        var jumbo = Frame(9000, 42);
        Assert.True(ring.TryDmaWrite(jumbo, 12345));
        Assert.Equal(5, ring.UsedDescriptors);
        Assert.Equal(251, ring.FreeDescriptors);
        Assert.Equal(1, ring.PendingFrames);

        Assert.True(ring.TryTakeFrame(out var got, out var ts, out var descs));
        Assert.Equal(jumbo, got);
        Assert.Equal(12345, ts);
        Assert.Equal(5, descs);
        Assert.Equal(0, ring.UsedDescriptors);
        Assert.Equal(0, ring.PendingFrames);
        Assert.False(ring.TryTakeFrame(out _, out _, out _));
    }

    [Fact]
    public void RxRing_NearlyFull_RefusesJumboButAcceptsSmallFrame()
    {
        var ring = new RxRing(16, 2048);
        for (int i = 0; i < 12; i++) Assert.True(ring.TryDmaWrite(Frame(100, i), i));
        Assert.Equal(4, ring.FreeDescriptors);

        Assert.False(ring.TryDmaWrite(Frame(9000, 7), 100)); // needs 5
        Assert.Equal(4, ring.FreeDescriptors);                 // nothing written
        Assert.Equal(12, ring.PendingFrames);

        Assert.True(ring.TryDmaWrite(Frame(8192, 8), 101));   // exactly 4
        Assert.Equal(0, ring.FreeDescriptors);
        Assert.False(ring.TryDmaWrite(Frame(60, 9), 102));
        Assert.Equal(13, ring.PendingFrames);
    }

    [Fact]
    public void RxRing_MixedSizesAcrossWrap_ComeOutInFifoOrder()
    {
        var ring = new RxRing(16, 2048);
        var rnd = new Random(7);
        var expected = new Queue<(byte[] Frame, long Ts, int Descs)>();
        long ts = 0;
        int taken = 0;
        for (int round = 0; round < 200; round++)
        {
            int len = rnd.Next(3) switch { 0 => 60, 1 => rnd.Next(61, 2048 * 3), _ => 9000 };
            var f = Frame(len, round);
            int descs = ring.DescriptorsFor(len);
            bool fits = descs <= ring.FreeDescriptors;
            Assert.Equal(fits, ring.TryDmaWrite(f, ++ts));
            if (fits) expected.Enqueue((f, ts, descs));
            if (rnd.Next(2) == 0 || !fits)
            {
                while (expected.Count > rnd.Next(3))
                {
                    var e = expected.Dequeue();
                    Assert.True(ring.TryTakeFrame(out var got, out var gotTs, out var gotDescs));
                    Assert.Equal(e.Frame, got);
                    Assert.Equal(e.Ts, gotTs);
                    Assert.Equal(e.Descs, gotDescs);
                    taken++;
                }
            }
            Assert.Equal(expected.Count, ring.PendingFrames);
            Assert.Equal(expected.Sum(e => e.Descs), ring.UsedDescriptors);
        }
        Assert.True(taken > 50, $"only {taken} frames taken");
    }

    [Fact]
    public void RxRing_DmaWrite_CopiesTheFrame_SendersBufferNotShared()
    {
        var ring = new RxRing(4, 2048);
        var src = Frame(100, 1);
        ring.TryDmaWrite(src, 0);
        src[0] ^= 0xFF; // the ring copied at DMA time, so the sender's buffer is not shared
        Assert.True(ring.TryTakeFrame(out var got, out _, out _));
        Assert.NotSame(src, got);
        Assert.Equal(100, got.Length);
        Assert.Equal((byte)(src[0] ^ 0xFF), got[0]);
    }

    [Fact]
    public void RxRing_DescriptorBufferReused_FrameTakenEarlierKeepsItsBytes()
    {
        var ring = new RxRing(1, 2048); // one descriptor: every frame goes into the same DMA buffer
        var a = Frame(300, 1);
        var b = Frame(300, 2);
        Assert.True(ring.TryDmaWrite(a, 0));
        Assert.True(ring.TryTakeFrame(out var gotA, out _, out _));
        Assert.True(ring.TryDmaWrite(b, 0));
        Assert.True(ring.TryTakeFrame(out var gotB, out _, out _));
        Assert.Equal(a, gotA); // the skb the driver built is its own array, not the recycled buffer
        Assert.Equal(b, gotB);
    }

    [Fact]
    public void RxRing_OneFrameAtATime_PostsOneBufferAcrossManyWraps()
    {
        var ring = new RxRing(256, 2048);
        Assert.Equal(0, ring.PostedBuffers); // nothing posted at open: buffers come on demand
        for (int i = 0; i < 1000; i++) // four times round the ring
        {
            var f = Frame(98, i);
            Assert.True(ring.TryDmaWrite(f, i));
            Assert.Equal(1, ring.PostedBuffers);
            Assert.True(ring.TryTakeFrame(out var got, out long ts, out int descs));
            Assert.Equal(f, got);
            Assert.Equal(i, ts);
            Assert.Equal(1, descs);
        }
        Assert.Equal(1, ring.PostedBuffers);
        Assert.Equal(1000, ring.FramesWrittenTotal);
    }

    [Fact]
    public void RxRing_PostedBuffers_FollowTheHighWaterMark_NeverPastTheRing()
    {
        var ring = new RxRing(16, 2048);
        for (int i = 0; i < 3; i++) Assert.True(ring.TryDmaWrite(Frame(64, i), i));
        Assert.Equal(3, ring.PostedBuffers);
        Assert.True(ring.TryDmaWrite(Frame(9000, 3), 3)); // five descriptors
        Assert.Equal(8, ring.PostedBuffers);
        while (ring.TryTakeFrame(out _, out _, out _)) { }
        Assert.Equal(8, ring.PostedBuffers); // recycled, not freed
        Assert.Equal(0, ring.UsedDescriptors);
        for (int i = 0; i < 8; i++) Assert.True(ring.TryDmaWrite(Frame(64, i), i));
        Assert.Equal(8, ring.PostedBuffers); // reused, none allocated
        for (int i = 8; i < 16; i++) Assert.True(ring.TryDmaWrite(Frame(64, i), i));
        Assert.Equal(16, ring.PostedBuffers);
        Assert.False(ring.TryDmaWrite(Frame(64, 16), 16)); // full: rx_missed, no buffer for it
        Assert.Equal(16, ring.PostedBuffers);
        Assert.Equal(16, ring.Reset());
        Assert.Equal(16, ring.PostedBuffers); // a reset keeps the ring's buffers
        for (int i = 0; i < 16; i++) Assert.True(ring.TryDmaWrite(Frame(64, i), i));
        Assert.Equal(16, ring.PostedBuffers);
        for (int i = 0; i < 16; i++)
        {
            Assert.True(ring.TryTakeFrame(out var got, out long ts, out _));
            Assert.Equal(Frame(64, i), got);
            Assert.Equal(i, ts);
        }
    }

    [Fact]
    public void RxRing_DescriptorStoreGrowsWhileWrapped_FramesComeOutInOrder()
    {
        // The descriptor store grows on demand (4, 8, ... up to the ring's size); grow it while the in-use window
        // wraps round the smaller store, with multi-descriptor frames across the seam.
        var ring = new RxRing(64, 2048);
        var expected = new Queue<(byte[] Frame, long Ts, int Descs)>();
        void Write(int len, int seed)
        {
            var f = Frame(len, seed);
            Assert.True(ring.TryDmaWrite(f, seed));
            expected.Enqueue((f, seed, ring.DescriptorsFor(len)));
        }
        void Take()
        {
            var (f, ts, descs) = expected.Dequeue();
            Assert.True(ring.TryTakeFrame(out var got, out long gotTs, out int gotDescs));
            Assert.Equal(f, got);
            Assert.Equal((ts, descs), (gotTs, gotDescs));
        }
        for (int i = 0; i < 3; i++) Write(64, i);
        Take();
        Take();                      // window at 2..3 of a 4-entry store
        Write(5000, 10);             // 3 descriptors: wraps, then the store must grow to hold 4
        Write(9000, 11);             // 5 more: grows again, window still wrapped
        Write(100, 12);
        Assert.Equal(1 + 3 + 5 + 1, ring.UsedDescriptors);
        Take();
        Write(2049, 13);
        for (int i = 0; i < 40; i++) Write(64 + i, 20 + i);
        Assert.Equal(64 - (3 + 5 + 1 + 2 + 40), ring.FreeDescriptors);
        Assert.False(ring.TryDmaWrite(Frame(9000 * 3, 99), 99)); // 14 descriptors > 13 free: refused whole
        while (expected.Count > 0) Take();
        Assert.False(ring.TryTakeFrame(out _, out _, out _));
        Assert.Equal(64, ring.FreeDescriptors);
    }

    [Fact]
    public void RxRing_Reset_DropsAllFramesAndReturnsCount()
    {
        var ring = new RxRing(32, 2048);
        ring.TryDmaWrite(Frame(60, 1), 1);
        ring.TryDmaWrite(Frame(9000, 2), 2);
        ring.TryDmaWrite(Frame(3000, 3), 3);
        Assert.Equal(8, ring.UsedDescriptors);

        Assert.Equal(3, ring.Reset());
        Assert.Equal(0, ring.PendingFrames);
        Assert.Equal(32, ring.FreeDescriptors);
        Assert.False(ring.TryTakeFrame(out _, out _, out _));
        Assert.Equal(0, ring.Reset());

        // the ring is usable after the reset
        var f = Frame(500, 4);
        Assert.True(ring.TryDmaWrite(f, 4));
        Assert.True(ring.TryTakeFrame(out var got, out var ts, out _));
        Assert.Equal(f, got);
        Assert.Equal(4, ts);
    }

    [Fact]
    public void RxRing_FrameLargerThanWholeRing_IsAlwaysRefused()
    {
        var ring = new RxRing(4, 2048);
        Assert.False(ring.TryDmaWrite(new byte[4 * 2048 + 1], 0));
        Assert.Equal(4, ring.FreeDescriptors);
        Assert.True(ring.TryDmaWrite(new byte[4 * 2048], 0));
        Assert.Equal(0, ring.FreeDescriptors);
    }

    [Fact]
    public void RxRing_ZeroDescriptors_ThrowsAtConstruction()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RxRing(0, 2048));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RxRing(256, 0));
    }
}
