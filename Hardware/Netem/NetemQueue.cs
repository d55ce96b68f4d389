using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Hardware.Netem;

/// <summary>
/// The outcome of one <see cref="NetemQueue.Enqueue"/>: how many frames entered the queue (0, 1, or 2
/// when a duplicate was made), why the caller's frame was freed (null when it was not:
/// <see cref="DropReason.SIM_NETEM_LOSS"/> for a loss-model drop, <see cref="DropReason.QDISC_DROP"/>
/// when the queue held <c>limit</c> packets), and which impairments touched it or its duplicate.
/// </summary>
public readonly record struct NetemVerdict(int Queued, DropReason? Drop, int Drops, bool Duplicated, bool Corrupted,
    bool EcnMarked, bool Reordered)
{
    public bool IsDropped => Queued == 0;
}

/// <summary>
/// One direction of a link impaired as Linux's netem qdisc (net/sched/sch_netem.c) impairs it:
/// <c>netem_enqueue</c> (duplicate → loss/ECN → corrupt → limit → reorder or delay + rate → tfifo)
/// and <c>netem_dequeue</c> (reordered frames first, then the earliest time_to_send, gated by slots).
/// Time is passed in (ns on the caller's clock); every random draw — including those Linux leaves
/// unseeded (correlation start state, corrupt position, slot spacing) — comes from the one
/// <see cref="Random"/> given to the constructor, so the same seed and inputs give the same outputs.
/// The caller's buffers are never written: corruption and ECN marking work on a copy.
/// Conservation: Received + Duplicated = Sent + Dropped + Backlog.
/// Usage: Enqueue on transmit; call <see cref="TryDequeue"/> until false whenever
/// <see cref="NextDeadlineNs"/> is reached (as netem's qdisc watchdog does).
/// </summary>
public sealed class NetemQueue
{
    private sealed record Entry(ReadOnlyMemory<byte> Frame, long TimeToSend);

    /// <summary><c>struct crndstate</c>.</summary>
    private struct CorrelatedState
    {
        public uint Last;
        public uint Rho;
    }

    private readonly NetemQopt _s;
    private readonly Random _rng;
    private readonly short[]? _delayDist;
    private readonly short[]? _slotDist;

    private CorrelatedState _delayCor, _lossCor, _dupCor, _reorderCor, _corruptCor;
    private byte _clgState = 1; // TX_IN_GAP_PERIOD / GOOD_STATE
    private uint _counter;

    // tfifo: ordered by (time_to_send, arrival); the reordered frames sit in a separate head queue (sch->q).
    private readonly PriorityQueue<Entry, (long Time, long Seq)> _tfifo = new();
    private long _tfifoMaxTime;
    private readonly LinkedList<Entry> _head = new();
    private long _seq;

    private readonly bool _slotEnabled;
    private long _slotNext;
    private int _slotPacketsLeft, _slotBytesLeft;
    private readonly int _slotMaxPackets, _slotMaxBytes;

    private long _lossDrops, _limitDrops;

    /// <param name="settings">Validated settings (see <see cref="NetemQopt.TryValidate"/>).</param>
    /// <param name="rng">The only source of randomness; seed it from <see cref="NetemQopt.Seed"/> or the scenario seed.</param>
    /// <param name="configuredAtNs">When the qdisc was configured: the first slot boundary (<c>get_slot</c> uses ktime_get_ns()).</param>
    /// <exception cref="ArgumentException">The settings fail <see cref="NetemQopt.TryValidate"/>: a configuration
    /// error, rejected before the run starts.</exception>
    public NetemQueue(NetemQopt settings, Random rng, long configuredAtNs = 0)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(rng);
        if (!settings.TryValidate(out var error))
            throw new ArgumentException($"netem: {error}", nameof(settings));
        _s = settings;
        _rng = rng;
        _delayDist = NetemDistributionTables.For(settings.Distribution);
        // init_crandom draws each start state; Linux uses get_random_u32(), here the seeded generator.
        _delayCor = InitCrandom(settings.DelayCorrelation);
        _lossCor = InitCrandom(settings.LossCorrelation);
        _dupCor = InitCrandom(settings.DuplicateCorrelation);
        _reorderCor = InitCrandom(settings.ReorderCorrelation);
        _corruptCor = InitCrandom(settings.CorruptCorrelation);

