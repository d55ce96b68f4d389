using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// <c>tcp_add_backlog</c> overflowing for real: one softirq batch (<see cref="ProtocolDeliver"/>) carries more payload
/// for one connection than its backlog limit (<c>sk_rcvbuf * 2 + sk_sndbuf / 2 + 64 KiB</c>). The TCP actor charges
/// every segment of the batch before the socket actor runs, so the overflow does not depend on scheduling.
/// </summary>
public class TcpBacklogDropTests() : NetOnEngineKit("tcp-backlog")
{
    [Fact]
    public async Task Dispatch_BatchPastSmallRcvbufLimit_TcpBacklogDropAndSocketBacklogReason()
    {
        // A TestActorRef (the host's own turns on the calling thread, its children on the engine) to reach its TCP actor;
        // it is created with the engine released, as a probe is.
        Engine.ReleaseControl();
        Akka.TestKit.TestActorRef<HostActor> ha;
        try
        {
            ha = ActorOfAsTestActorRef<HostActor>(HostActor.Props(HostOf("a", null, Dev("eth0", 1, "10.0.0.1/24"))
                with { Neighbours = [Neigh("10.0.0.2", 2, "eth0")] }, seed: 1), "a");
        }
        finally { Engine.Pause(); }
        var a = new Started(ha, (await Ask<HostDevices>(ha, GetHostDevices.Instance)).Devices);
        NetNamespace ns = ha.UnderlyingActor.Namespace;
        var b = await Start(HostOf("b", null, Dev("eth0", 2, "10.0.0.2/24")) with { Neighbours = [Neigh("10.0.0.1", 1, "eth0")] });
        Cable(a.Devices["eth0"], b.Devices["eth0"]);

        var l = (await Ask<SocketCreated>(b.Host, new SocketCreate(SockType.Stream))).Socket;
        Assert.Equal(Errno.OK, await Command(l, new Bind(Ip("0.0.0.0"), 5001)));
        Assert.Equal(Errno.OK, await Command(l, new Listen(4)));
        var c = (await Ask<SocketCreated>(a.Host, new SocketCreate(SockType.Stream))).Socket;
        // SO_RCVBUF 2048 and SO_SNDBUF 2048 → 4096 each (doubled, at least tcp_rmem[0]): limit 8192 + 2048 + 65536.
        Assert.Equal(Errno.OK, await Command(c, new SetSocketOption(SockOpt.SoRcvbuf, 2048)));
        Assert.Equal(Errno.OK, await Command(c, new SetSocketOption(SockOpt.SoSndbuf, 2048)));
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5001)));
        var info = await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance);
        var before = await Stats(a.Host);

        // 60 segments of 1420 bytes (header and payload, what the backlog charges) in one batch; of the 75776 bytes the
        // limit allows 53 segments fit (75260), 7 are dropped.
        const int n = 60, len = 1400;
        var skbs = Enumerable.Range(0, n).Select(i =>
        {
            var seg = new TcpSegment
            {
                SourcePort = 5001, DestinationPort = info.LocalPort, Seq = new TcpSeq((uint)(1_000_000 + i * len)),
                Ack = new TcpSeq(1), Flags = TcpFlags.Ack, Window = 1000, Payload = new byte[len],
            };
            var ip = new byte[Ipv4Header.MinLength + seg.Length];
            seg.WriteTo(ip.AsSpan(Ipv4Header.MinLength), Ip("10.0.0.2"), Ip("10.0.0.1"));
            Ipv4Header.Write(ip, ip.Length, (ushort)i, Ipv4Header.FlagDf, 64, IpProtocol.Tcp, Ip("10.0.0.2"), Ip("10.0.0.1"));
            var frame = new byte[EthernetHeader.Length + ip.Length];
            ip.CopyTo(frame, EthernetHeader.Length);
            return new SkBuff(frame, 2, 0, 0, 0, SkBuff.TruesizeFor(frame.Length))
            {
                NetworkOffset = EthernetHeader.Length, NetworkLength = ip.Length, TransportOffset = EthernetHeader.Length + Ipv4Header.MinLength,
                PktType = PacketKind.Host, Protocol = EtherType.Ipv4,
            };
        }).ToImmutableArray();
        ha.UnderlyingActor.Refs.Tcp.Tell(new ProtocolDeliver(skbs, 0));

        await Eventually(a.Host, st =>
        {
            Assert.Equal(7, Mib(st, "TcpExt", "TCPBacklogDrop") - Mib(before, "TcpExt", "TCPBacklogDrop"));
            Assert.Equal(7, st.DropsOf(DropReason.SOCKET_BACKLOG) - before.DropsOf(DropReason.SOCKET_BACKLOG));
            Assert.Equal(n, Mib(st, "Tcp", "InSegs") - Mib(before, "Tcp", "InSegs")); // dropped ones counted in InSegs as tcp_v4_rcv does
        });
    }
}
