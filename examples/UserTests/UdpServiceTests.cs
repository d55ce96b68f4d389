using ActorStack.Messages;
using ActorStack.Testing;
using Xunit;

namespace UserTests;

/// <summary>
/// A user's tests against the simulated stack, with nothing but the ActorStack.TestKit package: two hosts on a cable,
/// a UDP request/response service under netem loss, and a cable cut. Everything runs in simulated time (seeded: the
/// same numbers every run), so the assertions are exact.
/// </summary>
public class UdpServiceTests
{
    // client 10.0.0.1 —— 1 ms, 20 % loss from client to server —— server 10.0.0.2
    // Static neighbours: no ARP on the lossy cable, so every frame lost is a request.
    private static Scenario TwoHosts() => Scenario.FromHocon("""
        actorstack {
          seed = 42
          scenario {
            hosts {
              client {
                devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"] } }
                neighbours = ["10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0"]
              }
              server {
                devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"] } }
                neighbours = ["10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0"]
              }
            }
            wires = [ { a = "client/eth0", b = "server/eth0", delay = 1ms, netem-a-to-b = "loss 20%" } ]
          }
        }
        """);

    /// <summary>The service under test: answers each request with the request's bytes reversed.</summary>
    private static void Serve(UdpSocket socket)
    {
        while (socket.Recv(nonBlocking: true) is { Error: Errno.OK } request)
        {
            var answer = request.Payload.Reverse().ToArray();
            Assert.Equal(Errno.OK, socket.SendTo(answer, request.Datagram!.Source.ToString(), request.Datagram.SourcePort));
        }
    }

    [Fact]
    public void Requests_lost_on_the_wire_are_counted_and_every_other_one_is_answered()
    {
        using var net = StackKit.Start(TwoHosts());
        var server = net.Host("server").Udp();
        Assert.Equal(Errno.OK, server.Bind("0.0.0.0", 7));
        var client = net.Host("client").Udp();
        Assert.Equal(Errno.OK, client.Bind("0.0.0.0", 40000));
        var frames = net.Host("server").Frames("eth0");

        int answered = 0;
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(Errno.OK, client.SendTo(System.Text.Encoding.ASCII.GetBytes($"req{i:D2}"), "10.0.0.2", 7));
            net.RunFor(TimeSpan.FromMilliseconds(2));           // the wire's 1 ms and rx-usecs: the request is there (or lost)
            Serve(server);
            net.RunFor(TimeSpan.FromMilliseconds(2));           // and the answer back
            var reply = client.Recv(nonBlocking: true);
            if (reply.Error == Errno.EAGAIN) continue;          // lost on the way: nothing to read
            Assert.Equal(Errno.OK, reply.Error);
            Assert.Equal(new string($"req{i:D2}".Reverse().ToArray()), System.Text.Encoding.ASCII.GetString(reply.Payload));
            answered++;
        }

        // The counters say the same as the application: what netem dropped never reached the server.
        Assert.Equal(16, answered);
        net.Host("server").AssertMib("Udp", "InDatagrams", 16);
        net.Host("server").AssertMib("Udp", "OutDatagrams", 16);
        net.Host("client").AssertMib("Udp", "OutDatagrams", 20);
        net.Host("client").AssertMib("Udp", "InDatagrams", 16);
        Assert.Equal(4, net.Wire("client/eth0").Stats().AToBDetail!.DroppedBy(DropReason.SIM_NETEM_LOSS));
        net.AssertConserved("client", "server");                // sent = read + queued + dropped by reason + in flight
        // The server socket as ss shows it, and the frames its NIC saw: 16 requests in, 16 answers out.
        server.AssertSs("UNCONN 0 0 0.0.0.0:7 *:*");
        Assert.Equal(16, server.Info().DatagramsRead);
        Assert.Equal(16, frames.Udp().Count(f => f.Frame.Direction == FrameDirection.In && f.Udp.DestinationPort == 7));
        Assert.Equal(16, frames.Udp().Count(f => f.Frame.Direction == FrameDirection.Out && f.Udp.SourcePort == 7));
    }

    [Fact]
    public void A_cable_cut_is_a_link_event_on_both_hosts_and_its_frames_are_dropped()
    {
        using var net = StackKit.Start(TwoHosts());
        var links = net.LinkEvents();
        var server = net.Host("server").Udp();
        Assert.Equal(Errno.OK, server.Bind("0.0.0.0", 7));

        net.RunFor(TimeSpan.FromSeconds(1));
        Assert.True(net.Wire("client/eth0").Cut().Changed);
        // Link watch runs its non-urgent work at most once a second (linkwatch_schedule_work); its last run was at boot,
        // over a second ago, so the carrier change is reported at the instant of the cut: RunUntil returns at once.
        var took = net.RunUntil(() => links.Lines.Count == 2, TimeSpan.FromSeconds(2), "ip monitor link after the cut");
        Assert.Equal(TimeSpan.Zero, took);
        Assert.Equal([
            "client: 2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff",
            "server: 2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff",
        ], links.Lines);
        net.Host("client").AssertLink("eth0", "carrier_down_count", 1);

        // UDP reports no error while only the carrier is down (noop qdisc: NET_XMIT_CN), as Linux does; the datagram is dropped.
        Assert.Equal(Errno.OK, net.Host("client").Udp().SendTo(new byte[] { 1, 2, 3 }, "10.0.0.2", 7));
        net.RunFor(TimeSpan.FromMilliseconds(10));
        net.Host("server").AssertMib("Udp", "InDatagrams", 0);
        Assert.Equal(Errno.EAGAIN, server.Recv(nonBlocking: true).Error);
    }
}
