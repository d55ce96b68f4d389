using System.Collections.Immutable;

namespace ActorStack.Config;

/// <summary>
/// What one packet costs a simulated CPU at each stage of the stack, in nanoseconds (<c>host-defaults.cpu-cost</c>,
/// overridable per host as <c>hosts.NAME.cpu-cost</c>). Charged on the virtual clock only: there a CPU is busy for
/// these costs, so <c>netdev_budget_usecs</c>, <c>time_squeeze</c>, backlog overflow and socket-buffer drops happen
/// on simulated time, the same every run. On the real clock the host's own CPU is the cost and these are ignored.
/// Defaults are calibrated against this machine's kernel (BENCHMARKS.md, "CPU cost calibration").
/// </summary>
/// <param name="NapiPollNs">Driver poll per packet: descriptor clean, <c>build_skb</c>, <c>eth_type_trans</c> (<c>igb_clean_rx_irq</c>).</param>
/// <param name="GroNs"><c>dev_gro_receive</c> per packet on a device with GRO on.</param>
/// <param name="NetifReceiveNs"><c>__netif_receive_skb_core</c> per packet: taps, <c>ptype_base</c> walk, RPS steering.</param>
/// <param name="IpRcvNs"><c>ip_rcv</c> → <c>ip_rcv_finish</c> (route input) → <c>ip_local_deliver</c>, per packet.</param>
/// <param name="IpForwardNs"><c>ip_forward</c> → <c>ip_forward_finish</c>, per forwarded packet (on top of <paramref name="IpRcvNs"/>).</param>
/// <param name="UdpRcvNs"><c>udp_rcv</c> → <c>__udp4_lib_rcv</c> (socket lookup, checksum), per datagram.</param>
/// <param name="TcpRcvNs"><c>tcp_v4_rcv</c> → <c>tcp_rcv_established</c>, per segment.</param>
/// <param name="IcmpRcvNs"><c>icmp_rcv</c>, per message.</param>
/// <param name="SockEnqueueNs">Queueing to a socket and waking its reader (<c>__udp_enqueue_schedule_skb</c>, <c>tcp_queue_rcv</c>, <c>sk_data_ready</c>).</param>
/// <param name="RecvmsgNs">One <c>recvmsg</c> call per datagram/segment taken (syscall entry and exit, <c>skb_recv_udp</c>).</param>
/// <param name="SendmsgNs">One <c>sendmsg</c> call (syscall, <c>udp_sendmsg</c>/<c>tcp_sendmsg</c>, skb allocation).</param>
/// <param name="OutputNs">The output path per packet: <c>ip_output</c> → <c>neigh_output</c> → <c>dev_queue_xmit</c> → qdisc → <c>ndo_start_xmit</c>.</param>
/// <param name="CopyPerKiBNs"><c>copy_to_user</c>/<c>copy_from_user</c> per KiB of payload.</param>
public sealed record CpuCostSettings(
    long NapiPollNs,
    long GroNs,
    long NetifReceiveNs,
    long IpRcvNs,
    long IpForwardNs,
    long UdpRcvNs,
    long TcpRcvNs,
    long IcmpRcvNs,
    long SockEnqueueNs,
    long RecvmsgNs,
    long SendmsgNs,
    long OutputNs,
    long CopyPerKiBNs)
{
    /// <summary>Nothing costs anything (the real clock, or a test that wants an infinitely fast CPU).</summary>
    public static readonly CpuCostSettings Zero = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>stack.hocon's keys, in parameter order.</summary>
    public static readonly ImmutableArray<string> Keys =
    [
        "napi-poll", "gro", "netif-receive", "ip-rcv", "ip-forward", "udp-rcv", "tcp-rcv", "icmp-rcv",
        "sock-enqueue", "recvmsg", "sendmsg", "output", "copy-per-kib",
    ];

    /// <summary>The payload copy of <paramref name="bytes"/> bytes (rounded down to whole ns).</summary>
    public long CopyNs(int bytes) => CopyPerKiBNs * bytes / 1024;

    public static CpuCostSettings FromArray(ReadOnlySpan<long> v) =>
        new(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]);
}
