using System.Buffers.Binary;
using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Testing;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Support;

/// <summary>
/// <c>Ipv4Udp/HostHarness</c> on the simulation engine: one receiving host ("h", eth0 02:00:00:00:00:02, 10.0.0.2/24
/// unless told otherwise), frames injected on its NIC, sockets opened and read, counters read. Every question runs the
/// engine (<see cref="StackTestKit"/>'s <c>Ask</c>): a blocking <c>recv</c> returns when the simulation has delivered
/// what it waits for, at a simulated instant that is the same every run. <see cref="Settled"/> replaces the real-clock
/// kits' polling: it runs the traffic to its end and then checks one snapshot, so counters are asserted exactly.
/// </summary>
public abstract class VirtualHostKit(string name, string extraHocon = "") : EngineKit(name, extraHocon)
{
    protected static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    protected static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    protected static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    protected static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");

    protected static Ipv4Prefix Prefix(string s) => Ipv4Prefix.TryParse(s, out var p) ? p : throw new FormatException(s);

    /// <summary>Starts a host and returns it with its eth0 driver.</summary>
    protected async Task<(IActorRef Host, IActorRef Nic)> StartHost(int cpus = 1, SysctlSettings? sysctl = null, params string[] addresses)
    {
        if (addresses.Length == 0) addresses = ["10.0.0.2/24"];
        var dev = new DeviceSettings("eth0", HostMac, Addresses: addresses.Select(Prefix).ToImmutableArray());
        var host = Sys.ActorOf(HostActor.Props(new HostSettings("h", cpus, sysctl ?? new SysctlSettings(), [dev]), seed: 1));
        var devs = await Ask<HostDevices>(host, GetHostDevices.Instance);
        return (host, devs.Devices["eth0"]);
    }

    /// <summary>Frames arriving on <paramref name="nic"/> in one burst; they go through when the test next runs the engine.</summary>
    protected static void Inject(IActorRef nic, params byte[][] frames)
        => nic.Tell(new WireFrames(frames.Select(f => (ReadOnlyMemory<byte>)f).ToImmutableArray()));

    /// <summary>A UDP frame from the peer to <paramref name="dst"/>:<paramref name="dport"/>.</summary>
    protected static byte[] Udp(ushort dport, byte[]? payload = null, Ipv4Address? dst = null, Ipv4Address? src = null,
        ushort sport = 5000, MacAddress? dstMac = null)
        => FrameBuilder.Udp(dstMac ?? HostMac, PeerMac, src ?? PeerIp, dst ?? HostIp, sport, dport, payload ?? [1, 2, 3, 4]);

