using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;

namespace ActorStack.Hardware.Capture;

/// <summary>An Interface Description Block: its id (order in its section), link type, snap length, name, description and <c>if_tsresol</c>.</summary>
public sealed record PcapNgInterface(int Id, ushort LinkType, uint SnapLength, string? Name, string? Description, byte Tsresol)
{
    /// <summary>Ticks of the timestamp unit per second: 10^tsresol (bit 7 clear) or 2^tsresol (bit 7 set).</summary>
    public ulong UnitsPerSecond => (Tsresol & 0x80) != 0 ? 1UL << (Tsresol & 0x7f) : Pow10(Tsresol);

    private static ulong Pow10(int n)
    {
        ulong v = 1;
        for (int i = 0; i < n && i < 19; i++) v *= 10;
        return v;
    }
}

/// <summary>
/// An Enhanced (or Simple) Packet Block: the interface, the timestamp in the interface's units and in ns since the Unix
/// epoch, the captured bytes, the original length, <c>epb_flags</c> (null when absent) and its comments.
/// </summary>
public sealed record PcapNgPacket(int InterfaceId, ulong Timestamp, long UnixNs, byte[] Data, uint OriginalLength, uint? Flags,
    ImmutableArray<string> Comments)
{
    public PacketDirection Direction => (PacketDirection)((Flags ?? 0) & 3);
    public ReceptionType Reception => (ReceptionType)(((Flags ?? 0) >> 2) & 7);
}

/// <summary>What a pcapng file holds: its interfaces and packets in file order, and the SHB's <c>shb_userappl</c>.</summary>
public sealed record PcapNgFile(ImmutableArray<PcapNgInterface> Interfaces, ImmutableArray<PcapNgPacket> Packets, string? Application)
{
    public PcapNgInterface Interface(int id) => Interfaces[id];
}

/// <summary>
/// Reads a pcapng file (either byte order; several sections: interface ids restart in each, as the format says, and
/// are renumbered here in file order). Blocks it does not know are skipped. Meant for tests and tools: a stream that
/// is not pcapng gives an empty file, a truncated or malformed block ends the reading; neither throws.
/// </summary>
public static class PcapNgReader
{
    public static PcapNgFile Read(Stream stream)
    {
        var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Read(ms.GetBuffer().AsSpan(0, (int)ms.Length));
    }

    public static PcapNgFile Read(ReadOnlySpan<byte> b)
    {
        var interfaces = ImmutableArray.CreateBuilder<PcapNgInterface>();
        var packets = ImmutableArray.CreateBuilder<PcapNgPacket>();
        string? app = null;
        bool big = false;
        int sectionBase = 0; // index in `interfaces` of this section's interface 0
        int pos = 0;
        while (b.Length - pos >= 12)
        {
            uint typeLe = BinaryPrimitives.ReadUInt32LittleEndian(b[pos..]);
            if (typeLe == PcapNgWriter.BlockSectionHeader)
            {
                uint magic = BinaryPrimitives.ReadUInt32LittleEndian(b[(pos + 8)..]);
                if (magic == PcapNgWriter.ByteOrderMagic) big = false;
                else if (BinaryPrimitives.ReadUInt32BigEndian(b[(pos + 8)..]) == PcapNgWriter.ByteOrderMagic) big = true;
                else break;
                sectionBase = interfaces.Count;
            }
            else if (pos == 0) break; // a pcapng file starts with a section header
            uint type = U32(b, pos, big);
            uint total = U32(b, pos + 4, big);
            if (total < 12 || total % 4 != 0 || total > b.Length - pos || U32(b, pos + (int)total - 4, big) != total) break;
            var body = b.Slice(pos + 8, (int)total - 12);
            switch (type)
            {
                case PcapNgWriter.BlockSectionHeader when body.Length >= 16:
                    foreach (var (code, value) in Options(body[16..], big))
                        if (code == PcapNgWriter.OptShbUserAppl) app = Encoding.UTF8.GetString(value);
                    break;
                case PcapNgWriter.BlockInterfaceDescription when body.Length >= 8:
                {
                    string? name = null, desc = null;
                    byte tsresol = PcapNgWriter.TsresolMicroseconds;
                    foreach (var (code, value) in Options(body[8..], big))
                    {
                        if (code == PcapNgWriter.OptIfName) name = Encoding.UTF8.GetString(value);
                        else if (code == PcapNgWriter.OptIfDescription) desc = Encoding.UTF8.GetString(value);
                        else if (code == PcapNgWriter.OptIfTsresol && value.Length >= 1) tsresol = value[0];
                    }
                    interfaces.Add(new PcapNgInterface(interfaces.Count, U16(body, 0, big), U32(body, 4, big), name, desc, tsresol));
                    break;
                }
                case PcapNgWriter.BlockEnhancedPacket when body.Length >= 20:
                {
                    int id = sectionBase + (int)Math.Min(U32(body, 0, big), int.MaxValue - sectionBase);
                    if (id >= interfaces.Count) return Done();
                    ulong ts = (ulong)U32(body, 4, big) << 32 | U32(body, 8, big);
                    uint caplen = U32(body, 12, big);
                    if (caplen > body.Length - 20) return Done();
                    int padded = (int)((caplen + 3) & ~3u);
                    uint? flags = null;
                    var comments = ImmutableArray.CreateBuilder<string>();
                    foreach (var (code, value) in Options(body[Math.Min(body.Length, 20 + padded)..], big))
                    {
                        if (code == PcapNgWriter.OptComment) comments.Add(Encoding.UTF8.GetString(value));
                        else if (code == PcapNgWriter.OptEpbFlags && value.Length >= 4) flags = U32(value, 0, big);
                    }
                    packets.Add(new PcapNgPacket(id, ts, UnixNs(interfaces[id], ts),
                        body.Slice(20, (int)caplen).ToArray(), U32(body, 16, big), flags, comments.ToImmutable()));
                    break;
                }
            }
            pos += (int)total;
        }
        return Done();

        PcapNgFile Done() => new(interfaces.ToImmutable(), packets.ToImmutable(), app);
    }

    private static long UnixNs(PcapNgInterface i, ulong ts)
    {
        ulong units = i.UnitsPerSecond;
        if (units == 0) return 0;
        ulong sec = ts / units, frac = ts % units;
        return (long)Math.Min(sec, long.MaxValue / 1_000_000_000UL - 1) * 1_000_000_000L + (long)(frac * 1_000_000_000UL / units);
    }

    // Options until opt_endofopt or the end of the block; a malformed one ends them.
    private static List<(ushort Code, byte[] Value)> Options(ReadOnlySpan<byte> o, bool big)
    {
        var list = new List<(ushort, byte[])>();
        int p = 0;
        while (o.Length - p >= 4)
        {
            ushort code = U16(o, p, big), len = U16(o, p + 2, big);
            if (code == PcapNgWriter.OptEndOfOpt || len > o.Length - p - 4) break;
            list.Add((code, o.Slice(p + 4, len).ToArray()));
            p += 4 + ((len + 3) & ~3);
        }
        return list;
    }

    private static uint U32(ReadOnlySpan<byte> b, int offset, bool big)
        => big ? BinaryPrimitives.ReadUInt32BigEndian(b[offset..]) : BinaryPrimitives.ReadUInt32LittleEndian(b[offset..]);

    private static ushort U16(ReadOnlySpan<byte> b, int offset, bool big)
        => big ? BinaryPrimitives.ReadUInt16BigEndian(b[offset..]) : BinaryPrimitives.ReadUInt16LittleEndian(b[offset..]);
}
