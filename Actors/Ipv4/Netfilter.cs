using System.Collections.Immutable;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Ipv4;

/// <summary>The five netfilter hook points of IPv4 (<c>NF_INET_*</c>).</summary>
public enum NfHook { PreRouting, LocalIn, Forward, LocalOut, PostRouting }

public enum NfVerdict { Accept, Drop }

/// <summary>
/// A rule in a hook's chain, matched on the IPv4 header and the UDP/TCP ports;
/// null fields match anything. The first matching rule decides; none matching
/// accepts (the chain's policy).
/// </summary>
public sealed record NfRule(NfHook Hook, NfVerdict Verdict, Ipv4Prefix? Source = null, Ipv4Prefix? Destination = null,
    byte? Protocol = null, ushort? SourcePort = null, ushort? DestinationPort = null)
{
    public bool Matches(ReadOnlySpan<byte> ip)
    {
        if (!Ipv4Header.TryRead(ip, out var h)) return false;
        if (Source is { } s && !s.Contains(h.Source)) return false;
        if (Destination is { } d && !d.Contains(h.Destination)) return false;
        if (Protocol is { } p && h.Protocol != p) return false;
        if (SourcePort is null && DestinationPort is null) return true;
        if (h.Protocol is not (IpProtocol.Udp or IpProtocol.Tcp) || h.IsFragment && h.FragmentOffset != 0) return false;
        var l4 = ip[Math.Min(h.HeaderLength, ip.Length)..];
        if (l4.Length < 4) return false;
        if (SourcePort is { } sp && (l4[0] << 8 | l4[1]) != sp) return false;
        if (DestinationPort is { } dp && (l4[2] << 8 | l4[3]) != dp) return false;
        return true;
    }
}

/// <summary>
/// The rule tables of one host, immutable (replaced whole when a rule is added),
/// with a packet counter per rule as <c>iptables -L -v</c> shows.
/// </summary>
public sealed class Netfilter
{
    private ImmutableArray<NfRule> _rules = ImmutableArray<NfRule>.Empty;
    private long[] _hits = [];

    public ImmutableArray<NfRule> Rules => _rules;

    public void Add(NfRule rule)
    {
        var hits = new long[_hits.Length + 1];
        Array.Copy(_hits, hits, _hits.Length);
        _hits = hits;
        _rules = _rules.Add(rule);
    }

    public long Hits(int index) => Volatile.Read(ref _hits[index]);

    /// <summary><c>NF_HOOK</c>: the verdict for a packet (starting at its IP header) at a hook.</summary>
    public NfVerdict Run(NfHook hook, ReadOnlySpan<byte> ip)
    {
        var rules = _rules;
        var hits = _hits;
        for (int i = 0; i < rules.Length; i++)
        {
            if (rules[i].Hook != hook || !rules[i].Matches(ip)) continue;
            Interlocked.Increment(ref hits[i]);
            return rules[i].Verdict;
        }
        return NfVerdict.Accept;
    }
}
