using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Tcp;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Transmit;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// Two whole hosts a (10.0.0.1) and b (10.0.0.2) on one cable (optionally a <see cref="WireActor"/> with netem)
/// on real time, with the socket helpers the TCP stress tests share. A test may give the hosts their own
/// <see cref="TcpSettings"/> (e.g. a lower RtoMin, Linux's per-route rto_min): until the host takes net.ipv4.tcp_*
/// sysctls, the kit replaces the namespace's TCP actor by one built with those settings before any socket exists.
/// </summary>
public abstract class TcpStressKit(string name, Xunit.Abstractions.ITestOutputHelper? output = null) : NetHarness(name, output)
{
    protected sealed record Pair2(Started A, Started B, IActorRef Wire);

    protected async Task<Started> StartTcpHost(HostSettings h, TcpSettings? tcp)
    {
        if (tcp is null) return await Start(h);
        var tr = ActorOfAsTestActorRef<HostActor>(HostActor.Props(h, seed: 1, tcp: tcp), h.Name);
        var devs = await tr.Ask<HostDevices>(GetHostDevices.Instance, Timeout);
        return new Started(tr, devs.Devices);
    }

    protected async Task<Pair2> TwoHosts(WireOptions? wire = null, TcpSettings? tcp = null)
    {
        var a = await StartTcpHost(HostOf("a", null, Dev("eth0", 1, "10.0.0.1/24")) with { Neighbours = [Neigh("10.0.0.2", 2, "eth0")] }, tcp);
        var b = await StartTcpHost(HostOf("b", null, Dev("eth0", 2, "10.0.0.2/24")) with { Neighbours = [Neigh("10.0.0.1", 1, "eth0")] }, tcp);
        IActorRef w;
        if (wire is null) w = Cable(a.Devices["eth0"], b.Devices["eth0"]);
        else
        {
            w = Sys.ActorOf(WireActor.Props(a.Devices["eth0"], b.Devices["eth0"], wire));
            a.Devices["eth0"].Tell(new AttachWire(w));
            b.Devices["eth0"].Tell(new AttachWire(w));
        }
        return new Pair2(a, b, w);
    }

    protected async Task<IActorRef> TcpSocket(IActorRef host)
        => (await host.Ask<SocketCreated>(new SocketCreate(SockType.Stream), Timeout)).Socket;

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
        var acc = await l.Ask<Accepted>(new Accept(), Timeout);
        return (c, acc.Socket);
    }

    protected async Task<byte[]> ReadExactly(IActorRef s, int n, TimeSpan? each = null)
    {
        var buf = new byte[n];
        int got = 0;
        while (got < n)
        {
            var r = await s.Ask<object>(new StreamRecv(Math.Min(65536, n - got)), each ?? Timeout);
            var d = Assert.IsType<StreamData>(r);
            Assert.False(d.Eof, $"EOF after {got} of {n} bytes");
            d.Data.Span.CopyTo(buf.AsSpan(got));
            got += d.Data.Length;
        }
        return buf;
    }

    protected async Task SendAll(IActorRef s, byte[] data, int chunk = 65536)
    {
        for (int off = 0; off < data.Length; off += chunk)
        {
            int len = Math.Min(chunk, data.Length - off);
            var r = await s.Ask<object>(new SendTo(data.AsMemory(off, len)), Timeout);
            Assert.Equal(len, Assert.IsType<Sent>(r).Bytes);
        }
    }

    protected async Task<TcpSocketInfo> Info(IActorRef s) => await s.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Timeout);

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
