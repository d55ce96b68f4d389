using System.Buffers.Binary;

namespace ActorStack.Hardware.Capture;

/// <summary>
/// Puts capture files of one capture point together in one canonical order, as <c>mergecap</c> merges by time but
/// deterministically: the records ordered by (timestamp, pcapng interface id), records of one file keeping their order
/// where both are equal, and at a tie between two files the record whose bytes compare lower first (then the earlier
/// file, when the bytes are the same: the output is the same either way). Nothing in the key names the file or the node
/// that wrote it, so the parts of a <c>device = all</c> point written by the partitions of a distributed run merge into
/// the bytes the single file of one partition gives (canonicalised the same way, one part).
/// <para>pcapng: every part must begin with the same Section Header and Interface Description Blocks (the writer
/// describes every host's devices at open, in the configuration's order, whichever partition writes), which are kept
/// once; then only Enhanced Packet Blocks. Classic pcap: the same 24-byte global header; the interface is 0 for all.</para>
/// Malformed input (a truncated block, headers that differ) throws <see cref="InvalidDataException"/>.
/// </summary>
public static class CaptureMerge
{
    private readonly record struct Record(ulong Ts, uint Interface, int Offset, int Length);

    /// <summary>Writes the merge of <paramref name="parts"/> to <paramref name="output"/>; nothing when there are none.</summary>
    public static void Merge(IReadOnlyList<ReadOnlyMemory<byte>> parts, Stream output)
    {
        if (parts.Count == 0) return;
        var parsed = parts.Select(Parse).ToList();
        var header = parts[0][..parsed[0].HeaderLength];
        for (int i = 1; i < parts.Count; i++)
            if (!parts[i][..parsed[i].HeaderLength].Span.SequenceEqual(header.Span))
                throw new InvalidDataException($"capture part {i} begins with other headers or interfaces than part 0");
        output.Write(header.Span);
        // Each part in (timestamp, interface) order, stable: a part's own order where both are equal.
        var sorted = parsed.Select(p => p.Records.Select((r, k) => (r, k)).OrderBy(x => x.r.Ts).ThenBy(x => x.r.Interface).ThenBy(x => x.k)
            .Select(x => x.r).ToArray()).ToArray();
        var at = new int[parts.Count];
        while (true)
        {
            int best = -1;
            for (int i = 0; i < parts.Count; i++)
            {
                if (at[i] >= sorted[i].Length) continue;
                if (best < 0 || Before(parts[i], sorted[i][at[i]], parts[best], sorted[best][at[best]])) best = i;
            }
            if (best < 0) break;
            var r = sorted[best][at[best]++];
            output.Write(parts[best].Span.Slice(r.Offset, r.Length));
        }
        output.Flush();
    }

    /// <summary>Merges <paramref name="parts"/> into a new array.</summary>
    public static byte[] Merge(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        using var ms = new MemoryStream();
        Merge(parts, ms);
        return ms.ToArray();
    }

    /// <summary>Rewrites the capture file at <paramref name="path"/> in the canonical order (one part).</summary>
    public static void Canonicalise(string path)
    {
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, Merge([bytes]));
    }

    // Strictly before, across two parts: (ts, interface), then the bytes.
    private static bool Before(ReadOnlyMemory<byte> pa, Record a, ReadOnlyMemory<byte> pb, Record b)
    {
        if (a.Ts != b.Ts) return a.Ts < b.Ts;
        if (a.Interface != b.Interface) return a.Interface < b.Interface;
        return pa.Span.Slice(a.Offset, a.Length).SequenceCompareTo(pb.Span.Slice(b.Offset, b.Length)) < 0;
    }

    private static (int HeaderLength, List<Record> Records) Parse(ReadOnlyMemory<byte> file)
    {
        var b = file.Span;
        if (b.Length < 4) throw new InvalidDataException("capture part shorter than its magic");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(b);
        var records = new List<Record>();
        if (magic is PcapWriter.MagicMicroseconds or PcapWriter.MagicNanoseconds)
        {
            // Classic pcap: | global header 24 | per record: ts_sec u32 | ts_frac u32 | incl_len u32 | orig_len u32 | data |
            if (b.Length < PcapWriter.GlobalHeaderLength) throw new InvalidDataException("pcap global header truncated");
            int off = PcapWriter.GlobalHeaderLength;
            while (off < b.Length)
            {
                if (b.Length - off < PcapWriter.RecordHeaderLength) throw new InvalidDataException($"pcap record at {off} truncated");
                ulong ts = (ulong)BinaryPrimitives.ReadUInt32LittleEndian(b[off..]) << 32 | BinaryPrimitives.ReadUInt32LittleEndian(b[(off + 4)..]);
                uint incl = BinaryPrimitives.ReadUInt32LittleEndian(b[(off + 8)..]);
                if (incl > b.Length - off - PcapWriter.RecordHeaderLength) throw new InvalidDataException($"pcap record at {off} truncated");
                int len = PcapWriter.RecordHeaderLength + (int)incl;
                records.Add(new Record(ts, 0, off, len));
                off += len;
            }
            return (PcapWriter.GlobalHeaderLength, records);
        }
        if (magic != PcapNgWriter.BlockSectionHeader) throw new InvalidDataException($"not a pcap or pcapng file (magic 0x{magic:x8})");
        int o = 0, header = -1;
        while (o < b.Length)
        {
            if (b.Length - o < 12) throw new InvalidDataException($"pcapng block at {o} truncated");
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);
            uint total = BinaryPrimitives.ReadUInt32LittleEndian(b[(o + 4)..]);
            if (total < 12 || total % 4 != 0 || total > b.Length - o) throw new InvalidDataException($"pcapng block at {o}: bad length {total}");
            if (type == PcapNgWriter.BlockEnhancedPacket)
            {
                if (total < 32) throw new InvalidDataException($"pcapng packet block at {o} truncated");
                if (header < 0) header = o;
                uint iface = BinaryPrimitives.ReadUInt32LittleEndian(b[(o + 8)..]);
                ulong ts = (ulong)BinaryPrimitives.ReadUInt32LittleEndian(b[(o + 12)..]) << 32 | BinaryPrimitives.ReadUInt32LittleEndian(b[(o + 16)..]);
                records.Add(new Record(ts, iface, o, (int)total));
            }
            else if (header >= 0) throw new InvalidDataException($"pcapng block 0x{type:x8} at {o} after the first packet block");
            o += (int)total;
        }
        return (header < 0 ? b.Length : header, records);
    }
}
