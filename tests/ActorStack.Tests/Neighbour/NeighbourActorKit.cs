using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Tests.Engine;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Neighbour;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Neighbour;

/// <summary>
/// One host ("h", eth0 02:00:00:00:00:02, 10.0.0.2/24) on the simulation engine whose eth0 wire end is
/// a probe: frames the host sends arrive at <see cref="Wire"/> (and are acknowledged with <see cref="WireTxDone"/>),
/// frames from the peer (10.0.0.1, 02:00:00:00:00:01) are injected into the NIC. ICMP errors go to <see cref="Icmp"/>.
/// Every message the kit sends runs to completion before the test looks; the clock moves only in <see cref="Advance"/>.
/// </summary>
public abstract class NeighbourActorKit(string name) : EngineKit(name)
{
    protected static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    protected static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    protected static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    protected static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");
    protected static readonly TimeSpan Timeout = Timeouts.Wall;

    protected IScheduler Clock => Sys.Scheduler;
    protected NetNamespace Ns = null!;
    protected IActorRef Host = null!;
    protected IActorRef Nic = null!;
    protected IActorRef Neigh = null!;
    protected TestProbe Wire = null!;
    protected TestProbe Icmp = null!;
    /// <summary>The sender of the kit's questions (GetNeighbours, GetArpStats, GetStats, …).</summary>
    protected TestProbe Asker = null!;
    private readonly Queue<byte[]> _frames = new();

    protected async Task Start(SysctlSettings? sysctl = null, params NeighbourSettings[] neighbours)
    {
        var dev = new DeviceSettings("eth0", HostMac, Addresses: [new Ipv4Prefix(HostIp, 24)]);
        var settings = new HostSettings("h", 1, sysctl ?? new SysctlSettings(), [dev]) { Neighbours = [.. neighbours] };
        var host = ActorOfAsTestActorRef<HostActor>(HostActor.Props(settings, seed: 1), "h");
        Host = host;
        Ns = host.UnderlyingActor.Namespace;
        Icmp = Probe();
        Wire = Probe();
        Asker = Probe();
        var devices = await AskNow<HostDevices>(Asker, Host, GetHostDevices.Instance);
        Nic = devices.Devices["eth0"];
        Nic.Tell(new AttachWire(Wire.Ref));
        Neigh = host.UnderlyingActor.Refs.Neighbour;
        Neigh.Tell(host.UnderlyingActor.Refs with { Icmp = Icmp.Ref });   // the neighbour actor's ICMP is the probe
        await ArpStats(); // started
    }

    /// <summary>The next frame the host put on the wire (TX completion acknowledged).</summary>
    protected async Task<byte[]> NextFrame()
    {
        Engine.RunUntilIdle();
        while (_frames.Count == 0)
        {
            var m = await Wire.ExpectMsgAsync<WireFrames>(Timeout);
            TellNow(Nic, new WireTxDone(m.Frames.Length), Wire.Ref);
            foreach (var f in m.Frames) _frames.Enqueue(f.ToArray());
        }
        return _frames.Dequeue();
    }

    /// <summary>Nothing more on the wire once everything due now has run (the clock does not move).</summary>
    protected async Task ExpectNoFrame()
    {
        Engine.RunUntilIdle();
        Assert.Empty(_frames);
        await Wire.ExpectNoMsgAsync(TimeSpan.Zero);
    }

    protected void Inject(params byte[][] frames)
        => TellNow(Nic, new WireFrames(frames.Select(f => (ReadOnlyMemory<byte>)f).ToImmutableArray()), Wire.Ref);

    /// <summary>A UDP packet from the host to <paramref name="dst"/> as IpOutput hands it on (frame with headroom, no link header yet).</summary>
    protected static SkBuff Packet(byte tag, IActorRef? owner = null, int payload = 4, Ipv4Address? dst = null)
    {
        var data = new byte[payload];
        data[0] = tag;
        var frame = FrameBuilder.Udp(MacAddress.Zero, MacAddress.Zero, HostIp, dst ?? PeerIp, 5000, 9000, data, id: tag, padTo60: false);
        return IpOutput.NewSkb(frame, owner);
    }

    protected void NeighOut(params SkBuff[] skbs) => NeighOut(PeerIp, skbs);

    protected void NeighOut(Ipv4Address nextHop, params SkBuff[] skbs)
        => TellNow(Neigh, new NeighOutput(2, nextHop, [.. skbs]), TestActor);

    /// <summary>An ARP packet inside an Ethernet frame.</summary>
    protected static byte[] ArpFrame(ushort op, MacAddress sha, Ipv4Address sip, MacAddress tha, Ipv4Address tip,
        MacAddress? ethDst = null)
        => ArpPacket.Frame(ethDst ?? (op == ArpPacket.OpRequest ? MacAddress.Broadcast : HostMac), sha, op, sha, sip, tha, tip);

    protected static byte[] ReplyFromPeer() => ArpFrame(ArpPacket.OpReply, PeerMac, PeerIp, HostMac, HostIp);

    protected Task<NeighbourList> Neighbours() => AskNow<NeighbourList>(Asker, Host, GetNeighbours.Instance);
    protected Task<ArpStats> ArpStats() => AskNow<ArpStats>(Asker, Neigh, GetArpStats.Instance);
    protected Task<HostStats> HostStats() => AskNow<HostStats>(Asker, Host, GetStats.Instance);

    /// <summary>Moves virtual time on by <paramref name="by"/>, running every timer and message due up to then.</summary>
    protected Task Advance(TimeSpan by)
    {
        Engine.RunFor(by);
        return Task.CompletedTask;
    }

    protected static void AssertArpRequest(byte[] frame, MacAddress ethDst, Ipv4Address target, MacAddress tha)
    {
        Assert.True(EthernetHeader.TryRead(frame, out var eth));
        Assert.Equal(ethDst, eth.Destination);
        Assert.Equal(HostMac, eth.Source);
        Assert.Equal(EtherType.Arp, eth.EtherType);
        Assert.True(ArpPacket.TryRead(frame.AsSpan(EthernetHeader.Length), out var arp, out _));
        Assert.True(arp.IsRequest);
        Assert.Equal(HostMac, arp.SenderMac);
        Assert.Equal(HostIp, arp.SenderIp);
        Assert.Equal(tha, arp.TargetMac);
        Assert.Equal(target, arp.TargetIp);
    }

    /// <summary>The UDP packet's tag (first payload byte) after checking the frame went to the peer.</summary>
    protected static byte TagOf(byte[] frame)
    {
        Assert.True(EthernetHeader.TryRead(frame, out var eth));
        Assert.Equal(PeerMac, eth.Destination);
        Assert.Equal(HostMac, eth.Source);
        Assert.Equal(EtherType.Ipv4, eth.EtherType);
        return frame[EthernetHeader.Length + 28];
    }
}
