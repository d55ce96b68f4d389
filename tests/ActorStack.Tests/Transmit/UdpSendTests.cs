using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Transmit;

/// <summary>UDP sending (udp_sendmsg, ip_append_data): sendto/send, corking, local errors, loopback; two hosts on one cable.</summary>
public class UdpSendTests() : VirtualNetKit("udp-send")
{
    private async Task<(Started A, Started B)> TwoHosts(SysctlSettings? sysctl = null, int mtu = 1500)
    {
        var a = await Start(HostOf("a", sysctl, Dev("eth0", 1, "10.0.0.1/24") with { Mtu = mtu }) with
        {
            Neighbours = [Neigh("10.0.0.2", 2, "eth0")],
            Routes = [Route("192.0.2.0/24", type: "unreachable")],
        });
        var b = await Start(HostOf("b", null, Dev("eth0", 2, "10.0.0.2/24") with { Mtu = mtu }) with { Neighbours = [Neigh("10.0.0.1", 1, "eth0")] });
        Cable(a.Devices["eth0"], b.Devices["eth0"]);
        return (a, b);
    }

    [Fact]
    public async Task SendTo_ReachesPeerSocket_ByteForByte_WithCounters()
    {
        var (a, b) = await TwoHosts();
        var rx = await BoundSocket(b.Host, "0.0.0.0", 9000);
        var tx = await BoundSocket(a.Host, "0.0.0.0", 5555);
        var payload = Bytes(100);
        Assert.IsType<Sent>(await Send(tx, payload, "10.0.0.2", 9000));
        var got = Assert.Single(await ReadAll(rx, 1));
        Assert.Equal(payload, got.Payload.ToArray());
        Assert.Equal(Ip("10.0.0.1"), got.Source);
        Assert.Equal(5555, got.SourcePort);
        await Settled(a.Host, s =>
        {
            Assert.Equal(1, Mib(s, "Udp", "OutDatagrams"));
            Assert.Equal(1, Mib(s, "Ip", "OutRequests"));
            Assert.Equal(1, Mib(s, "Ip", "OutTransmits"));
            var eth0 = s.Devices.Single(d => d.Name == "eth0");
            Assert.Equal(1, eth0.Counters.TxPackets);
            Assert.Equal(14 + 20 + 8 + 100, eth0.Counters.TxBytes);
            Assert.Equal(1, eth0.Qdisc!.Packets);
            Assert.Equal(0, s.Sockets.Single(x => x.LocalPort == 5555).SendQueueBytes); // freed after TX completion
        });
    }

    [Fact]
    public async Task Send_Unbound_Autobinds_ToEphemeralPort()
    {
        var (a, b) = await TwoHosts();
        var rx = await BoundSocket(b.Host, "10.0.0.2", 9000);
        var tx = await Socket(a.Host);
        Assert.Equal(Errno.OK, await SendErr(tx, [1], "10.0.0.2", 9000));
        var got = Assert.Single(await ReadAll(rx, 1));
        Assert.Equal(43999, got.SourcePort); // in ip_local_port_range 32768-60999, from host a's seed
        var info = await Ask<SocketInfo>(tx, GetSocketInfo.Instance);
        Assert.Equal(got.SourcePort, info.LocalPort);
    }

    [Fact]
    public async Task Send_Connected_WithoutAddress_And_Unconnected_IsEdestaddrreq()
    {
        var (a, b) = await TwoHosts();
        var rx = await BoundSocket(b.Host, "0.0.0.0", 9000);
        var tx = await Socket(a.Host);
        Assert.Equal(Errno.EDESTADDRREQ, await SendErr(tx, [1]));
        Assert.Equal(Errno.OK, await Command(tx, new Connect(Ip("10.0.0.2"), 9000)));
        Assert.Equal(Errno.OK, await SendErr(tx, [7, 7]));
        Assert.Equal(new byte[] { 7, 7 }, Assert.Single(await ReadAll(rx, 1)).Payload.ToArray());
    }

