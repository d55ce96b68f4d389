using System.Buffers.Binary;
using Akka.Actor;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Tests.Icmp;

public class IcmpActorTests() : IcmpKit("icmp-actor")
{
    [Fact]
    public async Task Echo_Request_ReplyWithSameIdSeqDataAndValidChecksums()
    {
        Start();
        var req = Ping(5, tos: 0x10, data: 56);
        Deliver(req);
        var f = await NextFrame();

        Assert.Equal(14 + 84, f.Length);
        Assert.Equal(PeerMac, MacAddress.Read(f));
        Assert.Equal(HostMac, MacAddress.Read(f.AsSpan(6)));
        Assert.True(Ipv4Header.TryRead(IpOf(f), out var h));
        Assert.True(h.ChecksumValid);
        Assert.Equal(HostIp, h.Source);
        Assert.Equal(PeerIp, h.Destination);
        Assert.Equal(IpProtocol.Icmp, h.Protocol);
        Assert.Equal(64, h.Ttl);
        Assert.Equal(0x10, h.Tos);
        Assert.False(h.DontFragment);
        Assert.Equal(84, h.TotalLength);
        var icmp = f.AsSpan(34).ToArray();
        Assert.Equal(0, Checksum.Compute(icmp));
        Assert.Equal(new byte[] { IcmpType.EchoReply, 0 }, icmp[..2]);
        Assert.Equal(req[24..], icmp[4..]); // id, sequence and data unchanged

        Assert.Equal(1, this[IcmpMib.InMsgs]);
        Assert.Equal(1, this[IcmpMib.InEchos]);
        Assert.Equal(1, this[IcmpMib.OutMsgs]);
        Assert.Equal(1, this[IcmpMib.OutEchoReps]);
        Assert.Equal(1, Ns.IcmpInType[IcmpType.Echo]);
        Assert.Equal(1, Ns.IcmpOutType[IcmpType.EchoReply]);
        Assert.Equal(1, Ns.Ip[IpMib.OutRequests]);
    }

