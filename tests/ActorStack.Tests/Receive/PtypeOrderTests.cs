using ActorStack.Actors.Namespaces;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Ipv4Udp;

namespace ActorStack.Tests.Receive;

/// <summary>
/// <c>dev_add_pack</c> puts a registration at the head of its list (<c>list_add_rcu(&amp;pt-&gt;list, head)</c>), so
/// <c>__netif_receive_skb_core</c> hands a frame to the newest tap / handler first; a device's own list follows the
/// global one.
/// </summary>
public sealed class PtypeOrderTests
{
    private static PacketTypeRegistration Reg(ushort type, string name, string? dev = null) => new(type, new RecordingRef(name), dev);

    private static string[] Names(IEnumerable<PacketTypeRegistration> l) => l.Select(r => r.Handler.Path.Name).ToArray();

    [Fact]
    public void TwoTaps_NewestFirst()
    {
        var a = Reg(EtherType.All, "a");
        var b = Reg(EtherType.All, "b");
        var t = PtypeTable.Empty.Add(a).Add(b);
        Assert.Equal(["b", "a"], Names(t.All));
        Assert.Equal(["a"], Names(t.Remove(b).All));
    }

    [Fact]
    public void TwoHandlers_NewestFirst_DeviceOnesAfterTheGlobalOnes()
    {
        var ip = Reg(EtherType.Ipv4, "ip");
        var devOld = Reg(EtherType.Ipv4, "eth0-old", "eth0");
        var second = Reg(EtherType.Ipv4, "second");
        var devNew = Reg(EtherType.Ipv4, "eth0-new", "eth0");
        var t = PtypeTable.Empty.Add(ip).Add(devOld).Add(second).Add(devNew);
        Assert.Equal(["second", "ip", "eth0-new", "eth0-old"], Names(t.Base[EtherType.Ipv4]));
    }
}
