using System.Text.RegularExpressions;
using Akka.Actor;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Apps;

namespace ActorStack.Tests.TcpWorkloads;

/// <summary>The bulk and RR workloads between two whole hosts on one cable, on virtual time (the clock moves only when the test advances it).</summary>
public partial class TcpWorkloadActorTests() : AppsHarness("tcp-workloads")
{
    [GeneratedRegex(@"^\[  5\] +\d+\.\d\d-\d+\.\d\d +sec +\d+(\.\d+)? [KMGT]?Bytes +\d+(\.\d+)? [KMGT]?bits/sec +\d+ +\d+(\.\d+)? [KMGT]?Bytes$")]
    private static partial Regex SenderInterval();

    private async Task<IActorRef> Ready(Props props)
    {
        var server = Sys.ActorOf(props);
        await RunUntilAsync(async () => (await Ask<TcpServerStatus>(server, GetWorkloadStatus.Instance)).Ready, what: "server ready");
        return server;
    }

    /// <summary>Runs the engine (event by event, the clock moving to each) until <paramref name="client"/> is done (timers: delayed ACKs, intervals, the end of the test).</summary>
    private async Task<TimeSpan> RunUntilDone<T>(IActorRef client, Func<T, bool> done)
        => await RunUntilAsync(async () => done(await Ask<T>(client, GetWorkloadStatus.Instance)), what: $"{client.Path.Name} done");

    /// <summary>The output lines told to the test actor up to the final status.</summary>
    private async Task<(List<string> Lines, T Status)> OutputUntil<T>()
    {
        var lines = new List<string>();
        while (true)
        {
            var m = await ExpectSoon<object>();
            if (m is WorkloadOutput o) lines.Add(o.Line);
            else if (m is T st) return (lines, st);
        }
    }

    [Fact]
    public async Task BulkClient_OneMiB_ByteCountsMatchAndIperfLines()
    {
        var (a, b) = await TwoHosts();
        var server = await Ready(TcpBulkServerActor.Props(new TcpBulkServerSettings("b", Ip("0.0.0.0"), 5201), b));
        var client = Sys.ActorOf(TcpBulkClientActor.Props(new TcpBulkClientSettings("a", Ip("10.0.0.2"), 5201, Bytes: 1 << 20), a, TestActor));
        await RunUntilDone<TcpBulkClientStatus>(client, s => s.Done);
        var (lines, st) = await OutputUntil<TcpBulkClientStatus>();

        Assert.Equal((1, 1L << 20, 1L << 20, true, 0), (st.Streams, st.BytesSent, st.BytesReceived, st.ChecksumsMatch, st.Errors));
        Assert.Equal("Connecting to host 10.0.0.2, port 5201", lines[0]);
        Assert.Matches(@"^\[  5\] local 10\.0\.0\.1 port \d+ connected to 10\.0\.0\.2 port 5201$", lines[1]);
        Assert.Equal(IperfFormat.IntervalHeaderSender, lines[2]);
        int sep = lines.IndexOf(IperfFormat.Separator);
        Assert.True(sep > 3, string.Join('\n', lines));
        foreach (var l in lines[3..sep]) Assert.Matches(SenderInterval(), l);
        Assert.Equal(IperfFormat.SummaryHeader, lines[sep + 1]);
        Assert.Matches(@"^\[  5\]   0\.00-\d+\.\d\d +sec  1\.00 MBytes +\d+(\.\d+)? [KMG]?bits/sec +\d+             sender$", lines[sep + 2]);
        Assert.Matches(@"^\[  5\]   0\.00-\d+\.\d\d +sec  1\.00 MBytes +\d+(\.\d+)? [KMG]?bits/sec                  receiver$", lines[sep + 3]);
        Assert.Matches(@"^\[  5\] sha256 sent [0-9a-f]{64} received [0-9a-f]{64}: match$", lines[sep + 4]);
        Assert.Equal("iperf Done.", lines[^1]);
        var ss = await Ask<TcpServerStatus>(server, GetWorkloadStatus.Instance);
        Assert.Equal((1L, 1L << 20, 0L), (ss.Accepted, ss.BytesRead, ss.Errors));
    }

