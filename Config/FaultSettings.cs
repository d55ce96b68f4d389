using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

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

/// <summary>A rule of <c>scenario.faults</c>, on the wire at index <paramref name="Wire"/> of <c>scenario.wires</c>.</summary>
public sealed record WireFaultSettings(int Wire, FaultRule Rule);

/// <summary>
/// One entry of the fault schedule (<c>scenario.schedule</c>), run <see cref="At"/> after the workloads start.
/// To add an action: a record deriving from this one, a case in <c>StackConfig.ReadScheduleEntry</c> (its HOCON
/// keys), and a case in the simulation's schedule runner.
/// </summary>
public abstract record ScheduledFault(TimeSpan At)
{
    /// <summary>The entry's position in <c>scenario.schedule</c> as written (the list runs sorted by time).</summary>
    public int Index { get; init; }

    /// <summary>The line the CLI prints when the action runs (without the time).</summary>
    public abstract string Describe();
}

/// <summary><c>{ at, action = cut, wire }</c>: cut the cable.</summary>
public sealed record CutWireFault(TimeSpan At, int Wire, string WireName) : ScheduledFault(At)
{
    public override string Describe() => $"cut wire {WireName}";
}

/// <summary><c>{ at, action = restore, wire }</c>: mend the cable.</summary>
public sealed record RestoreWireFault(TimeSpan At, int Wire, string WireName) : ScheduledFault(At)
{
    public override string Describe() => $"restore wire {WireName}";
}

/// <summary><c>{ at, action = netem, wire, direction, netem = "loss 20%" }</c>; an empty spec clears netem.</summary>
public sealed record SetWireNetemFault(TimeSpan At, int Wire, string WireName, WireDirection Direction, string Netem)
    : ScheduledFault(At)
{
    public override string Describe() => Netem.Length == 0
        ? $"netem off on {WireName} {StackConfig.DirectionName(Direction)}"
        : $"netem {Netem} on {WireName} {StackConfig.DirectionName(Direction)}";
}

/// <summary><c>{ at, action = faults, wire, rules = [...] }</c>: replace the wire's conditional fault rules (empty = none).</summary>
public sealed record SetWireFaultsFault(TimeSpan At, int Wire, string WireName, ImmutableArray<FaultRule> Rules) : ScheduledFault(At)
{
    public override string Describe() => $"faults on {WireName}: {Rules.Length} rule(s)";
}

/// <summary><c>{ at, action = crash, device = "h2/eth0" }</c>: the driver throws at once (<c>CrashDriver</c>) and its supervisor resets the device.</summary>
public sealed record CrashDriverFault(TimeSpan At, string Host, string Device) : ScheduledFault(At)
{
    public override string Describe() => $"crash driver {Host}/{Device}";
}

/// <summary>
/// <c>{ at, action = fault, device, kind, probability = 0.1, once = on }</c>: arms a device fault (<c>InjectDriverFault</c>).
/// <c>kind</c>: tx-hang, rx-ring-stall, irq-loss (at once) or irq-handler, napi-poll, transmit (an exception at
/// <paramref name="Probability"/> per run of that path; with <paramref name="Once"/> only the first).
/// </summary>
public sealed record DriverFaultScheduled(TimeSpan At, string Host, string Device, DriverFaultKind Kind, double Probability, bool Once)
    : ScheduledFault(At)
{
    public override string Describe() => Kind is DriverFaultKind.IrqHandler or DriverFaultKind.NapiPoll or DriverFaultKind.Transmit
        ? $"fault {StackConfig.DriverFaultKindName(Kind)} on {Host}/{Device} (probability {Probability.ToString(System.Globalization.CultureInfo.InvariantCulture)}{(Once ? ", once" : "")})"
        : $"fault {StackConfig.DriverFaultKindName(Kind)} on {Host}/{Device}";
}

/// <summary><c>{ at, action = link-down | link-up, device }</c>: <c>ip link set dev X down|up</c> (<c>LinkSetAdmin</c>).</summary>
public sealed record LinkAdminFault(TimeSpan At, string Host, string Device, bool Up) : ScheduledFault(At)
{
    public override string Describe() => $"ip link set dev {Device} {(Up ? "up" : "down")} on {Host}";
}
