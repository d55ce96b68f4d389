using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// A UDP echo server (RFC 862) on a host, written as a single-threaded server loop: <c>recvmmsg</c> up to
/// <see cref="Batch"/> datagrams, <c>sendmmsg</c> each back to its sender, and only then read again, so a slow
/// send path slows the reads (the socket's receive buffer absorbs the rest and drops when full, as Linux does).
/// </summary>
public sealed class UdpEchoServerActor : ReceiveActor
{
    public const int Batch = 64;

    private readonly UdpEchoServerSettings _s;
    private readonly IActorRef _host;
    private IActorRef _socket = ActorRefs.Nobody;
    private bool _ready;
    private long _datagrams, _bytes, _echoed, _sendErrors;
    private int _inFlight; // datagrams of the send call not yet answered

    public UdpEchoServerActor(UdpEchoServerSettings s, IActorRef host)
    {
        _s = s;
        _host = host;
        Receive<SocketCreated>(c =>
        {
            _socket = c.Socket;
            _socket.Tell(new Bind(_s.Address, _s.Port));
        });
        Receive<SocketOk>(ok =>
        {
            if (ok.Command is not Bind) return;
            _ready = true;
            _socket.Tell(new Recv(Batch));
        });
        Receive<Received>(OnReceived);
        Receive<Sent>(_ => SendDone(_inFlight));
        Receive<SentMany>(m => SendDone(m.Count));
        Action<CommandFailed> onFailed = f =>
        {
            switch (f.Command)
            {
                case SendTo or SendMany: SendDone(0); break;
                case Bind or SocketCreate:
                    throw new InvalidOperationException($"udp-echo-server {Name}: {f.Command.GetType().Name} failed with {f.Error}");
                // A failed read (the socket closed) ends the loop.
            }
        };
        Receive<CommandFailed>(onFailed);
        Receive<GetWorkloadStatus>(_ => Sender.Tell(new UdpEchoServerStatus(_s.Host, Name, _datagrams, _bytes, _echoed, _sendErrors, _ready)));
    }

    private string Name => $"{_s.Address}:{_s.Port}";

    protected override void PreStart() => _host.Tell(new SocketCreate(SockType.Dgram));

    private void OnReceived(Received r)
    {
        var datagrams = r.Datagrams;
        if (datagrams.Length == 0) { _socket.Tell(new Recv(Batch)); return; }
        _datagrams += datagrams.Length;
        foreach (var d in datagrams) _bytes += d.Payload.Length;
        _inFlight = datagrams.Length;
        // The payload memory is the read's own copy and never written again: it can go straight back out.
        if (datagrams.Length == 1)
        {
            var d = datagrams[0];
            _socket.Tell(new SendTo(d.Payload, d.Source, d.SourcePort));
            return;
        }
        var b = ImmutableArray.CreateBuilder<SendTo>(datagrams.Length);
        foreach (var d in datagrams) b.Add(new SendTo(d.Payload, d.Source, d.SourcePort));
        _socket.Tell(new SendMany(b.MoveToImmutable()));
    }

    /// <summary>The send call returned: <paramref name="sent"/> went, the rest of the batch failed. Read again.</summary>
    private void SendDone(int sent)
    {
        _echoed += sent;
        _sendErrors += _inFlight - sent;
        _inFlight = 0;
        _socket.Tell(new Recv(Batch));
    }

    public static Props Props(UdpEchoServerSettings s, IActorRef host) => Akka.Actor.Props.Create(() => new UdpEchoServerActor(s, host));
}