    [Fact]
    public async Task BulkClient_TimeMode_IntervalLinesPerSecond_SenderTotalEqualsReceiver()
    {
        // Time-based: 5 ms each way and a
        // 200 ms test with 100 ms intervals keep the window's growth, and so the run's events, small.
        var (a, b) = await TwoHosts(delay: TimeSpan.FromMilliseconds(5));
        await Ready(TcpBulkServerActor.Props(new TcpBulkServerSettings("b", Ip("0.0.0.0"), 5201), b));
        var client = Sys.ActorOf(TcpBulkClientActor.Props(
            new TcpBulkClientSettings("a", Ip("10.0.0.2"), 5201, Time: TimeSpan.FromMilliseconds(200), Interval: TimeSpan.FromMilliseconds(100)), a, TestActor));
        var took = await RunUntilDone<TcpBulkClientStatus>(client, s => s.Done);
        var (lines, st) = await OutputUntil<TcpBulkClientStatus>();

        // 200 ms of sending after the handshake, then the close; frames take their wire time and the hosts their CPU cost.
        Assert.Equal((53_739_520L, TimeSpan.FromTicks(2_202_212)), (st.BytesSent, took));
        Assert.Equal(st.BytesSent, st.BytesReceived);
        Assert.True(st.ChecksumsMatch);
        var intervals = lines.Where(l => SenderInterval().IsMatch(l)).ToList();
        Assert.StartsWith("[  5]   0.00-0.10   sec  11.0 MBytes", intervals[0]);
        Assert.StartsWith("[  5]   0.10-0.20   sec  40.0 MBytes", intervals[1]);
    }

    [Fact]
    public async Task BulkClient_Reverse_ServerSendsTheBytes_ClientReadsAll()
    {
        var (a, b) = await TwoHosts();
        var server = await Ready(TcpBulkServerActor.Props(new TcpBulkServerSettings("b", Ip("0.0.0.0"), 5201), b));
        var client = Sys.ActorOf(TcpBulkClientActor.Props(
            new TcpBulkClientSettings("a", Ip("10.0.0.2"), 5201, Bytes: 300_000, Reverse: true), a, TestActor));
        await RunUntilDone<TcpBulkClientStatus>(client, s => s.Done);
        var (lines, st) = await OutputUntil<TcpBulkClientStatus>();
        Assert.Equal((0L, 300_000L, true, 0), (st.BytesSent, st.BytesReceived, st.ChecksumsMatch, st.Errors));
        Assert.Equal(IperfFormat.IntervalHeaderReceiver, lines[3]);
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^\[  5\] sha256 received [0-9a-f]{64}$"));
        Assert.Equal(300_000, (await Ask<TcpServerStatus>(server, GetWorkloadStatus.Instance)).BytesSent);
    }

    [Fact]
    public async Task BulkClient_TwoParallelStreams_EachCountsItsBytes_SumLines()
    {
        var (a, b) = await TwoHosts();
        var server = await Ready(TcpBulkServerActor.Props(new TcpBulkServerSettings("b", Ip("0.0.0.0"), 5201), b));
        var client = Sys.ActorOf(TcpBulkClientActor.Props(
            new TcpBulkClientSettings("a", Ip("10.0.0.2"), 5201, Bytes: 200_000, Parallel: 2), a, TestActor));
        await RunUntilDone<TcpBulkClientStatus>(client, s => s.Done);
        var (lines, st) = await OutputUntil<TcpBulkClientStatus>();
        Assert.Equal((2, 400_000L, 400_000L, true, 0), (st.Streams, st.BytesSent, st.BytesReceived, st.ChecksumsMatch, st.Errors));
        Assert.Single(lines, l => l.StartsWith("[  5] local 10.0.0.1 port "));
        Assert.Single(lines, l => l.StartsWith("[  6] local 10.0.0.1 port "));
        Assert.Single(lines, l => Regex.IsMatch(l, @"^\[SUM\]   0\.00-\d+\.\d\d +sec   391 KBytes .* sender$"));
        Assert.Single(lines, l => Regex.IsMatch(l, @"^\[SUM\]   0\.00-\d+\.\d\d +sec   391 KBytes .* receiver$"));
        Assert.Equal(2, lines.Count(l => l.EndsWith(": match")));
        var ss = await Ask<TcpServerStatus>(server, GetWorkloadStatus.Instance);
        Assert.Equal((2L, 400_000L), (ss.Accepted, ss.BytesRead));
    }

