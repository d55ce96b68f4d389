using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Bridge;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Netem;

/// <summary>
/// Line rate on the virtual clock, exact to the ns: a wire serialises each direction at the lower of its ends'
/// speeds, completes a frame (<see cref="WireTxDone"/>) when its last bit has left and delivers it a propagation delay
/// later; a NIC offered more than its line rate fills its TX ring and qdisc and drops; a switch port's egress queue
/// drains at the switch's speed and overflows at its <c>txqueuelen</c>.
/// </summary>
public class LineRateEngineTests() : EngineKit("engine-line-rate")
{
    /// <summary>A wire end that records, at the engine's ns, every batch it receives and every TX completion.</summary>
    private sealed class End : ReceiveActor
    {
        public End(SimEngine engine, List<(long Ns, string What, int Count)> log)
        {
            Receive<WireFrames>(m => log.Add((engine.NowNs, "rx", m.Count)));
            Receive<WireTxDone>(m => log.Add((engine.NowNs, "txdone", m.Count)));
            Receive<CarrierChanged>(_ => { });
        }
    }

    private (IActorRef Ref, List<(long Ns, string What, int Count)> Log) NewEnd(string name)
    {
        var log = new List<(long, string, int)>();
        return (Sys.ActorOf(Props.Create(() => new End(Engine, log)), name), log);
    }

    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    /// <summary>A frame of <paramref name="bytes"/> (no FCS) from <paramref name="src"/> to <paramref name="dst"/>, EtherType 0x88b5 (local experimental).</summary>
    private static ReadOnlyMemory<byte> Frame(int bytes, int dst, int src)
    {
        var b = new byte[bytes];
        EthernetHeader.Write(b, Mac(dst), Mac(src), 0x88b5);
        return b;
    }

    private static WireFrames Frames(int n, int bytes, int dst = 2, int src = 1)
        => new([.. Enumerable.Range(0, n).Select(_ => Frame(bytes, dst, src))]);

    [Fact]
    public void BackToBackFrames_ArriveAtExactlyTheComputedNs_AfterTheirWireTimeAndTheDelay()
    {
        var (a, aLog) = NewEnd("a");
        var (b, bLog) = NewEnd("b");
        var w = Sys.ActorOf(WireActor.Props(a, b, new WireOptions("w", 1, TimeSpan.FromMicroseconds(1))), "w");
        long t0 = Engine.NowNs;
        TellNow(w, Frames(5, 1514, 2, 1), a);          // 12304 bits each at 10 Gbit/s: 1230.4 ns
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        long[] last = [1231, 2461, 3692, 4922, 6152];   // ceil(k × 1230.4)
        Assert.Equal(last.Select(t => (t0 + t, "txdone", 1)), aLog);
        Assert.Equal(last.Select(t => (t0 + t + 1000, "rx", 1)), bLog);
    }

    [Fact]
    public void TxUsecs_CoalescesCompletions_FirstFinishPlusTheWindow_OrTheLastFrameIfSooner()
    {
        var (a, aLog) = NewEnd("a");
        var (b, bLog) = NewEnd("b");
        // tx-usecs 3 at a: the interrupt fires 3 µs after the first frame finishes (1231 + 3000 = 4231 ns), freeing the
        // three finished by then (3692 ≤ 4231 < 4922); the last two finish by 6152, sooner than 4922 + 3000.
        var w = Sys.ActorOf(WireActor.Props(a, b, new WireOptions("w", 1, TimeSpan.FromMicroseconds(1)) { TxUsecsA = 3 }), "w");
        long t0 = Engine.NowNs;
        TellNow(w, Frames(5, 1514, 2, 1), a);
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        Assert.Equal(new[] { (t0 + 4231, "txdone", 3), (t0 + 6152, "txdone", 2) }, aLog);
        // A frame enters the medium (propagation delay) when its completion batch is taken: one whose arrival
        // (finish + 1 µs) has passed by then arrives with the batch, the others at their own instant — as if the far
        // end's RX interrupt were coalesced up to the same window.
        Assert.Equal(new[] { (t0 + 4231, "rx", 2), (t0 + 3692 + 1000, "rx", 1), (t0 + 6152, "rx", 1), (t0 + 6152 + 1000, "rx", 1) }, bLog);

        // One frame: its own finish (the ring went idle before the window ended).
        var (c, cLog) = NewEnd("c");
        var (d, _) = NewEnd("d");
        var w2 = Sys.ActorOf(WireActor.Props(c, d, new WireOptions("w2", 1, TimeSpan.Zero) { TxUsecsA = 3 }), "w2");
        long t1 = Engine.NowNs;
        TellNow(w2, Frames(1, 1514, 2, 1), c);
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        Assert.Equal(new[] { (t1 + 1231, "txdone", 1) }, cLog);
    }

