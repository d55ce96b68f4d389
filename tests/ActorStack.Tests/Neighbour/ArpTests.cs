using ActorStack.Config;
using System.Buffers.Binary;
using ActorStack.Actors.Neighbour;
using ActorStack.Actors.Routing;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Neighbour;

public class ArpTests
{
    private static readonly MacAddress OurMac = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly Ipv4Address OurIp = Ipv4Address.Parse("10.0.0.1");
    private static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly MacAddress OtherMac = MacAddress.Parse("02:00:00:00:00:77");
    private static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.2");

    private readonly Fib _fib = new();
    private readonly NeighbourTable<byte[]> _neigh = new(NeighParms.Default, p => SkBuff.TruesizeFor(p.Length), new Random(3));

    public ArpTests()
    {
        _fib.AddAddress("lo", new Ipv4Prefix(Ipv4Address.Loopback, 8));
        _fib.AddAddress("eth0", new Ipv4Prefix(OurIp, 24));
    }

    private static byte[] Arp(ushort op, MacAddress sha, Ipv4Address sip, MacAddress tha, Ipv4Address tip)
    {
        var b = new byte[ArpPacket.Length];
        ArpPacket.Write(b, op, sha, sip, tha, tip);
        return b;
    }

    private ArpResult<byte[]> Rx(byte[] arp, long now, PacketKind kind = PacketKind.Host, ArpSettings? s = null)
        => Actors.Neighbour.Arp.Process(arp, kind, "eth0", OurMac, _fib, _neigh, now, s);

    [Fact]
    public void Process_RequestForOurAddress_RepliesAndLearnsSenderStale()
    {
        var r = Rx(Arp(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, OurIp), 0, PacketKind.Broadcast);

        Assert.Equal(ArpVerdict.Consumed, r.Verdict);
        Assert.NotNull(r.Reply);
        Assert.Equal(42, r.Reply!.Length);
        Assert.True(EthernetHeader.TryRead(r.Reply, out var eth));
        Assert.Equal(PeerMac, eth.Destination);
        Assert.Equal(OurMac, eth.Source);
        Assert.Equal(EtherType.Arp, eth.EtherType);
        Assert.True(ArpPacket.TryRead(r.Reply.AsSpan(14), out var reply, out _));
        Assert.True(reply.IsReply);
        Assert.Equal(OurMac, reply.SenderMac);
        Assert.Equal(OurIp, reply.SenderIp);
        Assert.Equal(PeerMac, reply.TargetMac);
        Assert.Equal(PeerIp, reply.TargetIp);
        Assert.Equal("10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 STALE\n", _neigh.Format());
    }

    [Fact]
    public void Process_RequestForAnotherHost_NoReplyNoEntry()
    {
        var r = Rx(Arp(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, Ipv4Address.Parse("10.0.0.3")), 0, PacketKind.Broadcast);
        Assert.Equal(ArpVerdict.Consumed, r.Verdict);
        Assert.Null(r.Reply);
        Assert.Equal(0, _neigh.Count);
    }

    [Fact]
    public void Process_UnsolicitedReply_IgnoredUnlessArpAccept()
    {
        var reply = Arp(ArpPacket.OpReply, PeerMac, PeerIp, OurMac, OurIp);
        var r = Rx(reply, 0);
        Assert.False(r.Learned);
        Assert.Equal(0, _neigh.Count);

        var accepted = Rx(reply, 0, s: new ArpSettings { ArpAccept = true });
        Assert.True(accepted.Learned);
        Assert.Equal("10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 REACHABLE\n", _neigh.Format());
    }

    [Fact]
    public void Process_ReplyWhileIncomplete_ReachableAndQueuedPacketsReleasedInOrder()
    {
        _neigh.NeighOutput(PeerIp, "eth0", new byte[] { 1 }, 0);
        _neigh.NeighOutput(PeerIp, "eth0", new byte[] { 2 }, 10);
        _neigh.NeighOutput(PeerIp, "eth0", new byte[] { 3 }, 20);

        var r = Rx(Arp(ArpPacket.OpReply, PeerMac, PeerIp, OurMac, OurIp), 30);
        Assert.Equal(new byte[] { 1, 2, 3 }, r.Actions.Select(a => a.Packet![0]).ToArray());
        Assert.All(r.Actions, a => Assert.Equal(PeerMac, a.Mac));
        Assert.Equal(NudState.Reachable, _neigh.Get(PeerIp, "eth0")!.Value.State);
    }

