using System.Collections.Immutable;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

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

/// <summary>Adds a rule to a host's netfilter table; answered by <see cref="NfRuleAdded"/>.</summary>
public sealed record NfAddRule(NfRule Rule);
public sealed record NfRuleAdded(NfRule Rule, int Index);

/// <summary>Asks a host for its netfilter rules with their packet counters (<c>iptables -L -v</c>); answered by <see cref="NfRules"/>.</summary>
public sealed record GetNfRules
{
    public static readonly GetNfRules Instance = new();
}

/// <summary>A host's rules in chain order, each with the packets it matched.</summary>
public sealed record NfRules(string Host, ImmutableArray<NfRuleCount> Rules);
public sealed record NfRuleCount(NfRule Rule, long Packets);
