using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Sockets;
using ActorStack.Hardware.Nic;
using ActorStack.Messages;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;
using ActorStack.Actors;

namespace ActorStack.Actors.Devices;

/// <summary>A TX descriptor: the frame, and whom to tell when it is freed (pktgen, or the socket it is charged to).</summary>
public readonly record struct TxEntry(ReadOnlyMemory<byte> Frame, IActorRef? Owner, int Truesize, bool Pktgen);

/// <summary>
/// The transmit half of one device without an actor: the qdisc (<c>pfifo_fast</c>, <see cref="PfifoFast{T}"/>) in front
/// of the driver's TX descriptor ring (<see cref="TxRing{T}"/>). <see cref="DevXmit"/> is <c>__dev_xmit_skb</c>
/// (<c>TCQ_F_CAN_BYPASS</c>, <c>qdisc_drop</c>), <see cref="QdiscRun"/> is <c>qdisc_run</c> → <c>qdisc_restart</c> →
/// <c>sch_direct_xmit</c> with <c>dev_requeue_skb</c> (<c>q->gso_skb</c>) and <c>netif_tx_stop_queue</c>,
/// <see cref="Complete"/> is <c>igb_clean_tx_irq</c> with <c>netif_wake_queue</c>; GSO packets are posted through
/// <see cref="GsoPosting"/>. Time is passed in. What it decides comes out as state for its actor to carry out:
/// frames for the wire (<see cref="TakeWireFrames"/>), copies for the <c>ptype_all</c> taps (<see cref="Taps"/>),
/// completions for pktgen (<see cref="Completions"/>) and freed buffers (the <see cref="SkbFree"/> given). Device
/// counters (<c>tx_*</c>, qdisc statistics) and drops go to the device and the namespace, as the kernel's per-CPU
/// counters do.
/// </summary>
public sealed class TxPath
{
    private readonly NetNamespace _ns;
    private readonly NetDevice _dev;
    private readonly DeviceCounters _stats;
    private readonly SkbFree _free;
    private readonly PfifoFast<SkBuff> _qdisc;
    private readonly TxRing<TxEntry> _ring;
    private readonly GsoPosting _gso;
    private readonly Dictionary<IActorRef, int> _pktgenDone = new(ActorRefComparer.Instance);
    private ImmutableArray<ReadOnlyMemory<byte>>.Builder? _wire;
    // q->gso_skb: a packet dequeued whose frames the TX ring cannot take yet (dev_requeue_skb); still in the qdisc's backlog.
    private SkBuff? _gsoSkb;

    public TxPath(NetNamespace ns, NetDevice dev, SkbFree free)
    {
        _ns = ns;
        _dev = dev;
        _stats = dev.Stats;
        _free = free;
        _qdisc = new PfifoFast<SkBuff>(dev.Settings.TxQueueLen);
        _ring = new TxRing<TxEntry>(dev.Settings.TxRing);
        _gso = new GsoPosting(dev);
    }

    /// <summary>Packets in the qdisc, the requeued head included (<c>qdisc backlog</c>).</summary>
    public int Backlog => _qdisc.Count + (_gsoSkb is null ? 0 : 1);
    /// <summary>Descriptors posted and not yet completed.</summary>
    public int RingCount => _ring.Count;
    /// <summary><c>__QUEUE_STATE_DRV_XOFF</c> of the TX queue (<c>netif_tx_stop_queue</c>; woken by a completion).</summary>
    public bool Stopped { get; private set; }
    /// <summary><c>__QUEUE_STATE_DRV_XOFF</c> for all queues (<c>netif_tx_stop_all_queues</c>): from a reset until the link is up again.</summary>
    public bool Xoff { get; set; }
    /// <summary><c>txq->trans_start</c>: the last time a descriptor was posted (<c>txq_trans_update</c>).</summary>
    public long TransStartTicks { get; private set; }
    /// <summary>A device fault: the TX DMA engine hangs and never fetches a descriptor posted from now on.</summary>
    public bool TxHung { get; set; }
    /// <summary>Descriptors at the tail of the TX ring that the hung DMA engine never sent.</summary>
    public int TxUnsent { get; private set; }

    /// <summary>
    /// What was sent, as the <c>ptype_all</c> taps are to see it (<c>dev_queue_xmit_nit</c>: the TSO super-packet, or
    /// each software segment), gathered only when the host has taps; the actor hands each tap its own copy.
    /// </summary>
    public List<SkBuff> Taps { get; } = new();
    /// <summary><see cref="TxCompleted"/> for pktgen, in order.</summary>
    public List<(IActorRef Owner, TxCompleted Completed)> Completions { get; } = new();

    /// <summary>TX descriptors a packet needs: one per frame it goes out as (a GSO packet: <c>gso_segs</c>), at most the ring.</summary>
    private int DescNeeded(in SkBuff skb) => GsoPosting.IsGso(skb) ? Math.Min(skb.GsoSegs, _ring.Size) : 1;

