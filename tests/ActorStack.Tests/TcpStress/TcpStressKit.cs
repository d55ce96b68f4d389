using Akka.Actor;
using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// Two whole hosts a (10.0.0.1) and b (10.0.0.2) on one cable (optionally a <see cref="Actors.Wire.WireActor"/> with
/// netem) on the simulation engine (<see cref="NetOnEngineKit"/>), with the socket helpers the TCP stress tests share.
/// A test may give the hosts their own <see cref="TcpSettings"/> (e.g. a lower RtoMin, Linux's per-route rto_min):
/// until the host takes net.ipv4.tcp_* sysctls, the host builds its namespace's TCP actor with those settings.
/// </summary>
public abstract class TcpStressKit(string name, Xunit.Abstractions.ITestOutputHelper? output = null) : NetOnEngineKit(name)
{
    /// <summary>xunit's output for the test's own lines (the engine kit's system logs nothing there).</summary>
    protected Xunit.Abstractions.ITestOutputHelper? TestOutput { get; } = output;

    protected sealed record Pair2(Started A, Started B, IActorRef Wire);

    protected async Task<Pair2> TwoHosts(WireOptions? wire = null, TcpSettings? tcp = null)
    {
        var a = await Start(HostOf("a", null, Dev("eth0", 1, "10.0.0.1/24")) with { Neighbours = [Neigh("10.0.0.2", 2, "eth0")] }, tcp);
        var b = await Start(HostOf("b", null, Dev("eth0", 2, "10.0.0.2/24")) with { Neighbours = [Neigh("10.0.0.1", 1, "eth0")] }, tcp);
        var w = wire is null ? Cable(a.Devices["eth0"], b.Devices["eth0"]) : Cable(a.Devices["eth0"], b.Devices["eth0"], wire);
        return new Pair2(a, b, w);
    }

    protected async Task<IActorRef> Listener(IActorRef host, ushort port, int backlog)
    {
        var s = await TcpSocket(host);
        Assert.Equal(Errno.OK, await Command(s, new Bind(Ip("0.0.0.0"), port)));
        Assert.Equal(Errno.OK, await Command(s, new Listen(backlog)));
        return s;
    }

    protected async Task<(IActorRef Client, IActorRef Server)> Connect(Pair2 p, ushort port)
    {
        var l = await Listener(p.B.Host, port, 16);
        var c = await TcpSocket(p.A.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), port)));
        var acc = await Ask<Accepted>(l, new Accept());
        return (c, acc.Socket);
    }

    protected Task<TcpSocketInfo> Info(IActorRef s) => Ask<TcpSocketInfo>(s, GetSocketInfo.Instance);

    /// <summary>An Ethernet + IPv4 frame carrying <paramref name="seg"/> (checksums filled), as a raw injector would put on the wire.</summary>
    public static byte[] TcpFrame(TcpSegment seg, MacAddress dstMac, MacAddress srcMac, Ipv4Address src, Ipv4Address dst, Action<byte[]>? corrupt = null)
    {
        int ipLen = Ipv4Header.MinLength + seg.Length;
        var frame = new byte[EthernetHeader.Length + ipLen];
        EthernetHeader.Write(frame, dstMac, srcMac, EtherType.Ipv4);
        seg.WriteTo(frame.AsSpan(EthernetHeader.Length + Ipv4Header.MinLength), src, dst);
        Ipv4Header.Write(frame.AsSpan(EthernetHeader.Length), ipLen, 1, Ipv4Header.FlagDf, 64, IpProtocol.Tcp, src, dst);
        corrupt?.Invoke(frame);
        return frame;
    }

    protected static long Ext(HostStats s, string counter) => s.Mib("TcpExt")[counter];
    protected static long Snmp(HostStats s, string counter) => s.Mib("Tcp")[counter];
}
