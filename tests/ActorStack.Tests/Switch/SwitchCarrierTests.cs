using Akka.Actor;
using System.Collections.Immutable;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Bridge;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Switch;

/// <summary>A cut cable takes its bridge port down: the port's addresses are forgotten and nothing is flooded to it until the carrier returns.</summary>
public class SwitchCarrierTests() : EngineKit("switch-carrier")
{
    private static readonly MacAddress A = MacAddress.Parse("02:00:00:00:00:0a");
    private static readonly MacAddress B = MacAddress.Parse("02:00:00:00:00:0b");

    private static WireFrames Frame(MacAddress dst, MacAddress src)
    {
        var f = new byte[60];
        EthernetHeader.Write(f, dst, src, EtherType.Ipv4);
        return new WireFrames([f]);
    }

    [Fact]
    public async Task CarrierOff_PortDownAndFlushed_CarrierOn_PortForwardsAgain()
    {
        var sw = Sys.ActorOf(SwitchActor.Props(new SwitchSettings("sw1", 3)));
        var w = Enumerable.Range(1, 3).Select(i => Probe()).ToArray();
        for (int i = 0; i < 3; i++)
        {
            sw.Tell(new AttachSwitchPort(i + 1, w[i].Ref), TestActor);
            await Expect<SwitchPortAttached>();
        }
        sw.Tell(Frame(A, B), w[1].Ref);                 // B learned on port 2, flooded to 1 and 3
        await Expect<WireFrames>(w[0]);
        await Expect<WireFrames>(w[2]);

        sw.Tell(new CarrierChanged(false), w[1].Ref);   // port 2's cable is cut
        sw.Tell(Frame(B, A), w[0].Ref);                 // to B: B was forgotten, and port 2 is down: only port 3
        await Expect<WireFrames>(w[2]);
        await ExpectNothingNow(w[1]);
        var down = await Ask<SwitchStatsSnapshot>(sw, GetSwitchStats.Instance);
        Assert.False(down.Port(2).Up);

        sw.Tell(new CarrierChanged(true), w[1].Ref);    // restored
        sw.Tell(Frame(B, A), w[0].Ref);
        Assert.Equal(1, (await Expect<WireFrames>(w[1])).Count);
        var up = await Ask<SwitchStatsSnapshot>(sw, GetSwitchStats.Instance);
        Assert.True(up.Port(2).Up);
    }
}