        if (settings.Slot is { } slot)
        {
            // get_slot: 0 packets/bytes means unlimited (INT_MAX); active when any delay is set.
            _slotMaxPackets = slot.MaxPackets == 0 ? int.MaxValue : slot.MaxPackets;
            _slotMaxBytes = slot.MaxBytes == 0 ? int.MaxValue : slot.MaxBytes;
            _slotPacketsLeft = _slotMaxPackets;
            _slotBytesLeft = _slotMaxBytes;
            _slotDist = NetemDistributionTables.For(slot.Distribution);
            _slotEnabled = (slot.MinDelayNs | slot.MaxDelayNs | slot.DistJitterNs) != 0;
            _slotNext = configuredAtNs;
        }
    }

    public NetemQopt Settings => _s;

    /// <summary>Frames offered to <see cref="Enqueue"/>.</summary>
    public long Received { get; private set; }
    /// <summary>Frames released by <see cref="TryDequeue"/> (qdisc bstats packets).</summary>
    public long Sent { get; private set; }
    public long SentBytes { get; private set; }
    /// <summary>All drops (<see cref="DropReason.SIM_NETEM_LOSS"/> + <see cref="DropReason.QDISC_DROP"/>).</summary>
    public long Dropped => _lossDrops + _limitDrops;
    /// <summary>Duplicates re-enqueued (each then meets loss, corrupt and the limit on its own).</summary>
    public long Duplicated { get; private set; }
    public long Corrupted { get; private set; }
    /// <summary>Frames sent ahead of the delay by reorder (Linux qstats.requeues).</summary>
    public long Reordered { get; private set; }
    /// <summary>Loss events turned into a CE mark (Linux also counts these in qstats.drops; here they are not drops).</summary>
    public long EcnMarked { get; private set; }
    /// <summary>Frames held (sch->q.qlen).</summary>
    public int Backlog => _tfifo.Count + _head.Count;
    public long BacklogBytes { get; private set; }

    /// <summary>
    /// Drops for one reason: <see cref="DropReason.SIM_NETEM_LOSS"/> (a loss model; Linux frees these with
    /// <c>__qdisc_drop</c>) or <see cref="DropReason.QDISC_DROP"/> (over <c>limit</c>: <c>qdisc_drop_all</c>);
    /// 0 for any other reason.
    /// </summary>
    public long DroppedBy(DropReason reason) => reason switch
    {
        DropReason.SIM_NETEM_LOSS => _lossDrops,
        DropReason.QDISC_DROP => _limitDrops,
        _ => 0,
    };

    /// <summary>
    /// When the next frame can leave (<c>qdisc_watchdog_schedule_ns(max(time_to_send, slot_next))</c>);
    /// null when empty. A value at or before now means <see cref="TryDequeue"/> will release a frame.
    /// </summary>
    public long? NextDeadlineNs
    {
        get
        {
            if (_head.First is { } h) return h.Value.TimeToSend;
            if (!_tfifo.TryPeek(out var e, out _)) return null;
            return _slotEnabled ? Math.Max(e.TimeToSend, _slotNext) : e.TimeToSend;
        }
    }

    /// <summary>Offers one frame (<c>netem_enqueue</c>). Never throws; never writes <paramref name="frame"/>.</summary>
    public NetemVerdict Enqueue(ReadOnlyMemory<byte> frame, long nowNs)
    {
        Received++;
        return EnqueueOne(frame, nowNs, isDuplicate: false);
    }

    private NetemVerdict EnqueueOne(ReadOnlyMemory<byte> frame, long nowNs, bool isDuplicate)
    {
        int count = 1;
        bool ecnMarked = false, corrupted = false;

        // Random duplication; a duplicate is never duplicated again (skb->tc_depth).
        if (_s.Duplicate != 0 && !isDuplicate && _s.Duplicate >= GetCrandom(ref _dupCor))
            ++count;

        if (LossEvent())
        {
            if (_s.Ecn && TrySetCe(ref frame))
            {
                ecnMarked = true;
                EcnMarked++;
            }
            else
                --count;
        }
        if (count == 0)
        {
            _lossDrops++;
            return new NetemVerdict(0, DropReason.SIM_NETEM_LOSS, 1, false, false, ecnMarked, false);
        }

        // The clone is taken before corruption, so it carries any CE mark but not the flipped bit.
        ReadOnlyMemory<byte> clone = count > 1 ? frame : default;

        if (_s.Corrupt != 0 && _s.Corrupt >= GetCrandom(ref _corruptCor) && frame.Length > 0)
        {
            var copy = frame.ToArray();
            copy[_rng.Next(copy.Length)] ^= (byte)(1 << _rng.Next(8));
            frame = copy;
            corrupted = true;
            Corrupted++;
        }

        if (Backlog >= _s.Limit)
        {
            // qdisc_drop_all: the frame is counted; the unsent clone is freed uncounted, as in Linux.
            _limitDrops++;
            return new NetemVerdict(0, DropReason.QDISC_DROP, 1, false, corrupted, ecnMarked, false);
        }

        int queued = 0, drops = 0;
        bool duplicated = false;
        if (count > 1)
        {
            // Re-inserted at the root before the original is queued (rootq->enqueue(skb2)).
            Duplicated++;
            duplicated = true;
            var dv = EnqueueOne(clone, nowNs, isDuplicate: true);
            queued += dv.Queued;
            drops += dv.Drops;
            corrupted |= dv.Corrupted;
            ecnMarked |= dv.EcnMarked;
        }

        bool reordered = false;
        BacklogBytes += frame.Length;
        if (_s.Gap == 0 || _counter < _s.Gap - 1 || _s.Reorder < GetCrandom(ref _reorderCor))
        {
            // netem_change caps jitter at INT_MAX, the range tabledist takes.
            long delay = TableDist(_s.LatencyNs, (int)Math.Min(_s.JitterNs, int.MaxValue), ref _delayCor, _delayDist);
            long now = nowNs;
            if (_s.RateBytesPerSecond != 0)
            {
                // The last queued frame's send time is the reference point (reorder tail or tfifo tail).
                long? last = null;
                if (_head.Last is { } tail) last = tail.Value.TimeToSend;
                if (_tfifo.Count > 0 && (last is null || _tfifoMaxTime > last)) last = _tfifoMaxTime;
                if (last is { } l)
                {
                    delay -= l - now;
                    delay = Math.Max(0, delay);
                    now = l;
                }
                delay += PacketTimeNs(frame.Length);
            }
            long timeToSend = now + delay;
            ++_counter;
            TfifoEnqueue(new Entry(frame, timeToSend));
        }
        else
        {
            // Reorder: this frame goes to the head of the queue and leaves at once.
            _counter = 0;
            _head.AddFirst(new Entry(frame, nowNs));
            Reordered++;
            reordered = true;
        }
        queued++;
        return new NetemVerdict(queued, null, drops, duplicated, corrupted, ecnMarked, reordered);
    }

    /// <summary>
    /// Releases the next frame whose time has come (<c>netem_dequeue</c>): reordered frames first, then
    /// the earliest time_to_send once it and the current slot boundary are reached.
    /// </summary>
    public bool TryDequeue(long nowNs, out ReadOnlyMemory<byte> frame) => TryDequeue(nowNs, out frame, out _);

    /// <summary>
    /// As <see cref="TryDequeue(long, out ReadOnlyMemory{byte})"/>, with the moment the frame became due
    /// (<paramref name="dueNs"/> ≤ now: its time_to_send, or the slot boundary that let it go), so a caller
    /// polling on a coarse clock can place the frame at its exact time.
    /// </summary>
    public bool TryDequeue(long nowNs, out ReadOnlyMemory<byte> frame, out long dueNs)
    {
        frame = default;
        dueNs = nowNs;
        if (_head.First is { } h)
        {
            _head.RemoveFirst();
            dueNs = Math.Min(h.Value.TimeToSend, nowNs);
            Deliver(h.Value.Frame, out frame);
            return true;
        }
        if (!_tfifo.TryPeek(out var e, out _))
            return false;
        if (_slotEnabled && _slotNext < e.TimeToSend)
            GetSlotNext(nowNs);
        if (e.TimeToSend <= nowNs && (!_slotEnabled || _slotNext <= nowNs))
        {
            dueNs = _slotEnabled ? Math.Max(e.TimeToSend, _slotNext) : e.TimeToSend;
            _tfifo.Dequeue();
            if (_slotEnabled)
            {
                _slotPacketsLeft--;
                _slotBytesLeft -= e.Frame.Length;
                if (_slotPacketsLeft <= 0 || _slotBytesLeft <= 0)
                    GetSlotNext(nowNs);
            }
            Deliver(e.Frame, out frame);
            return true;
        }
        return false;
    }

    private void Deliver(ReadOnlyMemory<byte> f, out ReadOnlyMemory<byte> frame)
    {
        frame = f;
        BacklogBytes -= f.Length;
        Sent++;
        SentBytes += f.Length;
    }

    /// <summary>Frees every held frame (<c>netem_reset</c>), returning how many; the caller counts them (e.g. link down).</summary>
    public int Reset()
    {
        int n = Backlog;
        _tfifo.Clear();
        _head.Clear();
        BacklogBytes = 0;
        return n;
    }

    /// <summary>
    /// Hands every held frame over with its send time, in release order (reordered frames first, then by
    /// time_to_send), and empties the queue; the frames count as <see cref="Sent"/>. Used when the settings change:
    /// <c>netem_change</c> keeps queued packets at their time_to_send while new packets meet the new parameters.
    /// </summary>
    public List<(ReadOnlyMemory<byte> Frame, long TimeToSend)> TakeBacklog()
    {
        var result = new List<(ReadOnlyMemory<byte>, long)>(Backlog);
        foreach (var e in _head) result.Add((e.Frame, e.TimeToSend));
        while (_tfifo.TryDequeue(out var e, out _)) result.Add((e.Frame, e.TimeToSend));
        _head.Clear();
        foreach (var (f, _) in result) Deliver(f, out _);
        return result;
    }

    private void TfifoEnqueue(Entry e)
    {
        if (_tfifo.Count == 0 || e.TimeToSend > _tfifoMaxTime)
            _tfifoMaxTime = e.TimeToSend;
        _tfifo.Enqueue(e, (e.TimeToSend, _seq++));
    }

    /// <summary><c>get_slot_next</c>: the next boundary U[min, max] (or tabledist) after now, with fresh budgets.</summary>
    private void GetSlotNext(long nowNs)
    {
        var slot = _s.Slot!.Value;
        long next;
        if (_slotDist is null && slot.DistJitterNs == 0)
        {
            ulong span = (ulong)(slot.MaxDelayNs - slot.MinDelayNs);
            next = slot.MinDelayNs + (long)(ulong)(((UInt128)span * NextU32()) >> 32);
        }
        else
        {
            var none = new CorrelatedState();
            next = TableDist(slot.DistDelayNs, (int)Math.Min(slot.DistJitterNs, int.MaxValue), ref none, _slotDist);
        }
        _slotNext = nowNs + next;
        _slotPacketsLeft = _slotMaxPackets;
        _slotBytesLeft = _slotMaxBytes;
    }

    /// <summary><c>packet_time_ns</c>: (len + overhead, rounded up to whole cells with cell overhead) / rate.</summary>
    private long PacketTimeNs(long len)
    {
        len += _s.PacketOverhead;
        if (_s.CellSize != 0)
        {
            long cells = len / _s.CellSize;
            if (len > cells * _s.CellSize) cells++;
            len = cells * (_s.CellSize + _s.CellOverhead);
        }
        return (long)((UInt128)(ulong)Math.Max(0, len) * 1_000_000_000UL / _s.RateBytesPerSecond);
    }

    private bool LossEvent() => _s.LossModel switch
    {
        NetemLossModel.Random => _s.Loss != 0 && _s.Loss >= GetCrandom(ref _lossCor),
        NetemLossModel.FourState => Loss4State(),
        NetemLossModel.GilbertElliott => LossGilbElliott(),
        _ => false,
    };

    /// <summary><c>loss_4state</c>: 1 TX in gap, 2 TX in burst, 3 lost in burst, 4 isolated loss; u32 sums wrap as in C.</summary>
    private bool Loss4State()
    {
        var g = _s.FourState;
        uint rnd = NextU32();
        switch (_clgState)
        {
            case 1:
                if (rnd < g.P14) { _clgState = 4; return true; }
                if (rnd < unchecked(g.P13 + g.P14)) { _clgState = 3; return true; }
                _clgState = 1;
                break;
            case 2:
                if (rnd < g.P23) { _clgState = 3; return true; }
                _clgState = 2;
                break;
            case 3:
                if (rnd < g.P32) _clgState = 2;
                else if (rnd < unchecked(g.P31 + g.P32)) _clgState = 1;
                else { _clgState = 3; return true; }
                break;
            case 4:
                _clgState = 1;
                break;
        }
        return false;
    }

    /// <summary><c>loss_gilb_ell</c>: transition first, then lose with the probability of the state the packet met.</summary>
    private bool LossGilbElliott()
    {
        var g = _s.GilbertElliott;
        switch (_clgState)
        {
            case 1:
                if (NextU32() < g.P) _clgState = 2;
                if (NextU32() < g.K1) return true;
                break;
            case 2:
                if (NextU32() < g.R) _clgState = 1;
                if (NextU32() > g.H) return true;
                break;
        }
        return false;
    }

    /// <summary><c>tabledist</c>: mu ± sigma, uniform without a table, else mu + sigma·table[rnd % size]/8192 rounded.</summary>
    private long TableDist(long mu, int sigma, ref CorrelatedState state, short[]? dist)
    {
        if (sigma == 0) return mu;
        uint rnd = GetCrandom(ref state);
        if (dist is null)
            return (rnd % (2 * (uint)sigma)) + mu - sigma;
        long t = dist[rnd % (uint)dist.Length];
        long x = (sigma % NetemDistributionTables.DistScale) * t;
        if (x >= 0) x += NetemDistributionTables.DistScale / 2;
        else x -= NetemDistributionTables.DistScale / 2;
        return x / NetemDistributionTables.DistScale + (sigma / NetemDistributionTables.DistScale) * t + mu;
    }

    private CorrelatedState InitCrandom(uint rho) => new() { Rho = rho, Last = NextU32() };

    /// <summary><c>get_crandom</c>: next = (rnd·(2³²−ρ') + last·ρ') >> 32 with ρ' = ρ + 1.</summary>
    private uint GetCrandom(ref CorrelatedState state)
    {
        if (state.Rho == 0) return NextU32();
        ulong value = NextU32();
        ulong rho = (ulong)state.Rho + 1;
        uint answer = (uint)((value * ((1UL << 32) - rho) + state.Last * rho) >> 32);
        state.Last = answer;
        return answer;
    }

    private uint NextU32() => (uint)_rng.NextInt64(1L << 32);

    /// <summary>
    /// <c>INET_ECN_set_ce</c> on an untagged Ethernet frame: IPv4 ECT(0)/ECT(1) → CE with the checksum
    /// adjusted as <c>IP_ECN_set_ce</c> does; IPv6 as <c>IP6_ECN_set_ce</c>; an already-CE packet counts as
    /// marked; Not-ECT or non-IP returns false (the caller drops). Marks a copy, never the caller's buffer.
    /// </summary>
    /// <summary><c>sizeof(struct ipv6hdr)</c>.</summary>
    private const int Ipv6FixedHeaderLength = 40;
    /// <summary>The ECN bits' place in the second byte of an IPv6 header (traffic class bits 1–0 after the version nibble).</summary>
    private const int Ipv6EcnShift = 4;

    private static bool TrySetCe(ref ReadOnlyMemory<byte> frame)
    {
        if (!EthernetHeader.TryRead(frame.Span, out var eth)) return false;
        if (eth.EtherType == EtherType.Ipv4)
        {
            if (!Ipv4Header.TryRead(eth.Payload, out var ip) || ip.Version != 4) return false;
            if (ip.Ecn == 0) return false;                          // Not-ECT
            if (ip.Ecn == Ipv4Header.EcnMask) return true;          // CE: already marked
            var copy = frame.ToArray();
            new Ipv4HeaderWriter(copy.AsSpan(EthernetHeader.Length)).SetCe();
            frame = copy;
            return true;
        }
        if (eth.EtherType == EtherType.Ipv6)
        {
            // IP6_ECN_set_ce: the ECN bits are the low two of the traffic class, which straddles the first two bytes.
            var ip6 = eth.Payload;
            if (ip6.Length < Ipv6FixedHeaderLength || ip6[0] >> 4 != 6) return false;
            int ecn = (ip6[1] >> Ipv6EcnShift) & Ipv4Header.EcnMask;
            if (ecn == 0) return false;
            var copy = frame.ToArray();
            copy[EthernetHeader.Length + 1] |= Ipv4Header.EcnMask << Ipv6EcnShift;
            frame = copy;
            return true;
        }
        return false;
    }
}
