using System.Buffers.Binary;
using System.Text;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Differential;

/// <summary>
/// The frames of the differential suite: builders over the wire layer (<see cref="EthernetHeader"/>,
/// <see cref="Ipv4Header"/>, <see cref="UdpHeader"/>, <see cref="IcmpPacket"/>, <see cref="TcpHeaderWriter"/>) that
/// also make damaged packets, and <see cref="Describe"/>, which turns an answering frame into one line with what
/// legitimately differs between two stacks normalised: MACs are named by role, IP IDs, TCP timestamp values and
/// transport checksums (which follow from ISNs and timestamps, and which veth leaves partial) are left out, a
/// victim's TCP sequence numbers are printed relative to the ISN of its SYN on that flow (cookies included).
/// </summary>
public static class DiffFrames
{
    public static readonly MacAddress TesterMac = MacAddress.Parse("02:00:00:00:00:01");
    public static readonly MacAddress VictimMac = MacAddress.Parse("02:00:00:00:00:02");
    public static readonly Ipv4Address VictimIp = Ipv4Address.Parse("192.0.2.2");
    public static readonly Ipv4Address Subnet = Ipv4Address.Parse("192.0.2.0");

    /// <summary>An Ethernet frame: header and <paramref name="payload"/> (no padding: both links carry short frames).</summary>
    public static byte[] Eth(ReadOnlySpan<byte> payload, ushort etherType = EtherType.Ipv4, MacAddress? dst = null, MacAddress? src = null)
    {
        var f = new byte[EthernetHeader.Length + payload.Length];
        EthernetHeader.Write(f, dst ?? VictimMac, src ?? TesterMac, etherType);
        payload.CopyTo(f.AsSpan(EthernetHeader.Length));
        return f;
    }

    /// <summary>
    /// An IPv4 packet: a header with <paramref name="options"/> (padded to a word by the caller) and its checksum,
    /// then <paramref name="payload"/>. <paramref name="damage"/> runs after the checksum is filled (so a damaged
    /// field keeps a checksum that was right before) unless <paramref name="recheck"/>, which fills it again.
    /// </summary>
    public static byte[] Ip(Ipv4Address src, Ipv4Address dst, byte protocol, ReadOnlySpan<byte> payload, byte ttl = 64,
        ushort id = 0x1234, ushort flagsAndOffset = 0, byte tos = 0, byte[]? options = null, Action<byte[]>? damage = null, bool recheck = false)
    {
        int hl = Ipv4Header.MinLength + (options?.Length ?? 0);
        var p = new byte[hl + payload.Length];
        Ipv4Header.Write(p, p.Length, id, flagsAndOffset, ttl, protocol, src, dst, tos);
        if (options is not null)
        {
            p[0] = (byte)(0x40 | hl / 4);
            options.CopyTo(p, Ipv4Header.MinLength);
        }
        payload.CopyTo(p.AsSpan(hl));
        FillIpChecksum(p, hl);
        if (damage is not null)
        {
            damage(p);
            if (recheck) FillIpChecksum(p, Math.Min(p.Length, (p[0] & 0xF) * 4));
        }
        return p;
    }

