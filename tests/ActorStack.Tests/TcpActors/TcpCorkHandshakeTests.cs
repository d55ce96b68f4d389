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

        // The SYN's retransmission (initial RTO 1 s) completes the handshake.
        int waited = 300;
        while ((await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).State != "ESTAB" && waited < 5000)
        {
            AdvanceMs(10);
            waited += 10;
        }
        Assert.True(waited < 5000, $"handshake still open after {waited} ms");
        await connector.ExpectMsgAsync<SocketOk>(Wait);
        Assert.Equal(10, (await writer.ExpectMsgAsync<Sent>(Wait)).Bytes);
        var second = await l.Ask<Accepted>(new Accept(), Wait);
        var info = await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait);
        Assert.Equal(("ESTAB", 10, 0), (info.State, info.SendQueue, info.Unacked)); // corked: held

        // ESTABLISHED was seen within the last 10 ms step: the ceiling counts 200 ms from there, not from the write.
        AdvanceMs(185);
        Assert.Equal(0, (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).Unacked);
        AdvanceMs(25); // the ceiling pushes the corked bytes
        var d = Assert.IsType<StreamData>(await second.Socket.Ask<object>(new StreamRecv(), Wait));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, d.Data.ToArray());
        Assert.Equal(1, (await c.Ask<object>(new GetSocketOption(SockOpt.TcpCork), Wait)) is SocketOptionValue v ? v.Value : -1);
        var st = await host.Ask<HostStats>(GetStats.Instance, Wait);
        Assert.Equal(1, st.Mib("TcpExt")["ListenOverflows"]);
    }
}