    [Fact]
    public void Process_BroadcastReply_OnlyStale()
    {
        _neigh.NeighOutput(PeerIp, "eth0", new byte[] { 1 }, 0);
        var r = Rx(Arp(ArpPacket.OpReply, PeerMac, PeerIp, OurMac, OurIp), 30, PacketKind.Broadcast);
        Assert.Single(r.Actions);
        // The released packet itself turned the STALE entry into DELAY (neigh_resolve_output).
        Assert.Equal(NudState.Delay, _neigh.Get(PeerIp, "eth0")!.Value.State);
    }

    [Fact]
    public void Process_SecondDifferentReplyWithinLocktime_FirstOneWins()
    {
        _neigh.NeighOutput(PeerIp, "eth0", new byte[] { 1 }, 0);
        Rx(Arp(ArpPacket.OpReply, PeerMac, PeerIp, OurMac, OurIp), 2000);
        Rx(Arp(ArpPacket.OpReply, OtherMac, PeerIp, OurMac, OurIp), 2500);
        Assert.Equal(PeerMac, _neigh.Get(PeerIp, "eth0")!.Value.Mac);
        Rx(Arp(ArpPacket.OpReply, OtherMac, PeerIp, OurMac, OurIp), 3001);
        Assert.Equal(OtherMac, _neigh.Get(PeerIp, "eth0")!.Value.Mac);
    }

    [Fact]
    public void Process_GratuitousArpForKnownNeighbour_OverridesAtOnceAsStale()
    {
        _neigh.NeighOutput(PeerIp, "eth0", new byte[] { 1 }, 0);
        Rx(Arp(ArpPacket.OpReply, PeerMac, PeerIp, OurMac, OurIp), 100);
        var garp = Rx(Arp(ArpPacket.OpRequest, OtherMac, PeerIp, MacAddress.Zero, PeerIp), 200, PacketKind.Broadcast);
        Assert.True(garp.Gratuitous);
        Assert.Null(garp.Reply);
        Assert.Equal("10.0.0.2 dev eth0 lladdr 02:00:00:00:00:77 STALE\n", _neigh.Format());
    }

    [Fact]
    public void Process_GratuitousArpForUnknownNeighbour_NotLearnedByDefault()
    {
        Rx(Arp(ArpPacket.OpRequest, OtherMac, PeerIp, MacAddress.Zero, PeerIp), 0, PacketKind.Broadcast);
        Assert.Equal(0, _neigh.Count);
        Rx(Arp(ArpPacket.OpRequest, OtherMac, PeerIp, MacAddress.Zero, PeerIp), 0, PacketKind.Broadcast,
            new ArpSettings { ArpAccept = true });
        Assert.Equal(NudState.Stale, _neigh.Get(PeerIp, "eth0")!.Value.State);
    }

    [Fact]
    public void Process_DuplicateAddressProbeForOurAddress_AnsweredWithoutLearning()
    {
        var r = Rx(Arp(ArpPacket.OpRequest, PeerMac, Ipv4Address.Any, MacAddress.Zero, OurIp), 0, PacketKind.Broadcast);
        Assert.NotNull(r.Reply);
        Assert.True(ArpPacket.TryRead(r.Reply!.AsSpan(14), out var reply, out _));
        Assert.Equal(OurIp, reply.SenderIp);
        Assert.Equal(Ipv4Address.Any, reply.TargetIp);
        Assert.Equal(PeerMac, reply.TargetMac);
        Assert.Equal(0, _neigh.Count);
    }

