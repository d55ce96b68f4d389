using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Net;
using ActorStack.Messages;

namespace ActorStack.Actors.Softnet;

/// <summary>
/// <c>__netif_receive_skb_core</c> (S13) without actors: every <c>ptype_all</c>
/// tap gets its own read-only copy, then every <c>ptype_base</c> handler of the
/// frame's EtherType. Deliveries are gathered per handler and handed out once
/// per batch (S13b), keeping per-handler order. As in Linux, the last tap is
/// <c>pt_prev</c>: a frame no protocol handler wants is consumed by it rather
/// than counted as dropped; with no tap it is <c>rx_dropped</c> with
/// <c>UNHANDLED_PROTO</c>.
/// </summary>
public sealed class ReceiveCore(NetNamespace ns, int cpu)
{
    private readonly List<(IActorRef Handler, bool Tap, ImmutableArray<SkBuff>.Builder Items)> _pending = new();
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

    private void Add(IActorRef handler, bool tap, SkBuff skb)
    {
        foreach (var p in _pending)
            if (p.Handler.Equals(handler) && p.Tap == tap) { p.Items.Add(skb); return; }
        var b = ImmutableArray.CreateBuilder<SkBuff>();
        b.Add(skb);
        _pending.Add((handler, tap, b));
    }

    /// <summary>Hands every gathered run to its handler: taps get <see cref="SkbBatch"/>, protocol handlers <see cref="ProtocolDeliver"/>.</summary>
    public void Flush(IActorRef self)
    {
        foreach (var (handler, tap, items) in _pending)
            handler.Tell(tap ? new SkbBatch(items.ToImmutable()) : new ProtocolDeliver(items.ToImmutable(), cpu), self);
        _pending.Clear();
    }
}
