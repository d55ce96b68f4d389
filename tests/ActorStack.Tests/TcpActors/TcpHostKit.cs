using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.LinkState;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// One host "h1" on the simulation engine (LinkStateKit): eth0 10.0.0.1/24 with no cable, loopback, and
/// optionally 10.0.0.9 as a permanent neighbour that never answers (a connect to it waits for its SYN-ACK for ever).
/// </summary>
public abstract class TcpHostKit(string name) : LinkStateKit(name)
{
    protected static readonly Ipv4Address Lo = Ipv4Address.Parse("127.0.0.1");
    protected static readonly Ipv4Address SilentPeer = Ipv4Address.Parse("10.0.0.9");

    protected async Task<IActorRef> StartHost(SysctlSettings? sysctl = null, bool silentPeer = false)
    {
        var dev = new DeviceSettings("eth0", Mac(10), Addresses: [Ipv4Prefix.TryParse("10.0.0.1/24", out var p) ? p : default]);
        var settings = new HostSettings("h1", 1, sysctl ?? new SysctlSettings(), [dev])
        {
            Neighbours = silentPeer ? [new NeighbourSettings(SilentPeer, Mac(99), "eth0")] : [],
        };
        var host = Sys.ActorOf(HostActor.Props(settings, seed: 7), "h1");
        await Ask<HostDevices>(host, GetHostDevices.Instance);
        return host;
    }

    protected async Task<IActorRef> StreamSocket(IActorRef host)
        => (await Ask<SocketCreated>(host, new SocketCreate(SockType.Stream))).Socket;

    /// <summary>A stream socket bound to 127.0.0.1:<paramref name="port"/> and listening with <paramref name="backlog"/>.</summary>
    protected async Task<IActorRef> LoopbackListener(IActorRef host, ushort port, int backlog)
    {
        var l = await StreamSocket(host);
        Assert.IsType<SocketOk>(await Ask<object>(l, new Bind(Lo, port)));
        Assert.IsType<SocketOk>(await Ask<object>(l, new Listen(backlog)));
        return l;
    }
}
