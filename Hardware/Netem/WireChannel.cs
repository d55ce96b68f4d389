using System.Collections.Immutable;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Hardware.Netem;

/// <summary>Seeds for a wire's random sources: a stable FNV-1a hash of the run seed, the wire's name and a purpose.</summary>
public static class WireSeed
{
    /// <summary>
    /// The same (seed, wire, purpose) gives the same value in every process (string.GetHashCode does not), so a
    /// run with the same seed draws the same faults.
    /// </summary>
    public static int For(int runSeed, string wire, string purpose)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in $"{runSeed}/{wire}/{purpose}")
        {
            h = (h ^ (byte)c) * 1099511628211UL;
            h = (h ^ (byte)(c >> 8)) * 1099511628211UL;
        }
        return (int)((h ^ (h >> 32)) & 0x7fffffff);
    }

    /// <summary>A netem <c>seed</c> option (u64) folded into a <see cref="Random"/> seed.</summary>
    public static int FromNetemSeed(ulong seed) => (int)((seed ^ (seed >> 31) ^ (seed >> 62)) & 0x7fffffff);
}

/// <summary>
/// A fault on one direction of the medium, for a capture (<see cref="WireChannel.Events"/>): what happened in the
/// configuration's words (<c>netem loss</c>, <c>fault rule 2: drop</c>), the drop reason when frames were freed, the
/// frame (empty when the event concerns several, <see cref="Count"/> of them), the number of frames and when it happened
/// on the owner's clock (ns; null: when the owner drains it).
/// </summary>
public readonly record struct WireChannelEvent(string What, DropReason? Drop, ReadOnlyMemory<byte> Frame, long Count = 1, long? AtNs = null);

/// <summary>
/// One direction of a simulated cable, as a plain class the wire actor drives with its clock (ns):
/// <list type="number">
/// <item>the cable may be cut: everything on it and everything offered while cut is dropped (SIM_LINK_DOWN);</item>
/// <item>conditional fault rules (<see cref="FaultMatcher"/>) drop, corrupt, duplicate or hold a frame;</item>
/// <item>netem (<see cref="NetemQueue"/>, the qdisc's order: duplicate → loss → corrupt → limit → delay/reorder/rate/slot);</item>
/// <item>the propagation delay; then the frame is delivered to the far end.</item>
/// </list>
/// Frames held by netem, a fault delay or the propagation delay are "in flight" (at most <see cref="MaxInFlight"/>
/// in the propagation stage; more is a SIM_WIRE_OVERFLOW drop). Conservation, checked by <see cref="Stats"/>:
/// Offered + Duplicated = Delivered + Σ Drops + InFlight.
/// Every draw comes from generators seeded from the seed given (fault corruption positions from one,
/// each netem configuration from its own, so changing netem never shifts the fault draws).
/// </summary>
public sealed class WireChannel
{
    /// <summary>Frames the propagation stage holds at most (a bound on fault-delayed and propagating frames).</summary>
    public const int MaxInFlight = 65536;

    private readonly int _seed;
    private readonly long _propagationNs;
    private readonly Random _faultRng;
    private FaultMatcher _faults;
    private NetemQueue? _netem;
    private int _netemGeneration;
    private readonly PriorityQueue<ReadOnlyMemory<byte>, (long Time, long Seq)> _propagating = new();
    private long _seq;

    private long _offered, _delivered, _faultDuplicated, _faultCorrupted;
    private int _directInFlight; // OfferDirect's frames not arrived yet
    // Counters of netem queues replaced or cleared, so totals survive a change of settings.
    private long _netemDupBase, _netemCorruptBase, _netemReorderBase, _netemEcnBase, _netemLossBase, _netemLimitBase;
    private readonly SortedDictionary<DropReason, long> _drops = new();

    /// <param name="seed">This direction's seed (<see cref="WireSeed.For"/> of the run seed, the wire and the direction).</param>
    /// <param name="propagationNs">The cable's propagation delay.</param>
    public WireChannel(int seed, long propagationNs, NetemQopt? netem = null, ImmutableArray<FaultRule> faults = default, long nowNs = 0)
    {
        _seed = seed;
        _propagationNs = Math.Max(0, propagationNs);
        _faultRng = new Random(WireSeed.For(seed, "", "faults"));
        _faults = new FaultMatcher(faults);
        SetNetem(netem, nowNs);
    }

