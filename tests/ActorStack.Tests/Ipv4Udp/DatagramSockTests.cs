using Akka.Actor;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Sockets;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>
/// An actor reference without an actor system that keeps what it is told, in order: stands in for a device's
/// driver or a socket when a plain class's output is flushed in a unit test.
/// </summary>
internal sealed class RecordingRef(string name) : MinimalActorRef
{
    public List<object> Messages { get; } = new();
    public override ActorPath Path { get; } = new RootActorPath(new Address("akka", "unit")) / name;
    public override IActorRefProvider Provider => throw new NotSupportedException("no actor system in a unit test");
    protected override void TellInternal(object message, IActorRef sender) => Messages.Add(message);
}

/// <summary>
/// <see cref="DatagramSock"/> without actors: <c>udp_sendmsg</c> (destination checks, <c>EMSGSIZE</c>, the cork),
/// <c>sk_wmem_alloc</c> / <c>sock_wfree</c>, <c>sk_err</c> and the options, with time passed in. Datagrams are read
/// from what the output path hands eth0's driver. Host "h": eth0 10.0.0.2/24, permanent neighbour 10.0.0.1.
/// </summary>
public sealed class DatagramSockTests
{
    private static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    private static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address OtherIp = Ipv4Address.Parse("10.0.0.3");
    private const long Now = 1_000 * TimeSpan.TicksPerSecond;

    private readonly NetNamespace _ns;
    private readonly SocketCounters _c;
    private readonly IpOutput _out;
    private readonly RecordingRef _nic = new("nic");
    private readonly RecordingRef _owner = new("sock");
    private DatagramSock _sk;

    public DatagramSockTests()
    {
        var settings = new HostSettings("h", 1, new SysctlSettings(),
            [new DeviceSettings("eth0", MacAddress.Parse("02:00:00:00:00:02"), Mtu: 1500, Addresses: [new Ipv4Prefix(HostIp, 24)])])
        {
            Neighbours = [new NeighbourSettings(PeerIp, MacAddress.Parse("02:00:00:00:00:01"), "eth0"),
                new NeighbourSettings(OtherIp, MacAddress.Parse("02:00:00:00:00:03"), "eth0")],
        };
        _ns = new NetNamespace(settings, seed: 1);
        _c = new SocketCounters(SockType.Dgram, IpProtocol.Udp)
        {
            RcvBuf = _ns.Sysctl.RmemDefault, SndBuf = _ns.Sysctl.WmemDefault, LocalAddress = Ipv4Address.Any, LocalPort = 4000,
        };
        _out = new IpOutput(_ns, HostRefs.None with { Drivers = [new RecordingRef("lo"), _nic] });
        _sk = new DatagramSock(_ns, SockType.Dgram, IpProtocol.Udp, _c, _out, _owner);
    }

    private Errno Send(int length, Ipv4Address? dst = null, ushort port = 53, MsgFlags flags = MsgFlags.None, byte fill = 0xAB)
        => _sk.SendMsg(new SendTo(Enumerable.Repeat(fill, length).ToArray(), dst, dst is null ? (ushort)0 : port, flags), Now, out _);

    /// <summary>Flushes the output path and returns the IP packets eth0's driver was handed, in order.</summary>
    private List<byte[]> Sent()
    {
        _sk.PublishSendCounters();
        _out.Flush(_owner);
        var r = _nic.Messages.OfType<DevQueueXmit>().SelectMany(x => x.Skbs)
            .Select(s => s.Data.Slice(s.NetworkOffset, s.NetworkLength).ToArray()).ToList();
        _nic.Messages.Clear();
        return r;
    }

