using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Engine;
using ActorStack.Tests.Engine;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.Netem;

/// <summary>
/// The wire actor between two TestProbe ends, on the simulation engine: each Tell runs to completion before the test
/// looks, and the clock moves only in <see cref="SimEngine.RunUntil"/>, so a delay is pinned on both sides of its instant.
/// </summary>
public class WireActorTests() : EngineKit("wire")
{
    private static NetemQopt Netem(string spec)
    {
        Assert.True(NetemParser.TryParse(spec, out var s, out var error), error);
        return s;
    }

    private (IActorRef Wire, TestProbe A, TestProbe B) Build(WireOptions options)
    {
        var a = Probe();
        var b = Probe();
        return (Sys.ActorOf(WireActor.Props(a.Ref, b.Ref, options)), a, b);
    }

    private static WireFrames Frames(int n, Func<int, byte[]>? make = null)
        => new([.. Enumerable.Range(0, n).Select(i => (ReadOnlyMemory<byte>)(make ?? (_ => FaultFrames.Udp()))(i))]);

    private async Task<WireStats> Stats(IActorRef wire)
    {
        TellNow(wire, GetWireStats.Instance, TestActor);
        return await ExpectMsgAsync<WireStats>();
    }

    /// <summary>
    /// Sends from an end and runs the engine, event by event, until the sender has every frame's TX completion (each
    /// comes when the frame's last bit has left: a minimum frame is 67.2 ns at 10 Gbit/s, so three back to back
    /// complete 68, 135 and 202 ns after the send); then waits until the wire handled it (its stats answer comes after).
    /// </summary>
    private async Task Send(IActorRef wire, TestProbe from, WireFrames frames)
    {
        TellNow(wire, frames, from.Ref);
        int done = 0;
        while (done < frames.Count)
        {
            while (done < frames.Count && from.HasMessages) done += (await from.ExpectMsgAsync<WireTxDone>()).Count;
            if (done < frames.Count) Assert.True(Engine.Step(), "a TX completion never came");
        }
        Assert.Equal(frames.Count, done);
        await Stats(wire);
    }

    private static void AssertConserved(WireDirectionStats s)
        => Assert.Equal(s.Offered + s.Duplicated, s.Delivered + s.Dropped + s.InFlight);

    [Fact]
    public async Task WireFrames_NetemDelay_ReleasedByTheSchedulerNotBefore()
    {
        var (wire, a, b) = Build(new WireOptions("h1/eth0-h2/eth0", 1, TimeSpan.Zero) { NetemAToB = Netem("delay 100ms") });
        var sent = Engine.NowNs;
        await Send(wire, a, Frames(3));            // last bits leave at sent + 68, 135, 202 ns
        await b.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal(3, (await Stats(wire)).AToBDetail!.InFlight);
        Engine.RunUntilNs(sent + 68 + 100_000_000 - 1); // 1 ns before the first frame's delay ends: still on the wire
        await b.ExpectNoMsgAsync(TimeSpan.Zero);
        Engine.RunUntilNs(sent + 68 + 100_000_000);     // exactly 100 ms after its last bit left
        Assert.Equal(1, (await b.ExpectMsgAsync<WireFrames>()).Count);
        await b.ExpectNoMsgAsync(TimeSpan.Zero);
        Engine.RunUntilNs(sent + 202 + 100_000_000);
        Assert.Equal(1, (await b.ExpectMsgAsync<WireFrames>()).Count);
        Assert.Equal(1, (await b.ExpectMsgAsync<WireFrames>()).Count);
        var s = await Stats(wire);
        Assert.Equal(new WireStats(3, 0, 0, 0), s with { AToBDetail = null, BToADetail = null });
        Assert.Equal(3, s.AToBDetail!.Delivered);
        // The other direction has no netem: each frame straight through once its last bit has left.
        await Send(wire, b, Frames(2));
        Assert.Equal(1, (await a.ExpectMsgAsync<WireFrames>()).Count);
        Assert.Equal(1, (await a.ExpectMsgAsync<WireFrames>()).Count);
    }

