using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Mailboxes;
using ActorStack.Actors.Net;
using ActorStack.Actors.Sockets;
using ActorStack.Hardware.Nic;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Devices;

/// <summary>
/// A NIC and its driver (igb-like), S8 and S10. The hardware half DMA-writes
/// frames from the wire into a bounded RX descriptor ring per queue (RSS picks
/// the queue) and raises the queue's IRQ if it is unmasked; the driver half
/// handles the IRQ (mask, <c>napi_schedule</c> on the IRQ's CPU) and answers
/// the softirq's polls with up to <c>weight</c> buffers, completing NAPI and
/// unmasking the IRQ when a poll finishes under its weight.
///
/// The ring is explicit actor state, not a mailbox: NAPI must look into it and
/// take a bounded number of frames per poll. The mailbox is the NIC's input
/// FIFO (frames from the wire not yet DMA-written), bounded by <c>rx-fifo</c>;
/// its overflow is <c>rx_fifo_errors</c>.
/// </summary>
public sealed class NicActor : ReceiveActor
{
    /// <summary>An interrupt from the hardware to the driver's handler.</summary>
    private sealed record HardIrq(int Queue);

    private readonly NetNamespace _ns;
    private readonly NetDevice _dev;
    private readonly DeviceCounters _stats;
    private readonly RxRing[] _rings;
    private readonly IrqLine[] _irqs;
    private readonly bool[] _irqPending;
    private readonly bool[] _napiScheduled;
    private readonly RssHasher _rss;
    private readonly string[] _ringSite;
    private IActorRef _wire = ActorRefs.Nobody;

    /// <summary>A TX descriptor: the frame, and whom to tell when it is freed (pktgen, or the socket it is charged to).</summary>
    private readonly record struct TxEntry(ReadOnlyMemory<byte> Frame, IActorRef? Owner, int Truesize, bool Pktgen);

    private readonly PfifoFast<SkBuff> _qdisc;
    private readonly TxRing<TxEntry> _txRing;
    private bool _txStopped;
    private readonly SkbFree _free = new();
    private readonly Dictionary<IActorRef, int> _pktgenDone = new();

    public NicActor(NetNamespace ns, NetDevice dev)
    {
        _ns = ns;
        _dev = dev;
        _stats = dev.Stats;
        var s = dev.Settings;
        _rings = Enumerable.Range(0, s.RxQueues).Select(_ => new RxRing(s.RxRing, s.RxBufferSize)).ToArray();
        _irqs = Enumerable.Range(0, s.RxQueues).Select(q => new IrqLine(q, s.IrqCpuOf(q, ns.Settings.Cpus))).ToArray();
        _irqPending = new bool[s.RxQueues];
        _napiScheduled = new bool[s.RxQueues];
        _rss = new RssHasher(s.RxQueues);
        _ringSite = Enumerable.Range(0, s.RxQueues).Select(q => $"{dev.Name}/rx{q}").ToArray();
        _qdisc = new PfifoFast<SkBuff>(s.TxQueueLen);
        _txRing = new TxRing<TxEntry>(s.TxRing);

        if (ChargedMessageQueue.Of(Context) is { } fifo)
        {
            fifo.Limit = s.RxFifo;
            var site = _ns.Drops.Counter(DropReason.SIM_NIC_FIFO, dev.Name);
            fifo.OnDrop = (dropped, _) =>
            {
                Interlocked.Add(ref _stats.RxFifoErrors, dropped.Count);
                Interlocked.Add(ref _stats.RxErrors, dropped.Count);
                site.Add(dropped.Count);
            };
        }

        Receive<WireFrames>(OnWireFrames);
        Receive<HardIrq>(OnHardIrq);
        Receive<NapiPoll>(OnPoll);
        Receive<XmitFrames>(OnXmit);
        Receive<DevQueueXmit>(OnDevQueueXmit);
        Receive<WireTxDone>(OnTxDone);
        Receive<AttachWire>(a => _wire = a.Wire);
    }

    /// <summary>The hardware: DMA each frame into its RSS queue's ring, then interrupt (one IRQ per queue per burst).</summary>
    private void OnWireFrames(WireFrames m)
    {
        ChargedMessageQueue.Of(Context)?.Uncharge(m.Count);
        long now = Context.System.Scheduler.Now.UtcTicks;
        int maxFrame = _dev.Settings.MaxFrame;
        foreach (var f in m.Frames)
        {
            var frame = f.Span;
            if (frame.Length < EthernetHeader.Length || frame.Length > maxFrame)
            {
                Interlocked.Increment(ref _stats.RxLengthErrors);
                Interlocked.Increment(ref _stats.RxErrors);
                _ns.Drops.Add(DropReason.SIM_NIC_LENGTH, _dev.Name);
                continue;
            }
            int q = _rings.Length == 1 ? 0 : _rss.QueueFor(_rss.Hash(frame));
            if (!_rings[q].TryDmaWrite(frame, now))
            {
                Interlocked.Increment(ref _stats.RxMissedErrors);
                _ns.Drops.Add(DropReason.FULL_RING, _ringSite[q]);
                continue;
            }
            RaiseIrq(q);
        }
    }

