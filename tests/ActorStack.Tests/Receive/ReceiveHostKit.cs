using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Receive;

/// <summary>
/// A TestKit with the stack's mailboxes configured, and helpers that start one receiving host
/// (10.0.0.2/24 on eth0, MAC 02:00:00:00:00:02), inject frames from 10.0.0.1 and read sockets.
/// </summary>
public abstract class ReceiveHostKit(string systemName) : TestKit(StackConfig.AkkaConfig(), systemName)
{
    protected static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    protected static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    protected static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    protected static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");
    protected static readonly TimeSpan AskTimeout = Timeouts.Wall;

    protected static DeviceSettings Eth0(int rxRing = 256, int mtu = 1500, ImmutableArray<int> rpsCpus = default)
        => new("eth0", HostMac, Mtu: mtu, RxRing: rxRing, RpsCpus: rpsCpus, Addresses: [new Ipv4Prefix(HostIp, 24)]);

    /// <summary>Starts a host and returns it with its eth0 driver actor.</summary>
    protected async Task<(IActorRef Host, IActorRef Nic)> StartHost(string name, int cpus, DeviceSettings dev, SysctlSettings? sysctl = null)
    {
        var host = Sys.ActorOf(HostActor.Props(new HostSettings(name, cpus, sysctl ?? new SysctlSettings(), [dev]), seed: 1), name);
        var devices = await host.Ask<HostDevices>(GetHostDevices.Instance, AskTimeout);
        return (host, devices.Devices[dev.Name]);
    }

    protected static async Task<IActorRef> OpenUdp(IActorRef host, ushort port)
    {
        var created = await host.Ask<SocketCreated>(new SocketCreate(SockType.Dgram), AskTimeout);
        var answer = await created.Socket.Ask<object>(new Bind(Ipv4Address.Any, port), AskTimeout);
        Assert.IsType<SocketOk>(answer);
        return created.Socket;
    }

    /// <summary>Blocking reads until exactly <paramref name="count"/> datagrams were read.</summary>
    protected static async Task<List<Datagram>> ReadExactly(IActorRef socket, int count)
    {
        var all = new List<Datagram>(count);
        while (all.Count < count)
        {
            var r = await socket.Ask<Received>(new Recv(count - all.Count), AskTimeout);
            all.AddRange(r.Datagrams);
        }
        Assert.Equal(count, all.Count);
        return all;
    }

    protected static Task<HostStats> Stats(IActorRef host) => host.Ask<HostStats>(GetStats.Instance, AskTimeout);

    protected static byte[] UdpFrame(ushort dstPort, ReadOnlySpan<byte> payload, ushort srcPort = 5000, ushort id = 0)
        => FrameBuilder.Udp(HostMac, PeerMac, PeerIp, HostIp, srcPort, dstPort, payload, id);

    protected static WireFrames Wire(IEnumerable<byte[]> frames)
        => new(frames.Select(f => (ReadOnlyMemory<byte>)f).ToImmutableArray());

    protected static WireFrames Wire(params byte[][] frames) => Wire((IEnumerable<byte[]>)frames);
}
