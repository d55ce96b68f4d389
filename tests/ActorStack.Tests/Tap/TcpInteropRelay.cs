using Akka.Actor;
using ActorStack.Messages;

namespace ActorStack.Tests.Tap;

/// <summary>
/// Joins a <see cref="ActorStack.Actors.Wire.WireActor"/> (its B end) to a
/// <see cref="ActorStack.Actors.Wire.TapLinkActor"/> (whose "NIC" this relay is), so the simulation's netem
/// sits on its side of the TAP: NIC ⇄ wire (netem both ways) ⇄ relay ⇄ TAP ⇄ kernel. Frames from the TAP
/// go on the wire as from its B end; frames off the wire are written to the TAP. The TAP's
/// <see cref="WireTxDone"/> are absorbed: the wire completes the NIC's frames itself on acceptance.
/// Until <see cref="Join"/> arrives, frames are dropped (the kernel sends nothing before its address is up).
/// </summary>
public sealed class TcpInteropRelay : ReceiveActor
{
    /// <summary>The two ends to join; answered by <see cref="Joined"/>.</summary>
    public sealed record Join(IActorRef Wire, IActorRef Tap);

    public sealed record Joined
    {
        public static readonly Joined Instance = new();
    }

    private IActorRef _wire = ActorRefs.Nobody;
    private IActorRef _tap = ActorRefs.Nobody;

    public TcpInteropRelay()
    {
        Receive<Join>(j =>
        {
            (_wire, _tap) = (j.Wire, j.Tap);
            Sender.Tell(Joined.Instance);
        });
        Receive<WireFrames>(m =>
        {
            if (Sender.Equals(_tap)) _wire.Tell(m, Self);
            else if (Sender.Equals(_wire)) _tap.Tell(m, Self);
        });
        Receive<WireTxDone>(_ => { });
        Receive<CarrierChanged>(_ => { });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new TcpInteropRelay());
}
