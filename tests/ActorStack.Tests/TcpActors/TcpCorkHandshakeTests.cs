using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// TCP_CORK set before connect() on the simulation engine: the 200 ms ceiling of data written during a long handshake.
/// Every step runs to completion before the clock moves, so each instant is exact.
/// </summary>
public class TcpCorkHandshakeTests() : EngineKit("tcp-cork-handshake")
{
    private static readonly Ipv4Address Lo = Ipv4Address.Parse("127.0.0.1");

    private async Task<IActorRef> StreamSocket(TestProbe p, IActorRef host)
        => (await AskNow<SocketCreated>(p, host, new SocketCreate(SockType.Stream))).Socket;

    private async Task<TcpSocketInfo> Info(TestProbe p, IActorRef socket) => await AskNow<TcpSocketInfo>(p, socket, GetSocketInfo.Instance);

    [Fact]
    public async Task Cork_DataWrittenDuringHandshake_LeavesCeilingAfterEstablished()
    {
        var p = Probe();
        var connector = Probe();
        var writer = Probe();
        var dev = new DeviceSettings("eth0", new MacAddress(0x02_00_00_00_00_0aUL), Addresses: [Ipv4Prefix.TryParse("10.0.0.1/24", out var a) ? a : default]);
        var host = Sys.ActorOf(HostActor.Props(new HostSettings("h1", 1, new SysctlSettings(), [dev]), seed: 7), "h1");
        await AskNow<HostDevices>(p, host, GetHostDevices.Instance);
        var l = await StreamSocket(p, host);
        Assert.IsType<SocketOk>(await AskNow<object>(p, l, new Bind(Lo, 7000)));
        Assert.IsType<SocketOk>(await AskNow<object>(p, l, new Listen(0)));

        // A first connection fills the accept queue (backlog 0: one), so the second one's SYN is dropped
        // (ListenOverflows) and retransmitted after the 1 s initial RTO: a handshake far longer than the ceiling.
        var first = await StreamSocket(p, host);
        Assert.IsType<SocketOk>(await AskNow<object>(p, first, new StreamConnect(Lo, 7000)));
        Assert.Equal(1, (await Info(p, l)).RecvQueue);

        var c = await StreamSocket(p, host);
        Assert.IsType<SocketOk>(await AskNow<object>(p, c, new SetSocketOption(SockOpt.TcpCork, 1)));
        var t0 = Engine.Now;
        c.Tell(new StreamConnect(Lo, 7000), connector.Ref);
        // A blocking write: it waits in sk_stream_wait_connect until ESTABLISHED (a non-blocking one would get EAGAIN).
        c.Tell(new SendTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }), writer.Ref);
        Assert.Equal("SYN-SENT", (await Info(p, c)).State);

        Engine.RunUntil(t0 + TimeSpan.FromMilliseconds(300)); // the ceiling would have passed here: not before ESTABLISHED
        Assert.Equal("SYN-SENT", (await Info(p, c)).State);
        await AskNow<Accepted>(p, l, new Accept()); // the first connection leaves the accept queue

        // The SYN's retransmission at exactly 1 s (the initial RTO) completes the handshake at that instant.
        Engine.RunUntil(t0 + TimeSpan.FromMilliseconds(999.999));
        Assert.Equal("SYN-SENT", (await Info(p, c)).State);
        connector.ExpectNoMsg(TimeSpan.Zero);
        Engine.RunUntil(t0 + TimeSpan.FromSeconds(1));
        await connector.ExpectMsgAsync<SocketOk>(TimeSpan.FromSeconds(1));
        Assert.Equal(10, (await writer.ExpectMsgAsync<Sent>(TimeSpan.FromSeconds(1))).Bytes);
        var second = await AskNow<Accepted>(p, l, new Accept());
        var info = await Info(p, c);
        Assert.Equal(("ESTAB", 10, 0), (info.State, info.SendQueue, info.Unacked)); // corked: held

        // The ceiling counts 200 ms from ESTABLISHED (1,000 ms), not from the write (0 ms): held just before it...
        Engine.RunUntil(t0 + TimeSpan.FromMilliseconds(1199.999));
        Assert.Equal(10, (await Info(p, c)).SendQueue);
        Assert.Equal(Errno.EAGAIN, Assert.IsType<CommandFailed>(await AskNow<object>(p, second.Socket, new StreamRecv(NonBlocking: true))).Error);
        // ...and pushed at it (loopback delivers and acknowledges within the same instant).
        Engine.RunUntil(t0 + TimeSpan.FromMilliseconds(1200));
        Assert.Equal(0, (await Info(p, c)).SendQueue);
        var d = Assert.IsType<StreamData>(await AskNow<object>(p, second.Socket, new StreamRecv()));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, d.Data.ToArray());
        Assert.Equal(1, await AskNow<object>(p, c, new GetSocketOption(SockOpt.TcpCork)) is SocketOptionValue v ? v.Value : -1);
        var st = await AskNow<HostStats>(p, host, GetStats.Instance);
        Assert.Equal(1, st.Mib("TcpExt")["ListenOverflows"]);
        Assert.Equal(0, st.Mib("TcpExt")["TCPSpuriousRtxHostQueues"]); // loopback: no SYN waits on ARP
    }
}
