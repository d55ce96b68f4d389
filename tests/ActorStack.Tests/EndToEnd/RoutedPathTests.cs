using System.Text.RegularExpressions;
using Akka.Actor;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.EndToEnd;

/// <summary>
/// The stack end to end inside the simulation, real ARP everywhere: traceroute and ping through two routers, a
/// routing loop ended by TTL, and the socket errors Linux reports for unresolvable neighbours and closed ports.
/// </summary>
public class RoutedPathTests() : EndToEndKit("e2e-routed")
{
    [Fact]
    public async Task Traceroute_ThroughTwoRouters_ThreeHopsEndingAtPortUnreachable()
    {
        var n = await BuildRouted();
        var output = Probe();
        var trace = Sys.ActorOf(TracerouteActor.Props(new TracerouteSettings("a", Ip("10.0.3.1")), n.A.Host, output.Ref));

        // No timer on this path (the clock never moves): every probe and answer goes through at once.
        var lines = await LinesOrDump(output, 4, n.A, n.R1, n.R2, n.B);

        Assert.Equal("traceroute to 10.0.3.1 (10.0.3.1), 30 hops max, 60 byte packets", lines[0]);
        const string T = @"  \d+\.\d{3} ms";
        Assert.Matches(new Regex($@"^ 1  10\.0\.1\.254 \(10\.0\.1\.254\)({T}){{3}}$"), lines[1]);
        Assert.Matches(new Regex($@"^ 2  10\.0\.2\.2 \(10\.0\.2\.2\)({T}){{3}}$"), lines[2]);
        Assert.Matches(new Regex($@"^ 3  10\.0\.3\.1 \(10\.0\.3\.1\)({T}){{3}}$"), lines[3]);
        var done = await output.ExpectMsgAsync<TracerouteStatus>(Wait);
        Assert.True(done.Done);
        Assert.True(done.Reached);
        Assert.Equal(3, done.Hops.Length);
        Assert.Equal(4, done.Lines.Length);

        // Each router answered its three probes with time exceeded; b answered three with port unreachable.
        var r1 = await Stats(n.R1);
        var r2 = await Stats(n.R2);
        var b = await Stats(n.B);
        Assert.Equal(3, Mib(r1, "Icmp", "OutTimeExcds"));
        Assert.Equal(3, Mib(r2, "Icmp", "OutTimeExcds"));
        Assert.Equal(3, Mib(b, "Icmp", "OutDestUnreachs"));
        Assert.Equal(3, Mib(b, "Udp", "NoPorts"));
        await Eventually(n.A, s =>
        {
            Assert.Equal(6, Mib(s, "Icmp", "InTimeExcds"));
            Assert.Equal(3, Mib(s, "Icmp", "InDestUnreachs"));
        });
        // r2's answers and b's crossed r1: 3 from r2, 3 from b, plus the 3 probes of hop 2 and hop 3 each.
        Assert.Equal(12, Mib(r1, "Ip", "ForwDatagrams"));
    }

    [Fact]
    public async Task Ping_TtlOneThroughRouter_PrintsTimeToLiveExceededFromRouter()
    {
        var n = await BuildRouted();
        var output = Probe();
        Sys.ActorOf(PingActor.Props(new PingSettings("a", Ip("10.0.3.1"), Count: 1, Ttl: 1), n.A.Host, output.Ref));

        Assert.Equal(
        [
            "PING 10.0.3.1 (10.0.3.1) 56(84) bytes of data.",
            "From 10.0.1.254 icmp_seq=1 Time to live exceeded",
            "",
            "--- 10.0.3.1 ping statistics ---",
            "1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms",
        ], await Lines(output, 5));
        var st = await output.ExpectMsgAsync<PingStatus>(Wait);
        Assert.Equal((1L, 0L, 1L), (st.Transmitted, st.Received, st.Errors));

        var r1 = await Stats(n.R1);
        Assert.Equal(1, Mib(r1, "Ip", "InHdrErrors"));
        Assert.Equal(0, Mib(r1, "Ip", "ForwDatagrams"));
        Assert.Equal(1, Mib(r1, "Icmp", "OutTimeExcds"));
        Assert.Equal(0, Mib(await Stats(n.R2), "Ip", "InReceives"));
    }

