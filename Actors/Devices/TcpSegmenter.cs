using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Devices;

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
    private const int EthLen = EthernetHeader.Length;

    /// <summary>
    /// The network length of each segment a super-packet turns into (IP header + TCP header + <paramref name="gsoSize"/>),
    /// as <c>skb_gso_validate_network_len</c> checks it against the MTU; int.MaxValue if it is not IPv4/TCP.
    /// </summary>
    public static int SegmentNetworkLength(ReadOnlySpan<byte> ipPacket, int gsoSize)
    {
        if (!Ipv4Header.TryRead(ipPacket, out var ip) || ip.Version != 4 || ip.Protocol != IpProtocol.Tcp) return int.MaxValue;
        int ihl = ip.HeaderLength;
        if (ipPacket.Length < ihl + TcpHeader.MinLength || !TcpHeader.TryRead(ipPacket[ihl..], out var th)) return int.MaxValue;
        return ihl + th.HeaderLength + gsoSize;
    }

    /// <summary>Segments the frame will be cut into (<c>gso_segs</c>): payload / gso_size rounded up; 0 if it is not cuttable.</summary>
    public static int Count(ReadOnlySpan<byte> frame, int gsoSize)
    {
        if (!TryHeaders(frame, gsoSize, out _, out _, out int hdr)) return 0;
        int payload = frame.Length - hdr;
        return payload <= 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
    }

    /// <summary>
    /// <c>inet_gso_segment</c> / <c>tcp_gso_segment</c>'s checks: a well-formed IPv4 header carrying TCP with a sane
    /// data offset, and a total length that is exactly the rest of the frame. <paramref name="hdr"/>: Ethernet + IP + TCP header bytes.
    /// </summary>
    private static bool TryHeaders(ReadOnlySpan<byte> frame, int gsoSize, out Ipv4Header ip, out TcpHeader th, out int hdr)
    {
        th = default;
        hdr = 0;
        if (gsoSize <= 0 || frame.Length < EthLen + Ipv4Header.MinLength + TcpHeader.MinLength
            || !Ipv4Header.TryReadWellFormed(frame[EthLen..], out ip) || ip.Protocol != IpProtocol.Tcp)
        {
            ip = default;
            return false;
        }
        if (!TcpHeader.TryRead(ip.Payload, out th) || !th.DataOffsetValid) return false;
        if (ip.TotalLength != frame.Length - EthLen) return false;
        hdr = EthLen + ip.HeaderLength + th.HeaderLength;
        return true;
    }

    /// <summary>
    /// Cuts <paramref name="frame"/> into frames of at most <paramref name="gsoSize"/> payload bytes, appended to
    /// <paramref name="output"/> (slices of one new array). Returns the number of frames, or 0 when the frame
    /// is not IPv4/TCP with consistent lengths (the caller drops it).
    /// </summary>
    public static int Segment(ReadOnlySpan<byte> frame, int gsoSize, List<ReadOnlyMemory<byte>> output)
    {
        if (!TryHeaders(frame, gsoSize, out var ip0, out var th0, out int hdr)) return 0;
        int ihl = ip0.HeaderLength;
        int payload = frame.Length - hdr;
        int n = payload <= 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
        ushort id0 = ip0.Id;
        var seq0 = th0.Seq;
        var flags0 = th0.Flags;
        uint src = ip0.SourceValue;
        uint dst = ip0.DestinationValue;
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
            int ipLen = hdr - EthLen + len;
            var ip = new Ipv4HeaderWriter(f[EthLen..]);
            ip.TotalLength = ipLen;
            ip.Id = (ushort)(id0 + i);
            ip.FillChecksum();
            var tcp = new TcpHeaderWriter(f.Slice(EthLen + ihl, ipLen - ihl));
            tcp.Seq = seq0 + (off - hdr);
            var flags = flags0;
            if (i > 0) flags &= ~TcpFlags.Cwr;
            if (i < n - 1) flags &= ~(TcpFlags.Psh | TcpFlags.Fin);
            tcp.Flags = flags;
            tcp.FillChecksum(src, dst);
            output.Add(block.AsMemory(at, hdr + len));
            at += hdr + len;
            off += len;
        }
        return n;
    }
}
