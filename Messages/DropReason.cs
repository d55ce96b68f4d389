namespace ActorStack.Messages;

/// <summary>
/// Why a buffer was freed without delivery: Linux's <c>SKB_DROP_REASON_*</c>
/// names (include/net/dropreason-core.h), plus ActorStack's own reasons for the
/// simulated hardware and medium, which say so by their <c>Sim</c> prefix.
/// </summary>
public enum DropReason
{
    NOT_SPECIFIED,
    NO_SOCKET,
    PKT_TOO_SMALL,
    TCP_CSUM,
    UDP_CSUM,
    NETFILTER_DROP,
    OTHERHOST,
    IP_CSUM,
    IP_INHDR,
    IP_NOPROTO,
    SOCKET_RCVBUFF,
    SOCKET_BACKLOG,
    IP_OUTNOROUTES,
    NEIGH_FAILED,
    NEIGH_CREATEFAIL,
    NEIGH_QUEUEFULL,
    NEIGH_DEAD,
    QDISC_DROP,
    CPU_BACKLOG,
    XDP,
    UNHANDLED_PROTO,
    /// <summary>GSO segmentation failed (<c>skb_gso_segment</c> could not cut a super-packet).</summary>
    SKB_GSO_SEG,
    DEV_READY,
    FULL_RING,
    NOMEM,
    HDR_TRUNC,
    IP_INADDRERRORS,
    IP_INNOROUTES,
    PKT_TOO_BIG,
    DUP_FRAG,
    FRAG_REASM_TIMEOUT,
    QUEUE_PURGE,
    ICMP_CSUM,
    TCP_FLAGS,
    TCP_ZEROWINDOW,
    TCP_OLD_DATA,
    TCP_OVERWINDOW,
    TCP_OFOMERGE,
    TCP_RFC7323_PAWS,
    TCP_INVALID_SEQUENCE,
    TCP_RESET,
    TCP_INVALID_SYN,
    TCP_CLOSE,
    TCP_OLD_ACK,
    TCP_TOO_OLD_ACK,
    TCP_ACK_UNSENT_DATA,
    TCP_OFO_DROP,
    TCP_INVALID_ACK_SEQUENCE,
    TCP_ABORT_ON_DATA,
    INVALID_PROTO,
    IP_INVALID_SOURCE,
    SOCKET_CLOSE,
    /// <summary>The NIC's input FIFO overflowed before the frame reached the descriptor ring (<c>rx_fifo_errors</c>).</summary>
    SIM_NIC_FIFO,
    /// <summary>The frame was shorter than an Ethernet header or longer than the device accepts (<c>rx_length_errors</c>).</summary>
    SIM_NIC_LENGTH,
    /// <summary>The frame was sent into a wire end with nothing attached.</summary>
    SIM_LINK_UNATTACHED,
    /// <summary>A netem loss model dropped the frame (sch_netem <c>loss_event</c>).</summary>
    SIM_NETEM_LOSS,
    /// <summary>netem's queue held <c>limit</c> packets.</summary>
    SIM_NETEM_LIMIT,
    /// <summary>A protocol handler actor's input queue was full (a queue Linux does not have: it runs ip_rcv in the softirq).</summary>
    SIM_PROTO_QUEUE,
    /// <summary>A driver reset freed the buffer (rings reinitialised), or the driver is down for good.</summary>
    SIM_DRIVER_RESET,
    /// <summary>A wire's input queue was full.</summary>
    SIM_WIRE_OVERFLOW,
    /// <summary>The cable is cut.</summary>
    SIM_LINK_DOWN,
    /// <summary>A conditional fault rule on a wire dropped the frame (a fault no netem offers: matched on parsed headers).</summary>
    SIM_FAULT_RULE,
    /// <summary>
    /// <c>SKB_NOT_DROPPED_YET</c>: not a drop. What a receive step such as <c>tcp_validate_incoming</c> /
    /// <c>tcp_data_queue</c> returns when the segment was accepted.
    /// </summary>
    NOT_DROPPED_YET,
}

/// <summary>Where a drop happened: host, then the device / CPU / layer inside it.</summary>
public readonly record struct DropSite(DropReason Reason, string Location)
{
    public override string ToString() => $"{Reason} at {Location}";
}
