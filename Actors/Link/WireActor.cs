using Akka.Actor;
using ActorStack.Actors.Mailboxes;
using ActorStack.Messages;

namespace ActorStack.Actors.Link;

/// <summary>
/// A full-duplex cable between two NICs, addressed only by their actor
/// references, so each end may live on another cluster node. Frames from one
/// end go to the other after the propagation delay (on the scheduler).
/// The mailbox is bounded (a cable carries only so much): a sender faster than the
/// far end can take loses frames here, counted per direction (SIM_WIRE_OVERFLOW).
/// </summary>
public sealed class WireActor : ReceiveActor
{
    private readonly IActorRef _a;
    private readonly IActorRef _b;
    private readonly TimeSpan _delay;
    private long _aToB, _bToA, _droppedAToB, _droppedBToA;

    public WireActor(IActorRef a, IActorRef b, TimeSpan delay)
    {
        _a = a;
        _b = b;
        _delay = delay;
        var q = ChargedMessageQueue.Of(Context);
        var self = Self;
        if (q is not null)
            q.OnDrop = (d, from) =>
            {
                if (from.Equals(_b)) Interlocked.Add(ref _droppedBToA, d.Count);
                else Interlocked.Add(ref _droppedAToB, d.Count);
                // The frames left the sender's ring and were lost on the cable: its descriptors are free all the same.
                from.Tell(new WireTxDone(d.Count), self);
            };

        Receive<WireFrames>(m =>
        {
            q?.Uncharge(m.Count);
            IActorRef to;
            if (Sender.Equals(_a)) { to = _b; _aToB += m.Count; }
            else if (Sender.Equals(_b)) { to = _a; _bToA += m.Count; }
            else return; // not one of our ends
            Sender.Tell(new WireTxDone(m.Count), Self); // serialised onto the cable: TX completion at the sender
            if (_delay <= TimeSpan.Zero) to.Tell(m, Self);
            else Context.System.Scheduler.ScheduleTellOnce(_delay, to, m, Self);
        });
        Receive<GetWireStats>(_ => Sender.Tell(new WireStats(_aToB, _bToA, Interlocked.Read(ref _droppedAToB), Interlocked.Read(ref _droppedBToA))));
    }

    public static Props Props(IActorRef a, IActorRef b, TimeSpan delay)
        => Akka.Actor.Props.Create(() => new WireActor(a, b, delay)).WithMailbox("actorstack-nic-mailbox");
}