    [Fact]
    public async Task CutCable_CarrierOffBothEndsFramesDroppedAsLinkDown_RestoreCarrierOn()
    {
        var (wire, a, b) = Build(new WireOptions("h1/eth0-h2/eth0", 1, TimeSpan.FromMilliseconds(30)));
        await Send(wire, a, Frames(4)); // propagating for 30 ms
        TellNow(wire, CutCable.Instance, TestActor);
        Assert.Equal(new CableState(true, true), await ExpectMsgAsync<CableState>());
        Assert.Equal(new CarrierChanged(false), await a.ExpectMsgAsync<CarrierChanged>());
        Assert.Equal(new CarrierChanged(false), await b.ExpectMsgAsync<CarrierChanged>());
        TellNow(wire, CutCable.Instance, TestActor);
        Assert.Equal(new CableState(true, false), await ExpectMsgAsync<CableState>());
        await Send(wire, b, Frames(2)); // the sender's TX completion still comes after the frames' wire time
        Engine.RunFor(TimeSpan.FromMilliseconds(50));
        await a.ExpectNoMsgAsync(TimeSpan.Zero);
        await b.ExpectNoMsgAsync(TimeSpan.Zero);
        var s = await Stats(wire);
        Assert.Equal(4, s.AToBDetail!.DroppedBy(DropReason.SIM_LINK_DOWN));
        Assert.Equal(2, s.BToADetail!.DroppedBy(DropReason.SIM_LINK_DOWN));
        Assert.Equal(new WireStats(0, 0, 4, 2), s with { AToBDetail = null, BToADetail = null });

        TellNow(wire, RestoreCable.Instance, TestActor);
        Assert.Equal(new CableState(false, true), await ExpectMsgAsync<CableState>());
        Assert.Equal(new CarrierChanged(true), await a.ExpectMsgAsync<CarrierChanged>());
        Assert.Equal(new CarrierChanged(true), await b.ExpectMsgAsync<CarrierChanged>());
        var sent = Engine.NowNs;
        await Send(wire, a, Frames(1));
        Engine.RunUntilNs(sent + 68 + 30_000_000 - 1); // propagating: 1 ns before the 30 ms delay after its 68 ns on the line ends
        await b.ExpectNoMsgAsync(TimeSpan.Zero);
        Engine.RunUntilNs(sent + 68 + 30_000_000);
        Assert.Equal(1, (await b.ExpectMsgAsync<WireFrames>()).Count);
        AssertConserved((await Stats(wire)).AToBDetail!);
    }

    [Fact]
    public async Task SetNetem_InvalidRefusedWithTcMessage_ValidInstalledAndClearable()
    {
        var (wire, a, b) = Build(new WireOptions("w", 1, TimeSpan.Zero));
        var bad = NetemQopt.Default with { Reorder = NetemQopt.Percent(10) };
        var refused = new SetNetem(WireDirection.AToB, bad);
        TellNow(wire, refused, TestActor);
        var f = await ExpectMsgAsync<CommandFailed>();
        Assert.Equal("reordering not possible without specifying some delay", f.Detail);
        Assert.Equal(Errno.EINVAL, f.Error);
        Assert.Same(refused, f.Command);

        var lossAll = Netem("loss 100%");
        TellNow(wire, new SetNetem(WireDirection.AToB, lossAll), TestActor);
        Assert.Equal(new NetemSet(WireDirection.AToB, lossAll), await ExpectMsgAsync<NetemSet>());
        await Send(wire, a, Frames(5));
        await b.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal(5, (await Stats(wire)).AToBDetail!.DroppedBy(DropReason.SIM_NETEM_LOSS));

        TellNow(wire, new SetNetem(WireDirection.AToB, null), TestActor);
        Assert.Equal(new NetemSet(WireDirection.AToB, null), await ExpectMsgAsync<NetemSet>());
        await Send(wire, a, Frames(2));
        Assert.Equal(1, (await b.ExpectMsgAsync<WireFrames>()).Count);   // one per completion, 67.2 ns apart
        Assert.Equal(1, (await b.ExpectMsgAsync<WireFrames>()).Count);
        var s = (await Stats(wire)).AToBDetail!;
        Assert.Equal(5, s.DroppedBy(DropReason.SIM_NETEM_LOSS)); // counts survive the change
        AssertConserved(s);
    }

    [Fact]
    public async Task SetFaultRules_AtRunTime_DropsSelectedFramesOnly()
    {
        var (wire, a, b) = Build(new WireOptions("w", 1, TimeSpan.Zero));
        var rule = new FaultRule(new FaultMatch { Proto = FaultProto.Udp, Dport = 53 }, FaultAction.Drop) { Direction = WireDirection.AToB, Nth = 2 };
        TellNow(wire, new SetFaultRules([rule]), TestActor);
        Assert.Equal(new FaultRulesSet(1), await ExpectMsgAsync<FaultRulesSet>());
        await Send(wire, a, Frames(4, i => FaultFrames.Udp(dport: (ushort)(i < 3 ? 53 : 80), payload: 18 + i)));
        var got = new List<int>();
        for (int i = 0; i < 3; i++) got.AddRange((await b.ExpectMsgAsync<WireFrames>()).Frames.Select(f => f.Length)); // one per completion
        Assert.Equal([60, 62, 63], got);
        Assert.Equal(1, (await Stats(wire)).AToBDetail!.DroppedBy(DropReason.SIM_FAULT_RULE));
    }