    private void RaiseIrq(int q)
    {
        if (_irqPending[q]) return;           // the line is already asserted
        if (!_irqs[q].Raise()) return;        // masked: NAPI is polling, it will see the frame
        _irqPending[q] = true;
        _dev.IrqCounts[q] = _irqs[q].Count;
        Self.Tell(new HardIrq(q));
    }

    /// <summary>The driver's interrupt handler (<c>igb_msix_ring</c>): mask, <c>napi_schedule</c>.</summary>
    private void OnHardIrq(HardIrq irq)
    {
        int q = irq.Queue;
        _irqPending[q] = false;
        _irqs[q].Mask();
        if (_napiScheduled[q]) return;
        _napiScheduled[q] = true;
        _ns.SoftnetActors[_irqs[q].Cpu].Tell(new NapiSchedule(Self, q));
    }

    /// <summary><c>igb_poll</c> → <c>igb_clean_rx_irq</c>: up to weight frames off the ring into buffers.</summary>
    private void OnPoll(NapiPoll poll)
    {
        int q = poll.Queue;
        var ring = _rings[q];
        var skbs = ImmutableArray.CreateBuilder<SkBuff>(Math.Min(poll.Weight, ring.PendingFrames));
        long bytes = 0, mcast = 0;
        var mac = _dev.Mac;
        while (skbs.Count < poll.Weight && ring.TryTakeFrame(out var frame, out var tstamp, out _))
        {
            // eth_type_trans: protocol and pkt_type from the Ethernet header.
            EthernetHeader.TryRead(frame, out var eth);
            var dst = eth.Destination;
            var kind = dst == mac ? PacketKind.Host
                : dst.IsBroadcast ? PacketKind.Broadcast
                : dst.IsMulticast ? PacketKind.Multicast
                : PacketKind.OtherHost;
            if (kind is PacketKind.Multicast or PacketKind.Broadcast) mcast++;
            uint hash = _rss.Hash(frame);
            skbs.Add(new SkBuff(frame, _dev.Ifindex, q, hash, tstamp, SkBuff.TruesizeFor(frame.Length))
            {
                Protocol = eth.EtherType,
                PktType = kind,
            });
            bytes += frame.Length;
        }
        int work = skbs.Count;
        Interlocked.Add(ref _stats.RxPackets, work);
        Interlocked.Add(ref _stats.RxBytes, bytes);
        if (mcast > 0) Interlocked.Add(ref _stats.Multicast, mcast);
        bool completed = work < poll.Weight;
        Sender.Tell(new NapiPollResult(q, skbs.MoveToImmutable(), work, completed));
        if (completed)
        {
            // napi_complete_done, then re-enable the queue's interrupt; frames that
            // arrived meanwhile assert it again at once.
            _napiScheduled[q] = false;
            _irqs[q].Unmask();
            if (ring.PendingFrames > 0) RaiseIrq(q);
        }
    }

    /// <summary>
    /// <c>__dev_xmit_skb</c>: onto the qdisc (bypassed when it is empty and the queue runs, as
    /// <c>TCQ_F_CAN_BYPASS</c> allows), dropping what a full band cannot take, then <c>qdisc_run</c>.
    /// </summary>
    private void OnDevQueueXmit(DevQueueXmit m)
    {
        if (_wire.IsNobody())
        {
            // No cable: the carrier is off and the noop qdisc frees everything.
            Interlocked.Add(ref _stats.TxCarrierErrors, m.Skbs.Length);
            Interlocked.Add(ref _stats.TxErrors, m.Skbs.Length);
            Interlocked.Add(ref _stats.TxDropped, m.Skbs.Length);
            _ns.Drops.Add(DropReason.SIM_LINK_UNATTACHED, _dev.Name, m.Skbs.Length);
            foreach (var skb in m.Skbs) _free.Drop(skb);
            _free.Flush(Self);
            return;
        }
        foreach (var skb in m.Skbs)
        {
            if (_qdisc.Count == 0 && !_txStopped && !_txRing.Full)
            {
                Post(skb);
                continue;
            }
            if (_qdisc.Enqueue(skb, skb.Priority))
            {
                Interlocked.Increment(ref _stats.QdiscBacklog);
                continue;
            }
            // qdisc_drop: NET_XMIT_DROP to the sender (UDP counts SndbufErrors).
            Interlocked.Increment(ref _stats.QdiscDrops);
            _ns.Drops.Add(DropReason.QDISC_DROP, $"{_dev.Name}/qdisc");
            _free.Drop(skb);
        }
        QdiscRun();
        _free.Flush(Self);
    }

