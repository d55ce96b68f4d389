using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Neighbour;
using ActorStack.Actors.Routing;
using ActorStack.Actors.Sockets;
using ActorStack.Actors.Softnet;
using ActorStack.Actors.Tcp;
using ActorStack.Actors.Udp;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Wire;

namespace ActorStack.Actors.Namespaces;

/// <summary>
/// One simulated host: a network namespace (<c>struct net</c>) and the supervisor of its
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
/// and subscription messages; the FIB and the PMTU cache in a child
/// <see cref="RoutingActor"/>.
/// <para>
/// Actor references reach the children through their Props, never through a shared object. The children form
/// cycles (a driver schedules NAPI on a softnet actor, which polls the driver; the link watch drives the devices,
/// whose carrier reaches the link watch; ICMP and UDP/TCP report to each other), so no creation order gives every
/// child all its siblings at birth. The host therefore creates them in dependency order — routing, link watch,
/// softnet, UDP, IPv4, TCP, ICMP, neighbour, the drivers — passing each the <see cref="HostRefs"/> of those
/// created before it, and, still inside its constructor, tells every child but the drivers (created last, they
/// have all they need, so a restarted driver has them too) the complete record as an immutable message: the Akka
/// way of introducing actors created later. Nothing reaches a child before that record: traffic between the
/// children starts with the devices, which the link watch registers and opens only when its record arrives, and
/// every message from outside comes after this constructor. The softnet actors are the only restartable children
/// with later siblings: the decider tells a restarted one the record again (until it arrives, what the restarted
/// instance's RPS would steer to a peer is dropped and counted as <c>CPU_BACKLOG</c>).
/// </para>
/// </summary>
public sealed class HostActor : UntypedActor
{
    private readonly NetNamespace _ns;
    private readonly IActorRef _ip;
    private readonly IActorRef _udp;
    private readonly ImmutableDictionary<string, IActorRef> _devices;
    private readonly HostRefs _refs;
    private int _nextSocket;
    private readonly Dictionary<int, DriverResetPolicy> _resetPolicies = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public HostActor(HostSettings settings, int seed, bool trace, HostLinkSettings? link = null, TcpSettings? tcp = null)
    {
        link ??= HostLinkSettings.Default;
        _ns = new NetNamespace(settings, seed, link.Supervision) { Tracing = trace };
        var nf = Netfilter.Empty;
        foreach (var rule in settings.Netfilter) nf = nf.Add(rule);
        _ns.Netfilter = nf;

        // Children in dependency order, each given in its Props the references of those created before it.
        var refs = HostRefs.None with { Routing = Context.ActorOf(RoutingActor.Props(_ns), "routing") };
        refs = refs with { LinkWatch = Context.ActorOf(LinkWatchActor.Props(_ns, refs, link.LinkWatch), "linkwatch") };
        refs = refs with
        {
            Softnet = Enumerable.Range(0, settings.Cpus)
                .Select(cpu => Context.ActorOf(SoftnetActor.Props(_ns, cpu, refs), $"softnet-cpu{cpu}")).ToImmutableArray(),
        };
        refs = refs with { Udp = Context.ActorOf(UdpActor.Props(_ns, refs), "udp") };
        refs = refs with { Ip = Context.ActorOf(Ipv4Actor.Props(_ns, refs), "ip") };
        refs = refs with { Tcp = Context.ActorOf(TcpActor.Props(_ns, refs, tcp ?? TcpSettings.From(settings.Sysctl)), "tcp") };
        refs = refs with { Icmp = Context.ActorOf(IcmpActor.Props(_ns, refs), "icmp") };
        refs = refs with { Neighbour = Context.ActorOf(NeighbourActor.Props(_ns, refs), "neigh") };
        var drivers = ImmutableArray.CreateBuilder<IActorRef>();
        foreach (var dev in _ns.Devices)
            drivers.Add(dev.IsLoopback
                ? Context.ActorOf(LoopbackActor.Props(_ns, refs), "dev-lo")
                : Context.ActorOf(NicActor.Props(_ns, dev, refs), $"dev-{dev.Name}"));
        refs = refs with { Drivers = drivers.ToImmutable() };
        // The complete record to every child that needs a sibling created after it (the drivers, created last,
        // have all they need); the link watch first, which registers the devices when it arrives.
        foreach (var child in new[] { refs.LinkWatch }.Concat(refs.Softnet).Concat([refs.Udp, refs.Ip, refs.Tcp, refs.Icmp, refs.Neighbour]))
            child.Tell(refs);
        _refs = refs;
        _ip = refs.Ip;
        _udp = refs.Udp;
        _ns.Ptypes = _ns.Ptypes.Add(new PacketTypeRegistration(EtherType.Ipv4, _ip)); // inet_init: dev_add_pack(&ip_packet_type)
        _ns.Ptypes = _ns.Ptypes.Add(new PacketTypeRegistration(EtherType.Arp, refs.Neighbour)); // arp_init: dev_add_pack(&arp_packet_type)
        var devs = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        foreach (var dev in _ns.Devices) devs[dev.Name] = refs.Driver(dev.Ifindex);
        _devices = devs.ToImmutable();
        foreach (var dev in _ns.Devices)
            if (!dev.IsLoopback) _resetPolicies[dev.Ifindex] = new DriverResetPolicy(link.Supervision);
    }

