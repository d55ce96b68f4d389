using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Testing;

namespace ActorStack.Tests.TestKitTests;

/// <summary>
/// The kit's driving, sockets, probes and assertions on two hosts a (10.0.0.1) and b (10.0.0.2) over a 1 ms wire,
/// each test in a <see cref="StackKit"/> of its own (its own actor system on the engine).
/// </summary>
public class StackKitTests
{
    private static ScenarioBuilder TwoHosts(Action<WireBuilder>? wire = null) => Scenario.Build()
        .Seed(1)
        .Host("a", h => h.Device("eth0", "10.0.0.1/24"))
        .Host("b", h => h.Device("eth0", "10.0.0.2/24"))
        .Wire("a/eth0", "b/eth0", w =>
        {
            w.Delay(TimeSpan.FromMilliseconds(1));
            wire?.Invoke(w);
        });

    private static byte[] Bytes(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    [Fact]
    public void RunFor_moves_the_clock_exactly_and_stops_quiescent()
    {
        using var kit = StackKit.Start(TwoHosts().Build());
        var start = kit.Now;
        kit.RunFor(TimeSpan.FromMilliseconds(1.5));
        Assert.Equal(start + TimeSpan.FromMilliseconds(1.5), kit.Now);
        Assert.True(kit.Engine.NextDueNs is null || kit.Engine.NextDueNs > kit.Engine.NowNs, "something still due at the instant RunFor stopped at");
    }

    [Fact]
    public void UDP_request_and_response_with_blocking_and_non_blocking_recv()
    {
        using var kit = StackKit.Start(TwoHosts().Build());
        var server = kit.Host("b").Udp();
        Assert.Equal(Errno.OK, server.Bind("0.0.0.0", 7));
        var client = kit.Host("a").Udp();
        Assert.Equal(Errno.OK, client.Bind("0.0.0.0", 40000));
        Assert.Equal(Errno.EAGAIN, server.Recv(nonBlocking: true).Error);

        var request = server.BeginRecv();
        Assert.Equal(Errno.OK, client.SendTo(Bytes("ping"), "10.0.0.2", 7));
        Assert.False(request.IsDone);                 // the wire takes 1 ms (after ARP)
        var r = request.Wait();
        Assert.Equal("ping", System.Text.Encoding.ASCII.GetString(r.Payload));
        Assert.Equal((Ipv4("10.0.0.1"), (ushort)40000), (r.Datagram!.Source, r.Datagram.SourcePort));
        Assert.Equal(Errno.OK, server.SendTo(Bytes("pong"), "10.0.0.1", 40000));
        var answer = client.Recv();
        Assert.Equal("pong", System.Text.Encoding.ASCII.GetString(answer.Payload));

        kit.Host("b").AssertMib("Udp", "InDatagrams", 1);
        kit.Host("b").AssertMib("Udp", "OutDatagrams", 1);
        kit.Host("a").AssertMib("Udp", "InDatagrams", 1);
        server.AssertSs("UNCONN 0 0 0.0.0.0:7 *:*");
        Assert.Equal(Errno.EAGAIN, client.Recv(nonBlocking: true).Error);
    }

    private static Messages.Packets.Ipv4Address Ipv4(string s) => Messages.Packets.Ipv4Address.Parse(s);

    [Fact]
    public void Errno_results_EADDRINUSE_and_ECONNREFUSED()
    {
        using var kit = StackKit.Start(TwoHosts().Build());
        var b = kit.Host("b");
        var first = b.Udp();
        Assert.Equal(Errno.OK, first.Bind("0.0.0.0", 9000));
        Assert.Equal(Errno.EADDRINUSE, b.Udp().Bind("10.0.0.2", 9000));
        var listener = b.Tcp();
        Assert.Equal(Errno.OK, listener.Bind("0.0.0.0", 5201));
        Assert.Equal(Errno.OK, listener.Listen(16));
        Assert.Equal(Errno.EADDRINUSE, b.Tcp().Bind("0.0.0.0", 5201));

        // No listener on 5202: b answers the SYN with a RST (tcp_v4_send_reset), the blocking connect fails.
        var c = kit.Host("a").Tcp();
        Assert.Equal(Errno.ECONNREFUSED, c.Connect("10.0.0.2", 5202));
        // A connected UDP socket gets the port unreachable as ECONNREFUSED on its next call (sk_err).
        var u = kit.Host("a").Udp();
        Assert.Equal(Errno.OK, u.Connect("10.0.0.2", 9999));
        Assert.Equal(Errno.OK, u.Send(Bytes("x")));
        kit.RunFor(TimeSpan.FromMilliseconds(5));
        Assert.Equal(Errno.ECONNREFUSED, u.Recv(nonBlocking: true).Error);
        kit.Host("b").AssertMib("Udp", "NoPorts", 1);
    }

    [Fact]
    public void TCP_connect_accept_send_recv_and_ss_lines()
    {
        using var kit = StackKit.Start(TwoHosts().Build());
        var listener = kit.Host("b").Tcp();
        Assert.Equal(Errno.OK, listener.Bind("0.0.0.0", 5201));
        Assert.Equal(Errno.OK, listener.Listen(16));
        Assert.Equal(Errno.EAGAIN, listener.Accept(nonBlocking: true).Error);
        listener.AssertSs("LISTEN 0 16 0.0.0.0:5201 0.0.0.0:*");

        var client = kit.Host("a").Tcp();
        Assert.Equal(Errno.EINPROGRESS, client.Connect("10.0.0.2", 5201, nonBlocking: true));
        var accepted = listener.BeginAccept();
        Assert.Equal(Errno.OK, client.Connect("10.0.0.2", 5201)); // waits for the handshake's end
        var conn = accepted.Wait().Socket!;
        Assert.Equal(Errno.EAGAIN, conn.Recv(nonBlocking: true).Error);
        Assert.Equal(Errno.OK, client.Send(Bytes("hello")));
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(conn.Recv().Data));
        int port = client.Info().LocalPort;
        conn.AssertSs($"ESTAB 0 0 10.0.0.2:5201 10.0.0.1:{port}");
        Assert.Equal(Errno.OK, client.Shutdown(Shutdown.Wr));
        Assert.True(conn.Recv().Eof);
    }

