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
/// <summary>Frames carried each way, and frames each way the wire's input queue could not take (<c>SIM_WIRE_OVERFLOW</c>).</summary>
public sealed record WireStats(long AToB, long BToA, long DroppedAToB, long DroppedBToA)
{
    public long Dropped => DroppedAToB + DroppedBToA;
}
