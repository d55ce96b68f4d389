using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;
using ActorStack.Hardware.Nic;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Nic;

/// <summary>
/// RX interrupt moderation (<c>ethtool -C DEV rx-usecs N rx-frames M</c>) on the engine, exact to the ns: the queue's
/// interrupt comes rx-usecs after the first frame since the last one, one NAPI poll takes the window's frames, the
/// driver keeps the interrupt masked while NAPI is scheduled and re-enables it at <c>napi_complete_done</c>. A TestProbe
/// plays the CPU's softnet: it sees the <see cref="NapiSchedule"/>s (one per hard IRQ) and sends the polls.
/// </summary>
public class RxInterruptModerationTests() : EngineKit("rx-usecs")
{
    private static readonly MacAddress Mac = MacAddress.Parse("02:00:00:00:00:02");

    private (IActorRef Nic, NetDevice Dev) Start(string name, TestProbe softnet, int rxUsecs, int rxFrames = 0)
    {
        var ns = new NetNamespace(new HostSettings(name, 1, new SysctlSettings(),
            [new DeviceSettings("eth0", Mac) { RxUsecs = rxUsecs, RxFrames = rxFrames }]), seed: 1);
        var nic = Sys.ActorOf(NicActor.Props(ns, ns.Device("eth0")!, HostRefs.None with { Softnet = [softnet.Ref] }), name);
        Engine.RunUntilIdle();
        return (nic, ns.Device("eth0")!);
    }

    private static WireFrames Frame(int i) => new([FrameBuilder.Udp(Mac, MacAddress.Parse("02:00:00:00:00:01"),
        Ipv4Address.Parse("10.0.0.1"), Ipv4Address.Parse("10.0.0.2"), 5000, 9000, [(byte)i], (ushort)i)]);

    /// <summary>One frame told to the NIC at each of <paramref name="atNs"/> (absolute virtual ns), as a wire delivers them.</summary>
    private void FramesAt(IActorRef nic, params long[] atNs)
    {
        for (int i = 0; i < atNs.Length; i++) Engine.TellAtNs(atNs[i], nic, Frame(i), ActorRefs.NoSender);
    }

    /// <summary>Runs to <paramref name="tNs"/> and returns how many hard IRQs (NAPI schedules) the softnet got by then.</summary>
    private int SchedulesBy(TestProbe softnet, long tNs)
    {
        Engine.RunUntilNs(tNs);
        int n = 0;
        while (softnet.HasMessages)
        {
            Assert.IsType<NapiSchedule>(softnet.ReceiveOne(TimeSpan.Zero));
            n++;
        }
        return n;
    }

    /// <summary>net_rx_action's poll of the queue (weight 64) at the current instant; returns (frames taken, completed).</summary>
    private async Task<(int Work, bool Completed)> Poll(IActorRef nic, TestProbe softnet, int weight = 64)
    {
        nic.Tell(new NapiPoll(0, weight, 0), softnet.Ref);
        Engine.RunUntilIdle();
        var r = await softnet.ExpectMsgAsync<NapiPollResult>();
        return (r.WorkDone, r.Completed);
    }

    [Fact]
    public async Task RxUsecs3_FramesOneMicrosecondApart_OneIrqPerWindow_ExactlyRxUsecsAfterTheFirstFrame()
    {
        var softnet = Probe();
        var (nic, dev) = Start("batch", softnet, rxUsecs: 3);
        long t0 = Engine.NowNs;
        // Window 1: frames at +0, +1, +2 µs; window 2 starts with the frame at +10 µs (+10, +11, +12).
        FramesAt(nic, t0, t0 + 1_000, t0 + 2_000, t0 + 10_000, t0 + 11_000, t0 + 12_000);
        Assert.Equal(0, SchedulesBy(softnet, t0 + 2_999));           // not before rx-usecs after the first frame
        Assert.Equal(1, SchedulesBy(softnet, t0 + 3_000));           // exactly then
        Assert.Equal((3, true), await Poll(nic, softnet));           // the one poll takes the window's three frames
        Assert.Equal(0, SchedulesBy(softnet, t0 + 12_999));
        Assert.Equal(1, SchedulesBy(softnet, t0 + 13_000));
        Assert.Equal((3, true), await Poll(nic, softnet));
        Assert.Equal(0, SchedulesBy(softnet, t0 + 100_000));
        Assert.Equal(2, dev.IrqCounts[0]);
        Assert.Equal(6, dev.Stats.Snapshot().RxPackets);
    }

