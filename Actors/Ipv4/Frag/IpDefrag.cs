using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Ipv4.Frag;

/// <summary>
/// IPv4 reassembly of one host (network namespace), following <c>ip_defrag</c> / <c>ip_frag_queue</c> /
/// <c>ip_frag_reasm</c> (net/ipv4/ip_fragment.c) and <c>inet_frag_queue_insert</c> (net/ipv4/inet_fragment.c)
/// as they behave since 2018 (RFC 5722 applied to IPv4, "ip: fail fast on IP defrag errors"):
/// <list type="bullet">
/// <item>one queue per (source, destination, id, protocol), created by its first fragment and expiring
///   <c>ipfrag_time</c> after that (the timer is never pushed back);</item>
/// <item>data queued in runs of contiguous fragments; a fragment that lies inside one run is a duplicate
///   and only it is dropped (<c>DUP_FRAG</c>); any other overlap discards the whole queue
///   (<c>ReasmOverlaps</c>, <c>ReasmFails</c>);</item>
/// <item>a non-final fragment's end is rounded down to 8 bytes; an empty result, a last fragment ending
///   before queued data or at another end than an earlier last fragment, and data beyond a known end
///   discard the whole queue (<c>ReasmFails</c>);</item>
/// <item>a datagram whose header plus data would exceed 65,535 bytes is dropped at reassembly
///   (<c>ReasmFails</c>, <c>PKT_TOO_BIG</c>) — the "ping of death";</item>
/// <item>the reassembled packet carries the offset-0 fragment's header (options included) with total
///   length, no MF, offset 0, DF only when the largest fragment had DF, ECN combined by
///   <c>ip_frag_ecn_table</c>, and a fresh checksum (<c>ReasmOKs</c>).</item>
/// </list>
/// Memory is the sum of the queued fragments' truesize. A fragment that would take it above
/// <c>ipfrag_high_thresh</c> first evicts least recently used queues until at most
/// <c>ipfrag_low_thresh</c> is held (the <c>inet_frag_evictor</c> of kernels before 4.17, one <c>ReasmFails</c> per queue;
/// later kernels only refuse), and is refused (<c>NOMEM</c>, <c>ReasmFails</c>) if it still does not fit,
/// so <see cref="MemoryBytes"/> never exceeds the high threshold.
/// Not modelled: <c>ipfrag_max_dist</c> (<c>ip_frag_too_far</c>), the defrag <c>user</c> and l3mdev
/// <c>vif</c> parts of the key. Queued fragments keep a reference to the caller's memory, which must not
/// be written afterwards. Not thread-safe: one owner (the host's IP actor) calls it. Never throws on packet content.
/// </summary>
public sealed class IpDefrag
{
    /// <summary>Largest IPv4 datagram (<c>IP_MAX_MTU</c> / 16-bit total length).</summary>
    public const int MaxDatagram = 65535;

    private const int FlagFirstIn = 1;  // INET_FRAG_FIRST_IN
    private const int FlagLastIn = 2;   // INET_FRAG_LAST_IN

    private readonly record struct Frag(int Offset, ReadOnlyMemory<byte> Data);

    /// <summary>A run of contiguous fragments (<c>FRAG_CB(skb)->frag_run_len</c>).</summary>
    private sealed class Run(int start, Frag first)
    {
        public readonly int Start = start;
        public int End = start + first.Data.Length;
        public readonly List<Frag> Frags = new(4) { first };
    }

    /// <summary><c>struct ipq</c> with its <c>inet_frag_queue</c>.</summary>
    private sealed class FragQueue(FragKey key, long seq, long deadline)
    {
        public readonly FragKey Key = key;
        public readonly long Seq = seq;
        public readonly long Deadline = deadline;
        public int Flags;
        public int Len;          // q.len: end of the datagram's data as known so far
        public int Meat;         // q.meat: bytes of data queued
        public long Truesize;
        public int FragCount;
        public int MaxSize;      // q.max_size: largest fragment (header + data)
        public int MaxDfSize;    // max_df_size: largest fragment with DF
        public int Ecn;          // IPFRAG_ECN_* bits seen
        public ReadOnlyMemory<byte> FirstHeader;
        public ReadOnlyMemory<byte> FirstData;
        public readonly List<Run> Runs = new(2);
        public LinkedListNode<FragQueue>? Lru;
    }

    private sealed class DeadlineOrder : IComparer<FragQueue>
    {
        public static readonly DeadlineOrder Instance = new();
        public int Compare(FragQueue? a, FragQueue? b)
        {
            int c = a!.Deadline.CompareTo(b!.Deadline);
            return c != 0 ? c : a.Seq.CompareTo(b.Seq);
        }
    }