    public bool IsCut { get; private set; }

    /// <summary>
    /// Where faults on the medium are recorded as they happen (<see cref="WireChannelEvent"/>), for a capture; null (the
    /// default) records nothing. The owner drains it.
    /// </summary>
    public List<WireChannelEvent>? Events { get; set; }
    public NetemQopt? Netem => _netem?.Settings;
    public FaultMatcher Faults => _faults;

    /// <summary>
    /// Installs netem settings (validated; null removes netem), as <c>tc qdisc change</c>: frames already held keep
    /// their send times (they move on to the propagation stage when due), new frames meet the new settings.
    /// </summary>
    /// <exception cref="ArgumentException">The settings fail <see cref="NetemQopt.TryValidate"/>.</exception>
    public void SetNetem(NetemQopt? settings, long nowNs)
    {
        NetemQueue? next = null;
        if (settings is not null)
        {
            // seed given → tc's seed; else the run's seed, one stream per configuration so a change replays too.
            int seed = settings.Seed is { } s ? WireSeed.FromNetemSeed(s) : WireSeed.For(_seed, "", $"netem/{_netemGeneration}");
            next = new NetemQueue(settings, new Random(seed), nowNs);
            _netemGeneration++;
        }
        if (_netem is { } old)
        {
            foreach (var (frame, time) in old.TakeBacklog())
                Propagate(frame, Math.Max(time, nowNs) + _propagationNs);
            _netemDupBase += old.Duplicated;
            _netemCorruptBase += old.Corrupted;
            _netemReorderBase += old.Reordered;
            _netemEcnBase += old.EcnMarked;
            _netemLossBase += old.DroppedBy(DropReason.SIM_NETEM_LOSS);
            _netemLimitBase += old.DroppedBy(DropReason.QDISC_DROP);
        }
        _netem = next;
    }

    /// <summary>Replaces the conditional fault rules; the new rules count from zero.</summary>
    public void SetFaults(ImmutableArray<FaultRule> rules) => _faults = new FaultMatcher(rules);

    /// <summary>Cuts the cable: every frame in flight is dropped (SIM_LINK_DOWN). Returns whether the state changed.</summary>
    public bool Cut()
    {
        if (IsCut) return false;
        IsCut = true;
        int held = (_netem?.Reset() ?? 0) + _propagating.Count + _directInFlight;
        _propagating.Clear();
        _directInFlight = 0; // the owner has taken back their deliveries (see OfferDirect)
        Drop(DropReason.SIM_LINK_DOWN, held);
        if (held > 0) Events?.Add(new WireChannelEvent($"cable cut: {held} frame(s) in flight lost", DropReason.SIM_LINK_DOWN, default, held));
        return true;
    }

    /// <summary>Mends the cable. Returns whether the state changed.</summary>
    public bool Restore()
    {
        if (!IsCut) return false;
        IsCut = false;
        return true;
    }

