using Akka.Actor;
using ActorStack.Messages;

namespace ActorStack.Tests.TcpActors;

/// <summary>setsockopt / getsockopt on TCP socket actors: TCP_NODELAY, keepalive, buffers, TCP_MAXSEG, TCP_CONGESTION, SO_LINGER.</summary>
public class TcpSocketOptionTests() : TcpTwoHostKit("tcp-opts")
{
    [Fact]
    public async Task SetGet_IntOptions_RoundTripWithLinuxRangesAndDoubling()
    {
        var (a, _) = await TwoHosts();
        var s = await TcpSocket(a.Host);
        Assert.Equal(0, await Get(s, SockOpt.TcpNodelay));
        Assert.Equal(Errno.OK, await Set(s, SockOpt.TcpNodelay, 1));
        Assert.Equal(1, await Get(s, SockOpt.TcpNodelay));
        Assert.Equal(Errno.OK, await Set(s, SockOpt.SoKeepalive, 1));
        Assert.Equal(1, await Get(s, SockOpt.SoKeepalive));
        Assert.Equal(7200, await Get(s, SockOpt.TcpKeepidle));
        Assert.Equal(Errno.OK, await Set(s, SockOpt.TcpKeepidle, 30));
        Assert.Equal(30, await Get(s, SockOpt.TcpKeepidle));
        Assert.Equal(75, await Get(s, SockOpt.TcpKeepintvl));
        Assert.Equal(Errno.OK, await Set(s, SockOpt.TcpKeepintvl, 5));
        Assert.Equal(5, await Get(s, SockOpt.TcpKeepintvl));
        Assert.Equal(9, await Get(s, SockOpt.TcpKeepcnt));
        Assert.Equal(Errno.OK, await Set(s, SockOpt.TcpKeepcnt, 3));
        Assert.Equal(3, await Get(s, SockOpt.TcpKeepcnt));
        Assert.Equal(Errno.EINVAL, await Set(s, SockOpt.TcpKeepcnt, 0));
        Assert.Equal(Errno.EINVAL, await Set(s, SockOpt.TcpKeepidle, 32768));
        // SO_SNDBUF / SO_RCVBUF: doubled, capped by net.core.wmem_max / rmem_max (212992).
        Assert.Equal(Errno.OK, await Set(s, SockOpt.SoSndbuf, 50_000));
        Assert.Equal(100_000, await Get(s, SockOpt.SoSndbuf));
        Assert.Equal(Errno.OK, await Set(s, SockOpt.SoRcvbuf, 1 << 20));
        Assert.Equal(2 * 212992, await Get(s, SockOpt.SoRcvbuf));
        // TCP_MAXSEG: TCP_MSS_DEFAULT before a connection, 88..32767 accepted.
        Assert.Equal(536, await Get(s, SockOpt.TcpMaxseg));
        Assert.Equal(Errno.EINVAL, await Set(s, SockOpt.TcpMaxseg, 50));
        Assert.Equal(Errno.OK, await Set(s, SockOpt.TcpMaxseg, 1000));
        Assert.Equal(1000, await Get(s, SockOpt.TcpMaxseg));
        Assert.Equal(Errno.ENOPROTOOPT, await Set(s, SockOpt.IpHdrIncl, 1));
    }

