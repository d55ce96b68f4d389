using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Mailboxes;
using ActorStack.Actors.Sockets;
using ActorStack.Hardware.Nic;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;
using ActorStack.Actors.Wire;
using ActorStack.Config;

namespace ActorStack.Actors.Devices;

/// <summary>
/// A NIC and its driver (igb-like): the hard IRQ with <c>napi_schedule</c> and the driver's poll (<c>igb_poll</c>). The hardware half DMA-writes
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
///
/// Transmit: the qdisc, the TX descriptor ring and GSO/TSO posting are the plain <see cref="TxPath"/>; this actor
/// hands it what the stack sends (<see cref="DevQueueXmit"/>) and the wire's completions, and carries out what it
/// posted (frames to the wire, copies to the taps, freed buffers to their sockets, completions to pktgen).
///
/// Link state and supervision: the medium's carrier (<see cref="AttachWire"/>, <see cref="CarrierChanged"/>) is
/// reported to the host's link watch as <c>netif_carrier_on/off</c>; the link watch answers with
/// <see cref="DevActivateTx"/> / <see cref="DevDeactivateTx"/> (qdisc attached, or <c>noop_qdisc</c>: queued
/// packets purged, new ones dropped). A fault (<see cref="InjectDriverFault"/>, <see cref="CrashDriver"/>, the TX
/// watchdog's timeout) makes the actor fail; its supervisor (the host) restarts it: <see cref="PreRestart"/>
/// turns the carrier off and drops and counts every frame in the rings (<c>igb_down</c> → <c>igb_clean_rx_ring</c>
/// / <c>igb_clean_tx_ring</c>), the new instance starts with fresh rings and queues stopped, and turns the carrier
/// on after the link-up delay (<c>igb_watchdog_task</c> seeing the link). What must outlive the restart (the wire,
/// the qdisc pointer, armed faults) lives on the <see cref="NetDevice"/>. Once the supervisor gives up
/// (<see cref="NetDevice.DriverFailed"/>) the driver stays down and drops everything with <c>DEV_READY</c>.
/// </summary>
public sealed class NicActor : UntypedActor, IWithTimers
{
    /// <summary>An interrupt from the hardware to the driver's handler.</summary>
    private sealed record HardIrq(int Queue);

    /// <summary>The <c>dev_watchdog</c> timer (every <c>watchdog_timeo</c> while transmit is active).</summary>
    private sealed class WatchdogTick
    {
        public static readonly WatchdogTick Instance = new();
    }

    /// <summary>The PHY has the link again after a reset (autonegotiation done).</summary>
    private sealed class LinkUp
    {
        public static readonly LinkUp Instance = new();
    }

    /// <summary>
    /// One RX queue as the driver keeps it (<c>igb_ring</c> with its <c>q_vector</c>): the descriptor ring, the MSI-X
    /// vector, the interrupt throttle (rx-usecs / rx-frames; null without moderation, always on the real clock), and
    /// the two flags of the interrupt's way to the softirq.
    /// </summary>
    private sealed class RxQueue(RxRing ring, IrqLine irq, RxCoalescer? itr, string site)
    {
        public readonly RxRing Ring = ring;
        public readonly IrqLine Irq = irq;
        public readonly RxCoalescer? Itr = itr;
        /// <summary>The drop site of the ring (<c>eth0/rx0</c>).</summary>
        public readonly string Site = site;
        /// <summary>With rx-frames: the window's napi_schedule, told early when it fills.</summary>
        public SimEngine.IEngineTimer? ItrCancel;
        /// <summary>The line is asserted and the handler (<see cref="HardIrq"/>) not yet run.</summary>
        public bool IrqPending;
        /// <summary><c>NAPI_STATE_SCHED</c> as the driver sees it: from the handler's napi_schedule to napi_complete.</summary>
        public bool NapiScheduled;
    }

    private const string WatchdogTimer = "dev_watchdog";
    private const string LinkUpTimer = "link_up";

    public ITimerScheduler Timers { get; set; } = null!;

