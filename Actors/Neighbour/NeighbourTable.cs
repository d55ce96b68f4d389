using ActorStack.Config;
using System.Text;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Neighbour;

/// <summary>Neighbour unreachability detection states (<c>NUD_*</c>, include/uapi/linux/neighbour.h), Linux's bit values.</summary>
[Flags]
public enum NudState : byte
{
    None = 0x00,
    Incomplete = 0x01,
    Reachable = 0x02,
    Stale = 0x04,
    Delay = 0x08,
    Probe = 0x10,
    Failed = 0x20,
    NoArp = 0x40,
    Permanent = 0x80,
}

/// <summary>The state groups of include/net/neighbour.h.</summary>
public static class Nud
{
    public const NudState InTimer = NudState.Incomplete | NudState.Reachable | NudState.Delay | NudState.Probe;
    public const NudState Valid = NudState.Permanent | NudState.NoArp | NudState.Reachable | NudState.Probe | NudState.Stale | NudState.Delay;
    public const NudState Connected = NudState.Permanent | NudState.NoArp | NudState.Reachable;

    /// <summary>The state word <c>ip neigh</c> prints.</summary>
    public static string Name(NudState s) => s switch
    {
        NudState.None => "NONE",
        NudState.Incomplete => "INCOMPLETE",
        NudState.Reachable => "REACHABLE",
        NudState.Stale => "STALE",
        NudState.Delay => "DELAY",
        NudState.Probe => "PROBE",
        NudState.Failed => "FAILED",
        NudState.NoArp => "NOARP",
        NudState.Permanent => "PERMANENT",
        _ => s.ToString().ToUpperInvariant(),
    };
}

/// <summary><c>NEIGH_UPDATE_F_*</c> flags of <c>neigh_update</c>.</summary>
[Flags]
public enum NeighUpdateFlags : uint
{
    None = 0,
    /// <summary>A different link-layer address may replace the cached one.</summary>
    Override = 0x1,
    /// <summary>A different address makes a connected entry STALE instead of being ignored.</summary>
    WeakOverride = 0x2,
    OverrideIsRouter = 0x4,
    /// <summary>Administrative change (<c>ip neigh</c>): may modify NOARP / PERMANENT entries.</summary>
    Admin = 0x80000000,
}

public enum NeighActionKind
{
    /// <summary>Send <see cref="NeighAction{T}.Packet"/> with destination <see cref="NeighAction{T}.Mac"/>.</summary>
    Transmit,
    /// <summary>Send an ARP request for <see cref="NeighAction{T}.Ip"/>: unicast to <see cref="NeighAction{T}.Mac"/>, or broadcast when it is ff:ff:ff:ff:ff:ff.
    /// <see cref="NeighAction{T}.Packet"/> is the newest queued packet (whose source address <c>arp_solicit</c> prefers), if any.</summary>
    Solicit,
    /// <summary>Resolution failed: the packet goes back for ICMP host unreachable / <c>EHOSTUNREACH</c> (<c>arp_error_report</c>).</summary>
    Unreachable,
    /// <summary>The packet was freed with <see cref="NeighAction{T}.Reason"/>.</summary>
    Drop,
}

/// <summary>One thing the caller must do for the neighbour layer.</summary>
public readonly record struct NeighAction<T>(NeighActionKind Kind, Ipv4Address Ip, string Dev, MacAddress Mac, T? Packet,
    DropReason Reason = DropReason.NOT_SPECIFIED)
{
    public bool IsBroadcastSolicit => Kind == NeighActionKind.Solicit && Mac.IsBroadcast;
    public override string ToString() => $"{Kind} {Ip} dev {Dev}{(Kind is NeighActionKind.Transmit or NeighActionKind.Solicit ? $" {Mac}" : "")}{(Kind == NeighActionKind.Drop ? $" {Reason}" : "")}";
}

public enum NeighVerdict
{
    /// <summary>Send now to <see cref="NeighOutputResult{T}.Mac"/>.</summary>
    Send,
    /// <summary>Held on the unresolved entry's queue.</summary>
    Queued,
    /// <summary>Freed with <see cref="NeighOutputResult{T}.Reason"/>; the caller returns <c>EINVAL</c>/<c>EHOSTUNREACH</c> as Linux does.</summary>
    Dropped,
}