    [Fact]
    public async Task DelayOnlyWire_FramesInFlightUntilTheirArrival_ACutLosesThem()
    {
        // A delay-only wire on the engine tells each frame to the far end due at its arrival; until then it is in flight
        // (stats), and a cut takes those not arrived back and counts them lost (SIM_LINK_DOWN), as the channel would.
        var probe = Probe();
        var (a, aLog) = NewEnd("a");
        var (b, bLog) = NewEnd("b");
        var w = Sys.ActorOf(WireActor.Props(a, b, new WireOptions("w", 1, TimeSpan.FromMilliseconds(1))), "w");
        long t0 = Engine.NowNs;
        TellNow(w, Frames(3, 1514, 2, 1), a);
        Engine.RunFor(TimeSpan.FromMilliseconds(0.5));
        var s = (await AskNow<WireStats>(probe, w, GetWireStats.Instance)).AToBDetail!;
        Assert.Equal((3L, 0L, 3L, 0L), (s.Offered, s.Delivered, s.InFlight, s.Dropped));
        Assert.Equal(3, aLog.Count(e => e.What == "txdone")); // the sender's completions do not wait for the far end
        Assert.Empty(bLog);

        // Two frames more; the first three arrive at t0 + 1 ms + their wire time, then the two are cut in flight.
        TellNow(w, Frames(2, 1514, 2, 1), a);
        Engine.RunUntil(TimeSpan.FromTicks((t0 + 1_100_000) / 100));
        Assert.Equal(new[] { (t0 + 1231 + 1_000_000, "rx", 1), (t0 + 2461 + 1_000_000, "rx", 1), (t0 + 3692 + 1_000_000, "rx", 1) }, bLog);
        s = (await AskNow<WireStats>(probe, w, GetWireStats.Instance)).AToBDetail!;
        Assert.Equal((5L, 3L, 2L, 0L), (s.Offered, s.Delivered, s.InFlight, s.Dropped));
        await AskNow<CableState>(probe, w, CutCable.Instance);
        s = (await AskNow<WireStats>(probe, w, GetWireStats.Instance)).AToBDetail!;
        Assert.Equal((5L, 3L, 0L, 2L, 2L), (s.Offered, s.Delivered, s.InFlight, s.Dropped, s.DroppedBy(DropReason.SIM_LINK_DOWN)));
        Engine.RunFor(TimeSpan.FromMilliseconds(5));
        Assert.Equal(3, bLog.Count); // nothing arrives after the cut
    }

    [Fact]
    public void MinimumFrames_At10G_AndTheOtherDirection_IsIndependent()
    {
        var (a, aLog) = NewEnd("a");
        var (b, bLog) = NewEnd("b");
        var w = Sys.ActorOf(WireActor.Props(a, b, new WireOptions("w", 1, TimeSpan.Zero)), "w");
        long t0 = Engine.NowNs;
        w.Tell(Frames(3, 60, 2, 1), a);
        w.Tell(Frames(1, 60, 1, 2), b);
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        // a→b: 67.2 ns each, back to back; b→a: its own medium, from the same instant.
        Assert.Equal(new[] { (t0 + 68, "txdone", 1), (t0 + 68, "rx", 1), (t0 + 135, "txdone", 1), (t0 + 202, "txdone", 1) }, aLog);
        Assert.Equal(new[] { (t0 + 68, "rx", 1), (t0 + 68, "txdone", 1), (t0 + 135, "rx", 1), (t0 + 202, "rx", 1) }, bLog);
    }

    [Fact]
    public void MismatchedSpeeds_TheLinkRunsAtTheLower_BothWays()
    {
        var (a, aLog) = NewEnd("a");
        var (b, bLog) = NewEnd("b");
        var w = Sys.ActorOf(WireActor.Props(a, b, new WireOptions("w", 1, TimeSpan.Zero) { SpeedA = 10_000, SpeedB = 1_000 }), "w");
        long t0 = Engine.NowNs;
        w.Tell(Frames(2, 1514, 2, 1), a);
        w.Tell(Frames(1, 60, 1, 2), b);
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        // 1000 Mbit/s: 12304 ns per full frame, 672 ns per minimum frame, in both directions.
        Assert.Equal(new[] { (t0 + 672, "rx", 1), (t0 + 12_304, "txdone", 1), (t0 + 24_608, "txdone", 1) }, aLog);
        Assert.Equal(new[] { (t0 + 672, "txdone", 1), (t0 + 12_304, "rx", 1), (t0 + 24_608, "rx", 1) }, bLog);
    }

