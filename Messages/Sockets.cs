using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

public enum SockType { Dgram = 2, Raw = 3 }

/// <summary><c>socket(AF_INET, type, protocol)</c>, sent to a host; answered by <see cref="SocketCreated"/> or <see cref="SocketFailed"/>.</summary>
public sealed record SocketCreate(SockType Type, byte Protocol = 0);
public sealed record SocketCreated(IActorRef Socket);

/// <summary>Every socket command is answered by <see cref="SocketOk"/> or <see cref="SocketFailed"/> unless it says otherwise.</summary>
public sealed record SocketOk(object Command);
public sealed record SocketFailed(object Command, Errno Error)
{
    public override string ToString() => $"SocketFailed({Command.GetType().Name}, {Error})";
}

/// <summary><c>bind</c>: port 0 picks an ephemeral port (32768–60999, <c>ip_local_port_range</c>).</summary>
public sealed record Bind(Ipv4Address Address, ushort Port);
/// <summary><c>connect</c> on a datagram socket: fixes the peer, so lookups match the full 4-tuple.</summary>
public sealed record Connect(Ipv4Address Address, ushort Port);
/// <summary><c>setsockopt(SO_RCVBUF)</c>: Linux doubles the value and caps it at <c>rmem_max</c>.</summary>
public sealed record SetReceiveBuffer(int Bytes);

/// <summary>
/// <c>recvmmsg</c>: up to <paramref name="MaxDatagrams"/> datagrams. A blocking
/// read is answered when at least one is there (<c>MSG_WAITFORONE</c>); a
/// non-blocking read with nothing queued fails at once with <c>EAGAIN</c>.
/// Answered by <see cref="Received"/>.
/// </summary>
public sealed record Recv(int MaxDatagrams = 1, bool NonBlocking = false);

/// <summary>One datagram as <c>recvfrom</c> returns it. For raw sockets the payload starts with the IP header.</summary>
public sealed record Datagram(Ipv4Address Source, ushort SourcePort, ReadOnlyMemory<byte> Payload, long TstampTicks)
{
    public override string ToString() => $"Datagram({Source}:{SourcePort}, {Payload.Length} bytes)";
}

public sealed record Received(ImmutableArray<Datagram> Datagrams)
{
    public override string ToString() => $"Received({Datagrams.Length} datagrams)";
}

/// <summary><c>close</c>: the socket leaves the lookup tables; what it still held is freed and counted.</summary>
public sealed record Close
{
    public static readonly Close Instance = new();
}

/// <summary>Answered by <see cref="SocketInfo"/>, a line of <c>ss -uapn</c>.</summary>
public sealed record GetSocketInfo
{
    public static readonly GetSocketInfo Instance = new();
}

public sealed record SocketInfo(SockType Type, byte Protocol, Ipv4Address LocalAddress, ushort LocalPort, Ipv4Address RemoteAddress,
    ushort RemotePort, int RecvQueueBytes, int RecvQueueDatagrams, int RcvBuf, long Drops, long DatagramsRead, long BytesRead);
