using System.Collections.Immutable;
using Akka.Actor;

namespace ActorStack.Messages;

/// <summary>
/// <c>napi_schedule</c>: the IRQ handler puts a NAPI context on the CPU's
/// <c>poll_list</c> and raises NET_RX_SOFTIRQ. <paramref name="Driver"/> is the
/// NIC actor that owns the ring, <paramref name="Queue"/> its RX queue.
/// </summary>
public sealed record NapiSchedule(IActorRef Driver, int Queue);

/// <summary>The softirq calls the driver's <c>poll</c> with <paramref name="Weight"/> (<c>net_rx_action</c> → <c>napi_poll</c>, e.g. <c>igb_poll</c>).</summary>
public sealed record NapiPoll(int Queue, int Weight, int Cpu);

/// <summary>
/// What one poll produced: the buffers (at most the weight), the work done,
/// and whether the driver completed NAPI (<c>napi_complete_done</c>: work under
/// the weight, IRQ unmasked) or wants to be polled again.
/// </summary>
public sealed record NapiPollResult(int Queue, ImmutableArray<SkBuff> Skbs, int WorkDone, bool Completed)
{
    public override string ToString() => $"NapiPollResult(q{Queue}, {Skbs.Length} skbs, done={Completed})";
}

/// <summary>
/// <c>enqueue_to_backlog</c>: buffers RPS steered to a CPU's
/// <c>input_pkt_queue</c>. The softnet actor's mailbox is that queue (bounded
/// by <c>netdev_max_backlog</c>, drop-tail, counted in <c>dropped</c>). The IPI
/// that wakes the target is a separate message, sent once per <c>net_rx_action</c>
/// run to each CPU whose idle backlog the sender scheduled; the target counts
/// <c>received_rps</c> when it arrives.
/// </summary>
public sealed record BacklogEnqueue(ImmutableArray<SkBuff> Items, int FromCpu) : IChargedMessage
{
    public int Count => Items.Length;
    public long ChargeOf(int index) => 1;
    public IChargedMessage Take(int n) => this with { Items = Items.Slice(0, n) };
    public IChargedMessage Skip(int n) => this with { Items = Items.Slice(n, Items.Length - n) };
    public override string ToString() => $"BacklogEnqueue({Items.Length} skbs from cpu{FromCpu})";
}

/// <summary>
/// Buffers handed by <c>__netif_receive_skb_core</c> on CPU <paramref name="Cpu"/>
/// to a protocol handler actor (<c>ptype_base</c>; as <c>ip_list_rcv</c> takes a list: one message per run of
/// buffers for the same handler), or by one protocol handler to the next (<c>ip_protocol_deliver_rcu</c>).
/// It runs inside CPU <paramref name="Cpu"/>'s softirq: the host's handlers answer the softnet actor of that CPU
/// with <see cref="ProtocolBatchDone"/>, and <c>net_rx_action</c> goes on only when every batch of the poll is done.
/// There is no queue in between that could drop: the handler's mailbox holds at most the poll's batches.
/// </summary>
public sealed record ProtocolDeliver(ImmutableArray<SkBuff> Items, int Cpu)
{
    public override string ToString() => $"ProtocolDeliver({Items.Length} skbs from cpu{Cpu})";
}

/// <summary>
/// A protocol handler finished one <see cref="ProtocolDeliver"/> batch of CPU <paramref name="Cpu"/>'s softirq,
/// told to that CPU's softnet actor: what it cost the CPU (<paramref name="CostNs"/>, ns of simulated CPU time; 0
/// on the real clock) and how many <see cref="ProtocolDeliver"/> batches it handed on to other handlers for the
/// same softirq work (<paramref name="Spawned"/>, e.g. IP to UDP, TCP and ICMP). The softnet keeps the count of
/// batches outstanding (+<paramref name="Spawned"/> − 1 per done) and continues <c>net_rx_action</c> at 0.
/// A handler tells it before handing on the spawned batches, so it never reaches 0 early.
/// </summary>
public sealed record ProtocolBatchDone(int Cpu, long CostNs, int Spawned);

/// <summary>
/// Datagrams queued on a socket's receive queue (<c>sk_receive_queue</c>); the
/// socket's mailbox charges each by its truesize against <c>sk_rcvbuf</c>.
/// </summary>
public sealed record SocketDeliver(ImmutableArray<Datagram> Items, ImmutableArray<int> Truesizes) : IChargedMessage
{
    public int Count => Items.Length;
    public long ChargeOf(int index) => Truesizes[index];
    public IChargedMessage Take(int n) => new SocketDeliver(Items.Slice(0, n), Truesizes.Slice(0, n));
    public IChargedMessage Skip(int n) => new SocketDeliver(Items.Slice(n, Items.Length - n), Truesizes.Slice(n, Truesizes.Length - n));
    public override string ToString() => $"SocketDeliver({Items.Length} datagrams)";
}
