using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
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
        var acc = await Ask<Accepted>(l, new Accept());
        Assert.Equal(Ip("10.0.0.1"), acc.Peer);
        return (c, acc.Socket);
    }

    [Fact]
    public async Task ConnectAccept_OneMiBEachWay_DeliveredByteForByte()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        var up = Bytes(1 << 20, seed: 1);
        var down = Bytes(1 << 20, seed: 2);
        var sendUp = StartSendAll(c, up);
        var sendDown = StartSendAll(s, down);
        var readUp = StartRead(s, up.Length);
        var readDown = StartRead(c, down.Length);
        RunUntilDone(sendUp, sendDown, readUp, readDown);
        Assert.Equal(up, readUp.Data.ToArray());
        Assert.Equal(down, readDown.Data.ToArray());
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
        var eof = Assert.IsType<StreamData>(await Ask<object>(s, new StreamRecv()));
        Assert.True(eof.Eof);
        // The server side is in CLOSE_WAIT until it closes too; then the client ends in TIME_WAIT.
        Assert.Equal("CLOSE-WAIT", (await Ask<TcpSocketInfo>(s, GetSocketInfo.Instance)).State);
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
        Assert.Equal(Errno.OK, second); // on the engine the blocking connect waits for the handshake the first one started
        Assert.Equal(Errno.EISCONN, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5002)));
        Assert.IsType<Accepted>(await Ask<object>(l, new Accept()));
    }

    [Fact]
    public async Task Recv_NonBlocking_WithNothingQueued_IsEagain_AndPeekLeavesData()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        var r = await Ask<object>(s, new StreamRecv(NonBlocking: true));
        Assert.Equal(Errno.EAGAIN, Assert.IsType<CommandFailed>(r).Error);
        await SendAll(c, [1, 2, 3]);
        var peek = Assert.IsType<StreamData>(await Ask<object>(s, new StreamRecv(Peek: true)));
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
        var info = await Ask<TcpSocketInfo>(other, GetSocketInfo.Instance);
        Assert.Equal("LISTEN", info.State);
        Assert.InRange(info.LocalPort, 32768, 60999);
        Assert.Equal(38197, info.LocalPort); // the host's seed (1) fixes the ephemeral port
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
        await Until(async () => Assert.Equal(2, (await Ask<TcpSocketInfo>(l, GetSocketInfo.Instance)).RecvQueue));
        var third = await TcpSocket(a.Host);
        Assert.Equal(Errno.EINPROGRESS, await Command(third, new StreamConnect(Ip("10.0.0.2"), 5003, NonBlocking: true)));
        await Eventually(b.Host, st =>
        {
            Assert.Equal(1, Mib(st, "TcpExt", "ListenOverflows"));
            Assert.Equal(1, Mib(st, "TcpExt", "ListenDrops"));
        });
        Assert.Equal("SYN-SENT", (await Ask<TcpSocketInfo>(third, GetSocketInfo.Instance)).State);
    }

    [Fact]
    public async Task Listen_BacklogZero_OneRequestKept_NoCookie()
    {
        var (a, b) = await TwoHosts();
        var l = await Listener(b.Host, 5004, backlog: 0);
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5004)));
        var s = (await Ask<Accepted>(l, new Accept())).Socket;
        var data = Bytes(100_000, seed: 3);
        var read = StartRead(s, data.Length);
        RunUntilDone(StartSendAll(c, data), read);
        Assert.Equal(data, read.Data.ToArray());
        await Eventually(b.Host, st =>
        {
            // inet_csk_reqsk_queue_is_full is qlen > backlog: listen(0) still keeps one request, so no cookie.
            Assert.Equal(1, Mib(st, "Tcp", "PassiveOpens"));
            Assert.Equal(0, Mib(st, "TcpExt", "SyncookiesSent"));
            Assert.Equal(0, Mib(st, "TcpExt", "TCPReqQFullDoCookies"));
        });
        var info = await Ask<TcpSocketInfo>(s, GetSocketInfo.Instance);
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
        var info = await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance);
        Assert.Equal("ESTAB", info.State);
        Assert.Equal(5001, info.RemotePort);
        Assert.Equal(Ip("10.0.0.2"), info.RemoteAddress);
        Assert.True(info.Sack);
        Assert.True(info.Timestamps);
        Assert.Equal(1448, info.Mss);
        Assert.Equal("cubic", info.CongestionControl.ToLowerInvariant());
        // 20 kB from the initial window of 10 grew cwnd to 17; RTO is tcp_rto_min (200 ms) plus the measured RTT's share.
        Assert.Equal((17, TimeSpan.FromTicks(2_000_086)), (info.Cwnd, info.Rto));
    }

    [Fact]
    public async Task Transfer_OverLossyWire_DeliversEveryByte()
    {
        Assert.True(NetemParser.TryParse("loss 3%", out var loss, out var error), error);
        var (a, b) = await TwoHosts(new WireOptions("lossy", 7, TimeSpan.Zero) { NetemAToB = loss, NetemBToA = loss });
        var (c, s) = await Pair(a, b);
        var data = Bytes(512 * 1024, seed: 9);
        var read = StartRead(s, data.Length);
        RunUntilDone(StartSendAll(c, data), read);
        Assert.Equal(data, read.Data.ToArray());
        var st = await Stats(a.Host);
        Assert.Equal(13, Mib(st, "Tcp", "RetransSegs")); // a lossy wire forces retransmissions; seed 7 fixes how many
    }

    [Fact]
    public async Task ShutdownWr_PeerSeesEof_AndCanStillSendBack()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        Assert.Equal(Errno.OK, await Command(c, new ActorStack.Messages.Shutdown(ActorStack.Messages.Shutdown.Wr)));
        Assert.True(Assert.IsType<StreamData>(await Ask<object>(s, new StreamRecv())).Eof);
        var back = Bytes(5000, seed: 4);
        await SendAll(s, back);
        Assert.Equal(back, await ReadExactly(c, back.Length));
        Assert.Equal("FIN-WAIT-2", (await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance)).State);
        Assert.Equal(Errno.EPIPE, await SendErr(c, [1]));
    }

    [Fact]
    public async Task Close_WithUnreadData_SendsRst_PeerReadFailsEconnreset()
    {
        var (a, b) = await TwoHosts();
        var (c, s) = await Pair(a, b);
        await SendAll(c, [1, 2, 3]);
        await Until(async () => Assert.Equal(3, (await Ask<TcpSocketInfo>(s, GetSocketInfo.Instance)).RecvQueue));
        var blocked = Begin(c, new StreamRecv());
        Assert.Equal(Errno.OK, await Command(s, Close.Instance));
        Assert.Equal(Errno.ECONNRESET, (await Wait<CommandFailed>(blocked)).Error);
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
        var acc = await Ask<Accepted>(l, new Accept());
        Assert.Equal(Ip(address), acc.Peer);
        var data = Bytes(200_000, seed: 5);
        var read = StartRead(acc.Socket, data.Length);
        RunUntilDone(StartSendAll(c, data), read);
        Assert.Equal(data, read.Data.ToArray());
    }

    [Fact]
    public async Task ListenerClose_UnacceptedConnection_IsReset()
    {
        var (a, b) = await TwoHosts();
        var l = await Listener(b.Host, 7001);
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 7001)));
        await Until(async () => Assert.Equal(1, (await Ask<TcpSocketInfo>(l, GetSocketInfo.Instance)).RecvQueue));
        var blocked = Begin(c, new StreamRecv());
        Assert.Equal(Errno.OK, await Command(l, Close.Instance));
        Assert.Equal(Errno.ECONNRESET, (await Wait<CommandFailed>(blocked)).Error);
        // The port is free again: a new listener can take it.
        await Listener(b.Host, 7001);
    }
}
