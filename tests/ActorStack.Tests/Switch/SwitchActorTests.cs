using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Config;
using ActorStack.Tests.Engine;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Bridge;

namespace ActorStack.Tests.Switch;

/// <summary>
/// The switch actor with TestProbes standing in for the wires of its ports, on the simulation engine: each Tell runs
/// to completion before the test looks (<see cref="EngineKit.TellNow"/>), so "nothing came" is exact, not a wait.
/// </summary>
public class SwitchActorTests() : EngineKit("switch")
{
    private static readonly MacAddress A = MacAddress.Parse("02:00:00:00:00:0a");
    private static readonly MacAddress B = MacAddress.Parse("02:00:00:00:00:0b");
    private static readonly MacAddress C = MacAddress.Parse("02:00:00:00:00:0c");

    private static ReadOnlyMemory<byte> Frame(MacAddress dst, MacAddress src, byte tag = 0)
    {
        var f = new byte[60];
        EthernetHeader.Write(f, dst, src, EtherType.Ipv4);
        f[14] = tag;
        return f;
    }

    private static WireFrames Frames(params ReadOnlyMemory<byte>[] f) => new(f.ToImmutableArray());

    private async Task<(IActorRef Switch, TestProbe[] Wires)> Build(int ports, int attached, int txqueuelen = 1000)
    {
        var sw = Sys.ActorOf(SwitchActor.Props(new SwitchSettings("sw1", ports, TxQueueLen: txqueuelen)));
        var wires = Enumerable.Range(1, attached).Select(i => Probe()).ToArray();
        for (int i = 0; i < attached; i++)
        {
            TellNow(sw, new AttachSwitchPort(i + 1, wires[i].Ref), TestActor);
            Assert.Equal(new SwitchPortAttached("sw1", i + 1), await ExpectMsgAsync<SwitchPortAttached>());
        }
        return (sw, wires);
    }

    private async Task<SwitchStatsSnapshot> Stats(IActorRef sw)
    {
        TellNow(sw, GetSwitchStats.Instance, TestActor);
        return await ExpectMsgAsync<SwitchStatsSnapshot>();
    }

    [Fact]
    public async Task WireFrames_UnknownThenLearned_FloodedToOtherPortsThenForwardedToOne()
    {
        var (sw, w) = await Build(ports: 4, attached: 3);
        TellNow(sw, Frames(Frame(B, A)), w[0].Ref);
        Assert.Equal(1, (await w[1].ExpectMsgAsync<WireFrames>()).Count);
        Assert.Equal(1, (await w[2].ExpectMsgAsync<WireFrames>()).Count);
        await w[0].ExpectNoMsgAsync(TimeSpan.Zero); // never back out of the ingress port

        TellNow(sw, Frames(Frame(A, B, tag: 7)), w[1].Ref);  // B answers from port 2: A is known on port 1
        var got = await w[0].ExpectMsgAsync<WireFrames>();
        Assert.Equal(7, got.Frames.Single().Span[14]);
        await w[2].ExpectNoMsgAsync(TimeSpan.Zero);

        var s = await Stats(sw);
        Assert.Equal(2, s.RxFrames);
        Assert.Equal(1, s.Flooded);
        Assert.Equal(1, s.Forwarded);
        Assert.Equal(2, s.FdbEntries);
        Assert.Equal([1, 1, 1, 0], s.Ports.Select(p => p.TxFrames));
        Assert.Equal([1, 1, 0, 0], s.Ports.Select(p => p.RxFrames));
        Assert.False(s.Port(4).Up);
    }

    [Fact]
    public async Task WireFrames_EgressQueueFull_OverflowDroppedAndCountedUntilTxDone()
    {
        var (sw, w) = await Build(ports: 2, attached: 2, txqueuelen: 3);
        TellNow(sw, Frames(Enumerable.Range(0, 5).Select(i => Frame(B, A, (byte)i)).ToArray()), w[0].Ref);
        var first = await w[1].ExpectMsgAsync<WireFrames>();
        Assert.Equal([0, 1, 2], first.Frames.Select(f => (int)f.Span[14]));

        // No TX completion yet: the port's queue holds 3 frames in flight, so these two are dropped.
        TellNow(sw, Frames(Frame(B, A, 5), Frame(B, A, 6)), w[0].Ref);
        await w[1].ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal(4, (await Stats(sw)).Port(2).TxDropped);

        TellNow(sw, new WireTxDone(2), w[1].Ref);
        TellNow(sw, Frames(Frame(B, A, 8), Frame(B, A, 9), Frame(B, A, 10)), w[0].Ref);
        Assert.Equal([8, 9], (await w[1].ExpectMsgAsync<WireFrames>()).Frames.Select(f => (int)f.Span[14]));

        var s = await Stats(sw);
        Assert.Equal(5, s.Port(2).TxFrames);
        Assert.Equal(5, s.Port(2).TxDropped);
        Assert.Equal(3, s.Port(2).Backlog);
        Assert.Equal(10, s.Port(1).RxFrames);
        Assert.Equal(s.Port(1).RxFrames, s.Port(2).TxFrames + s.Port(2).TxDropped); // every frame sent or counted
    }

