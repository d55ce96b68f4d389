using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Packets;

/// <summary>netfilter's <see cref="NfRule"/> and XDP's <see cref="XdpRule"/> over the flow dissector.</summary>
public class FlowMatcherTests
{
    private const int IpOff = EthernetHeader.Length;
    private static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1");

    private static byte[] Fragment(ushort flagsAndOffset)
    {
        var f = FlowDissectorTests.Tcp(40000, 80);
        var w = new Ipv4HeaderWriter(f.AsSpan(IpOff));
        w.FlagsAndOffset = flagsAndOffset;
        w.FillChecksum();
        return f;
    }

    [Fact]
    public void NfRule_Ports_MatchWholeAndFirstFragmentNotLater()
    {
        var rule = new NfRule(NfHook.PreRouting, NfVerdict.Drop, SourcePort: 40000, DestinationPort: 80);
        Assert.True(rule.Matches(FlowDissectorTests.Tcp().AsSpan(IpOff)));
        Assert.True(rule.Matches(Fragment(Ipv4Header.FlagMf).AsSpan(IpOff)));
        Assert.False(rule.Matches(Fragment(0x0010).AsSpan(IpOff)));
        Assert.False(new NfRule(NfHook.PreRouting, NfVerdict.Drop, DestinationPort: 81).Matches(FlowDissectorTests.Tcp().AsSpan(IpOff)));
    }

    [Fact]
    public void NfRule_AddressAndProtocol_MatchLaterFragmentToo()
    {
        var rule = new NfRule(NfHook.PreRouting, NfVerdict.Drop, Source: new Ipv4Prefix(A, 24), Protocol: IpProtocol.Tcp);
        Assert.True(rule.Matches(Fragment(0x0010).AsSpan(IpOff)));
        Assert.False((rule with { Protocol = IpProtocol.Udp }).Matches(Fragment(0x0010).AsSpan(IpOff)));
    }

    [Fact]
    public void NfRule_PortsCutShort_NoMatchNoThrow()
    {
        var ip = FlowDissectorTests.Tcp().AsSpan(IpOff, Ipv4Header.MinLength + 3);
        Assert.False(new NfRule(NfHook.PreRouting, NfVerdict.Drop, SourcePort: 40000).Matches(ip));
        Assert.True(new NfRule(NfHook.PreRouting, NfVerdict.Drop, Source: new Ipv4Prefix(A, 32)).Matches(ip));
    }

    [Fact]
    public void XdpRule_DestinationPort_TcpYesIcmpNo()
    {
        var rule = new XdpRule(XdpAction.Drop, DestinationPort: 80);
        Assert.True(rule.Matches(FlowDissectorTests.Tcp()));
        Assert.False(new XdpRule(XdpAction.Drop, DestinationPort: 81).Matches(FlowDissectorTests.Tcp()));
        Assert.False(rule.Matches(ArpPacket.Request(new MacAddress(1), A, A)));
    }

    [Fact]
    public void XdpRule_IhlPastTheFrame_NoMatchNoThrow()
    {
        var f = FlowDissectorTests.Tcp().AsSpan(0, IpOff + Ipv4Header.MinLength + 4).ToArray();
        f[IpOff] = 0x4F; // IHL 15: 60 bytes of header, 24 present
        Assert.False(new XdpRule(XdpAction.Drop, DestinationPort: 80).Matches(f));
        Assert.True(new XdpRule(XdpAction.Drop, EtherType: EtherType.Ipv4).Matches(f));
    }

    [Fact]
    public void XdpProgram_FirstMatchingRuleDecides()
    {
        var prog = new XdpProgram("p", ImmutableArray.Create(
            new XdpRule(XdpAction.Pass, EtherType: EtherType.Arp),
            new XdpRule(XdpAction.Redirect, IpProtocol: IpProtocol.Tcp, DestinationPort: 80, RedirectDevice: "eth1"),
            new XdpRule(XdpAction.Drop, IpProtocol: IpProtocol.Tcp)), XdpAction.Aborted);
        Assert.Equal(XdpAction.Redirect, prog.Run(FlowDissectorTests.Tcp(), out var dev));
        Assert.Equal("eth1", dev);
        Assert.Equal(XdpAction.Drop, prog.Run(FlowDissectorTests.Tcp(dport: 22), out dev));
        Assert.Null(dev);
        Assert.Equal(XdpAction.Aborted, prog.Run(new byte[10], out _));
    }
}
