using System.Collections.Immutable;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Tests.Netem;

namespace ActorStack.Tests.Capture;

/// <summary>
/// What one direction of a wire records for a capture (<see cref="WireChannel.Events"/>): each netem impairment and
/// each fault rule firing, with the frame and the instant it met the medium, and the frames a cut loses; nothing
/// without a listener.
/// </summary>
public class WireChannelEventTests
{
    private static NetemQopt Netem(string spec)
    {
        Assert.True(NetemParser.TryParse(spec, out var q, out var error), error);
        return q;
    }

    private static List<(string, DropReason?, int, long, long?)> Offer(WireChannel ch, int frames, long stepNs)
    {
        ch.Events = new List<WireChannelEvent>();
        var deliver = new List<ReadOnlyMemory<byte>>();
        for (int i = 0; i < frames; i++) ch.Offer(FaultFrames.Udp(), i * stepNs, deliver);
        return [.. ch.Events.Select(e => (e.What, e.Drop, e.Frame.Length, e.Count, e.AtNs))];
    }

    [Fact]
    public void NetemDuplicateAndCorrupt_EveryFrame_OneEventEachAtItsInstant()
    {
        int len = FaultFrames.Udp().Length;
        Assert.Equal([("netem duplicate", null, len, 1, 0), ("netem duplicate", null, len, 1, 500)],
            Offer(new WireChannel(1, 0, Netem("duplicate 100%")), 2, 500));
        Assert.Equal([("netem corrupt", null, len, 1, 0), ("netem corrupt", null, len, 1, 500)],
            Offer(new WireChannel(1, 0, Netem("corrupt 100%")), 2, 500));
        Assert.Equal([("netem loss", DropReason.SIM_NETEM_LOSS, len, 1, 0)], Offer(new WireChannel(1, 0, Netem("loss 100%")), 1, 500));
    }

    [Fact]
    public void FaultRule_NamedByItsPosition_DropCarriesTheReason()
    {
        var rules = ImmutableArray.Create(
            new FaultRule(new FaultMatch { Proto = FaultProto.Tcp }, FaultAction.Drop),
            new FaultRule(new FaultMatch { Proto = FaultProto.Udp }, FaultAction.Drop) { Nth = 2 });
        int len = FaultFrames.Udp().Length;
        // Rule 1 picks only the 2nd UDP frame; rule 0 never matches UDP.
        Assert.Equal([("fault rule 1: drop", DropReason.SIM_FAULT_RULE, len, 1, 1000)], Offer(new WireChannel(1, 0, faults: rules), 3, 1000));
    }

    [Fact]
    public void Cut_LosesFramesInFlight_ThenEachOfferedFrame()
    {
        var ch = new WireChannel(1, 1_000_000) { Events = new List<WireChannelEvent>() };
        var deliver = new List<ReadOnlyMemory<byte>>();
        ch.Offer(FaultFrames.Udp(), 0, deliver);
        ch.Offer(FaultFrames.Udp(), 10, deliver);
        Assert.True(ch.Cut());
        ch.Offer(FaultFrames.Udp(), 20, deliver);
        Assert.Equal([("cable cut: 2 frame(s) in flight lost", DropReason.SIM_LINK_DOWN, 0, 2L, (long?)null),
                      ("cable cut", DropReason.SIM_LINK_DOWN, FaultFrames.Udp().Length, 1L, 20L)],
            ch.Events.Select(e => (e.What, e.Drop, e.Frame.Length, e.Count, e.AtNs)));
    }

    [Fact]
    public void NoListener_RecordsNothing()
    {
        var ch = new WireChannel(1, 0, Netem("loss 100%"));
        var deliver = new List<ReadOnlyMemory<byte>>();
        ch.Offer(FaultFrames.Udp(), 0, deliver);
        Assert.Null(ch.Events);
        Assert.Equal(1, ch.Stats().DroppedBy(DropReason.SIM_NETEM_LOSS));
    }
}
