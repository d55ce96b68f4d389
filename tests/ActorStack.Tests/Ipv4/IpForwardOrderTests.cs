using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Ipv4Udp;

namespace ActorStack.Tests.Ipv4;

/// <summary>
/// <see cref="IpForward"/> without actors: Linux looks the input route up first (<c>ip_rcv_finish</c> →
/// <c>ip_route_input_noref</c>; no route → <c>ip_error</c>: ICMP net unreachable, InNoRoutes) and checks the TTL only
/// in <c>ip_forward</c>, which a routed packet reaches (TTL ≤ 1 → ICMP time exceeded, InHdrErrors). Router "r":
/// eth0 10.0.1.1/24, eth1 10.0.2.1/24, ip_forward on, no default route.
/// </summary>
public sealed class IpForwardOrderTests
{
    private readonly NetNamespace _ns;
    private readonly RecordingRef _icmp = new("icmp");
    private readonly RecordingRef _neigh = new("neigh");
    private readonly IpForward _fwd;

    public IpForwardOrderTests()
    {
        var settings = new HostSettings("r", 1, new SysctlSettings { IpForward = true },
        [
            new DeviceSettings("eth0", MacAddress.Parse("02:00:00:00:01:01"), Mtu: 1500, Addresses: [P("10.0.1.1/24")]),
            new DeviceSettings("eth1", MacAddress.Parse("02:00:00:00:02:01"), Mtu: 1500, Addresses: [P("10.0.2.1/24")]),
        ]);
        _ns = new NetNamespace(settings, seed: 1);
        _fwd = new IpForward(_ns, HostRefs.None with { Icmp = _icmp, Neighbour = _neigh, Drivers = [new RecordingRef("eth0"), new RecordingRef("eth1")] });
    }

    private static Ipv4Prefix P(string s) => Ipv4Prefix.TryParse(s, out var p) ? p : throw new FormatException(s);

    private static SkBuff Packet(string dst, byte ttl)
    {
        var pkt = new byte[Ipv4Header.MinLength + 8];
        Ipv4Header.Write(pkt, pkt.Length, 7, 0, ttl, IpProtocol.Udp, Ipv4Address.Parse("10.0.1.9"), Ipv4Address.Parse(dst));
        return new SkBuff(pkt, 1, 0, 0, 0, 1024) { NetworkOffset = 0, NetworkLength = pkt.Length, Protocol = EtherType.Ipv4, PktType = PacketKind.Host };
    }

    private (byte Type, byte Code) OnlyIcmp() => _icmp.Messages.OfType<IcmpSendError>().Select(e => (e.Type, e.Code)).Single();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(64)]
    public void NoRoute_NetUnreachable_WhateverTheTtl(byte ttl)
    {
        _fwd.Forward(Packet("192.168.7.7", ttl), 0);
        Assert.Equal((IcmpType.DestUnreach, IcmpCode.NetUnreach), OnlyIcmp());
        Assert.Equal(1, _ns.IpExt[IpExtMib.InNoRoutes]);
        Assert.Equal(0, _ns.Ip[IpMib.InHdrErrors]);
    }

    [Fact]
    public void Routed_Ttl1_TimeExceeded_Ttl2_Forwarded()
    {
        _fwd.Forward(Packet("10.0.2.7", 1), 0);
        Assert.Equal((IcmpType.TimeExceeded, IcmpCode.ExcTtl), OnlyIcmp());
        Assert.Equal((1L, 0L, 0L), (_ns.Ip[IpMib.InHdrErrors], _ns.IpExt[IpExtMib.InNoRoutes], _ns.Ip[IpMib.ForwDatagrams]));
        _icmp.Messages.Clear();
        _fwd.Forward(Packet("10.0.2.7", 2), 0);
        Assert.Empty(_icmp.Messages);
        Assert.Equal((1L, 1L), (_ns.Ip[IpMib.InHdrErrors], _ns.Ip[IpMib.ForwDatagrams]));
        // ip_decrease_ttl: the packet leaves (to ARP: 10.0.2.7 is unresolved) with TTL 1 and a header checksum that
        // is still valid (updated incrementally, RFC 1624).
        _fwd.Flush(ActorRefs.Nobody);
        var skb = Assert.Single(Assert.Single(_neigh.Messages.OfType<NeighOutput>()).Skbs);
        Assert.True(Ipv4Header.TryRead(skb.Network, out var h));
        Assert.Equal(((byte)1, true), (h.Ttl, h.ChecksumValid));
    }
}