    /// <summary>
    /// One frame from the sender at <paramref name="nowNs"/>. Frames due at once (no delay anywhere) are added to
    /// <paramref name="deliver"/>; the rest wait for <see cref="Release"/> at <see cref="NextDeadlineNs"/>.
    /// Never writes the caller's buffer (corruption works on a copy).
    /// </summary>
    public void Offer(ReadOnlyMemory<byte> frame, long nowNs, List<ReadOnlyMemory<byte>> deliver)
    {
        _offered++;
        if (IsCut)
        {
            Drop(DropReason.SIM_LINK_DOWN, 1);
            Events?.Add(new WireChannelEvent("cable cut", DropReason.SIM_LINK_DOWN, frame, AtNs: nowNs));
            return;
        }
        if (_faults.Select(frame.Span, Direction) is { } rule)
        {
            if (Events is { } ev)
                ev.Add(new WireChannelEvent($"fault rule {_faults.LastSelected}: {rule.Action.ToString().ToLowerInvariant()}",
                    rule.Action == FaultAction.Drop ? DropReason.SIM_FAULT_RULE : null, frame, AtNs: nowNs));
            switch (rule.Action)
            {
                case FaultAction.Drop:
                    Drop(DropReason.SIM_FAULT_RULE, 1);
                    return;
                case FaultAction.Corrupt:
                    frame = FlipBit(frame);
                    _faultCorrupted++;
                    break;
                case FaultAction.Delay:
                    Propagate(frame, nowNs + rule.Delay.Ticks * 100 + _propagationNs);
                    Release(nowNs, deliver);
                    return;
                case FaultAction.Duplicate:
                    _faultDuplicated++;
                    Enter(frame, nowNs);
                    break;
            }
        }
        Enter(frame, nowNs);
        Release(nowNs, deliver);
    }

    /// <summary>The direction this channel carries; set by the owner, used to pick the fault rules that apply.</summary>
    public WireDirection Direction { get; init; }

    private void Enter(ReadOnlyMemory<byte> frame, long nowNs)
    {
        if (_netem is null) { Propagate(frame, nowNs + _propagationNs); return; }
        var v = _netem.Enqueue(frame, nowNs);
        if (Events is { } ev)
        {
            // netem_enqueue's order: duplicate, loss (or an ECN mark instead), corrupt, the limit.
            if (v.Duplicated) ev.Add(new WireChannelEvent("netem duplicate", null, frame, AtNs: nowNs));
            if (v.EcnMarked) ev.Add(new WireChannelEvent("netem ecn: CE marked instead of lost", null, frame, AtNs: nowNs));
            if (v.Corrupted) ev.Add(new WireChannelEvent("netem corrupt", null, frame, AtNs: nowNs));
            if (v.Drop is { } reason)
                ev.Add(new WireChannelEvent(reason == DropReason.SIM_NETEM_LOSS ? "netem loss" : "netem limit", reason, frame, AtNs: nowNs));
        }
        while (_netem.TryDequeue(nowNs, out var f, out var due)) Propagate(f, due + _propagationNs);
    }

    /// <summary>
    /// One half of a wire whose ends live on two simulation partitions (cluster nodes): the propagation stage is the
    /// crossing itself, so a frame that would enter it leaves here at once with its arrival time at the far end (counted
    /// delivered); the far partition delivers it at that instant. Null (the default): the channel propagates itself.
    /// </summary>
    public Action<ReadOnlyMemory<byte>, long>? Egress { get; set; }

    private void Propagate(ReadOnlyMemory<byte> frame, long arrivalNs)
    {
        if (Egress is { } egress)
        {
            _delivered++;
            egress(frame, arrivalNs);
            return;
        }
        if (_propagating.Count >= MaxInFlight)
        {
            Drop(DropReason.SIM_WIRE_OVERFLOW, 1);
            Events?.Add(new WireChannelEvent("wire overflow", DropReason.SIM_WIRE_OVERFLOW, frame));
            return;
        }
        _propagating.Enqueue(frame, (arrivalNs, _seq++));
    }

    /// <summary>Moves every frame due at <paramref name="nowNs"/> on (netem release, then arrival), in order, into <paramref name="deliver"/>.</summary>
    public void Release(long nowNs, List<ReadOnlyMemory<byte>> deliver)
    {
        // A frame leaves netem at its own due time (not the tick that noticed it), then propagates.
        if (_netem is not null)
            while (_netem.TryDequeue(nowNs, out var f, out var due)) Propagate(f, due + _propagationNs);
        while (_propagating.TryPeek(out var f, out var key) && key.Time <= nowNs)
        {
            _propagating.Dequeue();
            deliver.Add(f);
            _delivered++;
        }
    }

    /// <summary>When <see cref="Release"/> next has something to do; null when nothing is in flight.</summary>
    public long? NextDeadlineNs
    {
        get
        {
            long? d = _netem?.NextDeadlineNs;
            if (_propagating.TryPeek(out _, out var key) && (d is null || key.Time < d)) d = key.Time;
            return d;
        }
    }

