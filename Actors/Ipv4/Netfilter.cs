using System.Collections.Immutable;
using ActorStack.Messages;

namespace ActorStack.Actors.Ipv4;

/// <summary>
/// The rule tables of one host, immutable (replaced whole when a rule is added),
/// with a packet counter per rule as <c>iptables -L -v</c> shows.
/// </summary>
public sealed class Netfilter
{
    private sealed record State(ImmutableArray<NfRule> Rules, long[] Hits);
    private State _state = new(ImmutableArray<NfRule>.Empty, []);

    public ImmutableArray<NfRule> Rules => Volatile.Read(ref _state).Rules;

    /// <summary>Appends a rule (<c>iptables -A</c>); readers see the old table or the new one, never a mix.</summary>
    public void Add(NfRule rule)
    {
        lock (this)
        {
            var old = _state;
            var hits = new long[old.Hits.Length + 1];
            Array.Copy(old.Hits, hits, old.Hits.Length);
            Volatile.Write(ref _state, new State(old.Rules.Add(rule), hits));
        }
    }

    public long Hits(int index) => Volatile.Read(ref Volatile.Read(ref _state).Hits[index]);

    /// <summary><c>NF_HOOK</c>: the verdict for a packet (starting at its IP header) at a hook.</summary>
    public NfVerdict Run(NfHook hook, ReadOnlySpan<byte> ip)
    {
        var st = Volatile.Read(ref _state);
        var rules = st.Rules;
        for (int i = 0; i < rules.Length; i++)
        {
            if (rules[i].Hook != hook || !rules[i].Matches(ip)) continue;
            Interlocked.Increment(ref st.Hits[i]);
            return rules[i].Verdict;
        }
        return NfVerdict.Accept;
    }
}