    [Fact]
    public void RunUntil_returns_the_exact_time_and_fails_one_tick_short_of_it()
    {
        TimeSpan Reply(TimeSpan? limit)
        {
            using var kit = StackKit.Start(TwoHosts().Build());
            var server = kit.Host("b").Udp();
            server.Bind("0.0.0.0", 7);
            var got = server.BeginRecv();
            kit.Host("a").Udp().SendTo(Bytes("x"), "10.0.0.2", 7);
            return kit.RunUntil(() => got.IsDone, limit, "the datagram");
        }
        var t = Reply(null);
        // ARP over the 1 ms wire, then the datagram: 2.9983 ms, plus rx-usecs (3 µs) at each of the three receptions.
        Assert.Equal(TimeSpan.FromTicks(30073), t);
        Assert.Equal(t, Reply(t));
        var e = Assert.Throws<StackAssertionException>(() => Reply(t - TimeSpan.FromTicks(1)));
        Assert.Equal($"the datagram: not met within {t - TimeSpan.FromTicks(1)} of simulated time", e.Message);
    }

    [Fact]
    public void RunUntil_reports_a_stall_when_nothing_can_happen()
    {
        using var kit = StackKit.Start(TwoHosts().Build());
        kit.RunFor(TimeSpan.FromSeconds(5));
        var e = Assert.Throws<StackAssertionException>(() => kit.RunUntil(() => false, TimeSpan.FromSeconds(1), "never"));
        Assert.StartsWith("never: ", e.Message);
    }