/// <summary>Result of <see cref="NeighbourTable{T}.NeighOutput"/>; <see cref="Actions"/> is empty on the fast path.</summary>
public readonly record struct NeighOutputResult<T>(NeighVerdict Verdict, MacAddress Mac, IReadOnlyList<NeighAction<T>> Actions,
    DropReason Reason = DropReason.NOT_SPECIFIED);

/// <summary>The columns of <c>/proc/net/stat/arp_cache</c> (<c>struct neigh_statistics</c>) plus the entry count.</summary>
public sealed class NeighStatistics
{
    public int Entries { get; internal set; }
    public long Allocs { get; internal set; }
    public long Destroys { get; internal set; }
    public long Lookups { get; internal set; }
    public long Hits { get; internal set; }
    public long ResFailed { get; internal set; }
    public long RcvProbesMcast { get; internal set; }
    public long RcvProbesUcast { get; internal set; }
    public long PeriodicGcRuns { get; internal set; }
    public long ForcedGcRuns { get; internal set; }
    public long UnresolvedDiscards { get; internal set; }
    public long TableFulls { get; internal set; }
}

/// <summary>A read-only snapshot of one entry.</summary>
public readonly record struct NeighInfo(Ipv4Address Ip, string Dev, MacAddress Mac, NudState State, int QueueLength, int QueueBytes,
    long ConfirmedMs, long UsedMs, long UpdatedMs, int Probes, long? TimerMs);

/// <summary>
/// A host's ARP cache (<c>arp_tbl</c>) with Linux's neighbour state machine (net/core/neighbour.c). Pure: every
/// call takes the current time and returns what the caller must send, queue or report; <see cref="NextTimerMs"/>
/// says when <see cref="Tick"/> is due. <typeparamref name="T"/> is the caller's packet (an skb); the queue held
/// while resolving is bounded by <c>unres_qlen_bytes</c> of <c>truesize</c>, the table by <c>gc_thresh3</c>.
/// </summary>
public sealed class NeighbourTable<T>
{
    private sealed class Entry
    {
        public required Ipv4Address Ip;
        public required string Dev;
        public MacAddress Ha;
        public NudState State;
        public long Confirmed, Updated, Used;
        public int Probes;
        public long Timer = -1;
        public readonly Queue<(T Packet, int Truesize)> ArpQueue = new();
        public int ArpQueueBytes;
    }

    private readonly Dictionary<(Ipv4Address, string), Entry> _entries = new();
    private readonly Func<T, int> _truesize;
    private readonly Random _random;
    private long _lastRand;
    private long _lastFlush;
    private long _nextGc;

    public NeighParms Parms { get; }
    /// <summary>Current <c>reachable_time</c>: uniform in [base/2, 3·base/2), re-drawn every 300 s (<c>neigh_rand_reach_time</c>).</summary>
    public long ReachableTimeMs { get; private set; }
    public NeighStatistics Stats { get; } = new();
    public int Count => _entries.Count;

    /// <param name="truesize">Memory charge of a queued packet (<c>skb->truesize</c>), e.g. <c>SkBuff.TruesizeFor</c>.</param>
    /// <param name="random">The table's seeded generator (reachable_time draws).</param>
    public NeighbourTable(NeighParms parms, Func<T, int> truesize, Random random, long nowMs = 0)
    {
        Parms = parms;
        _truesize = truesize;
        _random = random;
        ReachableTimeMs = RandReachTime(parms.BaseReachableTimeMs);
        _lastRand = nowMs;
        _lastFlush = nowMs;
        _nextGc = nowMs + parms.BaseReachableTimeMs / 2;
    }

    // neigh_rand_reach_time: get_random_u32_below(base) + base/2.
    private long RandReachTime(long b) => b <= 0 ? 0 : _random.NextInt64(b) + (b >> 1);

