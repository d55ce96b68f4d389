using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Transmit;

/// <summary>
/// ip_forward through routers: a (10.0.1.1) — r1 — (10.0.2.0/24) — r2 — b (10.0.3.1), static routes,
/// permanent neighbours. b reads whole IP packets with a raw UDP socket to check TTL and checksums.
/// </summary>
public class ForwardingTests() : VirtualNetKit("forwarding")
{
    [Fact]
    public async Task TwoRouters_ForwardBothWays_TtlDecrementedTwice_ChecksumsValid()
    {
        var n = await BuildTwoRouters();
        var raw = await Socket(n.B.Host, SockType.Raw, IpProtocol.Udp);
        var rx = await BoundSocket(n.B.Host, "0.0.0.0", 9000);
        var tx = await BoundSocket(n.A.Host, "0.0.0.0", 4000);
        var payload = Bytes(300);
        Assert.Equal(Errno.OK, await SendErr(tx, payload, "10.0.3.1", 9000));
        Assert.Equal(payload, Assert.Single(await ReadAll(rx, 1)).Payload.ToArray());
        var ip = Assert.Single(await ReadAll(raw, 1)).Payload.ToArray();
        Ipv4Header.TryRead(ip, out var h);
        Assert.Equal(62, h.Ttl);
        Assert.True(h.ChecksumValid);
        Assert.Equal(Ip("10.0.1.1"), h.Source);
        Assert.True(UdpHeader.ChecksumValid(ip.AsSpan(20), h.Source, h.Destination));

        // And back: b answers a.
        var back = await Socket(n.B.Host);
        Assert.Equal(Errno.OK, await SendErr(back, [42], "10.0.1.1", 4000));
        Assert.Equal(new byte[] { 42 }, Assert.Single(await ReadAll(tx, 1)).Payload.ToArray());

        foreach (var r in new[] { n.R1, n.R2 })
            await Settled(r.Host, s => Assert.Equal(2, Mib(s, "Ip", "ForwDatagrams")));
        var a = await Stats(n.A.Host);
        Assert.Equal(0, Mib(a, "Ip", "ForwDatagrams"));
    }

    [Fact]
    public async Task TtlOne_IsNotForwarded_InHdrErrorsAtTheRouter()
    {
        var n = await BuildTwoRouters();
        var rx = await BoundSocket(n.B.Host, "0.0.0.0", 9000);
        var tx = await BoundSocket(n.A.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await Command(tx, new SetSocketOption(SockOpt.IpTtl, 1)));
        Assert.Equal(Errno.OK, await SendErr(tx, [1], "10.0.3.1", 9000));
        await Settled(n.R1.Host, s =>
        {
            Assert.Equal(1, Mib(s, "Ip", "InHdrErrors"));
            Assert.Equal(0, Mib(s, "Ip", "ForwDatagrams"));
            Assert.Contains(s.Drops, d => d.Site.Reason == DropReason.IP_INHDR && d.Packets == 1);
        });
        Assert.Equal(Errno.EAGAIN, await RecvNonBlocking(rx));
    }

    [Fact]
    public async Task NoRoute_AtRouter_CountsInNoRoutes()
    {
        var n = await BuildTwoRouters();
        var tx = await BoundSocket(n.A.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await SendErr(tx, [1], "10.0.9.9", 9000)); // a's default route; r1 has none for it
        await Settled(n.R1.Host, s =>
        {
            Assert.Equal(1, Mib(s, "IpExt", "InNoRoutes"));
            Assert.Contains(s.Drops, d => d.Site.Reason == DropReason.IP_INNOROUTES);
        });
    }

