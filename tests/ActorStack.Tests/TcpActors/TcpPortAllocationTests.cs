using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// The TCP actor owns the hash tables and the ephemeral ports (<c>inet_hash_connect</c>): a seed fixes the ports,
/// whatever the threads do. Sockets connecting at the same time ask the TCP actor one message each, and its seeded
/// generator hands out the same ports in every run.
/// </summary>
public class TcpPortAllocationTests() : TcpHostKit("tcp-port-alloc")
{
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
        var dev = new DeviceSettings("eth0", Mac(10), Addresses: [Ipv4Prefix.TryParse("10.0.0.1/24", out var p) ? p : default]);
        var host = Sys.ActorOf(HostActor.Props(new HostSettings("h1", 1, new SysctlSettings(), [dev]), seed: 7), actorName);
        await host.Ask<HostDevices>(GetHostDevices.Instance, Wait);
        await LoopbackListener(host, 80, Sockets * 2);
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
}