    [Fact]
    public async Task Fdb_AfterAgeingTime_EntryGoneAndFrameFlooded()
    {
        var (sw, w) = await Build(ports: 3, attached: 3);
        var learned = Engine.Now;
        TellNow(sw, Frames(Frame(MacAddress.Broadcast, A)), w[0].Ref);
        await w[1].ExpectMsgAsync<WireFrames>();
        await w[2].ExpectMsgAsync<WireFrames>();
        TellNow(sw, GetSwitchFdb.Instance, TestActor);
        Assert.Equal(new SwitchFdb("sw1", "02:00:00:00:00:0a dev port1 master sw1\n"), await ExpectMsgAsync<SwitchFdb>());

        Engine.RunUntil(learned + TimeSpan.FromSeconds(299));
        TellNow(sw, Frames(Frame(A, C)), w[2].Ref);
        await w[0].ExpectMsgAsync<WireFrames>();
        await w[1].ExpectNoMsgAsync(TimeSpan.Zero);

        // br_fdb_cleanup deletes an entry once updated + ageing_time is not after now: still there 1 ms before...
        Engine.RunUntil(learned + TimeSpan.FromMilliseconds(299_999));
        TellNow(sw, GetSwitchFdb.Instance, TestActor);
        Assert.Contains("02:00:00:00:00:0a dev port1 master sw1\n", (await ExpectMsgAsync<SwitchFdb>()).Text);
        Engine.RunUntil(learned + TimeSpan.FromSeconds(300)); // ...gone at 300 s: A learned at 0 s, the cleanup timer removes it
        TellNow(sw, GetSwitchFdb.Instance, TestActor);
        Assert.Equal("02:00:00:00:00:0c dev port3 master sw1\n", (await ExpectMsgAsync<SwitchFdb>()).Text);
        TellNow(sw, Frames(Frame(A, B)), w[1].Ref);
        await w[0].ExpectMsgAsync<WireFrames>();
        await w[2].ExpectMsgAsync<WireFrames>();
        var s = await Stats(sw);
        Assert.Equal(1, s.FdbAged);
        Assert.Equal(2, s.Flooded); // the broadcast, then B's frame to the forgotten A
    }

    [Fact]
    public async Task WireFrames_FromUnpluggedWire_CountedNotForwarded()
    {
        var (sw, w) = await Build(ports: 2, attached: 2);
        var stranger = Probe();
        TellNow(sw, Frames(Frame(B, A), Frame(B, A)), stranger.Ref);
        await w[0].ExpectNoMsgAsync(TimeSpan.Zero);
        await w[1].ExpectNoMsgAsync(TimeSpan.Zero);
        var s = await Stats(sw);
        Assert.Equal(2, s.UnknownWire);
        Assert.Equal(0, s.RxFrames);
    }

    [Fact]
    public async Task AttachSwitchPort_PortOutOfRangeOrTaken_Fails()
    {
        var (sw, w) = await Build(ports: 2, attached: 1);
        var outOfRange = new AttachSwitchPort(3, Probe().Ref);
        TellNow(sw, outOfRange, TestActor);
        var f1 = await ExpectMsgAsync<CommandFailed>();
        Assert.Equal("no port 3 (ports 1-2)", f1.Detail);
        Assert.Equal(Errno.ENODEV, f1.Error);
        Assert.Same(outOfRange, f1.Command);
        TellNow(sw, new AttachSwitchPort(1, Probe().Ref), TestActor);
        var f2 = await ExpectMsgAsync<CommandFailed>();
        Assert.Equal("port1 or that wire is already plugged in", f2.Detail);
        Assert.Equal(Errno.EBUSY, f2.Error);
    }

    [Fact]
    public async Task WireFrames_InvalidSourceOrShortFrame_DroppedAndCounted()
    {
        var (sw, w) = await Build(ports: 2, attached: 2);
        TellNow(sw, Frames(Frame(B, MacAddress.Broadcast), new byte[10]), w[0].Ref);
        await w[1].ExpectNoMsgAsync(TimeSpan.Zero);
        var s = await Stats(sw);
        Assert.Equal(2, s.Dropped);
        Assert.Equal(2, s.DroppedInvalid);
        Assert.Equal(0, s.TxFrames);
    }
}