    [Fact]
    public void SendMsg_ToAddress_OneDatagramFromTheBoundPort()
    {
        Assert.Equal(Errno.OK, Send(10, PeerIp));
        var ip = Assert.Single(Sent());
        Assert.Equal(20 + 8 + 10, ip.Length);
        Assert.True(Ipv4Header.TryRead(ip, out var h));
        Assert.Equal((HostIp, PeerIp, IpProtocol.Udp, (byte)64, true), (h.Source, h.Destination, h.Protocol, h.Ttl, h.DontFragment));
        Assert.True(UdpHeader.TryRead(ip.AsSpan(20), out var u));
        Assert.Equal((4000, 53, 18), (u.SourcePort, u.DestinationPort, u.DatagramLength));
        Assert.True(UdpHeader.ChecksumValid(ip.AsSpan(20), HostIp, PeerIp));
        Assert.Equal(1, _ns.Udp[UdpMib.OutDatagrams]);
        Assert.Equal((1L, 10L), (_c.DatagramsSent, _c.BytesSent));
        Assert.Equal(SkBuff.TruesizeFor(14 + 38), _sk.WmemAlloc);
    }

    [Fact]
    public void SendMsg_DestinationChecks()
    {
        Assert.Equal(Errno.EDESTADDRREQ, Send(10));                    // unconnected, no address
        Assert.Equal(Errno.EINVAL, Send(10, PeerIp, port: 0));         // port 0
        Assert.Equal(Errno.EMSGSIZE, Send(DatagramBuilder.MaxUdpPayload + 1, PeerIp));
        Assert.Equal(Errno.EACCES, Send(10, Ipv4Address.Parse("10.0.0.255"))); // broadcast without SO_BROADCAST
        Assert.Empty(Sent());

        _c.RemoteAddress = PeerIp; // connected (udp connect): send without an address goes to the peer
        _c.RemotePort = 7;
        Assert.Equal(Errno.OK, Send(10));
        Assert.Equal(Errno.OK, Send(10, OtherIp)); // an explicit address still wins
        var sent = Sent();
        Assert.Equal(2, sent.Count);
        Assert.Equal((PeerIp, (ushort)7), (Ipv4Address.Read(sent[0].AsSpan(16)), (ushort)(sent[0][22] << 8 | sent[0][23])));
        Assert.Equal(OtherIp, Ipv4Address.Read(sent[1].AsSpan(16)));
    }

    [Fact]
    public void MsgMore_AppendsToOneDatagramToTheFirstDestination()
    {
        Assert.Equal(Errno.OK, Send(3, PeerIp, flags: MsgFlags.More, fill: 1));
        Assert.Equal(Errno.OK, Send(4, OtherIp, flags: MsgFlags.More, fill: 2)); // address ignored: the cork's stays
        Assert.Empty(Sent());
        Assert.Equal(7, _sk.Cork.Length);
        Assert.Equal(Errno.OK, Send(2, OtherIp, fill: 3));

        var ip = Assert.Single(Sent());
        Assert.Equal(PeerIp, Ipv4Address.Read(ip.AsSpan(16)));
        Assert.Equal(new byte[] { 1, 1, 1, 2, 2, 2, 2, 3, 3 }, ip[28..]);
        Assert.False(_sk.Cork.Active);
        Assert.Equal(1, _ns.Udp[UdpMib.OutDatagrams]);
    }

    [Fact]
    public void MsgMore_OverMaxPayload_EmsgsizeAndTheCorkIsFlushed()
    {
        Assert.Equal(Errno.OK, Send(60000, PeerIp, flags: MsgFlags.More));
        Assert.Equal(Errno.EMSGSIZE, Send(6000, PeerIp, flags: MsgFlags.More));
        Assert.False(_sk.Cork.Active);
        Assert.Equal(0, _sk.Cork.Length);
        Assert.Empty(Sent());
    }

    [Fact]
    public void UdpCork_HoldsUntilClearedThenSendsOneDatagram()
    {
        Assert.Equal(Errno.OK, _sk.SetSockOpt(SockOpt.UdpCork, 1, Now, out bool sent));
        Assert.False(sent);
        Assert.Equal(Errno.OK, Send(5, PeerIp));
        Assert.Equal(Errno.OK, Send(5, PeerIp));
        Assert.Empty(Sent());
        Assert.Equal(Errno.OK, _sk.GetSockOpt(SockOpt.UdpCork, Now, out int v));
        Assert.Equal(1, v);

        Assert.Equal(Errno.OK, _sk.SetSockOpt(SockOpt.UdpCork, 0, Now, out sent));
        Assert.True(sent);
        Assert.Equal(38, Assert.Single(Sent()).Length);
        Assert.Equal(1, _ns.Udp[UdpMib.OutDatagrams]);
    }

