using Akka.Actor;
using ActorStack.Actors.Tcp;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.TcpStress;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// The SYN's retransmission while ARP still resolves the next hop (<c>skb_still_in_host_queue</c>): the cause of
/// examples/tcp.hocon's slow connects with TCP_INVALID_SYN drops on the client. Runs on virtual time
/// (<see cref="VirtualTimeTcpKit"/>), so the wire delays and RTOs are exact and the margins between them cannot shrink
/// on a loaded machine.
/// </summary>
public class TcpSynHostQueueTests() : VirtualTimeTcpKit("tcp-syn-hostq")
{
    /// <summary>When the two applications saw each step, on the scheduler's (virtual) clock; written by the actors.</summary>
    private sealed class Handshake
    {
        public DateTimeOffset ConnectAt, ConnectedAt, AcceptedAt;
        public string? Failure;
        private volatile bool _accepted;
        public bool Accepted => _accepted;
        public void Accept() => _accepted = true;
    }

    private sealed class Go
    {
        public static readonly Go Instance = new();
    }

    /// <summary>b's application: socket, bind, listen(4), then tells the client to go and accepts.</summary>
    private sealed class Server : ReceiveActor
    {
        public Server(IActorRef host, IActorRef client, Handshake run)
        {
            IActorRef l = ActorRefs.Nobody;
            Receive<SocketCreated>(m => (l = m.Socket).Tell(new Bind(Ipv4Address.Any, 5001)));
            Receive<SocketOk>(m =>
            {
                if (m.Command is Bind) l.Tell(new Listen(4));
                else if (m.Command is Listen)
                {
                    l.Tell(new Accept());
                    client.Tell(Go.Instance);
                }
            });
            Receive<Accepted>(_ =>
            {
                run.AcceptedAt = Context.System.Scheduler.Now;
                run.Accept();
            });
            Receive<CommandFailed>(m => run.Failure ??= $"server: {m.Command} failed with {m.Error}");
            host.Tell(new SocketCreate(SockType.Stream));
        }
    }

    /// <summary>a's application: on the server's go, socket and connect to 10.0.0.2:5001.</summary>
    private sealed class Client : ReceiveActor
    {
        public Client(IActorRef host, Handshake run)
        {
            Receive<Go>(_ => host.Tell(new SocketCreate(SockType.Stream)));
            Receive<SocketCreated>(m =>
            {
                run.ConnectAt = Context.System.Scheduler.Now;
                m.Socket.Tell(new StreamConnect(Ipv4Address.Parse("10.0.0.2"), 5001));
            });
            Receive<SocketOk>(m => { if (m.Command is StreamConnect) run.ConnectedAt = Context.System.Scheduler.Now; });
            Receive<CommandFailed>(m => run.Failure ??= $"client: {m.Command} failed with {m.Error}");
        }
    }

    [Fact]
    public async Task Connect_ArpAnsweredAfterFirstRto_SynNotDuplicated_NoInvalidSyn()
    {
        // No static neighbours; 600 ms each way, so a's ARP reply comes 1.2 s after the request: after the SYN's first
        // RTO (1 s). b's SYN-ACK RTO is 3 s so that b itself never retransmits before a's ACK arrives (RTT 1.2 s).
        var p = await TwoHosts(new WireOptions("slow", 1, TimeSpan.FromMilliseconds(600)), new SysctlSettings(),
            staticNeighbours: false, tcpB: new TcpSettings { RtoInitial = TimeSpan.FromSeconds(3) });
        var run = new Handshake();
        var hostA = p.A;
        var hostB = p.B;
        var client = Sys.ActorOf(Props.Create(() => new Client(hostA, run)), "client");
        Sys.ActorOf(Props.Create(() => new Server(hostB, client, run)), "server");
        await Drive(() => run.Accepted || run.Failure is not null, TimeSpan.FromSeconds(30));
        Assert.Null(run.Failure);

        // t=0 SYN queued on a's unresolved neighbour, ARP request out; 0.6 s the request reaches b (which learns a's
        // MAC from it); 1.0 s a's SYN RTO finds the SYN still in the host queue (TCPSpuriousRtxHostQueues, no second
        // SYN); 1.2 s the reply reaches a and the one queued SYN leaves; 1.8 s SYN at b; 2.4 s SYN-ACK at a (connect
        // returns) and the ACK leaves; 3.0 s ACK at b, which accepts. A duplicate SYN would have made b send a second
        // SYN-ACK reaching a at 2.4 s + 1.2 s and a challenge ACK.
        Assert.Equal(TimeSpan.FromSeconds(2.4) + TimeSpan.FromTicks(2), run.ConnectedAt - run.ConnectAt); // + wire time and CPU cost (under 200 ns)
        Assert.Equal(TimeSpan.FromSeconds(3.0) + TimeSpan.FromTicks(3), run.AcceptedAt - run.ConnectAt);

        var sa = await Stats(p.A);
        Assert.Equal(0, sa.DropsOf(DropReason.TCP_INVALID_SYN));
        Assert.Equal(0, Ext(sa, "TCPSYNChallenge"));
        Assert.Equal(1, Ext(sa, "TCPSpuriousRtxHostQueues"));
        var sb = await Stats(p.B);
        // One connection at b, and exactly two segments reached it: the one SYN and the handshake's ACK (a duplicate
        // SYN for an existing connection would count a third and be answered with a challenge ACK, TCPSYNChallenge).
        Assert.Equal(1L, Snmp(sb, "PassiveOpens"));
        Assert.Equal(0L, Ext(sb, "TCPSYNChallenge"));
        Assert.Equal(0, sb.DropsOf(DropReason.TCP_INVALID_SYN));
        Assert.Equal(2L, Snmp(sb, "InSegs"));
        Assert.Equal(1L, Snmp(sa, "ActiveOpens"));
    }
}
