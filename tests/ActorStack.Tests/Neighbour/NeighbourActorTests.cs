using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Neighbour;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Tests.Neighbour;

/// <summary>The neighbour actor on a running host: arp_rcv, neigh_resolve_output, the timers and the snapshot.</summary>
public class NeighbourActorTests() : NeighbourActorKit("neigh-actor")
{
    private static readonly TimeSpan Retrans = TimeSpan.FromMilliseconds(1001);

    [Fact]
    public async Task ArpRcv_RequestForOurAddress_AnsweredAndSenderLearnedStale()
    {
        await Start();
        Inject(ArpFrame(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, HostIp));

        var reply = await NextFrame();
        Assert.Equal(42, reply.Length);
        Assert.True(EthernetHeader.TryRead(reply, out var eth));
        Assert.Equal(PeerMac, eth.Destination);
        Assert.Equal(HostMac, eth.Source);
        Assert.Equal(EtherType.Arp, eth.EtherType);
        Assert.True(ArpPacket.TryRead(reply.AsSpan(14), out var arp, out _));
        Assert.True(arp.IsReply);
        Assert.Equal(HostMac, arp.SenderMac);
        Assert.Equal(HostIp, arp.SenderIp);
        Assert.Equal(PeerMac, arp.TargetMac);
        Assert.Equal(PeerIp, arp.TargetIp);

        var list = await Neighbours();
        Assert.Equal("10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 STALE\n", list.Text);
        Assert.False(Ns.Neighbours.ContainsKey(new NeighKey(2, PeerIp))); // STALE is not usable without the actor
        var s = await ArpStats();
        Assert.Equal(1, s["InRequests"]);
        Assert.Equal(1, s["OutReplies"]);
        Assert.Equal(0, s["OutRequests"]);
    }

    [Fact]
    public async Task ArpRcv_RequestForAnotherAddress_NoReplyNothingLearned()
    {
        await Start();
        Inject(ArpFrame(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, Ipv4Address.Parse("10.0.0.99")));
        await ExpectNoFrame();
        Assert.Equal("", (await Neighbours()).Text);
        Assert.Equal(1, (await ArpStats())["InRequests"]);
    }

    [Fact]
    public async Task NeighOutput_ThreeQueuedWhileIncomplete_ReleasedInOrderAfterReply()
    {
        await Start();
        NeighOut(Packet(1), Packet(2), Packet(3));

        AssertArpRequest(await NextFrame(), MacAddress.Broadcast, PeerIp, MacAddress.Zero);
        await ExpectNoFrame();
        var pending = await Neighbours();
        Assert.Equal("10.0.0.1 dev eth0 INCOMPLETE\n", pending.Text);
        Assert.Equal(3, pending.Entries[0].QueuedPackets);
        Assert.Null(pending.Entries[0].LinkAddress);

        Inject(ReplyFromPeer());
        Assert.Equal(1, TagOf(await NextFrame()));
        Assert.Equal(2, TagOf(await NextFrame()));
        Assert.Equal(3, TagOf(await NextFrame()));

        var list = await Neighbours();
        Assert.Equal("10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE\n", list.Text);
        Assert.Equal(0, list.Entries[0].QueuedPackets);
        var stats = await ArpStats();
        long nowMs = Clock.Now.UtcTicks / TimeSpan.TicksPerMillisecond;
        var published = Ns.Neighbours[new NeighKey(2, PeerIp)];
        Assert.Equal(PeerMac, published.Mac);
        Assert.Equal((nowMs + stats.ReachableTimeMs) * TimeSpan.TicksPerMillisecond, published.ValidUntilTicks);
        Assert.Equal(1, stats["OutRequests"]);
        Assert.Equal(1, stats["InReplies"]);
        Assert.Equal(0, stats["InUnsolicitedReplies"]);

        // REACHABLE: the next packet goes out at once, no ARP.
        NeighOut(Packet(4));
        Assert.Equal(4, TagOf(await NextFrame()));
        Assert.Equal(1, (await ArpStats())["OutRequests"]);
    }

