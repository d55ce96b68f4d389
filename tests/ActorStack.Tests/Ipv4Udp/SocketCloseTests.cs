using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary><c>close</c>: queued datagrams are freed and counted (SOCKET_CLOSE); the port is free again.</summary>
public class SocketCloseTests() : NetOnEngineKit("socket-close")
{
    [Fact]
    public async Task Close_QueuedDatagrams_CountedAsSocketCloseAndPortReusable()
    {
        var (host, nic) = await StartHost();
        var sock = await BoundSocket(host, "0.0.0.0", 7000);
        Inject(nic, Udp(7000, [1]), Udp(7000, [2]), Udp(7000, [3]));
        await Settled(host, s => Assert.Equal(3, s.Sockets.Single().RecvQueueDatagrams));

        Assert.Equal(Errno.OK, await Command(sock, Close.Instance));
        await Settled(host, s =>
        {
            Assert.Equal(3, s.DropsOf(DropReason.SOCKET_CLOSE));
            Assert.Empty(s.Sockets);
        });

        var again = await BoundSocket(host, "0.0.0.0", 7000);
        Inject(nic, Udp(7000, [4]));
        Assert.Equal([4], (await ReadAll(again, 1))[0].Payload.ToArray());
    }
}
