using System.Buffers.Binary;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Apps;

public class PingActorTests() : AppsHarness("ping")
{
    private static readonly Ipv4Address Self = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Dst = Ipv4Address.Parse("10.0.0.2");
    private static readonly Ipv4Address Router = Ipv4Address.Parse("10.0.1.1");

    /// <summary>Starts a ping against probes standing in for the host and its raw socket; returns them past the setup.</summary>
    private async Task<(IActorRef Ping, TestProbe Socket)> StartWithProbes(PingSettings s)
    {
        var host = Probe();
        var socket = Probe();
        var ping = Sys.ActorOf(PingActor.Props(s, host.Ref, TestActor, seed: 7));
        var create = await Expect<SocketCreate>(host);
        Assert.Equal((SockType.Raw, IpProtocol.Icmp), (create.Type, create.Protocol));
        host.Reply(new SocketCreated(socket.Ref));
        var ttl = await Expect<SetSocketOption>(socket);
        Assert.Equal((SockOpt.IpTtl, s.Ttl), (ttl.Option, ttl.Value));
        socket.Reply(new SocketOk(ttl));
        await Expect<Recv>(socket);
        socket.IgnoreMessages(m => m is Recv); // the next blocking read after each batch
        return (ping, socket);
    }

    private async Task<(ushort Id, ushort Seq, byte[] Icmp)> Request(TestProbe socket)
    {
        var send = await Expect<SendTo>(socket);
        Assert.Equal(Dst, send.Address);
        var icmp = send.Payload.ToArray();
        Assert.Equal(8, icmp[0]);
        return (BinaryPrimitives.ReadUInt16BigEndian(icmp.AsSpan(4)), BinaryPrimitives.ReadUInt16BigEndian(icmp.AsSpan(6)), icmp);
    }

    private static byte[] ReplyTo(byte[] request, byte ttl)
    {
        var icmp = (byte[])request.Clone();
        icmp[0] = 0;
        icmp[2] = 0; icmp[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Checksum.Compute(icmp));
        return IpPacket(Dst, Self, IpProtocol.Icmp, icmp, ttl);
    }

    [Fact]
    public async Task Ping_Quiet_HeaderAndSummaryOnly_SameStatistics()
    {
        // ping -q: the same exchange as Ping_TimeExceededThenReply_IputilsLinesAndSummary, no line per error or reply.
        var (ping, socket) = await StartWithProbes(new PingSettings("a", Dst, Count: 2) { Quiet = true });
        Assert.Equal("PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.", (await ExpectMsgAsync<WorkloadOutput>()).Line);
        var (_, _, icmp) = await Request(socket);
        socket.Send(ping, Got(Router, IcmpError(Router, Self, 11, 0, IpPacket(Self, Dst, IpProtocol.Icmp, icmp, ttl: 1))));
        Advance(TimeSpan.FromSeconds(1));
        var (_, seq2, icmp2) = await Request(socket);
        Assert.Equal(2, seq2);
        Advance(Us(1234));
        socket.Send(ping, Got(Dst, ReplyTo(icmp2, 63)));
        Assert.Equal(
        [
            "",
            "--- 10.0.0.2 ping statistics ---",
            "2 packets transmitted, 1 received, +1 errors, 50% packet loss, time 1000ms",
            "rtt min/avg/max/mdev = 1.234/1.234/1.234/0.000 ms",
        ], await Lines(4));
        var done = await ExpectMsgAsync<PingStatus>();
        Assert.True(done.Done);
        Assert.Equal((2L, 1L, 1L), (done.Transmitted, done.Received, done.Errors));
        Assert.Equal(1234, done.RttMaxUs);
        Assert.Equal(5, done.Lines.Length); // header and the four summary lines
        await socket.ExpectMsgAsync<Close>();
    }