    public static void FillIpChecksum(byte[] p, int headerLength)
    {
        p[10] = 0; p[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, Math.Max(20, headerLength))));
    }

    /// <summary>A UDP datagram (header and payload) with its checksum.</summary>
    public static byte[] Udp(Ipv4Address src, Ipv4Address dst, ushort sport, ushort dport, ReadOnlySpan<byte> payload)
    {
        var d = new byte[UdpHeader.Length + payload.Length];
        payload.CopyTo(d.AsSpan(UdpHeader.Length));
        UdpHeader.Write(d, sport, dport, src, dst);
        return d;
    }

    /// <summary>A TCP segment with <paramref name="options"/> (padded to a word here) and its checksum.</summary>
    public static byte[] Tcp(Ipv4Address src, Ipv4Address dst, ushort sport, ushort dport, uint seq, uint ack, TcpFlags flags,
        ushort window = 29200, byte[]? options = null, ReadOnlySpan<byte> payload = default, ushort urgent = 0)
    {
        int ol = ((options?.Length ?? 0) + 3) & ~3;
        int hl = TcpHeader.MinLength + ol;
        var s = new byte[hl + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(s, sport);
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(s.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(s.AsSpan(8), ack);
        s[12] = (byte)(hl / 4 << 4);
        s[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(14), window);
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(18), urgent);
        options?.CopyTo(s, TcpHeader.MinLength);
        payload.CopyTo(s.AsSpan(hl));
        new TcpHeaderWriter(s).FillChecksum(src.Value, dst.Value);
        return s;
    }

    /// <summary>TCP options: MSS, SACK permitted, timestamps (val, ecr), NOP, window scale — Linux's SYN layout.</summary>
    public static byte[] SynOptions(ushort mss = 1460, bool sack = true, uint? tsVal = 1000, byte? wscale = 7)
    {
        var o = new List<byte> { 2, 4, (byte)(mss >> 8), (byte)mss };
        if (sack && tsVal is null) o.AddRange([1, 1, 4, 2]);
        else if (sack) o.AddRange([4, 2]);
        if (tsVal is { } v)
        {
            if (!sack) o.AddRange([1, 1]);
            o.AddRange([8, 10, (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v, 0, 0, 0, 0]);
        }
        if (wscale is { } w) o.AddRange([1, 3, 3, w]);
        return [.. o];
    }

    /// <summary>NOP, NOP, timestamps (val, ecr): the options of every segment after a handshake with timestamps.</summary>
    public static byte[] TsOptions(uint val, uint ecr)
        => [1, 1, 8, 10, (byte)(val >> 24), (byte)(val >> 16), (byte)(val >> 8), (byte)val, (byte)(ecr >> 24), (byte)(ecr >> 16), (byte)(ecr >> 8), (byte)ecr];

    /// <summary><paramref name="n"/> bytes 0, 1, 2, … (mod 251).</summary>
    public static byte[] Bytes(int n, int start = 0)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte)((start + i) % 251);
        return b;
    }

    /// <summary>The TCP header of an IPv4 frame, or null.</summary>
    public static (ushort Sport, ushort Dport, uint Seq, uint Ack, TcpFlags Flags, ushort Window, uint? TsVal, int Len)? TcpOf(byte[] frame)
    {
        if (frame.Length < 34 || BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) != EtherType.Ipv4) return null;
        var ip = frame.AsSpan(14);
        if (ip[9] != IpProtocol.Tcp) return null;
        int hl = (ip[0] & 0xF) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (ip.Length < hl + 20 || total > ip.Length) return null;
        var t = ip[hl..total];
        int thl = (t[12] >> 4) * 4;
        uint? ts = null;
        int at = TcpHeader.FindTimestamp(t[20..Math.Min(thl, t.Length)]);
        if (at >= 0) ts = BinaryPrimitives.ReadUInt32BigEndian(t[(20 + at + 2)..]);
        return (BinaryPrimitives.ReadUInt16BigEndian(t), BinaryPrimitives.ReadUInt16BigEndian(t[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(t[4..]), BinaryPrimitives.ReadUInt32BigEndian(t[8..]), (TcpFlags)t[13],
            BinaryPrimitives.ReadUInt16BigEndian(t[14..]), ts, t.Length - thl);
    }

    private static string Mac(MacAddress m) => m == TesterMac ? "tester" : m == VictimMac ? "victim" : m == MacAddress.Broadcast ? "bcast" : m == MacAddress.Zero ? "zero" : "other";

    /// <summary>
    /// One normalised line for a frame the victim sent. <paramref name="isns"/> holds the victim's ISN per flow
    /// (victim port, tester port), learnt here from its SYNs.
    /// </summary>
    public static string Describe(byte[] frame, Dictionary<(ushort, ushort), uint> isns)
    {
        if (!EthernetHeader.TryRead(frame, out var eth)) return $"runt {frame.Length}";
        var head = $"{Mac(eth.Source)}>{Mac(eth.Destination)}";
        var body = frame.AsSpan(EthernetHeader.Length);
        if (eth.EtherType == EtherType.Arp)
        {
            if (!ArpPacket.TryRead(body, out var a, out _)) return $"{head} arp malformed";
            return $"{head} arp op={a.Operation} {a.SenderIp} is-at {Mac(a.SenderMac)} to {a.TargetIp} {Mac(a.TargetMac)}";
        }
        if (eth.EtherType != EtherType.Ipv4) return $"{head} ethertype 0x{eth.EtherType:x4} len={body.Length}";
        if (body.Length < 20) return $"{head} ip short {body.Length}";
        int hl = (body[0] & 0xF) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(body[2..]);
        var sb = new StringBuilder($"{head} ip {Ipv4Address.Read(body[12..])}>{Ipv4Address.Read(body[16..])} v{body[0] >> 4} hl={hl} tos=0x{body[1]:x2} len={total}");
        ushort fo = BinaryPrimitives.ReadUInt16BigEndian(body[6..]);
        if ((fo & Ipv4Header.FlagDf) != 0) sb.Append(" DF");
        if ((fo & Ipv4Header.FlagMf) != 0) sb.Append(" MF");
        if ((fo & Ipv4Header.OffsetMask) != 0) sb.Append($" off={(fo & Ipv4Header.OffsetMask) * 8}");
        sb.Append($" ttl={body[8]}");
        if (hl > 20 && hl <= body.Length) sb.Append($" opts={Convert.ToHexString(body[20..hl])}");
        if (hl < 20 || hl > body.Length || Checksum.Compute(body[..hl]) != 0) sb.Append(" ipcsum=BAD");
        if (total > body.Length || total < hl) return sb.Append(" truncated").ToString();
        if (body.Length > total) sb.Append($" trailer={body.Length - total}");
        var l4 = body[hl..total];
        if ((fo & (Ipv4Header.OffsetMask | Ipv4Header.FlagMf)) != 0) return sb.Append($" frag proto={body[9]} {l4.Length}B").ToString();
        switch (body[9])
        {
            case IpProtocol.Icmp:
                if (l4.Length < 8) return sb.Append(" icmp short").ToString();
                sb.Append($" icmp t={l4[0]} c={l4[1]}");
                if (Checksum.Compute(l4) != 0) sb.Append(" icmpcsum=BAD");
                if (l4[0] is IcmpType.EchoReply or 14) // echo reply, timestamp reply (times are clocks: length only)
                    sb.Append($" id={BinaryPrimitives.ReadUInt16BigEndian(l4[4..])} seq={BinaryPrimitives.ReadUInt16BigEndian(l4[6..])} data={(l4[0] == 14 ? $"{l4.Length - 8}B" : Hex(l4[8..]))}");
                else
                    sb.Append($" rest=0x{BinaryPrimitives.ReadUInt32BigEndian(l4[4..]):x8} quote={Quote(l4[8..])}");
                break;
            case IpProtocol.Udp:
                if (l4.Length < 8) return sb.Append(" udp short").ToString();
                sb.Append($" udp {BinaryPrimitives.ReadUInt16BigEndian(l4)}>{BinaryPrimitives.ReadUInt16BigEndian(l4[2..])} ulen={BinaryPrimitives.ReadUInt16BigEndian(l4[4..])} data={Hex(l4[8..])}");
                break;
            case IpProtocol.Tcp:
                if (l4.Length < 20) return sb.Append(" tcp short").ToString();
                AppendTcp(sb, l4, isns);
                break;
            default:
                sb.Append($" proto={body[9]} {l4.Length}B");
                break;
        }
        return sb.ToString();
    }

    /// <summary>An ICMP error's quote: the offending IP header (the tester's; its checksum, which follows from the case's address, as "....") and what follows.</summary>
    private static string Quote(ReadOnlySpan<byte> q)
    {
        if (q.Length < 12) return $"{q.Length}B:{Hex(q)}";
        var copy = q.ToArray();
        copy[10] = 0xEE; copy[11] = 0xEE;
        return $"{q.Length}B:{Hex(copy)}";
    }

    private static string Hex(ReadOnlySpan<byte> b) => b.Length <= 48 ? Convert.ToHexString(b) : $"{b.Length}B:{Convert.ToHexString(b[..16])}..{Convert.ToHexString(b[^8..])}";

    private static void AppendTcp(StringBuilder sb, ReadOnlySpan<byte> t, Dictionary<(ushort, ushort), uint> isns)
    {
        ushort sp = BinaryPrimitives.ReadUInt16BigEndian(t), dp = BinaryPrimitives.ReadUInt16BigEndian(t[2..]);
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(t[4..]), ack = BinaryPrimitives.ReadUInt32BigEndian(t[8..]);
        var flags = (TcpFlags)t[13];
        int thl = (t[12] >> 4) * 4;
        if ((flags & TcpFlags.Syn) != 0) isns[(sp, dp)] = seq;
        string s = isns.TryGetValue((sp, dp), out var isn) ? $"isn+{seq - isn}" : seq.ToString();
        sb.Append($" tcp {sp}>{dp} [{FlagString(flags)}] seq={s}");
        if ((flags & TcpFlags.Ack) != 0) sb.Append($" ack={ack}");
        sb.Append($" win={BinaryPrimitives.ReadUInt16BigEndian(t[14..])}");
        if (t[18] != 0 || t[19] != 0) sb.Append($" urp={BinaryPrimitives.ReadUInt16BigEndian(t[18..])}");
        if (thl > 20 && thl <= t.Length) sb.Append($" opts=[{Options(t[20..thl])}]");
        sb.Append($" len={t.Length - Math.Clamp(thl, 20, t.Length)}");
    }

    public static string FlagString(TcpFlags f)
    {
        var s = new StringBuilder();
        if ((f & TcpFlags.Syn) != 0) s.Append('S');
        if ((f & TcpFlags.Fin) != 0) s.Append('F');
        if ((f & TcpFlags.Rst) != 0) s.Append('R');
        if ((f & TcpFlags.Psh) != 0) s.Append('P');
        if ((f & TcpFlags.Urg) != 0) s.Append('U');
        if ((f & TcpFlags.Ece) != 0) s.Append('E');
        if ((f & TcpFlags.Cwr) != 0) s.Append('W');
        if ((f & TcpFlags.Ack) != 0) s.Append('.');
        return s.ToString();
    }

    private static string Options(ReadOnlySpan<byte> o)
    {
        var parts = new List<string>();
        for (int i = 0; i < o.Length;)
        {
            byte k = o[i];
            if (k == 0) { parts.Add("eol"); break; }
            if (k == 1) { parts.Add("nop"); i++; continue; }
            if (i + 1 >= o.Length || o[i + 1] < 2 || i + o[i + 1] > o.Length) { parts.Add($"bad{k}"); break; }
            var v = o.Slice(i + 2, o[i + 1] - 2);
            parts.Add(k switch
            {
                2 when v.Length == 2 => $"mss {BinaryPrimitives.ReadUInt16BigEndian(v)}",
                3 when v.Length == 1 => $"ws {v[0]}",
                4 => "sackOK",
                5 => $"sack {v.Length / 8}",
                8 when v.Length == 8 => $"ts ecr {BinaryPrimitives.ReadUInt32BigEndian(v[4..])}",
                _ => $"opt{k}:{Convert.ToHexString(v)}",
            });
            i += o[i + 1];
        }
        return string.Join(',', parts);
    }
}
