using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// Two hosts on the simulation engine (<see cref="NetOnEngineKit"/>): a 10.0.0.1/24 and b 10.0.0.2/24 on eth0, each the
/// other's permanent neighbour, joined by a plain cable or by a <see cref="Actors.Wire.WireActor"/>; plus the
/// stream-socket steps the socket-actor tests share (socket, setsockopt/getsockopt, a listener on b:5001 that a connects to).
/// </summary>
public abstract class TcpTwoHostKit(string name) : NetOnEngineKit(name)
{
    /// <summary>a and b on one cable; with <paramref name="wire"/>, on that wire (delay, netem) instead.</summary>
    protected async Task<(Started A, Started B)> TwoHosts(WireOptions? wire = null)
    {
        var a = await Start(HostOf("a", null, Dev("eth0", 1, "10.0.0.1/24")) with { Neighbours = [Neigh("10.0.0.2", 2, "eth0")] });
        var b = await Start(HostOf("b", null, Dev("eth0", 2, "10.0.0.2/24")) with { Neighbours = [Neigh("10.0.0.1", 1, "eth0")] });
        if (wire is null) Cable(a.Devices["eth0"], b.Devices["eth0"]);
        else Cable(a.Devices["eth0"], b.Devices["eth0"], wire);
        return (a, b);
    }

    /// <summary>a and b on a wire "slow" that delays each frame by <paramref name="delay"/> in both directions.</summary>
    protected Task<(Started A, Started B)> TwoHosts(TimeSpan delay) => TwoHosts(new WireOptions("slow", 1, delay));

    protected async Task<int> Get(IActorRef s, SockOpt o) => Assert.IsType<SocketOptionValue>(await Ask<object>(s, new GetSocketOption(o))).Value;

    protected Task<Errno> Set(IActorRef s, SockOpt o, int v) => Command(s, new SetSocketOption(o, v));

    protected Task<TcpSocketInfo> Info(IActorRef s) => Ask<TcpSocketInfo>(s, GetSocketInfo.Instance);

    /// <summary>
    /// A listener on b 0.0.0.0:5001 (<paramref name="configure"/> runs between bind and listen(4)); <paramref name="client"/>
    /// (or a new socket on a) connects to 10.0.0.2:5001; returns the client and the accepted child.
    /// </summary>
    protected async Task<(IActorRef Client, IActorRef Child)> Accepted(Started a, Started b,
        Func<IActorRef, Task>? configure = null, IActorRef? client = null)
    {
        var l = await TcpSocket(b.Host);
        Assert.Equal(Errno.OK, await Command(l, new Bind(Ip("0.0.0.0"), 5001)));
        if (configure is not null) await configure(l);
        Assert.Equal(Errno.OK, await Command(l, new Listen(4)));
        var c = client ?? await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 5001)));
        return (c, (await Ask<Accepted>(l, new Accept())).Socket);
    }
}
