using ActorStack.Messages.Packets;
using System.Collections.Immutable;
using Akka.Actor;

namespace ActorStack.Messages;

/// <summary>
/// Frames on a cable. A wire forwards them to the NIC at its other end; a
/// NIC's input FIFO (its mailbox) charges one unit per frame and drops what it
/// cannot hold (<c>rx_fifo_errors</c>). Crosses cluster nodes, so it has its
/// own serializer (<c>FrameSerializer</c>).
/// </summary>
public sealed record WireFrames(ImmutableArray<ReadOnlyMemory<byte>> Frames) : IChargedMessage
{
    public int Count => Frames.Length;
    public long ChargeOf(int index) => 1;
    public IChargedMessage Take(int n) => new WireFrames(Frames.Slice(0, n));
    public IChargedMessage Skip(int n) => new WireFrames(Frames.Slice(n, Frames.Length - n));
    public override string ToString() => $"WireFrames({Frames.Length} frames, {Frames.Sum(f => f.Length)} bytes)";
}

/// <summary>Connects a NIC to one end of a wire: the NIC transmits onto <paramref name="Wire"/>.</summary>
public sealed record AttachWire(IActorRef Wire);

/// <summary>
/// <c>ndo_start_xmit</c> for frames that bypass the stack (pktgen does this):
/// the driver puts them on its TX ring and the wire; each frame is answered by
/// a <see cref="TxCompleted"/> to the sender once it left the ring.
/// </summary>
public sealed record XmitFrames(ImmutableArray<ReadOnlyMemory<byte>> Frames)
{
    public override string ToString() => $"XmitFrames({Frames.Length} frames)";
}

/// <summary>
/// A wire end's TX completion to the NIC that sent <see cref="WireFrames"/>: the
/// first <paramref name="Count"/> frames outstanding have left the NIC (serialised
/// onto the medium), so their TX descriptors are free (the TX-completion interrupt).
/// </summary>
public sealed record WireTxDone(int Count);

/// <summary>TX completion: frames freed from the TX ring (<paramref name="Sent"/> went onto the wire, <paramref name="Dropped"/> did not).</summary>
public sealed record TxCompleted(int Sent, int Dropped);

public sealed record GetWireStats
{
    public static readonly GetWireStats Instance = new();
}
/// <summary>
/// Frames carried each way (accepted from the sender), and frames each way the wire did not deliver: its
/// input queue could not take them (<c>SIM_WIRE_OVERFLOW</c>), netem dropped them, the cable was cut, or a
/// fault rule dropped them. <see cref="AToBDetail"/> / <see cref="BToADetail"/> break each direction down.
/// </summary>
public sealed record WireStats(long AToB, long BToA, long DroppedAToB, long DroppedBToA)
{
    public long Dropped => DroppedAToB + DroppedBToA;
    /// <summary>Direction a→b in detail; null from a link that keeps no detail (a TAP link).</summary>
    public WireDirectionStats? AToBDetail { get; init; }
    public WireDirectionStats? BToADetail { get; init; }
}

/// <summary>
/// One direction of a wire. Conservation: <see cref="Offered"/> + <see cref="Duplicated"/> =
/// <see cref="Delivered"/> + the sum of <see cref="Drops"/> + <see cref="InFlight"/>.
/// </summary>
/// <param name="Offered">Frames the sender put on the wire (including those its input queue refused).</param>
/// <param name="Delivered">Frames handed to the far end.</param>
/// <param name="InFlight">Frames held by netem, a fault delay or the propagation delay.</param>
/// <param name="Duplicated">Extra copies made (netem <c>duplicate</c> or a fault rule).</param>
/// <param name="Corrupted">Frames with one bit flipped (netem <c>corrupt</c> or a fault rule).</param>
/// <param name="Reordered">Frames netem sent ahead of the delay.</param>
/// <param name="EcnMarked">Loss events netem turned into a CE mark.</param>
/// <param name="Drops">Frames not delivered, by reason (SIM_WIRE_OVERFLOW, SIM_NETEM_LOSS, QDISC_DROP (netem over its limit),
/// SIM_LINK_DOWN, SIM_FAULT_RULE); reasons with no drop are absent.</param>
public sealed record WireDirectionStats(long Offered, long Delivered, long InFlight, long Duplicated, long Corrupted,
    long Reordered, long EcnMarked, ImmutableSortedDictionary<DropReason, long> Drops)
{
    public long Dropped => Drops.Values.Sum();
    public long DroppedBy(DropReason reason) => Drops.GetValueOrDefault(reason);
}

/// <summary>A direction of a wire: from end a to end b, or back.</summary>
public enum WireDirection
{
    AToB,
    BToA,
}

/// <summary>
/// Cuts the cable (the simulation's <c>ip link set … down</c> of the medium itself): every frame on it or put on
/// it later is dropped (<see cref="DropReason.SIM_LINK_DOWN"/>) and both ends get <see cref="CarrierChanged"/>(false).
/// Answered with <see cref="CableState"/>.
/// </summary>
public sealed record CutCable
{
    public static readonly CutCable Instance = new();
}

/// <summary>Mends a cut cable: both ends get <see cref="CarrierChanged"/>(true). Answered with <see cref="CableState"/>.</summary>
public sealed record RestoreCable
{
    public static readonly RestoreCable Instance = new();
}

/// <summary>The reply to <see cref="CutCable"/> and <see cref="RestoreCable"/>: whether the cable is now cut, and whether the command changed it.</summary>
public sealed record CableState(bool Cut, bool Changed);

/// <summary>
/// A wire to each NIC (or switch port) at its ends: the carrier (the far end's signal) came or went —
/// what the PHY reports before the driver calls <c>netif_carrier_on</c> / <c>netif_carrier_off</c>.
/// </summary>
public sealed record CarrierChanged(bool Up);

/// <summary>Asks for the link's counters; answered by <see cref="TapLinkStats"/>.</summary>
public sealed record GetTapLinkStats
{
    public static readonly GetTapLinkStats Instance = new();
}

/// <summary>
/// The TAP link's device, the kernel's MAC address on it, and its counters. Tx is sim→kernel (frames the NIC transmitted, written to the TAP), Rx is
/// kernel→sim. <see cref="RxOversize"/>: frames longer than the read buffer, dropped.
/// <see cref="RxErrors"/>: failed reads (the reader stops after one; <see cref="LastErrno"/> says why).
/// </summary>
public sealed record TapLinkStats(string Device, MacAddress KernelMac, long TxPackets, long TxBytes, long TxErrors, long TxDropped,
    long RxPackets, long RxBytes, long RxOversize, long RxErrors, int LastErrno, bool ReaderRunning);
