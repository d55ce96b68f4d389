using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Tests.Engine;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Icmp;

/// <summary>
/// The ICMP actor inside a whole host on the simulation engine: started by HostActor, its replies leave through eth0's
/// qdisc, TX ring and wire.
/// </summary>
public class IcmpHostTests() : EngineKit("icmp-host")
{
    private static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    private static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");

    [Fact]
    public async Task HostIcmpActor_EchoRequest_ReplyFramesOnTheWire()
    {
        var settings = new HostSettings("h1", 1, new SysctlSettings(),
            [new DeviceSettings("eth0", HostMac, Addresses: [new Ipv4Prefix(HostIp, 24)])])
        {
            Neighbours = [new NeighbourSettings(PeerIp, PeerMac, "eth0")],
        };
        var host = Sys.ActorOf(HostActor.Props(settings, seed: 1), "h1");
        var devs = await Ask<HostDevices>(host, GetHostDevices.Instance);
        var wire = Probe();
        devs.Devices["eth0"].Tell(new AttachWire(wire.Ref));
        Driver.RunIdle();
        var icmp = await Outside(() => Sys.ActorSelection("/user/h1/icmp").ResolveOne(Timeouts.Wall));

        var skbs = Enumerable.Range(1, 3).Select(seq =>
        {
            var msg = IcmpPacket.EchoRequest(1, (ushort)seq, [1, 2, 3, 4]);
            var frame = new byte[14 + 20 + msg.Length];
            Ipv4Header.Write(frame.AsSpan(14), 20 + msg.Length, (ushort)seq, 0, 64, IpProtocol.Icmp, PeerIp, HostIp);
            msg.CopyTo(frame, 34);
            return new SkBuff(frame, 2, 0, 0, 0, SkBuff.TruesizeFor(frame.Length))
            {
                NetworkOffset = 14, NetworkLength = 20 + msg.Length, TransportOffset = 34, PktType = PacketKind.Host,
            };
        }).ToImmutableArray();
        icmp.Tell(new ProtocolDeliver(skbs, 0));

        var seqs = new List<int>();
        while (seqs.Count < 3)
        {
            var w = await ExpectSoon<WireFrames>(wire);
            foreach (var f in w.Frames)
            {
                var b = f.ToArray();
                Assert.Equal(PeerMac, MacAddress.Read(b));
                Assert.True(Ipv4Header.TryRead(b.AsSpan(14), out var h));
                Assert.True(h.ChecksumValid);
                Assert.Equal(HostIp, h.Source);
                Assert.Equal(IcmpType.EchoReply, b[34]);
                Assert.Equal(0, Checksum.Compute(b.AsSpan(34, h.TotalLength - 20)));
                seqs.Add(b[41]);
            }
            devs.Devices["eth0"].Tell(new WireTxDone(w.Frames.Length));
        }
        Assert.Equal([1, 2, 3], seqs);

        var stats = await Ask<HostStats>(host, GetStats.Instance);
        Assert.Equal(3, stats.Mib("Icmp")["OutEchoReps"]);
        Assert.Equal(3, stats.Mib("Icmp")["InEchos"]);
    }
}
