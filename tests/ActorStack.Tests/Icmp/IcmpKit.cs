using System.Buffers.Binary;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Engine;
using ActorStack.Tests.Engine;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Icmp;

/// <summary>
/// A TestKit on the simulation engine around one ICMP actor of a bare namespace "h": eth0
/// 02:00:00:00:00:02 with 10.0.0.2/24, a permanent neighbour 10.0.0.1 (02:00:00:00:00:01), 192.168.0.0/16 via
/// 10.0.0.1. eth0's driver and the UDP handler are probes. Buffers are handed to the actor as Ipv4Actor hands
/// them after local delivery. What the test tells the actors runs when it looks (<see cref="NextFrame"/>,
/// <see cref="RoutingSynced"/>, <see cref="Deliver(int, byte[][])"/>); the clock moves only in <see cref="EngineClock.Advance"/>.
/// </summary>
public abstract class IcmpKit(string name) : EngineKit(name)
{
    protected static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    protected static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    protected static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    protected static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");
    protected static readonly Ipv4Address Remote = Ipv4Address.Parse("192.168.1.1");
    protected static readonly TimeSpan Wait = Timeouts.Wall;

    protected NetNamespace Ns = null!;
    protected IActorRef Icmp = ActorRefs.Nobody;
    protected TestProbe Nic = null!;
    protected TestProbe Udp = null!;
    /// <summary>The host's routing actor (the PMTU cache's owner), real.</summary>
    protected IActorRef Routing = ActorRefs.Nobody;

    /// <summary>The engine's clock as the tests use it: <see cref="EngineClock.Now"/> (the scheduler's) and <see cref="EngineClock.Advance"/>.</summary>
    protected EngineClock Clock => new(Engine, Sys.Scheduler);

    protected readonly record struct EngineClock(SimEngine Engine, IScheduler Scheduler)
    {
        public DateTimeOffset Now => Scheduler.Now;

        /// <summary>Runs every timer and message due up to now + <paramref name="by"/>.</summary>
        public void Advance(TimeSpan by) => Engine.RunFor(by);
    }

    protected static HostSettings Settings(SysctlSettings? sysctl = null, int mtu = 1500)
        => new("h", 1, sysctl ?? new SysctlSettings(),
            [new DeviceSettings("eth0", HostMac, Mtu: mtu, Addresses: [new Ipv4Prefix(HostIp, 24)])])
        {
            Routes = [new RouteSettings(new Ipv4Prefix(Ipv4Address.Parse("192.168.0.0"), 16), PeerIp)],
            Neighbours = [new NeighbourSettings(PeerIp, PeerMac, "eth0")],
        };

    protected void Start(SysctlSettings? sysctl = null, IcmpSettings? settings = null, int mtu = 1500)
    {
        Ns = new NetNamespace(Settings(sysctl, mtu), seed: 1);
        Nic = Probe();
        Udp = Probe();
        Routing = Sys.ActorOf(Actors.Routing.RoutingActor.Props(Ns), "routing");
        var refs = HostRefs.None with { Routing = Routing, Udp = Udp.Ref, Drivers = [Probe().Ref, Nic.Ref] };
        Icmp = Sys.ActorOf(IcmpActor.Props(Ns, refs, settings), "icmp");
        Icmp.Tell(refs with { Icmp = Icmp });
    }

    /// <summary>
    /// Runs everything due now, so the routing actor has handled everything told to it: a learned path MTU the ICMP
    /// actor told it before a message the test has seen is published after this.
    /// </summary>
    protected Task RoutingSynced()
    {
        Engine.RunUntilIdle();
        return Task.CompletedTask;
    }

    /// <summary>An IPv4 packet (20-byte header) around <paramref name="payload"/>.</summary>
    protected static byte[] Ip(Ipv4Address src, Ipv4Address dst, byte protocol, ReadOnlySpan<byte> payload,
        byte tos = 0, ushort flagsAndOffset = 0, byte ttl = 64, ushort id = 1)
    {
        var p = new byte[20 + payload.Length];
        payload.CopyTo(p.AsSpan(20));
        Ipv4Header.Write(p, p.Length, id, flagsAndOffset, ttl, protocol, src, dst, tos);
        return p;
    }

    /// <summary>A UDP datagram (checksum filled in) as an IP packet.</summary>
    protected static byte[] UdpPacket(Ipv4Address src, Ipv4Address dst, ushort sport, ushort dport, int payload = 4,
        byte tos = 0, ushort flagsAndOffset = 0)
    {
        var d = new byte[8 + payload];
        for (int i = 8; i < d.Length; i++) d[i] = (byte)i;
        BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(4), (ushort)d.Length);
        UdpHeader.Write(d, sport, dport, src, dst);
        return Ip(src, dst, IpProtocol.Udp, d, tos, flagsAndOffset);
    }

    /// <summary>Hands IP packets (as received on eth0, or on <paramref name="ifindex"/>) to the ICMP actor.</summary>
    protected void Deliver(int ifindex, params byte[][] packets)
    {
        var skbs = packets.Select(p =>
        {
            var frame = new byte[14 + p.Length];
            p.CopyTo(frame, 14);
            return new SkBuff(frame, ifindex, 0, 0, 0, SkBuff.TruesizeFor(frame.Length))
            {
                NetworkOffset = 14, NetworkLength = p.Length, TransportOffset = 14 + (p[0] & 0xF) * 4,
                PktType = PacketKind.Host, Protocol = EtherType.Ipv4,
            };
        }).ToImmutableArray();
        TellNow(Icmp, new ProtocolDeliver(skbs, 0), TestActor);
    }

    protected void Deliver(params byte[][] packets) => Deliver(2, packets);

    /// <summary>An echo request from the peer to this host (a sentinel: its reply is never rate limited).</summary>
    protected static byte[] Ping(ushort seq, Ipv4Address? src = null, Ipv4Address? dst = null, byte tos = 0, int data = 8)
        => Ip(src ?? PeerIp, dst ?? HostIp, IpProtocol.Icmp, IcmpPacket.EchoRequest(0x77, seq, Enumerable.Range(0, data).Select(i => (byte)i).ToArray()), tos);

    /// <summary>The next frame eth0's driver is asked to send (one <see cref="DevQueueXmit"/> of one buffer).</summary>
    protected async Task<byte[]> NextFrame()
    {
        Engine.RunUntilIdle();
        var x = await Nic.ExpectMsgAsync<DevQueueXmit>(Wait);
        var skb = Assert.Single(x.Skbs);
        return skb.Data.ToArray();
    }

    /// <summary>Frames until the echo reply with <paramref name="seq"/>; returns the frames before it.</summary>
    protected async Task<List<byte[]>> FramesUntilReply(ushort seq)
    {
        var before = new List<byte[]>();
        while (true)
        {
            var f = await NextFrame();
            if (f[34] == IcmpType.EchoReply && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(40)) == seq) return before;
            before.Add(f);
        }
    }

    /// <summary>Sends a sentinel echo request and asserts nothing went out before its reply.</summary>
    protected async Task AssertNothingSent()
    {
        Deliver(Ping(9999));
        Assert.Empty(await FramesUntilReply(9999));
    }

    protected long this[IcmpMib c] => Ns.Icmp[c];

    protected static ReadOnlySpan<byte> IpOf(byte[] frame) => frame.AsSpan(14);
}
