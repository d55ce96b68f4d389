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
        await AwaitAssertAsync(async () => Assert.True((await server.Ask<UdpEchoServerStatus>(GetWorkloadStatus.Instance, Wait)).Ready),
            Wait, TimeSpan.FromMilliseconds(20));
        return server;
    }

    [Fact]
    public async Task EchoClient_RequestResponse_AllAnsweredByteForByte()
    {
        var (a, b) = await TwoHosts();
        var server = await Server(b);
        var client = Sys.ActorOf(UdpEchoClientActor.Props(new UdpEchoClientSettings("a", Ip("10.0.0.2"), 7, Count: 5, Size: 200), a, TestActor));

        Assert.Equal("udp-echo 10.0.0.2:7: 5 sent, 5 answered, 0 lost, rtt min/avg/max/median = 0.000/0.000/0.000/0.000 ms",
            (await ExpectMsgAsync<WorkloadOutput>(Wait)).Line);
        var st = await ExpectMsgAsync<UdpEchoClientStatus>(Wait);
        Assert.Equal((5L, 5L, 0L, 0L, 0L, 0L), (st.Sent, st.Answered, st.Lost, st.Late, st.Mismatched, st.SendErrors));
        Assert.True(st.Done);
        var ss = await server.Ask<UdpEchoServerStatus>(GetWorkloadStatus.Instance, Wait);
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
            await AwaitAssertAsync(async () =>
                Assert.Equal(i, (await client.Ask<UdpEchoClientStatus>(GetWorkloadStatus.Instance, Wait)).Answered), Wait);
            if (i < 3) Advance(TimeSpan.FromMilliseconds(10));
        }
        await ExpectMsgAsync<WorkloadOutput>(Wait);
        var st = await ExpectMsgAsync<UdpEchoClientStatus>(Wait);
        Assert.Equal((3L, 3L, 0L), (st.Sent, st.Answered, st.Lost));
        Assert.Equal(0, st.RttMaxTicks);
    }

    [Fact]
    public async Task EchoClient_NoServer_NothingAnswered_EveryRequestLostOrRefused()
    {
        var (a, _) = await TwoHosts();
        var client = Sys.ActorOf(UdpEchoClientActor.Props(new UdpEchoClientSettings("a", Ip("10.0.0.2"), 7, Count: 3), a, TestActor));
        UdpEchoClientStatus st = null!;
        await AwaitAssertAsync(async () =>
        {
            Advance(TimeSpan.FromSeconds(1));
            st = await client.Ask<UdpEchoClientStatus>(GetWorkloadStatus.Instance, Wait);
            Assert.True(st.Done);
        }, Wait, TimeSpan.FromMilliseconds(20));
        Assert.Equal(0, st.Answered);
        Assert.Equal(3, st.Sent);
        // Lost after the timeout, or refused at the next send once an ICMP port unreachable came back (ECONNREFUSED).
        Assert.Equal(3, st.Lost + st.SendErrors);
    }
}
