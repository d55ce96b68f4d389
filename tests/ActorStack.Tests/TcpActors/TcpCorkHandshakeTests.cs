using Akka.Actor;
using ActorStack.Messages;

namespace ActorStack.Tests.TcpActors;

/// <summary>TCP_CORK set before connect() on virtual time: the 200 ms ceiling of data written during a long handshake.</summary>
public class TcpCorkHandshakeTests() : TcpHostKit("tcp-cork-handshake")
{
    [Fact]
    public async Task Cork_DataWrittenDuringHandshake_LeavesCeilingAfterEstablished()
    {
        var host = await StartHost();
        var l = await LoopbackListener(host, 7000, backlog: 0);
        // A first connection fills the accept queue (backlog 0: one), so the second one's SYN is dropped
        // (ListenOverflows) and retransmitted after the 1 s initial RTO: a handshake far longer than the ceiling.
        var first = (await host.Ask<SocketCreated>(new SocketCreate(SockType.Stream), Wait)).Socket;
        Assert.IsType<SocketOk>(await first.Ask<object>(new StreamConnect(Lo, 7000), Wait));
        await AwaitAssertAsync(async () => Assert.Equal(1, (await l.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).RecvQueue), Wait);

        var c = (await host.Ask<SocketCreated>(new SocketCreate(SockType.Stream), Wait)).Socket;
        Assert.IsType<SocketOk>(await c.Ask<object>(new SetSocketOption(SockOpt.TcpCork, 1), Wait));
        var connector = CreateTestProbe();
        c.Tell(new StreamConnect(Lo, 7000), connector.Ref);
        // A blocking write: it waits in sk_stream_wait_connect until ESTABLISHED (a non-blocking one would get EAGAIN).
        var writer = CreateTestProbe();
        c.Tell(new SendTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }), writer.Ref);
        Assert.Equal("SYN-SENT", (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).State);

        AdvanceMs(300); // the ceiling would have passed here: the data cannot leave before ESTABLISHED
        Assert.Equal("SYN-SENT", (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).State);
        await l.Ask<Accepted>(new Accept(), Wait); // the first connection leaves the accept queue

        // The SYN's retransmission at exactly 1 s (the initial RTO; the first SYN left at 0) completes the handshake.
        // The clock stands still while the handshake runs through the actors, so ESTABLISHED is at 1,000 ms exactly.
        AdvanceMs(699);
        Assert.Equal("SYN-SENT", (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).State);
        AdvanceMs(1);
        await connector.ExpectMsgAsync<SocketOk>(Wait);
        Assert.Equal(10, (await writer.ExpectMsgAsync<Sent>(Wait)).Bytes);
        var second = await l.Ask<Accepted>(new Accept(), Wait);
        var info = await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait);
        Assert.Equal(("ESTAB", 10, 0), (info.State, info.SendQueue, info.Unacked)); // corked: held

        // The ceiling counts 200 ms from ESTABLISHED (1,000 ms), not from the write (0 ms).
        AdvanceMs(185);
        Assert.Equal(0, (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).Unacked);
        AdvanceMs(25); // the ceiling pushes the corked bytes
        var d = Assert.IsType<StreamData>(await second.Socket.Ask<object>(new StreamRecv(), Wait));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, d.Data.ToArray());
        Assert.Equal(1, (await c.Ask<object>(new GetSocketOption(SockOpt.TcpCork), Wait)) is SocketOptionValue v ? v.Value : -1);
        var st = await host.Ask<HostStats>(GetStats.Instance, Wait);
        Assert.Equal(1, st.Mib("TcpExt")["ListenOverflows"]);
        Assert.Equal(0, st.Mib("TcpExt")["TCPSpuriousRtxHostQueues"]); // loopback: no SYN waits on ARP
    }
}
