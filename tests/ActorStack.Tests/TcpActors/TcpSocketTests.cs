using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Tests.Transmit;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.TcpActors;

/// <summary>TCP sockets as actors between two hosts on one cable (permanent neighbours): the socket API end to end.</summary>
public class TcpSocketTests() : TcpTwoHostKit("tcp-sock")
{
    private async Task<IActorRef> Listener(IActorRef host, ushort port, int backlog = 16)
    {
        var s = await TcpSocket(host);
        Assert.Equal(Errno.OK, await Command(s, new Bind(Ip("0.0.0.0"), port)));
        Assert.Equal(Errno.OK, await Command(s, new Listen(backlog)));
        return s;
    }

    private async Task<(IActorRef Client, IActorRef Server)> Pair(Started a, Started b, ushort port = 5001)
    {
        var l = await Listener(b.Host, port);
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), port)));
        var acc = await l.Ask<Accepted>(new Accept(), Timeout);
        Assert.Equal(Ip("10.0.0.1"), acc.Peer);
        return (c, acc.Socket);
    }

    private async Task<byte[]> ReadExactly(IActorRef s, int n)
    {
        var ms = new MemoryStream();
        while (ms.Length < n)
        {
            var r = await s.Ask<object>(new StreamRecv(), Timeout);
            var d = Assert.IsType<StreamData>(r);
            Assert.False(d.Eof, $"EOF after {ms.Length} of {n} bytes");
            ms.Write(d.Data.Span);
        }
        return ms.ToArray();
    }

    private async Task SendAll(IActorRef s, byte[] data, int chunk = 65536)
    {
        for (int off = 0; off < data.Length; off += chunk)
        {
            int len = Math.Min(chunk, data.Length - off);
            var r = await s.Ask<object>(new SendTo(data.AsMemory(off, len)), Timeout);
            Assert.Equal(len, Assert.IsType<Sent>(r).Bytes);
        }
    }

    [Fact]
    public async Task ConnectAccept_OneMiBEachWay_DeliveredByteForByte()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        var up = Bytes(1 << 20, seed: 1);
        var down = Bytes(1 << 20, seed: 2);
        var sendUp = SendAll(c, up);
        var sendDown = SendAll(s, down);
        var readUp = ReadExactly(s, up.Length);
        var readDown = ReadExactly(c, down.Length);
        await Task.WhenAll(sendUp, sendDown);
        Assert.Equal(up, await readUp);
        Assert.Equal(down, await readDown);
        await Eventually(a.Host, st =>
        {
            Assert.Equal(1, Mib(st, "Tcp", "ActiveOpens"));
            Assert.Equal(1, Mib(st, "Tcp", "CurrEstab"));
            Assert.Equal(0, Mib(st, "Tcp", "OutRsts"));
        });
        await Eventually(b.Host, st => Assert.Equal(1, Mib(st, "Tcp", "PassiveOpens")));
    }

    [Fact]
    public async Task Close_AfterData_PeerReadsDataThenEof_AndSocketsFinish()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        var data = Bytes(3000);
        await SendAll(c, data);
        Assert.Equal(Errno.OK, await Command(c, Close.Instance));
        Assert.Equal(data, await ReadExactly(s, data.Length));
        var eof = Assert.IsType<StreamData>(await s.Ask<object>(new StreamRecv(), Timeout));
        Assert.True(eof.Eof);
        // The server side is in CLOSE_WAIT until it closes too; then the client ends in TIME_WAIT.
        Assert.Equal("CLOSE-WAIT", (await s.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).State);
        Assert.Equal(Errno.OK, await Command(s, Close.Instance));
        await Eventually(a.Host, st =>
        {
            Assert.Equal(1, Mib(st, "TcpExt", "TW"));
            Assert.Equal(0, Mib(st, "Tcp", "CurrEstab"));
        });
    }

    [Fact]
    public async Task Connect_ToClosedPort_IsEconnrefused_ByRst()
    {
        var (a, b) = await TwoHosts();
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.ECONNREFUSED, await Command(c, new StreamConnect(Ip("10.0.0.2"), 7)));
        await Eventually(b.Host, st =>
        {
            Assert.Equal(1, Mib(st, "Tcp", "OutRsts"));
            Assert.Equal(1, Mib(st, "Tcp", "InSegs"));
        });
        await Eventually(a.Host, st => Assert.Equal(1, Mib(st, "Tcp", "AttemptFails")));
        // sk_err was reported by the failed connect; the socket is not connected.
        Assert.Equal(Errno.ENOTCONN, await Command(c, new ActorStack.Messages.Shutdown(ActorStack.Messages.Shutdown.Wr)));
    }

    [Fact]
    public async Task Connect_NonBlocking_IsEinprogress_ThenBlockingConnectCompletes()
    {
        var (a, b) = await TwoHosts();
        var l = await Listener(b.Host, 5002);
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.EINPROGRESS, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5002, NonBlocking: true)));
        var second = await Command(c, new StreamConnect(Ip("10.0.0.2"), 5002));
        Assert.True(second is Errno.OK or Errno.EISCONN, second.ToString());
        Assert.Equal(Errno.EISCONN, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5002)));
        Assert.IsType<Accepted>(await l.Ask<object>(new Accept(), Timeout));
    }

    [Fact]
    public async Task Recv_NonBlocking_WithNothingQueued_IsEagain_AndPeekLeavesData()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        var r = await s.Ask<object>(new StreamRecv(NonBlocking: true), Timeout);
        Assert.Equal(Errno.EAGAIN, Assert.IsType<CommandFailed>(r).Error);
        await SendAll(c, [1, 2, 3]);
        var peek = Assert.IsType<StreamData>(await s.Ask<object>(new StreamRecv(Peek: true), Timeout));
        Assert.Equal(new byte[] { 1, 2, 3 }, peek.Data.ToArray());
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReadExactly(s, 3));
    }

    [Fact]
    public async Task Bind_PortInUse_IsEaddrinuse_AndEphemeralListenGetsRangePort()
    {
        var (_, b) = await TwoHosts();
        await Listener(b.Host, 6000);
        var other = await TcpSocket(b.Host);
        Assert.Equal(Errno.EADDRINUSE, await Command(other, new Bind(Ip("10.0.0.2"), 6000)));
        Assert.Equal(Errno.OK, await Command(other, new Listen(5)));
        var info = await other.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);
        Assert.Equal("LISTEN", info.State);
        Assert.InRange(info.LocalPort, 32768, 60999);
        Assert.Equal(5, info.SendQueue);
    }

    [Fact]
    public async Task Listen_AcceptQueueFull_SynDroppedAndCounted()
    {
        var (a, b) = await TwoHosts();
        var l = await Listener(b.Host, 5003, backlog: 1);
        for (int i = 0; i < 2; i++)
        {
            var c = await TcpSocket(a.Host);
            Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5003)));
        }
        // Both children are in the accept queue (backlog 1 holds two: sk_acceptq_is_full is "more than").
        await AwaitAssertAsync(async () => Assert.Equal(2, (await l.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).RecvQueue),
            Timeout, TimeSpan.FromMilliseconds(10));
        var third = await TcpSocket(a.Host);
        Assert.Equal(Errno.EINPROGRESS, await Command(third, new StreamConnect(Ip("10.0.0.2"), 5003, NonBlocking: true)));
        await Eventually(b.Host, st =>
        {
            Assert.Equal(1, Mib(st, "TcpExt", "ListenOverflows"));
            Assert.Equal(1, Mib(st, "TcpExt", "ListenDrops"));
        });
        Assert.Equal("SYN-SENT", (await third.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).State);
    }

    [Fact]
    public async Task Listen_BacklogZero_OneRequestKept_NoCookie()
    {
        var (a, b) = await TwoHosts();
        var l = await Listener(b.Host, 5004, backlog: 0);
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5004)));
        var s = (await l.Ask<Accepted>(new Accept(), Timeout)).Socket;
        var data = Bytes(100_000, seed: 3);
        var read = ReadExactly(s, data.Length);
        await SendAll(c, data);
        Assert.Equal(data, await read);
        await Eventually(b.Host, st =>
        {
            // inet_csk_reqsk_queue_is_full is qlen > backlog: listen(0) still keeps one request, so no cookie.
            Assert.Equal(1, Mib(st, "Tcp", "PassiveOpens"));
            Assert.Equal(0, Mib(st, "TcpExt", "SyncookiesSent"));
            Assert.Equal(0, Mib(st, "TcpExt", "TCPReqQFullDoCookies"));
        });
        var info = await s.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);
        Assert.True(info.Timestamps); // a request sock's SYN-ACK, not a cookie's, so the options are all there
        Assert.Equal(1448, info.Mss); // 1460 less the 12-byte timestamp option
    }

    [Fact]
    public async Task SocketInfo_Established_ShowsOptionsCwndAndRtt()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        await SendAll(c, Bytes(20_000));
        await ReadExactly(s, 20_000);
        var info = await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);
        Assert.Equal("ESTAB", info.State);
        Assert.Equal(5001, info.RemotePort);
        Assert.Equal(Ip("10.0.0.2"), info.RemoteAddress);
        Assert.True(info.Sack);
        Assert.True(info.Timestamps);
        Assert.Equal(1448, info.Mss);
        Assert.Equal("cubic", info.CongestionControl.ToLowerInvariant());
        Assert.True(info.Cwnd >= 10, $"cwnd {info.Cwnd}");
        Assert.True(info.Rto >= TimeSpan.FromMilliseconds(200), $"rto {info.Rto}");
    }

    [Fact]
    public async Task Transfer_OverLossyWire_DeliversEveryByte()
    {
        Assert.True(NetemParser.TryParse("loss 3%", out var loss, out var error), error);
        var (a, b) = await TwoHosts(new WireOptions("lossy", 7, TimeSpan.Zero) { NetemAToB = loss, NetemBToA = loss });
        var (c, s) = await Pair(a, b);
        var data = Bytes(512 * 1024, seed: 9);
        var read = ReadExactly(s, data.Length);
        await SendAll(c, data);
        Assert.Equal(data, await read);
        var st = await Stats(a.Host);
        Assert.True(Mib(st, "Tcp", "RetransSegs") > 0, "a lossy wire should force retransmissions");
    }

    [Fact]
    public async Task ShutdownWr_PeerSeesEof_AndCanStillSendBack()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        Assert.Equal(Errno.OK, await Command(c, new ActorStack.Messages.Shutdown(ActorStack.Messages.Shutdown.Wr)));
        Assert.True(Assert.IsType<StreamData>(await s.Ask<object>(new StreamRecv(), Timeout)).Eof);
        var back = Bytes(5000, seed: 4);
        await SendAll(s, back);
        Assert.Equal(back, await ReadExactly(c, back.Length));
        Assert.Equal("FIN-WAIT-2", (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).State);
        Assert.Equal(Errno.EPIPE, await SendErr(c, [1]));
    }

    [Fact]
    public async Task Close_WithUnreadData_SendsRst_PeerReadFailsEconnreset()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        await SendAll(c, [1, 2, 3]);
        await AwaitAssertAsync(async () => Assert.Equal(3, (await s.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).RecvQueue),
            Timeout, TimeSpan.FromMilliseconds(10));
        var blocked = c.Ask<object>(new StreamRecv(), Timeout);
        Assert.Equal(Errno.OK, await Command(s, Close.Instance));
        Assert.Equal(Errno.ECONNRESET, Assert.IsType<CommandFailed>(await blocked).Error);
        await Eventually(b.Host, st =>
        {
            Assert.Equal(1, Mib(st, "TcpExt", "TCPAbortOnClose"));
            Assert.Equal(1, Mib(st, "Tcp", "OutRsts"));
        });
        await Eventually(a.Host, st => Assert.Equal(1, Mib(st, "Tcp", "EstabResets")));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.0.0.2")]
    public async Task Connect_OnSameHost_OverLoopback_Transfers(string address)
    {
        var (_, b) = await TwoHosts();
        var l = await Listener(b.Host, 7000);
        var c = await TcpSocket(b.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip(address), 7000)));
        var acc = await l.Ask<Accepted>(new Accept(), Timeout);
        Assert.Equal(Ip(address), acc.Peer);
        var data = Bytes(200_000, seed: 5);
        var read = ReadExactly(acc.Socket, data.Length);
        await SendAll(c, data);
        Assert.Equal(data, await read);
    }

    [Fact]
    public async Task ListenerClose_UnacceptedConnection_IsReset()
    {
        var (a, b) = await TwoHosts();
        var l = await Listener(b.Host, 7001);
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 7001)));
        await AwaitAssertAsync(async () => Assert.Equal(1, (await l.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).RecvQueue),
            Timeout, TimeSpan.FromMilliseconds(10));
        var blocked = c.Ask<object>(new StreamRecv(), Timeout);
        Assert.Equal(Errno.OK, await Command(l, Close.Instance));
        Assert.Equal(Errno.ECONNRESET, Assert.IsType<CommandFailed>(await blocked).Error);
        // The port is free again: a new listener can take it.
        await Listener(b.Host, 7001);
    }
}
