using System.Buffers.Binary;
using System.Collections.Immutable;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Hardware.Netem;

/// <summary>
/// Conditional faults on one wire: each frame is parsed (Ethernet, then ARP or IPv4 and its UDP/TCP/ICMP
/// header) and offered to every rule of its direction; a rule counts the frames it matches and selects the
/// <see cref="FaultRule.Nth"/> one, or every <see cref="FaultRule.Every"/>-th one, or all. The first rule (in
/// configuration order) that selects a frame decides its fate; the others still count it, so ordinals always
/// count the matching frames offered to the wire. A frame too short or malformed to parse matches only rules
/// without conditions (proto any, no addresses); it never throws.
/// </summary>
public sealed class FaultMatcher
{
    private readonly ImmutableArray<FaultRule> _rules;
    private readonly long[] _matched;
    private readonly long[] _fired;

    public FaultMatcher(ImmutableArray<FaultRule> rules)
    {
        _rules = rules.IsDefault ? [] : rules;
        _matched = new long[_rules.Length];
        _fired = new long[_rules.Length];
    }

    public ImmutableArray<FaultRule> Rules => _rules;
    public bool IsEmpty => _rules.Length == 0;
    /// <summary>Frames rule <paramref name="i"/> matched so far.</summary>
    public long Matched(int i) => _matched[i];
    /// <summary>Frames rule <paramref name="i"/> selected (and acted on, unless an earlier rule acted first).</summary>
    public long Fired(int i) => _fired[i];

    /// <summary>The rule that acts on this frame, or null.</summary>
    public FaultRule? Select(ReadOnlySpan<byte> frame, WireDirection direction)
    {
        if (_rules.Length == 0) return null;
        var h = Headers.Parse(frame);
        FaultRule? chosen = null;
        for (int i = 0; i < _rules.Length; i++)
        {
            var r = _rules[i];
            if (r.Direction is { } d && d != direction) continue;
            if (!Matches(r.Match, h)) continue;
            long n = ++_matched[i];
            bool selected = r.Nth > 0 ? n == r.Nth : r.Every <= 1 || n % r.Every == 0;
            if (!selected) continue;
            _fired[i]++;
            chosen ??= r;
        }
        return chosen;
    }

    private static bool Matches(FaultMatch m, in Headers h)
    {
        switch (m.Proto)
        {
            case FaultProto.Arp when h.Kind != FaultProto.Arp:
            case FaultProto.Icmp or FaultProto.Udp or FaultProto.Tcp when h.Kind != m.Proto:
                return false;
        }
        if (m.Src is { } src && (!h.HasAddresses || !src.Contains(h.Src))) return false;
        if (m.Dst is { } dst && (!h.HasAddresses || !dst.Contains(h.Dst))) return false;
        if (m.Sport is { } sp && (!h.HasPorts || h.Sport != sp)) return false;
        if (m.Dport is { } dp && (!h.HasPorts || h.Dport != dp)) return false;
        if (m.TcpFlagsMask != TcpFlags.None && (!h.HasPorts || (h.TcpFlags & m.TcpFlagsMask) != m.TcpFlags)) return false;
        if (m.ArpOp is { } op && h.ArpOp != op) return false;
        if (m.IcmpType is { } it && (!h.HasIcmp || h.IcmpType != it)) return false;
        if (m.TcpSeqFirst is { } first && (!h.HasPorts || h.Kind != FaultProto.Tcp || !InSeqRange(h.TcpSeq, first, m.TcpSeqLast ?? first)))
            return false;
        return true;
    }

    /// <summary>
    /// <paramref name="seq"/> within [<paramref name="first"/>, <paramref name="last"/>] in sequence space
    /// (modulo 2^32, as <c>before()</c>/<c>after()</c> compare): a range may wrap past 2^32.
    /// </summary>
    public static bool InSeqRange(uint seq, uint first, uint last) => seq - first <= last - first;

    /// <summary>
    /// What a rule can test, read once per frame. <see cref="Kind"/> is Any for anything but ARP, ICMP, UDP and TCP;
    /// <see cref="HasAddresses"/> for ARP and every IPv4 packet.
    /// </summary>
    private readonly record struct Headers(FaultProto Kind, bool HasAddresses, Ipv4Address Src, Ipv4Address Dst, bool HasPorts, ushort Sport,
        ushort Dport, TcpFlags TcpFlags, ushort ArpOp, bool HasIcmp, byte IcmpType, uint TcpSeq = 0)
    {
        public static Headers Parse(ReadOnlySpan<byte> f)
        {
            if (f.Length < EthernetHeader.Length) return default;
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(f[12..]);
            var p = f[EthernetHeader.Length..];
            if (type == 0x0806)
            {
                // arp_hdr: hrd, pro, hln, pln, op, then sha/spa/tha/tpa for Ethernet + IPv4.
                if (p.Length < 28 || p[4] != 6 || p[5] != 4) return default;
                return new Headers(FaultProto.Arp, true, Ipv4Address.Read(p[14..]), Ipv4Address.Read(p[24..]), false, 0, 0, 0,
                    BinaryPrimitives.ReadUInt16BigEndian(p[6..]), false, 0);
            }
            if (type != 0x0800 || p.Length < Ipv4Header.MinLength || p[0] >> 4 != 4) return default;
            int ihl = (p[0] & 0x0F) * 4;
            if (ihl < Ipv4Header.MinLength || p.Length < ihl) return default;
            var src = Ipv4Address.Read(p[12..]);
            var dst = Ipv4Address.Read(p[16..]);
            bool firstFragment = (BinaryPrimitives.ReadUInt16BigEndian(p[6..]) & 0x1FFF) == 0;
            var l4 = p[ihl..];
            var kind = p[9] switch { 1 => FaultProto.Icmp, 6 => FaultProto.Tcp, 17 => FaultProto.Udp, _ => FaultProto.Any };
            bool ports = firstFragment && kind != FaultProto.Icmp && l4.Length >= (kind == FaultProto.Tcp ? 20 : 8);
            bool icmp = firstFragment && kind == FaultProto.Icmp && l4.Length >= 1;
            return new Headers(kind, true, src, dst, ports,
                ports ? BinaryPrimitives.ReadUInt16BigEndian(l4) : (ushort)0,
                ports ? BinaryPrimitives.ReadUInt16BigEndian(l4[2..]) : (ushort)0,
                ports && kind == FaultProto.Tcp ? (TcpFlags)l4[13] : TcpFlags.None,
                0, icmp, icmp ? l4[0] : (byte)0,
                ports && kind == FaultProto.Tcp ? BinaryPrimitives.ReadUInt32BigEndian(l4[4..]) : 0u);
        }
    }
}
