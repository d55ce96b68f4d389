using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Link;
using ActorStack.Actors.Neighbour;
using ActorStack.Actors.Net;
using ActorStack.Actors.Routing;
using ActorStack.Actors.Sockets;
using ActorStack.Actors.Softnet;
using ActorStack.Actors.Tcp;
using ActorStack.Actors.Udp;
using ActorStack.Config;
using ActorStack.Hardware.Link;
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
/// a fault never reaches another host. A NIC driver's failure (an injected
/// fault, <see cref="CrashDriver"/>, a TX watchdog timeout) is a device reset:
/// the decider counts it against the device's <see cref="DriverResetPolicy"/>
/// on the scheduler's clock and restarts the driver (which turns the carrier
/// off, reinitialises its rings and comes back with the carrier on); past the
/// limit it marks the device failed, logs an error, and the restarted driver
/// stays down (operstate DOWN). Link state lives in a child
/// <see cref="LinkWatchActor"/>, to which the host forwards <c>ip link</c>
/// and subscription messages.
/// </summary>
public sealed class HostActor : ReceiveActor
{
    private readonly NetNamespace _ns;
    private readonly IActorRef _ip;
    private readonly IActorRef _udp;
    private readonly ImmutableDictionary<string, IActorRef> _devices;
    private int _nextSocket;
    private readonly Dictionary<int, DriverResetPolicy> _resetPolicies = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public HostActor(HostSettings settings, int seed, bool trace, HostLinkSettings? link = null)
    {
        link ??= HostLinkSettings.Default;
        _ns = new NetNamespace(settings, seed) { Tracing = trace, Supervision = link.Supervision };
        _ns.RoutingActor = Context.ActorOf(RoutingActor.Props(_ns), "routing");
        _ns.SoftnetActors = Enumerable.Range(0, settings.Cpus)
            .Select(cpu => Context.ActorOf(SoftnetActor.Props(_ns, cpu), $"softnet-cpu{cpu}"))
            .ToImmutableArray();
        var nf = Netfilter.Empty;
        foreach (var rule in settings.Netfilter) nf = nf.Add(rule);
        _ns.Netfilter = nf;
        _udp = Context.ActorOf(UdpActor.Props(_ns), "udp");
        _ip = Context.ActorOf(Ipv4Actor.Props(_ns, _udp), "ip");
        _ns.UdpActor = _udp;
        _ns.TcpActor = Context.ActorOf(TcpActor.Props(_ns, TcpSettings.From(settings.Sysctl)), "tcp");
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
        foreach (var dev in _ns.Devices)
            if (!dev.IsLoopback) _resetPolicies[dev.Ifindex] = new DriverResetPolicy(link.Supervision);
        _ns.LinkWatchActor = Context.ActorOf(LinkWatchActor.Props(_ns, link.LinkWatch), "linkwatch");

        Receive<LinkSetAdmin>(m => _ns.LinkWatchActor.Forward(m));
        // ss -t: the TCP socket actors (each answers GetSocketInfo with its TcpSocketInfo).
        Receive<Workloads.GetTcpSockets>(_ => Sender.Tell(new Workloads.TcpSocketList(
            [.. _ns.Sockets.Where(kv => kv.Value.Type == SockType.Stream).Select(kv => kv.Key)])));
        Receive<SubscribeLinkMonitor>(m => _ns.LinkWatchActor.Forward(m));
        Receive<UnsubscribeLinkMonitor>(m => _ns.LinkWatchActor.Forward(m));
        Receive<RegisterNetdevNotifier>(m => _ns.LinkWatchActor.Forward(m));
        Receive<UnregisterNetdevNotifier>(m => _ns.LinkWatchActor.Forward(m));
        Receive<GetLinks>(m => _ns.LinkWatchActor.Forward(m));
        Receive<CrashDriver>(m => ToDriver(m.Device, m));
        Receive<InjectDriverFault>(m => ToDriver(m.Device, m));
        Receive<ClearDriverFaults>(m => ToDriver(m.Device, m));

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
            // The host actor is the table's only writer: build the new table, publish it (xt_replace_table).
            var table = _ns.Netfilter.Add(m.Rule);
            _ns.Netfilter = table;
            Sender.Tell(new NfRuleAdded(m.Rule, table.Rules.Length - 1));
        });
        Receive<SocketCreate>(OnSocketCreate);
        Receive<GetStats>(_ => Sender.Tell(Snapshot()));
        Receive<SetDeviceFeatures>(OnSetFeatures);
        Receive<GetDeviceFeatures>(m => Sender.Tell(_ns.Device(m.Ifindex) is { } d
            ? new DeviceFeatures(d.Ifindex, d.Name, d.Gro, d.Gso, d.Tso) : new DeviceFeaturesFailed(m.Ifindex, Errno.ENODEV)));
        Receive<GetNfRules>(_ =>
        {
            var table = _ns.Netfilter;
            Sender.Tell(new NfRules(_ns.Name, table.Rules.Select((r, i) => new NfRuleCount(r, table.Hits(i))).ToImmutableArray()));
        });
        Receive<GetNeighbours>(m => _ns.NeighbourActor.Forward(m));
    }

    private void ToDriver(string device, object m)
    {
        if (_ns.Device(device) is { IsLoopback: false } dev) dev.Driver.Forward(m);
        else Sender.Tell(new Status.Failure(new ArgumentException($"host {_ns.Name}: no NIC {device}")));
    }

    /// <summary>
    /// The supervisor's decision for a failed child, by <see cref="HostChildPolicy"/>. For a NIC driver: one more reset in the back-off window, or,
    /// past <see cref="DeviceSupervisionSettings.ResetLimit"/>, give up (the device stays down). Runs in the host
    /// with the driver suspended, so writing its <see cref="NetDevice"/> here is safe.
    /// </summary>
    private Directive Decide(Exception ex)
    {
        var kind = HostChildPolicy.Classify(Sender.Path.Name);
        switch (kind)
        {
            case HostChildKind.Driver: return DecideDriver(ex);
            case HostChildKind.Socket:
                _log.Warning("{0} {1}: {2}; socket stopped, its queued datagrams freed (SOCKET_CLOSE)", _ns.Name, Sender.Path.Name, ex.Message);
                break;
            case HostChildKind.ProtocolHandler or HostChildKind.LinkWatch:
                _ns.Drops.Add(DropReason.NOT_SPECIFIED, $"{Sender.Path.Name}/fault", 1);
                _log.Error("{0} {1}: {2}; the message in hand is lost (counted), state kept", _ns.Name, Sender.Path.Name, ex.Message);
                break;
        }
        return HostChildPolicy.For(kind);
    }

    private Directive DecideDriver(Exception ex)
    {
        var dev = _ns.Devices.FirstOrDefault(d => !d.IsLoopback && d.Driver.Equals(Sender));
        if (dev is null || !_resetPolicies.TryGetValue(dev.Ifindex, out var policy)) return Directive.Restart;
        long nowMs = Context.System.Scheduler.Now.UtcTicks / TimeSpan.TicksPerMillisecond;
        var d = policy.OnFault(nowMs);
        if (d.GiveUp)
        {
            if (!dev.DriverFailed)
                _log.Error("{0} {1}: {2}; {3} resets within {4}: giving up, device stays down", _ns.Name, dev.Name, ex.Message,
                    _ns.Supervision.ResetLimit, _ns.Supervision.ResetWindow);
            dev.DriverFailed = true;
        }
        else
        {
            dev.ResetsInWindow = d.ResetsInWindow;
            Interlocked.Increment(ref dev.DriverResets);
            _log.Warning("{0} {1}: {2}; resetting the device ({3} in window)", _ns.Name, dev.Name, ex.Message, d.ResetsInWindow);
        }
        return Directive.Restart;
    }

    /// <summary>The host's namespace, for tests and tools in the same process.</summary>
    public NetNamespace Namespace => _ns;

    private void OnSocketCreate(SocketCreate m)
    {
        if (m.Type == SockType.Stream)
        {
            // inet_create for SOCK_STREAM: only IPPROTO_TCP (0 picks it); the TCP actor creates and owns the socket.
            if (m.Protocol is not (0 or IpProtocol.Tcp)) Sender.Tell(new SocketFailed(m, Errno.EPROTONOSUPPORT));
            else _ns.TcpActor.Forward(m);
            return;
        }
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
        // inet_create → raw_hash_sk: a raw socket is in the raw table when socket() returns. Told to the IPv4 handler
        // before the answer, so whatever the caller sends next, an answer to it finds the socket even if the socket's
        // actor has not started yet (its datagrams wait in its mailbox).
        if (m.Type == SockType.Raw) _ip.Tell(new RawRegister(sock, proto, Ipv4Address.Any, Ipv4Address.Any));
        Sender.Tell(new SocketCreated(sock));
    }

    /// <summary>
    /// <c>ethtool -K</c> (<c>__netdev_update_features</c>): the features take effect for the next poll or send;
    /// a GSO packet already queued is still cut. Answers with the resulting features.
    /// </summary>
    private void OnSetFeatures(SetDeviceFeatures m)
    {
        if (_ns.Device(m.Ifindex) is not { } d)
        {
            Sender.Tell(new DeviceFeaturesFailed(m.Ifindex, Errno.ENODEV));
            return;
        }
        if (m.Gro is bool gro) d.Gro = gro;
        if (m.Gso is bool gso) d.Gso = gso;
        if (m.Tso is bool tso) d.Tso = tso;
        Sender.Tell(new DeviceFeatures(d.Ifindex, d.Name, d.Gro, d.Gso, d.Tso));
    }

    private HostStats Snapshot() => new(
        _ns.Name,
        Context.System.Scheduler.Now.UtcTicks,
        _ns.Devices.Select(d => new DeviceStats(d.Name, d.Ifindex, d.Mac, d.Settings.Mtu, d.Up, d.OperState, d.Settings.RxQueues,
            d.Settings.RxRing, d.IrqCounts.Select(c => Volatile.Read(ref c)).ToImmutableArray(), d.Stats.Snapshot(), d.Xdp?.Name)
            {
                Qdisc = d.IsLoopback ? null : d.Stats.QdiscSnapshot(),
                TxQueueLen = d.Settings.TxQueueLen,
                Offload = d.Offload.Snapshot(d),
            }).ToImmutableArray(),
        _ns.Softnet.Select(s => s.Snapshot()).ToImmutableArray(),
        [_ns.Ip.Snapshot(), _ns.IpExt.Snapshot(), _ns.Icmp.Snapshot(), _ns.Tcp.Tcp.Snapshot(), _ns.Tcp.Ext.Snapshot(), _ns.Udp.Snapshot()],
        _ns.Drops.Snapshot(),
        _ns.Sockets.Values.Select(s => s.Snapshot()).OrderBy(s => s.LocalPort).ToImmutableArray());

    // Akka's own retry limit stays above the drivers' policy (which counts on the scheduler's clock), so that the
    // policy, not Akka, decides when a device gives up; other children keep the limit of 10 restarts a minute.
    protected override SupervisorStrategy SupervisorStrategy()
        => new OneForOneStrategy(Math.Max(10, _ns.Supervision.ResetLimit + 2), TimeSpan.FromMinutes(1), Decide);

    public static Props Props(HostSettings settings, int seed, bool trace = false, HostLinkSettings? link = null)
        => Akka.Actor.Props.Create(() => new HostActor(settings, seed, trace, link));
}

/// <summary>A host's link-watch and driver-supervision tunables (Linux defaults); see <see cref="LinkWatchSettings"/> and <see cref="DeviceSupervisionSettings"/>.</summary>
public sealed record HostLinkSettings(LinkWatchSettings LinkWatch, DeviceSupervisionSettings Supervision)
{
    public static readonly HostLinkSettings Default = new(LinkWatchSettings.Default, DeviceSupervisionSettings.Default);
}
