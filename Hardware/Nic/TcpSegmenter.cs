using System.Buffers.Binary;
using ActorStack.Messages.Packets;

namespace ActorStack.Hardware.Nic;

/// <summary>
/// TCP segmentation of a GSO super-packet (TSO in the NIC, or <c>skb_gso_segment</c> →
/// <c>inet_gso_segment</c> / <c>tcp_gso_segment</c> in software): an Ethernet frame carrying IPv4 + TCP
/// with more payload than one segment is cut into frames of <c>gso_size</c> payload bytes. Each frame gets
/// a copy of the Ethernet, IP and TCP headers; the IP id grows by one per frame, the total length and
/// header checksum are rewritten; the sequence number advances by the payload before it; CWR stays only on
/// the first frame, PSH and FIN only on the last (<c>tcp_gso_segment</c>); each TCP checksum is computed in full.
/// </summary>
public static class TcpSegmenter
{
    private const int EthLen = 14;

    /// <summary>
    /// The network length of each segment a super-packet turns into (IP header + TCP header + <paramref name="gsoSize"/>),
    /// as <c>skb_gso_validate_network_len</c> checks it against the MTU; int.MaxValue if it is not IPv4/TCP.
    /// </summary>
    public static int SegmentNetworkLength(ReadOnlySpan<byte> ipPacket, int gsoSize)
    {
        if (ipPacket.Length < 20 || ipPacket[0] >> 4 != 4 || ipPacket[9] != IpProtocol.Tcp) return int.MaxValue;
        int ihl = (ipPacket[0] & 0xF) * 4;
        if (ipPacket.Length < ihl + 20) return int.MaxValue;
        return ihl + (ipPacket[ihl + 12] >> 4) * 4 + gsoSize;
    }

    /// <summary>Segments the frame will be cut into (<c>gso_segs</c>): payload / gso_size rounded up; 0 if it is not cuttable.</summary>
    public static int Count(ReadOnlySpan<byte> frame, int gsoSize)
    {
        if (!TryHeaders(frame, gsoSize, out _, out int hdr)) return 0;
        int payload = frame.Length - hdr;
        return payload <= 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
    }

    private static bool TryHeaders(ReadOnlySpan<byte> frame, int gsoSize, out int ihl, out int hdr)
    {
        ihl = hdr = 0;
        if (gsoSize <= 0 || frame.Length < EthLen + 40) return false;
        var ip = frame[EthLen..];
        if (ip[0] >> 4 != 4 || ip[9] != IpProtocol.Tcp) return false;
        ihl = (ip[0] & 0xF) * 4;
        if (ihl < 20 || ip.Length < ihl + 20) return false;
        int doff = (ip[ihl + 12] >> 4) * 4;
        if (doff < 20 || ip.Length < ihl + doff) return false;
        if (BinaryPrimitives.ReadUInt16BigEndian(ip[2..]) != ip.Length) return false;
        hdr = EthLen + ihl + doff;
        return true;
    }

    /// <summary>
    /// Cuts <paramref name="frame"/> into frames of at most <paramref name="gsoSize"/> payload bytes, appended to
    /// <paramref name="output"/> (slices of one new array). Returns the number of frames, or 0 when the frame
    /// is not IPv4/TCP with consistent lengths (the caller drops it).
    /// </summary>
    public static int Segment(ReadOnlySpan<byte> frame, int gsoSize, List<ReadOnlyMemory<byte>> output)
    {
        if (!TryHeaders(frame, gsoSize, out int ihl, out int hdr)) return 0;
        int payload = frame.Length - hdr;
        int n = payload <= 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
        var ip0 = frame[EthLen..];
        ushort id0 = BinaryPrimitives.ReadUInt16BigEndian(ip0[4..]);
        uint seq0 = BinaryPrimitives.ReadUInt32BigEndian(ip0[(ihl + 4)..]);
        byte flags0 = ip0[ihl + 13];
        uint src = BinaryPrimitives.ReadUInt32BigEndian(ip0[12..]);
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(ip0[16..]);
        int off = hdr;
        // All frames in one array (every byte written below), so large sends cost one allocation, not one per segment.
        var block = GC.AllocateUninitializedArray<byte>(n * hdr + Math.Max(payload, 0));
        int at = 0;
        for (int i = 0; i < n; i++)
        {
            int len = Math.Min(gsoSize, frame.Length - off);
            var f = block.AsSpan(at, hdr + len);
            frame[..hdr].CopyTo(f);
            frame.Slice(off, len).CopyTo(f[hdr..]);
            var ip = f[EthLen..];
            int ipLen = ihl + (hdr - EthLen - ihl) + len;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)ipLen);
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(id0 + i));
            ip[10] = 0; ip[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..ihl]));
            var tcp = ip[ihl..ipLen];
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq0 + (uint)(off - hdr));
            byte flags = flags0;
            if (i > 0) flags &= unchecked((byte)~(byte)TcpFlags.Cwr);
            if (i < n - 1) flags &= unchecked((byte)~(byte)(TcpFlags.Psh | TcpFlags.Fin));
            tcp[13] = flags;
            tcp[16] = 0; tcp[17] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(tcp[16..],
                Checksum.Fold(Checksum.Partial(tcp, Checksum.PseudoHeader(src, dst, IpProtocol.Tcp, tcp.Length))));
            output.Add(block.AsMemory(at, hdr + len));
            at += hdr + len;
            off += len;
        }
        return n;
    }
}
