using System.Globalization;
using Akka.Actor;
using ActorStack.Actors.Workloads;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Testing;

/// <summary>
/// A call that has been made and may still block (a blocking <c>recv</c>, <c>accept</c> or <c>connect</c>): the test
/// runs the simulation (e.g. <c>kit.RunUntil(() =&gt; call.IsDone)</c> or <see cref="Wait"/>) and then reads <see cref="Result"/>.
/// </summary>
public sealed class Pending<T>
{
    private readonly Task<object> _answer;
    private readonly Func<object, T> _convert;
    private readonly StackKit _kit;
    private readonly string _what;

    internal Pending(StackKit kit, Task<object> answer, Func<object, T> convert, string what)
    {
        _kit = kit;
        _answer = answer;
        _convert = convert;
        _what = what;
    }

    /// <summary>The call has returned (the answer is there at the current instant).</summary>
    public bool IsDone => _answer.IsCompleted;

    /// <summary>The call's result; fails if it has not returned yet.</summary>
    public T Result => IsDone ? _convert(_answer.GetAwaiter().GetResult())
        : throw new StackAssertionException($"{_what}: still blocked at +{_kit.Now} (run the simulation until IsDone)");

    /// <summary>Runs the simulation until the call returns (at most <paramref name="limit"/> of simulated time), then its result.</summary>
    public T Wait(TimeSpan? limit = null)
    {
        _kit.RunUntil(() => IsDone, limit, _what);
        return Result;
    }
}

/// <summary>What a datagram <c>recv</c> returned: the datagram, or the errno it failed with (EAGAIN, EBADF, ECONNREFUSED …).</summary>
public readonly record struct UdpRecvResult(Datagram? Datagram, Errno Error)
{
    /// <summary>The payload's bytes (empty when the call failed).</summary>
    public byte[] Payload => Datagram?.Payload.ToArray() ?? [];
}

/// <summary>What an <c>accept</c> returned: the connection's socket, or the errno.</summary>
public readonly record struct TcpAcceptResult(TcpSocket? Socket, Errno Error);

/// <summary>What a stream <c>recv</c> returned: bytes (empty at end of stream), or the errno.</summary>
public readonly record struct TcpRecvResult(byte[] Data, Errno Error)
{
    public bool Eof => Error == Errno.OK && Data.Length == 0;
}

/// <summary>What a socket actor answers a command with, as an errno: OK for <see cref="SocketOk"/> and <see cref="Sent"/>.</summary>
internal static class Answers
{
    public static Errno Errno(object answer, string what) => answer switch
    {
        SocketOk or Sent or SentMany => Messages.Errno.OK,
        CommandFailed f => f.Error,
        _ => throw new StackAssertionException($"{what}: unexpected answer {answer}"),
    };

    public static Ipv4Address Ip(string address)
        => Ipv4Address.TryParse(address, out var a) ? a : throw new ArgumentException($"not an IPv4 address: {address}", nameof(address));
}

/// <summary>What <see cref="UdpSocket"/> and <see cref="TcpSocket"/> share: the host, the socket's actor, calls answered with an errno.</summary>
public abstract class KitSocket
{
    private readonly string _protocol;

    private protected KitSocket(HostView host, IActorRef socket, string protocol)
    {
        Host = host;
        Ref = socket;
        _protocol = protocol;
    }

    public HostView Host { get; }

    /// <summary>The socket's actor (commands from <c>ActorStack.Messages</c> may be told to it directly).</summary>
    public IActorRef Ref { get; }

    private protected StackKit Kit => Host.Kit;

    private protected Errno Command(object command, TimeSpan? limit = null)
        => Answers.Errno(Kit.Ask<object>(Ref, command, limit), $"{Host.Name} {_protocol} {command}");

    /// <summary><c>bind</c>; port 0 picks an ephemeral port. EADDRINUSE when taken, EADDRNOTAVAIL for an address not on the host.</summary>
    public Errno Bind(string address, ushort port) => Command(new Bind(Answers.Ip(address), port));
}

/// <summary>
/// A UDP socket on a simulated host, used from a test as a program uses one: every call returns the errno it ended with
/// (<see cref="Errno.OK"/> on success). A blocking call runs the simulation until it returns (at most the kit's limit of
/// simulated time); <see cref="BeginRecv"/> leaves the call blocked while the test does other things.
/// </summary>
public sealed class UdpSocket : KitSocket
{
    internal UdpSocket(HostView host, IActorRef socket) : base(host, socket, "udp") { }

    /// <summary><c>connect</c>: fixes the peer (ICMP errors then reach the socket: ECONNREFUSED on the next call).</summary>
    public Errno Connect(string address, ushort port) => Command(new Connect(Answers.Ip(address), port));

