using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Ipv4;

/// <summary>
/// The rule table of one host, immutable: <see cref="Add"/> (<c>iptables -A</c>) returns a new table, which the
/// owner (the host actor) publishes whole in <see cref="ActorStack.Actors.Namespaces.NetNamespace.Netfilter"/>, as <c>xt_replace_table</c>
/// swaps a table's private data under RCU; every hook point reads the table in force without a lock, so a
/// packet sees the old rules or the new ones, never a mix. The packet counter of each rule (<c>iptables -L -v</c>)
/// is an atomic counter (like a MIB) shared by the tables that hold the rule, so hits counted through an older
/// table while a rule is being added are not lost.
/// </summary>
public sealed class Netfilter
{
    /// <summary>A rule's packet counter, incremented atomically by every actor that runs the hook.</summary>
    private sealed class Counter
    {
        public long Packets;
    }

    private readonly ImmutableArray<Counter> _hits;

    /// <summary>The empty table (every hook accepts).</summary>
    public static readonly Netfilter Empty = new(ImmutableArray<NfRule>.Empty, ImmutableArray<Counter>.Empty);

    private Netfilter(ImmutableArray<NfRule> rules, ImmutableArray<Counter> hits) => (Rules, _hits) = (rules, hits);

    public ImmutableArray<NfRule> Rules { get; }

    /// <summary>A table with <paramref name="rule"/> appended (<c>iptables -A</c>); this table is unchanged.</summary>
    public Netfilter Add(NfRule rule) => new(Rules.Add(rule), _hits.Add(new Counter()));

    /// <summary>Packets the rule at <paramref name="index"/> matched so far.</summary>
    public long Hits(int index) => Volatile.Read(ref _hits[index].Packets);

    /// <summary>
    /// <c>NF_HOOK</c>: the verdict for a packet (starting at its IP header) at a hook. The packet is dissected once
    /// (<c>__skb_flow_dissect</c>, first fragments' ports included, as <c>ipt_do_table</c> matches them), when the
    /// first rule of the hook is reached; every rule then matches on those keys.
    /// </summary>
    public NfVerdict Run(NfHook hook, ReadOnlySpan<byte> ip)
    {
        var rules = Rules;
        FlowKeys keys = default;
        bool dissected = false;
        for (int i = 0; i < rules.Length; i++)
        {
            if (rules[i].Hook != hook) continue;
            if (!dissected) { keys = FlowKeys.DissectIpv4(ip, FlowDissectorFlags.Parse1stFrag); dissected = true; }
            if (!rules[i].Matches(in keys)) continue;
            Interlocked.Increment(ref _hits[i].Packets);
            return rules[i].Verdict;
        }
        return NfVerdict.Accept;
    }
}