    [Theory]
    [InlineData(0, DatagramSock.SockMinRcvbuf)]
    [InlineData(1000, DatagramSock.SockMinRcvbuf)]
    [InlineData(100_000, 200_000)]
    [InlineData(10_000_000, 2 * 212992)]
    public void SoRcvbuf_DoubledFlooredAndClampedAtRmemMax(int bytes, int expected)
    {
        Assert.Equal(Errno.OK, _sk.SetRcvBuf(bytes, out int rcvbuf));
        Assert.Equal(expected, rcvbuf);
        Assert.Equal(expected, _c.RcvBuf);
    }

    [Theory]
    [InlineData(0, DatagramSock.SockMinSndbuf)]
    [InlineData(100_000, 200_000)]
    [InlineData(10_000_000, 2 * 212992)]
    public void SoSndbuf_DoubledFlooredAndClampedAtWmemMax(int bytes, int expected)
    {
        Assert.Equal(Errno.OK, _sk.SetSockOpt(SockOpt.SoSndbuf, bytes, Now, out _));
        Assert.Equal(Errno.OK, _sk.GetSockOpt(SockOpt.SoSndbuf, Now, out int v));
        Assert.Equal(expected, v);
    }

    [Fact]
    public void NegativeBuffers_Einval()
    {
        Assert.Equal(Errno.EINVAL, _sk.SetRcvBuf(-1, out _));
        Assert.Equal(Errno.EINVAL, _sk.SetSockOpt(SockOpt.SoSndbuf, -1, Now, out _));
        Assert.Equal(_ns.Sysctl.RmemDefault, _c.RcvBuf);
    }

    [Fact]
    public void IpTtl_SetUsedAndReset()
    {
        Assert.Equal(Errno.EINVAL, _sk.SetSockOpt(SockOpt.IpTtl, 0, Now, out _));
        Assert.Equal(Errno.EINVAL, _sk.SetSockOpt(SockOpt.IpTtl, 256, Now, out _));
        Assert.Equal(Errno.OK, _sk.SetSockOpt(SockOpt.IpTtl, 5, Now, out _));
        Send(1, PeerIp);
        Assert.Equal(5, Assert.Single(Sent())[8]);
        Assert.Equal(Errno.OK, _sk.SetSockOpt(SockOpt.IpTtl, -1, Now, out _));
        Assert.Equal(Errno.OK, _sk.GetSockOpt(SockOpt.IpTtl, Now, out int v));
        Assert.Equal(64, v);
    }

    [Fact]
    public void GetSockOpt_IpMtuNeedsAConnectionAndHdrInclIsRawOnly()
    {
        Assert.Equal(Errno.ENOTCONN, _sk.GetSockOpt(SockOpt.IpMtu, Now, out _));
        _c.RemoteAddress = PeerIp;
        Assert.Equal(Errno.OK, _sk.GetSockOpt(SockOpt.IpMtu, Now, out int mtu));
        Assert.Equal(1500, mtu);
        Assert.Equal(Errno.ENOPROTOOPT, _sk.GetSockOpt(SockOpt.IpHdrIncl, Now, out _));
        Assert.Equal(Errno.ENOPROTOOPT, _sk.SetSockOpt(SockOpt.IpHdrIncl, 1, Now, out _));
        Assert.Equal(Errno.EINVAL, _sk.SetSockOpt(SockOpt.IpMtu, 1400, Now, out _));
    }