    [Fact]
    public async Task SmallerMtuOnTheWay_RouterFragments_RefusesDf_AndTheSenderLearnsThePathMtu()
    {
        var n = await BuildTwoRouters(midMtu: 576);
        var rx = await BoundSocket(n.B.Host, "0.0.0.0", 9000);
        // Without DF (IP_PMTUDISC_DONT) r1 cuts the datagram into fragments of its 576-byte link; b reassembles it.
        var tx = await BoundSocket(n.A.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await Command(tx, new SetSocketOption(SockOpt.IpMtuDiscover, 0)));
        var payload = Bytes(1000, 3);
        Assert.Equal(Errno.OK, await SendErr(tx, payload, "10.0.3.1", 9000));
        Assert.Equal(payload, Assert.Single(await ReadAll(rx, 1)).Payload.ToArray());
        var r1 = await Stats(n.R1.Host);
        Assert.Equal(1, Mib(r1, "Ip", "FragOKs"));
        Assert.Equal(2, Mib(r1, "Ip", "FragCreates"));

        // 1000 bytes fit a's 1500-byte link, so a connected socket with IP_PMTUDISC_WANT sets DF: r1 refuses it
        // (FragFails) and answers with ICMP fragmentation needed, mtu 576, which a learns as the path MTU.
        var df = await BoundSocket(n.A.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await Command(df, new Connect(Ip("10.0.3.1"), 9000)));
        Assert.Equal(1500, (await Ask<SocketOptionValue>(df, new GetSocketOption(SockOpt.IpMtu))).Value);
        Assert.Equal(Errno.OK, await SendErr(df, Bytes(1000)));
        await Settled(n.R1.Host, s =>
        {
            Assert.Equal(1, Mib(s, "Ip", "FragFails"));
            Assert.Contains(s.Drops, d => d.Site.Reason == DropReason.PKT_TOO_BIG && d.Packets == 1);
            Assert.Equal(1, Mib(s, "Icmp", "OutDestUnreachs"));
        });
        Assert.Equal(576, (await Ask<SocketOptionValue>(df, new GetSocketOption(SockOpt.IpMtu))).Value);
        // The connected socket was told (EMSGSIZE is a hard error for UDP under PMTU discovery) ...
        Assert.Equal(Errno.EMSGSIZE, await SendErr(df, [1]));
        // ... and from now on a fragments locally to the path MTU: the datagram arrives whole, r1 forwards pieces.
        var again = Bytes(1000, 4);
        Assert.Equal(Errno.OK, await SendErr(df, again));
        Assert.Equal(again, Assert.Single(await ReadAll(rx, 1)).Payload.ToArray());
        var a = await Stats(n.A.Host);
        Assert.Equal(1, Mib(a, "Ip", "FragOKs"));
        Assert.Equal(1, Mib(a, "Icmp", "InDestUnreachs"));
    }

    [Fact]
    public async Task ForwardHookRule_DropsMatchingTraffic_Only()
    {
        var rule = new NfRule(NfHook.Forward, NfVerdict.Drop, DestinationPort: 9001, Protocol: IpProtocol.Udp);
        var n = await BuildTwoRouters(r1Rules: [rule]);
        var rx = await BoundSocket(n.B.Host, "0.0.0.0", 9000);
        var cut = await BoundSocket(n.B.Host, "0.0.0.0", 9001);
        var tx = await BoundSocket(n.A.Host, "0.0.0.0", 0);
        Assert.Equal(Errno.OK, await SendErr(tx, [1], "10.0.3.1", 9001));
        Assert.Equal(Errno.OK, await SendErr(tx, [2], "10.0.3.1", 9000));
        Assert.Equal(new byte[] { 2 }, Assert.Single(await ReadAll(rx, 1)).Payload.ToArray());
        Assert.Equal(Errno.EAGAIN, await RecvNonBlocking(cut));
        var s = await Stats(n.R1.Host);
        Assert.Contains(s.Drops, d => d.Site.Reason == DropReason.NETFILTER_DROP && d.Packets == 1);
        Assert.Equal(1, Mib(s, "Ip", "ForwDatagrams"));
        var rules = await Ask<NfRules>(n.R1.Host, GetNfRules.Instance);
        Assert.Equal(1, Assert.Single(rules.Rules).Packets); // iptables -v: the rule's own counter
    }

    [Fact]
    public async Task RawHdrIncl_SendsTheApplicationsHeader_WithKernelFilledFields()
    {
        var n = await BuildTwoRouters();
        var rx = await BoundSocket(n.B.Host, "0.0.0.0", 9000);
        var raw = await Socket(n.A.Host, SockType.Raw, IpProtocol.Raw); // IPPROTO_RAW: IP_HDRINCL
        // A UDP datagram written whole by the application, with id 0, source 0.0.0.0 and no checksum.
        var frame = FrameBuilder.Udp(Mac(11), Mac(1), Ip("10.0.1.1"), Ip("10.0.3.1"), 1234, 9000, [5, 6, 7], padTo60: false);
        var ip = frame.AsSpan(14).ToArray();
        ip[4] = 0; ip[5] = 0;                   // id: the kernel picks one
        ip[10] = 0; ip[11] = 0;                 // checksum: the kernel computes it
        Ipv4Address.Any.Write(ip.AsSpan(12));   // source: the kernel fills it in
        Assert.IsType<Sent>(await Ask<object>(raw, new SendTo(ip, Ip("10.0.3.1"))));
        var got = Assert.Single(await ReadAll(rx, 1));
        Assert.Equal(new byte[] { 5, 6, 7 }, got.Payload.ToArray());
        Assert.Equal(Ip("10.0.1.1"), got.Source);
        Assert.Equal(1234, got.SourcePort);
        Assert.Equal(Errno.EINVAL, await SendErr(raw, new byte[10], "10.0.3.1"));
    }
}
