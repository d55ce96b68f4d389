using ActorStack.Actors.Devices;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Nic;

/// <summary>
/// The receive truesize of a driver that builds the skb around its 2 KiB descriptor buffer (<c>igb_build_skb</c>):
/// 2,048 + 256 per small frame, so a default <c>sk_rcvbuf</c> (212,992) takes exactly as many small datagrams as on
/// Linux: <c>__udp_enqueue_schedule_skb</c> admits while <c>sk_rmem_alloc</c> ≤ <c>sk_rcvbuf</c> before the charge, i.e. 93.
/// </summary>
public class RxTruesizeTests() : EngineKit("nic-rx-truesize")
{
    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    [Theory]
    [InlineData(60, 2048, 2304)]
    [InlineData(2048, 2048, 2304)]
    [InlineData(2049, 2048, 4352)]
    [InlineData(9018, 2048, 10496)]
    [InlineData(60, 4096, 4352)]
    public void RxTruesize_WholeBuffersPlusSkb(int frame, int buffer, int expected)
        => Assert.Equal(expected, NicActor.RxTruesize(frame, buffer));

    [Fact]
    public async Task SmallDatagrams_93FitTheDefaultRcvbuf_The94thIsRcvbufError()
    {
        var (host, nic, asker) = await OneNicHost(); // eth0 is Mac(2)
        var sock = (await AskNow<SocketCreated>(asker, host, new SocketCreate(SockType.Dgram))).Socket;
        await AskNow<SocketOk>(asker, sock, new Bind(Ipv4Address.Any, 7000));
        Assert.Equal(212992, (await AskNow<SocketInfo>(asker, sock, GetSocketInfo.Instance)).RcvBuf);
        var payload = new byte[64];
        var frames = Enumerable.Range(0, 200).Select(i => (ReadOnlyMemory<byte>)FrameBuilder.Udp(Mac(2), Mac(1),
            Ipv4Address.Parse("10.0.0.1"), Ipv4Address.Parse("10.0.0.2"), 5000, 7000, payload, id: (ushort)i)).ToArray();
        nic.Tell(new WireFrames([.. frames]), Akka.Actor.ActorRefs.NoSender);
        Engine.RunUntilIdle();
        var udp = (await AskNow<HostStats>(asker, host, GetStats.Instance)).Mib("Udp");
        Assert.Equal(107, udp["RcvbufErrors"]); // InDatagrams is counted by udp_recvmsg, when read
        var info = await AskNow<SocketInfo>(asker, sock, GetSocketInfo.Instance);
        Assert.Equal((93, 107L), (info.RecvQueueDatagrams, info.Drops));
    }
}