    [Fact]
    public async Task Ping_TimeExceededThenReply_IputilsLinesAndSummary()
    {
        var (ping, socket) = await StartWithProbes(new PingSettings("a", Dst, Count: 2));
        Assert.Equal("PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.", (await Expect<WorkloadOutput>()).Line);

        var (id, seq, icmp) = await Request(socket);
        Assert.Equal(1, seq);
        // Not ours: a reply with another identifier, and an error quoting someone's UDP datagram.
        var foreign = (byte[])icmp.Clone();
        foreign[4] ^= 0xFF;
        socket.Send(ping, Got(Dst, ReplyTo(foreign, 64)));
        socket.Send(ping, Got(Router, IcmpError(Router, Self, 11, 0, IpPacket(Self, Dst, IpProtocol.Udp, new byte[8], ttl: 1))));
        // Ours: time exceeded quoting the echo request.
        socket.Send(ping, Got(Router, IcmpError(Router, Self, 11, 0, IpPacket(Self, Dst, IpProtocol.Icmp, icmp, ttl: 1))));
        Assert.Equal("From 10.0.1.1 icmp_seq=1 Time to live exceeded", (await Expect<WorkloadOutput>()).Line);

        Advance(TimeSpan.FromSeconds(1));
        var (id2, seq2, icmp2) = await Request(socket);
        Assert.Equal((id, (ushort)2), (id2, seq2));
        Advance(Us(1234));
        socket.Send(ping, Got(Dst, ReplyTo(icmp2, 63)));

        Assert.Equal(
        [
            "64 bytes from 10.0.0.2: icmp_seq=2 ttl=63 time=1.23 ms",
            "",
            "--- 10.0.0.2 ping statistics ---",
            "2 packets transmitted, 1 received, +1 errors, 50% packet loss, time 1000ms",
            "rtt min/avg/max/mdev = 1.234/1.234/1.234/0.000 ms",
        ], await Lines(5));
        var done = await Expect<PingStatus>();
        Assert.True(done.Done);
        Assert.Equal((2L, 1L, 1L), (done.Transmitted, done.Received, done.Errors));
        Assert.Equal(1234, done.RttMaxUs);
        Assert.Equal(7, done.Lines.Length); // header, two answers, four summary lines
        await Expect<Close>(socket);
    }

    /// <summary><c>ping -c 3 -i 0.2 -W 2 [-w deadline]</c>: the three requests sent, none answered; the clock at the third.</summary>
    private async Task<TestProbe> ThreeUnansweredProbes(TimeSpan deadline)
    {
        var (_, socket) = await StartWithProbes(new PingSettings("a", Dst, Count: 3, Interval: TimeSpan.FromMilliseconds(200),
            Timeout: TimeSpan.FromSeconds(2), Deadline: deadline));
        await Expect<WorkloadOutput>();
        await Request(socket);
        Advance(TimeSpan.FromMilliseconds(200));
        await Request(socket);
        Advance(TimeSpan.FromMilliseconds(200));
        await Request(socket);
        return socket;
    }

    [Fact]
    public async Task Ping_NoAnswers_LingersTimeoutAfterLastProbe_AllLost()
    {
        await ThreeUnansweredProbes(TimeSpan.Zero);
        Advance(TimeSpan.FromMilliseconds(1999));
        await ExpectNothingNow();
        Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(
        [
            "",
            "--- 10.0.0.2 ping statistics ---",
            "3 packets transmitted, 0 received, 100% packet loss, time 400ms",
        ], await Lines(3));
        Assert.Equal(0, (await Expect<PingStatus>()).Received);
    }

    /// <summary>Two probes 200 ms apart; the first answered after 1 ms, the second not yet. Returns the second request.</summary>
    private async Task<(TestProbe Socket, IActorRef Ping, byte[] Second)> FirstAnsweredSecondPending(TimeSpan deadline)
    {
        var (ping, socket) = await StartWithProbes(new PingSettings("a", Dst, Count: 2, Interval: TimeSpan.FromMilliseconds(200),
            Deadline: deadline));
        await Expect<WorkloadOutput>();
        var (_, _, first) = await Request(socket);
        Advance(TimeSpan.FromMilliseconds(1));
        socket.Send(ping, Got(Dst, ReplyTo(first, 64)));
        Assert.Equal("64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=1.00 ms", (await Expect<WorkloadOutput>()).Line);
        Advance(TimeSpan.FromMilliseconds(199));
        var (_, _, second) = await Request(socket);
        return (socket, ping, second);
    }

