using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

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
