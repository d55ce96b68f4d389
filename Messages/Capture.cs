using Akka.Actor;

namespace ActorStack.Messages;

/// <summary>
/// Starts the host's drop monitor in packet mode for <see cref="Listener"/> (drop_monitor's <c>NET_DM_CMD_START</c>
/// with <c>NET_DM_ALERT_MODE_PACKET</c>): from then on every drop the host counts is also told to it as a
/// <see cref="NetDmPacketAlert"/>. Sent to a host; answered by <see cref="DropMonitorStarted"/>.
/// </summary>
public sealed record DropMonitorStart(IActorRef Listener);

/// <summary>The answer to <see cref="DropMonitorStart"/>: <see cref="Host"/>'s drops now reach the listener.</summary>
public sealed record DropMonitorStarted(string Host, IActorRef Listener);

/// <summary>
/// One drop the host counted (<c>kfree_skb_reason</c>, as drop_monitor's packet alert carries it): the reason and the
/// place as the drop table names them, how many packets, the device (<c>NET_DM_ATTR_IN_PORT</c>'s ifindex, 0 when the
/// site does not know it) and, when the site had the buffer at hand, a copy of its frame (<c>NET_DM_ATTR_PAYLOAD</c>;
/// empty otherwise). <see cref="Transmit"/>: the buffer was on its way out of the device (qdisc, TX ring).
/// One item of a listener's bounded queue (drop_monitor's <c>net_dm_queue_len</c>): a listener that falls behind loses
/// alerts, counted, never the stack's data.
/// </summary>
public sealed record NetDmPacketAlert(string Host, DropReason Reason, string Location, long Count, int Ifindex,
    ReadOnlyMemory<byte> Frame, bool Transmit) : IChargedMessage
{
    int IChargedMessage.Count => 1;
    public long ChargeOf(int index) => 1;
    // One item: admitted whole or dropped whole.
    public IChargedMessage Take(int n) => this;
    public IChargedMessage Skip(int n) => this;

    public override string ToString() => $"NetDmPacketAlert({Host} {Reason} at {Location} x{Count}, {Frame.Length} bytes)";
}

/// <summary>
/// Adds a capture tap to a wire: it gets a <see cref="WireCaptureEvent"/> for each fault on the medium from now on.
/// Sent to a <c>WireActor</c>; answered by <see cref="WireCaptureTapAdded"/>.
/// </summary>
public sealed record AddWireCaptureTap(IActorRef Tap);

public sealed record WireCaptureTapAdded(string Wire);

/// <summary>
/// A fault on a wire, as it happens: a frame lost, corrupted or duplicated by netem, dropped, corrupted, duplicated or
/// held by fault rule N, dropped on a cut cable; the cable cut or restored; netem or the fault rules changed.
/// <see cref="Direction"/> null: the whole cable. <see cref="Frame"/> (a read-only copy) is empty when the event has no
/// frame. <see cref="Text"/> says what happened in the configuration's words (<c>netem loss</c>, <c>fault rule 2:
/// drop</c>, <c>cable cut</c>), with the drop reason when a frame was dropped. <see cref="AgoNs"/>: how long before the
/// message was sent it happened (a frame meets netem when its last bit has left, which the wire may handle a little
/// later, in one batch of TX completions).
/// </summary>
public sealed record WireCaptureEvent(string Wire, WireDirection? Direction, string Text, ReadOnlyMemory<byte> Frame, long AgoNs = 0)
    : IChargedMessage
{
    // One item of the tap's bounded mailbox, admitted whole or dropped whole.
    public int Count => 1;
    public long ChargeOf(int index) => 1;
    public IChargedMessage Take(int n) => this;
    public IChargedMessage Skip(int n) => this;

    public override string ToString() => $"WireCaptureEvent({Wire} {Text}, {Frame.Length} bytes)";
}