    public NeighInfo? Get(Ipv4Address ip, string dev)
        => _entries.TryGetValue((ip, dev), out var e) ? Info(e) : null;

    public IEnumerable<NeighInfo> Entries => _entries.Values.Select(Info);

    private static NeighInfo Info(Entry e) => new(e.Ip, e.Dev, e.Ha, e.State, e.ArpQueue.Count, e.ArpQueueBytes,
        e.Confirmed, e.Used, e.Updated, e.Probes, e.Timer < 0 ? null : e.Timer);

    /// <summary>
    /// <c>neigh_output</c> for a packet whose next hop is <paramref name="ip"/> on <paramref name="dev"/>
    /// (<c>ip_finish_output2</c> creates the entry if missing). Connected entries take the hh-cache fast path
    /// (no <c>used</c> update, as <c>neigh_hh_output</c>); others go through <c>neigh_resolve_output</c> →
    /// <c>neigh_event_send</c>: DELAY/PROBE/STALE send with the cached address (STALE → DELAY), NONE/FAILED
    /// start resolution (INCOMPLETE, one broadcast solicitation at once), INCOMPLETE queues the packet.
    /// </summary>
    public NeighOutputResult<T> NeighOutput(Ipv4Address ip, string dev, T packet, long nowMs)
    {
        Stats.Lookups++;
        if (_entries.TryGetValue((ip, dev), out var e))
        {
            Stats.Hits++;
            if ((e.State & Nud.Connected) != 0)
                return new(NeighVerdict.Send, e.Ha, Array.Empty<NeighAction<T>>());
        }
        else
        {
            e = Create(ip, dev, nowMs);
            if (e is null)
                return new(NeighVerdict.Dropped, default, Array.Empty<NeighAction<T>>(), DropReason.NOT_SPECIFIED);
        }
        var actions = new List<NeighAction<T>>(2);
        var verdict = EventSend(e, packet, nowMs, actions, out var reason);
        return new(verdict, e.Ha, actions, reason);
    }

    // neigh_event_send_probe + __neigh_event_send(immediate_ok = true).
    private NeighVerdict EventSend(Entry e, T? packet, long now, List<NeighAction<T>> actions, out DropReason reason)
    {
        reason = DropReason.NOT_SPECIFIED;
        e.Used = now;
        if ((e.State & (Nud.Connected | NudState.Delay | NudState.Probe)) != 0) return NeighVerdict.Send;
        bool immediateProbe = false;
        if ((e.State & (NudState.Stale | NudState.Incomplete)) == 0)
        {
            if (Parms.McastSolicit + Parms.AppSolicit > 0)
            {
                e.Probes = Parms.UcastSolicit;
                e.State = NudState.Incomplete;
                e.Updated = now;
                immediateProbe = true;
                e.Timer = now + Math.Max(Parms.RetransTimeMs, 10);
            }
            else
            {
                e.State = NudState.Failed;
                e.Updated = now;
                reason = DropReason.NEIGH_FAILED;
                if (packet is not null) actions.Add(new(NeighActionKind.Drop, e.Ip, e.Dev, default, packet, DropReason.NEIGH_FAILED));
                return NeighVerdict.Dropped;
            }
        }
        else if (e.State == NudState.Stale)
        {
            e.State = NudState.Delay;
            e.Updated = now;
            e.Timer = now + Parms.DelayFirstProbeTimeMs;
            return NeighVerdict.Send;
        }

        // INCOMPLETE: queue, dropping the oldest while over unres_qlen_bytes (NEIGH_QUEUEFULL, unresolved_discards).
        if (packet is not null)
        {
            int size = _truesize(packet);
            while (e.ArpQueueBytes + size > Parms.UnresQlenBytes && e.ArpQueue.Count > 0)
            {
                var (old, oldSize) = e.ArpQueue.Dequeue();
                e.ArpQueueBytes -= oldSize;
                actions.Add(new(NeighActionKind.Drop, e.Ip, e.Dev, default, old, DropReason.NEIGH_QUEUEFULL));
                Stats.UnresolvedDiscards++;
            }
            e.ArpQueue.Enqueue((packet, size));
            e.ArpQueueBytes += size;
        }
        if (immediateProbe) Probe(e, actions);
        return NeighVerdict.Queued;
    }

