using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Tests.Transmit;

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
        Assert.Equal(988, (await s.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).Mss);
        Assert.Equal(Errno.EINVAL, await Set(c, SockOpt.TcpMaxseg, 1200)); // connected
    }

    [Fact]
    public async Task TcpCongestion_RenoPerSocket_ShownInInfo_UnknownIsEnoent()
    {
        var (a, b) = await TwoHosts();
        var c = await TcpSocket(a.Host);
        Assert.Equal("cubic", Assert.IsType<CongestionControlValue>(await c.Ask<object>(GetCongestionControl.Instance, Timeout)).Name);
        Assert.Equal(Errno.OK, await Command(c, new SetCongestionControl("reno")));
        Assert.Equal(Errno.ENOENT, await Command(c, new SetCongestionControl("bbr")));
        var (_, s) = await Accepted(a, b, client: c);
        Assert.Equal("reno", (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).CongestionControl);
        Assert.Equal("cubic", (await s.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).CongestionControl);
        Assert.Equal(Errno.OK, await Command(s, new SetCongestionControl("reno"))); // also on a running connection
        Assert.Equal("reno", Assert.IsType<CongestionControlValue>(await s.Ask<object>(GetCongestionControl.Instance, Timeout)).Name);
    }

    [Fact]
    public async Task SoLinger0_Close_SendsRst_PeerReadIsEconnreset()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Accepted(a, b);
        Assert.Equal(Errno.OK, await Command(c, new SetLinger(true, 0)));
        Assert.Equal(new LingerValue(true, 0), await c.Ask<LingerValue>(GetLinger.Instance, Timeout));
        var blocked = s.Ask<object>(new StreamRecv(), Timeout);
        Assert.Equal(Errno.OK, await Command(c, Close.Instance));
        Assert.Equal(Errno.ECONNRESET, Assert.IsType<CommandFailed>(await blocked).Error);
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
        Assert.Equal(data.Length, Assert.IsType<Sent>(await c.Ask<object>(new SendTo(data), Timeout)).Bytes);
        Assert.Equal(Errno.OK, await Command(c, Close.Instance));
        // The close returned after the data and the FIN were acknowledged, so the peer holds all of it.
        var info = await s.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);
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
        async Task SendAll(IActorRef sock, byte[] data)
        {
            for (int off = 0; off < data.Length; off += 65536)
                Assert.IsType<Sent>(await sock.Ask<object>(new SendTo(data.AsMemory(off, Math.Min(65536, data.Length - off))), Timeout));
        }
        async Task<byte[]> ReadAll(IActorRef sock, int n)
        {
            var ms = new MemoryStream();
            while (ms.Length < n) ms.Write(Assert.IsType<StreamData>(await sock.Ask<object>(new StreamRecv(), Timeout)).Data.Span);
            return ms.ToArray();
        }
        var readUp = ReadAll(s, up.Length);
        var readDown = ReadAll(c, down.Length);
        await Task.WhenAll(SendAll(c, up), SendAll(s, down));
        Assert.Equal(up, await readUp);
        Assert.Equal(down, await readDown);
        foreach (var h in new[] { a.Host, b.Host })
        {
            var st = await Stats(h);
            Assert.Equal(0, st.DropsOf(DropReason.TCP_OVERWINDOW));
            Assert.Equal(0, st.DropsOf(DropReason.SOCKET_BACKLOG));
            Assert.Equal(0, Mib(st, "TcpExt", "TCPBacklogDrop"));
        }
    }
}
