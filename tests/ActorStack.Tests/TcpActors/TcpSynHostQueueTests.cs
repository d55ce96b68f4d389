using Akka.Actor;
using ActorStack.Actors.Link;
using ActorStack.Actors.Tcp;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Tests.TcpStress;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// The SYN's retransmission while ARP still resolves the next hop (<c>skb_still_in_host_queue</c>): the cause of
/// examples/tcp.hocon's slow connects with TCP_INVALID_SYN drops on the client.
/// </summary>
public class TcpSynHostQueueTests() : TcpStressKit("tcp-syn-hostq")
{
    [Fact]
    public async Task Connect_ArpAnsweredAfterFirstRto_SynNotDuplicated_NoInvalidSyn()
    {
        // No static neighbours; 600 ms each way, so a's ARP reply comes 1.2 s after the request: after the SYN's first
        // RTO (1 s). b's SYN-ACK RTO is 3 s so that b itself never retransmits before a's ACK arrives (RTT 1.2 s).
        var a = await StartTcpHost(HostOf("a", null, Dev("eth0", 1, "10.0.0.1/24")), null);
        var b = await StartTcpHost(HostOf("b", null, Dev("eth0", 2, "10.0.0.2/24")), new TcpSettings { RtoInitial = TimeSpan.FromSeconds(3) });
        var w = Sys.ActorOf(WireActor.Props(a.Devices["eth0"], b.Devices["eth0"], new WireOptions("slow", 1, TimeSpan.FromMilliseconds(600))));
        a.Devices["eth0"].Tell(new AttachWire(w));
        b.Devices["eth0"].Tell(new AttachWire(w));
        var l = await Listener(b.Host, 5001, 4);
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5001)));
        // b accepts once a's ACK (sent at 2.4 s) arrived at 3.0 s; a second SYN-ACK would have reached a at 2.4 s.
        await l.Ask<Accepted>(new Accept(), Timeout);

        var sa = await Stats(a.Host);
        Assert.Equal(0, sa.DropsOf(DropReason.TCP_INVALID_SYN));
        Assert.Equal(0, Mib(sa, "TcpExt", "TCPSYNChallenge"));
        Assert.Equal(1, Mib(sa, "TcpExt", "TCPSpuriousRtxHostQueues"));
        var sb = await Stats(b.Host);
        // One connection at b and no second SYN reached it (a duplicate SYN for an existing connection is answered
        // with a challenge ACK, TCPSYNChallenge). InSegs is only bounded below: on a loaded machine one more segment was
        // once counted by the time the counters were read.
        Assert.Equal(1L, Mib(sb, "Tcp", "PassiveOpens"));
        Assert.Equal(0L, Mib(sb, "TcpExt", "TCPSYNChallenge"));
        Assert.True(Mib(sb, "Tcp", "InSegs") >= 2, $"InSegs {Mib(sb, "Tcp", "InSegs")}");
    }
}
