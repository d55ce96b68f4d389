using Akka.Actor;
using ActorStack.Messages.Packets;
using System.Collections.Immutable;

namespace ActorStack.Messages;

/// <summary>
/// <c>connect</c> on a stream socket (<c>inet_stream_connect</c>): a blocking connect is answered by
/// <see cref="SocketOk"/> when the handshake completes, or <see cref="CommandFailed"/> (ECONNREFUSED on a
/// RST, ETIMEDOUT after tcp_syn_retries, ENETUNREACH, EADDRNOTAVAIL). A non-blocking one fails at once
/// with <see cref="Errno.EINPROGRESS"/>; a later <see cref="StreamConnect"/> reports EALREADY while in
/// progress (non-blocking), waits for completion (blocking), EISCONN once connected, or the failure.
/// </summary>
public sealed record StreamConnect(Ipv4Address Address, ushort Port, bool NonBlocking = false);

/// <summary><c>listen(backlog)</c>: the socket (bound, or given an ephemeral port) starts accepting; answered by <see cref="SocketOk"/>.</summary>
public sealed record Listen(int Backlog);

/// <summary>
/// <c>accept</c>: answered by <see cref="Accepted"/> with the oldest established connection; a blocking
/// accept waits for one, a non-blocking one fails with EAGAIN. EINVAL on a socket that is not listening.
/// </summary>
public sealed record Accept(bool NonBlocking = false);

/// <summary>A connection taken off the accept queue: its socket actor and the peer's address.</summary>
public sealed record Accepted(IActorRef Socket, Ipv4Address Peer, ushort Port);

/// <summary>
/// <c>recv</c> on a stream socket (<c>tcp_recvmsg</c>): up to <paramref name="MaxBytes"/> bytes. A blocking
/// read waits for data; a non-blocking one fails with EAGAIN; <paramref name="Peek"/> (<c>MSG_PEEK</c>)
/// leaves the data queued. Answered by <see cref="StreamData"/> (empty = end of stream) or <see cref="CommandFailed"/>
/// (ECONNRESET, ETIMEDOUT, ENOTCONN, EAGAIN).
/// </summary>
public sealed record StreamRecv(int MaxBytes = 65536, bool NonBlocking = false, bool Peek = false);

/// <summary>Bytes read from a stream socket, in order; an empty chunk means the peer closed (EOF).</summary>
public sealed record StreamData(ReadOnlyMemory<byte> Data)
{
    public bool Eof => Data.IsEmpty;
    public override string ToString() => Eof ? "StreamData(EOF)" : $"StreamData({Data.Length} bytes)";
}

/// <summary><c>shutdown(how)</c>: 0 SHUT_RD, 1 SHUT_WR (send a FIN after the queued data), 2 SHUT_RDWR; answered by <see cref="SocketOk"/>.</summary>
public sealed record Shutdown(int How)
{
    public const int Rd = 0, Wr = 1, RdWr = 2;
}

/// <summary>
/// A line of <c>ss -tin</c> for a TCP socket (the answer to <see cref="GetSocketInfo"/> on a stream socket):
/// state with ss's names (ESTAB, SYN-SENT, LISTEN, TIME-WAIT ...), queues (for a listener Recv-Q is the
/// accept queue length and Send-Q the backlog, as ss shows), and the congestion state.
/// </summary>
public sealed record TcpSocketInfo(string State, Ipv4Address LocalAddress, ushort LocalPort, Ipv4Address RemoteAddress, ushort RemotePort,
    int RecvQueue, int SendQueue)
{
    public string CongestionControl { get; init; } = "";
    public int Cwnd { get; init; }
    public int SsThresh { get; init; }
    public int Mss { get; init; }
    /// <summary>Smoothed RTT and its variance, and the RTO (ss prints them in ms).</summary>
    public TimeSpan Rtt { get; init; }
    public TimeSpan RttVar { get; init; }
    public TimeSpan Rto { get; init; }
    public int Unacked { get; init; }
    public long Retrans { get; init; }
    public int SndWscale { get; init; }
    public int RcvWscale { get; init; }
    public bool Sack { get; init; }
    public bool Timestamps { get; init; }
    /// <summary><c>tcpi_bytes_acked</c> / <c>tcpi_bytes_received</c> (RFC 4898): sequence space the peer acknowledged (the SYN counts, as Linux), and payload bytes received in order.</summary>
    public long BytesAcked { get; init; }
    public long BytesReceived { get; init; }
}

