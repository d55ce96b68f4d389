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
        var caller = Probe();
        sock.Tell(new StreamConnect(SilentPeer, 80), caller.Ref);
        await Ask<TcpSocketInfo>(sock, GetSocketInfo.Instance);
        // 1 + 2 + 4 + 8 + 16 + 32 s of retransmissions, then 64 s for the last answer: 127 s (tcp_syn_retries 6).
        for (int s = 1; s <= 126; s++)
        {
            Advance(TimeSpan.FromSeconds(1));
            Assert.Equal("SYN-SENT", (await Ask<TcpSocketInfo>(sock, GetSocketInfo.Instance)).State);
        }
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Errno.ETIMEDOUT, (await Expect<CommandFailed>(caller)).Error);
        var st = await Ask<HostStats>(host, GetStats.Instance);
        Assert.Equal(1, st.Mib("Tcp")["AttemptFails"]);
        Assert.Equal(6, st.Mib("Tcp")["RetransSegs"]);
        // __tcp_transmit_skb counts OutSegs only when a segment advances snd_nxt: the first SYN, not its 6 retransmissions.
        Assert.Equal(1, st.Mib("Tcp")["OutSegs"]);
    }

    [Fact]
    public async Task Send_DuringHandshake_NonBlockingEagain_BlockingWaitsThenGetsTheConnectError()
    {
        var host = await StartHost(silentPeer: true);
        var sock = await StreamSocket(host);
        Assert.Equal(Errno.EINPROGRESS, Assert.IsType<CommandFailed>(await Ask<object>(sock, new StreamConnect(SilentPeer, 80, NonBlocking: true))).Error);

        // tcp_sendmsg -> sk_stream_wait_connect: no time to wait is -EAGAIN, and nothing was queued.
        var quick = new SendTo(new byte[100], Flags: MsgFlags.DontWait);
        Assert.Equal(new CommandFailed(quick, Errno.EAGAIN), await Ask<object>(sock, quick));
        Assert.Equal(0, (await Ask<TcpSocketInfo>(sock, GetSocketInfo.Instance)).SendQueue);

        // A blocking send waits in SYN-SENT; when the handshake gives up, it gets the socket's error.
        var writer = Probe();
        var blocking = new SendTo(new byte[100]);
        sock.Tell(blocking, writer.Ref);
        for (int s = 1; s <= 126; s++) // a second at a time, each step seen by the socket before the next
        {
            Advance(TimeSpan.FromSeconds(1));
            Assert.Equal("SYN-SENT", (await Ask<TcpSocketInfo>(sock, GetSocketInfo.Instance)).State);
        }
        await ExpectNothingNow(writer);
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Errno.ETIMEDOUT, (await Expect<CommandFailed>(writer)).Error);
    }
}
