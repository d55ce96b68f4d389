using ActorStack.Actors.Ipv4;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Ipv4;

/// <summary>The netfilter table as an immutable value: adding a rule publishes a new table; counters are shared.</summary>
public class NetfilterTableTests
{
    private static readonly Ipv4Address Src = Ipv4Address.Parse("10.0.0.2"), Dst = Ipv4Address.Parse("10.0.0.1");

    // A 20-byte IPv4 header + 8-byte UDP header from Src to Dst, to port 9.
    private static byte[] Udp()
    {
        var p = new byte[28];
        p[0] = 0x45; p[3] = 28; p[8] = 64; p[9] = IpProtocol.Udp;
        Src.Write(p.AsSpan(12));
        Dst.Write(p.AsSpan(16));
        p[22] = 0; p[23] = 9;
        return p;
    }

    [Fact]
    public void Add_ReturnsNewTable_OldTableUnchanged()
    {
        var empty = Netfilter.Empty;
        var one = empty.Add(new NfRule(NfHook.LocalIn, NfVerdict.Drop, DestinationPort: 9));
        Assert.Empty(empty.Rules);
        Assert.Single(one.Rules);
        Assert.Equal(NfVerdict.Accept, empty.Run(NfHook.LocalIn, Udp()));
        Assert.Equal(NfVerdict.Drop, one.Run(NfHook.LocalIn, Udp()));
        Assert.Equal(NfVerdict.Accept, one.Run(NfHook.Forward, Udp()));
        Assert.Equal(1, one.Hits(0));
    }

    [Fact]
    public void Hits_CountedThroughOlderTable_SeenInNewerTable()
    {
        var one = Netfilter.Empty.Add(new NfRule(NfHook.PreRouting, NfVerdict.Accept, Protocol: IpProtocol.Udp));
        var two = one.Add(new NfRule(NfHook.PreRouting, NfVerdict.Drop));
        one.Run(NfHook.PreRouting, Udp());   // a reader still holding the table before the add
        two.Run(NfHook.PreRouting, Udp());
        Assert.Equal(2, two.Hits(0));
        Assert.Equal(0, two.Hits(1));
        Assert.Equal(2, one.Hits(0));
    }
}