    /// <summary>Nothing on the medium and nothing in flight: frames may go straight through (<see cref="PassThrough"/>).</summary>
    public bool IsPassThrough => Egress is null && _propagationNs == 0 && _netem is null && _faults.IsEmpty && !IsCut && _propagating.Count == 0;

    /// <summary>
    /// Only the propagation delay on the medium, and nothing in flight through the channel itself: a frame's arrival is
    /// known when it enters (<see cref="ArrivalOf"/>), so the owner may schedule its delivery at once
    /// (<see cref="OfferDirect"/>) instead of waiting for <see cref="Release"/>. Not with capture taps (<see cref="Events"/>),
    /// which are told each frame's fate as it happens here.
    /// </summary>
    public bool IsDelayOnly => Egress is null && _propagationNs > 0 && _netem is null && _faults.IsEmpty && !IsCut
                               && _propagating.Count == 0 && Events is null;

    /// <summary>When a frame entering at <paramref name="nowNs"/> arrives at the far end while <see cref="IsDelayOnly"/>.</summary>
    public long ArrivalOf(long nowNs) => nowNs + _propagationNs;

    /// <summary>
    /// A frame entering while <see cref="IsDelayOnly"/> whose delivery the owner schedules itself: counted offered and in
    /// flight until <see cref="DirectArrived"/>; false (dropped, SIM_WIRE_OVERFLOW) past <see cref="MaxInFlight"/>. The
    /// owner takes back its undelivered ones before <see cref="Cut"/>, which counts them lost as any frame in flight.
    /// </summary>
    public bool OfferDirect()
    {
        _offered++;
        if (_propagating.Count + _directInFlight >= MaxInFlight)
        {
            Drop(DropReason.SIM_WIRE_OVERFLOW, 1);
            return false;
        }
        _directInFlight++;
        return true;
    }

    /// <summary><paramref name="frames"/> of those <see cref="OfferDirect"/> admitted have reached the far end.</summary>
    public void DirectArrived(int frames)
    {
        _directInFlight -= frames;
        _delivered += frames;
    }

    /// <summary>Counts frames that went straight through while <see cref="IsPassThrough"/>.</summary>
    public void PassThrough(int frames)
    {
        _offered += frames;
        _delivered += frames;
    }

    public int InFlight => (_netem?.Backlog ?? 0) + _propagating.Count + _directInFlight;

    public WireDirectionStats Stats()
    {
        var drops = new SortedDictionary<DropReason, long>(_drops);
        void Add(DropReason r, long n) { if (n > 0) drops[r] = drops.GetValueOrDefault(r) + n; }
        Add(DropReason.SIM_NETEM_LOSS, _netemLossBase + (_netem?.DroppedBy(DropReason.SIM_NETEM_LOSS) ?? 0));
        Add(DropReason.QDISC_DROP, _netemLimitBase + (_netem?.DroppedBy(DropReason.QDISC_DROP) ?? 0));
        return new WireDirectionStats(_offered, _delivered, InFlight,
            _faultDuplicated + _netemDupBase + (_netem?.Duplicated ?? 0),
            _faultCorrupted + _netemCorruptBase + (_netem?.Corrupted ?? 0),
            _netemReorderBase + (_netem?.Reordered ?? 0),
            _netemEcnBase + (_netem?.EcnMarked ?? 0),
            drops.ToImmutableSortedDictionary());
    }

    private void Drop(DropReason reason, long n)
    {
        if (n > 0) _drops[reason] = _drops.GetValueOrDefault(reason) + n;
    }

    /// <summary>netem's corruption (one bit at a random position) on a copy, drawn from the fault generator.</summary>
    private ReadOnlyMemory<byte> FlipBit(ReadOnlyMemory<byte> frame)
    {
        if (frame.Length == 0) return frame;
        var copy = frame.ToArray();
        copy[_faultRng.Next(copy.Length)] ^= (byte)(1 << _faultRng.Next(8));
        return copy;
    }
}
