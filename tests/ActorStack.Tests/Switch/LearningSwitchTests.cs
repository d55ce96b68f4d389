using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Bridge;
using ActorStack.Config;

namespace ActorStack.Tests.Switch;

public class LearningSwitchTests
{
    private static readonly MacAddress A = MacAddress.Parse("02:00:00:00:00:0a");
    private static readonly MacAddress B = MacAddress.Parse("02:00:00:00:00:0b");
    private static readonly MacAddress C = MacAddress.Parse("02:00:00:00:00:0c");
    private static readonly MacAddress D = MacAddress.Parse("02:00:00:00:00:0d");

    private static byte[] Frame(MacAddress dst, MacAddress src)
    {
        var f = new byte[60];
        EthernetHeader.Write(f, dst, src, EtherType.Ipv4);
        return f;
    }

    [Fact]
    public void Forward_UnknownThenLearned_FloodsThenForwardsToOnePort()
    {
        var sw = new LearningSwitch(4);
        var d1 = sw.Forward(0, Frame(B, A), 0);
        Assert.Equal(SwitchVerdict.Flood, d1.Verdict);
        Assert.Equal(new[] { 1, 2, 3 }, d1.OutPorts);

        var d2 = sw.Forward(2, Frame(A, B), 1);
        Assert.Equal(SwitchVerdict.Forward, d2.Verdict);
        Assert.Equal(new[] { 0 }, d2.OutPorts);

        var d3 = sw.Forward(0, Frame(B, A), 2);
        Assert.Equal(new[] { 2 }, d3.OutPorts);
        Assert.Equal(2, sw.Stats.Forwarded);
        Assert.Equal(1, sw.Stats.Flooded);
    }

    [Fact]
    public void Forward_BroadcastAndMulticast_FloodedNeverBackOutInPort()
    {
        var sw = new LearningSwitch(3);
        Assert.Equal(new[] { 0, 2 }, sw.Forward(1, Frame(MacAddress.Broadcast, C), 0).OutPorts);
        Assert.Equal(new[] { 0, 1 }, sw.Forward(2, Frame(MacAddress.Parse("01:00:5e:00:00:01"), D), 0).OutPorts);
    }

    [Fact]
    public void Forward_DestinationOnIngressPort_Dropped()
    {
        var sw = new LearningSwitch(3);
        sw.Forward(0, Frame(MacAddress.Broadcast, A), 0);
        var d = sw.Forward(0, Frame(A, D), 1);
        Assert.Equal(SwitchVerdict.Drop, d.Verdict);
        Assert.Equal(DropReason.SIM_BRIDGE_SAME_PORT, d.Reason);
        Assert.Empty(d.OutPorts);
        Assert.Equal(1, sw.Stats.DroppedSamePort);
    }

    [Fact]
    public void Forward_AfterAgeingTime_EntryForgottenAndFlooded()
    {
        var sw = new LearningSwitch(3);
        sw.Forward(1, Frame(MacAddress.Broadcast, A), 0);
        Assert.Equal(SwitchVerdict.Forward, sw.Forward(0, Frame(A, B), 299_999).Verdict);
        Assert.Equal(SwitchVerdict.Flood, sw.Forward(2, Frame(A, C), 300_000).Verdict);
        Assert.Null(sw.PortOf(A, 300_000));
    }

    [Fact]
    public void Forward_SourceSeenAgain_RefreshesAgeing()
    {
        var sw = new LearningSwitch(3);
        sw.Forward(1, Frame(MacAddress.Broadcast, A), 0);
        sw.Forward(1, Frame(MacAddress.Broadcast, A), 200_000);
        Assert.Equal(500_000, sw.NextTimerMs);
        Assert.Equal(SwitchVerdict.Forward, sw.Forward(0, Frame(A, B), 400_000).Verdict);
        Assert.Equal(0, sw.Cleanup(499_999));
        Assert.Equal(1, sw.Cleanup(500_000));
        Assert.Equal(1, sw.FdbCount); // B, learned at 400 s
    }

