using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Tests.Engine;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Receive;

/// <summary>
/// An engine TestKit (the stack on the simulation engine) with helpers that start one receiving host
/// (10.0.0.2/24 on eth0, MAC 02:00:00:00:00:02), inject frames from 10.0.0.1 and read sockets. Every question runs
/// the engine (a blocking read returns when the simulation has delivered the datagrams), so what a test reads and
/// counts is the same every run.
/// </summary>
public abstract class ReceiveHostKit(string systemName) : EngineKit(systemName)
{
    protected static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    protected static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    protected static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    protected static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");
    protected static DeviceSettings Eth0(int rxRing = 256, int mtu = 1500, ImmutableArray<int> rpsCpus = default)
        => new("eth0", HostMac, Mtu: mtu, RxRing: rxRing, RpsCpus: rpsCpus, Addresses: [new Ipv4Prefix(HostIp, 24)]);

    /// <summary>Starts a host and returns it with its eth0 driver actor.</summary>
    protected async Task<(IActorRef Host, IActorRef Nic)> StartHost(string name, int cpus, DeviceSettings dev, SysctlSettings? sysctl = null)
    {
        var host = Sys.ActorOf(HostActor.Props(new HostSettings(name, cpus, sysctl ?? new SysctlSettings(), [dev]), seed: 1), name);
        var devices = await Ask<HostDevices>(host, GetHostDevices.Instance);
        return (host, devices.Devices[dev.Name]);
    }

    protected async Task<IActorRef> OpenUdp(IActorRef host, ushort port)
    {
        var created = await Ask<SocketCreated>(host, new SocketCreate(SockType.Dgram));
        var answer = await Ask<object>(created.Socket, new Bind(Ipv4Address.Any, port));
        Assert.IsType<SocketOk>(answer);
        return created.Socket;
    }

    /// <summary>Blocking reads (each runs the engine until answered) until exactly <paramref name="count"/> datagrams were read.</summary>
    protected async Task<List<Datagram>> ReadExactly(IActorRef socket, int count)
    {
        var all = new List<Datagram>(count);
        while (all.Count < count)
        {
            var r = await Ask<Received>(socket, new Recv(count - all.Count));
            all.AddRange(r.Datagrams);
        }
        Assert.Equal(count, all.Count);
        return all;
    }

    protected Task<HostStats> Stats(IActorRef host) => Ask<HostStats>(host, GetStats.Instance);

    protected static byte[] UdpFrame(ushort dstPort, ReadOnlySpan<byte> payload, ushort srcPort = 5000, ushort id = 0)
        => FrameBuilder.Udp(HostMac, PeerMac, PeerIp, HostIp, srcPort, dstPort, payload, id);

    protected static WireFrames Wire(IEnumerable<byte[]> frames)
        => new(frames.Select(f => (ReadOnlyMemory<byte>)f).ToImmutableArray());

    protected static WireFrames Wire(params byte[][] frames) => Wire((IEnumerable<byte[]>)frames);

    /// <summary>Runs the engine for <paramref name="d"/> of simulated time, then nothing may be there for <paramref name="probe"/>.</summary>
    protected async Task ExpectNothingFor(TestProbe probe, TimeSpan d)
    {
        Driver.RunFor(d);
        await ExpectNothingNow(probe);
    }

    /// <summary>A child actor of a host by path (ActorSelection's Identify, answered inline on the engine).</summary>
    protected Task<IActorRef> Resolve(ActorPath path) => Outside(() => Sys.ActorSelection(path).ResolveOne(Timeouts.Wall));

    /// <summary>Events closer together than this are one burst of traffic (CPU cost per packet, NAPI polls), not a timer.</summary>
    private static readonly long SettleGapNs = 100_000;

    /// <summary>
    /// Runs what is due now, then on, event by event, while the next one is at most 100 µs away (for at most 1 s of
    /// simulated time): the frames the test injected run through the stack to their end; timers (ms and more) stay unfired.
    /// </summary>
    protected void Settle()
    {
        Driver.RunIdle();
        long until = Engine.NowNs + 1_000_000_000;
        while (Engine.NextDueNs is { } due && due - Engine.NowNs <= SettleGapNs && due <= until) Engine.RunUntilNs(due);
    }
}