    [Fact]
    public void Frame_probe_sees_each_frame_with_device_direction_and_simulated_timestamp()
    {
        using var kit = StackKit.Start(TwoHosts().Build());
        var onA = kit.Host("a").Frames("eth0");
        var onB = kit.Host("b").Frames();
        var server = kit.Host("b").Udp();
        server.Bind("0.0.0.0", 7);
        var got = server.BeginRecv();
        kit.Host("a").Udp().SendTo(Bytes("abc"), "10.0.0.2", 7);
        got.Wait();
        // ARP first (no neighbour yet), then the datagram: a's tap sees its own sends as Out, b's its receptions as In,
        // each reception rx-usecs (3 µs) after the frame reached the NIC (the interrupt's poll hands it to the tap).
        Assert.Equal([
            "+0.000000000s a eth0 Out ARP Request 10.0.0.1 > 10.0.0.2",
            "+0.002006100s a eth0 In ARP Response 10.0.0.2 > 10.0.0.1",
            "+0.002006100s a eth0 Out 10.0.0.1.43999 > 10.0.0.2.7: UDP, length 3",
        ], onA.Frames.Select(f => f.ToString()));
        Assert.Equal([
            "+0.001003000s b eth0 In ARP Request 10.0.0.1 > 10.0.0.2",
            "+0.001003000s b eth0 Out ARP Response 10.0.0.2 > 10.0.0.1",
            "+0.003009200s b eth0 In 10.0.0.1.43999 > 10.0.0.2.7: UDP, length 3",
        ], onB.Frames.Select(f => f.ToString()));
        var (rx, udp) = onB.Udp().Single();
        Assert.Equal((FrameDirection.In, "eth0", "b", (ushort)7), (rx.Direction, rx.Device, rx.Host, udp.DestinationPort));
        // The simulated epoch, not the wall clock; the skb's timestamp is its DMA into the ring, rx-usecs (3 µs) before the poll.
        Assert.Equal(kit.Engine.Epoch + rx.At - TimeSpan.FromMicroseconds(3), rx.Timestamp);
    }

