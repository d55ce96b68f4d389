using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.EndToEnd;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>
/// A UDP socket stopped by its supervisor (a fault: <c>HostChildPolicy</c> stops sockets) unbinds in PostStop, fire and
/// forget. A batch the UDP actor had in hand before that unbind arrives is matched to the stopped socket; the UDP actor
/// sees the socket is gone and frees it with SOCKET_CLOSE, as the socket freed what it held, instead of sending it to
/// dead letters uncounted. Forced on the engine: host h's UDP actor (<c>/h/udp</c>) runs on a dispatcher held shut
/// (<see cref="HeldExecutorConfigurator"/>) while the socket fails and stops.
/// </summary>
public sealed class SocketStoppedDeliveryTests : NetOnEngineKit
{
    private readonly string _hid;
    private readonly HeldRuns _held;

    public SocketStoppedDeliveryTests() : this(HeldRuns.New("sock-stopped", "/h/udp")) { }

    private SocketStoppedDeliveryTests((string Id, string Hocon) held) : base("sock-stopped", held.Hocon)
    {
        _hid = held.Id;
        _held = HeldRuns.For(held.Id);
    }

    protected override void Dispose(bool disposing) => HeldRuns.End(_hid, () => base.Dispose(disposing));

    [Fact]
    public async Task SupervisorStop_BatchMatchedBeforeTheUnbind_CountedAsSocketClose_LaterOnesNoSocket()
    {
        var (host, nic) = await StartHost();
        var sock = await BoundSocket(host, "0.0.0.0", 7000);
        var other = await BoundSocket(host, "0.0.0.0", 7001);

        // One datagram on the socket's receive queue, unread.
        Inject(nic, Udp(7000, [1]));
        await Settled(host, s => Assert.Equal(1, s.Sockets.Single(x => x.LocalPort == 7000).RecvQueueDatagrams));

        // Two more (one NAPI poll, one batch) reach the UDP actor's mailbox, with one for the other socket; it cannot run.
        _held.Hold();
        Inject(nic, Udp(7000, [2]), Udp(7000, [3]), Udp(7001, [4]));
        Settle();
        Assert.Equal(1, _held.Count);

        // The socket fails; its supervisor stops it. PostStop frees the queued datagram and sends the unbind, which
        // queues behind the batch.
        Watch(sock);
        sock.Tell(CrashSocket.Instance);
        Assert.Equal(sock, (await Expect<Terminated>()).ActorRef);
        var s1 = await Stats(host);
        Assert.Equal(1, s1.DropsAt(DropReason.SOCKET_CLOSE, "udp/sock"));
        Assert.Equal(1, s1.TotalDrops);

        // The UDP actor matches two datagrams to the stopped socket (still in its table): freed, SOCKET_CLOSE, not dead
        // letters; the other socket's is delivered.
        _held.Release();
        await Settled(host, s =>
        {
            Assert.Equal(3, s.DropsAt(DropReason.SOCKET_CLOSE, "udp/sock"));
            Assert.Equal(3, s.TotalDrops);
            Assert.Equal(0, Mib(s, "Udp", "NoPorts"));
            Assert.Equal(0, Mib(s, "Udp", "InErrors"));
            Assert.Equal([(ushort)7001], s.Sockets.Select(x => x.LocalPort));
        });
        Assert.Equal([4], (await ReadAll(other, 1))[0].Payload.ToArray());

        // The socket is out of the table: the next datagram to its port finds no socket (NoPorts, NO_SOCKET).
        Inject(nic, Udp(7000, [5]));
        await Settled(host, s =>
        {
            Assert.Equal(3, s.DropsAt(DropReason.SOCKET_CLOSE, "udp/sock"));
            Assert.Equal(1, Mib(s, "Udp", "NoPorts"));
            Assert.Equal(1, s.DropsAt(DropReason.NO_SOCKET, "udp"));
        });
    }
}
