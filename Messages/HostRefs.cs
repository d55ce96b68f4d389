using System.Collections.Immutable;
using Akka.Actor;

namespace ActorStack.Messages;

/// <summary>
/// The actor references of one host's children, immutable: how each actor reaches its siblings (the kernel's
/// function pointers between subsystems). The host actor passes the references that exist when it creates a
/// child in the child's Props and, once every child exists, tells each child the complete record (see
/// <c>HostActor</c>). <see cref="ActorRefs.Nobody"/> stands for a reference not known yet.
/// </summary>
/// <param name="Routing">The FIB and PMTU cache owner.</param>
/// <param name="Softnet">The softnet actors by CPU.</param>
/// <param name="Drivers">The device drivers by ifindex − 1 (<c>lo</c> first).</param>
/// <param name="Udp">The UDP protocol handler.</param>
/// <param name="Ip">The IPv4 protocol handler.</param>
/// <param name="Tcp">The TCP protocol handler (<c>tcp_v4_rcv</c>), which also creates the TCP sockets.</param>
/// <param name="Icmp">The ICMP handler.</param>
/// <param name="Neighbour">The neighbour (ARP) actor.</param>
/// <param name="LinkWatch">The link watch (carrier events, <c>ip link set</c>, <c>ip monitor link</c>).</param>
public sealed record HostRefs(IActorRef Routing, ImmutableArray<IActorRef> Softnet, ImmutableArray<IActorRef> Drivers,
    IActorRef Udp, IActorRef Ip, IActorRef Tcp, IActorRef Icmp, IActorRef Neighbour, IActorRef LinkWatch)
{
    /// <summary>No reference known.</summary>
    public static readonly HostRefs None = new(ActorRefs.Nobody, ImmutableArray<IActorRef>.Empty, ImmutableArray<IActorRef>.Empty,
        ActorRefs.Nobody, ActorRefs.Nobody, ActorRefs.Nobody, ActorRefs.Nobody, ActorRefs.Nobody, ActorRefs.Nobody);

    /// <summary>The driver of device <paramref name="ifindex"/>, or Nobody.</summary>
    public IActorRef Driver(int ifindex) => ifindex >= 1 && ifindex - 1 < Drivers.Length ? Drivers[ifindex - 1] : ActorRefs.Nobody;
}