    [Fact]
    public async Task NeighOutput_NoReply_ThreeBroadcastProbesThenFailedWithHostUnreachable()
    {
        await Start();
        var owner = Probe();
        var skbs = new[] { Packet(1, owner.Ref), Packet(2, owner.Ref), Packet(3, owner.Ref) };
        NeighOut(skbs);

        AssertArpRequest(await NextFrame(), MacAddress.Broadcast, PeerIp, MacAddress.Zero);
        // The second probe exactly retrans_time_ms (1000) after the first: not 1 µs before.
        await Advance(TimeSpan.FromMilliseconds(1000) - TimeSpan.FromMicroseconds(1));
        await ExpectNoFrame();
        await Advance(TimeSpan.FromMicroseconds(1));
        AssertArpRequest(await NextFrame(), MacAddress.Broadcast, PeerIp, MacAddress.Zero);
        await Advance(Retrans);
        AssertArpRequest(await NextFrame(), MacAddress.Broadcast, PeerIp, MacAddress.Zero);
        Assert.Equal("10.0.0.1 dev eth0 INCOMPLETE\n", (await Neighbours()).Text);
        await Advance(Retrans);

        for (int i = 0; i < 3; i++)
        {
            var err = await Icmp.ExpectMsgAsync<IcmpSendError>(Timeout);
            Assert.Equal(IcmpType.DestUnreach, err.Type);
            Assert.Equal(IcmpCode.HostUnreach, err.Code);
            Assert.Equal(0u, err.Info);
            Assert.True(IpOutput.IpPacket(skbs[i]).SequenceEqual(err.Offending.Span));
        }
        var free = await owner.ExpectMsgAsync<WmemFree>(Timeout);
        Assert.Equal(new WmemFree(3, skbs.Sum(s => (long)s.Truesize), 0), free); // memory back, no send error
        Assert.Equal("10.0.0.1 dev eth0 FAILED\n", (await Neighbours()).Text);

        await Advance(TimeSpan.FromSeconds(10));
        await ExpectNoFrame();
        await ExpectNothingNow(Icmp); // after 10 s of simulated time: no fourth error
        var s = await ArpStats();
        Assert.Equal(3, s["OutRequests"]);
        Assert.Equal(1, s["res_failed"]);
        var host = await HostStats();
        Assert.Equal(3, host.DropsOf(DropReason.NEIGH_FAILED));
        Assert.Equal(3, host.TotalDrops);
    }

    [Fact]
    public async Task Timer_ReachableTimeRunsOut_EntryStaleAndUnpublished()
    {
        await Start();
        NeighOut(Packet(1));
        await NextFrame(); // the request
        Inject(ReplyFromPeer());
        Assert.Equal(1, TagOf(await NextFrame()));
        var key = new NeighKey(2, PeerIp);
        long until = Ns.Neighbours[key].ValidUntilTicks;
        long reachable = (await ArpStats()).ReachableTimeMs;
        Assert.InRange(reachable, 15_000, 44_999); // base_reachable_time 30 s: uniform in [15 s, 45 s)

        await Advance(TimeSpan.FromTicks(until - Clock.Now.UtcTicks) - TimeSpan.FromMilliseconds(1));
        Assert.Equal("10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE\n", (await Neighbours()).Text);
        Assert.True(Ns.Neighbours.ContainsKey(key));

        await Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal("10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 STALE\n", (await Neighbours()).Text);
        Assert.False(Ns.Neighbours.ContainsKey(key));
        await ExpectNoFrame();
    }

