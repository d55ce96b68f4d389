using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Exploration.StackNet;

namespace ActorStack.Tests.Exploration;

/// <summary>
/// Socket close against in-flight delivery, under 200 random and 200 PCT schedules each. UDP: a sends 8 datagrams in
/// one sendmmsg; b's application reads k of them (k = 1..4 by iteration) and closes the socket while the rest are on
/// their way through b's stack (in the UDP actor's batch, in the socket's mailbox, or not yet looked up). Every
/// datagram must be read, freed at close (SOCKET_CLOSE) or refused with no socket (NO_SOCKET, NoPorts, an ICMP port
/// unreachable or its rate limit) — none lost silently, whatever the interleaving.
/// </summary>
public class SocketCloseExplorationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Datagrams = 8;

    /// <summary>b's application: k blocking reads of one datagram, then close.</summary>
    private sealed class ReadThenClose : ReceiveActor
    {
        public ReadThenClose(IActorRef socket, int k, int[] read)
        {
            Receive<string>(_ => socket.Tell(new Recv(1)));
            Receive<Received>(r =>
            {
                read[0] += r.Datagrams.Length;
                if (read[0] < k) socket.Tell(new Recv(1));
                else socket.Tell(Close.Instance);
            });
            Receive<SocketOk>(_ => read[1]++);
        }
    }

    /// <summary>
    /// The UDP case. Remote: a sends <see cref="Datagrams"/> in one sendmmsg over a 10 µs wire (they reach b in one
    /// NAPI poll). Local: <see cref="LocalSenders"/> sockets on b send one datagram each to 127.0.0.1:9000 at the
    /// instant the application starts reading: over lo, with no CPU cost, every step of those deliveries (the UDP
    /// actor's lookup, the SocketDeliver, the reads, the close and its unbind) is ready at one instant, so the schedule
    /// decides which comes first. Returns (read, freed at close, refused with no socket) for the log.
    /// </summary>
    internal static (int K, long Freed, long NoSocket) UdpCloseBody(ExplorationContext ctx, int variant)
    {
        var net = new StackNet(ctx);
        int k = 1 + variant % 4;
        var a = net.Host("a", 1, "10.0.0.1", permanent: ("10.0.0.2", 2));
        var b = net.Host("b", 2, "10.0.0.2", permanent: ("10.0.0.1", 1));
        var wire = net.Wire(a, b, TimeSpan.FromMicroseconds(10));
        var rx = net.Socket(b, SockType.Dgram);
        Assert.Equal(Errno.OK, net.Command(rx, new Bind(Ipv4Address.Any, 9000)));
        var tx = net.Socket(a, SockType.Dgram);
        var locals = Enumerable.Range(0, LocalSenders).Select(_ => net.Socket(b, SockType.Dgram)).ToArray();
        var read = new int[2];
        var app = ctx.System.ActorOf(Props.Create(() => new ReadThenClose(rx, k, read)), "app");
        var (inbox, answers) = net.Inbox("inbox");
        var burst = Enumerable.Range(0, Datagrams).Select(i => new SendTo(new byte[] { (byte)i, 1, 2, 3 }, Ip("10.0.0.2"), 9000));
        // The remote burst reaches b 10 µs (and its wire time) later; the local ones now, with the reads and the close.
        tx.Tell(new SendMany([.. burst]), inbox);
        app.Tell("go");
        for (int i = 0; i < LocalSenders; i++) locals[i].Tell(new SendTo(new byte[] { 9, (byte)i }, Ip("127.0.0.1"), 9000), inbox);
        ctx.Engine.RunFor(TimeSpan.FromMilliseconds(50));

        var sa = net.Stats(a);
        var sb = net.Stats(b);
        var w = net.WireStats(wire);
        Assert.Equal(1 + LocalSenders, answers.Count(m => m is SentMany or Sent));
        Assert.Equal(Datagrams, Mib(sa, "Udp", "OutDatagrams"));
        Assert.Equal(LocalSenders, Mib(sb, "Udp", "OutDatagrams"));
        Assert.Equal((Datagrams, (long)Datagrams, 0L, 0L), (w.AToBDetail!.Offered, w.AToBDetail.Delivered, w.AToBDetail.InFlight, w.AToBDetail.Dropped));
        // The application read exactly k and its close was answered.
        Assert.Equal((k, 1), (read[0], read[1]));
        Assert.Equal(k, Mib(sb, "Udp", "InDatagrams"));
        long freed = sb.DropsAt(DropReason.SOCKET_CLOSE, "udp/sock");
        long noSocket = sb.DropsAt(DropReason.NO_SOCKET, "udp");
        // Conservation: read + freed at close + refused with no socket = sent; nothing else dropped, nothing lost.
        Assert.True(k + freed + noSocket == Datagrams + LocalSenders,
            $"k {k} + SOCKET_CLOSE {freed} + NO_SOCKET {noSocket} != {Datagrams + LocalSenders}; drops: {Drops(sb)}");
        Assert.Equal(freed + noSocket, sb.TotalDrops);
        Assert.Equal(noSocket, Mib(sb, "Udp", "NoPorts"));
        // Each NoPorts datagram got an ICMP port unreachable or was rate limited (icmp_ratelimit / icmp_msgs_per_sec);
        // those for the local senders come back over lo (to b itself).
        long unreach = Mib(sb, "Icmp", "OutDestUnreachs"), limited = Mib(sb, "Icmp", "OutRateLimitHost") + Mib(sb, "Icmp", "OutRateLimitGlobal");
        Assert.Equal(noSocket, unreach + limited);
        Assert.Equal(unreach, Mib(sa, "Icmp", "InDestUnreachs") + Mib(sb, "Icmp", "InDestUnreachs"));
        Assert.DoesNotContain(sb.Sockets, s => s.LocalPort == 9000);
        Assert.Equal(0L, w.BToADetail!.InFlight);
        return (k, freed, noSocket);
    }

    private const int LocalSenders = 4;

    /// <summary>b's application on the accepted socket: one read of at most 100 bytes, then close (unread data stays queued).</summary>
    private sealed class ReadSomeThenClose : ReceiveActor
    {
        public ReadSomeThenClose(IActorRef socket, List<object> got)
        {
            Receive<string>(_ => socket.Tell(new StreamRecv(100)));
            Receive<StreamData>(d =>
            {
                got.Add(d);
                socket.Tell(Close.Instance);
            });
            ReceiveAny(got.Add);
        }
    }

    internal const int TcpBytes = 6 * 1448;

    /// <summary>
    /// TCP: a sends 6 full segments; b's application reads 100 bytes of the first and closes while the rest arrive:
    /// <c>tcp_close</c> with unread data sends a RST (TCPAbortOnClose, RFC 2525 2.17), the data still coming finds no
    /// socket and is answered with RSTs, a's send ends in ECONNRESET or EPIPE, both ends are gone.
    /// </summary>
    internal static void TcpCloseBody(ExplorationContext ctx)
    {
        var net = new StackNet(ctx);
        var a = net.Host("a", 1, "10.0.0.1", permanent: ("10.0.0.2", 2));
        var b = net.Host("b", 2, "10.0.0.2", permanent: ("10.0.0.1", 1));
        var wire = net.Wire(a, b, TimeSpan.FromMicroseconds(10));
        var (listener, client, server) = net.Connect(a, b, 80);
        Assert.Equal(Errno.OK, net.Command(listener, Close.Instance));
        var (sender, sent) = net.Inbox("sender");
        var got = new List<object>();
        var app = ctx.System.ActorOf(Props.Create(() => new ReadSomeThenClose(server, got)), "app");
        app.Tell("go");
        client.Tell(new SendTo(new byte[TcpBytes]), sender);
        ctx.Engine.RunFor(TimeSpan.FromMilliseconds(50));
        // A second send after the RST: the error is reported (EPIPE once the reset was consumed, or the reset itself).
        client.Tell(new SendTo(new byte[10]), sender);
        ctx.Engine.RunFor(TimeSpan.FromMilliseconds(50));

        var sa = net.Stats(a);
        var sb = net.Stats(b);
        var w = net.WireStats(wire);
        var data = Assert.IsType<StreamData>(got[0]);
        Assert.Equal(100, data.Data.Length);
        Assert.IsType<SocketOk>(got[1]);
        Assert.Equal(2, got.Count);
        Assert.Equal(1L, Mib(sb, "TcpExt", "TCPAbortOnClose"));
        Assert.Equal(2, sent.Count);
        var errors = sent.Select(m => m is Sent ? Errno.OK : ((CommandFailed)m).Error).ToArray();
        Assert.Contains(errors[1], new[] { Errno.ECONNRESET, Errno.EPIPE });
        Assert.Equal(1L, Mib(sa, "Tcp", "EstabResets"));
        Assert.Equal(0L, Mib(sa, "Tcp", "CurrEstab"));
        Assert.Equal(0L, Mib(sb, "Tcp", "CurrEstab"));
        long rsts = Mib(sb, "Tcp", "OutRsts");
        Assert.InRange(rsts, 1L, 6L);
        Assert.Equal(0L, w.AToBDetail!.InFlight + w.BToADetail!.InFlight);
        Assert.Equal(0L, w.AToBDetail.Dropped + w.BToADetail.Dropped);
        Assert.DoesNotContain(sb.Sockets, s => s.Type == SockType.Stream);
    }

    private ExploreOptions Options(int seed) => new() { Scenario = "udp-close-v1", Seed = seed, MaxTime = TimeSpan.FromSeconds(2), MaxSteps = 200_000 };

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void UdpClose_AgainstInFlightDelivery_EveryDatagramReadFreedOrRefused(string strategy)
        => ExplorationLog.Run(output, "udp close vs delivery", 200, strategy, ctx => UdpCloseBody(ctx, ctx.Iteration), Options(1) with { Scenario = "udp-close-v2" });

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void TcpClose_WithDataInFlight_AbortOnCloseAndResetsAgreeUnderEverySchedule(string strategy)
        => ExplorationLog.Run(output, "tcp close vs delivery", 200, strategy, TcpCloseBody, Options(1) with { Scenario = "tcp-close-v1" });
}
