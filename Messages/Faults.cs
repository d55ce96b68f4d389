using System.Collections.Immutable;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

/// <summary>The protocol a conditional fault rule matches (from the EtherType and the IPv4 protocol field).</summary>
public enum FaultProto
{
    Any,
    Arp,
    Icmp,
    Udp,
    Tcp,
}

/// <summary>What a conditional fault rule does to a frame it selects.</summary>
public enum FaultAction
{
    /// <summary>Drop it (counted as <see cref="DropReason.SIM_FAULT_RULE"/>).</summary>
    Drop,
    /// <summary>Flip one bit at a seeded position (as netem's <c>corrupt</c>), on a copy.</summary>
    Corrupt,
    /// <summary>Hold it for <see cref="FaultRule.Delay"/> more before the propagation delay; it skips netem.</summary>
    Delay,
    /// <summary>Send it twice.</summary>
    Duplicate,
}

/// <summary>
/// Which frames a rule looks at; every given field must match (absent = any). For ARP, <see cref="Src"/> and
/// <see cref="Dst"/> are the sender and target protocol addresses and <see cref="ArpOp"/> the opcode
/// (1 request, 2 reply). Ports match UDP and TCP only, and only the first fragment (the one with the header).
/// TCP flags match as iptables' <c>--tcp-flags MASK COMP</c>: <c>(flags &amp; TcpFlagsMask) == TcpFlags</c>.
/// </summary>
public sealed record FaultMatch
{
    public FaultProto Proto { get; init; }
    public Ipv4Prefix? Src { get; init; }
    public Ipv4Prefix? Dst { get; init; }
    public ushort? Sport { get; init; }
    public ushort? Dport { get; init; }
    public TcpFlags TcpFlags { get; init; }
    public TcpFlags TcpFlagsMask { get; init; }
    public ushort? ArpOp { get; init; }
    public byte? IcmpType { get; init; }
    /// <summary>TCP segments whose sequence number lies in [<see cref="TcpSeqFirst"/>, <see cref="TcpSeqLast"/>] (sequence space, may wrap).</summary>
    public uint? TcpSeqFirst { get; init; }
    public uint? TcpSeqLast { get; init; }

    public static readonly FaultMatch All = new();
}

/// <summary>
/// A conditional fault on one wire: frames in <see cref="Direction"/> (null = both) that satisfy
/// <see cref="Match"/> are counted, and the selected ones get <see cref="Action"/>. Selection: only the
/// <see cref="Nth"/> match when it is set ("drop the 3rd SYN-ACK"), else every <see cref="Every"/>-th match
/// ("corrupt every 100th datagram"; 0 or 1 = every match).
/// </summary>
public sealed record FaultRule(FaultMatch Match, FaultAction Action)
{
    public WireDirection? Direction { get; init; }
    public long Nth { get; init; }
    public long Every { get; init; }
    /// <summary>The extra hold of <see cref="FaultAction.Delay"/>.</summary>
    public TimeSpan Delay { get; init; }
}