    [Fact]
    public async Task TcpMaxseg_1000BeforeConnect_BothSidesUseMss988()
    {
        var (a, b) = await TwoHosts();
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Set(c, SockOpt.TcpMaxseg, 1000));
        var (_, s) = await Accepted(a, b, client: c);
        Assert.Equal(988, await Get(c, SockOpt.TcpMaxseg)); // 1000 - 12 bytes of timestamps
        Assert.Equal(988, (await Ask<TcpSocketInfo>(s, GetSocketInfo.Instance)).Mss);
        Assert.Equal(Errno.EINVAL, await Set(c, SockOpt.TcpMaxseg, 1200)); // connected
    }

    [Fact]
    public async Task TcpCongestion_RenoPerSocket_ShownInInfo_UnknownIsEnoent()
    {
        var (a, b) = await TwoHosts();
        var c = await TcpSocket(a.Host);
        Assert.Equal("cubic", Assert.IsType<CongestionControlValue>(await Ask<object>(c, GetCongestionControl.Instance)).Name);
        Assert.Equal(Errno.OK, await Command(c, new SetCongestionControl("reno")));
        Assert.Equal(Errno.ENOENT, await Command(c, new SetCongestionControl("bbr")));
        var (_, s) = await Accepted(a, b, client: c);
        Assert.Equal("reno", (await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance)).CongestionControl);
        Assert.Equal("cubic", (await Ask<TcpSocketInfo>(s, GetSocketInfo.Instance)).CongestionControl);
        Assert.Equal(Errno.OK, await Command(s, new SetCongestionControl("reno"))); // also on a running connection
        Assert.Equal("reno", Assert.IsType<CongestionControlValue>(await Ask<object>(s, GetCongestionControl.Instance)).Name);
    }

    [Fact]
    public async Task SoLinger0_Close_SendsRst_PeerReadIsEconnreset()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Accepted(a, b);
        Assert.Equal(Errno.OK, await Command(c, new SetLinger(true, 0)));
        Assert.Equal(new LingerValue(true, 0), await Ask<LingerValue>(c, GetLinger.Instance));
        var blocked = Begin(s, new StreamRecv());
        Assert.Equal(Errno.OK, await Command(c, Close.Instance));
        Assert.Equal(Errno.ECONNRESET, (await Wait<CommandFailed>(blocked)).Error);
        var st = await Stats(a.Host);
        Assert.Equal(1, Mib(st, "Tcp", "OutRsts"));
        Assert.Equal(1, Mib(st, "TcpExt", "TCPAbortOnData")); // Linux's counter for a zero-linger close
        Assert.Equal(0, Mib(st, "TcpExt", "TCPAbortOnClose"));
    }

    [Fact]
    public async Task SoLingerPositive_Close_AnsweredOnlyWhenAllDataAcked()
    {
        var (a, b) = await TwoHosts(TimeSpan.FromMilliseconds(100));
        var (c, s) = await Accepted(a, b);
        Assert.Equal(Errno.OK, await Command(c, new SetLinger(true, 10)));
        var data = Bytes(60_000, seed: 5);
        Assert.Equal(data.Length, Assert.IsType<Sent>(await Ask<object>(c, new SendTo(data))).Bytes);
        Assert.Equal(Errno.OK, await Command(c, Close.Instance));
        // The close returned after the data and the FIN were acknowledged, so the peer holds all of it.
        var info = await Ask<TcpSocketInfo>(s, GetSocketInfo.Instance);
        Assert.Equal(data.Length, info.RecvQueue);
        Assert.Equal("CLOSE-WAIT", info.State);
    }

    [Fact]
    public async Task BulkBothWays_TwoMiB_NoOverwindowNoZeroWindowDropsNoBacklogDrops()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Accepted(a, b);
        var up = Bytes(2 << 20, seed: 11);
        var down = Bytes(2 << 20, seed: 12);
        var readUp = StartRead(s, up.Length);
        var readDown = StartRead(c, down.Length);
        RunUntilDone(StartSendAll(c, up), StartSendAll(s, down), readUp, readDown);
        Assert.Equal(up, readUp.Data.ToArray());
        Assert.Equal(down, readDown.Data.ToArray());
        foreach (var h in new[] { a.Host, b.Host })
        {
            var st = await Stats(h);
            Assert.Equal(0, st.DropsOf(DropReason.TCP_OVERWINDOW));
            Assert.Equal(0, st.DropsOf(DropReason.SOCKET_BACKLOG));
            Assert.Equal(0, Mib(st, "TcpExt", "TCPBacklogDrop"));
        }
    }
}
