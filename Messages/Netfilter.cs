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
    /// <summary>Dissects <paramref name="ip"/> (an IPv4 packet from its header on) and matches it.</summary>
    public bool Matches(ReadOnlySpan<byte> ip) => Matches(FlowKeys.DissectIpv4(ip, FlowDissectorFlags.Parse1stFrag));

    /// <summary>
    /// The match over a packet dissected once with <see cref="FlowDissectorFlags.Parse1stFrag"/>: addresses and
    /// protocol from the IPv4 header; ports only from a TCP/UDP header that is present, which a fragment other than
    /// the first never has (xt_tcpudp's <c>if (par-&gt;fragoff != 0) return false</c>).
    /// </summary>
    public bool Matches(in FlowKeys k)
    {
        if (!k.IsIpv4) return false;
        if (Source is { } s && !s.Contains(k.Src)) return false;
        if (Destination is { } d && !d.Contains(k.Dst)) return false;
        if (Protocol is { } p && k.Protocol != p) return false;
        if (SourcePort is null && DestinationPort is null) return true;
        if (!k.HasPorts) return false;
        if (SourcePort is { } sp && k.SrcPort != sp) return false;
        if (DestinationPort is { } dp && k.DstPort != dp) return false;
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
