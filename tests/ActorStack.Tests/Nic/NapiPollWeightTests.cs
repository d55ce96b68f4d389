using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Nic;

/// <summary>
/// The driver's NAPI poll against its weight on virtual time (<c>igb_poll</c> → <c>igb_clean_rx_irq</c>): a poll takes
/// at most <c>weight</c> frames off the ring, and only a poll that did less than its weight completes
/// (<c>napi_complete_done</c>); one that used all of it stays scheduled for <c>net_rx_action</c>'s repoll. A TestProbe
/// plays the CPU's softnet and sends the polls.
/// </summary>
public class NapiPollWeightTests() : EngineKit("napi-weight")
{
    private static readonly MacAddress Mac = MacAddress.Parse("02:00:00:00:00:02");

    private (IActorRef Nic, NetNamespace Ns) Start(string name, Akka.TestKit.TestProbe softnet)
    {
        var ns = new NetNamespace(new HostSettings(name, 1, new SysctlSettings(), [new DeviceSettings("eth0", Mac, RxRing: 512)]), seed: 1);
        var nic = Sys.ActorOf(NicActor.Props(ns, ns.Device("eth0")!, HostRefs.None with { Softnet = [softnet.Ref] }), name);
        Engine.RunUntilIdle();
        return (nic, ns);
    }

    private static WireFrames Frames(int n) => new(Enumerable.Range(0, n)
        .Select(i => (ReadOnlyMemory<byte>)FrameBuilder.Udp(Mac, MacAddress.Parse("02:00:00:00:00:01"), Ipv4Address.Parse("10.0.0.1"),
            Ipv4Address.Parse("10.0.0.2"), 5000, 9000, [(byte)i], (ushort)i))
        .ToImmutableArray());

    private async Task<NapiPollResult> Poll(IActorRef nic, Akka.TestKit.TestProbe softnet, int weight)
    {
        nic.Tell(new NapiPoll(0, weight, 0), softnet.Ref);
        Engine.RunUntilIdle();
        return await softnet.ExpectMsgAsync<NapiPollResult>();
    }

    [Theory]
    [InlineData(63, new[] { 63 }, new[] { true })]
    [InlineData(64, new[] { 64, 0 }, new[] { false, true })]
    [InlineData(65, new[] { 64, 1 }, new[] { false, true })]
    [InlineData(200, new[] { 64, 64, 64, 8 }, new[] { false, false, false, true })]
    public async Task Poll_TakesAtMostWeight_CompletesOnlyBelowIt(int frames, int[] works, bool[] completed)
    {
        var softnet = Probe();
        var (nic, ns) = Start($"w{frames}", softnet);
        nic.Tell(Frames(frames), ActorRefs.NoSender);
        Engine.RunUntilIdle();
        await softnet.ExpectMsgAsync<NapiSchedule>();
        for (int i = 0; i < works.Length; i++)
        {
            var r = await Poll(nic, softnet, 64);
            Assert.Equal((works[i], works[i], completed[i]), (r.Skbs.Length, r.WorkDone, r.Completed));
        }
        await softnet.ExpectNoMsgAsync(TimeSpan.Zero); // completed with the ring empty: no new interrupt
        Assert.Equal(frames, ns.Device("eth0")!.Stats.Snapshot().RxPackets);
    }

    [Fact]
    public async Task Poll_WeightIsTheSoftnetsNotTheDrivers_SmallerWeightTakesFewer()
    {
        var softnet = Probe();
        var (nic, _) = Start("w-small", softnet);
        nic.Tell(Frames(10), ActorRefs.NoSender);
        Engine.RunUntilIdle();
        await softnet.ExpectMsgAsync<NapiSchedule>();
        var r = await Poll(nic, softnet, 4);
        Assert.Equal((4, false), (r.Skbs.Length, r.Completed));
        r = await Poll(nic, softnet, 6);
        Assert.Equal((6, false), (r.Skbs.Length, r.Completed)); // exactly the weight: not complete
        r = await Poll(nic, softnet, 6);
        Assert.Equal((0, true), (r.Skbs.Length, r.Completed));
    }
}
