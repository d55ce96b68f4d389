using ActorStack.Hardware.Nic;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Receive;

/// <summary>The RX descriptor ring's overflow (igb_clean_rx_irq, rx_missed_errors): a full ring refuses the frame whole.</summary>
public class RxRingOverflowTests
{
    [Fact]
    public void TryDmaWrite_RingOf8With10Frames_Accepts8Refuses2()
    {
        var ring = new RxRing(8, 2048);
        var frame = new byte[64];
        int accepted = 0, missed = 0;
        for (int i = 0; i < 10; i++)
            if (ring.TryDmaWrite(frame, i)) accepted++; else missed++;
        Assert.Equal(8, accepted);
        Assert.Equal(2, missed);
        Assert.Equal(8, ring.PendingFrames);
        Assert.Equal(0, ring.FreeDescriptors);
        Assert.Equal(8, ring.FramesWrittenTotal);
    }

    [Fact]
    public void TryDmaWrite_JumboNeedsMoreThanFree_RefusedWithoutPartialWrite()
    {
        var ring = new RxRing(8, 2048);
        var jumbo = new byte[9014]; // 5 descriptors of 2048
        Assert.True(ring.TryDmaWrite(jumbo, 0));
        Assert.Equal(3, ring.FreeDescriptors);
        Assert.False(ring.TryDmaWrite(jumbo, 1));
        Assert.Equal(3, ring.FreeDescriptors);
        Assert.Equal(1, ring.PendingFrames);
        Assert.True(ring.TryTakeFrame(out var f, out _, out int descriptors));
        Assert.Equal(9014, f.Length);
        Assert.Equal(5, descriptors);
        Assert.Equal(8, ring.FreeDescriptors);
    }
}