    [Fact]
    public async Task RxUsecs3_AFrameAtTheWindowsEnd_IsInIt_OneNanosecondLater_StartsTheNext()
    {
        var softnet = Probe();
        var (nic, dev) = Start("edge", softnet, rxUsecs: 3);
        long t0 = Engine.NowNs;
        FramesAt(nic, t0, t0 + 3_000, t0 + 6_001);
        Assert.Equal(1, SchedulesBy(softnet, t0 + 3_000));
        Assert.Equal((2, true), await Poll(nic, softnet));           // the frame at +3 µs arrived before the timer's IRQ
        Assert.Equal(0, SchedulesBy(softnet, t0 + 9_000));
        Assert.Equal(1, SchedulesBy(softnet, t0 + 9_001));           // +6.001 µs + 3 µs
        Assert.Equal((1, true), await Poll(nic, softnet));
        Assert.Equal(2, dev.IrqCounts[0]);
    }

    [Fact]
    public async Task RxUsecs0_FramesOneMicrosecondApart_OneIrqPerFrame()
    {
        var softnet = Probe();
        var (nic, dev) = Start("per-frame", softnet, rxUsecs: 0);
        long t0 = Engine.NowNs;
        FramesAt(nic, t0, t0 + 1_000, t0 + 2_000, t0 + 3_000, t0 + 4_000, t0 + 5_000);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(1, SchedulesBy(softnet, t0 + i * 1_000));  // at the frame's own instant
            Assert.Equal((1, true), await Poll(nic, softnet));
        }
        Assert.Equal(0, SchedulesBy(softnet, t0 + 100_000));
        Assert.Equal(6, dev.IrqCounts[0]);
    }

    [Fact]
    public async Task WhileNapiIsScheduled_NoIrq_ReenabledAtNapiComplete_NextFrameStartsAWindow()
    {
        var softnet = Probe();
        var (nic, dev) = Start("masked", softnet, rxUsecs: 3);
        long t0 = Engine.NowNs;
        FramesAt(nic, t0);
        FramesAt(nic, Enumerable.Range(4, 70).Select(us => t0 + us * 1_000L).ToArray()); // 70 frames at +4 .. +73 µs
        Assert.Equal(1, SchedulesBy(softnet, t0 + 3_000));
        // NAPI is scheduled but has not polled: the line is masked, 70 frames raise nothing.
        Assert.Equal(0, SchedulesBy(softnet, t0 + 200_000));
        Assert.Equal((64, false), await Poll(nic, softnet));         // the whole weight: NAPI stays scheduled, still masked
        FramesAt(nic, t0 + 210_000);
        Assert.Equal(0, SchedulesBy(softnet, t0 + 300_000));
        Assert.Equal((8, true), await Poll(nic, softnet));           // napi_complete_done: the interrupt is enabled again
        Assert.Equal(0, SchedulesBy(softnet, t0 + 400_000));         // ring empty: no cause
        FramesAt(nic, t0 + 500_000);
        Assert.Equal(0, SchedulesBy(softnet, t0 + 502_999));
        Assert.Equal(1, SchedulesBy(softnet, t0 + 503_000));
        Assert.Equal((1, true), await Poll(nic, softnet));
        Assert.Equal(2, dev.IrqCounts[0]);
        Assert.Equal(73, dev.Stats.Snapshot().RxPackets);
    }

    [Fact]
    public async Task RxFrames2_RaisesAtTheSecondFrame_TheWindowsTimerIsThenVoid()
    {
        var softnet = Probe();
        var (nic, dev) = Start("frames", softnet, rxUsecs: 3, rxFrames: 2);
        long t0 = Engine.NowNs;
        FramesAt(nic, t0, t0 + 1_000, t0 + 2_500);
        Assert.Equal(0, SchedulesBy(softnet, t0 + 999));
        Assert.Equal(1, SchedulesBy(softnet, t0 + 1_000));           // rx-frames 2 reached: at once
        Assert.Equal((2, true), await Poll(nic, softnet));
        // The frame at +2.5 µs opens a new window (due +5.5 µs); the first window's cancelled interrupt at +3 µs is not delivered.
        Assert.Equal(0, SchedulesBy(softnet, t0 + 5_499));
        Assert.Equal(1, SchedulesBy(softnet, t0 + 5_500));
        Assert.Equal((1, true), await Poll(nic, softnet));
        Assert.Equal(2, dev.IrqCounts[0]);
    }

    [Fact]
    public void Coalescer_Window_FrameLimit()
    {
        var c = new RxCoalescer(3_000, 0);
        Assert.Equal(RxIrqAction.Arm, c.FrameArrived(100));
        Assert.Equal((100L, 3_100L, true), (c.FirstNs, c.DueNs, c.TimerArmed));
        Assert.Equal(RxIrqAction.Wait, c.FrameArrived(3_099));
        Assert.Equal(2, c.Waiting);
        Assert.Equal(RxIrqAction.Raise, c.FrameArrived(3_100));     // a frame at the due instant finds the window over
        c.Raised();
        Assert.Equal((-1L, 0, false), (c.FirstNs, c.Waiting, c.TimerArmed));
        Assert.Equal(RxIrqAction.Arm, c.FrameArrived(5_000));       // the next frame opens a new window
        Assert.Equal(8_000L, c.DueNs);
        var f = new RxCoalescer(3_000, 3);
        Assert.Equal(RxIrqAction.Arm, f.FrameArrived(0));
        Assert.Equal(RxIrqAction.Wait, f.FrameArrived(1));
        Assert.Equal(RxIrqAction.Raise, f.FrameArrived(2));         // the third frame: rx-frames 3
        Assert.Equal(RxIrqAction.Raise, new RxCoalescer(3_000, 1).FrameArrived(7)); // rx-frames 1: every frame at once
    }

    [Fact]
    public void Config_DefaultsAreIgbs_OverridePerDevice_OutOfRangeRefused()
    {
        const string scenario = """
            actorstack.scenario {
              hosts {
                a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"] } } }
                b { devices { eth0 { mac = "02:00:00:00:00:0b", addresses = ["10.1.0.2/24"], rx-usecs = 0, rx-frames = 16 } } }
              }
              wires = [ { a = "a/eth0", b = "b/eth0" } ]
            }
            """;
        var s = StackConfig.Load(scenario);
        var a = s.Host("a").Devices[0];
        var b = s.Host("b").Devices[0];
        Assert.Equal((3, 0), (a.RxUsecs, a.RxFrames));
        Assert.Equal((0, 16), (b.RxUsecs, b.RxFrames));
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load(scenario.Replace("rx-usecs = 0", "rx-usecs = 10001")));
        Assert.Contains("rx-usecs", e.Message);
        Assert.Equal(10_000, StackConfig.Load(scenario.Replace("rx-usecs = 0", "rx-usecs = 10000")).Host("b").Devices[0].RxUsecs);
        e = Assert.Throws<StackConfigException>(() => StackConfig.Load(scenario.Replace("rx-frames = 16", "rx-frames = -1")));
        Assert.Contains("rx-frames", e.Message);
    }
}

