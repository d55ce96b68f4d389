using System.Buffers.Binary;

namespace ActorStack.Hardware.Capture;

/// <summary>
/// Writes the classic libpcap capture format (the one <c>tcpdump -w</c> writes by default)
/// without libpcap, so a capture works on a machine that has no native libpcap.
/// <code>
/// global header (24 bytes, little endian):
/// | magic 0xa1b2c3d4 | major 2 | minor 4 | thiszone 0 | sigfigs 0 | snaplen | linktype 1 (LINKTYPE_ETHERNET) |
/// record header (16 bytes) before every frame:
/// | ts_sec | ts_usec | incl_len = min(len, snaplen) | orig_len = len |
/// </code>
/// With nanosecond timestamps (<c>tcpdump --time-stamp-precision=nano</c>) the magic is 0xa1b23c4d and the second
/// word of a record header holds nanoseconds.
/// Timestamps are the simulation clock's, given per frame; the writer never reads a clock.
/// Not thread-safe: one owner (the capture tap) writes.
/// </summary>
public sealed class PcapWriter : CaptureWriter
{
    public const uint MagicMicroseconds = 0xa1b2c3d4;
    public const uint MagicNanoseconds = 0xa1b23c4d;
    public const ushort VersionMajor = 2;
    public const ushort VersionMinor = 4;
    /// <summary>tcpdump's default snapshot length (MAXIMUM_SNAPLEN).</summary>
    public const int DefaultSnapLength = 262144;
    /// <summary>LINKTYPE_ETHERNET (DLT_EN10MB).</summary>
    public const uint LinkTypeEthernet = 1;
    public const int GlobalHeaderLength = 24;
    public const int RecordHeaderLength = 16;


    /// <summary>Writes the global header at once. <paramref name="snapLength"/> below 1 is taken as the default.</summary>
    public PcapWriter(Stream stream, int snapLength = DefaultSnapLength, bool leaveOpen = false)
        : this(stream, snapLength, leaveOpen, nanoseconds: false)
    {
    }

    /// <summary>As the other constructor; <paramref name="nanoseconds"/> writes the nanosecond magic (0xa1b23c4d).</summary>
    public PcapWriter(Stream stream, int snapLength, bool leaveOpen, bool nanoseconds) : base(stream, snapLength, leaveOpen)
    {
        Nanoseconds = nanoseconds;

        Span<byte> h = stackalloc byte[GlobalHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(h, nanoseconds ? MagicNanoseconds : MagicMicroseconds);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], VersionMinor);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);   // thiszone: timestamps are UTC
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], LinkTypeEthernet);
        Stream.Write(h);
    }

    /// <summary>The file's records hold nanoseconds (magic 0xa1b23c4d), else microseconds.</summary>
    public bool Nanoseconds { get; }

    /// <summary>
    /// Appends one frame. <paramref name="utcTicks"/> is <see cref="DateTimeOffset.UtcTicks"/> of the
    /// simulation clock; it is truncated to whole microseconds. Times before the Unix epoch are written
    /// as 0 and times past 2106 as the largest 32-bit second (the format cannot hold them).
    /// </summary>
    public void WritePacket(ReadOnlySpan<byte> frame, long utcTicks)
    {
        long sinceEpoch = utcTicks - DateTime.UnixEpoch.Ticks;
        WritePacketNs(frame, sinceEpoch <= 0 ? 0 : sinceEpoch > long.MaxValue / 100 ? long.MaxValue : sinceEpoch * 100);
    }

    /// <summary>
    /// Appends one frame stamped <paramref name="unixNs"/> (ns since the Unix epoch): to the ns with the nanosecond
    /// magic, truncated to the µs without; clamped to the u32 seconds as <see cref="WritePacket"/>.
    /// </summary>
    public void WritePacketNs(ReadOnlySpan<byte> frame, long unixNs)
    {
        ThrowIfDisposed();
        var (sec, frac) = ToUnixFraction(unixNs, Nanoseconds);
        int caplen = Math.Min(frame.Length, SnapLength);

        Span<byte> r = stackalloc byte[RecordHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(r, sec);
        BinaryPrimitives.WriteUInt32LittleEndian(r[4..], frac);
        BinaryPrimitives.WriteUInt32LittleEndian(r[8..], (uint)caplen);
        BinaryPrimitives.WriteUInt32LittleEndian(r[12..], (uint)frame.Length);
        Stream.Write(r);
        Stream.Write(frame[..caplen]);
        PacketsWritten++;
    }


    /// <summary>Splits ns since the Unix epoch into seconds and µs or ns, clamped to the u32 range.</summary>
    public static (uint Seconds, uint Fraction) ToUnixFraction(long unixNs, bool nanoseconds)
    {
        if (unixNs <= 0) return (0, 0);
        long sec = unixNs / 1_000_000_000;
        if (sec > uint.MaxValue) return (uint.MaxValue, nanoseconds ? 999_999_999u : 999_999u);
        long ns = unixNs % 1_000_000_000;
        return ((uint)sec, (uint)(nanoseconds ? ns : ns / 1000));
    }

    /// <summary>Splits UTC ticks (100 ns since 0001-01-01) into Unix seconds and microseconds, clamped to the u32 range.</summary>
    public static (uint Seconds, uint Microseconds) ToUnixMicroseconds(long utcTicks)
    {
        long sinceEpoch = utcTicks - DateTime.UnixEpoch.Ticks;
        if (sinceEpoch <= 0) return (0, 0);
        long sec = sinceEpoch / TimeSpan.TicksPerSecond;
        if (sec > uint.MaxValue) return (uint.MaxValue, 999_999);
        long usec = sinceEpoch % TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond;
        return ((uint)sec, (uint)usec);
    }
}
