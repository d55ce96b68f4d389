using ActorStack.Hardware.Nic;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Nic;

public class IrqLineTests
{
    [Fact]
    public void IrqLine_RaiseWhileMasked_SuppressedNotCounted()
    {
        var irq = new IrqLine(vector: 33, cpu: 1);
        Assert.True(irq.Raise());
        Assert.False(irq.Masked); // raising does not mask: the handler does
        irq.Mask();
        Assert.False(irq.Raise());
        Assert.False(irq.Raise());
        irq.Unmask();
        Assert.True(irq.Raise());
        Assert.Equal(2, irq.Count);
        Assert.Equal(2, irq.Suppressed);
        Assert.Equal(33, irq.Vector);
        Assert.Equal(1, irq.Cpu);
    }

    [Fact]
    public void IrqLine_SetAffinity_ChangesCpu()
    {
        var irq = new IrqLine(0, 0) { Cpu = 3 };
        Assert.Equal(3, irq.Cpu);
        Assert.Throws<ArgumentOutOfRangeException>(() => irq.Cpu = -1);
    }
}
