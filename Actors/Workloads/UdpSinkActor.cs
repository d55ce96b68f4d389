using System.Buffers.Binary;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Hardware.Pktgen;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// An application on a host: opens a UDP socket, binds it and reads with
/// blocking <c>recvmmsg</c> calls as fast as it can, counting what it read and
/// checking pktgen's header in every datagram (<see cref="PktgenSeqCheck"/>: sequence numbers in order within each
/// flow, corrupt headers counted as such).
/// </summary>
public sealed class UdpSinkActor : UntypedActor
{
    private readonly UdpSinkSettings _s;
    private readonly IActorRef _host;
    private IActorRef _socket = ActorRefs.Nobody;
    private bool _ready;
    private long _datagrams, _bytes;
    private readonly PktgenSeqCheck _check = new();

    public UdpSinkActor(UdpSinkSettings s, IActorRef host)
    {
        _s = s;
        _host = host;
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Received r: OnReceived(r); break;
            case SocketCreated c:
                _socket = c.Socket;
                if (_s.RcvBuf > 0) _socket.Tell(new SetReceiveBuffer(_s.RcvBuf));
                _socket.Tell(new Bind(_s.Address, _s.Port));
                break;
            case SocketOk ok:
                if (ok.Command is not Bind) return;
                _ready = true;
                Context.Parent.Tell(new SinkStatus(_s.Host, Name, 0, 0, 0, 0, true));
                _socket.Tell(new Recv(_s.Batch));
                break;
            case CommandFailed f: throw new InvalidOperationException($"udp-sink {Name}: {f.Command.GetType().Name} failed with {f.Error}");
            case GetWorkloadStatus:
                Sender.Tell(new SinkStatus(_s.Host, Name, _datagrams, _bytes, _check.OutOfOrder, _check.Flows, _ready)
                {
                    CorruptHeaders = _check.CorruptHeaders,
                    Unsequenced = _check.Unsequenced,
                });
                break;
            default: Unhandled(message); break;
        }
    }

    private string Name => $"{_s.Address}:{_s.Port}";

    protected override void PreStart() => _host.Tell(new SocketCreate(SockType.Dgram));

    private void OnReceived(Received r)
    {
        _socket.Tell(new Recv(_s.Batch)); // next read first: the socket keeps delivering while we count
        foreach (var d in r.Datagrams)
        {
            _datagrams++;
            _bytes += d.Payload.Length;
            _check.Observe(d.Source.Value, d.SourcePort, d.Payload.Span);
        }
    }

    public static Props Props(UdpSinkSettings s, IActorRef host) => Akka.Actor.Props.Create(() => new UdpSinkActor(s, host));
}
