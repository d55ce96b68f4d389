using Akka.Actor;
using ActorStack.Messages;

namespace ActorStack.Tests.EndToEnd;

/// <summary>The README's routed example runs as documented: ping, traceroute and UDP echo across a switch and two routers.</summary>
public class ExampleScenarioTests() : ExampleScenarioKit("example-routed")
{
    [Fact]
    public async Task RoutedExample_PingTracerouteAndEcho_AllAnswered()
    {
        var settings = LoadExample("examples/routed.hocon");
        settings = settings with { Capture = settings.Capture with { Enabled = false } };
        var apps = await StartExample(settings);

        await AwaitAssertAsync(async () =>
        {
            var statuses = new List<object>();
            foreach (var app in apps) statuses.Add(await app.Ask<object>(GetWorkloadStatus.Instance, Timeout));
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
            // Every request was answered; on a loaded machine the first (ARP on three links, cold code) may come
            // after the client's timeout, which it then counts as late rather than answered.
            Assert.Equal(20, echo.Answered + echo.Late);
        }, Timeout, TimeSpan.FromMilliseconds(100));
    }
}
