using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Actors;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// A netperf TCP_RR-like server (<c>netserver</c>): accepts connections (at most <see cref="MaxConnections"/> at once)
/// and on each answers every complete <c>Request</c>-byte request with a <c>Response</c>-byte response; closes when
/// the client closes.
/// </summary>
public sealed class TcpRrServerActor : ReceiveActor
{
    public const int MaxConnections = 8192;
    public const int Backlog = 4096;

    private sealed class Conn(IActorRef socket)
    {
        public readonly IActorRef Socket = socket;
        public long Pending;
    }

    private readonly TcpRrServerSettings _s;
    private readonly OutputLines _out;
    private readonly Dictionary<IActorRef, Conn> _conns = new(ActorRefComparer.Instance);
    private readonly ReadOnlyMemory<byte> _response;
    private readonly TcpListenSequence _listen;
    private long _accepted, _read, _written, _transactions, _errors;

    public TcpRrServerActor(TcpRrServerSettings s, IActorRef host, IActorRef? output)
    {
        _s = s;
        _out = new OutputLines(Context.System.EventStream, output, s.Host, "tcp-rr-server");
        _response = new byte[s.Response];
        _listen = new TcpListenSequence(host, new Bind(s.Address, s.Port), Backlog, "tcp-rr-server");
        Receive<SocketCreated>(_listen.OnCreated);
        Receive<SocketOk>(ok => _listen.OnOk(ok, () => _out.Print($"Starting netserver on port {_s.Port}", Self)));
        Receive<Accepted>(a =>
        {
            _listen.AcceptNext();
            if (_conns.Count >= MaxConnections) { a.Socket.Tell(Close.Instance); return; }
            _accepted++;
            _conns[a.Socket] = new Conn(a.Socket);
            a.Socket.Tell(new StreamRecv());
        });
        Receive<StreamData>(d =>
        {
            if (!_conns.TryGetValue(Sender, out var c)) return;
            if (d.Eof)
            {
                _conns.Remove(c.Socket);
                c.Socket.Tell(Close.Instance);
                return;
            }
            _read += d.Data.Length;
            c.Pending += d.Data.Length;
            while (c.Pending >= _s.Request)
            {
                c.Pending -= _s.Request;
                _transactions++;
                c.Socket.Tell(new SendTo(_response));
            }
            c.Socket.Tell(new StreamRecv());
        });
        Receive<Sent>(m => _written += m.Bytes);
        Action<CommandFailed> onFailed = f =>
        {
            if (_listen.OnFailed(f)) return;
            if (!_conns.Remove(Sender, out var c)) return;
            _errors++;
            c.Socket.Tell(Close.Instance);
        };
        Receive<CommandFailed>(onFailed);
        Receive<GetWorkloadStatus>(_ => Sender.Tell(new TcpServerStatus(_s.Host, "tcp-rr-server", $"{_s.Address}:{_s.Port}", _listen.Ready, _accepted,
            _read, _written, _transactions, _errors)));
    }

    protected override void PreStart() => _listen.Start();

    public static Props Props(TcpRrServerSettings s, IActorRef host, IActorRef? output = null)
        => Akka.Actor.Props.Create(() => new TcpRrServerActor(s, host, output));
}
