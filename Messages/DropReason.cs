// Enum casing rule for the whole product: enum members are C# PascalCase
// (TcpState.SynSent, NfHook.PreRouting), except in an enum whose members ARE the
// kernel's own identifiers and print as such: DropReason (SKB_DROP_REASON_* without
// the prefix), Errno (EINVAL, EMSGSIZE, ...) and similar tables of Linux names
// (SNMP/MIB counter names keep the kernel's spelling, e.g. InHdrErrors). Such an
// enum is spelled entirely the kernel's way, never mixed; ActorStack's own
// additions to it follow the same spelling with a SIM_ prefix.

namespace ActorStack.Messages;

/// <summary>
/// Why a buffer was freed without delivery: Linux's <c>SKB_DROP_REASON_*</c>
/// names (include/net/dropreason-core.h), plus ActorStack's own reasons for the
/// simulated hardware and medium, which say so by their <c>SIM_</c> prefix.
/// The one drop-reason type of the product: every layer, the wire, netem and the
/// switch report drops with it.
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
    /// <summary>
    /// A netem loss model dropped the frame (sch_netem <c>loss_event</c>; Linux frees it with <c>__qdisc_drop</c>
    /// as a QDISC_DROP). netem's queue overflowing its <c>limit</c> is <see cref="QDISC_DROP"/> itself.
    /// </summary>
    SIM_NETEM_LOSS,
    /// <summary>A driver reset freed the buffer (rings reinitialised), or the driver is down for good.</summary>
    SIM_DRIVER_RESET,
    /// <summary>A wire's input queue was full.</summary>
    SIM_WIRE_OVERFLOW,
    /// <summary>The cable is cut.</summary>
    SIM_LINK_DOWN,
    /// <summary>A conditional fault rule on a wire dropped the frame (a fault no netem offers: matched on parsed headers).</summary>
    SIM_FAULT_RULE,
    /// <summary>
    /// Simulator-specific, no Linux counterpart: the frame was crossing a wire between two cluster nodes when the far
    /// node was lost (unreachable, then downed); counted at the surviving end, which then sees carrier down.
    /// </summary>
    SIM_NODE_LOST,

    // The learning switch (Hardware/Switch, the Linux bridge's br_handle_frame / br_forward).
    /// <summary><c>br_handle_frame</c>: the source address is multicast or zero (<c>!is_valid_ether_addr(h_source)</c>).</summary>
    MAC_INVALID_SOURCE,
    /// <summary><c>br_handle_frame</c>: the destination is the IEEE MAC Control (pause) group 01:80:c2:00:00:01.</summary>
    MAC_IEEE_MAC_CONTROL,
    /// <summary><c>br_handle_frame_finish</c>: the ingress port is disabled (BR_STATE_DISABLED: no carrier or not attached).</summary>
    BRIDGE_INGRESS_STP_STATE,
    /// <summary>
    /// Another IEEE 802.1D link-local group (01:80:c2:00:00:0X): a bridge never forwards it; Linux hands it to the
    /// bridge's own host stack (<c>RX_HANDLER_PASS</c>), which the simulated switch does not have.
    /// </summary>
    SIM_BRIDGE_LINK_LOCAL,
    /// <summary>
    /// <c>br_forward</c>: the destination was learned on the ingress port (<c>should_deliver</c> refuses it); Linux
    /// frees it with a plain <c>kfree_skb</c>, without a reason.
    /// </summary>
    SIM_BRIDGE_SAME_PORT,
    /// <summary>
    /// <c>br_forward</c>: the destination's port is not forwarding (<c>should_deliver</c>: state != BR_STATE_FORWARDING);
    /// Linux frees it with a plain <c>kfree_skb</c>, without a reason. A guard: taking a port down flushes the addresses
    /// learned on it, so a learned destination is normally on a port that is up.
    /// </summary>
    SIM_BRIDGE_EGRESS_PORT_DOWN,

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