    // neigh_probe → arp_solicit: probes below ucast_solicit go unicast to the cached address, then app probes
    // (to user space; none by default), then broadcast. The counter is incremented after the solicitation.
    private void Probe(Entry e, List<NeighAction<T>> actions)
    {
        int p = e.Probes - Parms.UcastSolicit;
        T? tail = e.ArpQueue.Count > 0 ? e.ArpQueue.Last().Packet : default;
        if (p < 0)
            actions.Add(new(NeighActionKind.Solicit, e.Ip, e.Dev, e.Ha, tail));
        else if (p - Parms.AppSolicit >= 0)
            actions.Add(new(NeighActionKind.Solicit, e.Ip, e.Dev, MacAddress.Broadcast, tail));
        e.Probes++;
    }

    private int MaxProbes(Entry e) => Parms.UcastSolicit + Parms.AppSolicit +
        (e.State == NudState.Probe ? Parms.McastResolicit : Parms.McastSolicit);

    /// <summary>
    /// <c>neigh_update</c> on an existing entry: <paramref name="lladdr"/> (null: keep the cached one) and the new
    /// state, under Linux's override rules. Returns the queued packets released (in order) when the entry becomes
    /// valid, or returned as unreachable when an INCOMPLETE/PROBE entry is set FAILED.
    /// </summary>
    public IReadOnlyList<NeighAction<T>> Update(Ipv4Address ip, string dev, MacAddress? lladdr, NudState newState,
        NeighUpdateFlags flags, long nowMs)
    {
        if (!_entries.TryGetValue((ip, dev), out var e)) return Array.Empty<NeighAction<T>>();
        var actions = new List<NeighAction<T>>();
        UpdateCore(e, lladdr, newState, flags, nowMs, actions);
        return actions;
    }

    private Errno UpdateCore(Entry e, MacAddress? lladdrIn, NudState nw, NeighUpdateFlags flags, long now, List<NeighAction<T>> actions)
    {
        var old = e.State;
        if ((flags & NeighUpdateFlags.Admin) == 0 && (old & (NudState.NoArp | NudState.Permanent)) != 0) return Errno.EPERM;

        if ((nw & Nud.Valid) == 0)
        {
            e.Timer = -1;
            e.State = nw;
            if ((old & (NudState.Incomplete | NudState.Probe)) != 0 && (nw & NudState.Failed) != 0)
                Invalidate(e, now, actions);
            return Errno.OK;
        }

        MacAddress lladdr;
        if (lladdrIn is { } given)
            lladdr = given;
        else
        {
            if ((old & Nud.Valid) == 0) return Errno.EINVAL;
            lladdr = e.Ha;
        }

        if ((nw & Nud.Connected) != 0) e.Confirmed = now;

        if ((old & Nud.Valid) != 0)
        {
            if (lladdr != e.Ha && (flags & NeighUpdateFlags.Override) == 0)
            {
                if ((flags & NeighUpdateFlags.WeakOverride) != 0 && (old & Nud.Connected) != 0)
                {
                    lladdr = e.Ha;
                    nw = NudState.Stale;
                }
                else return Errno.OK;
            }
            else if (lladdr == e.Ha && nw == NudState.Stale && (flags & NeighUpdateFlags.Admin) == 0)
                nw = old;
        }

        if (nw != old || lladdr != e.Ha) e.Updated = now;

        if (nw != old)
        {
            e.Timer = -1;
            if ((nw & NudState.Probe) != 0) e.Probes = 0;
            if ((nw & Nud.InTimer) != 0) e.Timer = now + ((nw & NudState.Reachable) != 0 ? ReachableTimeMs : 0);
            e.State = nw;
        }

        if (lladdr != e.Ha)
        {
            e.Ha = lladdr;
            if ((nw & Nud.Connected) == 0) e.Confirmed = now - (Parms.BaseReachableTimeMs << 1);
        }

        if (nw == old) return Errno.OK;
        if ((old & Nud.Valid) == 0)
        {
            // Release the queue through the entry's output, in order (a STALE entry turns DELAY on the first).
            while ((e.State & Nud.Valid) != 0 && e.ArpQueue.Count > 0)
            {
                var (pkt, size) = e.ArpQueue.Dequeue();
                e.ArpQueueBytes -= size;
                if ((e.State & Nud.Connected) == 0) EventSend(e, default, now, actions, out _);
                actions.Add(new(NeighActionKind.Transmit, e.Ip, e.Dev, e.Ha, pkt));
            }
            PurgeQueue(e, actions, DropReason.QUEUE_PURGE);
        }
        return Errno.OK;
    }

