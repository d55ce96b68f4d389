using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Config;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// tcp_v4_err through the actors: a router's ICMP errors reach the connecting socket (icmp_err_convert errnos for
/// SYN_SENT), and a fragmentation-needed lowers the MSS of a running transfer (tcp_v4_mtu_reduced).
/// Topology: a (10.0.1.1) — r1 — (10.0.2.0/24, MTU <c>midMtu</c>) — r2 — b (10.0.3.1).
/// </summary>
public class TcpIcmpErrorTests() : NetOnEngineKit("tcp-icmp")
{
    /// <summary>The two-router net, r1 with an unreachable route to 10.0.8.0/24 (its ICMP host unreachable).</summary>
    private Task<Net> Build(int midMtu = 1500) => BuildTwoRouters(midMtu, [Route("10.0.8.0/24", type: "unreachable")]);

    [Theory]
    [InlineData("10.0.9.1", Errno.ENETUNREACH)]  // r1 has no route: ICMP net unreachable
    [InlineData("10.0.8.1", Errno.EHOSTUNREACH)] // an unreachable route: ICMP host unreachable
    public async Task Connect_RouterAnswersUnreachable_ConnectFailsWithIcmpErrno(string dst, Errno expected)
    {
        var n = await Build();
        var c = await TcpSocket(n.A.Host);
        var r = await Ask<object>(c, new StreamConnect(Ip(dst), 80));
        Assert.Equal(expected, Assert.IsType<CommandFailed>(r).Error);
        Assert.Equal("UNCONN", (await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance)).State);
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
        var s = (await Ask<Accepted>(l, new Accept())).Socket;
        Assert.Equal(1448, (await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance)).Mss);

        var data = Bytes(200_000, seed: 3);
        var send = StartSendAll(c, data, chunk: data.Length); // one blocking send of it all
        var got = StartRead(s, data.Length);
        RunUntilDone(send, got);
        Assert.Equal(data.Length, send.Bytes);
        Assert.Equal(data, got.Data.ToArray());
        Assert.Equal(1148, (await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance)).Mss); // 1200 - 40 - 12 (timestamps)
        var st = await Stats(n.A.Host);
        Assert.Equal(20, Mib(st, "Tcp", "RetransSegs")); // exact on the engine (no loss, no seed: the ICMP decides)
        Assert.Equal(0, Mib(st, "TcpExt", "TCPTimeouts")); // retransmitted on the ICMP, not after an RTO
    }
}
