using System.Collections.Immutable;

namespace ActorStack.Messages;

/// <summary><c>skb->pkt_type</c>: what the receive path decided about the frame's destination.</summary>
public enum PacketKind : byte { Host = 0, Broadcast = 1, Multicast = 2, OtherHost = 3, Outgoing = 4, Loopback = 5 }

/// <summary>
/// A socket buffer (<c>struct sk_buff</c>). The bytes are never written after the buffer is
/// handed on: whoever holds the <see cref="SkBuff"/> value owns it, and a tap
/// receives its own copy (<see cref="CloneForTap"/>), so a slow tap never sees
/// a buffer that someone else changes.
/// </summary>
/// <param name="Data">The frame from the Ethernet header on (link padding included until <c>ip_rcv_core</c> trims it).</param>
/// <param name="Ifindex">Receiving device.</param>
/// <param name="RxQueue">Hardware RX queue the NIC put it on.</param>
/// <param name="Hash">Flow hash (<c>skb->hash</c>, from RSS); 0 = not computed.</param>
/// <param name="TstampTicks">RX timestamp in simulation ticks (100 ns, UTC), read from the scheduler's clock.</param>
/// <param name="Truesize">Memory charged to a socket for this buffer (<c>skb->truesize</c>).</param>
public readonly record struct SkBuff(ReadOnlyMemory<byte> Data, int Ifindex, int RxQueue, uint Hash, long TstampTicks, int Truesize)
{
    /// <summary>Offset of the network header (<c>skb_network_header</c>).</summary>
    public int NetworkOffset { get; init; } = 14;
    /// <summary>Offset of the transport header, or -1 before IP has parsed it.</summary>
    public int TransportOffset { get; init; } = -1;
    /// <summary>Length of the network-layer packet after <c>ip_rcv_core</c> trimmed link padding (0 before).</summary>
    public int NetworkLength { get; init; }
    public PacketKind PktType { get; init; }
    public ushort Protocol { get; init; }
    /// <summary><c>skb->sk</c> on transmit: the socket whose send buffer the buffer is charged to (<c>sock_wfree</c> on free), or null.</summary>
    public Akka.Actor.IActorRef? Owner { get; init; }
    /// <summary><c>skb->priority</c>: picks the <c>pfifo_fast</c> band (from the TOS via <c>ip_tos2prio</c>, or <c>SO_PRIORITY</c>).</summary>
    public byte Priority { get; init; }
    /// <summary><c>CHECKSUM_UNNECESSARY</c>: the transport checksum was verified (by GRO); the protocol does not check it again.</summary>
    public bool ChecksumUnnecessary { get; init; }
    /// <summary><c>skb_shinfo(skb)->gso_size</c>: payload bytes per segment of a GSO/GRO super-packet (the MSS); 0 = not GSO.</summary>
    public int GsoSize { get; init; }
    /// <summary><c>skb_shinfo(skb)->gso_segs</c>: segments the super-packet stands for (0 or 1 = one).</summary>
    public int GsoSegs { get; init; }

    public int Length => Data.Length;
    public ReadOnlySpan<byte> Network => Data.Span[NetworkOffset..];

    /// <summary><c>SKB_TRUESIZE</c>: data rounded to 64 bytes plus the 576 bytes of <c>sk_buff</c> and <c>skb_shared_info</c>.</summary>
    public static int TruesizeFor(int dataLength) => ((dataLength + 63) & ~63) + 576;

    /// <summary>A private read-only copy for a <c>ptype_all</c> tap (<c>skb_clone</c>: a refcounted, shared, read-only copy).</summary>
    public SkBuff CloneForTap() => this with { Data = Data.ToArray() };
}

/// <summary>
/// A NAPI poll's worth of buffers moved between actors in one message, as
/// <c>netif_receive_skb_list</c> does. Order is the arrival order.
/// </summary>
public sealed record SkbBatch(ImmutableArray<SkBuff> Items) : IChargedMessage
{
    public int Count => Items.Length;
    public long ChargeOf(int index) => 1;
    public IChargedMessage Take(int n) => new SkbBatch(Items.Slice(0, n));
    public IChargedMessage Skip(int n) => new SkbBatch(Items.Slice(n, Items.Length - n));
    public override string ToString() => $"SkbBatch({Items.Length} skbs)";
}

/// <summary>
/// A message whose items are charged to a bounded drop-tail queue (a mailbox
/// that plays a kernel queue). The queue admits items one by one while its
/// charge is at or under its limit (Linux's <c>qlen &lt;= netdev_max_backlog</c>
/// and <c>sk_rmem_alloc &lt;= sk_rcvbuf</c> checks) and drops the rest, counted.
/// </summary>
public interface IChargedMessage
{
    int Count { get; }
    long ChargeOf(int index);
    /// <summary>The message with only its first <paramref name="n"/> items.</summary>
    IChargedMessage Take(int n);
    /// <summary>The items from <paramref name="n"/> on (what a full queue drops).</summary>
    IChargedMessage Skip(int n);
}