    // neigh_invalidate: every queued packet goes to error_report (ICMP host unreachable), res_failed counted.
    private void Invalidate(Entry e, long now, List<NeighAction<T>> actions)
    {
        Stats.ResFailed++;
        e.Updated = now;
        while (e.State == NudState.Failed && e.ArpQueue.Count > 0)
        {
            var (pkt, _) = e.ArpQueue.Dequeue();
            actions.Add(new(NeighActionKind.Unreachable, e.Ip, e.Dev, default, pkt, DropReason.NEIGH_FAILED));
        }
        e.ArpQueue.Clear();
        e.ArpQueueBytes = 0;
    }

    private static void PurgeQueue(Entry e, List<NeighAction<T>> actions, DropReason reason)
    {
        while (e.ArpQueue.Count > 0)
            actions.Add(new(NeighActionKind.Drop, e.Ip, e.Dev, default, e.ArpQueue.Dequeue().Packet, reason));
        e.ArpQueueBytes = 0;
    }

    /// <summary>
    /// <c>neigh_event_ns</c>: the sender of an ARP request for one of our addresses is learned (entry created if
    /// missing) as STALE with override. Returns false when the table is full.
    /// </summary>
    public bool EventNs(Ipv4Address ip, string dev, MacAddress lladdr, long nowMs, List<NeighAction<T>> actions)
    {
        var e = _entries.GetValueOrDefault((ip, dev)) ?? Create(ip, dev, nowMs);
        if (e is null) return false;
        UpdateCore(e, lladdr, NudState.Stale, NeighUpdateFlags.Override, nowMs, actions);
        return true;
    }

    /// <summary>Whether an entry exists (<c>__neigh_lookup(..., creat = 0)</c>).</summary>
    public bool Contains(Ipv4Address ip, string dev) => _entries.ContainsKey((ip, dev));


    /// <summary>
    /// Updates an existing entry from a received ARP packet, or creates one when <paramref name="create"/> (arp_accept);
    /// used by <see cref="Arp.Process{T}"/>. Returns false if there was no entry and none was created.
    /// </summary>
    internal bool UpdateFromArp(Ipv4Address ip, string dev, MacAddress sha, NudState state, bool isGarp, bool create,
        long now, List<NeighAction<T>> actions)
    {
        if (!_entries.TryGetValue((ip, dev), out var e))
        {
            if (!create) return false;
            e = Create(ip, dev, now);
            if (e is null) return false;
        }
        bool overrideOk = now > e.Updated + Parms.LocktimeMs || isGarp;
        UpdateCore(e, sha, state, overrideOk ? NeighUpdateFlags.Override : NeighUpdateFlags.None, now, actions);
        return true;
    }

    /// <summary><c>ip neigh replace IP lladdr MAC dev DEV nud permanent</c>.</summary>
    public IReadOnlyList<NeighAction<T>> AddPermanent(Ipv4Address ip, string dev, MacAddress mac, long nowMs)
    {
        var actions = new List<NeighAction<T>>();
        var e = _entries.GetValueOrDefault((ip, dev)) ?? Create(ip, dev, nowMs, force: true)!;
        UpdateCore(e, mac, NudState.Permanent, NeighUpdateFlags.Override | NeighUpdateFlags.Admin, nowMs, actions);
        return actions;
    }

