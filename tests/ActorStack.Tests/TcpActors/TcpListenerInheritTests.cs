using Akka.Actor;
using ActorStack.Messages;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// Accepted sockets inherit the listener's options (<c>sk_clone_lock</c> / <c>tcp_create_openreq_child</c>), and
/// TCP_CORK through setsockopt.
/// </summary>
public class TcpListenerInheritTests() : TcpTwoHostKit("tcp-inherit")
{
    [Fact]
    public async Task Accept_ListenerOptionsSet_ChildInheritsThemAll()
    {
        var (a, b) = await TwoHosts();
        var (c, child) = await Accepted(a, b, async l =>
        {
            Assert.Equal(Errno.OK, await Set(l, SockOpt.SoRcvbuf, 20_000));
            Assert.Equal(Errno.OK, await Set(l, SockOpt.SoSndbuf, 30_000));
            Assert.Equal(Errno.OK, await Set(l, SockOpt.TcpNodelay, 1));
            Assert.Equal(Errno.OK, await Set(l, SockOpt.SoKeepalive, 1));
            Assert.Equal(Errno.OK, await Set(l, SockOpt.TcpKeepidle, 30));
            Assert.Equal(Errno.OK, await Set(l, SockOpt.TcpKeepintvl, 5));
            Assert.Equal(Errno.OK, await Set(l, SockOpt.TcpKeepcnt, 3));
            Assert.Equal(Errno.OK, await Set(l, SockOpt.TcpMaxseg, 1000));
            Assert.Equal(Errno.OK, await Command(l, new SetCongestionControl("reno")));
            Assert.Equal(Errno.OK, await Command(l, new SetLinger(true, 7)));
        });
        Assert.Equal(40_000, await Get(child, SockOpt.SoRcvbuf)); // doubled, as the listener stored it
        Assert.Equal(60_000, await Get(child, SockOpt.SoSndbuf));
        Assert.Equal(1, await Get(child, SockOpt.TcpNodelay));
        Assert.Equal(1, await Get(child, SockOpt.SoKeepalive));
        Assert.Equal(30, await Get(child, SockOpt.TcpKeepidle));
        Assert.Equal(5, await Get(child, SockOpt.TcpKeepintvl));
        Assert.Equal(3, await Get(child, SockOpt.TcpKeepcnt));
        Assert.Equal(new LingerValue(true, 7), await Ask<LingerValue>(child, GetLinger.Instance));
        var info = await Ask<TcpSocketInfo>(child, GetSocketInfo.Instance);
        Assert.Equal(("reno", 988), (info.CongestionControl, info.Mss)); // user_mss 1000 - 12 bytes of timestamps
        // The client learned the clamp from the SYN-ACK's MSS option; its own algorithm is its own.
        var ci = await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance);
        Assert.Equal(("cubic", 988), (ci.CongestionControl, ci.Mss));
        var st = await Stats(b.Host);
        Assert.Equal(1, Mib(st, "Tcp", "PassiveOpens"));
    }

    [Fact]
    public async Task Accept_ListenerWithoutOptions_ChildHasNamespaceDefaults()
    {
        var (a, b) = await TwoHosts();
        var (_, child) = await Accepted(a, b);
        Assert.Equal(131072, await Get(child, SockOpt.SoRcvbuf));
        // tcp_wmem[1] grown by tcp_sndbuf_expand at the handshake's ACK: 2 × TCP_INIT_CWND segments of MSS 1448.
        Assert.Equal(2 * 10 * 1448, await Get(child, SockOpt.SoSndbuf));
        Assert.Equal(0, await Get(child, SockOpt.TcpNodelay));
        Assert.Equal(0, await Get(child, SockOpt.TcpCork));
        Assert.Equal(0, await Get(child, SockOpt.SoKeepalive));
        Assert.Equal(7200, await Get(child, SockOpt.TcpKeepidle));
        Assert.Equal(new LingerValue(false, 0), await Ask<LingerValue>(child, GetLinger.Instance));
        var info = await Ask<TcpSocketInfo>(child, GetSocketInfo.Instance);
        Assert.Equal(("cubic", 1448), (info.CongestionControl, info.Mss));
    }

    [Fact]
    public async Task Accept_ListenerLinger0_ChildCloseIsAbortive()
    {
        var (a, b) = await TwoHosts();
        var (c, child) = await Accepted(a, b, async l => Assert.Equal(Errno.OK, await Command(l, new SetLinger(true, 0))));
        var blocked = Begin(c, new StreamRecv());
        Assert.Equal(Errno.OK, await Command(child, Close.Instance));
        Assert.Equal(Errno.ECONNRESET, (await Wait<CommandFailed>(blocked)).Error);
        Assert.Equal(1, Mib(await Stats(b.Host), "Tcp", "OutRsts"));
    }

    [Fact]
    public async Task TcpCork_SubMssWriteHeld_UncorkSendsIt()
    {
        var (a, b) = await TwoHosts(TimeSpan.FromMilliseconds(50));
        var (c, child) = await Accepted(a, b);
        Assert.Equal(Errno.OK, await Set(c, SockOpt.TcpCork, 1));
        Assert.Equal(1, await Get(c, SockOpt.TcpCork));
        Assert.Equal(100, Assert.IsType<Sent>(await Ask<object>(c, new SendTo(Bytes(100)))).Bytes);
        var held = await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance);
        Assert.Equal((100, 0), (held.SendQueue, held.Unacked)); // queued, nothing on the wire
        Assert.Equal(Errno.OK, await Set(c, SockOpt.TcpCork, 0));
        var sent = await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance);
        Assert.Equal(1, sent.Unacked); // the push at uncork (tcp_push_pending_frames)
        var d = Assert.IsType<StreamData>(await Ask<object>(child, new StreamRecv()));
        Assert.Equal(Bytes(100), d.Data.ToArray());
    }

    [Fact]
    public async Task TcpCork_NeverUncorked_DataLeavesAtTheCeiling()
    {
        var (a, b) = await TwoHosts(TimeSpan.FromMilliseconds(50));
        var (c, child) = await Accepted(a, b);
        Assert.Equal(Errno.OK, await Set(c, SockOpt.TcpCork, 1));
        var written = Engine.Now;
        Assert.Equal(10, Assert.IsType<Sent>(await Ask<object>(c, new SendTo(Bytes(10)))).Bytes);
        Assert.Equal(0, (await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance)).Unacked);
        var d = Assert.IsType<StreamData>(await Ask<object>(child, new StreamRecv()));
        Assert.Equal(Bytes(10), d.Data.ToArray());
        // The 200 ms ceiling after the write, the wire's 50 ms and the frame's time on the 10G wire (rounded up to a tick).
        Assert.Equal(TimeSpan.FromTicks(2_500_001), Engine.Now - written);
        Assert.Equal(1, await Get(c, SockOpt.TcpCork)); // the ceiling pushes; the socket stays corked
    }
}
