using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Actors.Softnet;

/// <summary>
/// <c>__netif_receive_skb_core</c> without actors: every <c>ptype_all</c>
/// tap gets its own read-only copy, then every <c>ptype_base</c> handler of the
/// frame's EtherType. Deliveries are gathered per handler and handed out once
/// per batch (<c>netif_receive_skb_list_internal</c> → <c>ip_list_rcv</c>), keeping per-handler order. As in Linux, the last tap is
/// <c>pt_prev</c>: a frame no protocol handler wants is consumed by it rather
/// than counted as dropped; with no tap it is <c>rx_dropped</c> with
/// <c>UNHANDLED_PROTO</c>. Each handler's run is gathered in a buffer kept from
/// batch to batch, so a flush allocates one exact-size array per handler.
/// </summary>
public sealed class ReceiveCore(NetNamespace ns, int cpu)
{
    private sealed class Run(IActorRef handler, bool tap)
    {
        public readonly IActorRef Handler = handler;
        public readonly bool Tap = tap;
        public SkBuff[] Items = new SkBuff[4]; // doubled as a batch needs (a NAPI poll is at most 64)
        public int Count;
        public bool Used; // something was added since the last flush
    }

    private readonly List<Run> _pending = new();
    private readonly List<(IActorRef Handler, object Message)> _out = new();
    private readonly string _site = $"cpu{cpu}";

    /// <summary>Dispatches one buffer; returns false when it was dropped (no handler, no tap).</summary>
    public bool Receive(in SkBuff skb, PtypeTable table)
    {
        bool tapped = false;
        string? dev = null;
        foreach (var tap in table.All)
        {
            if (tap.Device is not null && tap.Device != (dev ??= ns.Device(skb.Ifindex)?.Name)) continue;
            Add(tap.Handler, true, skb.CloneForTap());
            tapped = true;
        }
        bool delivered = false;
        if (table.Base.TryGetValue(skb.Protocol, out var handlers))
        {
            // Every matching handler after the first gets a copy; the first keeps the original (one owner).
            foreach (var h in handlers)
            {
                if (h.Device is not null && h.Device != (dev ??= ns.Device(skb.Ifindex)?.Name)) continue;
                Add(h.Handler, false, delivered ? skb.CloneForTap() : skb);
                delivered = true;
            }
        }
        if (delivered) return true;
        if (tapped)
        {
            Interlocked.Increment(ref ns.ConsumedByTap);
            return true;
        }
        if (ns.Device(skb.Ifindex) is { } d) Interlocked.Increment(ref d.Stats.RxDropped);
        ns.Drops.Add(DropReason.UNHANDLED_PROTO, _site);
        return false;
    }

    /// <summary>
    /// The same dispatch for a whole batch in one piece, without copying it, when that is what
    /// <see cref="Receive"/> would do buffer by buffer: no <c>ptype_all</c> tap, and every buffer's
    /// EtherType has the same single handler for all devices. It is handed out at the next
    /// <see cref="Flush"/>, after the runs gathered before it, so every handler sees its buffers
    /// in order. False (nothing done) otherwise.
    /// </summary>
    public bool TryReceiveWhole(ImmutableArray<SkBuff> batch, PtypeTable table)
    {
        if (batch.IsDefaultOrEmpty || !table.All.IsEmpty) return false;
        ushort proto = batch[0].Protocol;
        if (!table.Base.TryGetValue(proto, out var handlers) || handlers.Length != 1 || handlers[0].Device is not null) return false;
        foreach (var skb in batch)
            if (skb.Protocol != proto) return false;
        Seal();
        _out.Add((handlers[0].Handler, new ProtocolDeliver(batch, cpu)));
        return true;
    }

    private void Add(IActorRef handler, bool tap, in SkBuff skb)
    {
        Run? run = null;
        foreach (var p in _pending)
            if (p.Tap == tap && (ReferenceEquals(p.Handler, handler) || p.Handler.Equals(handler)))
            {
                run = p;
                break;
            }
        if (run is null) _pending.Add(run = new Run(handler, tap));
        if (run.Count == run.Items.Length) Array.Resize(ref run.Items, run.Items.Length * 2);
        run.Items[run.Count++] = skb;
        run.Used = true;
    }

    /// <summary>
    /// Hands everything gathered since the last flush to its handler, in order: taps get
    /// <see cref="SkbBatch"/>, protocol handlers <see cref="ProtocolDeliver"/>. A handler that
    /// got nothing since the last flush is forgotten, so one removed by <c>dev_remove_pack</c>
    /// does not stay referenced. Returns how many <see cref="ProtocolDeliver"/> batches went to handlers
    /// for which <paramref name="inSoftirq"/> is true: the host's own, which run inside this CPU's softirq and
    /// answer with <see cref="ProtocolBatchDone"/>. Others (a program's <c>dev_add_pack</c>, as <c>packet_rcv</c>
    /// queues to its socket) and taps are not waited for.
    /// </summary>
    public int Flush(IActorRef self, Func<IActorRef, bool>? inSoftirq = null)
    {
        Seal();
        int waited = 0;
        foreach (var (handler, message) in _out)
        {
            handler.Tell(message, self);
            if (inSoftirq is not null && message is ProtocolDeliver && inSoftirq(handler)) waited++;
        }
        _out.Clear();
        _pending.RemoveAll(static r => !r.Used);
        foreach (var run in _pending) run.Used = false;
        return waited;
    }

    /// <summary>
    /// The end of one list (<c>gro_normal_list</c> → <c>netif_receive_skb_list_internal</c>): what each handler
    /// got from it becomes one batch, handed out at the next <see cref="Flush"/>.
    /// </summary>
    public void EndList() => Seal();

    /// <summary>Turns each gathered run into its message (one exact-size array), queued behind what is already out.</summary>
    private void Seal()
    {
        foreach (var run in _pending)
        {
            if (run.Count == 0) continue;
            var items = run.Items.AsSpan(0, run.Count).ToArray();
            run.Items.AsSpan(0, run.Count).Clear(); // the buffers now belong to the handler
            run.Count = 0;
            var batch = ImmutableCollectionsMarshal.AsImmutableArray(items);
            _out.Add((run.Handler, run.Tap ? new SkbBatch(batch) : new ProtocolDeliver(batch, cpu)));
        }
    }
}
