using System.Collections.Immutable;
using Akka.Actor;

namespace ActorStack.Messages;

/// <summary>
/// Plugs a wire into switch port <paramref name="Port"/> (1-based, "port3" is 3): the switch is the wire's end, frames
/// from <paramref name="Wire"/> enter on that port, and frames out of that port go to it. The port comes up
/// (carrier) with it. Answered by <see cref="SwitchPortAttached"/>, or by <see cref="Messages.CommandFailed"/>:
/// ENODEV for a port the switch does not have, EBUSY when the port or the wire is already plugged in
/// (<c>netdev_master_upper_dev_link</c> refuses a device that already has a master).
/// </summary>
public sealed record AttachSwitchPort(int Port, IActorRef Wire);
public sealed record SwitchPortAttached(string Switch, int Port);

/// <summary><c>bridge fdb show br NAME</c>; answered by <see cref="SwitchFdb"/>.</summary>
public sealed record GetSwitchFdb
{
    public static readonly GetSwitchFdb Instance = new();
}

/// <summary>The learned entries, one line each as <c>bridge fdb show</c> prints them: <c>MAC dev PORT master BRIDGE</c>.</summary>
public sealed record SwitchFdb(string Switch, string Text);

/// <summary>Asks a switch for its counters; answered by <see cref="SwitchStatsSnapshot"/>.</summary>
public sealed record GetSwitchStats
{
    public static readonly GetSwitchStats Instance = new();
}

/// <summary>
/// One port's counters. <paramref name="RxFrames"/>: frames that entered on it; <paramref name="TxFrames"/>: frames
/// handed to its wire; <paramref name="TxDropped"/>: frames its egress queue (<c>txqueuelen</c>, in flight until the
/// wire's TX completion) could not take; <paramref name="RxFifoDropped"/>: frames from its wire lost because the
/// switch's input queue (its mailbox) was full; <paramref name="Backlog"/>: frames queued on the port now.
/// </summary>
public sealed record SwitchPortStats(int Port, string Name, bool Up, long RxFrames, long TxFrames, long TxDropped,
    long RxFifoDropped, int Backlog);

/// <summary>
/// A switch's counters: frames received, forwarded to one port, flooded, and not forwarded (with the reasons the
/// bridge code drops for: bad source, destination on the ingress port, 802.1D link-local group, port down).
/// </summary>
public sealed record SwitchStatsSnapshot(string Switch, long RxFrames, long Forwarded, long Flooded, long Dropped,
    long DroppedInvalid, long DroppedSamePort, long UnknownWire, int FdbEntries, long FdbAged, long FdbMoves,
    long LearnDropsFull, ImmutableArray<SwitchPortStats> Ports)
{
    public SwitchPortStats Port(int port) => Ports[port - 1];
    public long TxFrames => Ports.Sum(p => p.TxFrames);
    public long TxDropped => Ports.Sum(p => p.TxDropped);
}