    /// <summary><c>sendto</c>.</summary>
    public Errno SendTo(ReadOnlyMemory<byte> payload, string address, ushort port, MsgFlags flags = MsgFlags.None)
        => Command(new SendTo(payload, Answers.Ip(address), port, flags));

    /// <summary><c>send</c> on a connected socket.</summary>
    public Errno Send(ReadOnlyMemory<byte> payload, MsgFlags flags = MsgFlags.None) => Command(new SendTo(payload, null, 0, flags));

    /// <summary><c>setsockopt</c>.</summary>
    public Errno SetOption(SockOpt option, int value) => Command(new SetSocketOption(option, value));

    /// <summary>
    /// <c>recvfrom</c>: blocking (runs the simulation until a datagram or an error comes, at most <paramref name="limit"/>)
    /// or non-blocking (<c>MSG_DONTWAIT</c>: EAGAIN at once when nothing is queued).
    /// </summary>
    public UdpRecvResult Recv(bool nonBlocking = false, TimeSpan? limit = null) => ToRecv(Kit.Ask<object>(Ref, new Recv(1, nonBlocking), limit));

    /// <summary>A blocking <c>recvfrom</c> left waiting: run the simulation, then read the result.</summary>
    public Pending<UdpRecvResult> BeginRecv()
        => new(Kit, Kit.Driver.Begin(Ref, new Recv(1)), ToRecv, $"{Host.Name} udp {LocalName()} recv");

    private UdpRecvResult ToRecv(object answer) => answer switch
    {
        Received r when r.Datagrams.Length == 1 => new UdpRecvResult(r.Datagrams[0], Errno.OK),
        CommandFailed f => new UdpRecvResult(null, f.Error),
        _ => throw new StackAssertionException($"{Host.Name} udp recv: unexpected answer {answer}"),
    };

    /// <summary><c>close</c>: what the socket still held is freed and counted (<c>SOCKET_CLOSE</c>).</summary>
    public Errno Close() => Command(Messages.Close.Instance);

    /// <summary>The socket's line of <c>ss -uapn</c> as a record (queues, drops, reads, pending error).</summary>
    public SocketInfo Info() => Kit.Ask<SocketInfo>(Ref, GetSocketInfo.Instance);

    /// <summary>
    /// The socket's line of <c>ss -uan</c>, fields separated by one space: State (UNCONN, or ESTAB when connected),
    /// Recv-Q and Send-Q in bytes, local and peer address:port ("*:*" unconnected), e.g. "UNCONN 0 0 10.0.0.2:7 *:*".
    /// </summary>
    public string Ss() => Ss(Info());

    public static string Ss(SocketInfo s)
    {
        bool connected = s.RemotePort != 0 || !s.RemoteAddress.IsAny;
        var local = $"{(s.LocalAddress.IsAny ? "0.0.0.0" : s.LocalAddress.ToString())}:{(s.LocalPort == 0 ? "*" : s.LocalPort.ToString(CultureInfo.InvariantCulture))}";
        return $"{(connected ? "ESTAB" : "UNCONN")} {s.RecvQueueBytes} {s.SendQueueBytes} {local} {(connected ? $"{s.RemoteAddress}:{s.RemotePort}" : "*:*")}";
    }

    /// <summary>Fails unless <see cref="Ss"/> is <paramref name="expected"/>, with both lines in the message.</summary>
    public void AssertSs(string expected)
    {
        var actual = Ss();
        if (actual != expected) throw new StackAssertionException($"{Host.Name}: ss line is \"{actual}\", expected \"{expected}\"");
    }

    private string LocalName()
    {
        var i = Info();
        return $"{i.LocalAddress}:{i.LocalPort}";
    }
}

/// <summary>
/// A TCP socket on a simulated host, used from a test as a program uses one (see <see cref="UdpSocket"/>): connect,
/// listen, accept, send, recv, shutdown, close, each returning its errno; blocking calls run the simulation.
/// </summary>
public sealed class TcpSocket : KitSocket
{
    internal TcpSocket(HostView host, IActorRef socket) : base(host, socket, "tcp") { }

    /// <summary><c>listen(backlog)</c> (an unbound socket gets an ephemeral port).</summary>
    public Errno Listen(int backlog = 128) => Command(new Listen(backlog));

    /// <summary>
    /// <c>connect</c>: blocking, it runs the simulation until the handshake ends (OK, ECONNREFUSED on a RST, ETIMEDOUT after
    /// <c>tcp_syn_retries</c>); non-blocking, EINPROGRESS at once (a later blocking <c>Connect</c> waits for the outcome).
    /// </summary>
    public Errno Connect(string address, ushort port, bool nonBlocking = false, TimeSpan? limit = null)
        => Command(new StreamConnect(Answers.Ip(address), port, nonBlocking), limit);

