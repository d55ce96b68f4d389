using System.Buffers.Binary;
using System.Text;
using ActorStack.Hardware.Capture;

namespace ActorStack.Tests.Capture;

/// <summary>
/// The pcapng writer block by block (draft-ietf-opsawg-pcapng): the Section Header Block's bytes, an Interface
/// Description Block's name, description and <c>if_tsresol</c>, an Enhanced Packet Block's timestamp, lengths, padding,
/// <c>epb_flags</c> and comments; the reader back; classic pcap's nanosecond magic.
/// </summary>
public class PcapNgWriterTests
{
    // 2026-01-01T00:00:00Z plus 1.000000068 s: a frame's last bit after a 1 ms wire and 67.2 ns of line time, say.
    private const long T0 = 1_767_225_600_000_000_000L + 1_000_000_068L;

    [Fact]
    public void Constructor_WritesSectionHeaderBlock()
    {
        var ms = new MemoryStream();
        using (new PcapNgWriter(ms, leaveOpen: true)) { }
        var b = ms.ToArray();
        Assert.Equal(0x0A0D0D0Au, BinaryPrimitives.ReadUInt32LittleEndian(b));
        uint total = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4));
        Assert.Equal((uint)b.Length, total);
        Assert.Equal(8 + 16 + (4 + 12) + 4 + 4, b.Length); // header, body, shb_userappl (10 bytes + 2 pad), opt_endofopt, trailer
        Assert.Equal(0x1A2B3C4Du, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(12)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(14)));
        Assert.Equal(-1L, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(16)));
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(24)));   // shb_userappl
        Assert.Equal(10, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(26)));
        Assert.Equal("ActorStack", Encoding.UTF8.GetString(b, 28, 10));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0 }, b[38..44]);                 // padding, opt_endofopt
        Assert.Equal(total, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(b.Length - 4)));
    }

    [Fact]
    public void Interfaces_AndPackets_ReadBackWithNamesTsresolFlagsAndComments()
    {
        var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, snapLength: 100, leaveOpen: true))
        {
            Assert.Equal(0, w.AddInterface("h1/eth0", "h1 eth0 ifindex 2"));
            Assert.Equal(1, w.AddInterface("h2/eth0"));
            w.WritePacket(1, new byte[] { 1, 2, 3, 4, 5 }, T0, PacketDirection.Inbound, ReceptionType.Broadcast);
            w.WritePacket(0, Enumerable.Range(0, 300).Select(i => (byte)i).ToArray(), T0 + 1, PacketDirection.Outbound,
                comments: ["SKB_DROP_REASON_QDISC_DROP at eth0/qdisc", "second"]);
            w.WritePacket(1, ReadOnlySpan<byte>.Empty, T0 + 2, comments: ["cable cut on wire h1/eth0-h2/eth0"]);
            Assert.Equal(3, w.PacketsWritten);
            Assert.Throws<ArgumentOutOfRangeException>(() => w.WritePacket(2, new byte[1], T0));
        }
        var bytes = ms.ToArray();
        Assert.Equal(0, bytes.Length % 4);
        var f = PcapNgReader.Read(bytes);
        Assert.Equal("ActorStack", f.Application);
        Assert.Equal(["h1/eth0", "h2/eth0"], f.Interfaces.Select(i => i.Name));
        Assert.Equal(["h1 eth0 ifindex 2", null], f.Interfaces.Select(i => i.Description));
        Assert.All(f.Interfaces, i => Assert.Equal(((byte)9, (ushort)1, 100u, 1_000_000_000UL), (i.Tsresol, i.LinkType, i.SnapLength, i.UnitsPerSecond)));
        Assert.Equal(3, f.Packets.Length);

        var p0 = f.Packets[0];
        Assert.Equal((1, (ulong)T0, T0, 5u), (p0.InterfaceId, p0.Timestamp, p0.UnixNs, p0.OriginalLength));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, p0.Data);
        Assert.Equal(1u | 3u << 2, p0.Flags);
        Assert.Equal((PacketDirection.Inbound, ReceptionType.Broadcast), (p0.Direction, p0.Reception));
        Assert.Empty(p0.Comments);

        var p1 = f.Packets[1];
        Assert.Equal((0, T0 + 1, 100, 300u), (p1.InterfaceId, p1.UnixNs, p1.Data.Length, p1.OriginalLength));
        Assert.Equal(99, p1.Data[99]);
        Assert.Equal(PacketDirection.Outbound, p1.Direction);
        Assert.Equal(["SKB_DROP_REASON_QDISC_DROP at eth0/qdisc", "second"], p1.Comments.ToArray());

        var p2 = f.Packets[2];
        Assert.Equal((1, T0 + 2, 0, 0u, (uint?)null), (p2.InterfaceId, p2.UnixNs, p2.Data.Length, p2.OriginalLength, p2.Flags));
        Assert.Equal(["cable cut on wire h1/eth0-h2/eth0"], p2.Comments.ToArray());

        // The generic reader sees the same frames.
        var classic = PcapReader.Read(new MemoryStream(bytes)).ToList();
        Assert.Equal([5, 100, 0], classic.Select(r => r.Frame.Length));
        Assert.Equal(DateTime.UnixEpoch.Ticks + T0 / 100, classic[0].UtcTicks);
    }

    [Fact]
    public void EnhancedPacketBlock_LayoutIsExact()
    {
        var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, leaveOpen: true))
        {
            w.AddInterface("a");
            ms.SetLength(0);
            w.WritePacket(0, new byte[] { 9, 8, 7 }, 0x0000_0001_0000_0002L, PacketDirection.Outbound, comments: ["x"]);
        }
        var b = ms.ToArray();
        // 8 header + 20 fixed + 4 (3 bytes + 1 pad) + comment 4+4 + epb_flags 4+4 + endofopt 4 + trailer 4
        Assert.Equal(56, b.Length);
        Assert.Equal(6u, BinaryPrimitives.ReadUInt32LittleEndian(b));
        Assert.Equal(56u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8)));   // interface id
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(12)));  // ts high
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16)));  // ts low
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(20)));  // caplen
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24)));  // origlen
        Assert.Equal(new byte[] { 9, 8, 7, 0 }, b[28..32]);
        Assert.Equal(new byte[] { 1, 0, 1, 0, (byte)'x', 0, 0, 0 }, b[32..40]);   // opt_comment "x"
        Assert.Equal(new byte[] { 2, 0, 4, 0, 2, 0, 0, 0 }, b[40..48]);          // epb_flags: outbound
        Assert.Equal(new byte[] { 0, 0, 0, 0, 56, 0, 0, 0 }, b[48..56]);
    }

    [Fact]
    public void Microsecond_Tsresol_TruncatesToMicroseconds()
    {
        var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, nanoseconds: false, leaveOpen: true))
        {
            w.AddInterface("a");
            w.WritePacket(0, new byte[1], T0);
        }
        var f = PcapNgReader.Read(ms.ToArray());
        Assert.Equal(6, f.Interfaces[0].Tsresol);
        Assert.Equal((ulong)(T0 / 1000), f.Packets[0].Timestamp);
        Assert.Equal(T0 / 1000 * 1000, f.Packets[0].UnixNs);
    }

    [Fact]
    public void ClassicPcap_Nanoseconds_UsesNanosecondMagicAndFraction()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, 65535, leaveOpen: true, nanoseconds: true))
            w.WritePacketNs(new byte[] { 1, 2 }, T0);
        var b = ms.ToArray();
        Assert.Equal(0xa1b23c4du, BinaryPrimitives.ReadUInt32LittleEndian(b));
        Assert.Equal(1_767_225_601u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24)));
        Assert.Equal(68u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(28)));
        var rec = Assert.Single(PcapReader.Read(new MemoryStream(b)));
        Assert.Equal(DateTime.UnixEpoch.Ticks + T0 / 100, rec.UtcTicks);

        var us = new MemoryStream();
        using (var w = new PcapWriter(us, 65535, leaveOpen: true, nanoseconds: false))
            w.WritePacketNs(new byte[] { 1, 2 }, T0);
        Assert.Equal(0xa1b2c3d4u, BinaryPrimitives.ReadUInt32LittleEndian(us.ToArray()));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(us.ToArray().AsSpan(28))); // 68 ns is 0 µs
    }

    [Fact]
    public void Reader_MalformedOrTruncated_StopsWithoutThrowing()
    {
        var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, leaveOpen: true))
        {
            w.AddInterface("a");
            w.WritePacket(0, new byte[10], T0);
            w.WritePacket(0, new byte[10], T0 + 1);
        }
        var good = ms.ToArray();
        Assert.Equal(2, PcapNgReader.Read(good).Packets.Length);
        Assert.Single(PcapNgReader.Read(good.AsSpan(0, good.Length - 3)).Packets);          // last block cut
        var badLen = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badLen.AsSpan(good.Length - 4), 12);        // trailer disagrees
        Assert.Single(PcapNgReader.Read(badLen).Packets);
        Assert.Empty(PcapNgReader.Read(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }).Interfaces);
        Assert.Empty(PcapNgReader.Read(ReadOnlySpan<byte>.Empty).Packets);
    }
}
