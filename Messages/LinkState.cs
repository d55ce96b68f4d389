using System.Collections.Immutable;
using Akka.Actor;

namespace ActorStack.Messages;


/// <summary>
/// A fault-schedule action (<c>crash driver h2/eth0</c>): the host's driver for <paramref name="Device"/>
/// throws at once, and its supervisor resets the device. Sent to the host actor (the simulation resolves
/// <paramref name="Host"/>); answered by <see cref="DriverFaultInjected"/>, or by a <see cref="CommandFailed"/>
/// (ENODEV) naming an unknown device.
/// </summary>
public sealed record CrashDriver(string Host, string Device);

/// <summary>Device faults a NIC driver can be made to suffer (issue 5, "device faults").</summary>
public enum DriverFaultKind
{
    /// <summary>An exception in the interrupt handler (<c>igb_msix_ring</c>).</summary>
    IrqHandler,
    /// <summary>An exception in the NAPI poll (<c>igb_poll</c>).</summary>
    NapiPoll,
    /// <summary>An exception in <c>ndo_start_xmit</c>.</summary>
    Transmit,
    /// <summary>The RX DMA engine stops: arriving frames are missed (<c>rx_missed_errors</c>) until a reset.</summary>
    RxRingStall,
    /// <summary>The TX DMA engine hangs: posted descriptors never go out nor complete, until the TX watchdog resets the device.</summary>
    TxHang,
    /// <summary>The next interrupt is lost: frames wait in the ring until another one is raised.</summary>
    IrqLoss,
}

/// <summary>
/// Arms a device fault on <paramref name="Device"/>'s driver. The exception kinds (IRQ handler, NAPI poll,
/// transmit) fire on a run of that path with <paramref name="Probability"/> (one draw per run from the device's
/// seeded generator); with <paramref name="Once"/> the fault disarms after firing, else it stays armed across
/// resets until <see cref="ClearDriverFaults"/>. RX stall and TX hang last until the next reset; IRQ loss loses
/// the next interrupt. Sent to the host (or straight to the driver); answered by <see cref="DriverFaultInjected"/>.
/// </summary>
public sealed record InjectDriverFault(string Device, DriverFaultKind Kind, double Probability = 1.0, bool Once = true);

/// <summary>Disarms every probabilistic fault of a device's driver; answered by <see cref="DriverFaultInjected"/> with a null kind.</summary>
public sealed record ClearDriverFaults(string Device);

public sealed record DriverFaultInjected(string Device, DriverFaultKind? Kind);

/// <summary>
/// <c>ip link set dev X up|down</c>: administrative state, independent of the carrier. Answered by <see cref="LinkAdminSet"/>,
/// or <see cref="CommandFailed"/> with ENODEV (unknown or not present device: <c>dev_open</c>'s refusal).
/// </summary>
public sealed record LinkSetAdmin(string Device, bool Up);

/// <summary><see cref="LinkSetAdmin"/> done: the device's administrative state is now <paramref name="Up"/>.</summary>
public sealed record LinkAdminSet(string Device, bool Up);

/// <summary>
/// Subscribes <paramref name="Subscriber"/> to the host's RTNLGRP_LINK stream (<c>ip monitor link</c>): every
/// RTM_NEWLINK / RTM_DELLINK from then on arrives as an <see cref="RtnlLinkEvent"/>. Answered by
/// <see cref="LinkMonitorSubscribed"/>. Bounded: at most 64 subscribers per host (<see cref="CommandFailed"/> with ENOBUFS beyond).
/// </summary>
public sealed record SubscribeLinkMonitor(IActorRef Subscriber);
/// <summary>Leaves the stream; answered by <see cref="LinkMonitorSubscribed"/>, or <see cref="CommandFailed"/> with ENOENT for one not subscribed.</summary>
public sealed record UnsubscribeLinkMonitor(IActorRef Subscriber);
/// <summary>The subscription's state after <see cref="SubscribeLinkMonitor"/> (true) or <see cref="UnsubscribeLinkMonitor"/> (false).</summary>
public sealed record LinkMonitorSubscribed(IActorRef Subscriber, bool Subscribed);

/// <summary>An rtnetlink link message kind.</summary>
public enum RtnlLinkKind { RTM_NEWLINK = 16, RTM_DELLINK = 17 }

/// <summary>
/// One line of <c>ip monitor link</c>: the device's state as <c>rtnl_fill_ifinfo</c> reported it, and
/// <paramref name="Line"/> formatted as <c>ip -o link</c> prints it.
/// </summary>
public sealed record RtnlLinkEvent(string Host, RtnlLinkKind Kind, int Ifindex, string Device, bool AdminUp, bool Carrier,
    string OperState, long CarrierUpCount, long CarrierDownCount, string Line)
{
    public override string ToString() => Kind == RtnlLinkKind.RTM_DELLINK ? $"[{Host}] Deleted {Line}" : $"[{Host}] {Line}";
}

/// <summary>
/// <c>register_netdevice_notifier</c> from outside the host: a notifier block named <paramref name="Name"/>
/// whose callback sends <see cref="NetdevNotification"/> to <paramref name="Subscriber"/>. Higher
/// <paramref name="Priority"/> runs first; equal priorities in registration order. On registration the existing
/// devices are replayed (NETDEV_REGISTER, NETDEV_UP) as Linux does. Answered by <see cref="NetdevNotifierChanged"/>, or
/// <see cref="CommandFailed"/> with EEXIST (the name is taken) or ENOBUFS (the chain is full).
/// </summary>
public sealed record RegisterNetdevNotifier(string Name, IActorRef Subscriber, int Priority = 0);
/// <summary>
/// <c>unregister_netdevice_notifier</c>: replays NETDEV_GOING_DOWN / NETDEV_DOWN / NETDEV_UNREGISTER to the leaving block.
/// Answered by <see cref="NetdevNotifierChanged"/>, or <see cref="CommandFailed"/> with ENOENT for an unknown name.
/// </summary>
public sealed record UnregisterNetdevNotifier(string Name);
/// <summary>The block's state after <see cref="RegisterNetdevNotifier"/> (true) or <see cref="UnregisterNetdevNotifier"/> (false).</summary>
public sealed record NetdevNotifierChanged(string Name, bool Registered);

/// <summary>
/// A netdevice notifier call as one subscriber saw it. As in Linux the event carries the device, not up or
/// down: <paramref name="Carrier"/>, <paramref name="OperState"/> and <paramref name="AdminUp"/> are the device's
/// state when the chain ran.
/// </summary>
public sealed record NetdevNotification(string Notifier, string Event, int Ifindex, string Device, bool AdminUp, bool Carrier,
    string OperState);

/// <summary><c>ip -s link</c>: answered by <see cref="LinkList"/>.</summary>
public sealed record GetLinks
{
    public static readonly GetLinks Instance = new();
}

/// <summary>The host's devices as <c>ip -o link</c> lines, each followed by its carrier counter line.</summary>
public sealed record LinkList(string Host, ImmutableArray<string> Lines, ImmutableArray<LinkStateInfo> Links);

/// <summary>One device's link state (<c>IFLA_*</c>) and driver supervision counters.</summary>
public sealed record LinkStateInfo(int Ifindex, string Device, bool AdminUp, bool Carrier, string OperState, string Qdisc,
    long CarrierUpCount, long CarrierDownCount, long DriverResets, long TxTimeouts, bool DriverFailed);
