using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary><c>__udp_enqueue_schedule_skb</c>: admit while <c>sk_rmem_alloc &lt;= sk_rcvbuf</c>, charging truesize.</summary>
public class RcvbufTests() : NetOnEngineKit("rcvbuf")
{
    [Fact]
    public async Task UdpRcvbuf_SmallBufferUnread_ExactRcvbufErrorsThenAllQueuedRead()
    {
        var (host, nic) = await StartHost();
        var sock = await BoundSocket(host, "0.0.0.0", 7000);
        Assert.Equal(Errno.OK, await Command(sock, new SetReceiveBuffer(1)));
        var info = await Ask<SocketInfo>(sock, GetSocketInfo.Instance);
        Assert.Equal(2304, info.RcvBuf); // SOCK_MIN_RCVBUF: max(2 * 1, 2048 + 256)

        const int n = 10;
        var frames = Enumerable.Range(0, n).Select(i => Udp(7000, [(byte)i])).ToArray();
        // igb_build_skb: the 2 KiB RX buffer + SKB_DATA_ALIGN(sizeof(struct sk_buff)) (NicActor.RxTruesize).
        int truesize = ActorStack.Actors.Devices.NicActor.RxTruesize(frames[0].Length, 2048);
        Assert.Equal(2304, truesize);
        int fit = 0;
        for (long charge = 0; fit < n && charge <= info.RcvBuf; fit++) charge += truesize;
        Assert.Equal(2, fit); // 0, 2304 <= 2304 are admitted; 4608 is not
        int dropped = n - fit;

        Inject(nic, frames);
        await Settled(host, s =>
        {
            var udp = s.Mib("Udp");
            Assert.Equal(dropped, udp["RcvbufErrors"]);
            Assert.Equal(dropped, udp["InErrors"]);
            Assert.Equal(0, udp["InDatagrams"]); // counted at read time
            Assert.Equal(dropped, s.DropsOf(DropReason.SOCKET_RCVBUFF));
            var si = s.Sockets.Single();
            Assert.Equal(dropped, si.Drops);
            Assert.Equal(fit, si.RecvQueueDatagrams);
            Assert.Equal(fit * truesize, si.RecvQueueBytes);
        });

        var read = await ReadAll(sock, fit);
        Assert.Equal(Enumerable.Range(0, fit).Select(i => (byte)i), read.Select(d => d.Payload.Span[0]));
        Assert.Equal(Errno.EAGAIN, await RecvNonBlocking(sock));
        var after = await Stats(host);
        Assert.Equal(fit, after.Mib("Udp")["InDatagrams"]);
        Assert.Equal(0, after.Sockets.Single().RecvQueueBytes);
        Assert.Equal(fit, after.Sockets.Single().DatagramsRead);
    }
}
