using ActorStack.Messages;
using ActorStack.Testing;

namespace ActorStack.Tests.TestKitTests;

/// <summary>
/// The kit with Akka.TestKit: a scenario started in the TestKit's own system (<see cref="StackTestKit.StartScenario"/>),
/// probes as actors (a TestProbe as a <c>ptype_all</c> tap and an <c>ip monitor link</c> subscriber), and a start whose
/// servers must be bound before the clients run (answered on virtual time by running the engine).
/// </summary>
public class StackTestKitTests() : StackTestKit("stack-testkit")
{
    private static Scenario Echo() => Scenario.Build().Seed(3)
        .Host("a", h => h.Device("eth0", "10.0.0.1/24"))
        .Host("b", h => h.Device("eth0", "10.0.0.2/24"))
        .Wire("a/eth0", "b/eth0", w => w.Delay(TimeSpan.FromMilliseconds(1)))
        .UdpEchoServer("b", "0.0.0.0:7")
        .Workload("udp-echo-client", "a", ("server", "10.0.0.2:7"), ("count", 3), ("size", 32), ("interval", TimeSpan.FromMilliseconds(10)))
        .Build();

    [Fact]
    public async Task Scenario_with_servers_starts_on_virtual_time_and_TestProbes_see_frames_and_link_events()
    {
        var kit = StartScenario(Echo());
        // The SimulationActor asks the echo server every 1 ms of simulated time until it is bound: the start took 1 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(1), kit.StartedAt);
        var tap = Probe();
        kit.Host("b").AddPacketTap(tap.Ref, "eth0");
        await tap.ExpectMsgAsync<PackChanged>(TimeSpan.Zero);
        var monitor = Probe();
        kit.Host("a").Ref.Tell(new SubscribeLinkMonitor(monitor.Ref), monitor.Ref);
        Assert.IsType<LinkMonitorSubscribed>(await Expect<object>(monitor));

        var batch = await ExpectSoon<SkbBatch>(tap, TimeSpan.FromMilliseconds(50));
        // The skb's timestamp is its DMA into the ring, rx-usecs (3 µs) before the interrupt's poll hands it to the tap.
        Assert.Equal(kit.Engine.Epoch + kit.Now - TimeSpan.FromMicroseconds(3), new DateTimeOffset(batch.Items[0].TstampTicks, TimeSpan.Zero));

        kit.Wire(0).Cut();
        var down = await ExpectSoon<RtnlLinkEvent>(monitor, TimeSpan.FromSeconds(2));
        Assert.Equal(("a", "eth0", false, "DOWN"), (down.Host, down.Device, down.Carrier, down.OperState));

        var status = kit.Status<UdpEchoClientStatus>(kit.Apps[1]);
        Assert.Equal(3, status.Sent);
    }
}
