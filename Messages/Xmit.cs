using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

// The transmit path between the actors of one host (<c>ip_queue_xmit</c> / <c>ip_append_data</c> → <c>ip_finish_output2</c> → <c>neigh_output</c> → <c>dev_queue_xmit</c>). Buffers carry
// whole Ethernet frames: the IP layer builds the packet at offset 14 (the
// headroom LL_RESERVED_SPACE gives) and the neighbour layer fills the
// Ethernet header in before the buffer reaches the device.

/// <summary>
/// <c>dev_queue_xmit</c>: buffers for one device, to its driver actor, which
/// enqueues them on the qdisc (bounded by <c>txqueuelen</c>, drops counted as
/// <c>QDISC_DROP</c>) and moves them to the TX ring as it has room.
/// </summary>
public sealed record DevQueueXmit(ImmutableArray<SkBuff> Skbs)
{
    public override string ToString() => $"DevQueueXmit({Skbs.Length} skbs)";
}

/// <summary>
/// <c>neigh_resolve_output</c>: IP packets for next hop <paramref name="NextHop"/>
/// on device <paramref name="Ifindex"/> whose link-layer address the sender had not
/// in its neighbour snapshot; the neighbour actor resolves (ARP) and sends them, or
/// queues them while INCOMPLETE (bounded by <c>unres_qlen_bytes</c>).
/// </summary>
public sealed record NeighOutput(int Ifindex, Ipv4Address NextHop, ImmutableArray<SkBuff> Skbs)
{
    public override string ToString() => $"NeighOutput({NextHop} dev#{Ifindex}, {Skbs.Length} skbs)";
}

/// <summary>
/// The neighbour actor has handled a <see cref="NeighOutput"/> (sent, queued or dropped its buffers; whatever it sends
/// to the device is already on its way): answered to the sender, which until then keeps sending to that next hop
/// through the neighbour actor even when the published table says it is usable, so that nothing it sends later
/// can overtake what is still in the neighbour actor's mailbox (in Linux <c>neigh_resolve_output</c> and
/// <c>neigh_update</c>'s flush of <c>arp_queue</c> are serialised by <c>neigh->lock</c>).
/// </summary>
public sealed record NeighOutputDone(int Ifindex, Ipv4Address NextHop);

/// <summary>
/// <c>sock_wfree</c>: buffers charged to a socket's send buffer were freed
/// (transmitted, or dropped after the socket had handed them on); their
/// truesize returns to <c>sk_sndbuf</c>. <paramref name="Dropped"/> of them were dropped
/// by a qdisc (<c>NET_XMIT_DROP</c>: UDP counts <c>SndbufErrors</c>).
/// </summary>
public sealed record WmemFree(int Count, long Truesize, int Dropped = 0);

/// <summary>
/// <c>icmp_send</c>: an ICMP error about <paramref name="Offending"/> (the IP packet
/// that caused it, from its header on) to be built, rate limited and sent by the
/// host's ICMP handler. <paramref name="Info"/> is the next-hop MTU for
/// fragmentation needed, the pointer for a parameter problem, else 0.
/// </summary>
public sealed record IcmpSendError(byte Type, byte Code, uint Info, ReadOnlyMemory<byte> Offending, int InIfindex)
{
    public override string ToString() => $"IcmpSendError(type {Type} code {Code}, {Offending.Length} bytes)";
}

/// <summary>
/// <c>icmp_unreach</c> → a protocol's <c>err_handler</c> (<c>__udp4_lib_err</c>,
/// <c>raw_icmp_error</c>): an ICMP error arrived about a packet this host sent.
/// <paramref name="Offending"/> is the quoted IP header plus at least 8 bytes of its payload.
/// </summary>
public sealed record IcmpErrorReceived(byte Type, byte Code, uint Info, Ipv4Address From, ReadOnlyMemory<byte> Offending)
{
    public override string ToString() => $"IcmpErrorReceived(type {Type} code {Code} from {From})";
}
