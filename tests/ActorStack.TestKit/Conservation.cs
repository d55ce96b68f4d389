using ActorStack.Messages;

namespace ActorStack.Testing;

/// <summary>
/// The books of a flow of UDP datagrams from one host to another: what was sent (and duplicated on the way), what the
/// receiver's applications read or still have queued, what was dropped, by place and reason (both hosts' drop tables and
/// the wires'), and what is still in flight on the wires. Conservation: sent + duplicated = read + queued + dropped + in
/// flight. <see cref="Drops"/>: "HOST/LOCATION REASON" or "WIRE/DIRECTION REASON" → packets.
/// </summary>
public sealed record FlowBooks(long Sent, long Duplicated, long Read, long Queued, long WireInFlight,
    SortedDictionary<string, long> Drops, HostStats Sender, HostStats Receiver)
{
    public long Dropped => Drops.Values.Sum();
    public long DropsOf(DropReason r) => Drops.Where(d => d.Key.EndsWith($" {r}", StringComparison.Ordinal)).Sum(d => d.Value);
    public bool Balanced => Sent + Duplicated == Read + Queued + Dropped + WireInFlight;

    public override string ToString() => $"sent {Sent} dup {Duplicated} read {Read} queued {Queued} in flight {WireInFlight} drops " +
                                         string.Join(", ", Drops.Select(d => $"{d.Key}={d.Value}"));

    /// <summary>Why the books do not balance, naming every term and both sides; null when they do.</summary>
    public string? Check()
        => Balanced ? null
            : $"{Sender.Host} -> {Receiver.Host} not conserved: sent {Sent} + duplicated {Duplicated} = {Sent + Duplicated}, but " +
              $"read {Read} + queued {Queued} + dropped {Dropped} + in flight {WireInFlight} = {Read + Queued + Dropped + WireInFlight} " +
              $"(drops: {(Drops.Count == 0 ? "none" : string.Join(", ", Drops.Select(d => $"{d.Key}={d.Value}")))})";

    /// <summary>Fails with <see cref="Check"/>'s message unless the books balance.</summary>
    public void AssertBalanced()
    {
        if (Check() is { } failure) throw new StackAssertionException(failure);
    }

    /// <summary>
    /// The books from counters already taken: <paramref name="sent"/> and <paramref name="read"/> as the caller counts them
    /// (e.g. pktgen's sent plus <c>Udp: OutDatagrams</c>; <c>Udp: InDatagrams</c> or a sink's datagrams), queued = the
    /// receiver's sockets' queues, drops from both hosts and every wire in <paramref name="wires"/> (name, stats).
    /// </summary>
    public static FlowBooks Of(HostStats tx, HostStats rx, long sent, long read, IEnumerable<(string Name, WireStats Stats)> wires)
    {
        var drops = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var h in tx.Host == rx.Host ? new[] { tx } : [tx, rx])
            foreach (var d in h.Drops.Where(d => d.Packets > 0))
                drops[$"{h.Host}/{d.Site.Location} {d.Site.Reason}"] = d.Packets;
        long dup = 0, inFlight = 0;
        foreach (var (name, w) in wires)
            foreach (var (dir, s) in new[] { ("a-to-b", w.AToBDetail), ("b-to-a", w.BToADetail) })
            {
                if (s is null) continue;
                foreach (var (reason, n) in s.Drops.Where(x => x.Value > 0))
                    drops[$"{name}/{dir} {reason}"] = n;
                dup += s.Duplicated;
                inFlight += s.InFlight;
            }
        return new FlowBooks(sent, dup, read, rx.Sockets.Sum(s => (long)s.RecvQueueDatagrams), inFlight, drops, tx, rx);
    }
}

/// <summary>Conservation checks on counters (pure functions: the kit's assertions call them; tests can call them on any snapshot).</summary>
public static class Conservation
{
    /// <summary>
    /// A wire's books, per direction: offered + duplicated = delivered + dropped by reason + in flight. Returns why not,
    /// naming the wire, the direction, each term and both sides; null when both directions balance.
    /// </summary>
    public static string? CheckWire(string name, WireStats stats)
    {
        var failures = new List<string>();
        foreach (var (dir, s) in new[] { ("a-to-b", stats.AToBDetail), ("b-to-a", stats.BToADetail) })
        {
            if (s is null) continue;
            long left = s.Offered + s.Duplicated, right = s.Delivered + s.Dropped + s.InFlight;
            if (left == right) continue;
            var reasons = s.Drops.Count == 0 ? "none" : string.Join(", ", s.Drops.Select(d => $"{d.Key}={d.Value}"));
            failures.Add($"wire {name} {dir} not conserved: offered {s.Offered} + duplicated {s.Duplicated} = {left}, but " +
                         $"delivered {s.Delivered} + dropped {s.Dropped} ({reasons}) + in flight {s.InFlight} = {right}");
        }
        return failures.Count == 0 ? null : string.Join("\n", failures);
    }
}