    [Fact]
    public async Task Ping_LastReplyLaterThanLinger_NoDeadline_CountedLost()
    {
        // Once a reply came, iputils waits for the last one max(2 * tmax, interval) = 200 ms, not -W.
        var (socket, ping, second) = await FirstAnsweredSecondPending(TimeSpan.Zero);
        Advance(TimeSpan.FromMilliseconds(199));
        await ExpectNothingNow();
        Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("2 packets transmitted, 1 received, 50% packet loss, time 200ms", (await Lines(4))[2]);
        Assert.Equal(1, (await Expect<PingStatus>()).Received);
        socket.Send(ping, Got(Dst, ReplyTo(second, 64))); // too late: ping has finished
        await ExpectNothingNow();
    }

    [Fact]
    public async Task Ping_LastReplyLate_WithDeadline_WaitsAndCountsIt()
    {
        // -c 2 -w 10: no linger; ping waits for both answers until the deadline.
        var (socket, ping, second) = await FirstAnsweredSecondPending(TimeSpan.FromSeconds(10));
        Advance(TimeSpan.FromSeconds(5));
        await ExpectNothingNow();
        socket.Send(ping, Got(Dst, ReplyTo(second, 64)));
        Assert.Equal("64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=5000 ms", (await Expect<WorkloadOutput>()).Line);
        Assert.Equal("2 packets transmitted, 2 received, 0% packet loss, time 200ms", (await Lines(4))[2]);
        var done = await Expect<PingStatus>();
        Assert.Equal((2L, 2L), (done.Transmitted, done.Received));
    }

    [Fact]
    public async Task Ping_NoAnswers_WithDeadline_EndsAtDeadlineNotLinger()
    {
        var socket = await ThreeUnansweredProbes(TimeSpan.FromSeconds(1));
        Advance(TimeSpan.FromMilliseconds(599));
        await ExpectNothingNow();
        Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("3 packets transmitted, 0 received, 100% packet loss, time 400ms", (await Lines(3))[2]);
        Assert.Equal(0, (await Expect<PingStatus>()).Received);
        await Expect<Close>(socket); // and no fourth probe before it: -c still bounds the sending
    }

    [Fact]
    public async Task Ping_SendFails_PrintsSendmsgErrorAndCountsTransmitted()
    {
        var (ping, socket) = await StartWithProbes(new PingSettings("a", Dst, Count: 1, Timeout: TimeSpan.FromSeconds(1)));
        await Expect<WorkloadOutput>();
        var send = await Expect<SendTo>(socket);
        socket.Reply(new CommandFailed(send, Errno.ENETUNREACH));
        Assert.Equal("ping: sendmsg: Network is unreachable", (await Expect<WorkloadOutput>()).Line);
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("1 packets transmitted, 0 received, 100% packet loss, time 0ms", (await Lines(3))[2]);
    }

    [Fact]
    public async Task Ping_TwoHosts_RepliesFromPeer_WholeStack()
    {
        // b's kernel does not answer (icmp_echo_ignore_all); a user-space responder on a raw socket does.
        var (a, b) = await TwoHosts(new SysctlSettings { IcmpEchoIgnoreAll = true });
        var raw = await Socket(b, SockType.Raw, IpProtocol.Icmp);
        Sys.ActorOf(Props.Create(() => new RawEchoResponder(raw)));

        var ping = Sys.ActorOf(PingActor.Props(new PingSettings("a", Dst, Count: 3), a, TestActor));
        Assert.Equal("PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.", (await ExpectSoon<WorkloadOutput>()).Line);
        Assert.Equal("64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.000 ms", (await ExpectSoon<WorkloadOutput>()).Line);
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=0.000 ms", (await ExpectSoon<WorkloadOutput>()).Line);
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(
        [
            "64 bytes from 10.0.0.2: icmp_seq=3 ttl=64 time=0.000 ms",
            "",
            "--- 10.0.0.2 ping statistics ---",
            "3 packets transmitted, 3 received, 0% packet loss, time 2000ms",
            "rtt min/avg/max/mdev = 0.000/0.000/0.000/0.000 ms",
        ], await Lines(5));
        var st = await Ask<PingStatus>(ping, GetWorkloadStatus.Instance);
        Assert.True(st.Done);
        Assert.Equal(3, st.Received);
    }
}
