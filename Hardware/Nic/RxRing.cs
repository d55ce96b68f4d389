namespace ActorStack.Hardware.Nic;

/// <summary>
/// A bounded RX descriptor ring as igb keeps it (<c>struct igb_ring</c>): the hardware DMA-writes each
/// frame into free descriptors at <c>next_to_use</c>, the driver's <c>igb_clean_rx_irq</c> takes them
/// back at <c>next_to_clean</c>. A frame longer than one descriptor buffer spans several descriptors;
/// every one but the last is "non-EOP" (<c>igb_is_non_eop</c>).
/// <para>
/// Contract: a frame is written whole or not at all (no partial frames are ever visible), so
/// <see cref="TryTakeFrame"/> always finds an EOP descriptor after a run of non-EOP ones. A descriptor holds a DMA
/// buffer of <see cref="BufferSize"/> bytes while a frame is in it. Buffers are posted on demand from the ring's own
/// recycle stack (as igb reuses its half-pages, <c>igb_can_reuse_rx_page</c>, and a page pool recycles pages
/// to the queue that freed them): the driver's take pushes the buffer back, the next DMA write pops it, and a buffer is
/// allocated only when the stack is empty. So a ring holds as many buffers as it ever had frames waiting at once
/// (<see cref="PostedBuffers"/>, at most <see cref="Size"/>): an idle NIC that sees one frame at a time costs one
/// 2 KiB buffer instead of the whole ring, and a deep ring's waiting frames still sit in buffers that live as long as
/// the ring, not in fresh arrays the GC would promote while they wait. The descriptors themselves are stored the same
/// way: only those in use, in a store that grows with the high-water mark up to <see cref="Size"/>. Which descriptors are free, and so
/// <c>rx_missed_errors</c> (FULL_RING), do not depend on the buffers. Each frame costs one allocation, made when the
/// driver takes it. Not thread-safe: the owning driver actor is the only caller.
/// </para>
/// </summary>
public sealed class RxRing
{
    /// <summary>igb's default RX ring size (<c>IGB_DEFAULT_RXD</c>; <c>ethtool -g</c> "RX").</summary>
    public const int DefaultDescriptors = 256;
    /// <summary>igb's default descriptor buffer size (<c>IGB_RXBUFFER_2048</c>).</summary>
    public const int DefaultBufferSize = 2048;

    private struct Descriptor
    {
        public byte[]? Buffer;      // the DMA buffer (BufferSize bytes) while a frame is in this descriptor, else null
        public int Length;          // bytes of the frame in it
        public bool Eop;            // E1000_RXD_STAT_EOP: last descriptor of the frame
        public long TstampTicks;    // set on the first descriptor of the frame
    }

    // The descriptors in use, a circular window [_nextToClean, _nextToUse) of a store that grows on demand up to
    // _size (the ring's descriptor count): which descriptors are free is counted, not stored, so the store only has to
    // hold those in use, and an idle ring's is a few entries instead of _size.
    private Descriptor[] _ring = [];
    private readonly int _size;
    private int _nextToUse;         // hardware writes here
    private int _nextToClean;       // driver cleans from here
    private int _used;
    private int _pendingFrames;
    private byte[][] _recycled = [];  // buffers taken back by the driver, ready to post again (a stack)
    private int _recycledCount;

