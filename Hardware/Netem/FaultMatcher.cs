using System.Collections.Immutable;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Hardware.Netem;

/// <summary>
/// Conditional faults on one wire: each frame is dissected once (<see cref="FlowKeys.Dissect"/>: Ethernet, then
/// ARP or IPv4 and its UDP/TCP/ICMP header) and offered to every rule of its direction; a rule counts the frames it matches and selects the
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

    /// <summary>The position in <see cref="Rules"/> of the rule the last <see cref="Select"/> chose; -1 when none.</summary>
    public int LastSelected { get; private set; } = -1;

    /// <summary>The rule that acts on this frame, or null.</summary>
    public FaultRule? Select(ReadOnlySpan<byte> frame, WireDirection direction)
    {
        LastSelected = -1;
        if (_rules.Length == 0) return null;
        var h = FlowKeys.Dissect(frame, FlowDissectorFlags.Parse1stFrag);
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
            if (chosen is null) LastSelected = i;
            chosen ??= r;
        }
        return chosen;
    }

    /// <summary>
    /// A rule's conditions over the dissected frame. A rule's protocol is ARP, or the IPv4 protocol ICMP/UDP/TCP;
    /// addresses are ARP's sender/target IP or IPv4's source/destination; ports, TCP flags and the sequence number
    /// need the whole UDP (8-byte) or TCP (20-byte) header of a non-fragment or first fragment; an ICMP type needs
    /// its byte.
    /// </summary>
    private static bool Matches(FaultMatch m, in FlowKeys h)
    {
        var kind = KindOf(h);
        switch (m.Proto)
        {
            case FaultProto.Arp when kind != FaultProto.Arp:
            case FaultProto.Icmp or FaultProto.Udp or FaultProto.Tcp when kind != m.Proto:
                return false;
        }
        bool hasAddresses = h.IsIpv4 || h.IsArp;
        bool hasPorts = h.HasPorts && h.L4Length >= (kind == FaultProto.Tcp ? TcpHeader.MinLength : UdpHeader.Length);
        if (m.Src is { } src && (!hasAddresses || !src.Contains(h.Src))) return false;
        if (m.Dst is { } dst && (!hasAddresses || !dst.Contains(h.Dst))) return false;
        if (m.Sport is { } sp && (!hasPorts || h.SrcPort != sp)) return false;
        if (m.Dport is { } dp && (!hasPorts || h.DstPort != dp)) return false;
        if (m.TcpFlagsMask != TcpFlags.None && (!hasPorts || (h.TcpFlags & m.TcpFlagsMask) != m.TcpFlags)) return false;
        if (m.ArpOp is { } op && h.ArpOp != op) return false;
        if (m.IcmpType is { } it && (!h.HasIcmp || h.IcmpType != it)) return false;
        if (m.TcpSeqFirst is { } first && (!h.HasTcpHeader || !InSeqRange(h.TcpSeq, first, m.TcpSeqLast ?? first)))
            return false;
        return true;
    }

    /// <summary>The rule protocol a frame is: ARP, ICMP, UDP, TCP, or Any for anything else (and for what did not parse).</summary>
    private static FaultProto KindOf(in FlowKeys h)
    {
        if (h.IsArp) return FaultProto.Arp;
        if (!h.IsIpv4) return FaultProto.Any;
        return h.Protocol switch
        {
            IpProtocol.Icmp => FaultProto.Icmp,
            IpProtocol.Tcp => FaultProto.Tcp,
            IpProtocol.Udp => FaultProto.Udp,
            _ => FaultProto.Any,
        };
    }

    /// <summary>
    /// <paramref name="seq"/> within [<paramref name="first"/>, <paramref name="last"/>] in sequence space
    /// (modulo 2^32, as <c>before()</c>/<c>after()</c> compare): a range may wrap past 2^32.
    /// </summary>
    public static bool InSeqRange(uint seq, uint first, uint last) => seq - first <= last - first;
}
