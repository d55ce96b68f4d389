using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Actors.Workloads;
using ActorStack.Messages;
using ActorStack.Tests.EndToEnd;

namespace ActorStack.Tests.TcpWorkloads;

/// <summary>examples/tcp.hocon runs as documented: bulk and RR over a switch with 1% loss, a cable cut and restored mid-run, then a driver crash.</summary>
public class TcpExampleScenarioTests() : ExampleScenarioKit("example-tcp")
{
    [Fact]
    public async Task TcpExample_BulkAndRrThroughLossAndCut_CompleteWithIntegrity()
    {
        var settings = LoadExample("examples/tcp.hocon");
        Sys.EventStream.Subscribe(TestActor, typeof(FaultScheduleEvent));
        var apps = await StartExample(settings);
        Assert.Equal(4, apps.Length);

        TcpBulkClientStatus bulk = null!;
        TcpRrClientStatus rr = null!;
        await AwaitAssertAsync(async () =>
        {
            bulk = await apps[1].Ask<TcpBulkClientStatus>(GetWorkloadStatus.Instance, Timeout);
            rr = await apps[3].Ask<TcpRrClientStatus>(GetWorkloadStatus.Instance, Timeout);
            Assert.True(bulk.Done && rr.Done);
        }, Timeout, TimeSpan.FromMilliseconds(100));
        Assert.True(bulk.BytesSent > 0);
        Assert.Equal((bulk.BytesSent, true, 0), (bulk.BytesReceived, bulk.ChecksumsMatch, bulk.Errors));
        Assert.True(rr.Transactions > 0);
        Assert.Equal(0, rr.Errors);
        var server = await apps[0].Ask<TcpServerStatus>(GetWorkloadStatus.Instance, Timeout);
        Assert.Equal(bulk.BytesSent, server.BytesRead);
        // The three scheduled actions ran, each answered (cut, restore, then the driver crash: the bulk transfer outlives it).
        var faults = new List<string>();
        for (int i = 0; i < 6; i++) faults.Add((await ExpectMsgAsync<FaultScheduleEvent>(Timeout)).ToString());
        Assert.Equal(
        [
            "[fault +2s] cut wire h2/eth0-sw1/port2",
            "[fault +2s]   h2/eth0-sw1/port2: cable cut: carrier off at both ends",
            "[fault +2.5s] restore wire h2/eth0-sw1/port2",
            "[fault +2.5s]   h2/eth0-sw1/port2: cable restored: carrier on at both ends",
            "[fault +3.5s] crash driver h2/eth0",
            "[fault +3.5s]   h2: eth0: driver crashed, supervisor resets the device",
        ], faults);
    }
}
