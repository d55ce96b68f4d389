using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Ipv4Udp;
using Xunit.Abstractions;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.Transmit;

/// <summary>
/// Builds small networks of whole hosts for transmit-path tests: hosts from settings, cables between their
/// devices, and helpers to send and read. Neighbours are given as permanent entries unless a test wants ARP.
/// On Akka's real-time scheduler: the Transmit tests moved to its engine counterpart, <c>Support/VirtualNetKit</c>;
/// this kit stays for the classes outside Transmit that still derive from it (TcpTwoHostKit, TcpStressKit, Offload*,
/// TcpBacklogDropTests).
/// </summary>
public abstract class NetHarness(string name, ITestOutputHelper? output = null) : HostHarness(name, output)
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
        var devs = await host.Ask<HostDevices>(GetHostDevices.Instance, Timeout);
        return new Started(host, devs.Devices);
    }

    /// <summary>A cable between two devices (AttachWire on both ends), with no delay.</summary>
    protected IActorRef Cable(IActorRef a, IActorRef b)
    {
        var wire = Sys.ActorOf(WireActor.Props(a, b, TimeSpan.Zero));
        a.Tell(new AttachWire(wire));
        b.Tell(new AttachWire(wire));
        return wire;
    }

    protected static NeighbourSettings Neigh(string ip, int mac, string dev) => new(Ip(ip), Mac(mac), dev);

    protected static RouteSettings Route(string prefix, string? via = null, string? dev = null, int metric = 0, string type = "unicast")
        => new(Prefix(prefix), via is null ? null : Ip(via), dev, metric, type);

    protected async Task<object> Send(IActorRef socket, byte[] payload, string? dst = null, ushort port = 0, MsgFlags flags = MsgFlags.None)
        => await socket.Ask<object>(new SendTo(payload, dst is null ? null : Ip(dst), port, flags), Timeout);

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
}