    [Fact]
    public async Task Echo_IgnoreAll_CountedNoReply()
    {
        Start(new SysctlSettings { IcmpEchoIgnoreAll = true });
        Deliver(Ping(1));
        // The sentinel ping is ignored as well: an error the actor sends afterwards must be the first frame.
        Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, UdpPacket(PeerIp, HostIp, 5000, 9), 2));
        var f = await NextFrame();
        Assert.Equal(IcmpType.DestUnreach, f[34]);
        Assert.Equal(1, this[IcmpMib.InEchos]);
        Assert.Equal(0, this[IcmpMib.OutEchoReps]);
        Assert.Equal(0, this[IcmpMib.InErrors]);
    }

    [Fact]
    public async Task Echo_ToSubnetBroadcast_IgnoredByDefault()
    {
        Start();
        Deliver(Ping(1, dst: Ipv4Address.Parse("10.0.0.255")));
        await AssertNothingSent();
        Assert.Equal(2, this[IcmpMib.InEchos]);
        Assert.Equal(1, this[IcmpMib.InErrors]);
        Assert.Equal(1, this[IcmpMib.OutEchoReps]);
    }

    [Fact]
    public async Task Echo_ToBroadcastWithIgnoreBroadcastsOff_ReplyFromDeviceAddress()
    {
        Start(new SysctlSettings { IcmpEchoIgnoreBroadcasts = false });
        Deliver(Ping(1, dst: Ipv4Address.Parse("10.0.0.255")));
        var f = await NextFrame();
        Ipv4Header.TryRead(IpOf(f), out var h);
        Assert.Equal(HostIp, h.Source);
        Assert.Equal(PeerIp, h.Destination);
    }

    [Fact]
    public async Task Rcv_BadChecksum_InCsumErrorsAndInErrorsNoReply()
    {
        Start();
        var bad = Ping(1);
        bad[30] ^= 0x55; // inside the ICMP data
        Deliver(bad);
        await AssertNothingSent();
        Assert.Equal(2, this[IcmpMib.InMsgs]);
        Assert.Equal(1, this[IcmpMib.InCsumErrors]);
        Assert.Equal(1, this[IcmpMib.InErrors]);
        Assert.Equal(1, this[IcmpMib.InEchos]); // the sentinel only: per-type counts come after the checksum
        Assert.Equal(1, Ns.IcmpInType[IcmpType.Echo]);
    }

    [Fact]
    public async Task Rcv_Truncated_InErrorsOnly()
    {
        Start();
        var m = new byte[] { 8, 0, 0, 0 };
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(m));
        Deliver(Ip(PeerIp, HostIp, IpProtocol.Icmp, m));
        await AssertNothingSent();
        Assert.Equal(1, this[IcmpMib.InErrors]);
        Assert.Equal(0, this[IcmpMib.InCsumErrors]);
        Assert.Equal(1, this[IcmpMib.InEchos]);
    }

    [Fact]
    public async Task Rcv_UnknownType_InErrorsCountedInIcmpMsg()
    {
        Start();
        var m = new byte[8];
        m[0] = 44; // above NR_ICMP_TYPES and not RFC 8335's 42/43 (which are no errors: IcmpCoreTests)
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(m));
        Deliver(Ip(PeerIp, HostIp, IpProtocol.Icmp, m));
        await AssertNothingSent();
        Assert.Equal(1, this[IcmpMib.InErrors]);
        Assert.Equal(1, Ns.IcmpInType[44]);
    }

    [Fact]
    public async Task SendError_PortUnreach_QuotesDatagramFromPingedAddressWithControlTos()
    {
        Start();
        var off = UdpPacket(PeerIp, HostIp, 5000, 9, tos: 0x10);
        Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, off, 2));
        var f = await NextFrame();
        Assert.True(Ipv4Header.TryRead(IpOf(f), out var h));
        Assert.True(h.ChecksumValid);
        Assert.Equal(HostIp, h.Source);
        Assert.Equal(PeerIp, h.Destination);
        Assert.Equal(0xD0, h.Tos); // RT_TOS(0x10) | IPTOS_PREC_INTERNETCONTROL
        Assert.Equal(64, h.Ttl);
        Assert.Equal(20 + 8 + off.Length, h.TotalLength);
        var icmp = f.AsSpan(34).ToArray();
        Assert.Equal(0, Checksum.Compute(icmp));
        Assert.Equal(new byte[] { 3, 3 }, icmp[..2]);
        Assert.Equal(new byte[4], icmp[4..8]);
        Assert.Equal(off, icmp[8..]);
        Assert.Equal(1, this[IcmpMib.OutMsgs]);
        Assert.Equal(1, this[IcmpMib.OutDestUnreachs]);
        Assert.Equal(1, Ns.IcmpOutType[IcmpType.DestUnreach]);
    }

    [Fact]
    public async Task SendError_LargeDatagram_ErrorIs576Bytes()
    {
        Start();
        var off = UdpPacket(PeerIp, HostIp, 5000, 9, payload: 1400);
        Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, off, 2));
        var f = await NextFrame();
        Ipv4Header.TryRead(IpOf(f), out var h);
        Assert.Equal(576, h.TotalLength);
        Assert.Equal(off[..548], f[42..]);
    }

    [Fact]
    public async Task SendError_FragNeeded_CarriesMtuAndIsSentFromRouteSource()
    {
        Start();
        // A datagram being forwarded from the peer toward 192.168.1.1, not addressed to this host.
        var off = UdpPacket(PeerIp, Remote, 5000, 9, payload: 100);
        Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.FragNeeded, 1280, off, 2));
        var f = await NextFrame();
        Ipv4Header.TryRead(IpOf(f), out var h);
        Assert.Equal(HostIp, h.Source);
        Assert.Equal(new byte[] { 3, 4, }, f[34..36]);
        Assert.Equal(1280, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(40)));
    }

    public static TheoryData<string> NotAnswered => ["icmp-error", "fragment", "broadcast-dst", "multicast-dst", "zero-src", "loopback-src"];

    [Theory]
    [MemberData(nameof(NotAnswered))]
    public async Task SendError_ForbiddenOffender_NotSent(string which)
    {
        Start();
        byte[] off = which switch
        {
            "icmp-error" => Ip(PeerIp, HostIp, IpProtocol.Icmp, IcmpPacket.DestUnreach(IcmpCode.PortUnreach, UdpPacket(HostIp, PeerIp, 9, 5000))!),
            "fragment" => UdpPacket(PeerIp, HostIp, 5000, 9, flagsAndOffset: 0x2000 | 185),
            "broadcast-dst" => UdpPacket(PeerIp, Ipv4Address.Parse("10.0.0.255"), 5000, 9),
            "multicast-dst" => UdpPacket(PeerIp, Ipv4Address.Parse("224.0.0.1"), 5000, 9),
            "zero-src" => UdpPacket(Ipv4Address.Any, HostIp, 68, 67),
            "loopback-src" => UdpPacket(Ipv4Address.Loopback, HostIp, 5000, 9),
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };
        Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, off, 2));
        await AssertNothingSent();
        Assert.Equal(0, this[IcmpMib.OutDestUnreachs]);
        Assert.Equal(1, this[IcmpMib.OutMsgs]);
    }

    [Fact]
    public async Task SendError_AboutEchoRequest_Sent()
    {
        Start();
        Icmp.Tell(new IcmpSendError(IcmpType.TimeExceeded, IcmpCode.ExcTtl, 0, Ping(3, dst: Remote), 2));
        var f = await NextFrame();
        Assert.Equal(IcmpType.TimeExceeded, f[34]);
        Assert.Equal(1, this[IcmpMib.OutTimeExcds]);
    }

    [Fact]
    public async Task SendError_NoRouteBack_OutErrors()
    {
        Start();
        Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, UdpPacket(Ipv4Address.Parse("172.16.0.1"), HostIp, 5000, 9), 2));
        await AssertNothingSent();
        Assert.Equal(1, this[IcmpMib.OutErrors]);
        Assert.Equal(0, this[IcmpMib.OutDestUnreachs]);
    }

    [Fact]
    public async Task RateLimit_OneDestination_SixThenOnePerSecond()
    {
        Start();
        for (int i = 0; i < 10; i++)
            Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, UdpPacket(PeerIp, HostIp, 5000, (ushort)(100 + i)), 2));
        Deliver(Ping(1));
        Assert.Equal(6, (await FramesUntilReply(1)).Count);
        Assert.Equal(4, this[IcmpMib.OutRateLimitHost]);
        Assert.Equal(0, this[IcmpMib.OutRateLimitGlobal]);

        Clock.Advance(TimeSpan.FromSeconds(1));
        for (int i = 0; i < 3; i++)
            Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, UdpPacket(PeerIp, HostIp, 5000, 9), 2));
        Deliver(Ping(2));
        Assert.Single(await FramesUntilReply(2));
        Assert.Equal(6, this[IcmpMib.OutRateLimitHost]);
        Assert.Equal(7, this[IcmpMib.OutDestUnreachs]);
        Assert.Equal(9, this[IcmpMib.OutMsgs]); // 7 errors and 2 echo replies
    }

    [Fact]
    public async Task RateLimit_ManyDestinations_GlobalBurstOf50()
    {
        Start();
        for (int i = 0; i < 60; i++)
        {
            var src = new Ipv4Address(Remote.Value + (uint)i);
            Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, UdpPacket(src, HostIp, 5000, 9), 2));
        }
        Deliver(Ping(1));
        Assert.Equal(50, (await FramesUntilReply(1)).Count);
        Assert.Equal(10, this[IcmpMib.OutRateLimitGlobal]);
        Assert.Equal(0, this[IcmpMib.OutRateLimitHost]);
    }

    [Fact]
    public async Task RateLimit_FragNeeded_NeverLimited()
    {
        Start();
        for (int i = 0; i < 20; i++)
            Icmp.Tell(new IcmpSendError(IcmpType.DestUnreach, IcmpCode.FragNeeded, 1400, UdpPacket(PeerIp, Remote, 5000, 9), 2));
        Deliver(Ping(1));
        Assert.Equal(20, (await FramesUntilReply(1)).Count);
        Assert.Equal(0, this[IcmpMib.OutRateLimitHost] + this[IcmpMib.OutRateLimitGlobal]);
    }

    /// <summary>An ICMP error from the router (10.0.0.1) about a UDP datagram this host sent to 192.168.1.1.</summary>
    private static byte[] ErrorFromRouter(byte type, byte code, uint info, int quotedPayload = 20)
    {
        var sent = UdpPacket(HostIp, Remote, 40000, 53, payload: quotedPayload);
        var e = IcmpPacket.Error(type, code, info, sent)!;
        return Ip(PeerIp, HostIp, IpProtocol.Icmp, e);
    }

    [Fact]
    public async Task FragNeeded_Received_LowersPmtuAndDeliversToUdp()
    {
        Start();
        Deliver(ErrorFromRouter(IcmpType.DestUnreach, IcmpCode.FragNeeded, 1400));
        var e = await Udp.ExpectMsgAsync<IcmpErrorReceived>(Wait);
        Assert.Equal((byte)3, e.Type);
        Assert.Equal((byte)4, e.Code);
        Assert.Equal(1400u, e.Info);
        Assert.Equal(PeerIp, e.From);
        Assert.Equal(20 + 8 + 20, e.Offending.Length);
        Assert.Equal(Remote, Ipv4Address.Read(e.Offending.Span[16..]));
        await RoutingSynced();
        Assert.Equal(1400, Ns.Pmtu.Get(Remote, Clock.Now.UtcTicks));
        Assert.Equal(1, this[IcmpMib.InDestUnreachs]);
        Assert.Equal(0, this[IcmpMib.InErrors]);

        var r = new IpOutput(Ns, HostRefs.None).Route(Remote, Ipv4Address.Any, 0, Clock.Now.UtcTicks, out var rt);
        Assert.Equal(Errno.OK, r);
        Assert.Equal(1400, rt.Mtu);
    }

    [Theory]
    [InlineData(300, 552)]
    [InlineData(0, 552)]
    [InlineData(600, 600)]
    [InlineData(9000, null)]
    public async Task FragNeeded_Mtu_FlooredAtMinPmtuAndBoundedByDevice(int mtu, int? learned)
    {
        Start();
        Deliver(ErrorFromRouter(IcmpType.DestUnreach, IcmpCode.FragNeeded, (uint)mtu));
        await Udp.ExpectMsgAsync<IcmpErrorReceived>(Wait);
        await RoutingSynced();
        Assert.Equal(learned, Ns.Pmtu.Get(Remote, Clock.Now.UtcTicks));
    }

    [Fact]
    public async Task FragNeeded_PmtuExpiresAfterMtuExpires()
    {
        Start();
        Deliver(ErrorFromRouter(IcmpType.DestUnreach, IcmpCode.FragNeeded, 1000));
        await Udp.ExpectMsgAsync<IcmpErrorReceived>(Wait);
        await RoutingSynced();
        Clock.Advance(TimeSpan.FromSeconds(599));
        Assert.Equal(1000, Ns.Pmtu.Get(Remote, Clock.Now.UtcTicks));
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(Ns.Pmtu.Get(Remote, Clock.Now.UtcTicks));
    }

    [Fact]
    public async Task Unreach_PortAndParamProb_DeliveredWithInfo()
    {
        Start();
        Deliver(ErrorFromRouter(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0),
            ErrorFromRouter(IcmpType.ParameterProb, 0, 9),
            ErrorFromRouter(IcmpType.TimeExceeded, IcmpCode.ExcTtl, 0));
        var a = await Udp.ExpectMsgAsync<IcmpErrorReceived>(Wait);
        var b = await Udp.ExpectMsgAsync<IcmpErrorReceived>(Wait);
        var c = await Udp.ExpectMsgAsync<IcmpErrorReceived>(Wait);
        Assert.Equal(((byte)3, (byte)3, 0u), (a.Type, a.Code, a.Info));
        Assert.Equal(((byte)12, (byte)0, 9u), (b.Type, b.Code, b.Info));
        Assert.Equal(((byte)11, (byte)0, 0u), (c.Type, c.Code, c.Info));
        Assert.Null(Ns.Pmtu.Get(Remote, Clock.Now.UtcTicks));
        Assert.Equal(1, this[IcmpMib.InDestUnreachs]);
        Assert.Equal(1, this[IcmpMib.InParmProbs]);
        Assert.Equal(1, this[IcmpMib.InTimeExcds]);
    }

    [Fact]
    public async Task Unreach_FragReassemblyTimeExceededAndBadQuotes_NotDelivered()
    {
        Start();
        var noIp = Ip(PeerIp, HostIp, IpProtocol.Icmp, IcmpPacket.Error(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, new byte[30])![..(8 + 12)]);
        FixIcmpChecksum(noIp);
        var shortQuote = Ip(PeerIp, HostIp, IpProtocol.Icmp, IcmpPacket.Error(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0,
            UdpPacket(HostIp, Remote, 40000, 53))![..(8 + 24)]);
        FixIcmpChecksum(shortQuote);
        Deliver(ErrorFromRouter(IcmpType.TimeExceeded, IcmpCode.ExcFragTime, 0), noIp, shortQuote,
            ErrorFromRouter(IcmpType.DestUnreach, IcmpCode.HostUnreach, 0));
        var e = await Udp.ExpectMsgAsync<IcmpErrorReceived>(Wait);
        Assert.Equal(IcmpCode.HostUnreach, e.Code); // the first three went nowhere
        Assert.Equal(2, this[IcmpMib.InErrors]);
        Assert.Equal(1, this[IcmpMib.InTimeExcds]);
        Assert.Equal(3, this[IcmpMib.InDestUnreachs]);
    }

    [Fact]
    public async Task Unreach_ToBroadcastFromAnyone_Dropped()
    {
        Start();
        var e = IcmpPacket.Error(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, UdpPacket(HostIp, Remote, 40000, 53))!;
        Deliver(Ip(PeerIp, Ipv4Address.Broadcast, IpProtocol.Icmp, e), ErrorFromRouter(IcmpType.DestUnreach, IcmpCode.NetUnreach, 0));
        var got = await Udp.ExpectMsgAsync<IcmpErrorReceived>(Wait);
        Assert.Equal(IcmpCode.NetUnreach, got.Code);
        Assert.Equal(1, this[IcmpMib.InErrors]);
    }

    [Fact]
    public async Task Timestamp_Request_ReplyCarriesOriginateAndMsSinceMidnight()
    {
        Start();
        var m = new byte[20];
        m[0] = IcmpPacket.TypeTimestamp;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), 0x00010002);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(8), 123456);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(m));
        Deliver(Ip(PeerIp, HostIp, IpProtocol.Icmp, m));
        var f = await NextFrame();
        var r = f.AsSpan(34).ToArray();
        uint ms = (uint)(Clock.Now.UtcTicks % TimeSpan.TicksPerDay / TimeSpan.TicksPerMillisecond);
        Assert.Equal(20, r.Length);
        Assert.Equal(0, Checksum.Compute(r));
        Assert.Equal(IcmpPacket.TypeTimestampReply, r[0]);
        Assert.Equal(0x00010002u, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(4)));
        Assert.Equal(123456u, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(8)));
        Assert.Equal(ms, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(12)));
        Assert.Equal(ms, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(16)));
        Assert.Equal(1, this[IcmpMib.OutTimestampReps]);
    }

    private static void FixIcmpChecksum(byte[] ip)
    {
        ip[22] = 0; ip[23] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(22), Checksum.Compute(ip.AsSpan(20)));
    }
}