    private readonly NetNamespace _ns;
    private readonly NetDevice _dev;
    private readonly DeviceCounters _stats;
    // Per RX queue, everything a frame's arrival and its poll use, in one object (the driver's igb_ring).
    private readonly RxQueue[] _rxq;
    private readonly VirtualTimeScheduler? _virtual;
    private readonly RssHasher _rss;
    private IActorRef _wire = ActorRefs.Nobody;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    // The qdisc, the TX ring and GSO/TSO posting (dev_queue_xmit's half below the stack).
    private readonly TxPath _tx;
    // The carrier as this driver last reported it (netif_carrier_ok from the driver's side).
    private bool _carrierOn;
    // A reset is waiting for the PHY (LinkUp timer armed).
    private bool _linkUpPending;
    private bool _watchdogArmed;
    // Device faults of this driver instance (a reset clears them): RX DMA stalled, interrupts to lose (a hung TX DMA
    // engine is the TX path's TxHung).
    private bool _rxStalled;
    private int _irqsToLose;
    private readonly SkbFree _free = new();
    private readonly HostRefs _refs;   // created after the softnet actors and the link watch: all it needs

    public NicActor(NetNamespace ns, NetDevice dev, HostRefs refs)
    {
        _ns = ns;
        _refs = refs;
        _dev = dev;
        _stats = dev.Stats;
        var s = dev.Settings;
        // ethtool -C rx-usecs: on the real clock frames interrupt at once as before (Akka's 10 ms timer tick could not
        // hold an interrupt for µs), so the moderation is a model of the virtual clock.
        _virtual = Context.System.Scheduler as VirtualTimeScheduler;
        bool moderated = _virtual is not null && s.RxUsecs > 0;
        _rxq = Enumerable.Range(0, s.RxQueues).Select(q => new RxQueue(
            new RxRing(s.RxRing, s.RxBufferSize),
            new IrqLine(q, s.IrqCpuOf(q, ns.Settings.Cpus)),
            moderated ? new RxCoalescer(s.RxUsecs * 1000L, s.RxFrames) : null,
            $"{dev.Name}/rx{q}")).ToArray();
        _rss = new RssHasher(s.RxQueues);
        _tx = new TxPath(ns, dev, _free);

        if (ChargedMessageQueue.Of(Context) is { } fifo)
        {
            fifo.Limit = s.RxFifo;
            var site = _ns.Drops.Counter(DropReason.SIM_NIC_FIFO, dev.Name);
            var drops = _ns.Drops;
            fifo.OnDrop = (dropped, _) =>
            {
                Interlocked.Add(ref _stats.RxFifoErrors, dropped.Count);
                Interlocked.Add(ref _stats.RxErrors, dropped.Count);
                site.Add(dropped.Count);
                // drop_monitor's packet alerts (a capture listening): each lost frame, from the sender's thread.
                if (!drops.Listeners.IsEmpty && dropped is WireFrames lost)
                    foreach (var f in lost.Frames) drops.Alert(DropReason.SIM_NIC_FIFO, dev.Name, 1, dev.Ifindex, f, false);
            };
        }

        // State that outlives a restart: the cable, and whether the carrier can be on.
        _wire = dev.Wire;
        _carrierOn = dev.PhyLink && !dev.DriverFailed;
    }

