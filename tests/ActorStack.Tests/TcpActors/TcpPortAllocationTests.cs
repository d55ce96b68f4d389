using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Tests.Support;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// The TCP actor owns the hash tables and the ephemeral ports (<c>inet_hash_connect</c>): a seed fixes the ports,
/// whatever the threads do. Sockets connecting at the same time ask the TCP actor one message each, and its seeded
/// generator hands out the same ports in every run.
/// Real time on purpose: the test is about the real dispatcher's thread pool, where the socket actors run in any order
/// (on the simulation engine the order is fixed, and the question would not arise).
/// </summary>
public class TcpPortAllocationTests() : TestKit(StackConfig.AkkaConfig(), "tcp-port-alloc")
{
    private static readonly TimeSpan Wait = Timeouts.Wall;
    private static readonly Ipv4Address Lo = Ipv4Address.Parse("127.0.0.1");

    private const int Sockets = 8;

    /// <summary>The ports a host "h1" with seed 7 hands to its first <see cref="Sockets"/> ephemeral binds (pinned).</summary>
    private static readonly ushort[] Expected = [34790, 39253, 41115, 44986, 45980, 48200, 59255, 60330];

    [Fact]
    public async Task ConcurrentConnects_WithFixedSeed_GetTheSameEphemeralPortsEveryRun()
    {
        var first = await ConnectAllAtOnce("h1-run1");
        var second = await ConnectAllAtOnce("h1-run2");
        Assert.Equal(Expected, first);
        Assert.Equal(Expected, second);
    }

    /// <summary>One host (namespace "h1", seed 7) under actor name <paramref name="actorName"/>; N connects fired together.</summary>
    private async Task<ushort[]> ConnectAllAtOnce(string actorName)
    {
        var dev = new DeviceSettings("eth0", new MacAddress(0x02_00_00_00_00_0AUL), Addresses: [Ipv4Prefix.TryParse("10.0.0.1/24", out var p) ? p : default]);
        var host = Sys.ActorOf(HostActor.Props(new HostSettings("h1", 1, new SysctlSettings(), [dev]), seed: 7), actorName);
        await host.Ask<HostDevices>(GetHostDevices.Instance, Wait);
        var l = await StreamSocket(host);
        Assert.IsType<SocketOk>(await l.Ask<object>(new Bind(Lo, 80), Wait));
        Assert.IsType<SocketOk>(await l.Ask<object>(new Listen(Sockets * 2), Wait));
        var socks = new IActorRef[Sockets];
        for (int i = 0; i < Sockets; i++) socks[i] = await StreamSocket(host);
        // Every connect is in flight before any answer: the socket actors run on the dispatcher's threads in any order.
        var replies = socks.Select(s => s.Ask<object>(new StreamConnect(Lo, 80), Wait)).ToArray();
        foreach (var r in await Task.WhenAll(replies)) Assert.IsType<SocketOk>(r);
        var ports = new ushort[Sockets];
        for (int i = 0; i < Sockets; i++)
        {
            var info = await socks[i].Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait);
            Assert.Equal("ESTAB", info.State);
            Assert.Equal(Lo, info.LocalAddress);
            ports[i] = info.LocalPort;
        }
        Array.Sort(ports); // which socket got which port follows the order the connects reached the TCP actor
        await host.GracefulStop(Wait);
        return ports;
    }

    private async Task<IActorRef> StreamSocket(IActorRef host)
        => (await host.Ask<SocketCreated>(new SocketCreate(SockType.Stream), Wait)).Socket;
}
