using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Tests.Transmit;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// tcp_v4_err through the actors: a router's ICMP errors reach the connecting socket (icmp_err_convert errnos for
/// SYN_SENT), and a fragmentation-needed lowers the MSS of a running transfer (tcp_v4_mtu_reduced).
/// Topology: a (10.0.1.1) — r1 — (10.0.2.0/24, MTU <c>midMtu</c>) — r2 — b (10.0.3.1).
/// </summary>
public class TcpIcmpErrorTests() : TwoRouterKit("tcp-icmp")
{
    /// <summary>The two-router net, r1 with an unreachable route to 10.0.8.0/24 (its ICMP host unreachable).</summary>
    private Task<Net> Build(int midMtu = 1500) => BuildTwoRouters(midMtu, [Route("10.0.8.0/24", type: "unreachable")]);

    private async Task<IActorRef> TcpSocket(IActorRef host)
        => (await host.Ask<SocketCreated>(new SocketCreate(SockType.Stream), Timeout)).Socket;

    [Theory]
    [InlineData("10.0.9.1", Errno.ENETUNREACH)]  // r1 has no route: ICMP net unreachable
    [InlineData("10.0.8.1", Errno.EHOSTUNREACH)] // an unreachable route: ICMP host unreachable
    public async Task Connect_RouterAnswersUnreachable_ConnectFailsWithIcmpErrno(string dst, Errno expected)
    {
        var n = await Build();
        var c = await TcpSocket(n.A.Host);
        var r = await c.Ask<object>(new StreamConnect(Ip(dst), 80), Timeout);
        Assert.Equal(expected, Assert.IsType<CommandFailed>(r).Error);
        Assert.Equal("UNCONN", (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).State);
        var st = await Stats(n.A.Host);
        Assert.Equal(1, Mib(st, "Tcp", "AttemptFails"));
        Assert.Equal(0, Mib(st, "Tcp", "RetransSegs")); // failed at the first ICMP, not after retries
        Assert.Equal(0, Mib(st, "TcpExt", "OutOfWindowIcmps"));
    }

    [Fact]
    public async Task Transfer_PathMtu1200_FragNeededLowersMss_TransferCompletes()
    {
        var n = await Build(midMtu: 1200);
        var l = await TcpSocket(n.B.Host);
        Assert.Equal(Errno.OK, await Command(l, new Bind(Ip("0.0.0.0"), 5001)));
        Assert.Equal(Errno.OK, await Command(l, new Listen(4)));
        var c = await TcpSocket(n.A.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.3.1"), 5001)));
        var s = (await l.Ask<Accepted>(new Accept(), Timeout)).Socket;
        Assert.Equal(1448, (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).Mss);

        var data = Bytes(200_000, seed: 3);
        var send = c.Ask<object>(new SendTo(data), Timeout);
        var got = new MemoryStream();
        while (got.Length < data.Length)
        {
            var d = Assert.IsType<StreamData>(await s.Ask<object>(new StreamRecv(), Timeout));
            Assert.False(d.Eof);
            got.Write(d.Data.Span);
        }
        Assert.Equal(data.Length, Assert.IsType<Sent>(await send).Bytes);
        Assert.Equal(data, got.ToArray());
        Assert.Equal(1148, (await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout)).Mss); // 1200 - 40 - 12 (timestamps)
        var st = await Stats(n.A.Host);
        Assert.True(Mib(st, "Tcp", "RetransSegs") > 0);
        Assert.Equal(0, Mib(st, "TcpExt", "TCPTimeouts")); // retransmitted on the ICMP, not after an RTO
    }
}