    [Fact]
    public void Link_probe_sees_a_cable_cut_on_both_hosts_and_the_fault_probe_the_schedule()
    {
        using var kit = StackKit.Start(TwoHosts().Schedule(TimeSpan.FromSeconds(1), "cut", ("wire", "a/eth0")).Build());
        var links = kit.LinkEvents();
        var faults = kit.Faults();
        kit.RunFor(TimeSpan.FromSeconds(2));
        Assert.Equal(["[fault +1s] cut wire a/eth0-b/eth0", "[fault +1s]   a/eth0-b/eth0: cable cut: carrier off at both ends"], faults.Lines);
        Assert.Equal([
            @"a: 2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000\    link/ether 02:00:00:00:01:01 brd ff:ff:ff:ff:ff:ff",
            @"b: 2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000\    link/ether 02:00:00:00:02:01 brd ff:ff:ff:ff:ff:ff",
        ], links.Lines);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)], links.Events.Select(e => e.At));
        kit.Host("a").AssertLink("eth0", "carrier_down_count", 1);
    }

    [Fact]
    public void Drop_probe_reports_drops_as_they_happen_and_books_balance_under_loss()
    {
        // Static neighbours: no ARP, so every frame a puts on the lossy wire is a datagram of the flow.
        using var kit = StackKit.Start(Scenario.Build().Seed(1)
            .Host("a", h => h.Device("eth0", "10.0.0.1/24").Neighbour("10.0.0.2 lladdr 02:00:00:00:02:01 dev eth0"))
            .Host("b", h => h.Device("eth0", "10.0.0.2/24").Neighbour("10.0.0.1 lladdr 02:00:00:00:01:01 dev eth0"))
            .Wire("a/eth0", "b/eth0", w => w.Delay(TimeSpan.FromMilliseconds(1)).NetemAToB("loss 30%"))
            .Build());
        var drops = kit.Drops();
        var server = kit.Host("b").Udp();
        server.Bind("0.0.0.0", 7);
        var client = kit.Host("a").Udp();
        client.SendTo(Bytes("no one"), "10.0.0.2", 8);
        for (int i = 0; i < 20; i++) client.SendTo(Bytes($"m{i}"), "10.0.0.2", 7);
        kit.RunFor(TimeSpan.FromMilliseconds(10));
        // The datagram to port 8 reaches b after the wire's 1 ms and rx-usecs (3 µs): udp_rcv finds no socket (NO_SOCKET).
        Assert.Equal(["+0.001003000s b: 1 x NO_SOCKET at udp"], drops.Events.Select(d => d.ToString()));
        kit.Host("b").AssertDrops(DropReason.NO_SOCKET, 1, "udp");
        kit.Host("b").AssertMib("Udp", "NoPorts", 1);
        var books = kit.AssertConserved("a", "b");
        Assert.Equal("sent 21 dup 0 read 0 queued 12 in flight 0 drops a/eth0-b/eth0/a-to-b SIM_NETEM_LOSS=8, b/udp NO_SOCKET=1", books.ToString());
        kit.Wire(0).AssertConserved();
    }

    [Fact]
    public void A_message_loop_at_one_instant_is_a_liveness_failure_not_a_hang()
    {
        using var kit = StackKit.Start(TwoHosts().Build(), new StackKitOptions { MaxEventsPerInstant = 10_000 });
        kit.RunFor(TimeSpan.FromMilliseconds(1));   // the stack alone stays under the bound
        var loop = kit.System.ActorOf(Akka.Actor.Props.Create(() => new SelfLoop()));
        loop.Tell("go", Akka.Actor.ActorRefs.NoSender);
        var e = Assert.Throws<StackAssertionException>(() => kit.RunFor(TimeSpan.FromMilliseconds(1)));
        Assert.Equal($"liveness: more than 10000 events at simulated +{kit.Now} without the clock moving " +
                     "(a message loop, or a timer re-arming itself at zero delay)", e.Message);
        kit.System.Stop(loop);                      // so that shutdown (inline) does not run the loop for ever
    }

    private sealed class SelfLoop : Akka.Actor.ReceiveActor
    {
        public SelfLoop() => ReceiveAny(m => Self.Tell(m, Self));
    }

    [Fact]
    public void A_failing_MIB_assertion_names_the_counter_and_both_values()
    {
        using var kit = StackKit.Start(TwoHosts().Build());
        var e = Assert.Throws<StackAssertionException>(() => kit.Host("b").AssertMib("Udp", "InDatagrams", 3));
        Assert.Equal("b: Udp InDatagrams = 0, expected 3", e.Message);
        e = Assert.Throws<StackAssertionException>(() => kit.Host("b").AssertSoftnet(0, "dropped", 1));
        Assert.Equal("b: softnet_stat cpu0 dropped = 0, expected 1", e.Message);
        var a = Assert.Throws<ArgumentException>(() => kit.Host("b").Mib("Udp", "InDatagram"));
        Assert.StartsWith("b: Udp has no counter InDatagram (known: InDatagrams, NoPorts, InErrors, OutDatagrams", a.Message);
    }

    [Fact]
    public void Conservation_assertions_fail_with_every_term_when_the_books_do_not_balance()
    {
        var dir = new WireDirectionStats(Offered: 10, Delivered: 7, InFlight: 1, Duplicated: 0, Corrupted: 0, Reordered: 0, EcnMarked: 0,
            Drops: ImmutableSortedDictionary<DropReason, long>.Empty.Add(DropReason.SIM_NETEM_LOSS, 1));
        var ok = dir with { Delivered = 8 };
        var stats = new WireStats(10, 10, 1, 1) { AToBDetail = dir, BToADetail = ok };
        Assert.Null(Conservation.CheckWire("a/eth0-b/eth0", stats with { AToBDetail = ok }));
        Assert.Equal("wire a/eth0-b/eth0 a-to-b not conserved: offered 10 + duplicated 0 = 10, but delivered 7 + dropped 1 (SIM_NETEM_LOSS=1) + in flight 1 = 9",
            Conservation.CheckWire("a/eth0-b/eth0", stats));

        using var kit = StackKit.Start(TwoHosts(w => w.NetemAToB("loss 50%")).Build());
        kit.Host("b").Udp().Bind("0.0.0.0", 7);
        var client = kit.Host("a").Udp();
        for (int i = 0; i < 4; i++) client.SendTo(Bytes("x"), "10.0.0.2", 7);
        kit.RunFor(TimeSpan.FromMilliseconds(10));
        // Books the wrong way round: b sent nothing, yet the a-to-b wire dropped a's datagrams.
        var e = Assert.Throws<StackAssertionException>(() => kit.AssertConserved("b", "a"));
        Assert.Equal("b -> a not conserved: sent 0 + duplicated 0 = 0, but read 0 + queued 0 + dropped 1 + in flight 0 = 1 " +
                     "(drops: a/eth0-b/eth0/a-to-b SIM_NETEM_LOSS=1)", e.Message);
    }
}
