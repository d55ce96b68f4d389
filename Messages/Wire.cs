using System.Collections.Immutable;

namespace ActorStack.Messages;

/// <summary>
/// <c>tc qdisc replace … netem OPTIONS</c> on one direction of a <see cref="WireActor"/>: <paramref name="Settings"/>
/// (from <see cref="NetemParser.TryParse"/>), or null to remove netem. Frames already held keep their send times.
/// Answered by <see cref="NetemSet"/>, or by <see cref="CommandFailed"/> (EINVAL, with tc's message as the detail) for
/// settings netem refuses.
/// </summary>
public sealed record SetNetem(WireDirection Direction, NetemQopt? Settings);

/// <summary>The reply to <see cref="SetNetem"/>: the settings are installed (null: netem removed).</summary>
public sealed record NetemSet(WireDirection Direction, NetemQopt? Settings);

/// <summary>Replaces a <see cref="WireActor"/>'s conditional fault rules (empty removes them); answered by <see cref="FaultRulesSet"/>.</summary>
public sealed record SetFaultRules(ImmutableArray<FaultRule> Rules)
{
    public override string ToString() => $"SetFaultRules({Rules.Length} rules)";
}

/// <summary>The reply to <see cref="SetFaultRules"/>: how many rules the wire now applies.</summary>
public sealed record FaultRulesSet(int Count);

/// <summary>
/// How a <see cref="WireActor"/> is built: <paramref name="Name"/> ("h1/eth0-h2/eth0") and the run's
/// <paramref name="Seed"/> seed its random draws; <paramref name="Delay"/> is the propagation delay; netem per
/// direction (null = none) and the conditional fault rules. <see cref="SpeedA"/> / <see cref="SpeedB"/> are the two ends'
/// <c>speed</c> (Mbit/s, as <c>ethtool</c> shows it); the link runs at the lower (autonegotiation).
/// </summary>
public sealed record WireOptions(string Name, int Seed, TimeSpan Delay)
{
    /// <summary>End a's <c>speed</c>, Mbit/s (a device's or a switch's; default 10000, a 10G NIC).</summary>
    public int SpeedA { get; init; } = 10_000;
    /// <summary>End b's <c>speed</c>, Mbit/s.</summary>
    public int SpeedB { get; init; } = 10_000;
    /// <summary>
    /// End a's TX interrupt coalescing (<c>ethtool -C DEV tx-usecs</c>), µs: its completions come at most this long after
    /// the first finished frame, in one batch. 0 here (one completion per frame); a scenario passes its devices' value
    /// (<c>device-defaults.tx-usecs</c>, 3).
    /// </summary>
    public int TxUsecsA { get; init; }
    /// <summary>End b's <c>tx-usecs</c>.</summary>
    public int TxUsecsB { get; init; }
    public NetemQopt? NetemAToB { get; init; }
    public NetemQopt? NetemBToA { get; init; }
    public ImmutableArray<FaultRule> Faults { get; init; } = ImmutableArray<FaultRule>.Empty;
}
