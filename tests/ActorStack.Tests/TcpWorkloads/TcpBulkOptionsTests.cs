using System.Text.RegularExpressions;
using Akka.Actor;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Apps;

using ActorStack.Tests.Support;

namespace ActorStack.Tests.TcpWorkloads;

/// <summary>The bulk client's <c>congestion =</c> / <c>nodelay =</c> applied as socket options, and reverse mode's sender Retr.</summary>
public class TcpBulkOptionsTests() : AppsHarness("tcp-bulk-opts")
{
    private async Task<IActorRef> Ready(Props props)
    {
        var server = Sys.ActorOf(props);
        await RunUntilAsync(async () => (await Ask<TcpServerStatus>(server, GetWorkloadStatus.Instance)).Ready, what: "server ready");
        return server;
    }

    /// <summary>The client's one connection as ss lists it on host a, once established.</summary>
    private async Task<TcpSocketInfo> ClientSocket(IActorRef a)
    {
        TcpSocketInfo? found = null;
        await RunUntilAsync(async () =>
        {
            found = (await Outside(() => ActorStack.Cli.SsQuery.CollectTcp(a, Timeouts.Wall))).SingleOrDefault(i => i.State == "ESTAB" && i.RemotePort == 5201);
            return found is not null;
        }, what: "the client's connection established");
        return found!;
    }

    [Theory]
    [InlineData(TcpCongestion.Reno, "reno")]
    [InlineData(TcpCongestion.Cubic, "cubic")]
    public async Task BulkClient_Congestion_SocketReportsIt(TcpCongestion cc, string expected)
    {
        var (a, b) = await TwoHosts(delay: Us(50)); // time-based: on a cable that costs no time it would send for ever at one instant
        await Ready(TcpBulkServerActor.Props(new TcpBulkServerSettings("b", Ip("0.0.0.0"), 5201), b));
        // Time-based: the engine stops as soon as the connection is established, so it is up while ss looks at it.
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
        var took = await RunUntilAsync(async () => (await Ask<TcpBulkClientStatus>(client, GetWorkloadStatus.Instance)).Done, what: "client done");
        var lines = new List<string>();
        TcpBulkClientStatus st;
        while (true)
        {
            var m = await Expect<object>();
            if (m is WorkloadOutput o) lines.Add(o.Line);
            else if (m is TcpBulkClientStatus s) { st = s; break; }
        }
        // The 8-byte trailer is not payload: the byte count and the checksum are the payload's.
        Assert.Equal((300_000L, true), (st.BytesReceived, st.ChecksumsMatch));
        // The cable costs no time, so the whole transfer happens at one instant and no loss probe fires: the server
        // retransmitted nothing, and the client's sender line shows what the server counted.
        Assert.Equal((0L, TimeSpan.FromTicks(2_553)), (st.Retransmits, took)); // 300 kB at 10 Gbit/s plus CPU cost
        var sender = Assert.Single(lines, l => Regex.IsMatch(l, @"^\[  5\]   0\.00-\d+\.\d\d +sec   293 KBytes .* +\d+ +sender$"));
        Assert.Equal(st.Retransmits, long.Parse(Regex.Match(sender, @"(\d+) +sender$").Groups[1].Value));
        Assert.Single(lines, l => Regex.IsMatch(l, @"^\[  5\]   0\.00-\d+\.\d\d +sec   293 KBytes .* +receiver$"));
    }
}