/// <summary>
/// <c>setsockopt(SO_LINGER, { l_onoff, l_linger })</c> on a stream socket: with <paramref name="OnOff"/> and linger 0,
/// <see cref="Close"/> aborts the connection (RST); with linger &gt; 0 the close is answered only when all data is
/// acknowledged or after <paramref name="Seconds"/>. Answered by <see cref="SocketOk"/> (EINVAL for a negative time).
/// </summary>
public sealed record SetLinger(bool OnOff, int Seconds);

/// <summary><c>getsockopt(SO_LINGER)</c>: answered by <see cref="LingerValue"/>.</summary>
public sealed record GetLinger
{
    public static readonly GetLinger Instance = new();
}

public sealed record LingerValue(bool OnOff, int Seconds);

/// <summary>
/// <c>setsockopt(TCP_CONGESTION, name)</c>: "cubic" or "reno", per socket, also on a running connection
/// (<c>tcp_set_congestion_control</c>). Answered by <see cref="SocketOk"/>, or ENOENT for an unknown name.
/// </summary>
public sealed record SetCongestionControl(string Name);

/// <summary><c>getsockopt(TCP_CONGESTION)</c>: answered by <see cref="CongestionControlValue"/>.</summary>
public sealed record GetCongestionControl
{
    public static readonly GetCongestionControl Instance = new();
}

public sealed record CongestionControlValue(string Name);

// Socket actor → TCP actor: the TCP hash tables (inet_hashinfo) and the ephemeral ports belong to the TCP actor
// alone, so a socket binds, listens and connects by message, as a UDP socket does with UdpBind / UdpConnect.

/// <summary>
/// <c>inet_bind</c> → <c>inet_csk_get_port</c> for a TCP socket (port 0: an ephemeral port from the TCP actor's seeded
/// generator); answered to <paramref name="Socket"/> by <see cref="TcpBindResult"/> (EADDRINUSE on a conflict or when no
/// ephemeral port is left).
/// </summary>
public sealed record TcpBind(IActorRef Socket, Ipv4Address Address, ushort Port);

/// <summary>
/// <c>inet_listen</c>'s table half: <c>inet_autobind</c> when <paramref name="Port"/> is 0, then <c>inet_hash</c> into the
/// listening hash; answered by <see cref="TcpBindResult"/> with the port (EADDRINUSE when another socket listens there).
/// </summary>
public sealed record TcpListen(IActorRef Socket, Ipv4Address Address, ushort Port);

/// <summary>
/// <c>inet_hash_connect</c> for <c>tcp_v4_connect</c>: an unbound socket (<paramref name="LocalPort"/> 0) takes an
/// ephemeral port, then the 4-tuple enters the established hash (<c>__inet_check_established</c>). Answered by
/// <see cref="TcpBindResult"/> with the 4-tuple (EADDRNOTAVAIL when no port is left or the 4-tuple is taken). The socket
/// sends its SYN only after the answer, so the SYN-ACK always finds it hashed.
/// </summary>
public sealed record TcpConnect(IActorRef Socket, Ipv4Address LocalAddress, ushort LocalPort, Ipv4Address RemoteAddress, ushort RemotePort);

/// <summary>
/// The TCP actor's answer to <see cref="TcpBind"/>, <see cref="TcpListen"/> and <see cref="TcpConnect"/>: the socket's
/// addresses as hashed. A non-zero <paramref name="LocalPort"/> with an error means the socket was bound (autobind)
/// although the listen or connect hash failed.
/// </summary>
public sealed record TcpBindResult(Errno Error, Ipv4Address LocalAddress, ushort LocalPort, Ipv4Address RemoteAddress, ushort RemotePort);