    // One switch instead of ReceiveActor's per-instance handler set (a NIC actor per device of every host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WireFrames m: OnWireFrames(m); break;
            case HardIrq m: OnHardIrq(m.Queue); break;
            case NapiPoll m: OnPoll(m); break;
            case XmitFrames m: OnXmit(m); break;
            case DevQueueXmit m: OnDevQueueXmit(m); break;
            case WireTxDone m: OnTxDone(m); break;
            case AttachWire m: OnAttachWire(m); break;
            case CarrierChanged m: OnCarrierChanged(m); break;
            case DevActivateTx: OnDevActivate(); break;
            case DevDeactivateTx: OnDevDeactivate(); break;
            case NetdevWatchdogUp: ArmWatchdog(); break;
            case WatchdogTick: OnWatchdog(); break;
            case LinkUp: OnLinkUp(); break;
            case InjectDriverFault m: OnInjectFault(m); break;
            case ClearDriverFaults:
                _dev.Faults.Clear();
                Sender.Tell(new DriverFaultInjected(_dev.Name, null));
                break;
            case CrashDriver:
                Sender.Tell(new DriverFaultInjected(_dev.Name, null));
                throw new DriverFaultException(_dev.Name, "crash driver");
            default: Unhandled(message); break;
        }
    }

    private bool Dead => _dev.DriverFailed;
    private long NowTicks => Context.System.Scheduler.Now.UtcTicks;

    private void TellLinkWatch(bool carrierOn)
    {
        _carrierOn = carrierOn;
        _refs.LinkWatch.Tell(new NetifCarrier(_dev.Ifindex, carrierOn), Self);
    }

    /// <summary>The cable is plugged in: the PHY sees the link and the driver calls <c>netif_carrier_on</c>.</summary>
    private void OnAttachWire(AttachWire a)
    {
        _wire = a.Wire;
        _dev.Wire = a.Wire;
        _dev.PhyLink = !a.Wire.IsNobody();
        if (Dead || _linkUpPending) return;
        TellLinkWatch(_dev.PhyLink);
    }

    /// <summary>The wire was cut or restored: <c>netif_carrier_off/on</c> (the link watch ignores a non-change).</summary>
    private void OnCarrierChanged(CarrierChanged m)
    {
        _dev.PhyLink = m.Up && !_wire.IsNobody();
        if (Dead || _linkUpPending) return;   // after a reset the PHY reports once autonegotiation is done
        TellLinkWatch(_dev.PhyLink);
    }

    /// <summary><c>dev_activate</c>: the qdisc is back on the TX queue; run it and arm the watchdog.</summary>
    private void OnDevActivate()
    {
        _dev.TxNoop = false;
        ArmWatchdog();
        QdiscRun();
        _free.Flush(Self);
    }

    /// <summary>
    /// <c>dev_deactivate</c>: <c>noop_qdisc</c> on the TX queue, <c>dev_watchdog_down</c>, and <c>qdisc_reset</c>:
    /// every queued packet dropped (<c>QUEUE_PURGE</c>) and its charge returned.
    /// </summary>
    private void OnDevDeactivate()
    {
        _dev.TxNoop = true;
        _watchdogArmed = false;
        Timers.Cancel(WatchdogTimer);
        _tx.Purge(DropReason.QUEUE_PURGE);
        _free.Flush(Self);
    }

    /// <summary><c>__netdev_watchdog_up</c>: <c>mod_timer(&amp;dev-&gt;watchdog_timer, jiffies + watchdog_timeo)</c>.</summary>
    private void ArmWatchdog()
    {
        if (Dead || _dev.TxNoop) return;
        _watchdogArmed = true;
        Timers.StartSingleTimer(WatchdogTimer, WatchdogTick.Instance, _ns.Supervision.WatchdogTimeo);
    }

    /// <summary>
    /// <c>dev_watchdog</c>: with the device present, running and its carrier on, a TX queue stopped
    /// (<c>netif_xmit_stopped</c>) whose <c>trans_start</c> is older than <c>watchdog_timeo</c> is a TX timeout:
    /// <c>ndo_tx_timeout</c>, which resets the device (here: the actor fails, the supervisor restarts it).
    /// Otherwise the timer is re-armed.
    /// </summary>
    private void OnWatchdog()
    {
        if (!_watchdogArmed || Dead || _dev.TxNoop) return;
        var timeo = _ns.Supervision.WatchdogTimeo;
        long stalled = NowTicks - _tx.TransStartTicks;
        if (_carrierOn && _tx.Stopped && stalled >= timeo.Ticks)
        {
            Interlocked.Increment(ref _dev.TxTimeouts);
            throw new TxTimeoutException(_dev.Name, TimeSpan.FromTicks(stalled));
        }
        Timers.StartSingleTimer(WatchdogTimer, WatchdogTick.Instance, timeo);
    }

    /// <summary>The PHY completed autonegotiation after a reset: <c>netif_carrier_on</c> and <c>netif_tx_wake_all_queues</c>.</summary>
    private void OnLinkUp()
    {
        _linkUpPending = false;
        if (Dead) return;
        _tx.Xoff = false;
        if (_dev.PhyLink) TellLinkWatch(true);
        if (!_dev.TxNoop) QdiscRun();
        _free.Flush(Self);
    }

    private void OnInjectFault(InjectDriverFault m)
    {
        switch (m.Kind)
        {
            case DriverFaultKind.RxRingStall: _rxStalled = true; break;
            case DriverFaultKind.TxHang: _tx.TxHung = true; break;
            case DriverFaultKind.IrqLoss: _irqsToLose++; break;
            default: _dev.Faults[m.Kind] = new ArmedFault(Math.Clamp(m.Probability, 0, 1), m.Once); break;
        }
        Sender.Tell(new DriverFaultInjected(_dev.Name, m.Kind));
    }

    /// <summary>Whether an armed exception fault of <paramref name="kind"/> fires on this run of its path (one seeded draw per run).</summary>
    private bool Faulted(DriverFaultKind kind)
    {
        if (_dev.Faults.Count == 0 || !_dev.Faults.TryGetValue(kind, out var f)) return false;
        if (f.Probability < 1)
        {
            var rnd = _dev.FaultRandom ??= new Random(_ns.SeedFor($"driver-fault/{_dev.Name}"));
            if (rnd.NextDouble() >= f.Probability) return false;
        }
        if (f.Once) _dev.Faults.Remove(kind);
        return true;
    }

    /// <summary>
    /// <c>igb_down</c> as a reset does it, on the failed instance: carrier off (a link-watch event), queues stopped,
    /// and every buffer the driver holds freed with a reason: frames DMA-written to the RX rings
    /// (<c>SIM_DRIVER_RESET</c>, <c>rx_dropped</c>), packets in the qdisc (<c>QUEUE_PURGE</c>), descriptors the TX DMA never
    /// sent (<c>SIM_DRIVER_RESET</c>, <c>tx_dropped</c>). Descriptors already on the wire are freed (their charge returns) and
    /// their completions, still to come, are ignored by the next instance.
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        foreach (var rx in _rxq)
        {
            int n = rx.Ring.Reset();
            if (n == 0) continue;
            Interlocked.Add(ref _stats.RxDropped, n);
            _ns.Drops.Add(DropReason.SIM_DRIVER_RESET, rx.Site, n);
        }
        _dev.StaleTxCompletions += _tx.Reset();
        SendCompletions();
        _free.Flush(Self);
        base.PreRestart(reason, message);
    }

    /// <summary>
    /// The new driver instance after a reset (<c>igb_up</c>): rings fresh, queues stopped until the PHY has the link
    /// again after the link-up delay (doubled for each reset in the back-off window). A device the supervisor gave up
    /// on stays down.
    /// </summary>
    protected override void PostRestart(Exception reason)
    {
        _tx.Xoff = true;
        if (Dead)
            _log.Error("{0}: driver reset limit reached after \"{1}\": device stays down", _dev.Name, reason.Message);
        else
        {
            _linkUpPending = true;
            Timers.StartSingleTimer(LinkUpTimer, LinkUp.Instance, _ns.Supervision.LinkUpDelayAfter(_dev.ResetsInWindow));
        }
        // igb_down's netif_carrier_off, told after the link-up timer is armed: whoever sees the carrier go off
        // knows the delay has started. The link watch ignores it if the carrier was off already.
        TellLinkWatch(false);
    }

    /// <summary>The hardware: DMA each frame into its RSS queue's ring, then interrupt (one IRQ per queue per burst).</summary>
    private void OnWireFrames(WireFrames m)
    {
        ChargedMessageQueue.Of(Context)?.Uncharge(m.Count);
        if (Dead)
        {
            // A dead driver has no RX descriptors: nothing is received.
            Interlocked.Add(ref _stats.RxDropped, m.Count);
            _ns.Drops.Add(DropReason.DEV_READY, _dev.Name, m.Count);
            return;
        }
        if (!_dev.Up)
        {
            // Administratively down (ip link set dev X down): ndo_stop disabled the receiver, the MAC takes nothing.
            // Linux counts nothing on the host; here the frames are accounted as DEV_READY at the device.
            _ns.Drops.Add(DropReason.DEV_READY, $"{_dev.Name}/down", m.Count);
            return;
        }
        long now = Context.System.Scheduler.Now.UtcTicks;
        int maxFrame = _dev.Settings.MaxFrame;
        foreach (var f in m.Frames)
        {
            var frame = f.Span;
            if (frame.Length < EthernetHeader.Length || frame.Length > maxFrame)
            {
                Interlocked.Increment(ref _stats.RxLengthErrors);
                Interlocked.Increment(ref _stats.RxErrors);
                _ns.Drops.Add(DropReason.SIM_NIC_LENGTH, _dev.Name, f, _dev.Ifindex);
                continue;
            }
            // The MAC's receive address filter (igb's RAR entries, virtio-net's receive_filter): not promiscuous, so a
            // unicast frame for another station (a switch flooding an unknown destination) is discarded before DMA.
            // Linux sees nothing of it (no rx_packets, no rx_otherhost_dropped: that is counted only for frames that
            // reach ip_rcv_core as PACKET_OTHERHOST, from a promiscuous or veth-like device); the drop monitor has it.
            var dstMac = MacAddress.Read(frame);
            if (!dstMac.IsMulticast && dstMac != _dev.Mac)
            {
                _ns.Drops.Add(DropReason.OTHERHOST, $"{_dev.Name}/rx_filter", f, _dev.Ifindex);
                continue;
            }
            int q = _rxq.Length == 1 ? 0 : _rss.QueueFor(_rss.Hash(frame));
            if (_rxStalled || !_rxq[q].Ring.TryDmaWrite(frame, now))
            {
                Interlocked.Increment(ref _stats.RxMissedErrors);
                _ns.Drops.Add(DropReason.FULL_RING, _rxq[q].Site, f, _dev.Ifindex);
                continue;
            }
            RaiseIrq(q);
        }
    }

    /// <summary>
    /// <c>igb_build_skb</c> / <c>igb_add_rx_frag</c>: the skb is built around the descriptor's buffer
    /// (<c>napi_build_skb</c> with frag size = the buffer: <c>SKB_TRUESIZE(size − shinfo)</c> = buffer +
    /// <c>SKB_DATA_ALIGN(sizeof(struct sk_buff))</c> = buffer + 256), and every further descriptor adds its whole buffer.
    /// A 64-byte datagram on 2 KiB buffers is charged 2,304 bytes, so 93 of them fit a 212,992-byte <c>sk_rcvbuf</c>.
    /// </summary>
    public static int RxTruesize(int frameLength, int bufferSize)
        => Math.Max(1, (frameLength + bufferSize - 1) / bufferSize) * bufferSize + SkbStructAligned;

    /// <summary><c>SKB_DATA_ALIGN(sizeof(struct sk_buff))</c> on x86-64 (232 bytes rounded to the 64-byte cache line).</summary>
    public const int SkbStructAligned = 256;

    /// <summary>
    /// A frame landed in queue <paramref name="q"/>'s ring: the interrupt's cause. With RX interrupt moderation
    /// (<see cref="RxCoalescer"/>) the first frame on an enabled line opens a window (<see cref="OpenItrWindow"/>) and
    /// the interrupt reaches the CPU when it ends; otherwise it is asserted at once.
    /// </summary>
    private void RaiseIrq(int q)
    {
        var rx = _rxq[q];
        if (rx.IrqPending) return;            // the line is already asserted
        if (rx.Itr is { } itr)
        {
            long now = _virtual!.Engine.NowNs;
            if (!rx.Irq.Masked)
            {
                if (itr.FrameArrived(now) == RxIrqAction.Arm)
                {
                    OpenItrWindow(q, itr, now);
                    return;
                }
                itr.Raised();                 // rx-frames 1: at once
            }
            else if (itr.TimerArmed && now < itr.DueNs)
            {
                // A frame inside the window: it waits for the window's interrupt, unless rx-frames are now waiting.
                if (itr.FrameArrived(now) == RxIrqAction.Raise)
                {
                    itr.Raised();
                    rx.ItrCancel?.Cancel();
                    rx.ItrCancel = null;
                    _refs.Softnet[rx.Irq.Cpu].Tell(new NapiSchedule(Self, q));
                }
                return;
            }
        }
        if (!rx.Irq.Raise()) return;          // masked: NAPI is polling, it will see the frame
        if (_irqsToLose > 0)
        {
            _irqsToLose--;                    // the interrupt never reaches the CPU; the frames wait in the ring
            return;
        }
        rx.IrqPending = true;
        _dev.IrqCounts[q] = rx.Irq.Count;
        Self.Tell(new HardIrq(q));
    }

    /// <summary>
    /// The first frame since the last interrupt opened an interrupt throttle window (<c>EITR</c>): the interrupt will be
    /// asserted when it ends, rx-usecs from now, and nothing in the window can stop that but the driver itself. So the
    /// handler's work (<c>igb_msix_ring</c>: count, mask, <c>napi_schedule</c>) is done here and its
    /// <see cref="NapiSchedule"/> reaches the CPU at the window's end: one engine event per interrupt instead of a
    /// timer to this actor and then the handler. Frames of the window find the line masked and wait in the ring, as
    /// they would wait for the throttled interrupt; the window closes at <c>napi_complete_done</c>.
    /// </summary>
    private void OpenItrWindow(int q, RxCoalescer itr, long now)
    {
        var rx = _rxq[q];
        rx.Irq.Raise();
        if (_irqsToLose > 0)
        {
            _irqsToLose--;                    // the window's interrupt is lost: the next frame opens a new window
            itr.Raised();
            return;
        }
        _dev.IrqCounts[q] = rx.Irq.Count;
        if (Faulted(DriverFaultKind.IrqHandler)) throw new DriverFaultException(_dev.Name, "exception in the IRQ handler");
        rx.Irq.Mask();
        rx.NapiScheduled = true;
        var cpu = _refs.Softnet[rx.Irq.Cpu];
        long delay = itr.DueNs - now;
        if (itr.Frames == 0) _virtual!.Engine.TellAfterNs(delay, cpu, new NapiSchedule(Self, q), Self);
        else
        {
            // rx-frames: the early interrupt cancels this one.
            rx.ItrCancel = _virtual!.Engine.TellAfterNsCancelable(delay, cpu, new NapiSchedule(Self, q), Self);
        }
    }

    /// <summary>The driver's interrupt handler (<c>igb_msix_ring</c>): mask, <c>napi_schedule</c>.</summary>
    private void OnHardIrq(int q)
    {
        var rx = _rxq[q];
        rx.IrqPending = false;
        if (Dead) return;
        if (Faulted(DriverFaultKind.IrqHandler)) throw new DriverFaultException(_dev.Name, "exception in the IRQ handler");
        rx.Irq.Mask();
        if (rx.NapiScheduled) return;
        rx.NapiScheduled = true;
        _refs.Softnet[rx.Irq.Cpu].Tell(new NapiSchedule(Self, q));
    }

    /// <summary><c>igb_poll</c> → <c>igb_clean_rx_irq</c>: up to weight frames off the ring into buffers.</summary>
    private void OnPoll(NapiPoll poll)
    {
        int q = poll.Queue;
        var rx = _rxq[q];
        if (Dead || Faulted(DriverFaultKind.NapiPoll))
        {
            // The softirq is not left waiting: the poll ends with no work (napi_complete), then the driver fails.
            Sender.Tell(new NapiPollResult(q, ImmutableArray<SkBuff>.Empty, 0, true));
            rx.NapiScheduled = false;
            if (Dead) return;
            throw new DriverFaultException(_dev.Name, "exception in NAPI poll");
        }
        var ring = rx.Ring;
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
            skbs.Add(new SkBuff(frame, _dev.Ifindex, q, hash, tstamp, RxTruesize(frame.Length, ring.BufferSize))
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
            rx.NapiScheduled = false;
            if (rx.Itr is { } itr)
            {
                itr.Raised();                 // the throttle window is over
                rx.ItrCancel = null;
            }
            rx.Irq.Unmask();
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
            _ns.Drops.Add(DropReason.SIM_LINK_UNATTACHED, _dev.Name, m.Skbs, _dev.Ifindex, transmit: true);
            foreach (var skb in m.Skbs) _free.Drop(skb);
            _free.Flush(Self);
            return;
        }
        if (Dead || _dev.TxNoop)
        {
            // noop_enqueue (dev_deactivate put noop_qdisc on the queue) or a dead driver: dropped, tx_dropped.
            Interlocked.Add(ref _stats.TxDropped, m.Skbs.Length);
            _ns.Drops.Add(Dead ? DropReason.DEV_READY : DropReason.QDISC_DROP, Dead ? _dev.Name : $"{_dev.Name}/noop", m.Skbs, _dev.Ifindex, transmit: true);
            foreach (var skb in m.Skbs) _free.Drop(skb);
            _free.Flush(Self);
            return;
        }
        if (Faulted(DriverFaultKind.Transmit))
        {
            // ndo_start_xmit blew up: the buffers it was handed are lost with the driver.
            Interlocked.Add(ref _stats.TxDropped, m.Skbs.Length);
            _ns.Drops.Add(DropReason.DEV_READY, $"{_dev.Name}/tx", m.Skbs, _dev.Ifindex, transmit: true);
            foreach (var skb in m.Skbs) _free.Drop(skb);
            _free.Flush(Self);
            throw new DriverFaultException(_dev.Name, "exception in ndo_start_xmit");
        }
        _tx.DevXmit(m.Skbs, NowTicks);
        FlushTx();
        _free.Flush(Self);
    }

    /// <summary><c>qdisc_run</c> (<see cref="TxPath.QdiscRun"/>), then the frames to the wire.</summary>
    private void QdiscRun()
    {
        _tx.QdiscRun(NowTicks);
        FlushTx();
    }

    /// <summary>
    /// What the TX path posted: copies to the <c>ptype_all</c> taps (<c>dev_queue_xmit_nit</c>, each tap its own,
    /// marked outgoing), then the frames to the wire in one message.
    /// </summary>
    private void FlushTx()
    {
        if (_tx.Taps.Count > 0)
        {
            long now = NowTicks;
            var taps = _ns.Ptypes.All;
            foreach (var skb in _tx.Taps)
                foreach (var tap in taps)
                    if (tap.Device is null || tap.Device == _dev.Name)
                        tap.Handler.Tell(new SkbBatch([skb.CloneForTap() with { PktType = PacketKind.Outgoing, TstampTicks = now, Owner = null, Ifindex = _dev.Ifindex }]), Self);
            _tx.Taps.Clear();
        }
        var frames = _tx.TakeWireFrames();
        if (!frames.IsEmpty) _wire.Tell(new WireFrames(frames), Self);
    }

    private void SendCompletions()
    {
        foreach (var (owner, done) in _tx.Completions) owner.Tell(done);
        _tx.Completions.Clear();
    }

    /// <summary>
    /// The TX-completion interrupt (<c>igb_clean_tx_irq</c>): the wire took the oldest frames, their
    /// descriptors and buffers are freed (pktgen gets <see cref="TxCompleted"/>, sockets
    /// <see cref="WmemFree"/>), and a stopped queue is woken (<c>netif_wake_queue</c>) to run the qdisc.
    /// </summary>
    private void OnTxDone(WireTxDone m)
    {
        int count = m.Count;
        if (_dev.StaleTxCompletions > 0)
        {
            // Completions for descriptors a reset already freed.
            int stale = Math.Min(_dev.StaleTxCompletions, count);
            _dev.StaleTxCompletions -= stale;
            count -= stale;
        }
        if (count == 0 || Dead) return;
        _tx.Complete(count, _dev.TxNoop, NowTicks);
        SendCompletions();
        FlushTx();
        _free.Flush(Self);
    }

    /// <summary>
    /// <c>ndo_start_xmit</c> called by pktgen, which bypasses the qdisc: frames go on the TX ring and the
    /// wire; each is answered by <see cref="TxCompleted"/> once its descriptor is freed. A frame the full
    /// ring cannot take is refused at once (<c>NETDEV_TX_BUSY</c>).
    /// </summary>
    private void OnXmit(XmitFrames m)
    {
        if (Dead || _dev.TxNoop || _tx.Xoff || Faulted(DriverFaultKind.Transmit))
        {
            // pktgen_xmit sends only while the device runs with its carrier on (else NETDEV_TX_BUSY); a dead or
            // faulting driver takes nothing.
            Interlocked.Add(ref _stats.TxDropped, m.Frames.Length);
            _ns.Drops.Add(DropReason.DEV_READY, $"{_dev.Name}/tx", m.Frames.Length);
            Sender.Tell(new TxCompleted(0, m.Frames.Length));
            return;
        }
        if (_wire.IsNobody())
        {
            Interlocked.Add(ref _stats.TxCarrierErrors, m.Frames.Length);
            Interlocked.Add(ref _stats.TxErrors, m.Frames.Length);
            _ns.Drops.Add(DropReason.SIM_LINK_UNATTACHED, _dev.Name, m.Frames.Length);
            Sender.Tell(new TxCompleted(0, m.Frames.Length));
            return;
        }
        int busy = _tx.PktgenXmit(m.Frames, Sender, NowTicks);
        FlushTx();
        if (busy > 0) Sender.Tell(new TxCompleted(0, busy));
    }

    public static Props Props(NetNamespace ns, NetDevice dev, HostRefs refs)
        => FactoryProps.Of(() => new NicActor(ns, dev, refs)).WithMailbox("actorstack-nic-mailbox");
}