/// <summary>On the real clock there is no moderation (Akka's timer tick is 10 ms): a frame interrupts at once, as before.</summary>
public class RxInterruptModerationRealClockTests() : Akka.TestKit.Xunit2.TestKit(StackConfig.AkkaConfig(), "rx-usecs-real")
{
    [Fact]
    public async Task RealClock_RxUsecsIgnored_TheFrameInterruptsAtOnce()
    {
        var mac = MacAddress.Parse("02:00:00:00:00:02");
        var ns = new NetNamespace(new HostSettings("real", 1, new SysctlSettings(),
            [new DeviceSettings("eth0", mac) { RxUsecs = 10_000_000 }]), seed: 1); // 10 s: would be far past the wait below
        var softnet = CreateTestProbe();
        var nic = Sys.ActorOf(NicActor.Props(ns, ns.Device("eth0")!, HostRefs.None with { Softnet = [softnet.Ref] }), "real");
        nic.Tell(new WireFrames([FrameBuilder.Udp(mac, MacAddress.Parse("02:00:00:00:00:01"), Ipv4Address.Parse("10.0.0.1"),
            Ipv4Address.Parse("10.0.0.2"), 5000, 9000, [1], 1)]), ActorRefs.NoSender);
        await softnet.ExpectMsgAsync<NapiSchedule>(TimeSpan.FromSeconds(3));
        Assert.Equal(1, ns.Device("eth0")!.IrqCounts[0]);
    }
}