    [Fact]
    public void Forward_StationMoves_EntryFollowsIt()
    {
        var sw = new LearningSwitch(3);
        sw.Forward(0, Frame(MacAddress.Broadcast, A), 0);
        sw.Forward(1, Frame(MacAddress.Broadcast, A), 10);
        Assert.Equal(1, sw.Stats.FdbMoves);
        Assert.Equal(new[] { 1 }, sw.Forward(2, Frame(A, B), 20).OutPorts);
    }

    [Fact]
    public void Forward_FdbFull_NewSourceNotLearnedButFrameStillFlooded()
    {
        var sw = new LearningSwitch(3, new LearningSwitchSettings { FdbMaxLearned = 2 });
        sw.Forward(0, Frame(MacAddress.Broadcast, A), 0);
        sw.Forward(1, Frame(MacAddress.Broadcast, B), 0);
        var d = sw.Forward(2, Frame(MacAddress.Broadcast, C), 0);
        Assert.Equal(SwitchVerdict.Flood, d.Verdict);
        Assert.Equal(1, sw.Stats.LearnDropsFull);
        Assert.Equal(2, sw.FdbCount);
        Assert.Equal(SwitchVerdict.Flood, sw.Forward(0, Frame(C, A), 1).Verdict);
    }

    [Fact]
    public void Forward_InvalidFrames_DroppedNeverThrow()
    {
        var sw = new LearningSwitch(2);
        Assert.Equal(DropReason.PKT_TOO_SMALL, sw.Forward(0, new byte[13], 0).Reason);
        Assert.Equal(DropReason.MAC_INVALID_SOURCE, sw.Forward(0, Frame(B, MacAddress.Broadcast), 0).Reason);
        Assert.Equal(DropReason.MAC_INVALID_SOURCE, sw.Forward(0, Frame(B, MacAddress.Zero), 0).Reason);
        Assert.Equal(DropReason.SIM_BRIDGE_LINK_LOCAL, sw.Forward(0, Frame(MacAddress.Parse("01:80:c2:00:00:00"), A), 0).Reason);
        Assert.Equal(DropReason.BRIDGE_INGRESS_STP_STATE, sw.Forward(7, Frame(B, A), 0).Reason);
        Assert.Equal(3, sw.Stats.DroppedInvalid);
        Assert.Equal(5, sw.Stats.Dropped);
    }

    [Fact]
    public void Forward_PauseFrame_DroppedAsMacControl_OtherLinkLocalNotForwarded()
    {
        var sw = new LearningSwitch(2);
        Assert.Equal(DropReason.MAC_IEEE_MAC_CONTROL, sw.Forward(0, Frame(MacAddress.Parse("01:80:c2:00:00:01"), A), 0).Reason);
        Assert.Equal(DropReason.SIM_BRIDGE_LINK_LOCAL, sw.Forward(0, Frame(MacAddress.Parse("01:80:c2:00:00:0e"), A), 0).Reason);
        Assert.Null(sw.Forward(0, Frame(B, A), 0).Reason);
        Assert.Equal(2, sw.Stats.Dropped);
        Assert.Equal(0, sw.Stats.DroppedInvalid);
    }

    [Fact]
    public void SetPortUp_PortDown_ExcludedFromFloodingAndEntriesFlushed()
    {
        var sw = new LearningSwitch(3);
        sw.Forward(2, Frame(MacAddress.Broadcast, C), 0);
        sw.SetPortUp(2, false);
        Assert.Null(sw.PortOf(C, 1));
        Assert.Equal(new[] { 1 }, sw.Forward(0, Frame(C, A), 1).OutPorts);
    }

    [Fact]
    public void FormatFdb_LearnedEntries_PrintedLikeBridgeFdbShow()
    {
        var sw = new LearningSwitch(2, portNames: new[] { "veth0", "veth1" });
        sw.Forward(1, Frame(MacAddress.Broadcast, B), 0);
        sw.Forward(0, Frame(MacAddress.Broadcast, A), 0);
        Assert.Equal(
            "02:00:00:00:00:0a dev veth0 master br0\n" +
            "02:00:00:00:00:0b dev veth1 master br0\n",
            sw.FormatFdb());
        Assert.Equal("", sw.FormatFdb(300_000));
    }
}