    // One switch instead of ReceiveActor's per-instance handler set (a host actor per host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case LinkSetAdmin m: _refs.LinkWatch.Forward(m); break;
            // ss -t: the TCP socket actors (each answers GetSocketInfo with its TcpSocketInfo).
            case GetTcpSockets:
                Sender.Tell(new TcpSocketList([.. _ns.Sockets.Where(kv => kv.Value.Type == SockType.Stream).Select(kv => kv.Key)]));
                break;
            case SubscribeLinkMonitor m: _refs.LinkWatch.Forward(m); break;
            case UnsubscribeLinkMonitor m: _refs.LinkWatch.Forward(m); break;
            case RegisterNetdevNotifier m: _refs.LinkWatch.Forward(m); break;
            case UnregisterNetdevNotifier m: _refs.LinkWatch.Forward(m); break;
            case GetLinks m: _refs.LinkWatch.Forward(m); break;
            case CrashDriver m: ToDriver(m.Device, m); break;
            case InjectDriverFault m: ToDriver(m.Device, m); break;
            case ClearDriverFaults m: ToDriver(m.Device, m); break;

            case GetHostDevices: Sender.Tell(new HostDevices(_ns.Name, _devices)); break;
            case DevAddPack m:
                _ns.Ptypes = _ns.Ptypes.Add(m.Registration);
                Sender.Tell(new PackChanged(m.Registration, true));
                break;
            case DevRemovePack m:
                _ns.Ptypes = _ns.Ptypes.Remove(m.Registration);
                Sender.Tell(new PackChanged(m.Registration, false));
                break;
            // drop_monitor's NET_DM_CMD_START in packet alert mode: the listener gets every drop from now on.
            case DropMonitorStart m:
                if (!_ns.Drops.Listeners.Contains(m.Listener)) _ns.Drops.Listeners = _ns.Drops.Listeners.Add(m.Listener);
                Sender.Tell(new DropMonitorStarted(_ns.Name, m.Listener));
                break;
            case SetXdp m:
                if (_ns.Device(m.Device) is not { } dev) { Sender.Tell(new CommandFailed(m, Errno.ENODEV, $"no device {m.Device}")); break; }
                dev.Xdp = m.Program;
                Sender.Tell(new XdpChanged(m.Device, m.Program?.Name));
                break;
            case SetTracing m:
                _ns.Tracing = m.Enabled;
                Sender.Tell(new TracingSet(m.Enabled));
                break;
            case NfAddRule m:
            {
                // The host actor is the table's only writer: build the new table, publish it (xt_replace_table).
                var table = _ns.Netfilter.Add(m.Rule);
                _ns.Netfilter = table;
                Sender.Tell(new NfRuleAdded(m.Rule, table.Rules.Length - 1));
                break;
            }
            case SocketCreate m: OnSocketCreate(m); break;
            case GetStats: Sender.Tell(Snapshot()); break;
            case GetFragStats m: _refs.Ip.Forward(m); break;
            case SetDeviceFeatures m: OnSetFeatures(m); break;
            case GetDeviceFeatures m:
                Sender.Tell(_ns.Device(m.Ifindex) is { } d
                    ? new DeviceFeatures(d.Ifindex, d.Name, d.Gro, d.Gso, d.Tso) : new CommandFailed(m, Errno.ENODEV));
                break;
            case GetNfRules:
            {
                var table = _ns.Netfilter;
                Sender.Tell(new NfRules(_ns.Name, table.Rules.Select((r, i) => new NfRuleCount(r, table.Hits(i))).ToImmutableArray()));
                break;
            }
            case GetNeighbours m: _refs.Neighbour.Forward(m); break;
            default: Unhandled(message); break;
        }
    }

    private void ToDriver(string device, object m)
    {
        if (_ns.Device(device) is { IsLoopback: false } dev) _refs.Driver(dev.Ifindex).Forward(m);
        else Sender.Tell(new CommandFailed(m, Errno.ENODEV, $"host {_ns.Name}: no NIC {device}"));
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
        var directive = HostChildPolicy.For(kind);
        // A restarted softnet actor is created from its Props again, which hold only the routing actor and the link
        // watch: introduce its peers and the drivers again (queued before any message sent after the restart).
        if (kind == HostChildKind.Softnet && directive == Directive.Restart) Sender.Tell(_refs, Self);
        return directive;
    }

    private Directive DecideDriver(Exception ex)
    {
        var dev = _ns.Devices.FirstOrDefault(d => !d.IsLoopback && _refs.Driver(d.Ifindex).Equals(Sender));
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

    /// <summary>The host's children, for tests and tools in the same process.</summary>
    public HostRefs Refs => _refs;

    private void OnSocketCreate(SocketCreate m)
    {
        if (m.Type == SockType.Stream)
        {
            // inet_create for SOCK_STREAM: only IPPROTO_TCP (0 picks it); the TCP actor creates and owns the socket.
            if (m.Protocol is not (0 or IpProtocol.Tcp)) Sender.Tell(new CommandFailed(m, Errno.EPROTONOSUPPORT));
            else _refs.Tcp.Forward(m);
            return;
        }
        byte proto = m.Type == SockType.Dgram ? IpProtocol.Udp : m.Protocol;
        if (m.Type == SockType.Dgram && m.Protocol is not (0 or IpProtocol.Udp))
        {
            Sender.Tell(new CommandFailed(m, Errno.EPROTONOSUPPORT));
            return;
        }
        if (m.Type == SockType.Raw && m.Protocol == 0)
        {
            Sender.Tell(new CommandFailed(m, Errno.EPROTONOSUPPORT));
            return;
        }
        var sock = Context.ActorOf(DatagramSocketActor.Props(_ns, _refs, m.Type, proto, _udp, _ip), $"sock-{++_nextSocket}");
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
            Sender.Tell(new CommandFailed(m, Errno.ENODEV));
            return;
        }
        if (m.Gro is bool gro) d.Gro = gro;
        if (m.Gso is bool gso) d.Gso = gso;
        if (m.Tso is bool tso) d.Tso = tso;
        Sender.Tell(new DeviceFeatures(d.Ifindex, d.Name, d.Gro, d.Gso, d.Tso));
    }

    private HostStats Snapshot() => new(
        _ns.Name,
        _ns.Devices.Select(d => new DeviceStats(d.Name, d.Ifindex, d.Mac, d.Settings.Mtu, d.Up, d.OperState, d.Settings.RxQueues,
            d.IrqCounts.Select(c => Volatile.Read(ref c)).ToImmutableArray(), d.Stats.Snapshot(), d.Xdp?.Name)
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
        => new HostSupervisorStrategy(Math.Max(10, _ns.Supervision.ResetLimit + 2), TimeSpan.FromMinutes(1), Decide);

    /// <summary>
    /// The host's <see cref="OneForOneStrategy"/>, except that an injected driver fault (<see cref="DriverFaultException"/>:
    /// the schedule's <c>crash</c> and <c>fault</c> actions) is not logged again by Akka with its stack trace: the decider
    /// already logged it as one line with the decision (<see cref="DecideDriver"/>), as the kernel logs a reset. Other
    /// failures (a bug in a socket or a protocol handler) keep Akka's log with the stack trace.
    /// </summary>
    private sealed class HostSupervisorStrategy(int maxNrOfRetries, TimeSpan withinTimeRange, Func<Exception, Directive> decider)
        : OneForOneStrategy(maxNrOfRetries, withinTimeRange, decider)
    {
        protected override void LogFailure(IActorContext context, IActorRef child, Exception cause, Directive directive)
        {
            if (cause is DriverFaultException) return;
            base.LogFailure(context, child, cause, directive);
        }
    }

    /// <param name="tcp">The TCP tunables; by default those of the host's sysctls (<see cref="TcpSettings.From"/>).</param>
    public static Props Props(HostSettings settings, int seed, bool trace = false, HostLinkSettings? link = null, TcpSettings? tcp = null)
        => FactoryProps.Of(() => new HostActor(settings, seed, trace, link, tcp));
}
