using ActorStack.Messages;
using ActorStack.Testing;

namespace ActorStack.Tests.EndToEnd;

/// <summary>The README's routed example runs as documented: ping, traceroute and UDP echo across a switch and two routers.</summary>
public class ExampleScenarioTests
{
    [Fact]
    public void RoutedExample_PingTracerouteAndEcho_AllAnswered()
    {
        using var kit = StackKit.Start(ExampleScenarios.Load("examples/routed.hocon", "actorstack.scenario.capture.enabled = off"),
            new StackKitOptions { SystemName = "example-routed" });
        var statuses = new List<object>();
        kit.RunUntil(() =>
        {
            statuses = kit.Apps.Select(a => kit.Status<object>(a)).ToList();
            return statuses.OfType<PingStatus>().Single().Done && statuses.OfType<TracerouteStatus>().Single().Done
                   && statuses.OfType<UdpEchoClientStatus>().Single().Done;
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), "ping, traceroute and the echo client done");

        var ping = statuses.OfType<PingStatus>().Single();
        Assert.True(ping.Done);
        Assert.Equal(3, ping.Received);
        var trace = statuses.OfType<TracerouteStatus>().Single();
        Assert.True(trace.Done);
        Assert.True(trace.Reached);
        Assert.Equal(["10.0.1.1", "10.0.2.2", "10.0.3.10"],
            trace.Hops.Select(h => h.Probes.First(p => p.From is not null).From!.Value.ToString()).ToArray());
        var echo = statuses.OfType<UdpEchoClientStatus>().Single();
        Assert.True(echo.Done);
        // Every request was answered, on time: on virtual time the first one's ARP on three links takes no wall time.
        Assert.Equal((20, 0), (echo.Answered, echo.Late));
    }
}