    [Fact]
    public async Task RoutingLoop_TwoRoutersDefaultToEachOther_EndsByTtlWithTimeExceeded()
    {
        var a = await Start(new HostSettings("a", 1, new SysctlSettings(), [Dev("eth0", 1, "10.0.1.1/24")])
        {
            Routes = [Route("0.0.0.0/0", "10.0.1.254")],
        }, 1);
        var r1 = await Start(new HostSettings("r1", 1, Router, [Dev("eth0", 11, "10.0.1.254/24"), Dev("eth1", 12, "10.0.2.1/24")])
        {
            Routes = [Route("0.0.0.0/0", "10.0.2.2")],
        }, 2);
        var r2 = await Start(new HostSettings("r2", 1, Router, [Dev("eth0", 21, "10.0.2.2/24")])
        {
            Routes = [Route("0.0.0.0/0", "10.0.2.1")],
        }, 3);
        Cable(a.Devices["eth0"], r1.Devices["eth0"]);
        Cable(r1.Devices["eth1"], r2.Devices["eth0"]);
        var s = await BoundSocket(a.Host, "0.0.0.0", 4000);
        Assert.Equal(Errno.OK, await Command(s, new SetSocketOption(SockOpt.IpRecvErr, 1)));
        var woken = s.Ask<object>(new Recv(1), Wait);

        Assert.Equal(Errno.OK, await SendTo(s, [1, 2, 3], "10.9.9.9", 9000));

        // __udp4_lib_err: time exceeded is EHOSTUNREACH, a soft error, reported because of IP_RECVERR.
        Assert.Equal(Errno.EHOSTUNREACH, Assert.IsType<CommandFailed>(await woken).Error);
        // TTL 64 from a: r1 sees 64, 62, ..., 2 and forwards all 32 (and r2's ICMP error back to a: 33);
        // r2 sees 63, 61, ..., 3 and forwards 31, then 1: dropped (IP_INHDR) with time exceeded from 10.0.2.2.
        var sr1 = await Stats(r1);
        var sr2 = await Stats(r2);
        var sa = await Stats(a);
        Assert.Equal(33, Mib(sr1, "Ip", "ForwDatagrams"));
        Assert.Equal(0, Mib(sr1, "Ip", "InHdrErrors"));
        Assert.Equal(0, Mib(sr1, "Icmp", "OutMsgs"));
        Assert.Equal(31, Mib(sr2, "Ip", "ForwDatagrams"));
        Assert.Equal(1, Mib(sr2, "Ip", "InHdrErrors"));
        Assert.Equal(1, sr2.DropsOf(DropReason.IP_INHDR));
        Assert.Equal(1, Mib(sr2, "Icmp", "OutMsgs"));
        Assert.Equal(1, Mib(sr2, "Icmp", "OutTimeExcds"));
        Assert.Equal(1, Mib(sa, "Icmp", "InMsgs"));
        Assert.Equal(1, Mib(sa, "Icmp", "InTimeExcds"));
        Assert.Equal(1, Mib(sa, "Udp", "OutDatagrams"));
    }

    [Fact]
    public async Task ArpResolutionFails_IpRecvErrSocketGetsEhostunreach_PlainSocketDoesNot()
    {
        var (a, _) = await TwoOnALink();
        var plain = await BoundSocket(a.Host, "0.0.0.0", 4001);
        var reader = await BoundSocket(a.Host, "0.0.0.0", 4002);
        var sender = await BoundSocket(a.Host, "0.0.0.0", 4003);
        Assert.Equal(Errno.OK, await Command(reader, new SetSocketOption(SockOpt.IpRecvErr, 1)));
        Assert.Equal(Errno.OK, await Command(sender, new SetSocketOption(SockOpt.IpRecvErr, 1)));
        var woken = reader.Ask<object>(new Recv(1), Wait);

        // Nobody has 10.0.1.77: the three datagrams wait on the INCOMPLETE entry while ARP asks three times.
        Assert.Equal(Errno.OK, await SendTo(plain, [1], "10.0.1.77", 9000));
        Assert.Equal(Errno.OK, await SendTo(reader, [2], "10.0.1.77", 9000));
        Assert.Equal(Errno.OK, await SendTo(sender, [3], "10.0.1.77", 9000));
        Assert.Equal("10.0.1.77 dev eth0 INCOMPLETE\n", await Neigh(a));
        await Advance(TimeSpan.FromSeconds(1), a);
        await Advance(TimeSpan.FromSeconds(1), a);
        Assert.Equal("10.0.1.77 dev eth0 INCOMPLETE\n", await Neigh(a));
        await Advance(TimeSpan.FromSeconds(1), a);
        Assert.Equal("10.0.1.77 dev eth0 FAILED\n", await Neigh(a));

        // arp_error_report: ICMP host unreachable for each queued datagram, to a itself.
        Assert.Equal(Errno.EHOSTUNREACH, Assert.IsType<CommandFailed>(await woken).Error);
        await Eventually(a, s =>
        {
            Assert.Equal(3, Mib(s, "Icmp", "InDestUnreachs"));
            Assert.Equal(3, s.DropsOf(DropReason.NEIGH_FAILED));
        });
        await AwaitAssertAsync(async () =>
            Assert.Equal(Errno.EHOSTUNREACH, (await AskRun<SocketInfo>(sender, GetSocketInfo.Instance)).PendingError), Wait);
        Assert.Equal(Errno.EHOSTUNREACH, await SendTo(sender, [4], "10.0.1.77", 9000));
        // Host unreachable is not a hard error for UDP: without IP_RECVERR nothing is reported.
        Assert.Equal(Errno.OK, (await AskRun<SocketInfo>(plain, GetSocketInfo.Instance)).PendingError);
        Assert.Equal(Errno.EAGAIN, (await RecvOne(plain, nonBlocking: true)).Error);
        Assert.Equal(Errno.OK, await SendTo(plain, [5], "10.0.1.77", 9000));
        Assert.Equal(3, Mib(await Stats(a), "Icmp", "OutDestUnreachs"));
    }

