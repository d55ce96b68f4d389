using System.Buffers.Binary;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using Xunit.Abstractions;
using ActorStack.Actors.Namespaces;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>
/// A TestKit over one receiving host ("h", eth0 02:00:00:00:00:02, 10.0.0.2/24 unless told otherwise)
/// with helpers to inject frames on its NIC, open sockets and read counters. Everything is async.
/// On Akka's real-time scheduler: the Ipv4Udp tests moved to its engine counterpart, <c>Support/VirtualHostKit</c>
/// (same helpers; <c>Settled</c> instead of <c>Eventually</c>); this kit stays for the classes outside Ipv4Udp that
/// still derive from it (NetHarness's family, TcpRcvTests, TestLoggingTests).
/// </summary>
public abstract class HostHarness : TestKit
{
    protected static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    protected static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    protected static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    protected static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");
    protected static readonly TimeSpan Timeout = Timeouts.Wall;

    /// <summary>With <paramref name="output"/>, the system's log events (TestKit's logger) reach xunit's test output.</summary>
    protected HostHarness(string name, ITestOutputHelper? output = null) : base(StackConfig.AkkaConfig(), name, output) { }

    protected static Ipv4Prefix Prefix(string s) => Ipv4Prefix.TryParse(s, out var p) ? p : throw new FormatException(s);

    /// <summary>Starts a host and returns it with its eth0 driver.</summary>
    protected async Task<(IActorRef Host, IActorRef Nic)> StartHost(int cpus = 1, SysctlSettings? sysctl = null, params string[] addresses)
    {
        if (addresses.Length == 0) addresses = ["10.0.0.2/24"];
        var dev = new DeviceSettings("eth0", HostMac, Addresses: addresses.Select(Prefix).ToImmutableArray());
        var host = Sys.ActorOf(HostActor.Props(new HostSettings("h", cpus, sysctl ?? new SysctlSettings(), [dev]), seed: 1));
        var devs = await host.Ask<HostDevices>(GetHostDevices.Instance, Timeout);
        return (host, devs.Devices["eth0"]);
    }

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
        var created = await host.Ask<SocketCreated>(new SocketCreate(type, protocol), Timeout);
        await created.Socket.Ask<SocketInfo>(GetSocketInfo.Instance, Timeout); // the socket has started (PreStart ran)
        return created.Socket;
    }

    /// <summary>Sends a socket command; returns the Errno (OK for SocketOk).</summary>
    protected async Task<Errno> Command(IActorRef socket, object command)
    {
        var r = await socket.Ask<object>(command, Timeout);
        return r switch
        {
            SocketOk => Errno.OK,
            CommandFailed f => f.Error,
            _ => throw new InvalidOperationException($"unexpected answer {r}"),
        };
    }

    protected async Task<IActorRef> BoundSocket(IActorRef host, string address, ushort port)
    {
        var s = await Socket(host);
        Assert.Equal(Errno.OK, await Command(s, new Bind(Ipv4Address.Parse(address), port)));
        return s;
    }

    /// <summary>Blocking reads until <paramref name="count"/> datagrams have been read.</summary>
    protected async Task<List<Datagram>> ReadAll(IActorRef socket, int count)
    {
        var all = new List<Datagram>();
        while (all.Count < count)
        {
            var r = await socket.Ask<object>(new Recv(count - all.Count), Timeout);
            var got = Assert.IsType<Received>(r);
            all.AddRange(got.Datagrams);
        }
        return all;
    }

    protected async Task<Errno> RecvNonBlocking(IActorRef socket)
    {
        var r = await socket.Ask<object>(new Recv(1, NonBlocking: true), Timeout);
        return r is CommandFailed f ? f.Error : Errno.OK;
    }

    protected Task<HostStats> Stats(IActorRef host) => host.Ask<HostStats>(GetStats.Instance, Timeout);

    /// <summary>Awaits until <paramref name="check"/> holds on a fresh snapshot (the receive path is asynchronous).</summary>
    protected Task Eventually(IActorRef host, Action<HostStats> check)
        => AwaitAssertAsync(async () => check(await Stats(host)), Timeout, TimeSpan.FromMilliseconds(20));
}
