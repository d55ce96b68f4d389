using System.Buffers.Binary;
using System.Text;

namespace ActorStack.Hardware.Capture;

/// <summary>A frame's direction on its interface, as pcapng's <c>epb_flags</c> bits 0–1 say it.</summary>
public enum PacketDirection : byte { Unknown = 0, Inbound = 1, Outbound = 2 }

/// <summary>
/// <c>epb_flags</c> bits 2–4, the reception type (<c>skb->pkt_type</c> as libpcap maps it): unicast to us, multicast,
/// broadcast, promiscuous (for another host).
/// </summary>
public enum ReceptionType : byte { NotSpecified = 0, Unicast = 1, Multicast = 2, Broadcast = 3, Promiscuous = 4 }

/// <summary>
/// Writes the pcapng capture format (draft-ietf-opsawg-pcapng; what <c>tcpdump</c>/<c>dumpcap</c> write by default)
/// without libpcap: one Section Header Block, an Interface Description Block per captured device (added as the
/// devices become known; a block names only interfaces described before it), and Enhanced Packet Blocks with the
/// direction flags and comments. All blocks little endian, every block and option padded to 32 bits:
/// <code>
/// block:  | type u32 | total length u32 | body … | options … opt_endofopt | total length u32 |
/// SHB 0x0A0D0D0A: | byte-order magic 0x1A2B3C4D | major 1 | minor 0 | section length -1 (u64) | shb_userappl |
/// IDB 0x00000001: | linktype u16 | reserved u16 | snaplen u32 | if_name (2) | if_description (3) | if_tsresol (9) |
/// EPB 0x00000006: | interface id u32 | ts high u32 | ts low u32 | caplen u32 | origlen u32 | data, padded |
///                 | opt_comment (1) … | epb_flags (2, u32) |
/// option: | code u16 | length u16 | value, padded to 32 bits |
/// </code>
/// Timestamps are given in ns since the Unix epoch (the simulation clock's); with <c>if_tsresol</c> 9 (10^-9 s) they are
/// written as they are, with 6 (the format's default, µs) truncated to µs. The writer never reads a clock.
/// Not thread-safe: one owner (a capture tap) writes.
/// </summary>
public sealed class PcapNgWriter : CaptureWriter
{
    public const uint BlockSectionHeader = 0x0A0D0D0A;
    public const uint BlockInterfaceDescription = 0x00000001;
    public const uint BlockEnhancedPacket = 0x00000006;
    public const uint ByteOrderMagic = 0x1A2B3C4D;
    public const ushort OptEndOfOpt = 0, OptComment = 1;
    public const ushort OptShbUserAppl = 4;
    public const ushort OptIfName = 2, OptIfDescription = 3, OptIfTsresol = 9;
    public const ushort OptEpbFlags = 2;
    /// <summary>LINKTYPE_ETHERNET.</summary>
    public const ushort LinkTypeEthernet = 1;
    /// <summary><c>if_tsresol</c> for nanoseconds (10^-9 s) and for microseconds (10^-6 s, the default when absent).</summary>
    public const byte TsresolNanoseconds = 9, TsresolMicroseconds = 6;
    public const string Application = "ActorStack";

    private readonly byte _tsresol;
    private readonly MemoryStream _block = new();
    private int _interfaces;
    private bool _options;