/// <summary><c>inet_unhash</c> + <c>inet_put_port</c>: a socket leaves every TCP hash (no answer; later requests see it gone).</summary>
public sealed record TcpUnbind(IActorRef Socket);

/// <summary>A connection's 4-tuple as the local side sees it.</summary>
public readonly record struct TcpTuple(Ipv4Address LocalAddress, ushort LocalPort, Ipv4Address RemoteAddress, ushort RemotePort)
{
    public override string ToString() => $"{LocalAddress}:{LocalPort}-{RemoteAddress}:{RemotePort}";
}

/// <summary>A validated segment with the addresses it came with (the pseudo header).</summary>
public readonly record struct TcpSegIn(TcpSegment Seg, Ipv4Address Source, Ipv4Address Destination);

/// <summary>Segments for one socket from one receive batch (<c>tcp_v4_do_rcv</c> per socket).</summary>
public sealed record TcpDeliver(ImmutableArray<TcpSegIn> Segments)
{
    public override string ToString() => $"TcpDeliver({Segments.Length})";
}

/// <summary>A socket processed a <see cref="TcpDeliver"/> of <paramref name="Bytes"/> bytes: its backlog is freed by that much.</summary>
public sealed record TcpBacklogProcessed(int Bytes);

/// <summary>A listener hands back segments it got for a child not yet in the established hash: looked up again.</summary>
public sealed record TcpRedeliver(ImmutableArray<TcpSegIn> Segments);

/// <summary>
/// An ICMP error about a segment this connection sent (<c>tcp_v4_err</c>), passed by the TCP actor to the socket
/// found by the quoted 4-tuple: <paramref name="Seq"/> is the quoted segment's sequence number, <paramref name="Info"/>
/// the next-hop MTU of a fragmentation-needed.
/// </summary>
public sealed record TcpIcmpError(byte Type, byte Code, uint Info, TcpSeq Seq);

// The listener and its not-yet-accepted children (TcpListener), between TCP socket actors of one host.

/// <summary>TCP actor → listener (sent as the child): the child's actor exists and is hashed.</summary>
public sealed record TcpChildSpawned(TcpTuple Tuple);

/// <summary>Child → listener: the handshake completed (<c>inet_csk_complete_hashdance</c>).</summary>
public sealed record TcpChildReady(TcpTuple Tuple);

/// <summary>Child → listener: the child closed (reset, timeout) before it was accepted.</summary>
public sealed record TcpChildGone(TcpTuple Tuple);

/// <summary>Child in SYN_RECEIVED → listener: its SYN-ACK timer fired (<c>reqsk_timer_handler</c> runs on the listener's queue).</summary>
public sealed record TcpSynAckTimeout(TcpTuple Tuple);

/// <summary>Listener → child: resend the SYN-ACK (<c>tcp_rtx_synack</c>) or expire (<c>syn_ack_recalc</c> said so).</summary>
public sealed record TcpSynAckVerdict(bool Resending)
{
    public static readonly TcpSynAckVerdict Resend = new(true);
    public static readonly TcpSynAckVerdict Expire = new(false);
}

/// <summary>
/// Listener → child: <c>accept</c> returned it; the user owns it now. It carries the listener's SO_LINGER, which
/// <c>sk_clone_lock</c> copies (SOCK_LINGER, sk_lingertime) and which only matters once the user can close it.
/// </summary>
public sealed record TcpAcceptedByUser(bool LingerOn = false, int LingerSeconds = 0)
{
    public static readonly TcpAcceptedByUser Instance = new();
}

/// <summary>Listener → child: the listener closed before the child was accepted (<c>inet_csk_listen_stop</c>: RST).</summary>
public sealed record TcpAbortChild
{
    public static readonly TcpAbortChild Instance = new();
}
