using System.Buffers.Binary;

namespace ActorStack.Hardware.Capture;

/// <summary>
/// Reads a classic pcap file in either byte order, with microsecond (0xa1b2c3d4) or nanosecond
/// (0xa1b23c4d) timestamps, and the packets of a pcapng file (<see cref="PcapNgReader"/>) alike. Meant for tests and tools. A stream that is not a pcap file yields
/// nothing; a truncated last record ends the enumeration; neither throws.
/// </summary>
public static class PcapReader
{
    /// <summary>
    /// The records of <paramref name="stream"/> in file order: timestamp as UTC ticks (sub-tick
    /// nanoseconds truncated), the captured bytes (incl_len of them) and orig_len.
    /// </summary>
    public static IEnumerable<(long UtcTicks, byte[] Frame, int OriginalLength)> Read(Stream stream)
    {
        var header = new byte[PcapWriter.GlobalHeaderLength];
        if (!ReadFully(stream, header)) yield break;

        uint magicLe = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (magicLe == PcapNgWriter.BlockSectionHeader)
        {
            var all = new MemoryStream();
            all.Write(header);
            stream.CopyTo(all);
            foreach (var p in PcapNgReader.Read(all.GetBuffer().AsSpan(0, (int)all.Length)).Packets)
                yield return (DateTime.UnixEpoch.Ticks + p.UnixNs / 100, p.Data, (int)Math.Min(p.OriginalLength, int.MaxValue));
            yield break;
        }
        bool bigEndian;
        bool nanoseconds;
        switch (magicLe)
        {
            case PcapWriter.MagicMicroseconds: bigEndian = false; nanoseconds = false; break;
            case PcapWriter.MagicNanoseconds: bigEndian = false; nanoseconds = true; break;
            default:
                uint magicBe = BinaryPrimitives.ReadUInt32BigEndian(header);
                if (magicBe == PcapWriter.MagicMicroseconds) { bigEndian = true; nanoseconds = false; }
                else if (magicBe == PcapWriter.MagicNanoseconds) { bigEndian = true; nanoseconds = true; }
                else yield break;
                break;
        }

        var record = new byte[PcapWriter.RecordHeaderLength];
        while (ReadFully(stream, record))
        {
            uint sec = U32(record, 0, bigEndian);
            uint frac = U32(record, 4, bigEndian);
            uint inclLen = U32(record, 8, bigEndian);
            uint origLen = U32(record, 12, bigEndian);
            // A corrupt incl_len must not make us allocate gigabytes: 256 MiB is far above any snaplen.
            if (inclLen > 256u * 1024 * 1024) yield break;
            var frame = new byte[inclLen];
            if (!ReadFully(stream, frame)) yield break;

            long fracTicks = nanoseconds ? frac / 100 : frac * TimeSpan.TicksPerMicrosecond;
            long ticks = DateTime.UnixEpoch.Ticks + sec * TimeSpan.TicksPerSecond + fracTicks;
            yield return (ticks, frame, (int)Math.Min(origLen, int.MaxValue));
        }
    }

    private static uint U32(byte[] b, int offset, bool bigEndian)
        => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(offset))
                     : BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset));

    private static bool ReadFully(Stream s, byte[] buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = s.Read(buffer, got, buffer.Length - got);
            if (n == 0) return false;
            got += n;
        }
        return true;
    }
}