    /// <summary>
    /// <c>__dev_xmit_skb</c> for each buffer: straight to the ring when the qdisc is empty and the queue runs
    /// (<c>TCQ_F_CAN_BYPASS</c>), else onto its band, dropping what a full band cannot take (<c>qdisc_drop</c>:
    /// <c>NET_XMIT_DROP</c> to the sender); then <c>qdisc_run</c>.
    /// </summary>
    public void DevXmit(ImmutableArray<SkBuff> skbs, long now)
    {
        foreach (var skb in skbs)
        {
            if (_qdisc.Count == 0 && _gsoSkb is null && !Stopped && !Xoff && _ring.Free >= DescNeeded(skb))
            {
                Post(skb, now);
                continue;
            }
            if (_qdisc.Enqueue(skb, skb.Priority))
            {
                Interlocked.Increment(ref _stats.QdiscBacklog);
                continue;
            }
            Interlocked.Increment(ref _stats.QdiscDrops);
            _ns.Drops.Add(DropReason.QDISC_DROP, $"{_dev.Name}/qdisc", skb.Data, _dev.Ifindex, transmit: true);
            _free.XmitDrop(skb); // NET_XMIT_DROP to the sender
        }
        QdiscRun(now);
    }

    /// <summary><c>qdisc_restart</c> until the qdisc is empty or the ring is full (then <c>netif_tx_stop_queue</c>).</summary>
    public void QdiscRun(long now)
    {
        if (Xoff) return;                     // netif_tx_stop_all_queues: the qdisc keeps its packets
        while (true)
        {
            SkBuff skb;
            if (_gsoSkb is { } held)
            {
                if (_ring.Free < DescNeeded(held)) break;
                skb = held;
                _gsoSkb = null;
            }
            else
            {
                if (_ring.Full || !_qdisc.TryDequeue(out skb)) break;
                if (_ring.Free < DescNeeded(skb))
                {
                    _gsoSkb = skb;            // igb_maybe_stop_tx: not enough descriptors for all its frames
                    break;
                }
            }
            Interlocked.Decrement(ref _stats.QdiscBacklog);
            Post(skb, now);
        }
        if ((_qdisc.Count > 0 || _gsoSkb is not null) && !Stopped)
        {
            Stopped = true;
            Interlocked.Increment(ref _stats.TxQueueStopped);
            Interlocked.Increment(ref _stats.QdiscRequeues); // dev_requeue_skb: the head waits for the ring
        }
    }

    /// <summary>
    /// <c>qdisc_reset</c>: every queued packet (the requeued head first) dropped with <paramref name="reason"/>,
    /// <c>tx_dropped</c>, and its charge returned.
    /// </summary>
    public void Purge(DropReason reason)
    {
        var purged = _qdisc.Reset();
        if (_gsoSkb is { } g)
        {
            purged.Insert(0, g);
            _gsoSkb = null;
        }
        if (purged.Count == 0) return;
        Interlocked.Add(ref _stats.QdiscBacklog, -purged.Count);
        Interlocked.Add(ref _stats.TxDropped, purged.Count);
        _ns.Drops.Add(reason, $"{_dev.Name}/qdisc", purged.Count);
        foreach (var skb in purged) _free.Drop(skb);
    }

    /// <summary>
    /// <c>validate_xmit_skb</c> + <c>ndo_start_xmit</c>: a descriptor per frame. The qdisc counts <c>gso_segs</c>
    /// packets and every segment's headers (<c>qdisc_pkt_len_init</c>). The buffer's charge returns with its last
    /// frame's descriptor.
    /// </summary>
    private void Post(in SkBuff skb, long now)
    {
        if (GsoPosting.IsGso(skb))
        {
            PostGso(skb, now);
            return;
        }
        _ring.TryPost(new TxEntry(skb.Data, skb.Owner, skb.Truesize, false));
        Interlocked.Increment(ref _stats.QdiscPackets);
        Interlocked.Add(ref _stats.QdiscBytes, skb.Length);
        PostFrame(skb.Data, now);
        Tap(skb);
    }

    private void PostFrame(ReadOnlyMemory<byte> frame, long now)
    {
        TransStartTicks = now;                // txq_trans_update
        if (TxHung) TxUnsent++;               // the hung DMA engine never fetches the descriptor
        else (_wire ??= ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>()).Add(frame);
    }