    private readonly Dictionary<FragKey, FragQueue> _queues = new();
    private readonly LinkedList<FragQueue> _lru = new();
    private readonly SortedSet<FragQueue> _timers = new(DeadlineOrder.Instance);
    private readonly long _high;
    private readonly long _low;
    private readonly long _timeoutTicks;
    private long _seq;
    private long _mem;

    private long _reasmTimeout, _reasmReqds, _reasmOks, _reasmFails, _reasmOverlaps;

    public IpDefrag(DefragSettings settings)
    {
        Settings = settings;
        _high = Math.Max(0, settings.IpfragHighThresh);
        _low = Math.Clamp(settings.IpfragLowThresh, 0, _high);
        _timeoutTicks = Math.Max(0, settings.IpfragTime.Ticks);
    }

    public DefragSettings Settings { get; }

    /// <summary>Truesize of all queued fragments (<c>frag_mem_limit</c>).</summary>
    public long MemoryBytes => _mem;

    /// <summary>The largest <see cref="MemoryBytes"/> held at any moment (a high-water mark, updated as fragments are queued).</summary>
    public long PeakMemoryBytes { get; private set; }

    public int QueueCount => _queues.Count;

    /// <summary>When the oldest queue expires (call <see cref="Expire"/> then), or null with no queues.</summary>
    public long? NextExpiryTicks => _timers.Count > 0 ? _timers.Min!.Deadline : null;

    public DefragCounters Snapshot() => new(_reasmTimeout, _reasmReqds, _reasmOks, _reasmFails, _reasmOverlaps);

    /// <summary>
    /// <c>ip_defrag</c>: queue one fragment; returns the whole datagram when it completes.
    /// A packet that is not a fragment (no MF, offset 0) is returned as <see cref="DefragStatus.Complete"/>
    /// (a copy) without counting, as <c>ip_local_deliver</c> would not have called <c>ip_defrag</c>.
    /// Queues past their deadline are freed only by <see cref="Expire"/>, so call it first.
    /// </summary>
    /// <param name="ipPacket">From the IPv4 header on; bytes beyond the total length are ignored.</param>
    /// <param name="nowTicks">Current time, 100 ns ticks; starts a new queue's <c>ipfrag_time</c>.</param>
    /// <param name="truesize">Memory charged for the buffer (<c>skb->truesize</c>); 0 = <see cref="SkBuff.TruesizeFor"/> of the packet.</param>
    public DefragResult Add(ReadOnlyMemory<byte> ipPacket, long nowTicks, int truesize = 0)
    {
        var p = ipPacket.Span;
        if (!TryParse(p, out int ihl, out int totalLength, out ushort fragOff))
        {
            _reasmReqds++;
            _reasmFails++;
            return Drop(DropReason.IP_INHDR, DefragCause.Malformed, 1);
        }
        if ((fragOff & (Ipv4Header.FlagMf | Ipv4Header.OffsetMask)) == 0)
            return new DefragResult(DefragStatus.Complete, p[..totalLength].ToArray(), null, DefragCause.None, 0, 0, 0);

        _reasmReqds++;
        long ts = truesize > 0 ? truesize : SkBuff.TruesizeFor(totalLength);

        int evictedQueues = 0, evictedFrags = 0;
        if (_mem + ts > _high)
        {
            // inet_frag_evictor (before 4.17): free least recently used queues down to low_thresh
            // (and further if this fragment would still not fit under high_thresh).
            while ((_mem > _low || _mem + ts > _high) && _lru.First is { } oldest)
            {
                evictedFrags += oldest.Value.FragCount;
                evictedQueues++;
                Kill(oldest.Value);
            }
            _reasmFails += evictedQueues;
            if (_mem + ts > _high)
            {
                // inet_frag_find returned NULL: ip_defrag counts ReasmFails and frees the buffer.
                _reasmFails++;
                return Drop(DropReason.NOMEM, DefragCause.NoMemory, 1, evictedQueues, evictedFrags);
            }
        }

        Ipv4Header.TryRead(p, out var iph); // TryParse checked the header
        var key = new FragKey(iph.Source, iph.Destination, iph.Id, iph.Protocol);
        if (!_queues.TryGetValue(key, out var q))
        {
            // inet_frag_create: the timer starts with the queue and is never pushed back.
            q = new FragQueue(key, _seq++, nowTicks + _timeoutTicks);
            _queues.Add(key, q);
            q.Lru = _lru.AddLast(q);
            _timers.Add(q);
        }

        var result = FragQueueAdd(q, ipPacket, ihl, totalLength, fragOff, ts);
        return result with { QueuesEvicted = evictedQueues, FragmentsEvicted = evictedFrags };
    }