    [Fact]
    public async Task WireStats_CountFramesBeingSerialisedAsOfferedAndInFlight()
    {
        var probe = Probe();
        var (a, _) = NewEnd("a");
        var (b, _) = NewEnd("b");
        var w = Sys.ActorOf(WireActor.Props(a, b, new WireOptions("w", 1, TimeSpan.Zero) { SpeedA = 1_000, SpeedB = 1_000 }), "w");
        TellNow(w, Frames(3, 1514), a);
        Engine.RunFor(TimeSpan.FromTicks(150));           // 15 µs: the first frame (12304 ns) is through
        var st = await AskNow<WireStats>(probe, w, GetWireStats.Instance);
        Assert.Equal((3L, 1L, 2L), (st.AToBDetail!.Offered, st.AToBDetail.Delivered, st.AToBDetail.InFlight));
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        st = await AskNow<WireStats>(probe, w, GetWireStats.Instance);
        Assert.Equal((3L, 3L, 0L), (st.AToBDetail!.Offered, st.AToBDetail.Delivered, st.AToBDetail.InFlight));
    }

    // ----- a NIC offered more than its line rate: TX ring, qdisc, drops -----

    private static HostSettings Host(string name, int mac, int speed) =>
        new(name, 1, new SysctlSettings(), [new DeviceSettings("eth0", Mac(mac), TxRing: 8, TxQueueLen: 16) { Speed = speed }]);

    private async Task<(IActorRef A, IActorRef DevA, TestProbe Probe)> Pair(int speed)
    {
        var probe = Probe();
        var a = Sys.ActorOf(HostActor.Props(Host("a", 1, speed), seed: 1), "a");
        var b = Sys.ActorOf(HostActor.Props(Host("b", 2, speed), seed: 1), "b");
        var da = (await AskNow<HostDevices>(probe, a, GetHostDevices.Instance)).Devices["eth0"];
        var db = (await AskNow<HostDevices>(probe, b, GetHostDevices.Instance)).Devices["eth0"];
        var w = Sys.ActorOf(WireActor.Props(da, db, new WireOptions("w", 1, TimeSpan.Zero) { SpeedA = speed, SpeedB = speed }), "wire");
        da.Tell(new AttachWire(w));
        db.Tell(new AttachWire(w));
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        return (a, da, probe);
    }

    /// <summary>
    /// <paramref name="n"/> frames of 1226 bytes (exactly 10000 bits on the wire: 10 µs at 1000 Mbit/s) handed to
    /// <c>dev_queue_xmit</c> one every <paramref name="everyNs"/>; returns the qdisc right after the last one.
    /// </summary>
    private async Task<(DeviceStats AtLastOffer, DeviceStats AtEnd)> Offer(int n, long everyNs)
    {
        var (a, da, probe) = await Pair(1_000);
        long t0 = Engine.NowNs;
        for (int k = 0; k < n; k++)
        {
            Engine.RunUntilNs(t0 + k * everyNs);
            da.Tell(new DevQueueXmit([new SkBuff(Frame(1226, 2, 1), 2, 0, 0, 0, 2048)]));
        }
        Engine.RunUntilIdle();
        var last = (await AskNow<HostStats>(probe, a, GetStats.Instance)).Devices.Single(d => d.Name == "eth0");
        Engine.RunFor(TimeSpan.FromMilliseconds(10));
        var end = (await AskNow<HostStats>(probe, a, GetStats.Instance)).Devices.Single(d => d.Name == "eth0");
        return (last, end);
    }