    /// <summary><c>ip neigh del</c>: removes the entry; queued packets are dropped.</summary>
    public IReadOnlyList<NeighAction<T>> Delete(Ipv4Address ip, string dev)
    {
        var actions = new List<NeighAction<T>>();
        if (_entries.Remove((ip, dev), out var e))
        {
            PurgeQueue(e, actions, DropReason.QUEUE_PURGE);
            Stats.Destroys++;
            Stats.Entries = _entries.Count;
        }
        return actions;
    }

    /// <summary>
    /// Carrier down on <paramref name="dev"/> (<c>neigh_carrier_down</c> → <c>neigh_flush_dev(skip_perm = true)</c>):
    /// every non-permanent entry of the device is removed and its queued packets are dropped.
    /// </summary>
    public IReadOnlyList<NeighAction<T>> Flush(string dev, bool includePermanent = false)
    {
        var actions = new List<NeighAction<T>>();
        foreach (var e in _entries.Values.Where(e => e.Dev == dev && (includePermanent || e.State != NudState.Permanent)).ToList())
        {
            _entries.Remove((e.Ip, e.Dev));
            PurgeQueue(e, actions, DropReason.QUEUE_PURGE);
            Stats.Destroys++;
        }
        Stats.Entries = _entries.Count;
        return actions;
    }

    /// <summary>
    /// Earliest pending timer: an entry's <c>neigh_timer_handler</c>, or the periodic GC
    /// (<c>neigh_periodic_work</c>, every base_reachable_time/2) while the table has entries.
    /// </summary>
    public long? NextTimerMs
    {
        get
        {
            long best = long.MaxValue;
            foreach (var e in _entries.Values)
                if (e.Timer >= 0 && e.Timer < best) best = e.Timer;
            if (_entries.Count > 0 && _nextGc < best) best = _nextGc;
            return best == long.MaxValue ? null : best;
        }
    }

    /// <summary>
    /// Runs every entry timer due at or before <paramref name="nowMs"/> (each at its own due time, earliest
    /// first, as <c>neigh_timer_handler</c> would have run) and the periodic GC if due.
    /// </summary>
    public IReadOnlyList<NeighAction<T>> Tick(long nowMs)
    {
        var actions = new List<NeighAction<T>>();
        while (true)
        {
            Entry? due = null;
            foreach (var e in _entries.Values)
                if (e.Timer >= 0 && e.Timer <= nowMs && (due is null || e.Timer < due.Timer)) due = e;
            if (due is null) break;
            long t = due.Timer;
            if (_nextGc <= t) PeriodicWork(_nextGc);
            TimerHandler(due, t, actions);
        }
        if (_nextGc <= nowMs) PeriodicWork(nowMs);
        return actions;
    }

    // neigh_timer_handler.
    private void TimerHandler(Entry e, long now, List<NeighAction<T>> actions)
    {
        e.Timer = -1;
        var state = e.State;
        long next = now + 1000;
        if ((state & Nud.InTimer) == 0) return;

        if ((state & NudState.Reachable) != 0)
        {
            if (now <= e.Confirmed + ReachableTimeMs)
                next = e.Confirmed + ReachableTimeMs;
            else if (now <= e.Used + Parms.DelayFirstProbeTimeMs)
            {
                e.State = NudState.Delay;
                e.Updated = now;
                next = now + Parms.DelayFirstProbeTimeMs;
            }
            else
            {
                e.State = NudState.Stale;
                e.Updated = now;
            }
        }
        else if ((state & NudState.Delay) != 0)
        {
            if (now <= e.Confirmed + Parms.DelayFirstProbeTimeMs)
            {
                e.State = NudState.Reachable;
                e.Updated = now;
                next = e.Confirmed + ReachableTimeMs;
            }
            else
            {
                e.State = NudState.Probe;
                e.Updated = now;
                e.Probes = 0;
                next = now + Math.Max(Parms.RetransTimeMs, 10);
            }
        }
        else
            next = now + Math.Max(Parms.RetransTimeMs, 10);

        if ((e.State & (NudState.Incomplete | NudState.Probe)) != 0 && e.Probes >= MaxProbes(e))
        {
            e.State = NudState.Failed;
            Invalidate(e, now, actions);
            return;
        }
        if ((e.State & Nud.InTimer) != 0)
            e.Timer = Math.Max(next, now + 10);
        if ((e.State & (NudState.Incomplete | NudState.Probe)) != 0)
            Probe(e, actions);
    }