    /// <summary>
    /// <c>ip_expire</c> for every queue whose deadline is at or before <paramref name="nowTicks"/>:
    /// frees it and counts <c>ReasmFails</c> and <c>ReasmTimeout</c>. Oldest first.
    /// </summary>
    public IReadOnlyList<ExpiredQueue> Expire(long nowTicks)
    {
        if (_timers.Count == 0 || _timers.Min!.Deadline > nowTicks) return Array.Empty<ExpiredQueue>();
        var expired = new List<ExpiredQueue>();
        while (_timers.Count > 0 && _timers.Min!.Deadline <= nowTicks)
        {
            var q = _timers.Min;
            Kill(q);
            _reasmFails++;
            _reasmTimeout++;
            byte[]? first = null;
            if ((q.Flags & FlagFirstIn) != 0)
            {
                // inet_frag_pull_head: the offset-0 fragment as queued, header and data.
                first = new byte[q.FirstHeader.Length + q.FirstData.Length];
                q.FirstHeader.Span.CopyTo(first);
                q.FirstData.Span.CopyTo(first.AsSpan(q.FirstHeader.Length));
            }
            expired.Add(new ExpiredQueue(q.Key, first != null, first, q.FragCount));
        }
        return expired;
    }

    /// <summary><c>ip_frag_queue</c>.</summary>
    private DefragResult FragQueueAdd(FragQueue q, ReadOnlyMemory<byte> packet, int ihl, int totalLength, ushort fragOff, long ts)
    {
        var hdr = packet.Span;
        bool mf = (fragOff & Ipv4Header.FlagMf) != 0;
        int offset = (fragOff & Ipv4Header.OffsetMask) << 3;
        int end = offset + totalLength - ihl;

        if (!mf)
        {
            // Final fragment: bits beyond its end, or a different end than an earlier final fragment.
            if (end < q.Len || ((q.Flags & FlagLastIn) != 0 && end != q.Len))
                return DiscardQueue(q, DropReason.NOT_SPECIFIED, DefragCause.InconsistentEnd);
            q.Flags |= FlagLastIn;
            q.Len = end;
        }
        else
        {
            end &= ~7;
            if (end > q.Len)
            {
                if ((q.Flags & FlagLastIn) != 0)
                    return DiscardQueue(q, DropReason.NOT_SPECIFIED, DefragCause.InconsistentEnd);
                q.Len = end;
            }
        }
        if (end == offset)
            return DiscardQueue(q, DropReason.NOT_SPECIFIED, DefragCause.ZeroLength);

        // pskb_pull + pskb_trim_rcsum: keep only [offset, end) of data.
        var data = packet.Slice(ihl, end - offset);
        var ins = QueueInsert(q, new Frag(offset, data), offset, end);
        if (ins == InsertResult.Duplicate)
            return Drop(DropReason.DUP_FRAG, DefragCause.Duplicate, 1);
        if (ins == InsertResult.Overlap)
        {
            _reasmOverlaps++;
            return DiscardQueue(q, DropReason.NOT_SPECIFIED, DefragCause.Overlap);
        }

        q.FragCount++;
        q.Meat += end - offset;
        Ipv4Header.TryRead(hdr, out var iph);
        q.Ecn |= 1 << iph.Ecn; // ip4_frag_ecn
        q.Truesize += ts;
        _mem += ts;
        if (_mem > PeakMemoryBytes) PeakMemoryBytes = _mem;
        if (offset == 0)
        {
            q.Flags |= FlagFirstIn;
            q.FirstHeader = packet[..ihl];
            q.FirstData = data;
        }
        int fragsize = end - offset + ihl;
        if (fragsize > q.MaxSize) q.MaxSize = fragsize;
        if ((fragOff & Ipv4Header.FlagDf) != 0 && fragsize > q.MaxDfSize) q.MaxDfSize = fragsize;
        _lru.Remove(q.Lru!);
        _lru.AddLast(q.Lru!);

        if (q.Flags == (FlagFirstIn | FlagLastIn) && q.Meat == q.Len)
            return Reasm(q);
        return new DefragResult(DefragStatus.Incomplete, null, null, DefragCause.None, 0, 0, 0);
    }

    private enum InsertResult { Queued, Duplicate, Overlap }