    [Fact]
    public void IpMtuDiscoverDo_LongerThanTheMtu_Emsgsize()
    {
        Assert.Equal(Errno.OK, _sk.SetSockOpt(SockOpt.IpMtuDiscover, 2, Now, out _));
        Assert.Equal(Errno.EMSGSIZE, Send(1473, PeerIp));
        Assert.Equal(Errno.OK, Send(1472, PeerIp));
        Assert.Single(Sent());
    }

    [Fact]
    public void SendBufferFull_WouldBlockUntilWmemFree()
    {
        _sk.SetSockOpt(SockOpt.SoSndbuf, 0, Now, out _); // SOCK_MIN_SNDBUF: 4608 bytes
        int n = 0;
        bool wouldBlock = false;
        while (!wouldBlock && n < 100)
        {
            Assert.Equal(Errno.OK, _sk.SendMsg(new SendTo(new byte[1000], PeerIp, 53), Now, out wouldBlock));
            if (!wouldBlock) n++;
        }
        long truesize = SkBuff.TruesizeFor(14 + 1028);
        Assert.Equal((int)((DatagramSock.SockMinSndbuf + truesize - 1) / truesize), n);
        Assert.Equal(n * truesize, _sk.WmemAlloc);
        Assert.Equal(n, Sent().Count);

        _sk.WmemFree(truesize, 0);
        Assert.Equal(Errno.OK, _sk.SendMsg(new SendTo(new byte[1000], PeerIp, 53), Now, out wouldBlock));
        Assert.False(wouldBlock);
    }

    [Fact]
    public void WmemFreeDropped_SndbufErrorsOrWithIpRecverrTheNextCallFails()
    {
        Send(10, PeerIp);
        Send(10, PeerIp);
        _sk.PublishSendCounters();
        Assert.Equal(2, _ns.Udp[UdpMib.OutDatagrams]);
        _sk.WmemFree(_sk.WmemAlloc, 1);
        // udp_send_skb: NET_XMIT_DROP → -ENOBUFS from ip_send_skb (Ip OutDiscards): SndbufErrors, not OutDatagrams.
        Assert.Equal(1, _ns.Udp[UdpMib.SndbufErrors]);
        Assert.Equal(1, _ns.Udp[UdpMib.OutDatagrams]);
        Assert.Equal(1, _ns.Ip[IpMib.OutDiscards]);
        Assert.Null(_sk.TakeError());

        _sk.SetSockOpt(SockOpt.IpRecvErr, 1, Now, out _);
        _sk.WmemFree(0, 1);
        Assert.Equal(1, _ns.Udp[UdpMib.SndbufErrors]);
        Assert.Equal((0L, 2L), (_ns.Udp[UdpMib.OutDatagrams], _ns.Ip[IpMib.OutDiscards]));
        Assert.Equal((int)Errno.ENOBUFS, _c.PendingError);
        Assert.Equal(Errno.ENOBUFS, Send(10, PeerIp)); // reported once, then cleared
        Assert.Equal(Errno.OK, Send(10, PeerIp));
        Assert.Equal(0, _c.PendingError);
    }

    [Fact]
    public void Err_PortUnreach_HardErrorOnlyForAConnectedSocketOrWithIpRecverr()
    {
        var e = new IcmpErrorReceived(IcmpType.DestUnreach, IcmpCode.PortUnreach, 0, PeerIp, ReadOnlyMemory<byte>.Empty);
        Assert.False(_sk.Err(e));
        Assert.Null(_sk.TakeError());

        _c.RemoteAddress = PeerIp;
        Assert.True(_sk.Err(e));
        Assert.Equal(Errno.ECONNREFUSED, _sk.TakeError());
        Assert.Null(_sk.TakeError());

        var ttl = new IcmpErrorReceived(IcmpType.TimeExceeded, IcmpCode.ExcTtl, 0, PeerIp, ReadOnlyMemory<byte>.Empty);
        Assert.False(_sk.Err(ttl)); // soft: needs IP_RECVERR
        _sk.SetSockOpt(SockOpt.IpRecvErr, 1, Now, out _);
        Assert.True(_sk.Err(ttl));
        Assert.Equal(Errno.EHOSTUNREACH, _sk.TakeError());
    }

