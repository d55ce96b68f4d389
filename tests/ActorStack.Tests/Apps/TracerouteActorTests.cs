using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Apps;

/// <summary>The traceroute actor against probes standing in for the host, its UDP socket and its raw ICMP socket.</summary>
public class TracerouteActorTests() : AppsHarness("traceroute")
{
    private static readonly Ipv4Address Self = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Dst = Ipv4Address.Parse("10.0.2.2");
    private static readonly Ipv4Address R1 = Ipv4Address.Parse("10.0.1.1");
    private const ushort LocalPort = 40000;

    private async Task<(IActorRef Tr, TestProbe Udp, TestProbe Raw)> Start(TracerouteSettings s)
    {
        var host = Probe();
        var udp = Probe();
        var raw = Probe();
        var tr = Sys.ActorOf(TracerouteActor.Props(s, host.Ref, TestActor));
        Assert.Equal(SockType.Dgram, (await Expect<SocketCreate>(host)).Type);
        host.Reply(new SocketCreated(udp.Ref));
        var bind = await Expect<Bind>(udp);
        Assert.Equal((Ipv4Address.Any, (ushort)0), (bind.Address, bind.Port));
        udp.Reply(new SocketOk(bind));
        await Expect<GetSocketInfo>(udp);
        udp.Reply(new SocketInfo(SockType.Dgram, 0, Ipv4Address.Any, LocalPort, Ipv4Address.Any, 0, 0, 0, 0, 0, 0, 0));
        var create = await Expect<SocketCreate>(host);
        Assert.Equal((SockType.Raw, IpProtocol.Icmp), (create.Type, create.Protocol));
        host.Reply(new SocketCreated(raw.Ref));
        await Expect<Recv>(raw);
        raw.IgnoreMessages(m => m is Recv);
        return (tr, udp, raw);
    }

    /// <summary>Expects the TTL then the probe; answers the TTL; returns the probe's UDP packet as the peer sees it.</summary>
    private async Task<byte[]> UdpProbe(TestProbe udp, int ttl, ushort port)
    {
        var opt = await Expect<SetSocketOption>(udp);
        Assert.Equal((SockOpt.IpTtl, ttl), (opt.Option, opt.Value));
        udp.Reply(new SocketOk(opt));
        var send = await Expect<SendTo>(udp);
        Assert.Equal((Dst, port, 32), (send.Address!.Value, send.Port, send.Payload.Length));
        var dgram = new byte[8 + send.Payload.Length];
        dgram[0] = LocalPort >> 8; dgram[1] = LocalPort & 0xFF;
        dgram[2] = (byte)(port >> 8); dgram[3] = (byte)port;
        send.Payload.Span.CopyTo(dgram.AsSpan(8));
        return IpPacket(Self, Dst, IpProtocol.Udp, dgram, (byte)ttl);
    }

    [Fact]
    public async Task Traceroute_RouterThenTimeoutThenDestination_TracerouteLines()
    {
        var (tr, udp, raw) = await Start(new TracerouteSettings("a", Dst, Queries: 2));
        Assert.Equal("traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets", (await Expect<WorkloadOutput>()).Line);

        var p = await UdpProbe(udp, 1, 33434);
        Advance(Us(215));
        raw.Send(tr, Got(R1, IcmpError(R1, Self, 11, 0, p)));
        p = await UdpProbe(udp, 1, 33435);
        // A late answer to the first probe is not taken for the second.
        raw.Send(tr, Got(R1, IcmpError(R1, Self, 11, 0, IpPacket(Self, Dst, IpProtocol.Udp, [0x9C, 0x40, 0x82, 0x9A, 0, 40, 0, 0]))));
        Advance(Us(190));
        raw.Send(tr, Got(R1, IcmpError(R1, Self, 11, 0, p)));
        Assert.Equal(" 1  10.0.1.1 (10.0.1.1)  0.215 ms  0.190 ms", (await Expect<WorkloadOutput>()).Line);

        await UdpProbe(udp, 2, 33436);
        Advance(TimeSpan.FromSeconds(5)); // -w 5: the probe is a star
        p = await UdpProbe(udp, 2, 33437);
        Advance(Us(1500));
        raw.Send(tr, Got(Dst, IcmpError(Dst, Self, 3, 3, p)));
        Assert.Equal(" 2  * 10.0.2.2 (10.0.2.2)  1.500 ms", (await Expect<WorkloadOutput>()).Line);

        var st = await Expect<TracerouteStatus>();
        Assert.True(st.Done);
        Assert.True(st.Reached);
        Assert.Equal(2, st.Hops.Length);
        await Expect<Close>(udp);
        await Expect<Close>(raw);
    }

    [Fact]
    public async Task Traceroute_MaxHopsWithoutAnswers_StarsThenDone()
    {
        var (tr, udp, _) = await Start(new TracerouteSettings("a", Dst, MaxHops: 2, Queries: 1, Wait: TimeSpan.FromSeconds(1)));
        await Expect<WorkloadOutput>();
        await UdpProbe(udp, 1, 33434);
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(" 1  *", (await Expect<WorkloadOutput>()).Line);
        await UdpProbe(udp, 2, 33435);
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(" 2  *", (await Expect<WorkloadOutput>()).Line);
        var st = await Expect<TracerouteStatus>();
        Assert.True(st.Done);
        Assert.False(st.Reached);
    }

    [Fact]
    public async Task Traceroute_SendFails_PrintsErrorAndStops()
    {
        var (tr, udp, _) = await Start(new TracerouteSettings("a", Dst));
        await Expect<WorkloadOutput>();
        var opt = await Expect<SetSocketOption>(udp);
        udp.Reply(new SocketOk(opt));
        var send = await Expect<SendTo>(udp);
        udp.Reply(new CommandFailed(send, Errno.ENETUNREACH));
        Assert.Equal("traceroute: send: Network is unreachable", (await Expect<WorkloadOutput>()).Line);
        Assert.True((await Expect<TracerouteStatus>()).Done);
    }
}
