using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Actors.Engine;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Testing;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Neighbour;

/// <summary>
/// Datagrams sent back to back while the first ARP resolution is pending arrive in the order they were sent. In Linux
/// <c>__neigh_event_send</c> queues them on <c>arp_queue</c> while NUD_INCOMPLETE and <c>neigh_update</c> flushes the
/// queue in order, under <c>neigh->lock</c>, before anything can go directly. Here a send whose <see cref="NeighOutput"/>
/// is still in the neighbour actor's mailbox when the entry is published must not be overtaken by the sender's next
/// send, which sees the published entry: the sender keeps going through the neighbour actor until it is answered
/// (<see cref="NeighOutputDone"/>). (Seen in bench udp-stream and frag as 1–2 datagrams out of order per run.)
/// </summary>
public class ArpQueueOrderTests
{
    private static Scenario TwoHosts() => Scenario.Build()
        .Seed(1)
        .Host("a", h => h.Device("eth0", "10.0.0.1/24"))
        .Host("b", h => h.Device("eth0", "10.0.0.2/24"))
        .Wire("a/eth0", "b/eth0", w => w.Delay(TimeSpan.FromMicroseconds(10)))
        .Build();

    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    /// <summary>A <c>ptype_all</c> tap on a's eth0 that notes the instant a's softirq hands up the first ARP reply.</summary>
    private sealed class ArpReplyClock : ReceiveActor
    {
        public ArpReplyClock(SimEngine engine, long[] at)
        {
            Receive<SkbBatch>(b =>
            {
                foreach (var skb in b.Items)
                    if (at[0] < 0 && skb.Protocol == EtherType.Arp
                        && ArpPacket.TryRead(skb.Data.Span[skb.NetworkOffset..], out var p, out _) && p.IsReply)
                        at[0] = engine.NowNs;
            });
        }
    }

    private static (StackKit Kit, UdpSocket Client, UdpSocket Server) Start()
    {
        var kit = StackKit.Start(TwoHosts());
        var server = kit.Host("b").Udp();
        Assert.Equal(Errno.OK, server.Bind("0.0.0.0", 9000));
        var client = kit.Host("a").Udp();
        Assert.Equal(Errno.OK, client.Bind("0.0.0.0", 40000));
        return (kit, client, server);
    }

    private static List<int> ReadAll(UdpSocket server)
    {
        var got = new List<int>();
        for (var r = server.Recv(nonBlocking: true); r.Error == Errno.OK; r = server.Recv(nonBlocking: true))
            got.Add(r.Payload[0]);
        return got;
    }

    /// <summary>
    /// End to end on the engine: datagram 0 goes out with no neighbour entry (queued, ARP request out); datagrams 1 and 2
    /// are two sendto calls timed (a first identical run measures the instant) to reach the socket at the instant a's
    /// softirq hands b's ARP reply to the neighbour layer. b reads 0, 1, 2. (The engine's fifo order runs a timer due at
    /// an instant before the softirq work of that instant, so this run does not put 1's NeighOutput behind the reply:
    /// the race itself is pinned on <see cref="IpOutput"/> below, where it was; the bench saw it on the real clock.)
    /// </summary>
    [Fact]
    public void SendRacingTheArpReply_DoesNotOvertakeTheOneStillWithTheNeighbourActor()
    {
        // Run 1: when is the reply handed up, counted from the first send?
        long replyAfterNs;
        {
            var (kit, client, server) = Start();
            using var _ = kit;
            var at = new long[] { -1 };
            kit.Host("a").AddPacketTap(kit.System.ActorOf(Props.Create(() => new ArpReplyClock(kit.Engine, at))), "eth0");
            long t0 = kit.Engine.NowNs;
            kit.Driver.Begin(client.Ref, new SendTo(new byte[] { 0 }, B, 9000));
            kit.RunFor(TimeSpan.FromMilliseconds(1));
            replyAfterNs = at[0] - t0;
            // Exact on the engine: the request's and the reply's 10 µs wire crossings plus both hosts' transmit,
            // rx-usecs and softirq costs.
            Assert.Equal(26_136L, replyAfterNs);
            Assert.Equal([0], ReadAll(server));
        }
        // Run 2, identical up to that instant, with the two sends arriving then.
        {
            var (kit, client, server) = Start();
            using var _ = kit;
            kit.Host("a").AddPacketTap(kit.System.ActorOf(Props.Create(() => new ArpReplyClock(kit.Engine, new long[] { -1 }))), "eth0");
            var scheduler = (VirtualTimeScheduler)kit.System.Scheduler;
            var inbox = kit.System.ActorOf(Props.Create(() => new Sink()));
            kit.Driver.Begin(client.Ref, new SendTo(new byte[] { 0 }, B, 9000));
            for (byte i = 1; i <= 2; i++) scheduler.ScheduleTellOnceNs(replyAfterNs, client.Ref, new SendTo(new[] { i }, B, 9000), inbox);
            kit.RunFor(TimeSpan.FromMilliseconds(1));
            Assert.Equal([0, 1, 2], ReadAll(server));
            Assert.Equal(0, kit.Host("a").Stats().TotalDrops);
            kit.Host("a").AssertMib("Udp", "OutDatagrams", 3);
        }
    }

