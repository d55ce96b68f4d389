using System.Text.RegularExpressions;
using Akka.Actor;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Apps;

namespace ActorStack.Tests.TcpWorkloads;

/// <summary>The bulk client's <c>congestion =</c> / <c>nodelay =</c> applied as socket options, and reverse mode's sender Retr.</summary>
public class TcpBulkOptionsTests() : AppsHarness("tcp-bulk-opts")
{
    private async Task<IActorRef> Ready(Props props)
    {
        var server = Sys.ActorOf(props);
        await AwaitAssertAsync(async () => Assert.True((await server.Ask<TcpServerStatus>(GetWorkloadStatus.Instance, Wait)).Ready),
            Wait, TimeSpan.FromMilliseconds(20));
        return server;
    }

    /// <summary>The client's one connection as ss lists it on host a, once established.</summary>
    private async Task<TcpSocketInfo> ClientSocket(IActorRef a)
    {
        TcpSocketInfo? found = null;
        await AwaitAssertAsync(async () =>
        {
            found = Assert.Single(await ActorStack.Cli.SsQuery.CollectTcp(a, Wait), i => i.State == "ESTAB" && i.RemotePort == 5201);
        }, Wait, TimeSpan.FromMilliseconds(10));
        return found!;
    }

    [Theory]
    [InlineData(TcpCongestion.Reno, "reno")]
    [InlineData(TcpCongestion.Cubic, "cubic")]
    public async Task BulkClient_Congestion_SocketReportsIt(TcpCongestion cc, string expected)
    {
        var (a, b) = await TwoHosts();
        await Ready(TcpBulkServerActor.Props(new TcpBulkServerSettings("b", Ip("0.0.0.0"), 5201), b));
        // Time-based: the virtual clock stands still, so the connection stays up while ss looks at it.
        Sys.ActorOf(TcpBulkClientActor.Props(new TcpBulkClientSettings("a", Ip("10.0.0.2"), 5201, Congestion: cc, NoDelay: true), a, TestActor));
        Assert.Equal(expected, (await ClientSocket(a)).CongestionControl);
    }

    [Fact]
    public async Task BulkClient_Reverse_SenderLineCarriesServersRetr()
    {
        var (a, b) = await TwoHosts();
        await Ready(TcpBulkServerActor.Props(new TcpBulkServerSettings("b", Ip("0.0.0.0"), 5201), b));
        var client = Sys.ActorOf(TcpBulkClientActor.Props(
            new TcpBulkClientSettings("a", Ip("10.0.0.2"), 5201, Bytes: 300_000, Reverse: true), a, TestActor));
        await AwaitAssertAsync(async () =>
        {
            Advance(TimeSpan.FromMilliseconds(50));
            Assert.True((await client.Ask<TcpBulkClientStatus>(GetWorkloadStatus.Instance, Wait)).Done);
        }, Wait, TimeSpan.FromMilliseconds(5));
        var lines = new List<string>();
        TcpBulkClientStatus st;
        while (true)
        {
            var m = await ExpectMsgAsync<object>(Wait);
            if (m is WorkloadOutput o) lines.Add(o.Line);
            else if (m is TcpBulkClientStatus s) { st = s; break; }
        }
        // The 8-byte trailer is not payload: the byte count and the checksum are the payload's.
        Assert.Equal((300_000L, true), (st.BytesReceived, st.ChecksumsMatch));
        // Virtual time jumps 50 ms per poll while data flows, so a loss probe may fire: whatever the server
        // retransmitted is what the client's sender line shows.
        var sender = Assert.Single(lines, l => Regex.IsMatch(l, @"^\[  5\]   0\.00-\d+\.\d\d +sec   293 KBytes .* +\d+ +sender$"));
        Assert.Equal(st.Retransmits, long.Parse(Regex.Match(sender, @"(\d+) +sender$").Groups[1].Value));
        Assert.Single(lines, l => Regex.IsMatch(l, @"^\[  5\]   0\.00-\d+\.\d\d +sec   293 KBytes .* +receiver$"));
    }
}
