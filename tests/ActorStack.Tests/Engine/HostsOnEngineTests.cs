using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Engine;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Engine;

/// <summary>
/// Whole hosts in a TestKit system on the engine, driven from the test: tells with a probe as sender and engine runs
/// instead of Asks (an Ask from the test completes only when the engine runs), exact virtual-time results.
/// </summary>
public class HostsOnEngineTests(Xunit.Abstractions.ITestOutputHelper output) : EngineKit("engine-hosts")
{
    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    private static HostSettings Host(string name, int mac, string addr, string peer, int peerMac) =>
        new(name, 1, new SysctlSettings(), [new DeviceSettings("eth0", Mac(mac), Addresses: [Ipv4Prefix.TryParse(addr, out var p) ? p : default])])
        {
            Neighbours = [new NeighbourSettings(Ipv4Address.Parse(peer), Mac(peerMac), "eth0")],
        };

    private async Task<(IActorRef A, IActorRef B, TestProbe Probe)> TwoHosts(TimeSpan wireDelay)
    {
        var probe = Probe();
        var a = Sys.ActorOf(HostActor.Props(Host("a", 1, "10.0.0.1/24", "10.0.0.2", 2), seed: 1), "a");
        var b = Sys.ActorOf(HostActor.Props(Host("b", 2, "10.0.0.2/24", "10.0.0.1", 1), seed: 1), "b");
        var da = (await AskNow<HostDevices>(probe, a, GetHostDevices.Instance)).Devices["eth0"];
        var db = (await AskNow<HostDevices>(probe, b, GetHostDevices.Instance)).Devices["eth0"];
        var w = Sys.ActorOf(WireActor.Props(da, db, new WireOptions("w", 1, wireDelay)), "wire");
        da.Tell(new AttachWire(w));
        db.Tell(new AttachWire(w));
        Engine.RunUntilIdle();
        return (a, b, probe);
    }

    [Fact]
    public async Task Ping_OverA250usWire_EveryRoundTripIsExactly500us_TimedOnTheVirtualClock()
    {
        var (a, _, probe) = await TwoHosts(Us(250));
        var start = Engine.Now;
        var ping = Sys.ActorOf(PingActor.Props(new PingSettings("a", Ipv4Address.Parse("10.0.0.2"), Count: 4), a, ActorRefs.Nobody, seed: 7), "ping");
        Engine.RunFor(TimeSpan.FromMilliseconds(2999)); // probes at 0, 1, 2, 3 s
        var mid = await AskNow<PingStatus>(probe, ping, GetWorkloadStatus.Instance);
        Assert.Equal((3L, 3L, false), (mid.Transmitted, mid.Received, mid.Done));
        Engine.RunFor(TimeSpan.FromSeconds(10));
        var st = await AskNow<PingStatus>(probe, ping, GetWorkloadStatus.Instance);
        output.WriteLine(string.Join("\n", st.Lines));
        Assert.Equal((4L, 4L, 0L), (st.Transmitted, st.Received, st.Errors));
        Assert.Equal((500L, 500L, 500L, 0L), (st.RttMinUs, st.RttAvgUs, st.RttMaxUs, st.RttMdevUs));
        Assert.True(st.Done);
        Assert.Equal(start + TimeSpan.FromMilliseconds(12999), Engine.Now);
        var stats = await AskNow<HostStats>(probe, a, GetStats.Instance);
        Assert.Equal(4, stats.Mib("Icmp")["InEchoReps"]);
    }

    [Fact]
    public async Task TellsFromAnotherThreadWhilePaused_RunInCallOrder()
    {
        var log = new List<string>();
        var rec = Sys.ActorOf(Props.Create(() => new Echo(log)), "rec");
        Engine.RunUntilIdle();
        await Task.Run(() =>
        {
            for (int i = 0; i < 100; i++) rec.Tell(i.ToString());
        });
        Assert.Empty(log); // queued, not run, although the engine's queue was touched from another thread
        Assert.Equal(1, Engine.Pending.Count);
        Engine.RunUntilIdle();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i.ToString()), log);
        Assert.Equal(0, Engine.NowNs);
    }

    [Fact]
    public async Task TwoSystems_TwoEngines_TerminateWhilePausedFinishes_ARealTimeSystemHasNone()
    {
        var other = ActorSystem.Create("other", StackConfig.AkkaConfig(SimEngine.Hocon));
        var e2 = SimEngine.For(other);
        Assert.NotSame(Engine, e2);
        e2.Pause();
        e2.RunFor(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromSeconds(5), e2.Now);
        Assert.Equal(TimeSpan.Zero, Engine.Now);
        Assert.False(e2.Inline);
        // Terminate on a paused engine: coordinated shutdown's first phase hands the engine back to inline mode.
        await other.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(e2.Inline);
        var real = ActorSystem.Create("real");
        Assert.Throws<InvalidOperationException>(() => SimEngine.For(real));
        await real.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo(List<string> log) => Receive<string>(log.Add);
    }
}