    [Fact]
    public async Task MsgMore_AppendsSends_IntoOneDatagram()
    {
        var (a, b) = await TwoHosts();
        var rx = await BoundSocket(b.Host, "0.0.0.0", 9000);
        var tx = await BoundSocket(a.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await SendErr(tx, [1, 2], "10.0.0.2", 9000, MsgFlags.More));
        Assert.Equal(Errno.OK, await SendErr(tx, [3], "10.0.0.99", 1, MsgFlags.More)); // address ignored while pending
        Assert.Equal(Errno.OK, await SendErr(tx, [4, 5]));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, Assert.Single(await ReadAll(rx, 1)).Payload.ToArray());
        await Settled(a.Host, s => Assert.Equal(1, Mib(s, "Udp", "OutDatagrams")));
    }

    [Fact]
    public async Task UdpCork_HoldsData_UntilUncorked()
    {
        var (a, b) = await TwoHosts();
        var rx = await BoundSocket(b.Host, "0.0.0.0", 9000);
        var tx = await BoundSocket(a.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await Command(tx, new SetSocketOption(SockOpt.UdpCork, 1)));
        Assert.Equal(Errno.OK, await SendErr(tx, [1], "10.0.0.2", 9000));
        Assert.Equal(Errno.OK, await SendErr(tx, [2]));
        Assert.Equal(Errno.EAGAIN, await RecvNonBlocking(rx));
        Assert.Equal(Errno.OK, await Command(tx, new SetSocketOption(SockOpt.UdpCork, 0)));
        Assert.Equal(new byte[] { 1, 2 }, Assert.Single(await ReadAll(rx, 1)).Payload.ToArray());
    }

    [Fact]
    public async Task LocalErrors_Emsgsize_Enetunreach_Ehostunreach()
    {
        var (a, _) = await TwoHosts();
        var tx = await BoundSocket(a.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.EMSGSIZE, await SendErr(tx, new byte[65508], "10.0.0.2", 9000));
        Assert.Equal(Errno.ENETUNREACH, await SendErr(tx, [1], "172.16.0.1", 9000));
        Assert.Equal(Errno.EHOSTUNREACH, await SendErr(tx, [1], "192.0.2.7", 9000)); // unreachable route
        Assert.Equal(Errno.EACCES, await SendErr(tx, [1], "10.0.0.255", 9000));     // broadcast without SO_BROADCAST
        Assert.Equal(Errno.EINVAL, await SendErr(tx, [1], "10.0.0.2", 0));
        Assert.Equal(Errno.OK, await Command(tx, new SetSocketOption(SockOpt.IpMtuDiscover, 2)));
        Assert.Equal(Errno.EMSGSIZE, await SendErr(tx, new byte[1473], "10.0.0.2", 9000)); // 1473 + 28 > 1500 with DO
        Assert.Equal(Errno.OK, await SendErr(tx, new byte[1472], "10.0.0.2", 9000));
        var s = await Stats(a.Host);
        Assert.Equal(1, Mib(s, "Ip", "OutNoRoutes"));
    }

    [Fact]
    public async Task LargeDatagram_IsFragmented_AndReassembled_ByteForByte()
    {
        var (a, b) = await TwoHosts();
        var rx = await BoundSocket(b.Host, "0.0.0.0", 9000);
        await Command(rx, new SetReceiveBuffer(1 << 20));
        var tx = await BoundSocket(a.Host, "0.0.0.0", 0);
        var payload = Bytes(20000, 7);
        Assert.Equal(Errno.OK, await SendErr(tx, payload, "10.0.0.2", 9000));
        Assert.Equal(payload, Assert.Single(await ReadAll(rx, 1)).Payload.ToArray());
        var s = await Stats(a.Host);
        Assert.Equal(1, Mib(s, "Ip", "FragOKs"));
        Assert.Equal(14, Mib(s, "Ip", "FragCreates")); // 20028 bytes of IP payload in 1480-byte pieces
        await Settled(b.Host, st => Assert.Equal(1, Mib(st, "Ip", "ReasmOKs")));
    }

    [Fact]
    public async Task Loopback_DeliversToOwnSocket_ThroughLo()
    {
        var a = await Start(HostOf("solo", null, Dev("eth0", 1, "10.0.0.1/24")));
        var rx = await BoundSocket(a.Host, "0.0.0.0", 7000);
        var tx = await Socket(a.Host);
        Assert.Equal(Errno.OK, await SendErr(tx, [9, 8, 7], "127.0.0.1", 7000));
        Assert.Equal(Errno.OK, await SendErr(tx, [6], "10.0.0.1", 7000)); // own address: local route, lo
        var got = await ReadAll(rx, 2);
        Assert.Equal(new byte[] { 9, 8, 7 }, got[0].Payload.ToArray());
        Assert.Equal(Ip("127.0.0.1"), got[0].Source);
        Assert.Equal(Ip("10.0.0.1"), got[1].Source);
        var s = await Stats(a.Host);
        var lo = s.Devices.Single(d => d.Name == "lo");
        Assert.Equal(1, lo.Ifindex);
        Assert.Equal(2, lo.Counters.TxPackets);
        Assert.Equal(2, lo.Counters.RxPackets);
        Assert.Equal(0, s.Devices.Single(d => d.Name == "eth0").Counters.TxPackets);
    }

    [Fact]
    public async Task PortUnreachable_WithoutIcmpHandler_CountsNoPorts()
    {
        var (a, b) = await TwoHosts();
        var tx = await BoundSocket(a.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await SendErr(tx, [1], "10.0.0.2", 4444));
        await Settled(b.Host, s => Assert.Equal(1, Mib(s, "Udp", "NoPorts")));
    }
}
