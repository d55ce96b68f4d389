using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

public enum SockType { Stream = 1, Dgram = 2, Raw = 3 }

/// <summary><c>socket(AF_INET, type, protocol)</c>, sent to a host; answered by <see cref="SocketCreated"/> or <see cref="CommandFailed"/>.</summary>
public sealed record SocketCreate(SockType Type, byte Protocol = 0);
public sealed record SocketCreated(IActorRef Socket);

/// <summary>Every socket command is answered by <see cref="SocketOk"/> or <see cref="CommandFailed"/> unless it says otherwise.</summary>
public sealed record SocketOk(object Command);

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
    ushort RemotePort, int RecvQueueBytes, int RecvQueueDatagrams, int RcvBuf, long Drops, long DatagramsRead, long BytesRead)
{
    /// <summary><c>sk_wmem_alloc</c>: bytes of sent buffers not yet freed by the device (ss's Send-Q for UDP).</summary>
    public long SendQueueBytes { get; init; }
    public int SndBuf { get; init; }
    public long DatagramsSent { get; init; }
    public long BytesSent { get; init; }
    /// <summary>The pending socket error (<c>sk_err</c>), reported by the next call.</summary>
    public Errno PendingError { get; init; }
}

/// <summary><c>sendmsg</c> flags this stack honours (Linux values).</summary>
[Flags]
public enum MsgFlags
{
    None = 0,
    /// <summary><c>MSG_DONTWAIT</c>: fail with EAGAIN instead of blocking when the send buffer is full.</summary>
    DontWait = 0x40,
    /// <summary><c>MSG_CONFIRM</c>: the peer answered, the neighbour entry is reachable (<c>dst_confirm_neigh</c>).</summary>
    Confirm = 0x800,
    /// <summary><c>MSG_MORE</c>: more data follows; append to the pending datagram (corking) instead of sending it.</summary>
    More = 0x8000,
}

/// <summary>
/// <c>sendto</c> (with <paramref name="Address"/>) or <c>send</c> on a connected socket
/// (without). UDP builds one datagram through <c>ip_append_data</c>; with
/// <see cref="MsgFlags.More"/> or <c>UDP_CORK</c> the data is appended to the pending
/// datagram and sent when the cork is released. For a raw socket with
/// <c>IP_HDRINCL</c> the payload is the whole IP packet. Answered by <see cref="Sent"/>
/// or <see cref="CommandFailed"/> (EMSGSIZE, ENETUNREACH, EHOSTUNREACH, ECONNREFUSED, EAGAIN, ...).
/// A blocking send with the send buffer full waits until buffers are freed.
/// </summary>
public sealed record SendTo(ReadOnlyMemory<byte> Payload, Ipv4Address? Address = null, ushort Port = 0, MsgFlags Flags = MsgFlags.None)
{
    public override string ToString() => $"SendTo({Payload.Length} bytes to {Address?.ToString() ?? "peer"}:{Port}, {Flags})";
}
public sealed record Sent(int Bytes);

/// <summary><c>sendmmsg</c>: sends in order until one fails; answered by <see cref="SentMany"/> (how many went), or <see cref="CommandFailed"/> when the first fails.</summary>
public sealed record SendMany(ImmutableArray<SendTo> Messages)
{
    public override string ToString() => $"SendMany({Messages.Length})";
}
public sealed record SentMany(int Count);

/// <summary>Socket options with Linux names; values as <c>setsockopt</c> takes them.</summary>
public enum SockOpt
{
    /// <summary><c>SO_SNDBUF</c>: doubled, capped at <c>wmem_max</c>.</summary>
    SoSndbuf,
    /// <summary><c>SO_BROADCAST</c>: allow sending to a broadcast address (else EACCES).</summary>
    SoBroadcast,
    /// <summary><c>SO_PRIORITY</c>: <c>skb->priority</c> (pfifo_fast band).</summary>
    SoPriority,
    /// <summary><c>IP_TTL</c>: -1 resets to <c>ip_default_ttl</c>.</summary>
    IpTtl,
    /// <summary><c>IP_TOS</c>.</summary>
    IpTos,
    /// <summary><c>IP_HDRINCL</c> (raw sockets): the application writes the IP header.</summary>
    IpHdrIncl,
    /// <summary><c>IP_MTU_DISCOVER</c>: 0 DONT, 1 WANT (default), 2 DO, 3 PROBE.</summary>
    IpMtuDiscover,
    /// <summary><c>IP_MTU</c> (get only, connected socket): the path MTU.</summary>
    IpMtu,
    /// <summary><c>IP_RECVERR</c>: report every ICMP error (also on unconnected sockets) and ENOBUFS from the qdisc.</summary>
    IpRecvErr,
    /// <summary><c>UDP_CORK</c>: hold data until the cork is released, then send it as one datagram.</summary>
    UdpCork,
    /// <summary><c>SO_RCVBUF</c>: doubled, capped at <c>rmem_max</c>; a TCP socket takes it before connect/listen (window scale).</summary>
    SoRcvbuf,
    /// <summary><c>SO_KEEPALIVE</c>: TCP keepalive probes on an idle connection.</summary>
    SoKeepalive,
    /// <summary><c>TCP_NODELAY</c>: no Nagle; setting it pushes what Nagle held.</summary>
    TcpNodelay,
    /// <summary><c>TCP_KEEPIDLE</c> (seconds, 1..32767): idle time before the first keepalive probe.</summary>
    TcpKeepidle,
    /// <summary><c>TCP_KEEPINTVL</c> (seconds, 1..32767): time between keepalive probes.</summary>
    TcpKeepintvl,
    /// <summary><c>TCP_KEEPCNT</c> (1..127): unanswered probes before the connection is dropped.</summary>
    TcpKeepcnt,
    /// <summary><c>TCP_MAXSEG</c>: the user MSS clamp (88..32767, before connect); reads the current MSS.</summary>
    TcpMaxseg,
    /// <summary><c>TCP_CORK</c>: hold sub-MSS segments until uncorked (at most 200 ms); clearing it sends them.</summary>
    TcpCork,
}

/// <summary><c>setsockopt</c>: answered by <see cref="SocketOk"/> or <see cref="CommandFailed"/>.</summary>
public sealed record SetSocketOption(SockOpt Option, int Value);
/// <summary><c>getsockopt</c>: answered by <see cref="SocketOptionValue"/> or <see cref="CommandFailed"/>.</summary>
public sealed record GetSocketOption(SockOpt Option);
public sealed record SocketOptionValue(SockOpt Option, int Value);

/// <summary>
/// Fault injection for a socket actor: it throws <see cref="SocketFaultException"/> at once, and the host's
/// supervision policy stops it (see <c>HostChildPolicy</c>): its queued datagrams are freed with
/// <c>SOCKET_CLOSE</c>. No answer.
/// </summary>
public sealed record CrashSocket
{
    public static readonly CrashSocket Instance = new();
}
