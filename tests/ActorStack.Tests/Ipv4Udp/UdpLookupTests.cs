using Akka.Actor;
using System.Reflection;
using ActorStack.Actors.Udp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>
/// UDP socket lookup (<c>__udp4_lib_lookup</c>'s <c>compute_score</c>) and bind rules (<c>udp_lib_get_port</c>).
/// </summary>
public class UdpLookupTests() : NetOnEngineKit("udp-lookup")
{
    private static readonly Ipv4Address Other = Ipv4Address.Parse("10.0.0.9");

    [Fact]
    public async Task UdpLookup_ConnectedSocket_OnlyItsPeerReachesIt()
    {
        var (host, nic) = await StartHost();
        var connected = await BoundSocket(host, "0.0.0.0", 7000);
        Assert.Equal(Errno.OK, await Command(connected, new Connect(PeerIp, 5000)));
        var wildcard = await BoundSocket(host, "0.0.0.0", 7001);

        Inject(nic,
            Udp(7000, [1], src: PeerIp, sport: 5000),   // the connected peer
            Udp(7000, [2], src: PeerIp, sport: 5001),   // same peer, other port: no socket
            Udp(7000, [3], src: Other, sport: 5000),    // other peer: no socket
            Udp(7001, [4], src: Other, sport: 6000));   // the wildcard takes anyone

        Assert.Equal([1], (await ReadAll(connected, 1))[0].Payload.ToArray());
        Assert.Equal([4], (await ReadAll(wildcard, 1))[0].Payload.ToArray());
        await Settled(host, s =>
        {
            Assert.Equal(2, s.Mib("Udp")["NoPorts"]);
            Assert.Equal(2, s.DropsOf(DropReason.NO_SOCKET));
        });
        Assert.Equal(Errno.EAGAIN, await RecvNonBlocking(connected));
        var info = await Ask<SocketInfo>(connected, GetSocketInfo.Instance);
        Assert.Equal((HostIp, (ushort)7000, PeerIp, (ushort)5000), (info.LocalAddress, info.LocalPort, info.RemoteAddress, info.RemotePort));
    }

    [Fact]
    public async Task UdpLookup_SpecificAddressBind_OnlyThatAddressReachesIt()
    {
        var (host, nic) = await StartHost(1, null, "10.0.0.2/24", "10.0.1.2/24");
        var specific = await BoundSocket(host, "10.0.0.2", 7000);
        var wildcard = await BoundSocket(host, "0.0.0.0", 7001);
        var second = Ipv4Address.Parse("10.0.1.2");

        Inject(nic, Udp(7000, [1]), Udp(7000, [2], dst: second), Udp(7001, [3]), Udp(7001, [4], dst: second));

        Assert.Equal([1], (await ReadAll(specific, 1))[0].Payload.ToArray());
        Assert.Equal([[3], [4]], (await ReadAll(wildcard, 2)).Select(d => d.Payload.ToArray()).ToArray());
        await Settled(host, s => Assert.Equal(1, s.Mib("Udp")["NoPorts"]));
        Assert.Equal(Errno.EAGAIN, await RecvNonBlocking(specific));
    }

    [Fact]
    public async Task UdpBind_ConflictsForeignAddressAndPortZero_LinuxErrnos()
    {
        var (host, _) = await StartHost();
        await BoundSocket(host, "0.0.0.0", 7000);
        var b = await Socket(host);
        Assert.Equal(Errno.EADDRINUSE, await Command(b, new Bind(HostIp, 7000)));       // wildcard holds the port
        Assert.Equal(Errno.EADDRINUSE, await Command(b, new Bind(Ipv4Address.Any, 7000)));
        Assert.Equal(Errno.EADDRNOTAVAIL, await Command(b, new Bind(Ipv4Address.Parse("192.0.2.1"), 7001)));
        Assert.Equal(Errno.OK, await Command(b, new Bind(Ipv4Address.Any, 0)));
        var info = await Ask<SocketInfo>(b, GetSocketInfo.Instance);
        Assert.Equal(58731, info.LocalPort); // udp_lib_get_port's random start in 32768-60999, from the host's seed
        Assert.Equal(Errno.EINVAL, await Command(b, new Bind(Ipv4Address.Any, 7002)));   // already bound
    }

    /// <summary>
    /// compute_score on the table itself: a connected 4-tuple beats a specific address, which beats a wildcard.
    /// Two sockets on one port need SO_REUSEADDR, which the socket API does not offer yet, so the bindings are
    /// inserted directly (reflection on UdpTable.Insert).
    /// </summary>
    [Fact]
    public void UdpTable_Lookup_ConnectedBeatsSpecificBeatsWildcard()
    {
        var table = new UdpTable(new Random(1), _ => true, _ => HostIp);
        var insert = typeof(UdpTable).GetMethod("Insert", BindingFlags.NonPublic | BindingFlags.Instance)!;
        var wild = Probe().Ref;
        var specific = Probe().Ref;
        var connected = Probe().Ref;
        insert.Invoke(table, [new UdpBinding(wild, Ipv4Address.Any, 7000, Ipv4Address.Any, 0)]);
        insert.Invoke(table, [new UdpBinding(specific, HostIp, 7000, Ipv4Address.Any, 0)]);
        insert.Invoke(table, [new UdpBinding(connected, HostIp, 7000, PeerIp, 5000)]);

        Assert.Equal(connected, table.Lookup(PeerIp, 5000, HostIp, 7000)!.Socket);
        Assert.Equal(specific, table.Lookup(PeerIp, 5001, HostIp, 7000)!.Socket);
        Assert.Equal(specific, table.Lookup(Other, 5000, HostIp, 7000)!.Socket);
        Assert.Equal(wild, table.Lookup(PeerIp, 5000, Ipv4Address.Parse("10.0.1.2"), 7000)!.Socket);
        Assert.Null(table.Lookup(PeerIp, 5000, HostIp, 7001));
    }
}