    [Fact]
    public void RawSocket_HdrInclFromTheHeaderDestination()
    {
        var c = new SocketCounters(SockType.Raw, IpProtocol.Raw) { SndBuf = _ns.Sysctl.WmemDefault };
        _sk = new DatagramSock(_ns, SockType.Raw, IpProtocol.Raw, c, _out, _owner);
        Assert.Equal(Errno.OK, _sk.GetSockOpt(SockOpt.IpHdrIncl, Now, out int hdrincl));
        Assert.Equal(1, hdrincl);
        Assert.Equal(Errno.EINVAL, _sk.SetSockOpt(SockOpt.IpHdrIncl, 0, Now, out _));
        Assert.Equal(Errno.EDESTADDRREQ, _sk.SendMsg(new SendTo(new byte[10]), Now, out _));

        var pkt = new byte[28];
        Ipv4Header.Write(pkt, 28, 0, 0, 9, 253, Ipv4Address.Any, PeerIp);
        Assert.Equal(Errno.OK, _sk.SendMsg(new SendTo(pkt), Now, out _));
        var ip = Assert.Single(Sent());
        Assert.True(Ipv4Header.TryRead(ip, out var h));
        Assert.Equal((HostIp, PeerIp, (byte)9, (byte)253), (h.Source, h.Destination, h.Ttl, h.Protocol));
        Assert.True(h.ChecksumValid);
        Assert.Equal(0, _ns.Udp[UdpMib.OutDatagrams]);
        Assert.Equal(1L, c.DatagramsSent);
    }

    [Fact]
    public void RawIcmpSocket_EchoRequest_CountsIcmpOutEchos()
    {
        // __ip_make_skb → icmp_out_count: an ICMP socket's message is an ICMP message this host sent (ping's OutEchos).
        var c = new SocketCounters(SockType.Raw, IpProtocol.Icmp) { SndBuf = _ns.Sysctl.WmemDefault };
        _sk = new DatagramSock(_ns, SockType.Raw, IpProtocol.Icmp, c, _out, _owner);
        Assert.Equal(Errno.OK, _sk.SendMsg(new SendTo(IcmpPacket.EchoRequest(7, 1, new byte[8]), PeerIp), Now, out _));
        Assert.Single(Sent());
        Assert.Equal((1L, 1L, 0L), (_ns.Icmp[IcmpMib.OutMsgs], _ns.Icmp[IcmpMib.OutEchos], _ns.Icmp[IcmpMib.OutEchoReps]));
        Assert.Equal(1L, _ns.IcmpOutType[IcmpType.Echo]);

        // A header-included one counts too (raw_send_hdrinc), a non-ICMP one does not.
        var hdr = new SocketCounters(SockType.Raw, IpProtocol.Raw) { SndBuf = _ns.Sysctl.WmemDefault };
        _sk = new DatagramSock(_ns, SockType.Raw, IpProtocol.Raw, hdr, _out, _owner);
        var reply = IcmpPacket.EchoRequest(7, 2, new byte[8]);
        reply[0] = IcmpType.EchoReply;
        var pkt = new byte[Ipv4Header.MinLength + reply.Length];
        reply.CopyTo(pkt, Ipv4Header.MinLength);
        Ipv4Header.Write(pkt, pkt.Length, 0, 0, 64, IpProtocol.Icmp, Ipv4Address.Any, PeerIp);
        Assert.Equal(Errno.OK, _sk.SendMsg(new SendTo(pkt), Now, out _));
        var other = new byte[28];
        Ipv4Header.Write(other, 28, 0, 0, 64, 253, Ipv4Address.Any, PeerIp);
        Assert.Equal(Errno.OK, _sk.SendMsg(new SendTo(other), Now, out _));
        Assert.Equal(2, Sent().Count);
        Assert.Equal((2L, 1L, 1L), (_ns.Icmp[IcmpMib.OutMsgs], _ns.Icmp[IcmpMib.OutEchos], _ns.Icmp[IcmpMib.OutEchoReps]));
    }
}
