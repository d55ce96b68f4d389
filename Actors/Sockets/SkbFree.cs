using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Actors;

namespace ActorStack.Actors.Sockets;

/// <summary>
/// <c>sock_wfree</c> for the actor that frees transmitted buffers: the truesize of every
/// freed buffer goes back to the socket it was charged to (<c>skb->sk</c>), one
/// <see cref="WmemFree"/> per socket per <see cref="Flush"/>. Buffers without an owner
/// (forwarded, ICMP, ARP) free nothing.
/// </summary>
public sealed class SkbFree
{
    private readonly Dictionary<IActorRef, (int Count, long Truesize, int Dropped)> _pending = new(ActorRefComparer.Instance);

    /// <summary>The buffer left the host (or was consumed): its charge returns to its socket.</summary>
    public void Free(IActorRef? owner, int truesize) => Add(owner, truesize, dropped: false);
    public void Free(in SkBuff skb) => Add(skb.Owner, skb.Truesize, dropped: false);

    /// <summary>
    /// The buffer was dropped on the way (carrier off, noop qdisc, a dead driver, a purge, a refused fragment, netfilter):
    /// its charge returns, but the sender saw no <c>NET_XMIT_DROP</c> (noop_enqueue returns NET_XMIT_CN; the others
    /// came after the send returned, or returned their own errno at once).
    /// </summary>
    public void Drop(in SkBuff skb) => Add(skb.Owner, skb.Truesize, dropped: false);

    /// <summary>
    /// <c>qdisc_drop</c> at enqueue: <c>dev_queue_xmit</c> returns <c>NET_XMIT_DROP</c>, which <c>ip_send_skb</c> turns into
    /// <c>-ENOBUFS</c> (Ip OutDiscards) and <c>udp_send_skb</c> into SndbufErrors instead of OutDatagrams
    /// (<see cref="WmemFree.Dropped"/>).
    /// </summary>
    public void XmitDrop(in SkBuff skb) => Add(skb.Owner, skb.Truesize, dropped: true);

    private void Add(IActorRef? owner, int truesize, bool dropped)
    {
        if (owner is null) return;
        var p = _pending.GetValueOrDefault(owner);
        _pending[owner] = (p.Count + 1, p.Truesize + truesize, p.Dropped + (dropped ? 1 : 0));
    }

    public void Flush(IActorRef self)
    {
        if (_pending.Count == 0) return;
        foreach (var (owner, p) in _pending) owner.Tell(new WmemFree(p.Count, p.Truesize, p.Dropped), self);
        _pending.Clear();
    }
}
