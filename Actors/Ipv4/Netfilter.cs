using System.Collections.Immutable;
using ActorStack.Messages;

namespace ActorStack.Actors.Ipv4;

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