    [Fact]
    public async Task ArpResolutionFails_QueuedDatagramDropped_NotASendBufferError()
    {
        var (a, _) = await TwoOnALink();
        var plain = await BoundSocket(a.Host, "0.0.0.0", 4001);
        Assert.Equal(Errno.OK, await SendTo(plain, [1], "10.0.1.77", 9000));
        Assert.Equal("10.0.1.77 dev eth0 INCOMPLETE\n", await Neigh(a));
        for (int i = 0; i < 3; i++) await Advance(TimeSpan.FromSeconds(1), a);
        Assert.Equal("10.0.1.77 dev eth0 FAILED\n", await Neigh(a));
        await Eventually(a, s => Assert.Equal(1, Mib(s, "Icmp", "InDestUnreachs")));
        Assert.Equal(0, (await AskRun<SocketInfo>(plain, GetSocketInfo.Instance)).SendQueueBytes);

        // neigh_resolve_output queued the buffer and returned 0; its later kfree_skb(NEIGH_FAILED) reaches the
        // socket only as sock_wfree: udp_send_skb saw no -ENOBUFS, so UDP counted it sent and no SndbufErrors.
        var s = await Stats(a);
        Assert.Equal(1, s.DropsOf(DropReason.NEIGH_FAILED));
        Assert.Equal(1, Mib(s, "Udp", "OutDatagrams"));
        Assert.Equal(0, Mib(s, "Udp", "SndbufErrors"));
    }

    [Fact]
    public async Task ConnectedUdp_PortWithoutSocket_NextCallEconnrefused()
    {
        var (a, c) = await TwoOnALink();
        var s = await BoundSocket(a.Host, "0.0.0.0", 4000);
        Assert.Equal(Errno.OK, await Command(s, new Connect(Ip("10.0.1.2"), 9999)));
        var woken = s.Ask<object>(new Recv(1), Wait);

        Assert.Equal(Errno.OK, await SendTo(s, [1]));

        // A blocked reader wakes with the error; it is consumed, so the next send goes out.
        Assert.Equal(Errno.ECONNREFUSED, Assert.IsType<CommandFailed>(await woken).Error);
        Assert.Equal(Errno.OK, await SendTo(s, [2]));
        await Eventually(a, st => Assert.Equal(2, Mib(st, "Icmp", "InDestUnreachs")));
        await AwaitAssertAsync(async () =>
            Assert.Equal(Errno.ECONNREFUSED, (await AskRun<SocketInfo>(s, GetSocketInfo.Instance)).PendingError), Wait);
        Assert.Equal(Errno.ECONNREFUSED, await SendTo(s, [3]));   // reported instead of sending
        Assert.Equal(Errno.OK, await SendTo(s, [4]));
        await Eventually(c, st =>
        {
            Assert.Equal(3, Mib(st, "Udp", "NoPorts"));
            Assert.Equal(3, Mib(st, "Icmp", "OutDestUnreachs"));
        });
        await Eventually(a, st => Assert.Equal(3, Mib(st, "Udp", "OutDatagrams")));
    }

    /// <summary>a (10.0.1.1) and c (10.0.1.2) on one cable, real ARP.</summary>
    private async Task<(Node A, Node C)> TwoOnALink()
    {
        var a = await Start(new HostSettings("a", 1, new SysctlSettings(), [Dev("eth0", 1, "10.0.1.1/24")]), 1);
        var c = await Start(new HostSettings("c", 1, new SysctlSettings(), [Dev("eth0", 2, "10.0.1.2/24")]), 2);
        Cable(a.Devices["eth0"], c.Devices["eth0"]);
        return (a, c);
    }
}