    /// <summary><c>qdisc_restart</c> until the qdisc is empty or the ring is full (then <c>netif_tx_stop_queue</c>).</summary>
    private void QdiscRun()
    {
        while (!_txRing.Full && _qdisc.TryDequeue(out var skb))
        {
            Interlocked.Decrement(ref _stats.QdiscBacklog);
            Post(skb);
        }
        if (_qdisc.Count > 0 && !_txStopped)
        {
            _txStopped = true;
            Interlocked.Increment(ref _stats.TxQueueStopped);
            Interlocked.Increment(ref _stats.QdiscRequeues); // dev_requeue_skb: the head waits for the ring
        }
        FlushTx();
    }

    private ImmutableArray<ReadOnlyMemory<byte>>.Builder? _txBatch;

    /// <summary><c>ndo_start_xmit</c>: a descriptor for the frame; frames go to the wire in one message per run.</summary>
    private void Post(in SkBuff skb)
    {
        _txRing.TryPost(new TxEntry(skb.Data, skb.Owner, skb.Truesize, false));
        Interlocked.Increment(ref _stats.QdiscPackets);
        Interlocked.Add(ref _stats.QdiscBytes, skb.Length);
        (_txBatch ??= ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>()).Add(skb.Data);
        // dev_queue_xmit_nit: ptype_all taps see every packet the stack sends, as a copy marked outgoing.
        var taps = _ns.Ptypes.All;
        if (taps.IsEmpty) return;
        long now = Context.System.Scheduler.Now.UtcTicks;
        foreach (var tap in taps)
            if (tap.Device is null || tap.Device == _dev.Name)
                tap.Handler.Tell(new SkbBatch([skb.CloneForTap() with { PktType = PacketKind.Outgoing, TstampTicks = now, Owner = null }]), Self);
    }

    private void FlushTx()
    {
        if (_txBatch is null || _txBatch.Count == 0) return;
        long bytes = 0;
        foreach (var f in _txBatch) bytes += f.Length;
        Interlocked.Add(ref _stats.TxPackets, _txBatch.Count);
        Interlocked.Add(ref _stats.TxBytes, bytes);
        _wire.Tell(new WireFrames(_txBatch.ToImmutable()), Self);
        _txBatch.Clear();
    }

    /// <summary>
    /// The TX-completion interrupt (<c>igb_clean_tx_irq</c>): the wire took the oldest frames, their
    /// descriptors and buffers are freed (pktgen gets <see cref="TxCompleted"/>, sockets
    /// <see cref="WmemFree"/>), and a stopped queue is woken (<c>netif_wake_queue</c>) to run the qdisc.
    /// </summary>
    private void OnTxDone(WireTxDone m)
    {
        _txRing.Complete(m.Count, e =>
        {
            if (e.Pktgen) _pktgenDone[e.Owner!] = _pktgenDone.GetValueOrDefault(e.Owner!) + 1;
            else _free.Free(e.Owner, e.Truesize);
        });
        foreach (var (owner, n) in _pktgenDone) owner.Tell(new TxCompleted(n, 0));
        _pktgenDone.Clear();
        if (_txStopped && !_txRing.Full)
        {
            _txStopped = false;
            Interlocked.Increment(ref _stats.TxRestartQueue);
            QdiscRun();
        }
        _free.Flush(Self);
    }

    /// <summary>
    /// <c>ndo_start_xmit</c> called by pktgen, which bypasses the qdisc: frames go on the TX ring and the
    /// wire; each is answered by <see cref="TxCompleted"/> once its descriptor is freed. A frame the full
    /// ring cannot take is refused at once (<c>NETDEV_TX_BUSY</c>).
    /// </summary>
    private void OnXmit(XmitFrames m)
    {
        if (_wire.IsNobody())
        {
            Interlocked.Add(ref _stats.TxCarrierErrors, m.Frames.Length);
            Interlocked.Add(ref _stats.TxErrors, m.Frames.Length);
            _ns.Drops.Add(DropReason.SIM_LINK_UNATTACHED, _dev.Name, m.Frames.Length);
            Sender.Tell(new TxCompleted(0, m.Frames.Length));
            return;
        }
        int busy = 0;
        foreach (var f in m.Frames)
        {
            if (!_txRing.TryPost(new TxEntry(f, Sender, 0, true))) { busy++; continue; }
            (_txBatch ??= ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>()).Add(f);
        }
        FlushTx();
        if (busy > 0) Sender.Tell(new TxCompleted(0, busy));
    }

    public static Props Props(NetNamespace ns, NetDevice dev)
        => Akka.Actor.Props.Create(() => new NicActor(ns, dev)).WithMailbox("actorstack-nic-mailbox");
}