    private sealed class Sink : ReceiveActor
    {
        public Sink() => ReceiveAny(_ => { });
    }

}

/// <summary>The sender side of the ARP-queue order (<see cref="IpOutput"/>), with probes for the neighbour actor and the driver.</summary>
public class IpOutputNeighOrderTests() : EngineKit("ipout-neigh-order")
{
    private static readonly Ipv4Address Peer = Ipv4Address.Parse("10.0.0.1");
    private static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");

    private static (NetNamespace Ns, IpOutput Out, OutputRoute Rt) MakeOutput(IActorRef neighbour, IActorRef driver)
    {
        var ns = new NetNamespace(new HostSettings("h", 1, new SysctlSettings(),
            [new DeviceSettings("eth0", MacAddress.Parse("02:00:00:00:00:02"), Mtu: 1500,
                Addresses: [new Ipv4Prefix(Ipv4Address.Parse("10.0.0.2"), 24)])]), seed: 1);
        var refs = HostRefs.None with { Neighbour = neighbour, Drivers = [ActorRefs.Nobody, driver] };
        var output = new IpOutput(ns, refs);
        Assert.Equal(Errno.OK, output.Route(Peer, Ipv4Address.Any, 0, 0, out var rt));
        return (ns, output, rt);
    }

    private static void Send(IpOutput output, in OutputRoute rt, byte tag)
    {
        var frame = IpOutput.NewFrame(21);
        output.WriteHeader(frame.AsSpan(IpOutput.Headroom), 21, df: false, 64, 253, rt.Source, Peer);
        frame[^1] = tag;
        Assert.Equal(Errno.OK, output.LocalOut(IpOutput.NewSkb(frame), rt, 0));
    }

    private static void Publish(NetNamespace ns, int ifindex) =>
        ns.Neighbours = ns.Neighbours.SetItem(new NeighKey(ifindex, Peer), new NeighCacheEntry(PeerMac, long.MaxValue));

    private static byte[] Tags(ImmutableArray<SkBuff> skbs) => skbs.Select(s => s.Data.Span[^1]).ToArray();

    /// <summary>
    /// <c>neigh_resolve_output</c> vs the published entry: after a <see cref="NeighOutput"/> the sender's packets to that
    /// next hop keep going to the neighbour actor, even once the entry is published, until every such message is answered
    /// (<see cref="NeighOutputDone"/>): with one answer of two still out the next packet follows them, after the second it
    /// goes straight to the device. Within one batch, a packet gathered for the neighbour keeps the later ones with it.
    /// </summary>
    [Fact]
    public async Task IpOutput_AfterNeighOutput_FollowsItUntilAnswered_ThenDirect()
    {
        var n = Probe();
        var d = Probe();
        var self = Probe();
        var (ns, output, rt) = MakeOutput(n.Ref, d.Ref);
        int eth0 = rt.Device.Ifindex;

        Send(output, rt, 0);                 // no entry: to the neighbour actor
        output.Flush(self.Ref);
        Assert.Equal([0], Tags((await Expect<NeighOutput>(n)).Skbs));
        Publish(ns, eth0);                   // the reply published the entry while NeighOutput(0) may still be queued
        Send(output, rt, 1);
        output.Flush(self.Ref);
        Assert.Equal([1], Tags((await Expect<NeighOutput>(n)).Skbs));
        Assert.Equal(2, output.PendingNeighOutputs);

        output.NeighDone(new NeighOutputDone(eth0, Peer));
        Assert.Equal(1, output.PendingNeighOutputs);
        Send(output, rt, 2);                 // one still out: 2 follows it
        output.Flush(self.Ref);
        Assert.Equal([2], Tags((await Expect<NeighOutput>(n)).Skbs));
        output.NeighDone(new NeighOutputDone(eth0, Peer));
        output.NeighDone(new NeighOutputDone(eth0, Peer));
        Assert.Equal(0, output.PendingNeighOutputs);
        output.NeighDone(new NeighOutputDone(eth0, Peer)); // an answer too many changes nothing
        Assert.Equal(0, output.PendingNeighOutputs);
        Send(output, rt, 3);                 // all answered: straight to the device with the entry's address
        output.Flush(self.Ref);
        var x = await Expect<DevQueueXmit>(d);
        Assert.Equal([3], Tags(x.Skbs));
        Assert.True(EthernetHeader.TryRead(x.Skbs[0].Data.Span, out var eth) && eth.Destination == PeerMac);
        await ExpectNothingNow(n);

        // One batch: 4 gathered for the neighbour, then the entry is published mid-batch; 5 stays behind 4.
        ns.Neighbours = ns.Neighbours.Remove(new NeighKey(eth0, Peer));
        Send(output, rt, 4);
        Publish(ns, eth0);
        Send(output, rt, 5);
        output.Flush(self.Ref);
        Assert.Equal([4, 5], Tags((await Expect<NeighOutput>(n)).Skbs));
        await ExpectNothingNow(d);
    }
}