    /// <summary>The same frames through two wires with the same name and seed: identical drop tables and output.</summary>
    [Fact]
    public async Task WireFrames_SameSeedTwice_IdenticalDropTables()
    {
        var options = new WireOptions("h1/eth0-h2/eth0", 42, TimeSpan.FromMilliseconds(1))
        {
            NetemAToB = Netem("delay 20ms 10ms loss 10% duplicate 5% corrupt 5% limit 100"),
            Faults = [new FaultRule(FaultMatch.All, FaultAction.Drop) { Every = 50 }],
        };
        async Task<(WireDirectionStats, List<byte[]>)> Once()
        {
            var (wire, a, b) = Build(options);
            for (int k = 0; k < 4; k++) await Send(wire, a, Frames(100, i => FaultFrames.Udp(payload: 18 + i % 9)));
            var got = new List<byte[]>();
            for (int t = 0; t < 6; t++)
            {
                Engine.RunFor(TimeSpan.FromMilliseconds(10));
                await Stats(wire);
            }
            // ReceiveWhile ends at the first message the filter maps to null: every w it yields is a WireFrames.
            await foreach (var w in b.ReceiveWhileAsync(TimeSpan.FromMilliseconds(200), o => o as WireFrames))
                got.AddRange(w!.Frames.Select(f => f.ToArray()));
            var s = (await Stats(wire)).AToBDetail!;
            AssertConserved(s);
            Assert.Equal(0, s.InFlight);
            Assert.Equal(s.Delivered, got.Count);
            return (s, got);
        }
        var (s1, o1) = await Once();
        var (s2, o2) = await Once();
        Assert.Equal(s1.Drops, s2.Drops);
        Assert.Equal(s1 with { Drops = s2.Drops }, s2);
        Assert.Equal(o1, o2);
        Assert.Equal(8, s1.DroppedBy(DropReason.SIM_FAULT_RULE));
        Assert.True(s1.DroppedBy(DropReason.SIM_NETEM_LOSS) > 0);
        Assert.True(s1.DroppedBy(DropReason.QDISC_DROP) > 0);
    }

    /// <summary>Conservation through the actor under each fault type (netem, rules, cut), with frames in flight at the end.</summary>
    [Theory]
    [InlineData("netem")]
    [InlineData("rule-drop")]
    [InlineData("rule-delay")]
    [InlineData("rule-duplicate")]
    [InlineData("rule-corrupt")]
    [InlineData("cut")]
    public async Task WireFrames_EachFault_FramesConservedWithInFlight(string fault)
    {
        var options = new WireOptions("w", 3, TimeSpan.FromMilliseconds(5));
        FaultRule Rule(FaultAction act) => new(new FaultMatch { Proto = FaultProto.Udp }, act) { Every = 3, Delay = act == FaultAction.Delay ? TimeSpan.FromSeconds(1) : default };
        options = fault switch
        {
            "netem" => options with { NetemAToB = Netem("delay 30ms 10ms loss 20% duplicate 10% reorder 20% limit 50") },
            "rule-drop" => options with { Faults = [Rule(FaultAction.Drop)] },
            "rule-delay" => options with { Faults = [Rule(FaultAction.Delay)] },
            "rule-duplicate" => options with { Faults = [Rule(FaultAction.Duplicate)] },
            "rule-corrupt" => options with { Faults = [Rule(FaultAction.Corrupt)] },
            _ => options,
        };
        var (wire, a, b) = Build(options);
        await Send(wire, a, Frames(60));
        if (fault == "cut")
        {
            TellNow(wire, CutCable.Instance, TestActor);
            await ExpectMsgAsync<CableState>();
            await a.ExpectMsgAsync<CarrierChanged>();
            await b.ExpectMsgAsync<CarrierChanged>();
            await Send(wire, a, Frames(10));
        }
        Engine.RunFor(TimeSpan.FromMilliseconds(20));
        await Stats(wire);
        var s = (await Stats(wire)).AToBDetail!;
        AssertConserved(s);
        Assert.Equal(fault == "cut" ? 70 : 60, s.Offered);
        long received = 0;
        await foreach (var w in b.ReceiveWhileAsync(TimeSpan.FromMilliseconds(100), o => o as WireFrames))
            received += w!.Count;
        Assert.Equal(s.Delivered, received);
        switch (fault)
        {
            case "rule-drop": Assert.Equal(20, s.DroppedBy(DropReason.SIM_FAULT_RULE)); break;
            case "rule-delay": Assert.Equal(20, s.InFlight); break;
            case "rule-duplicate": Assert.Equal(80, s.Delivered); break;
            case "rule-corrupt": Assert.Equal(20, s.Corrupted); break;
            case "cut": Assert.Equal(70, s.DroppedBy(DropReason.SIM_LINK_DOWN)); break;
            case "netem": Assert.True(s.InFlight > 0 && s.Dropped > 0); break;
        }
    }
}