    // neigh_periodic_work: re-draw reachable_time every 300 s; below gc_thresh1 nothing is collected; otherwise
    // entries neither permanent nor in a timer go when FAILED or unused for gc_stale_time.
    private void PeriodicWork(long now)
    {
        Stats.PeriodicGcRuns++;
        if (now > _lastRand + 300_000)
        {
            _lastRand = now;
            ReachableTimeMs = RandReachTime(Parms.BaseReachableTimeMs);
        }
        _nextGc = now + Parms.BaseReachableTimeMs / 2;
        if (_entries.Count < Parms.GcThresh1) return;
        foreach (var e in _entries.Values.ToList())
        {
            if ((e.State & (NudState.Permanent | Nud.InTimer)) != 0) continue;
            if (e.Used < e.Confirmed && e.Confirmed <= now) e.Used = e.Confirmed;
            if (e.State == NudState.Failed || !(now >= e.Used && now < e.Used + Parms.GcStaleTimeMs))
            {
                _entries.Remove((e.Ip, e.Dev));
                Stats.Destroys++;
            }
        }
        Stats.Entries = _entries.Count;
    }

    // neigh_alloc with its forced GC: at gc_thresh3, or at gc_thresh2 more than 5 s after the last flush,
    // neigh_forced_gc drops unreferenced entries (FAILED, NOARP, or not updated for 5 s) down to gc_thresh2;
    // if nothing was freed at gc_thresh3 the creation fails (table_fulls).
    private Entry? Create(Ipv4Address ip, string dev, long now, bool force = false)
    {
        int entries = _entries.Count;
        if (!force && (entries >= Parms.GcThresh3 || (entries >= Parms.GcThresh2 && now > _lastFlush + 5000)))
        {
            if (ForcedGc(now) == 0 && entries >= Parms.GcThresh3)
            {
                Stats.TableFulls++;
                return null;
            }
        }
        var e = new Entry { Ip = ip, Dev = dev, State = NudState.None, Updated = now, Used = now, Confirmed = now - (Parms.BaseReachableTimeMs << 1) };
        _entries[(ip, dev)] = e;
        Stats.Allocs++;
        Stats.Entries = _entries.Count;
        return e;
    }

    private int ForcedGc(long now)
    {
        Stats.ForcedGcRuns++;
        int maxClean = _entries.Count - Parms.GcThresh2;
        long tref = now - 5000;
        int shrunk = 0;
        foreach (var e in _entries.Values.OrderBy(e => e.Updated).ToList())
        {
            if (shrunk >= maxClean) break;
            if ((e.State & (NudState.Permanent | Nud.InTimer)) != 0 || e.ArpQueue.Count > 0) continue;
            if (e.State is NudState.Failed or NudState.NoArp || e.Updated <= tref)
            {
                _entries.Remove((e.Ip, e.Dev));
                Stats.Destroys++;
                shrunk++;
            }
        }
        _lastFlush = now;
        Stats.Entries = _entries.Count;
        return shrunk;
    }

    /// <summary>Exactly <c>ip neigh</c>: one line per entry (device, then address order), each ending in a newline.</summary>
    public string Format(string? dev = null)
    {
        var sb = new StringBuilder();
        foreach (var e in _entries.Values.Where(e => dev is null || e.Dev == dev)
                     .OrderBy(e => e.Dev, StringComparer.Ordinal).ThenBy(e => e.Ip.Value))
        {
            sb.Append(e.Ip).Append(" dev ").Append(e.Dev);
            if ((e.State & Nud.Valid) != 0) sb.Append(" lladdr ").Append(e.Ha);
            sb.Append(' ').Append(Nud.Name(e.State)).Append('\n');
        }
        return sb.ToString();
    }
}
