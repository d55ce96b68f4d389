using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.TcpActors;

/// <summary>TCP socket timers on virtual time: the SYN retransmissions and the give-up after tcp_syn_retries.</summary>
public class TcpTimeoutTests() : TcpHostKit("tcp-timeout")
{
    [Fact]
    public async Task Connect_NoAnswer_SynRetriesExhausted_IsEtimedoutAfter127s()
    {
        var host = await StartHost(silentPeer: true);
        var sock = await StreamSocket(host);
        var caller = CreateTestProbe();
        sock.Tell(new StreamConnect(SilentPeer, 80), caller.Ref);
        await sock.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait);
        // 1 + 2 + 4 + 8 + 16 + 32 s of retransmissions, then 64 s for the last answer: 127 s (tcp_syn_retries 6).
        for (int s = 1; s <= 126; s++)
        {
            Advance(TimeSpan.FromSeconds(1));
            Assert.Equal("SYN-SENT", (await sock.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).State);
        }
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Errno.ETIMEDOUT, (await caller.ExpectMsgAsync<CommandFailed>(Wait)).Error);
        var st = await host.Ask<HostStats>(GetStats.Instance, Wait);
        Assert.Equal(1, st.Mib("Tcp")["AttemptFails"]);
        Assert.Equal(6, st.Mib("Tcp")["RetransSegs"]);
        Assert.Equal(7, st.Mib("Tcp")["OutSegs"]);
    }

    [Fact]
    public async Task Send_DuringHandshake_NonBlockingEagain_BlockingWaitsThenGetsTheConnectError()
    {
        var host = await StartHost(silentPeer: true);
        var sock = await StreamSocket(host);
        Assert.Equal(Errno.EINPROGRESS, Assert.IsType<CommandFailed>(await sock.Ask<object>(new StreamConnect(SilentPeer, 80, NonBlocking: true), Wait)).Error);

        // tcp_sendmsg -> sk_stream_wait_connect: no time to wait is -EAGAIN, and nothing was queued.
        var quick = new SendTo(new byte[100], Flags: MsgFlags.DontWait);
        Assert.Equal(new CommandFailed(quick, Errno.EAGAIN), await sock.Ask<object>(quick, Wait));
        Assert.Equal(0, (await sock.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).SendQueue);

        // A blocking send waits in SYN-SENT; when the handshake gives up, it gets the socket's error.
        var writer = CreateTestProbe();
        var blocking = new SendTo(new byte[100]);
        sock.Tell(blocking, writer.Ref);
        for (int s = 1; s <= 126; s++) // a second at a time, each step seen by the socket before the next
        {
            Advance(TimeSpan.FromSeconds(1));
            Assert.Equal("SYN-SENT", (await sock.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait)).State);
        }
        await writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Errno.ETIMEDOUT, (await writer.ExpectMsgAsync<CommandFailed>(Wait)).Error);
    }
}
