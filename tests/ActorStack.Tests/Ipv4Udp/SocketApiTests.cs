using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>The socket actor's API: recvmmsg semantics, broadcast delivery and raw sockets.</summary>
public class SocketApiTests() : NetOnEngineKit("socket-api")
{
    [Fact]
    public async Task Recv_EmptyNonBlocking_EagainAndBlockingAnsweredOnArrival()
    {
        var (host, nic) = await StartHost();
        var sock = await BoundSocket(host, "0.0.0.0", 7000);
        Assert.Equal(Errno.EAGAIN, await RecvNonBlocking(sock));

        var probe = Probe();
        sock.Tell(new Recv(8), probe.Ref);
        Driver.RunFor(TimeSpan.FromMilliseconds(100));
        await ExpectNothingNow(probe); // still blocked after 100 ms of simulated time
        Inject(nic, Udp(7000, [7]));
        var r = await ExpectSoon<Received>(probe);
        Assert.Equal([7], Assert.Single(r.Datagrams).Payload.ToArray());
    }

    [Fact]
    public async Task Recv_MaxDatagrams_ReturnsAtMostMax()
    {
        var (host, nic) = await StartHost();
        var sock = await BoundSocket(host, "0.0.0.0", 7000);
        Inject(nic, Enumerable.Range(0, 5).Select(i => Udp(7000, [(byte)i])).ToArray());
        await Settled(host, s => Assert.Equal(5, s.Sockets.Single().RecvQueueDatagrams));

        var first = Assert.IsType<Received>(await Ask<object>(sock, new Recv(2, NonBlocking: true)));
        Assert.Equal([0, 1], first.Datagrams.Select(d => d.Payload.Span[0]));
        var rest = Assert.IsType<Received>(await Ask<object>(sock, new Recv(10, NonBlocking: true)));
        Assert.Equal([2, 3, 4], rest.Datagrams.Select(d => d.Payload.Span[0]));
        Assert.Equal(Errno.EINVAL, await Command(sock, new Recv(0)));
    }

    [Fact]
    public async Task Broadcast_DirectedBroadcast_ReachesWildcardSocketElseIgnoredMulti()
    {
        var (host, nic) = await StartHost();
        var wildcard = await BoundSocket(host, "0.0.0.0", 7000);
        var specific = await BoundSocket(host, "10.0.0.2", 7001);
        var bcast = Ipv4Address.Parse("10.0.0.255");

        Inject(nic,
            Udp(7000, [1], dst: bcast, dstMac: MacAddress.Broadcast),
            Udp(7001, [2], dst: bcast, dstMac: MacAddress.Broadcast),  // bound to 10.0.0.2: not a match (__udp_is_mcast_sock)
            Udp(7002, [3], dst: bcast, dstMac: MacAddress.Broadcast),  // nobody
            Udp(7000, [4], dst: Ipv4Address.Parse("255.255.255.255"), dstMac: MacAddress.Broadcast));

        Assert.Equal([[1], [4]], (await ReadAll(wildcard, 2)).Select(d => d.Payload.ToArray()).ToArray());
        await Settled(host, s =>
        {
            Assert.Equal(2, s.Mib("Udp")["IgnoredMulti"]);
            Assert.Equal(0, s.Mib("Udp")["NoPorts"]);
            Assert.Equal(4, s.Mib("IpExt")["InBcastPkts"]);
            Assert.Equal(4, s.Device("eth0").Counters.Multicast);
        });
        Assert.Equal(Errno.EAGAIN, await RecvNonBlocking(specific));
    }

    [Fact]
    public async Task RawSocket_Udp_GetsCopyWithIpHeaderAndUdpSocketStillGetsIt()
    {
        var (host, nic) = await StartHost();
        var raw = await Socket(host, SockType.Raw, IpProtocol.Udp);
        var udp = await BoundSocket(host, "0.0.0.0", 7000);
        var frame = Udp(7000, [5, 6, 7]);
        Inject(nic, frame);

        var copy = (await ReadAll(raw, 1))[0];
        Assert.Equal(frame.AsSpan(14, 20 + 8 + 3).ToArray(), copy.Payload.ToArray()); // from the IP header on, padding trimmed
        Assert.Equal(PeerIp, copy.Source);
        Assert.Equal([5, 6, 7], (await ReadAll(udp, 1))[0].Payload.ToArray());
        await Settled(host, s =>
        {
            Assert.Equal(1, s.Mib("Ip")["InDelivers"]);
            Assert.Equal(1, s.Mib("Udp")["InDatagrams"]);
        });
    }

    [Fact]
    public async Task RawSocket_UnknownProtocol_CountsInDeliversNotInUnknownProtos()
    {
        var (host, nic) = await StartHost();
        var raw = await Socket(host, SockType.Raw, 253);
        var frame = Udp(7000, [1]);
        frame[23] = 253;
        FixIpChecksum(frame);
        var noRaw = Udp(7000, [2]);
        noRaw[23] = 254;
        FixIpChecksum(noRaw);
        Inject(nic, frame, noRaw);

        var copy = (await ReadAll(raw, 1))[0];
        Assert.Equal(253, copy.Payload.Span[9]);
        Assert.Equal(0x45, copy.Payload.Span[0]);
        await Settled(host, s =>
        {
            Assert.Equal(1, s.Mib("Ip")["InDelivers"]);
            Assert.Equal(1, s.Mib("Ip")["InUnknownProtos"]); // protocol 254 only
            Assert.Equal(1, s.DropsOf(DropReason.IP_NOPROTO));
        });
        Assert.Equal(Errno.EAGAIN, await RecvNonBlocking(raw));
    }
}
