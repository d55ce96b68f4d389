using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Actors.Sockets;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Faults;

/// <summary>The host's per-child supervision policy, and a failing socket's queued data accounted as SOCKET_CLOSE.</summary>
public class SupervisionPolicyTests() : TestKit(StackConfig.AkkaConfig(), "supervision-policy")
{
    private static readonly TimeSpan Wait = Timeouts.Wall;
    private static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");

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
        var nic = (await host.Ask<HostDevices>(GetHostDevices.Instance, Wait)).Devices["eth0"];
        var sock = (await host.Ask<SocketCreated>(new SocketCreate(SockType.Dgram, 0), Wait)).Socket;
        Assert.IsType<SocketOk>(await sock.Ask<object>(new Bind(Ipv4Address.Parse("10.0.0.2"), 9000), Wait));
        var other = (await host.Ask<SocketCreated>(new SocketCreate(SockType.Dgram, 0), Wait)).Socket;
        Assert.IsType<SocketOk>(await other.Ask<object>(new Bind(Ipv4Address.Parse("10.0.0.2"), 9001), Wait));

        // Three datagrams through the stack onto the socket's receive queue, unread.
        var frames = Enumerable.Range(0, 3).Select(i => (ReadOnlyMemory<byte>)FrameBuilder.Udp(HostMac, PeerMac,
            Ipv4Address.Parse("10.0.0.1"), Ipv4Address.Parse("10.0.0.2"), 5000, 9000, [(byte)i])).ToImmutableArray();
        nic.Tell(new WireFrames(frames));
        await AwaitAssertAsync(async () => Assert.Equal(3, (await sock.Ask<SocketInfo>(GetSocketInfo.Instance, Wait)).RecvQueueDatagrams), Wait);

        // The fault, then two more deliveries that wait in the mailbox while the supervisor decides.
        Watch(sock);
        sock.Tell(CrashSocket.Instance);
        var d = new Datagram(Ipv4Address.Parse("10.0.0.1"), 5000, new byte[] { 9 }, 0);
        sock.Tell(new SocketDeliver([d, d], [768, 768]));
        ExpectTerminated(sock, Wait);

        var s = await host.Ask<HostStats>(GetStats.Instance, Wait);
        Assert.Equal(5, s.DropsOf(DropReason.SOCKET_CLOSE));
        Assert.Equal(5, s.TotalDrops);
        Assert.Equal([(ushort)9001], s.Sockets.Select(x => x.LocalPort));   // the other socket is untouched

        // The port is free again: a new socket binds it, and frames to it are delivered, not lost.
        var again = (await host.Ask<SocketCreated>(new SocketCreate(SockType.Dgram, 0), Wait)).Socket;
        await AwaitAssertAsync(async () =>
            Assert.IsType<SocketOk>(await again.Ask<object>(new Bind(Ipv4Address.Parse("10.0.0.2"), 9000), Wait)), Wait);
        nic.Tell(new WireFrames([frames[0]]));
        await AwaitAssertAsync(async () => Assert.Equal(1, (await again.Ask<SocketInfo>(GetSocketInfo.Instance, Wait)).RecvQueueDatagrams), Wait);
    }
}
