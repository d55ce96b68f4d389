using Akka.Actor;
using System.Collections.Immutable;
using ActorStack.Actors.Workloads;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Apps;

using ActorStack.Tests.Support;

namespace ActorStack.Tests.TcpWorkloads;

/// <summary>The <c>ss -tanmi</c> listing: its format, and the host's TCP sockets collected from a live pair.</summary>
public class SsTcpTests() : AppsHarness("ss-tcp")
{
    [Fact]
    public void Format_ListenerAndConnection_AsSsTanmi()
    {
        var listen = new TcpSocketInfo("LISTEN", Ipv4Address.Any, 5201, Ipv4Address.Any, 0, 0, 128);
        var estab = new TcpSocketInfo("ESTAB", Ip("10.0.0.2"), 5201, Ip("10.0.0.1"), 40000, 10, 2896)
        {
            CongestionControl = "cubic", Cwnd = 10, SsThresh = 7, Mss = 1448, Rtt = TimeSpan.FromTicks(5_000), RttVar = TimeSpan.FromTicks(2_500),
            Rto = TimeSpan.FromMilliseconds(204), Unacked = 2, Retrans = 3, SndWscale = 7, RcvWscale = 9, Sack = true, Timestamps = true,
            BytesAcked = 1001, BytesReceived = 20,
        };
        var buffers = ImmutableArray.Create(new SocketInfo(SockType.Stream, 6, Ip("10.0.0.2"), 5201, Ip("10.0.0.1"), 40000, 0, 0, 131072, 0, 0, 0)
            { SndBuf = 16384 });
        Assert.Equal(
            "State       Recv-Q  Send-Q   Local Address:Port     Peer Address:Port\n" +
            "LISTEN           0     128   0.0.0.0:5201           0.0.0.0:*\n" +
            "ESTAB           10    2896   10.0.0.2:5201          10.0.0.1:40000\n" +
            "\t skmem:(r10,rb131072,t2896,tb16384)\n" +
            "\t ts sack cubic wscale:7,9 rto:204 rtt:0.5/0.25 mss:1448 cwnd:10 ssthresh:7 bytes_acked:1001 bytes_received:20 unacked:2 retrans:0/3\n",
            SsTcp.Format([listen, estab], buffers).Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task Collect_LivePair_ListsListenerAndBothEnds()
    {
        var (a, b) = await TwoHosts();
        var l = (await Ask<SocketCreated>(b, new SocketCreate(SockType.Stream))).Socket;
        Assert.IsType<SocketOk>(await Ask<object>(l, new Bind(Ip("0.0.0.0"), 6000)));
        Assert.IsType<SocketOk>(await Ask<object>(l, new Listen(8)));
        var c = (await Ask<SocketCreated>(a, new SocketCreate(SockType.Stream))).Socket;
        Assert.IsType<SocketOk>(await Ask<object>(c, new StreamConnect(Ip("10.0.0.2"), 6000)));
        await Ask<Accepted>(l, new Accept());

        var onB = await Outside(() => ActorStack.Cli.SsQuery.CollectTcp(b, Timeouts.Wall));
        Assert.Equal(["LISTEN:6000", "ESTAB:6000"], onB.Select(i => $"{i.State}:{i.LocalPort}").ToArray());
        var onA = Assert.Single(await Outside(() => ActorStack.Cli.SsQuery.CollectTcp(a, Timeouts.Wall)));
        Assert.Equal(("ESTAB", 6000, 1L), (onA.State, (int)onA.RemotePort, onA.BytesAcked));
        var text = SsTcp.Format([onA]);
        Assert.Contains($"10.0.0.1:{onA.LocalPort}", text);
        Assert.Contains("bytes_acked:1 bytes_received:0", text);
    }
}