    [Fact]
    public async Task BulkClient_NoServer_ConnectionRefusedPrinted()
    {
        var (a, _) = await TwoHosts();
        var client = Sys.ActorOf(TcpBulkClientActor.Props(new TcpBulkClientSettings("a", Ip("10.0.0.2"), 5299, Bytes: 1000), a, TestActor));
        var (lines, st) = await OutputUntil<TcpBulkClientStatus>();
        Assert.Equal("iperf3: error - unable to connect to server: Connection refused", lines[1]);
        Assert.Equal((1, true, 0L), (st.Errors, st.Done, st.BytesSent));
    }

    [Fact]
    public async Task RrClient_CountTransactions_AllAnsweredOnTwoConnections()
    {
        var (a, b) = await TwoHosts();
        var server = await Ready(TcpRrServerActor.Props(new TcpRrServerSettings("b", Ip("0.0.0.0"), 5202), b));
        var client = Sys.ActorOf(TcpRrClientActor.Props(new TcpRrClientSettings("a", Ip("10.0.0.2"), 5202, Count: 200, Connections: 2), a, TestActor));
        await RunUntilDone<TcpRrClientStatus>(client, s => s.Done);
        var (lines, st) = await OutputUntil<TcpRrClientStatus>();
        Assert.Equal((200L, 0, 2), (st.Transactions, st.Errors, st.Connections));
        Assert.Equal("bytes  Bytes  bytes    bytes   secs.    per sec", lines[4]);
        Assert.StartsWith("200 transactions on 2 connection(s), latency us min/avg/p50/p99/max = ", lines[^1]);
        var ss = await Ask<TcpServerStatus>(server, GetWorkloadStatus.Instance);
        Assert.Equal((2L, 200L, 200L), (ss.Accepted, ss.Transactions, ss.BytesRead));
    }

    [Fact]
    public async Task RrClient_TimeMode_StopsAtTheTimer()
    {
        var (a, b) = await TwoHosts(delay: TimeSpan.FromMilliseconds(1)); // time-based, as above: one transaction per 2 ms round trip
        await Ready(TcpRrServerActor.Props(new TcpRrServerSettings("b", Ip("0.0.0.0"), 5202, Request: 10, Response: 100), b));
        var client = Sys.ActorOf(TcpRrClientActor.Props(new TcpRrClientSettings("a", Ip("10.0.0.2"), 5202, Request: 10, Response: 100,
            Time: TimeSpan.FromSeconds(1)), a, TestActor));
        var took = await RunUntilDone<TcpRrClientStatus>(client, s => s.Done);
        var (_, st) = await OutputUntil<TcpRrClientStatus>();
        Assert.True(st.Done);
        // 500 round trips of 2 ms in the one second; done 2 ms later, when the last one's answer is in.
        Assert.Equal((500L, TimeSpan.FromTicks(10_021_163)), (st.Transactions, took)); // 1 ms wires, plus wire time and CPU cost per transaction
        Assert.Equal(499.942, st.PerSecond, 3); // 500 in the test's 1 s plus the last transaction's wire time and CPU cost
    }
}