    private void PostGso(in SkBuff skb, long now)
    {
        int n = _gso.Segment(skb, out bool tso);
        if (n == 0)
        {
            // Not a TCP/IPv4 packet the segmenter understands: validate_xmit_skb drops it (tx_dropped).
            Interlocked.Increment(ref _stats.TxDropped);
            _ns.Drops.Add(DropReason.SKB_GSO_SEG, $"{_dev.Name}/gso");
            _free.Drop(skb);
            return;
        }
        if (tso) Tap(skb);
        var frames = _gso.Frames;
        long bytes = 0;
        for (int i = 0; i < n; i++)
        {
            var f = frames[i];
            bytes += f.Length;
            bool last = i == n - 1;
            if (!_ring.TryPost(new TxEntry(f, last ? skb.Owner : null, last ? skb.Truesize : 0, false)))
            {
                // More frames than the whole ring holds: the rest cannot be posted (NETDEV_TX_BUSY for ever).
                int lost = n - i;
                Interlocked.Add(ref _stats.TxDropped, lost);
                _ns.Drops.Add(DropReason.FULL_RING, $"{_dev.Name}/tx", lost);
                if (skb.Owner is not null) _free.Free(skb.Owner, skb.Truesize);
                break;
            }
            PostFrame(f, now);
            if (!tso) Tap(skb with { Data = f, GsoSize = 0, GsoSegs = 0 });
        }
        Interlocked.Add(ref _stats.QdiscPackets, n);
        Interlocked.Add(ref _stats.QdiscBytes, bytes);
        _gso.Clear();
    }

    /// <summary><c>dev_queue_xmit_nit</c>: what the <c>ptype_all</c> taps see of this packet, kept for the actor to copy to each.</summary>
    private void Tap(in SkBuff skb)
    {
        if (_ns.Ptypes.All.IsEmpty) return;
        Taps.Add(skb);
    }

    /// <summary>
    /// The frames posted since the last call, for the wire in one message (counted in <c>tx_packets</c> /
    /// <c>tx_bytes</c>); empty when there are none.
    /// </summary>
    public ImmutableArray<ReadOnlyMemory<byte>> TakeWireFrames()
    {
        if (_wire is null || _wire.Count == 0) return ImmutableArray<ReadOnlyMemory<byte>>.Empty;
        long bytes = 0;
        foreach (var f in _wire) bytes += f.Length;
        Interlocked.Add(ref _stats.TxPackets, _wire.Count);
        Interlocked.Add(ref _stats.TxBytes, bytes);
        var frames = _wire.ToImmutable();
        _wire.Clear();
        return frames;
    }

    /// <summary>
    /// <c>ndo_start_xmit</c> called by pktgen, which bypasses the qdisc: each frame on the ring (answered by
    /// <see cref="TxCompleted"/> once its descriptor is freed); returns how many the full ring refused
    /// (<c>NETDEV_TX_BUSY</c>).
    /// </summary>
    public int PktgenXmit(ImmutableArray<ReadOnlyMemory<byte>> frames, IActorRef owner, long now)
    {
        int busy = 0;
        foreach (var f in frames)
        {
            if (!_ring.TryPost(new TxEntry(f, owner, 0, true))) { busy++; continue; }
            PostFrame(f, now);
        }
        return busy;
    }

    /// <summary>
    /// The TX-completion interrupt (<c>igb_clean_tx_irq</c>): the wire took the <paramref name="count"/> oldest frames,
    /// their descriptors and buffers are freed (pktgen's completions aggregated per sender), and a stopped queue is
    /// woken (<c>netif_wake_queue</c>, <c>tx_restart_queue</c>) to run the qdisc unless <paramref name="noop"/>
    /// (<c>noop_qdisc</c> on the queue).
    /// </summary>
    public void Complete(int count, bool noop, long now)
    {
        _ring.Complete(count, e =>
        {
            if (e.Pktgen) _pktgenDone[e.Owner!] = _pktgenDone.GetValueOrDefault(e.Owner!) + 1;
            else _free.Free(e.Owner, e.Truesize);
        });
        TakePktgenDone();
        if (Stopped && !_ring.Full)
        {
            Stopped = false;
            Interlocked.Increment(ref _stats.TxRestartQueue);
            if (!noop) QdiscRun(now);
        }
    }

    private void TakePktgenDone()
    {
        foreach (var (owner, n) in _pktgenDone) Completions.Add((owner, new TxCompleted(n, 0)));
        _pktgenDone.Clear();
    }

    /// <summary>
    /// <c>igb_clean_tx_ring</c> as a reset does it: the qdisc purged (<c>QUEUE_PURGE</c>); descriptors already on the
    /// wire freed (their charge returns); descriptors the hung DMA never sent dropped (<c>SIM_DRIVER_RESET</c>,
    /// <c>tx_dropped</c>). Returns how many were on the wire: their completions, still to come, are stale.
    /// </summary>
    public int Reset()
    {
        Purge(DropReason.QUEUE_PURGE);
        var entries = _ring.Clear();
        int sent = entries.Count - TxUnsent;
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (i < sent)
            {
                if (e.Pktgen) _pktgenDone[e.Owner!] = _pktgenDone.GetValueOrDefault(e.Owner!) + 1;
                else _free.Free(e.Owner, e.Truesize);
                continue;
            }
            Interlocked.Increment(ref _stats.TxDropped);
            _ns.Drops.Add(DropReason.SIM_DRIVER_RESET, $"{_dev.Name}/tx");
            if (e.Pktgen) Completions.Add((e.Owner!, new TxCompleted(0, 1)));
            else _free.Drop(new SkBuff(e.Frame, _dev.Ifindex, 0, 0, 0, e.Truesize) { Owner = e.Owner });
        }
        TakePktgenDone();
        return sent;
    }
}
