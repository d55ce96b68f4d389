namespace ActorStack.Hardware.Nic;

/// <summary>
/// One MSI-X interrupt vector of a NIC queue. The device raises it when frames land in the ring; the
/// driver's hard-IRQ handler (<c>igb_msix_ring</c>) masks it and schedules NAPI, and the poll unmasks
/// it (<c>igb_ring_irq_enable</c>) once it finishes under its weight (<c>napi_complete_done</c>).
/// A raise while masked is not delivered (the hardware coalesces it); it is counted in
/// <see cref="Suppressed"/>. Not thread-safe: owned by the driver actor.
/// </summary>
public sealed class IrqLine
{
    private int _cpu;

    public IrqLine(int vector, int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vector);
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        Vector = vector;
        _cpu = cpu;
    }

    public int Vector { get; }

    /// <summary>The CPU this vector is delivered to (<c>/proc/irq/N/smp_affinity_list</c>).</summary>
    public int Cpu
    {
        get => _cpu;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _cpu = value;
        }
    }

    public bool Masked { get; private set; }
    /// <summary>Interrupts delivered, as the vector's column in <c>/proc/interrupts</c> counts them.</summary>
    public long Count { get; private set; }
    /// <summary>Raises that arrived while the line was masked.</summary>
    public long Suppressed { get; private set; }

    /// <summary>The device asserts the interrupt. True (and counted) when delivered; false while masked.
    /// Delivery does not mask the line: the handler does that.</summary>
    public bool Raise()
    {
        if (Masked)
        {
            Suppressed++;
            return false;
        }
        Count++;
        return true;
    }

    public void Mask() => Masked = true;
    public void Unmask() => Masked = false;

    public override string ToString() => $"IRQ {Vector} cpu{Cpu} {(Masked ? "masked" : "unmasked")} count={Count}";
}
