using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Neighbour;
using ActorStack.Actors.Net;
using ActorStack.Actors.Sockets;
using ActorStack.Actors.Softnet;
using ActorStack.Actors.Udp;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Host;

/// <summary>
/// One simulated host: a network namespace (S28) and the supervisor of its
/// actors — a softnet actor per CPU, a driver actor per NIC, the IPv4 and UDP
/// protocol handlers, and the sockets applications open. It registers the
/// protocol handlers at start as <c>inet_init</c> does, owns the packet-type
/// lists (<c>dev_add_pack</c> / <c>dev_remove_pack</c>) and XDP attachments,
/// and answers <see cref="GetStats"/> with an immutable snapshot.
/// Supervision: a child's failure restarts that child only (one-for-one), so
/// a fault never reaches another host.
/// </summary>
public sealed class HostActor : ReceiveActor
{
    private readonly NetNamespace _ns;
    private readonly IActorRef _ip;
    private readonly IActorRef _udp;
    private readonly ImmutableDictionary<string, IActorRef> _devices;
    private int _nextSocket;

    public HostActor(HostSettings settings, int seed, bool trace)
    {
        _ns = new NetNamespace(settings, seed) { Tracing = trace };
        _ns.SoftnetActors = Enumerable.Range(0, settings.Cpus)
            .Select(cpu => Context.ActorOf(SoftnetActor.Props(_ns, cpu), $"softnet-cpu{cpu}"))
            .ToImmutableArray();
        foreach (var rule in settings.Netfilter) _ns.Netfilter.Add(rule);
        _udp = Context.ActorOf(UdpActor.Props(_ns), "udp");
        _ip = Context.ActorOf(Ipv4Actor.Props(_ns, _ns.Netfilter, _udp), "ip");
        _ns.UdpActor = _udp;
        _ns.IpActor = _ip;
        _ns.IcmpActor = Context.ActorOf(IcmpActor.Props(_ns), "icmp");
        _ns.Ptypes = _ns.Ptypes.Add(new PacketTypeRegistration(EtherType.Ipv4, _ip)); // inet_init: dev_add_pack(&ip_packet_type)
        _ns.NeighbourActor = Context.ActorOf(NeighbourActor.Props(_ns), "neigh");
        _ns.Ptypes = _ns.Ptypes.Add(new PacketTypeRegistration(EtherType.Arp, _ns.NeighbourActor)); // arp_init: dev_add_pack(&arp_packet_type)
        var devs = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        foreach (var dev in _ns.Devices)
        {
            dev.Driver = dev.IsLoopback
                ? Context.ActorOf(LoopbackActor.Props(_ns), "dev-lo")
                : Context.ActorOf(NicActor.Props(_ns, dev), $"dev-{dev.Name}");
            devs[dev.Name] = dev.Driver;
        }
        _devices = devs.ToImmutable();

        Receive<GetHostDevices>(_ => Sender.Tell(new HostDevices(_ns.Name, _devices)));
        Receive<DevAddPack>(m =>
        {
            _ns.Ptypes = _ns.Ptypes.Add(m.Registration);
            Sender.Tell(new PackChanged(m.Registration, true));
        });
        Receive<DevRemovePack>(m =>
        {
            _ns.Ptypes = _ns.Ptypes.Remove(m.Registration);
            Sender.Tell(new PackChanged(m.Registration, false));
        });
        Receive<SetXdp>(m =>
        {
            if (_ns.Device(m.Device) is not { } dev) { Sender.Tell(new Status.Failure(new ArgumentException($"no device {m.Device}"))); return; }
            dev.Xdp = m.Program;
            Sender.Tell(new XdpChanged(m.Device, m.Program?.Name));
        });
        Receive<SetTracing>(m =>
        {
            _ns.Tracing = m.Enabled;
            Sender.Tell(new TracingSet(m.Enabled));
        });
        Receive<NfAddRule>(m =>
        {
            _ns.Netfilter.Add(m.Rule);
            Sender.Tell(new NfRuleAdded(m.Rule, _ns.Netfilter.Rules.Length - 1));
        });
        Receive<SocketCreate>(OnSocketCreate);
        Receive<GetStats>(_ => Sender.Tell(Snapshot()));
        Receive<GetNeighbours>(m => _ns.NeighbourActor.Forward(m));
    }

    /// <summary>The host's namespace, for tests and tools in the same process.</summary>
    public NetNamespace Namespace => _ns;

    private void OnSocketCreate(SocketCreate m)
    {
        byte proto = m.Type == SockType.Dgram ? IpProtocol.Udp : m.Protocol;
        if (m.Type == SockType.Dgram && m.Protocol is not (0 or IpProtocol.Udp))
        {
            Sender.Tell(new SocketFailed(m, Errno.EPROTONOSUPPORT));
            return;
        }
        if (m.Type == SockType.Raw && m.Protocol == 0)
        {
            Sender.Tell(new SocketFailed(m, Errno.EPROTONOSUPPORT));
            return;
        }
        var sock = Context.ActorOf(DatagramSocketActor.Props(_ns, m.Type, proto, _udp, _ip), $"sock-{++_nextSocket}");
        Sender.Tell(new SocketCreated(sock));
    }

    private HostStats Snapshot() => new(
        _ns.Name,
        Context.System.Scheduler.Now.UtcTicks,
        _ns.Devices.Select(d => new DeviceStats(d.Name, d.Ifindex, d.Mac, d.Settings.Mtu, d.Up, d.OperState, d.Settings.RxQueues,
            d.Settings.RxRing, d.IrqCounts.Select(c => Volatile.Read(ref c)).ToImmutableArray(), d.Stats.Snapshot(), d.Xdp?.Name)
            {
                Qdisc = d.IsLoopback ? null : d.Stats.QdiscSnapshot(),
                TxQueueLen = d.Settings.TxQueueLen,
            }).ToImmutableArray(),
        _ns.Softnet.Select(s => s.Snapshot()).ToImmutableArray(),
        [_ns.Ip.Snapshot(), _ns.IpExt.Snapshot(), _ns.Icmp.Snapshot(), _ns.Udp.Snapshot()],
        _ns.Drops.Snapshot(),
        _ns.Sockets.Values.Select(s => s.Snapshot()).OrderBy(s => s.LocalPort).ToImmutableArray());

    protected override SupervisorStrategy SupervisorStrategy()
        => new OneForOneStrategy(10, TimeSpan.FromMinutes(1), ex => Directive.Restart);

    public static Props Props(HostSettings settings, int seed, bool trace = false)
        => Akka.Actor.Props.Create(() => new HostActor(settings, seed, trace));
}