    /// <summary>Recomputes the IPv4 header checksum of a frame (20-byte header at offset 14).</summary>
    protected static byte[] FixIpChecksum(byte[] frame)
    {
        frame[24] = 0; frame[25] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), Checksum.Compute(frame.AsSpan(14, 20)));
        return frame;
    }

    protected async Task<IActorRef> Socket(IActorRef host, SockType type = SockType.Dgram, byte protocol = 0)
    {
        var created = await Ask<SocketCreated>(host, new SocketCreate(type, protocol));
        await Ask<SocketInfo>(created.Socket, GetSocketInfo.Instance); // the socket has started (PreStart ran)
        return created.Socket;
    }

    /// <summary>Sends a socket command; returns the Errno (OK for SocketOk).</summary>
    protected async Task<Errno> Command(IActorRef socket, object command)
        => await Ask<object>(socket, command) switch
        {
            SocketOk => Errno.OK,
            CommandFailed f => f.Error,
            var r => throw new InvalidOperationException($"unexpected answer {r}"),
        };

    protected async Task<IActorRef> BoundSocket(IActorRef host, string address, ushort port)
    {
        var s = await Socket(host);
        Assert.Equal(Errno.OK, await Command(s, new Bind(Ipv4Address.Parse(address), port)));
        return s;
    }

    /// <summary>Blocking reads (each runs the engine until answered) until <paramref name="count"/> datagrams have been read.</summary>
    protected async Task<List<Datagram>> ReadAll(IActorRef socket, int count)
    {
        var all = new List<Datagram>();
        while (all.Count < count)
        {
            var got = Assert.IsType<Received>(await Ask<object>(socket, new Recv(count - all.Count)));
            all.AddRange(got.Datagrams);
        }
        return all;
    }

    protected async Task<Errno> RecvNonBlocking(IActorRef socket)
        => await Ask<object>(socket, new Recv(1, NonBlocking: true)) is CommandFailed f ? f.Error : Errno.OK;

    protected Task<HostStats> Stats(IActorRef host) => Ask<HostStats>(host, GetStats.Instance);

    /// <summary>A call that may block (a blocking send or recv): asked now, answered when the test runs the engine far enough.</summary>
    protected Task<object> Begin(IActorRef target, object message) => Driver.Begin(target, message);

    /// <summary>Events closer together than this are one burst of traffic (frames at line rate, CPU cost per packet), not a timer.</summary>
    protected static readonly TimeSpan SettleGap = TimeSpan.FromMicroseconds(100);

    /// <summary>
    /// Runs what is due now, then on, event by event, while the next one is at most <see cref="SettleGap"/> away (for at
    /// most 1 s of simulated time): the traffic the test started runs to its end (wire time, CPU cost), protocol timers
    /// (ms and more: neighbour, reassembly, link watch) stay unfired. Returns the simulated time it ran.
    /// </summary>
    protected TimeSpan Settle()
    {
        var start = Engine.Now;
        Driver.RunIdle();
        var until = Engine.NowNs + SimEngine.ToNs(TimeSpan.FromSeconds(1));
        long gap = SimEngine.ToNs(SettleGap);
        while (Engine.NextDueNs is { } due && due - Engine.NowNs <= gap && due <= until) Engine.RunUntilNs(due);
        return Engine.Now - start;
    }

    /// <summary>Settles the traffic (<see cref="Settle"/>), then checks one snapshot of the host: exact values, no polling.</summary>
    protected async Task Settled(IActorRef host, Action<HostStats> check)
    {
        Settle();
        check(await Stats(host));
    }
}