    [Fact]
    public async Task Timer_StaleEntryUsedAndSilent_DelayThenThreeUnicastProbesThenFailed()
    {
        await Start();
        Inject(ArpFrame(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, HostIp));
        await NextFrame(); // our reply; the peer is now STALE

        NeighOut(Packet(7));
        Assert.Equal(7, TagOf(await NextFrame())); // STALE sends with the cached address and turns DELAY
        Assert.Equal("10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 DELAY\n", (await Neighbours()).Text);

        await Advance(TimeSpan.FromMilliseconds(5001)); // delay_first_probe_time → PROBE, first unicast probe
        AssertArpRequest(await NextFrame(), PeerMac, PeerIp, PeerMac);
        Assert.Equal("10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 PROBE\n", (await Neighbours()).Text);
        await Advance(Retrans);
        AssertArpRequest(await NextFrame(), PeerMac, PeerIp, PeerMac);
        await Advance(Retrans);
        AssertArpRequest(await NextFrame(), PeerMac, PeerIp, PeerMac);
        await Advance(Retrans);
        await ExpectNoFrame();
        Assert.Equal("10.0.0.1 dev eth0 FAILED\n", (await Neighbours()).Text);
        Assert.Equal(3, (await ArpStats())["OutRequests"]);
    }

    [Fact]
    public async Task NeighOutput_QueueOverUnresQlenBytes_OldestDroppedRestReleasedInOrder()
    {
        // Each packet is a 1014-byte frame: truesize 1024 + 576 = 1600; three fit in 4800 bytes.
        await Start(new SysctlSettings { Neigh = NeighParms.Default with { UnresQlenBytes = 4800 } });
        var owner = Probe();
        var skbs = Enumerable.Range(1, 5).Select(i => Packet((byte)i, owner.Ref, payload: 972)).ToArray();
        Assert.Equal(1600, SkBuff.TruesizeFor(skbs[0].Length));
        NeighOut(skbs);

        AssertArpRequest(await NextFrame(), MacAddress.Broadcast, PeerIp, MacAddress.Zero);
        var free = await owner.ExpectMsgAsync<WmemFree>(Timeout);
        Assert.Equal(new WmemFree(2, skbs[0].Truesize + skbs[1].Truesize, 0), free); // memory back, no send error
        Assert.Equal(3, (await Neighbours()).Entries[0].QueuedPackets);

        Inject(ReplyFromPeer());
        Assert.Equal(3, TagOf(await NextFrame()));
        Assert.Equal(4, TagOf(await NextFrame()));
        Assert.Equal(5, TagOf(await NextFrame()));
        Assert.Equal(2, (await ArpStats())["unresolved_discards"]);
        var host = await HostStats();
        Assert.Equal(2, host.DropsOf(DropReason.NEIGH_QUEUEFULL));
        Assert.Equal(2, host.TotalDrops);
    }

    [Fact]
    public async Task ArpRcv_BrokenAndHostilePackets_DroppedAndCounted()
    {
        await Start();
        var good = ArpFrame(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, HostIp);
        var shortFrame = good[..(14 + 20)];
        var badHlen = (byte[])good.Clone(); badHlen[14 + 4] = 8;
        var badHrd = (byte[])good.Clone(); badHrd[14 + 1] = 0x99;
        var badPro = (byte[])good.Clone(); badPro[14 + 2] = 0x86; badPro[14 + 3] = 0xdd;
        var badOp = (byte[])good.Clone(); badOp[14 + 7] = 9;
        var mcastTarget = ArpFrame(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, Ipv4Address.Parse("224.0.0.1"));
        var unsolicited = ReplyFromPeer();
        Inject(shortFrame, badHlen, badHrd, badPro, badOp, mcastTarget, unsolicited);
        await ExpectNoFrame();

        var s = await ArpStats();
        Assert.Equal(1, s["InTooShort"]);
        Assert.Equal(1, s["InBadLength"]);
        Assert.Equal(1, s["InBadHardwareType"]);
        Assert.Equal(1, s["InBadProtocolType"]);
        Assert.Equal(1, s["InBadOpcode"]);
        Assert.Equal(1, s["InMartians"]);
        Assert.Equal(1, s["InUnsolicitedReplies"]);
        Assert.Equal(1, s["InReplies"]);
        Assert.Equal(0, s["InRequests"]);
        Assert.Equal(0, s["OutReplies"]);
        Assert.Equal("", (await Neighbours()).Text);
        var host = await HostStats();
        Assert.Equal(1, host.DropsOf(DropReason.PKT_TOO_SMALL));
        Assert.Equal(6, host.Drops.Where(d => d.Site.Reason == DropReason.NOT_SPECIFIED).Sum(d => d.Packets));
        Assert.Equal(1, host.Drops.Single(d => d.Site.Location == "arp/unsolicited").Packets);
    }