    [Fact]
    public async Task OfferedAtTwiceTheLineRate_RingThenQdiscFill_ExactDropsAndBacklog()
    {
        // One frame per 5 µs onto a 10 µs-per-frame wire: net +1 per 10 µs. The TX ring (8) is full at 70 µs, the
        // qdisc grows by one per 10 µs from 75 µs and holds txqueuelen (16) after the frame at 230 µs; from then on the
        // frame at 10m+5 µs finds it full (m = 23..49: 27 drops) and the one at 10m µs fits after that instant's
        // completion woke the queue.
        var (last, end) = await Offer(100, 5_000);
        Assert.Equal((16L, 27L), (last.Qdisc!.Backlog, last.Qdisc.Drops));
        Assert.Equal((0L, 27L, 73L), (end.Qdisc!.Backlog, end.Qdisc.Drops, end.Counters.TxPackets));
    }

    [Fact]
    public async Task OfferedAtExactlyTheLineRate_NothingQueuesNothingDrops()
    {
        // Each frame's completion comes at the instant the next one is offered: the ring never holds more than one.
        var (last, end) = await Offer(100, 10_000);
        Assert.Equal((0L, 0L, 0L), (last.Qdisc!.Backlog, last.Qdisc.Drops, last.Qdisc.TxQueueStopped));
        Assert.Equal((0L, 100L), (end.Qdisc!.Drops, end.Counters.TxPackets));
    }

    // ----- a switch's egress port drains at the switch's speed -----

    private async Task<(SwitchPortStats Egress, List<(long Ns, string What, int Count)> SinkLog)> SwitchFanIn(bool twoSenders)
    {
        var probe = Probe();
        var sw = Sys.ActorOf(SwitchActor.Props(new SwitchSettings("sw1", 3, TxQueueLen: 10) { Speed = 1_000 }), "sw1");
        var (h1, _) = NewEnd("h1");
        var (h2, _) = NewEnd("h2");
        var (h3, sinkLog) = NewEnd("h3");
        async Task<IActorRef> Cable(IActorRef host, int port)
        {
            // The hosts run at 10G; the switch's 1000 Mbit/s is what each link negotiates.
            var w = Sys.ActorOf(WireActor.Props(host, sw, new WireOptions($"w{port}", 1, TimeSpan.Zero) { SpeedA = 10_000, SpeedB = 1_000 }), $"w{port}");
            await AskNow<SwitchPortAttached>(probe, sw, new AttachSwitchPort(port, w));
            return w;
        }
        var w1 = await Cable(h1, 1);
        var w2 = await Cable(h2, 2);
        var w3 = await Cable(h3, 3);
        // h3 speaks first, so the switch learns its port; then the senders' frames go to port3 only.
        TellNow(w3, Frames(1, 60, 1, 3), h3);
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        sinkLog.Clear();
        long t0 = Engine.NowNs;
        TellNow(w1, Frames(50, 1226, 3, 1), h1);          // 50 frames of 10 µs each at 1000 Mbit/s
        if (twoSenders)
        {
            Engine.RunUntilNs(t0 + 5_000);
            TellNow(w2, Frames(50, 1226, 3, 2), h2);      // the same, 5 µs later
        }
        Engine.RunFor(TimeSpan.FromMilliseconds(10));
        var st = await AskNow<SwitchStatsSnapshot>(probe, sw, GetSwitchStats.Instance);
        return (st.Ports[2], sinkLog);
    }

    [Fact]
    public async Task SwitchEgress_TwoPortsIntoOne_DrainsAtTheSwitchSpeed_AndOverflowsItsTxqueuelenExactly()
    {
        var (egress, sink) = await SwitchFanIn(twoSenders: true);
        // Frames reach the switch at 10k µs (port1) and 10k+5 µs (port2); port3 sends one per 10 µs from 10 µs on, so
        // its queue grows by one per 10 µs until it holds txqueuelen (10): from k = 10 every port1 frame finds it full.
        Assert.Equal((59L, 41L, 0), (egress.TxFrames, egress.TxDropped, egress.Backlog));
        Assert.Equal(59, sink.Sum(e => e.Count));
        // port3 drains at 1000 Mbit/s, back to back: the last of 59 frames leaves 59 × 10 µs after the first began.
        Assert.Equal(sink[0].Ns + 58 * 10_000, sink[^1].Ns);
    }

    [Fact]
    public async Task SwitchEgress_OneSenderAtTheSameSpeed_NeverQueuesBeyondOneFrame()
    {
        var (egress, sink) = await SwitchFanIn(twoSenders: false);
        Assert.Equal((50L, 0L, 0), (egress.TxFrames, egress.TxDropped, egress.Backlog));
        Assert.Equal(50, sink.Count);
        Assert.Equal(sink[0].Ns + 49 * 10_000, sink[^1].Ns);
    }
}