/// <summary>
/// <c>Transmit/NetHarness</c> (and <c>TwoRouterKit</c>) on the simulation engine: small networks of whole hosts from
/// settings, cables between their devices, helpers to send and read. Neighbours are given as permanent entries unless
/// a test wants ARP.
/// </summary>
public abstract class VirtualNetKit(string name, string extraHocon = "") : VirtualHostKit(name, extraHocon)
{
    protected static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);
    protected static Ipv4Address Ip(string s) => Ipv4Address.Parse(s);

    protected static DeviceSettings Dev(string name, int mac, params string[] addresses)
        => new(name, Mac(mac), Addresses: addresses.Select(Prefix).ToImmutableArray());

    protected static HostSettings HostOf(string name, SysctlSettings? sysctl, params DeviceSettings[] devs)
        => new(name, 1, sysctl ?? new SysctlSettings(), devs.ToImmutableArray());

    protected sealed record Started(IActorRef Host, ImmutableDictionary<string, IActorRef> Devices);

    protected async Task<Started> Start(HostSettings h)
    {
        var host = Sys.ActorOf(HostActor.Props(h, seed: 1), h.Name);
        var devs = await Ask<HostDevices>(host, GetHostDevices.Instance);
        return new Started(host, devs.Devices);
    }

    /// <summary>A cable between two devices (AttachWire on both ends), with no delay; the carriers are up when it returns.</summary>
    protected IActorRef Cable(IActorRef a, IActorRef b)
    {
        var wire = Sys.ActorOf(WireActor.Props(a, b, TimeSpan.Zero));
        a.Tell(new AttachWire(wire));
        b.Tell(new AttachWire(wire));
        Driver.RunIdle(); // carrier up on a qdisc still on noop is urgent for the link watch: it runs at this instant
        return wire;
    }

    protected static NeighbourSettings Neigh(string ip, int mac, string dev) => new(Ip(ip), Mac(mac), dev);

    protected static RouteSettings Route(string prefix, string? via = null, string? dev = null, int metric = 0, string type = "unicast")
        => new(Prefix(prefix), via is null ? null : Ip(via), dev, metric, type);

    protected Task<object> Send(IActorRef socket, byte[] payload, string? dst = null, ushort port = 0, MsgFlags flags = MsgFlags.None)
        => Ask<object>(socket, new SendTo(payload, dst is null ? null : Ip(dst), port, flags));

    protected async Task<Errno> SendErr(IActorRef socket, byte[] payload, string? dst = null, ushort port = 0, MsgFlags flags = MsgFlags.None)
        => await Send(socket, payload, dst, port, flags) switch
        {
            Sent => Errno.OK,
            CommandFailed f => f.Error,
            var r => throw new InvalidOperationException($"unexpected answer {r}"),
        };

    protected static long Mib(HostStats s, string mib, string counter) => s.Mib(mib)[counter];

    protected static byte[] Bytes(int n, int seed = 1)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    protected static readonly SysctlSettings Router = new() { IpForward = true };

    /// <summary>a (10.0.1.1) — r1 — (10.0.2.0/24, MTU <c>midMtu</c>) — r2 — b (10.0.3.1): <c>TwoRouterKit</c>'s network.</summary>
    protected sealed record Net(Started A, Started R1, Started R2, Started B);

    /// <summary>
    /// Starts and cables the four hosts of <c>TwoRouterKit</c>: two ip_forward routers, static routes, permanent neighbours
    /// on every link. r1 gets <paramref name="r1ExtraRoutes"/> after its route to 10.0.3.0/24 and <paramref name="r1Rules"/>
    /// as its netfilter rules.
    /// </summary>
    protected async Task<Net> BuildTwoRouters(int midMtu = 1500, IReadOnlyList<RouteSettings>? r1ExtraRoutes = null,
        IReadOnlyList<NfRule>? r1Rules = null)
    {
        var a = await Start(HostOf("a", null, Dev("eth0", 1, "10.0.1.1/24")) with
        {
            Neighbours = [Neigh("10.0.1.254", 11, "eth0")],
            Routes = [Route("0.0.0.0/0", via: "10.0.1.254")],
        });
        var r1 = await Start(HostOf("r1", Router, Dev("eth0", 11, "10.0.1.254/24"), Dev("eth1", 12, "10.0.2.1/24") with { Mtu = midMtu }) with
        {
            Neighbours = [Neigh("10.0.1.1", 1, "eth0"), Neigh("10.0.2.2", 21, "eth1")],
            Routes = [Route("10.0.3.0/24", via: "10.0.2.2"), .. r1ExtraRoutes ?? []],
            Netfilter = [.. r1Rules ?? []],
        });
        var r2 = await Start(HostOf("r2", Router, Dev("eth0", 21, "10.0.2.2/24") with { Mtu = midMtu }, Dev("eth1", 22, "10.0.3.254/24")) with
        {
            Neighbours = [Neigh("10.0.2.1", 12, "eth0"), Neigh("10.0.3.1", 3, "eth1")],
            Routes = [Route("10.0.1.0/24", via: "10.0.2.1")],
        });
        var b = await Start(HostOf("b", null, Dev("eth0", 3, "10.0.3.1/24")) with
        {
            Neighbours = [Neigh("10.0.3.254", 22, "eth0")],
            Routes = [Route("0.0.0.0/0", via: "10.0.3.254")],
        });
        Cable(a.Devices["eth0"], r1.Devices["eth0"]);
        Cable(r1.Devices["eth1"], r2.Devices["eth0"]);
        Cable(r2.Devices["eth1"], b.Devices["eth0"]);
        return new Net(a, r1, r2, b);
    }
}