    [Fact]
    public async Task IpNeigh_PermanentFromSettingsAndLearned_FormattedLikeIpNeighShow()
    {
        var gw = Ipv4Address.Parse("10.0.0.254");
        var gwMac = MacAddress.Parse("02:00:00:00:00:fe");
        await Start(null, new NeighbourSettings(gw, gwMac, "eth0"));
        Inject(ArpFrame(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, HostIp));
        await NextFrame();
        NeighOut(Ipv4Address.Parse("10.0.0.7"), Packet(1, dst: Ipv4Address.Parse("10.0.0.7")));
        await NextFrame();

        var list = await Neighbours();
        Assert.Equal(
            "10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 STALE\n" +
            "10.0.0.7 dev eth0 INCOMPLETE\n" +
            "10.0.0.254 dev eth0 lladdr 02:00:00:00:00:fe PERMANENT\n", list.Text);
        Assert.Equal(new[] { "STALE", "INCOMPLETE", "PERMANENT" }, list.Entries.Select(e => e.State));
        Assert.Equal(long.MaxValue, Ns.Neighbours[new NeighKey(2, gw)].ValidUntilTicks);

        // A permanent entry is used without ARP.
        NeighOut(gw, Packet(9, dst: gw));
        var f = await NextFrame();
        Assert.True(EthernetHeader.TryRead(f, out var eth));
        Assert.Equal(gwMac, eth.Destination);
    }

    [Fact]
    public async Task ArpRcv_GratuitousArp_KnownNeighbourMovedUnknownOneIgnored()
    {
        await Start();
        Inject(ArpFrame(ArpPacket.OpRequest, PeerMac, PeerIp, MacAddress.Zero, HostIp));
        await NextFrame(); // our reply; the peer is STALE with 02:00:00:00:00:01
        var moved = MacAddress.Parse("02:00:00:00:00:99");
        var stranger = Ipv4Address.Parse("10.0.0.50");
        Inject(ArpFrame(ArpPacket.OpRequest, moved, PeerIp, MacAddress.Zero, PeerIp),
            ArpFrame(ArpPacket.OpRequest, moved, stranger, MacAddress.Zero, stranger));
        await ExpectNoFrame();

        // arp_accept = 0: a gratuitous ARP overrides an existing entry at once (no locktime) but creates none.
        Assert.Equal("10.0.0.1 dev eth0 lladdr 02:00:00:00:00:99 STALE\n", (await Neighbours()).Text);
        var s = await ArpStats();
        Assert.Equal(1, s["InGratuitous"]);
        Assert.Equal(3, s["InRequests"]);
        Assert.Equal(1, s["OutReplies"]);
    }

    [Fact]
    public async Task SendGratuitousArp_DeviceWithOneAddress_OneAnnouncement()
    {
        await Start();
        var sent = await AskNow<GratuitousArpSent>(Asker, Neigh, new SendGratuitousArp("eth0"));
        Assert.Equal(new GratuitousArpSent("eth0", 1), sent);
        Assert.Equal(ArpPacket.Gratuitous(HostMac, HostIp), await NextFrame());
        Assert.Equal(new GratuitousArpSent("lo", 0), await AskNow<GratuitousArpSent>(Asker, Neigh, new SendGratuitousArp("lo")));
        Assert.Equal(1, (await ArpStats())["OutGratuitous"]);
    }
}