    [Theory]
    [InlineData("short", ArpParseError.TooShort, DropReason.PKT_TOO_SMALL)]
    [InlineData("hlen", ArpParseError.BadAddressLength, DropReason.NOT_SPECIFIED)]
    [InlineData("plen", ArpParseError.BadAddressLength, DropReason.NOT_SPECIFIED)]
    [InlineData("htype", ArpParseError.BadHardwareType, DropReason.NOT_SPECIFIED)]
    [InlineData("ptype", ArpParseError.BadProtocolType, DropReason.NOT_SPECIFIED)]
    [InlineData("op", ArpParseError.BadOpcode, DropReason.NOT_SPECIFIED)]
    public void Process_HostilePacket_DroppedWithReason(string defect, ArpParseError error, DropReason reason)
    {
        var p = Arp(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, OurIp);
        switch (defect)
        {
            case "short": p = p[..27]; break;
            case "hlen": p[4] = 8; break;
            case "plen": p[5] = 16; break;
            case "htype": BinaryPrimitives.WriteUInt16BigEndian(p, 0x0011); break;
            case "ptype": BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), EtherType.Ipv6); break;
            case "op": BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), 3); break;
        }
        var r = Rx(p, 0);
        Assert.Equal(ArpVerdict.Dropped, r.Verdict);
        Assert.Equal(error, r.ParseError);
        Assert.Equal(reason, r.Reason);
        Assert.Null(r.Reply);
        Assert.Equal(0, _neigh.Count);
    }

    [Fact]
    public void Process_Ieee802HardwareType_AcceptedLikeLinux()
    {
        var p = Arp(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, OurIp);
        BinaryPrimitives.WriteUInt16BigEndian(p, ArpPacket.HardwareIeee802);
        Assert.NotNull(Rx(p, 0).Reply);
    }

    [Fact]
    public void Process_MulticastOrLoopbackTarget_Dropped()
    {
        Assert.Equal(ArpVerdict.Dropped, Rx(Arp(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, Ipv4Address.Parse("224.0.0.1")), 0).Verdict);
        Assert.Equal(ArpVerdict.Dropped, Rx(Arp(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, Ipv4Address.Loopback), 0).Verdict);
        Assert.Equal(0, _neigh.Count);
    }

    [Fact]
    public void Process_OtherHostPacketType_IgnoredWithoutDrop()
    {
        var r = Rx(Arp(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, OurIp), 0, PacketKind.OtherHost);
        Assert.Equal(ArpVerdict.Ignored, r.Verdict);
        Assert.Null(r.Reply);
    }

    [Fact]
    public void Process_RandomBytes_NeverThrows()
    {
        var rnd = new Random(12345);
        int dropped = 0;
        for (int i = 0; i < 2000; i++)
        {
            var p = new byte[rnd.Next(0, 64)];
            rnd.NextBytes(p);
            if (i % 2 == 0 && p.Length >= 8) { p[0] = 0; p[1] = 1; p[2] = 8; p[3] = 0; p[4] = 6; p[5] = 4; }
            var r = Rx(p, i);
            if (r.Verdict == ArpVerdict.Dropped) dropped++;
        }
        Assert.InRange(dropped, 1000, 2000);
    }

    [Fact]
    public void Request_BroadcastAndUnicastProbes_EncodedAsArpSolicit()
    {
        var bcast = ArpPacket.Request(OurMac, OurIp, PeerIp);
        Assert.True(EthernetHeader.TryRead(bcast, out var e1));
        Assert.True(e1.Destination.IsBroadcast);
        Assert.True(ArpPacket.TryRead(bcast.AsSpan(14), out var a1, out _));
        Assert.Equal(MacAddress.Zero, a1.TargetMac);
        Assert.Equal(PeerIp, a1.TargetIp);

        var ucast = ArpPacket.Request(OurMac, OurIp, PeerIp, PeerMac);
        Assert.True(EthernetHeader.TryRead(ucast, out var e2));
        Assert.Equal(PeerMac, e2.Destination);
        Assert.True(ArpPacket.TryRead(ucast.AsSpan(14), out var a2, out _));
        Assert.Equal(PeerMac, a2.TargetMac);
        Assert.True(a2.IsRequest);
    }
}