    /// <summary><c>inet_frag_queue_insert</c>: RFC 5722 with erratum 3089 — duplicates ignored, overlaps fatal.</summary>
    private static InsertResult QueueInsert(FragQueue q, Frag frag, int offset, int end)
    {
        var runs = q.Runs;
        if (runs.Count == 0)
        {
            runs.Add(new Run(offset, frag));
            return InsertResult.Queued;
        }
        var last = runs[^1];
        if (last.End < end)
        {
            // The common case: past everything queued (fragments_tail ends the last run).
            if (offset < last.End) return InsertResult.Overlap;
            if (offset == last.End)
            {
                last.Frags.Add(frag);
                last.End = end;
            }
            else
            {
                runs.Add(new Run(offset, frag));
            }
            return InsertResult.Queued;
        }

        // Runs are disjoint and sorted: find the first whose end is past our offset.
        int lo = 0, hi = runs.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (runs[mid].End <= offset) lo = mid + 1; else hi = mid;
        }
        if (lo < runs.Count && runs[lo].Start < end)
        {
            var r = runs[lo];
            return offset >= r.Start && end <= r.End ? InsertResult.Duplicate : InsertResult.Overlap;
        }
        runs.Insert(lo, new Run(offset, frag));
        return InsertResult.Queued;
    }

    /// <summary><c>ip_frag_reasm</c>: the queue is killed first whatever the outcome.</summary>
    private DefragResult Reasm(FragQueue q)
    {
        Kill(q);
        int ecn = EcnOf(q.Ecn);
        if (ecn < 0)
        {
            _reasmFails++;
            return Drop(DropReason.NOT_SPECIFIED, DefragCause.InvalidEcn, q.FragCount);
        }
        int ihl = q.FirstHeader.Length;
        int len = ihl + q.Len;
        if (len > MaxDatagram)
        {
            _reasmFails++;
            return Drop(DropReason.PKT_TOO_BIG, DefragCause.Oversize, q.FragCount);
        }

        var buf = new byte[len];
        q.FirstHeader.Span.CopyTo(buf);
        foreach (var run in q.Runs)
            foreach (var f in run.Frags)
                f.Data.Span.CopyTo(buf.AsSpan(ihl + f.Offset));

        var ip = new Ipv4HeaderWriter(buf.AsSpan(0, ihl));
        ip.TotalLength = len;
        ip.OrEcn(ecn);
        // DF only if the largest fragment had it (IPSKB_FRAG_PMTU), so a forward refragments no larger.
        ip.FlagsAndOffset = q.MaxDfSize == q.MaxSize ? Ipv4Header.FlagDf : (ushort)0;
        ip.FillChecksum();
        _reasmOks++;
        return new DefragResult(DefragStatus.Complete, buf, null, DefragCause.None, 0, 0, 0);
    }

    /// <summary><c>ip_frag_ecn_table</c>: -1 for an invalid mix (0xff), else the ECN bits to OR into TOS.</summary>
    private static int EcnOf(int seen)
    {
        const int notEct = 1, ect1 = 2, ect0 = 4, ce = 8;
        if ((seen & notEct) != 0 && (seen & (ect1 | ect0 | ce)) != 0) return -1;
        if ((seen & ce) != 0 && (seen & (ect1 | ect0)) != 0) return 3; // INET_ECN_CE
        return 0;
    }

    /// <summary>The <c>discard_qp</c> label: kill the queue, count ReasmFails, free this fragment too.</summary>
    private DefragResult DiscardQueue(FragQueue q, DropReason reason, DefragCause cause)
    {
        Kill(q);
        _reasmFails++;
        return Drop(reason, cause, q.FragCount + 1);
    }

    /// <summary><c>inet_frag_kill</c> plus freeing the fragments (<c>inet_frag_destroy</c>).</summary>
    private void Kill(FragQueue q)
    {
        _queues.Remove(q.Key);
        _timers.Remove(q);
        if (q.Lru is { List: not null } node) _lru.Remove(node);
        _mem -= q.Truesize;
    }

    private static DefragResult Drop(DropReason reason, DefragCause cause, int freed, int evictedQueues = 0, int evictedFrags = 0)
        => new(DefragStatus.Dropped, null, reason, cause, freed, evictedQueues, evictedFrags);

    /// <summary><c>ip_rcv_core</c>'s structural checks again: version 4, IHL ≥ 5, IHL ≤ total length ≤ the bytes present.</summary>
    private static bool TryParse(ReadOnlySpan<byte> p, out int ihl, out int totalLength, out ushort fragOff)
    {
        ihl = 0; totalLength = 0; fragOff = 0;
        if (!Ipv4Header.TryRead(p, out var h) || h.Version != 4) return false;
        ihl = h.HeaderLength;
        totalLength = h.TotalLength;
        fragOff = h.FlagsAndOffset;
        return ihl >= Ipv4Header.MinLength && totalLength >= ihl && totalLength <= p.Length;
    }
}