    public RxRing(int descriptors = DefaultDescriptors, int bufferSize = DefaultBufferSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(descriptors, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        _size = descriptors;
        BufferSize = bufferSize;
    }

    /// <summary>Number of descriptors (<c>ring->count</c>).</summary>
    public int Size => _size;
    /// <summary>Bytes one descriptor buffer holds (<c>igb_rx_bufsz</c>).</summary>
    public int BufferSize { get; }
    /// <summary>Descriptors the hardware may still write (<c>igb_desc_unused</c>).</summary>
    public int FreeDescriptors => _size - _used;
    public int UsedDescriptors => _used;
    /// <summary>Complete frames waiting for the driver's poll.</summary>
    public int PendingFrames => _pendingFrames;
    /// <summary>Descriptors ever filled by the hardware (a frame of n descriptors adds n).</summary>
    public long DescriptorsUsedTotal { get; private set; }
    /// <summary>Frames ever accepted by <see cref="TryDmaWrite"/>.</summary>
    public long FramesWrittenTotal { get; private set; }
    /// <summary>DMA buffers the ring owns: in descriptors with a frame plus recycled ones (its high-water mark of used descriptors).</summary>
    public int PostedBuffers => _used + _recycledCount;

    /// <summary>Descriptors a frame of <paramref name="length"/> bytes needs: ceil(length / BufferSize), at least 1.</summary>
    public int DescriptorsFor(int length) => length <= BufferSize ? 1 : (int)(((long)length + BufferSize - 1) / BufferSize);

    /// <summary>
    /// The device's DMA write of one received frame. Returns false, writing nothing, when fewer free
    /// descriptors remain than the frame needs: the hardware drops it and the caller counts
    /// <c>rx_missed_errors</c> (<c>E1000_MPC</c>, drop reason FULL_RING). The frame is copied once, into the
    /// descriptors' buffers.
    /// </summary>
    public bool TryDmaWrite(ReadOnlySpan<byte> frame, long tstampTicks)
    {
        int needed = DescriptorsFor(frame.Length);
        if (needed > FreeDescriptors) return false;
        if (_used + needed > _ring.Length) Grow(_used + needed);

        int offset = 0;
        for (int i = 0; i < needed; i++)
        {
            ref var d = ref _ring[_nextToUse];
            int len = Math.Min(BufferSize, frame.Length - offset);
            d.Buffer = _recycledCount > 0
                ? _recycled[--_recycledCount]
                : GC.AllocateUninitializedArray<byte>(BufferSize); // only the first Length bytes are ever read
            frame.Slice(offset, len).CopyTo(d.Buffer);
            d.Length = len;
            d.Eop = i == needed - 1;
            d.TstampTicks = i == 0 ? tstampTicks : 0;
            offset += len;
            if (++_nextToUse == _ring.Length) _nextToUse = 0;
        }
        _used += needed;
        _pendingFrames++;
        DescriptorsUsedTotal += needed;
        FramesWrittenTotal++;
        return true;
    }

    /// <summary>
    /// The driver side (<c>igb_clean_rx_irq</c>): takes the oldest complete frame, walking non-EOP
    /// descriptors up to the EOP one and freeing (replenishing, <c>igb_alloc_rx_buffers</c>) each.
    /// Returns the frame gathered from the descriptors' buffers into a new array (the skb the driver builds,
    /// <c>igb_construct_skb</c>), which the ring keeps no reference to. False when the ring holds no frame.
    /// </summary>
    public bool TryTakeFrame(out byte[] frame, out long tstampTicks, out int descriptors)
    {
        frame = Array.Empty<byte>();
        tstampTicks = 0;
        descriptors = 0;
        if (_pendingFrames == 0) return false;

        tstampTicks = _ring[_nextToClean].TstampTicks;
        int length = 0;
        for (int i = _nextToClean; ; i = i + 1 == _ring.Length ? 0 : i + 1)
        {
            length += _ring[i].Length;
            if (_ring[i].Eop) break;
        }
        frame = GC.AllocateUninitializedArray<byte>(length); // every byte is copied below
        int offset = 0;
        bool eop;
        do
        {
            ref var d = ref _ring[_nextToClean];
            eop = d.Eop;
            var buffer = d.Buffer!; // a descriptor with a frame always holds its buffer
            buffer.AsSpan(0, d.Length).CopyTo(frame.AsSpan(offset));
            Recycle(buffer); // igb_reuse_rx_page: back to the ring for the next DMA write
            d.Buffer = null;
            offset += d.Length;
            d.Length = 0;
            d.Eop = false;
            d.TstampTicks = 0;
            descriptors++;
            if (++_nextToClean == _ring.Length) _nextToClean = 0;
        } while (!eop); // igb_is_non_eop: keep fetching until the end of packet
        _used -= descriptors;
        _pendingFrames--;
        return true;
    }

    /// <summary>
    /// Drops everything in the ring, as a device reset (<c>igb_reset</c> / <c>igb_clean_rx_ring</c>) does.
    /// Returns the number of frames dropped.
    /// </summary>
    public int Reset()
    {
        int dropped = _pendingFrames;
        for (int i = 0; i < _ring.Length; i++)
        {
            if (_ring[i].Buffer is { } b) Recycle(b); // the buffers stay the ring's
            _ring[i] = default;
        }
        _nextToUse = _nextToClean = _used = _pendingFrames = 0;
        return dropped;
    }

    /// <summary>Makes the descriptor store hold at least <paramref name="min"/> (at most <see cref="Size"/>), the window kept in order from 0.</summary>
    private void Grow(int min)
    {
        var store = new Descriptor[Math.Min(_size, Math.Max(min, Math.Max(4, 2 * _ring.Length)))];
        for (int i = 0, j = _nextToClean; i < _used; i++, j = j + 1 == _ring.Length ? 0 : j + 1) store[i] = _ring[j];
        _ring = store;
        _nextToClean = 0;
        _nextToUse = _used == store.Length ? 0 : _used;
    }

    private void Recycle(byte[] buffer)
    {
        if (_recycledCount == _recycled.Length)
            Array.Resize(ref _recycled, Math.Min(_size, Math.Max(4, 2 * _recycled.Length)));
        _recycled[_recycledCount++] = buffer;
    }

    public override string ToString() => $"RxRing(size={Size}, buf={BufferSize}, used={_used}, frames={_pendingFrames})";
}