    /// <summary>A blocking <c>connect</c> left waiting.</summary>
    public Pending<Errno> BeginConnect(string address, ushort port)
        => new(Kit, Kit.Driver.Begin(Ref, new StreamConnect(Answers.Ip(address), port)), a => Answers.Errno(a, "connect"), $"{Host.Name} tcp connect {address}:{port}");

    /// <summary><c>accept</c>: blocking, runs the simulation until a connection is established; non-blocking, EAGAIN when none is.</summary>
    public TcpAcceptResult Accept(bool nonBlocking = false, TimeSpan? limit = null) => ToAccept(Kit.Ask<object>(Ref, new Accept(nonBlocking), limit));

    /// <summary>A blocking <c>accept</c> left waiting.</summary>
    public Pending<TcpAcceptResult> BeginAccept() => new(Kit, Kit.Driver.Begin(Ref, new Accept()), ToAccept, $"{Host.Name} tcp accept");

    private TcpAcceptResult ToAccept(object answer) => answer switch
    {
        Accepted a => new TcpAcceptResult(new TcpSocket(Host, a.Socket), Errno.OK),
        CommandFailed f => new TcpAcceptResult(null, f.Error),
        _ => throw new StackAssertionException($"{Host.Name} tcp accept: unexpected answer {answer}"),
    };

    /// <summary><c>send</c>: blocking, returns once the bytes are in the send buffer (EPIPE, ECONNRESET … on a dead connection).</summary>
    public Errno Send(ReadOnlyMemory<byte> data, TimeSpan? limit = null) => Command(new SendTo(data), limit);

    /// <summary><c>recv</c> of at most <paramref name="maxBytes"/>: blocking waits for data or the end of stream; non-blocking fails with EAGAIN.</summary>
    public TcpRecvResult Recv(int maxBytes = 65536, bool nonBlocking = false, TimeSpan? limit = null)
        => ToRecv(Kit.Ask<object>(Ref, new StreamRecv(maxBytes, nonBlocking), limit));

    /// <summary>A blocking <c>recv</c> left waiting.</summary>
    public Pending<TcpRecvResult> BeginRecv(int maxBytes = 65536) => new(Kit, Kit.Driver.Begin(Ref, new StreamRecv(maxBytes)), ToRecv, $"{Host.Name} tcp recv");

    private TcpRecvResult ToRecv(object answer) => answer switch
    {
        StreamData d => new TcpRecvResult(d.Data.ToArray(), Errno.OK),
        CommandFailed f => new TcpRecvResult([], f.Error),
        _ => throw new StackAssertionException($"{Host.Name} tcp recv: unexpected answer {answer}"),
    };

    /// <summary><c>shutdown(how)</c>: <see cref="Shutdown.Rd"/>, <see cref="Shutdown.Wr"/> (a FIN after the queued data), <see cref="Shutdown.RdWr"/>.</summary>
    public Errno Shutdown(int how) => Command(new Shutdown(how));

    public Errno SetOption(SockOpt option, int value) => Command(new SetSocketOption(option, value));

    public Errno Close() => Command(Messages.Close.Instance);

    /// <summary>The socket's <c>ss -tin</c> record: state, queues, cwnd, RTT, retransmissions, bytes acked.</summary>
    public TcpSocketInfo Info() => Kit.Ask<TcpSocketInfo>(Ref, GetSocketInfo.Instance);

    /// <summary>
    /// The socket's line of <c>ss -tan</c>, fields separated by one space: State (ss's names: ESTAB, LISTEN, SYN-SENT,
    /// TIME-WAIT …), Recv-Q, Send-Q, local and peer address:port, e.g. "ESTAB 0 0 10.0.0.1:40000 10.0.0.2:5201".
    /// </summary>
    public string Ss() => Ss(Info());

    public static string Ss(TcpSocketInfo s)
        => $"{s.State} {s.RecvQueue} {s.SendQueue} {s.LocalAddress}:{s.LocalPort} {(s.RemotePort == 0 ? $"{s.RemoteAddress}:*" : $"{s.RemoteAddress}:{s.RemotePort}")}";

    /// <summary>The socket as <c>ss -tanmi</c> prints it (its line and the <c>-i</c> line; see <see cref="SsTcp"/>).</summary>
    public string SsDetail() => SsTcp.Format([Info()]);

    /// <summary>Fails unless <see cref="Ss"/> is <paramref name="expected"/>, with both lines in the message.</summary>
    public void AssertSs(string expected)
    {
        var actual = Ss();
        if (actual != expected) throw new StackAssertionException($"{Host.Name}: ss line is \"{actual}\", expected \"{expected}\"");
    }
}
