using ActorStack.Messages;
using ActorStack.Testing;
using ActorStack.Tests.EndToEnd;

namespace ActorStack.Tests.TcpWorkloads;

/// <summary>examples/tcp.hocon runs as documented: bulk and RR over a switch with 1% loss, a cable cut and restored mid-run, then a driver crash.</summary>
public class TcpExampleScenarioTests
{
    [Fact]
    public void TcpExample_BulkAndRrThroughLossAndCut_CompleteWithIntegrity()
    {
        using var kit = StackKit.Start(ExampleScenarios.Load("examples/tcp.hocon"), new StackKitOptions { SystemName = "example-tcp" });
        var faultProbe = kit.Faults();
        var apps = kit.Apps;
        Assert.Equal(4, apps.Length);

        TcpBulkClientStatus bulk = null!;
        TcpRrClientStatus rr = null!;
        kit.RunUntil(() =>
        {
            bulk = kit.Status<TcpBulkClientStatus>(apps[1]);
            rr = kit.Status<TcpRrClientStatus>(apps[3]);
            return bulk.Done && rr.Done;
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), "the bulk and RR clients done");
        Assert.True(bulk.BytesSent > 0);
        Assert.Equal((bulk.BytesSent, true, 0), (bulk.BytesReceived, bulk.ChecksumsMatch, bulk.Errors));
        Assert.True(rr.Transactions > 0);
        Assert.Equal(0, rr.Errors);
        var server = kit.Status<TcpServerStatus>(apps[0]);
        Assert.Equal(bulk.BytesSent, server.BytesRead);
        // The three scheduled actions ran, each answered (cut, restore, then the driver crash: the bulk transfer outlives it).
        Assert.Equal(
        [
            "[fault +2s] cut wire h2/eth0-sw1/port2",
            "[fault +2s]   h2/eth0-sw1/port2: cable cut: carrier off at both ends",
            "[fault +2.5s] restore wire h2/eth0-sw1/port2",
            "[fault +2.5s]   h2/eth0-sw1/port2: cable restored: carrier on at both ends",
            "[fault +3.5s] crash driver h2/eth0",
            "[fault +3.5s]   h2: eth0: driver crashed, supervisor resets the device",
        ], faultProbe.Lines);
    }
}
