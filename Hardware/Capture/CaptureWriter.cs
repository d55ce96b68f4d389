namespace ActorStack.Hardware.Capture;

/// <summary>
/// What the classic pcap and the pcapng writers share: the stream they own (or leave open), the snapshot length,
/// the count of packet records, flushing and disposal. Not thread-safe: one owner (a capture tap) writes.
/// </summary>
public abstract class CaptureWriter : IDisposable
{
    private readonly bool _leaveOpen;
    private bool _disposed;

    /// <summary><paramref name="snapLength"/> below 1 is taken as tcpdump's default (<see cref="PcapWriter.DefaultSnapLength"/>).</summary>
    private protected CaptureWriter(Stream stream, int snapLength, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Stream = stream;
        _leaveOpen = leaveOpen;
        SnapLength = snapLength > 0 ? snapLength : PcapWriter.DefaultSnapLength;
    }

    private protected Stream Stream { get; }

    public int SnapLength { get; }

    /// <summary>Packet records written.</summary>
    public long PacketsWritten { get; private protected set; }

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    public void Flush()
    {
        ThrowIfDisposed();
        Stream.Flush();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Stream.Flush();
        if (!_leaveOpen) Stream.Dispose();
    }
}
