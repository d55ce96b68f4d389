using System.Buffers.Binary;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Tests.Icmp;

/// <summary>
/// <see cref="IcmpCore"/> without actors: <c>icmp_rcv</c> and <c>__icmp_send</c> on byte fixtures, with time
/// passed in; the decisions (messages built, errors handed up) and the MIB counters asserted exactly. Host "h":
/// eth0 10.0.0.2/24, permanent neighbour 10.0.0.1, 192.168.0.0/16 via 10.0.0.1.
/// </summary>
public sealed class IcmpCoreTests
{
    private static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    private static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Remote = Ipv4Address.Parse("192.168.1.1");
    private static readonly long T0 = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    private readonly NetNamespace _ns;
    private readonly IcmpCore _core;
    private readonly IcmpDecisions _d = new();

    public IcmpCoreTests()
    {
        var settings = new HostSettings("h", 1, new SysctlSettings(),
            [new DeviceSettings("eth0", HostMac, Mtu: 1500, Addresses: [new Ipv4Prefix(HostIp, 24)])])
        {
            Routes = [new RouteSettings(new Ipv4Prefix(Ipv4Address.Parse("192.168.0.0"), 16), PeerIp)],
            Neighbours = [new NeighbourSettings(PeerIp, PeerMac, "eth0")],
        };
        _ns = new NetNamespace(settings, seed: 1);
        _core = new IcmpCore(_ns, IcmpSettings.Default, new IcmpRateLimiter(_ns.Sysctl.Icmp), new IpOutput(_ns, HostRefs.None));
    }

    private long this[IcmpMib c] => _ns.Icmp[c];

    private static byte[] Ip(Ipv4Address src, Ipv4Address dst, byte protocol, ReadOnlySpan<byte> payload,
        byte tos = 0, ushort flagsAndOffset = 0)
    {
        var p = new byte[20 + payload.Length];
        payload.CopyTo(p.AsSpan(20));
        Ipv4Header.Write(p, p.Length, 1, flagsAndOffset, 64, protocol, src, dst, tos);
        return p;
    }

    private static byte[] Udp(Ipv4Address src, Ipv4Address dst, int payload = 4, ushort flagsAndOffset = 0)
    {
        var d = new byte[8 + payload];
        for (int i = 8; i < d.Length; i++) d[i] = (byte)i;
        UdpHeader.Write(d, 5000, 9, src, dst);
        return Ip(src, dst, IpProtocol.Udp, d, flagsAndOffset: flagsAndOffset);
    }

    /// <summary>A buffer as <c>ip_local_deliver</c> hands it over: headroom, IP header, ICMP message.</summary>
    private static SkBuff Skb(byte[] ip, int ifindex = 2)
    {
        var frame = new byte[14 + ip.Length];
        ip.CopyTo(frame, 14);
        return new SkBuff(frame, ifindex, 0, 0, 0, SkBuff.TruesizeFor(frame.Length))
        {
            NetworkOffset = 14, NetworkLength = ip.Length, TransportOffset = 34, PktType = PacketKind.Host, Protocol = EtherType.Ipv4,
        };
    }

    private static byte[] Ping(ushort seq, Ipv4Address? dst = null, int data = 8)
        => Ip(PeerIp, dst ?? HostIp, IpProtocol.Icmp, IcmpPacket.EchoRequest(0x77, seq, Enumerable.Range(0, data).Select(i => (byte)i).ToArray()));

    private static byte[] IpOf(in IcmpTransmit t) => t.Skb.Data.Span.Slice(t.Skb.NetworkOffset, t.Skb.NetworkLength).ToArray();

    [Fact]
    public void IcmpRcv_EchoRequest_OneEchoReplyToThePeer()
    {
        var req = Ping(5, data: 56);
        Assert.Null(_core.IcmpRcv(Skb(req), T0, _d));

        var t = Assert.Single(_d.Transmits);
        Assert.Empty(_d.Deliveries);
        Assert.Equal(2, t.Route.Device.Ifindex);
        Assert.Equal(PeerIp, t.Route.NextHop);
        var ip = IpOf(t);
        Assert.Equal(84, ip.Length);
        Assert.True(Ipv4Header.TryRead(ip, out var h));
        Assert.True(h.ChecksumValid);
        Assert.Equal((HostIp, PeerIp, IpProtocol.Icmp, (byte)64, false), (h.Source, h.Destination, h.Protocol, h.Ttl, h.DontFragment));
        Assert.Equal(new byte[] { IcmpType.EchoReply, 0 }, ip[20..22]);
        Assert.Equal(0, Checksum.Compute(ip.AsSpan(20)));
        Assert.Equal(req[24..], ip[24..]);

        Assert.Equal((1, 1, 1, 1), (this[IcmpMib.InMsgs], this[IcmpMib.InEchos], this[IcmpMib.OutMsgs], this[IcmpMib.OutEchoReps]));
        Assert.Equal((1L, 1L), (_ns.IcmpInType[IcmpType.Echo], _ns.IcmpOutType[IcmpType.EchoReply]));
        Assert.Equal(0, this[IcmpMib.InErrors]);
    }