    /// <summary>Writes the Section Header Block at once. <paramref name="snapLength"/> below 1 is taken as the default.</summary>
    /// <param name="nanoseconds">Every interface with <c>if_tsresol</c> 9 (ns), else 6 (µs).</param>
    public PcapNgWriter(Stream stream, int snapLength = PcapWriter.DefaultSnapLength, bool nanoseconds = true, bool leaveOpen = false)
        : base(stream, snapLength, leaveOpen)
    {
        _tsresol = nanoseconds ? TsresolNanoseconds : TsresolMicroseconds;

        Span<byte> body = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(body, ByteOrderMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(body[4..], 1);    // major
        BinaryPrimitives.WriteUInt16LittleEndian(body[6..], 0);    // minor
        BinaryPrimitives.WriteInt64LittleEndian(body[8..], -1);    // section length: not given
        Begin(body);
        Option(OptShbUserAppl, Encoding.UTF8.GetBytes(Application));
        End(BlockSectionHeader);
    }

    public byte Tsresol => _tsresol;
    public int Interfaces => _interfaces;

    /// <summary>
    /// Appends an Interface Description Block (LINKTYPE_ETHERNET unless given) and returns its interface id, counted
    /// from 0 in the order of the blocks.
    /// </summary>
    public int AddInterface(string name, string? description = null, ushort linkType = LinkTypeEthernet)
    {
        ThrowIfDisposed();
        Span<byte> body = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(body, linkType);
        BinaryPrimitives.WriteUInt16LittleEndian(body[2..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], (uint)SnapLength);
        Begin(body);
        Option(OptIfName, Encoding.UTF8.GetBytes(name));
        if (!string.IsNullOrEmpty(description)) Option(OptIfDescription, Encoding.UTF8.GetBytes(description));
        Option(OptIfTsresol, [_tsresol]);
        End(BlockInterfaceDescription);
        return _interfaces++;
    }

    /// <summary>
    /// Appends one Enhanced Packet Block on <paramref name="interfaceId"/>: the frame cut to the snap length (an empty
    /// frame makes a comment-only block), its time in ns since the Unix epoch (before it: 0), <c>epb_flags</c> with the
    /// direction and reception type (none when both are unknown) and one <c>opt_comment</c> per comment.
    /// </summary>
    public void WritePacket(int interfaceId, ReadOnlySpan<byte> frame, long unixNs, PacketDirection direction = PacketDirection.Unknown,
        ReceptionType reception = ReceptionType.NotSpecified, IReadOnlyList<string>? comments = null, int? originalLength = null)
    {
        ThrowIfDisposed();
        if ((uint)interfaceId >= (uint)_interfaces) throw new ArgumentOutOfRangeException(nameof(interfaceId), "no such interface described");
        ulong ts = unixNs <= 0 ? 0 : _tsresol == TsresolNanoseconds ? (ulong)unixNs : (ulong)(unixNs / 1000);
        int caplen = Math.Min(frame.Length, SnapLength);
        Span<byte> head = stackalloc byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)interfaceId);
        BinaryPrimitives.WriteUInt32LittleEndian(head[4..], (uint)(ts >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(head[8..], (uint)ts);
        BinaryPrimitives.WriteUInt32LittleEndian(head[12..], (uint)caplen);
        BinaryPrimitives.WriteUInt32LittleEndian(head[16..], (uint)Math.Max(caplen, originalLength ?? frame.Length));
        Begin(head);
        _block.Write(frame[..caplen]);
        Pad(caplen);
        if (comments is not null)
            foreach (var c in comments) Option(OptComment, Encoding.UTF8.GetBytes(c));
        if (direction != PacketDirection.Unknown || reception != ReceptionType.NotSpecified)
        {
            Span<byte> flags = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(flags, (uint)direction | (uint)reception << 2);
            Option(OptEpbFlags, flags);
        }
        End(BlockEnhancedPacket);
        PacketsWritten++;
    }


    // A block is built in _block (type and length first, as placeholders), then its total length is filled in.
    private void Begin(ReadOnlySpan<byte> body)
    {
        _block.SetLength(0);
        _options = false;
        Span<byte> hdr = stackalloc byte[8];
        _block.Write(hdr);
        _block.Write(body);
    }

    private void Option(ushort code, ReadOnlySpan<byte> value)
    {
        // An option's value is at most 65535 bytes; a longer comment is cut (never at a block's expense).
        if (value.Length > ushort.MaxValue - 3) value = value[..(ushort.MaxValue - 3)];
        Span<byte> h = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(h, code);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], (ushort)value.Length);
        _block.Write(h);
        _block.Write(value);
        Pad(value.Length);
        _options = true;
    }

    private void Pad(int length)
    {
        int pad = (4 - length % 4) % 4;
        for (int i = 0; i < pad; i++) _block.WriteByte(0);
    }

    private void End(uint type)
    {
        if (_options) // opt_endofopt closes the options
        {
            Span<byte> eoo = stackalloc byte[4];
            eoo.Clear();
            _block.Write(eoo);
        }
        uint total = (uint)_block.Length + 4;
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, total);
        _block.Write(tail);
        var buf = _block.GetBuffer().AsSpan(0, (int)_block.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(buf, type);
        BinaryPrimitives.WriteUInt32LittleEndian(buf[4..], total);
        Stream.Write(buf);
    }
}
