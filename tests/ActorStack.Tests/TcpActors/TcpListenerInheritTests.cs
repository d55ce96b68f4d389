using Akka.Actor;
using ActorStack.Actors.Link;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Tests.Transmit;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// Accepted sockets inherit the listener's options (<c>sk_clone_lock</c> / <c>tcp_create_openreq_child</c>), and
/// TCP_CORK through setsockopt.
/// </summary>
public class TcpListenerInheritTests() : NetHarness("tcp-inherit")
{
    private async Task<(Started A, Started B)> TwoHosts(TimeSpan? delay = null)
    {
        var a = await Start(HostOf("a", null, Dev("eth0", 1, "10.0.0.1/24")) with { Neighbours = [Neigh("10.0.0.2", 2, "eth0")] });
        var b = await Start(HostOf("b", null, Dev("eth0", 2, "10.0.0.2/24")) with { Neighbours = [Neigh("10.0.0.1", 1, "eth0")] });
        if (delay is null) Cable(a.Devices["eth0"], b.Devices["eth0"]);
        else
        {
            var w = Sys.ActorOf(WireActor.Props(a.Devices["eth0"], b.Devices["eth0"], new WireOptions("slow", 1, delay.Value)));
            a.Devices["eth0"].Tell(new AttachWire(w));
            b.Devices["eth0"].Tell(new AttachWire(w));
        }
        return (a, b);
    }

    private async Task<IActorRef> TcpSocket(IActorRef host)
        => (await host.Ask<SocketCreated>(new SocketCreate(SockType.Stream), Timeout)).Socket;

    private async Task<int> Get(IActorRef s, SockOpt o) => Assert.IsType<SocketOptionValue>(await s.Ask<object>(new GetSocketOption(o), Timeout)).Value;

    private Task<Errno> Set(IActorRef s, SockOpt o, int v) => Command(s, new SetSocketOption(o, v));

    /// <summary>A listener on b:5001 configured by <paramref name="configure"/> before listen; a connects; returns both ends.</summary>
    private async Task<(IActorRef Client, IActorRef Child)> Accepted(Started a, Started b, Func<IActorRef, Task>? configure = null)
    {
        var l = await TcpSocket(b.Host);
        Assert.Equal(Errno.OK, await Command(l, new Bind(Ip("0.0.0.0"), 5001)));
        if (configure is not null) await configure(l);
        Assert.Equal(Errno.OK, await Command(l, new Listen(4)));
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5001)));
        return (c, (await l.Ask<Accepted>(new Accept(), Timeout)).Socket);
    }

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
        Assert.Equal(new LingerValue(true, 7), await child.Ask<LingerValue>(GetLinger.Instance, Timeout));
        var info = await child.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);
        Assert.Equal(("reno", 988), (info.CongestionControl, info.Mss)); // user_mss 1000 - 12 bytes of timestamps
        // The client learned the clamp from the SYN-ACK's MSS option; its own algorithm is its own.
        var ci = await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);
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
        Assert.Equal(new LingerValue(false, 0), await child.Ask<LingerValue>(GetLinger.Instance, Timeout));
        var info = await child.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);
        Assert.Equal(("cubic", 1448), (info.CongestionControl, info.Mss));
    }

    [Fact]
    public async Task Accept_ListenerLinger0_ChildCloseIsAbortive()
    {
        var (a, b) = await TwoHosts();
        var (c, child) = await Accepted(a, b, async l => Assert.Equal(Errno.OK, await Command(l, new SetLinger(true, 0))));
        var blocked = c.Ask<object>(new StreamRecv(), Timeout);
        Assert.Equal(Errno.OK, await Command(child, Close.Instance));
        Assert.Equal(Errno.ECONNRESET, Assert.IsType<SocketFailed>(await blocked).Error);
        Assert.Equal(1, Mib(await Stats(b.Host), "Tcp", "OutRsts"));
    }

    [Fact]
    public async Task TcpCork_SubMssWriteHeld_UncorkSendsIt()
    {
        var (a, b) = await TwoHosts(TimeSpan.FromMilliseconds(50));
        var (c, child) = await Accepted(a, b);
        Assert.Equal(Errno.OK, await Set(c, SockOpt.TcpCork, 1));
        Assert.Equal(1, await Get(c, SockOpt.TcpCork));
        Assert.Equal(100, Assert.IsType<Sent>(await c.Ask<object>(new SendTo(Bytes(100)), Timeout)).Bytes);
        var held = await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);
        Assert.Equal((100, 0), (held.SendQueue, held.Unacked)); // queued, nothing on the wire
        Assert.Equal(Errno.OK, await Set(c, SockOpt.TcpCork, 0));
        var sent = await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);
        Assert.Equal(1, sent.Unacked); // the push at uncork (tcp_push_pending_frames)
        var d = Assert.IsType<StreamData>(await child.Ask<object>(new StreamRecv(), Timeout));
        Assert.Equal(Bytes(100), d.Data.ToArray());
    }

    [Fact]
    public async Task TcpCork_NeverUncorked_DataLeavesAtTheCeiling()
    {
        var (a, b) = await TwoHosts(TimeSpan.FromMilliseconds(50));
        var (c, child) = await Accepted(a, b);
        Assert.Equal(Errno.OK, await Set(c, SockOpt.TcpCork, 1));
        Assert.Equal(10, Assert.IsType<Sent>(await c.Ask<object>(new SendTo(Bytes(10)), Timeout)).Bytes);
        Assert.Equal(0, (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).Unacked);
        var d = Assert.IsType<StreamData>(await child.Ask<object>(new StreamRecv(), Timeout)); // after the 200 ms ceiling
        Assert.Equal(Bytes(10), d.Data.ToArray());
        Assert.Equal(1, await Get(c, SockOpt.TcpCork)); // the ceiling pushes; the socket stays corked
    }
}