    [Fact]
    public void IcmpRcv_BadChecksum_IcmpCsumDrop()
    {
        var req = Ping(1);
        req[^1] ^= 0xFF;
        Assert.Equal(DropReason.ICMP_CSUM, _core.IcmpRcv(Skb(req), T0, _d));
        Assert.Empty(_d.Transmits);
        Assert.Equal((1, 1, 1, 0), (this[IcmpMib.InMsgs], this[IcmpMib.InCsumErrors], this[IcmpMib.InErrors], this[IcmpMib.InEchos]));
    }

    [Fact]
    public void IcmpRcv_EchoToSubnetBroadcast_InvalidProtoDrop()
    {
        Assert.Equal(DropReason.INVALID_PROTO, _core.IcmpRcv(Skb(Ping(1, Ipv4Address.Parse("10.0.0.255"))), T0, _d));
        Assert.Empty(_d.Transmits);
        Assert.Equal((1, 1, 1, 0), (this[IcmpMib.InMsgs], this[IcmpMib.InEchos], this[IcmpMib.InErrors], this[IcmpMib.OutMsgs]));
    }

    [Fact]
    public void IcmpRcv_UnknownType_UnhandledProtoDrop()
    {
        var m = new byte[8];
        m[0] = 40;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(m));
        Assert.Equal(DropReason.UNHANDLED_PROTO, _core.IcmpRcv(Skb(Ip(PeerIp, HostIp, IpProtocol.Icmp, m)), T0, _d));
        Assert.Equal((1, 1, 1L), (this[IcmpMib.InMsgs], this[IcmpMib.InErrors], _ns.IcmpInType[40]));
    }

    /// <summary>
    /// <c>icmp_rcv</c>'s accounting of malformed and unknown messages, as Linux 6.x: the checksum over the whole message
    /// first (an empty one folds to 0xffff: <c>csum_error</c>, InCsumErrors + InErrors, no per-type count), then the
    /// 8-byte header (<c>pskb_pull</c> fails: InErrors only, no per-type count); a type above <c>NR_ICMP_TYPES</c> is
    /// counted in IcmpMsg and InErrors (UNHANDLED_PROTO), except RFC 8335's <c>ICMP_EXT_ECHO</c> (42), which
    /// <c>icmp_echo</c> consumes without a reply while <c>icmp_echo_enable_probe</c> is off, and <c>ICMP_EXT_ECHOREPLY</c>
    /// (43, to <c>ping_rcv</c>): InMsgs and InType42/43, no InErrors. Every row measured on 6.18 (raw frames to lo in a
    /// namespace, /proc/net/snmp deltas).
    /// </summary>
    [Theory]
    [InlineData(0, 0, true, "ICMP_CSUM", 1, 1, -1)]   // empty: csum of nothing is 0xffff
    [InlineData(4, 8, false, "PKT_TOO_SMALL", 0, 1, -1)] // valid checksum, no whole header
    [InlineData(8, 8, true, "ICMP_CSUM", 1, 1, -1)]    // whole header, bad checksum
    [InlineData(8, 19, false, "UNHANDLED_PROTO", 0, 1, 19)]
    [InlineData(8, 42, false, null, 0, 0, 42)]         // ICMP_EXT_ECHO: consumed
    [InlineData(8, 43, false, null, 0, 0, 43)]         // ICMP_EXT_ECHOREPLY: ping_rcv
    [InlineData(8, 44, false, "UNHANDLED_PROTO", 0, 1, 44)]
    [InlineData(8, 255, false, "UNHANDLED_PROTO", 0, 1, 255)]
    public void IcmpRcv_MalformedAndUnknown_CountedAsIcmpRcv(int length, byte type, bool badSum, string? reason, long csumErrors,
        long inErrors, int typeCounted)
    {
        var m = new byte[length];
        if (length > 0) m[0] = type;
        if (length >= 4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(m));
            if (badSum) m[2] ^= 0x01;
        }
        var got = _core.IcmpRcv(Skb(Ip(PeerIp, HostIp, IpProtocol.Icmp, m)), T0, _d);
        Assert.Equal(reason, got?.ToString());
        Assert.Empty(_d.Transmits);
        Assert.Equal((1L, csumErrors, inErrors), (this[IcmpMib.InMsgs], this[IcmpMib.InCsumErrors], this[IcmpMib.InErrors]));
        for (int t = 0; t < _ns.IcmpInType.Length; t++) Assert.Equal(t == typeCounted ? 1 : 0, _ns.IcmpInType[t]);
    }

    /// <summary>An error from the router about <paramref name="sent"/>, a datagram this host sent.</summary>
    private static byte[] ErrorAbout(byte type, byte code, uint info, byte[] sent)
        => Ip(PeerIp, HostIp, IpProtocol.Icmp, IcmpPacket.Error(type, code, info, sent)!);

    [Theory]
    [InlineData(IpProtocol.Udp)]
    [InlineData(IpProtocol.Tcp)]
    public void IcmpUnreach_PortUnreach_DeliveredToTheQuotedProtocol(byte protocol)
    {
        var sent = Ip(HostIp, Remote, protocol, new byte[20]);
        Assert.Null(_core.IcmpRcv(Skb(ErrorAbout(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, sent)), T0, _d));

        Assert.Empty(_d.Transmits);
        var e = Assert.Single(_d.Deliveries);
        Assert.Equal(protocol, e.Protocol);
        Assert.Equal((IcmpType.DestUnreach, IcmpCode.PortUnreach, 0u, PeerIp), (e.Error.Type, e.Error.Code, e.Error.Info, e.Error.From));
        Assert.Equal(sent, e.Error.Offending.ToArray());
        Assert.Equal((1, 1, 0), (this[IcmpMib.InMsgs], this[IcmpMib.InDestUnreachs], this[IcmpMib.InErrors]));
    }

    [Fact]
    public void IcmpUnreach_FragNeeded_LearnsPmtuAndDeliversNextHopMtu()
    {
        var sent = Udp(HostIp, Remote, payload: 20);
        Assert.Null(_core.IcmpRcv(Skb(ErrorAbout(IcmpType.DestUnreach, IcmpCode.FragNeeded, 1400, sent)), T0, _d));
        Assert.Equal(1400u, Assert.Single(_d.Deliveries).Error.Info);
        // __ip_rt_update_pmtu is the FIB owner's: the core asks for it, bounded by the route's device MTU.
        Assert.Equal(new PmtuUpdate(Remote, 1400, 1500, T0), Assert.Single(_d.PmtuUpdates));
        Assert.Null(_ns.Pmtu.Get(Remote, T0));
    }

    [Fact]
    public void IcmpUnreach_QuoteWithoutEightPayloadBytes_PktTooSmall()
    {
        var sent = Udp(HostIp, Remote);
        var e = IcmpPacket.Error(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, sent)!;
        var shortened = e[..(8 + 20 + 4)];
        BinaryPrimitives.WriteUInt16BigEndian(shortened.AsSpan(2), 0);
        BinaryPrimitives.WriteUInt16BigEndian(shortened.AsSpan(2), Checksum.Compute(shortened));
        Assert.Equal(DropReason.PKT_TOO_SMALL, _core.IcmpRcv(Skb(Ip(PeerIp, HostIp, IpProtocol.Icmp, shortened)), T0, _d));
        Assert.Empty(_d.Deliveries);
        Assert.Equal((1, 1), (this[IcmpMib.InDestUnreachs], this[IcmpMib.InErrors]));
    }

    [Fact]
    public void IcmpRcv_Timestamp_ReplyCarriesMillisecondsSinceMidnight()
    {
        var m = new byte[20];
        m[0] = IcmpPacket.TypeTimestamp;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), 0x00AB0001);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(8), 123456);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(m));
        long now = T0 + TimeSpan.FromMilliseconds(3_600_250).Ticks;
        Assert.Null(_core.IcmpRcv(Skb(Ip(PeerIp, HostIp, IpProtocol.Icmp, m)), now, _d));

        var reply = IpOf(Assert.Single(_d.Transmits)).AsSpan(20);
        Assert.Equal(20, reply.Length);
        Assert.Equal(IcmpPacket.TypeTimestampReply, reply[0]);
        Assert.Equal(0x00AB0001u, BinaryPrimitives.ReadUInt32BigEndian(reply[4..]));
        Assert.Equal(123456u, BinaryPrimitives.ReadUInt32BigEndian(reply[8..]));
        Assert.Equal(3_600_250u, BinaryPrimitives.ReadUInt32BigEndian(reply[12..]));
        Assert.Equal(3_600_250u, BinaryPrimitives.ReadUInt32BigEndian(reply[16..]));
        Assert.Equal(0, Checksum.Compute(reply));
        Assert.Equal((1, 1), (this[IcmpMib.InTimestamps], this[IcmpMib.OutTimestampReps]));
    }

    [Fact]
    public void IcmpSend_PortUnreach_QuotesTheDatagramWithControlTos()
    {
        var off = Udp(Remote, HostIp, payload: 100);
        _core.IcmpSend(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, off, 2), T0, _d);

        var ip = IpOf(Assert.Single(_d.Transmits));
        Assert.Equal(20 + 8 + off.Length, ip.Length);
        Assert.True(Ipv4Header.TryRead(ip, out var h));
        Assert.Equal((HostIp, Remote, (byte)0xC0, (byte)64), (h.Source, h.Destination, h.Tos, h.Ttl));
        Assert.Equal(new byte[] { IcmpType.DestUnreach, IcmpCode.PortUnreach }, ip[20..22]);
        Assert.Equal(0, Checksum.Compute(ip.AsSpan(20)));
        Assert.Equal(off, ip[28..]);
        Assert.Equal((1, 1), (this[IcmpMib.OutMsgs], this[IcmpMib.OutDestUnreachs]));
    }

    [Fact]
    public void IcmpSend_LargeDatagram_QuoteFillsTheErrorTo576Bytes()
    {
        _core.IcmpSend(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, Udp(Remote, HostIp, payload: 1000), 2), T0, _d);
        Assert.Equal(576, IpOf(Assert.Single(_d.Transmits)).Length);
    }

    public static TheoryData<string> Forbidden => new() { "error about an error", "fragment", "broadcast", "multicast", "source any" };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void IcmpSend_ForbiddenOffender_NothingSentNothingCounted(string which)
    {
        byte[] off = which switch
        {
            "error about an error" => Ip(Remote, HostIp, IpProtocol.Icmp, IcmpPacket.Error(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, Udp(HostIp, Remote))!),
            "fragment" => Udp(Remote, HostIp, flagsAndOffset: 10),
            "broadcast" => Udp(Remote, Ipv4Address.Parse("10.0.0.255")),
            "multicast" => Udp(Remote, Ipv4Address.Parse("224.0.0.1")),
            _ => Udp(Ipv4Address.Any, HostIp),
        };
        _core.IcmpSend(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, off, 2), T0, _d);
        Assert.Empty(_d.Transmits);
        Assert.Equal((0, 0, 0, 0), (this[IcmpMib.OutMsgs], this[IcmpMib.OutErrors], this[IcmpMib.OutRateLimitGlobal], this[IcmpMib.OutRateLimitHost]));
    }

    [Fact]
    public void IcmpSend_OneDestination_SixThenOnePerSecond()
    {
        var m = new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, Udp(PeerIp, HostIp), 2);
        for (int i = 0; i < 10; i++) _core.IcmpSend(m, T0, _d);
        Assert.Equal(6, _d.Transmits.Count);
        Assert.Equal((4, 0), (this[IcmpMib.OutRateLimitHost], this[IcmpMib.OutRateLimitGlobal]));

        _d.Clear();
        for (int i = 0; i < 3; i++) _core.IcmpSend(m, T0 + TimeSpan.TicksPerSecond, _d);
        Assert.Single(_d.Transmits);
        Assert.Equal((6, 7), (this[IcmpMib.OutRateLimitHost], this[IcmpMib.OutDestUnreachs]));
    }

    [Fact]
    public void IcmpSend_NoRouteBack_OutErrorsAndOutNoRoutesDrop()
    {
        _core.IcmpSend(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, Udp(Ipv4Address.Parse("172.16.0.1"), HostIp), 2), T0, _d);
        Assert.Empty(_d.Transmits);
        Assert.Equal((1, 0), (this[IcmpMib.OutErrors], this[IcmpMib.OutMsgs]));
        var drop = Assert.Single(_ns.Drops.Snapshot());
        Assert.Equal(new DropSite(DropReason.IP_OUTNOROUTES, "icmp/send"), drop.Site);
        Assert.Equal(1, drop.Packets);
    }
}
