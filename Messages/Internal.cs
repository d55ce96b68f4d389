using Akka.Actor;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

// Messages between the actors of one host (socket ↔ protocol handler). They
// never leave the host's node, but stay plain immutable records all the same.

/// <summary>A UDP socket asks the UDP handler to bind it (<c>udp_v4_get_port</c>); answered by <see cref="UdpBindResult"/>.</summary>
public sealed record UdpBind(IActorRef Socket, Ipv4Address Address, ushort Port);
/// <summary>A UDP socket fixes its peer (<c>ip4_datagram_connect</c>); autobinds if needed; answered by <see cref="UdpBindResult"/>.</summary>
public sealed record UdpConnect(IActorRef Socket, Ipv4Address Address, ushort Port);
public sealed record UdpBindResult(Errno Error, Ipv4Address LocalAddress, ushort LocalPort, Ipv4Address RemoteAddress, ushort RemotePort);
/// <summary>
/// A socket leaves the UDP lookup table. With <paramref name="Ack"/> the UDP actor sends the message back to the socket
/// once it is out of the table (after every <see cref="SocketDeliver"/> it sent the socket before: close waits for it).
/// </summary>
public sealed record UdpUnbind(IActorRef Socket, bool Ack = false);

/// <summary>A raw socket joins the IPv4 handler's raw table for <paramref name="Protocol"/> (<c>raw_v4_hashinfo</c>).</summary>
public sealed record RawRegister(IActorRef Socket, byte Protocol, Ipv4Address LocalAddress, Ipv4Address RemoteAddress);
/// <summary>
/// A raw socket leaves the IPv4 handler's raw table (<c>raw_unhash_sk</c>). With <paramref name="Ack"/> the IPv4 actor
/// sends the message back to the socket once it is out of the table, after every <see cref="SocketDeliver"/> it sent the
/// socket before (<c>raw_close</c> → <c>sk_common_release</c>: close returns after the unhash).
/// </summary>
public sealed record RawUnregister(IActorRef Socket, bool Ack = false);
