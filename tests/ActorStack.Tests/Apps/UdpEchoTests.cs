using Akka.Actor;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Tests.Apps;

/// <summary>The UDP echo server and client on two whole hosts wired back to back.</summary>
public class UdpEchoTests() : AppsHarness("udp-echo")
{
    private async Task<IActorRef> Server(IActorRef host)
    {
        var server = Sys.ActorOf(UdpEchoServerActor.Props(new UdpEchoServerSettings("b", Ip("10.0.0.2"), 7), host));
        await RunUntilAsync(async () => (await Ask<UdpEchoServerStatus>(server, GetWorkloadStatus.Instance)).Ready, what: "echo server ready");
        return server;
    }

    [Fact]
    public async Task EchoClient_RequestResponse_AllAnsweredByteForByte()
    {
        var (a, b) = await TwoHosts();
        var server = await Server(b);
        var client = Sys.ActorOf(UdpEchoClientActor.Props(new UdpEchoClientSettings("a", Ip("10.0.0.2"), 7, Count: 5, Size: 200), a, TestActor));

        Assert.Equal("udp-echo 10.0.0.2:7: 5 sent, 5 answered, 0 lost, rtt min/avg/max/median = 0.000/0.000/0.001/0.000 ms",
            (await ExpectSoon<WorkloadOutput>()).Line);
        var st = await Expect<UdpEchoClientStatus>();
        Assert.Equal((5L, 5L, 0L, 0L, 0L, 0L), (st.Sent, st.Answered, st.Lost, st.Late, st.Mismatched, st.SendErrors));
        Assert.True(st.Done);
        var ss = await Ask<UdpEchoServerStatus>(server, GetWorkloadStatus.Instance);
        Assert.Equal((5L, 1000L, 5L, 0L), (ss.Datagrams, ss.Bytes, ss.Echoed, ss.SendErrors));
    }

    [Fact]
    public async Task EchoClient_Interval_OneRequestPerTick_RttFromVirtualClock()
    {
        var (a, b) = await TwoHosts();
        await Server(b);
        var client = Sys.ActorOf(UdpEchoClientActor.Props(new UdpEchoClientSettings("a", Ip("10.0.0.2"), 7, Count: 3, Size: 64,
            Interval: TimeSpan.FromMilliseconds(10)), a, TestActor));
        for (int i = 1; i <= 3; i++)
        {
            // The i-th echo is back after its wire time and CPU cost, well within the interval.
            int want = i;
            await RunUntilAsync(async () => (await Ask<UdpEchoClientStatus>(client, GetWorkloadStatus.Instance)).Answered == want, TimeSpan.FromMilliseconds(1));
            if (i < 3) Advance(TimeSpan.FromMilliseconds(10));
        }
        await ExpectSoon<WorkloadOutput>();
        var st = await Expect<UdpEchoClientStatus>();
        Assert.Equal((3L, 3L, 0L), (st.Sent, st.Answered, st.Lost));
        Assert.Equal(2, st.RttMaxTicks); // 100 ns ticks: wire time and CPU cost of the echo
    }

    [Fact]
    public async Task EchoClient_NoServer_NothingAnswered_EveryRequestLostOrRefused()
    {
        var (a, _) = await TwoHosts();
        var client = Sys.ActorOf(UdpEchoClientActor.Props(new UdpEchoClientSettings("a", Ip("10.0.0.2"), 7, Count: 3), a, TestActor));
        UdpEchoClientStatus st = null!;
        var took = await RunUntilAsync(async () => (st = await Ask<UdpEchoClientStatus>(client, GetWorkloadStatus.Instance)).Done, what: "client done");
        Assert.Equal(0, st.Answered);
        Assert.Equal(3, st.Sent);
        // Lost after the timeout, or refused at the next send once an ICMP port unreachable came back (ECONNREFUSED).
        Assert.Equal((2L, 1L, TimeSpan.FromSeconds(2)), (st.Lost, st.SendErrors, took));
    }
}
