using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Sockets;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Faults;

/// <summary>The host's per-child supervision policy, and a failing socket's queued data accounted as SOCKET_CLOSE.</summary>
public class SupervisionPolicyTests() : NetOnEngineKit("supervision-policy")
{

    [Theory]
    [InlineData("dev-eth0", HostChildKind.Driver, "Restart")]
    [InlineData("dev-lo", HostChildKind.Driver, "Restart")]
    [InlineData("softnet-cpu1", HostChildKind.Softnet, "Restart")]
    [InlineData("ip", HostChildKind.ProtocolHandler, "Resume")]
    [InlineData("udp", HostChildKind.ProtocolHandler, "Resume")]
    [InlineData("tcp", HostChildKind.ProtocolHandler, "Resume")]
    [InlineData("icmp", HostChildKind.ProtocolHandler, "Resume")]
    [InlineData("neigh", HostChildKind.ProtocolHandler, "Resume")]
    [InlineData("linkwatch", HostChildKind.LinkWatch, "Resume")]
    [InlineData("sock-12", HostChildKind.Socket, "Stop")]
    [InlineData("something", HostChildKind.Other, "Restart")]
    public void Policy_EachChildKind_ItsDirective(string name, HostChildKind kind, string directive)
    {
        Assert.Equal(kind, HostChildPolicy.Classify(name));
        Assert.Equal(directive, HostChildPolicy.For(kind).ToString());
    }

    [Fact]
    public async Task SocketFault_QueuedAndMailboxDatagrams_CountedAsSocketCloseNotLost()
    {
        var dev = new DeviceSettings("eth0", HostMac, Addresses: [Ipv4Prefix.TryParse("10.0.0.2/24", out var p) ? p : default]);
        var host = Sys.ActorOf(HostActor.Props(new HostSettings("h", 1, new SysctlSettings(), [dev]), seed: 1), "h");
        var nic = (await Ask<HostDevices>(host, GetHostDevices.Instance)).Devices["eth0"];
        var sock = (await Ask<SocketCreated>(host, new SocketCreate(SockType.Dgram, 0))).Socket;
        Assert.IsType<SocketOk>(await Ask<object>(sock, new Bind(Ipv4Address.Parse("10.0.0.2"), 9000)));
        var other = (await Ask<SocketCreated>(host, new SocketCreate(SockType.Dgram, 0))).Socket;
        Assert.IsType<SocketOk>(await Ask<object>(other, new Bind(Ipv4Address.Parse("10.0.0.2"), 9001)));

        // Three datagrams through the stack onto the socket's receive queue, unread.
        var frames = Enumerable.Range(0, 3).Select(i => (ReadOnlyMemory<byte>)FrameBuilder.Udp(HostMac, PeerMac,
            Ipv4Address.Parse("10.0.0.1"), Ipv4Address.Parse("10.0.0.2"), 5000, 9000, [(byte)i])).ToImmutableArray();
        nic.Tell(new WireFrames(frames));
        await Until(async () => Assert.Equal(3, (await Ask<SocketInfo>(sock, GetSocketInfo.Instance)).RecvQueueDatagrams));

        // The fault, then two more deliveries that wait in the mailbox while the supervisor decides.
        Watch(sock);
        sock.Tell(CrashSocket.Instance);
        var d = new Datagram(Ipv4Address.Parse("10.0.0.1"), 5000, new byte[] { 9 }, 0);
        sock.Tell(new SocketDeliver([d, d], [768, 768]));
        Assert.Equal(sock, (await Expect<Terminated>()).ActorRef); // all at this instant: the fault, the decision, the stop

        var s = await Ask<HostStats>(host, GetStats.Instance);
        Assert.Equal(5, s.DropsOf(DropReason.SOCKET_CLOSE));
        Assert.Equal(5, s.TotalDrops);
        Assert.Equal([(ushort)9001], s.Sockets.Select(x => x.LocalPort));   // the other socket is untouched

        // The port is free again: a new socket binds it, and frames to it are delivered, not lost.
        var again = (await Ask<SocketCreated>(host, new SocketCreate(SockType.Dgram, 0))).Socket;
        await Until(async () =>
            Assert.IsType<SocketOk>(await Ask<object>(again, new Bind(Ipv4Address.Parse("10.0.0.2"), 9000))));
        nic.Tell(new WireFrames([frames[0]]));
        await Until(async () => Assert.Equal(1, (await Ask<SocketInfo>(again, GetSocketInfo.Instance)).RecvQueueDatagrams));
    }
}
