using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using ActorStack.Actors.Capture;
using ActorStack.Actors.Cluster;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Hardware.Tap;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Bridge;
using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;

namespace ActorStack.Actors.Simulation;

/// <summary>
/// Builds a scenario from validated settings, step by step and by messages
/// only: switches and hosts, then (once every host named its drivers) the wires
/// between NICs and switch ports and the TAP links, the capture tap, the
/// receiving applications (sinks, UDP echo servers), and — when every socket is
/// bound — the packet generators and the clients (ping, traceroute, UDP echo).
/// The clients' output lines go to the event stream (<see cref="WorkloadOutput"/>). Answers <see cref="StartSimulation"/> with everything a caller
/// needs to watch the run, or with a <see cref="CommandFailed"/> naming
/// <see cref="StartSimulation"/> when the scenario cannot start (EINVAL: the
/// settings do not check, e.g. a workload this build cannot run; a TAP that
/// cannot be opened, with the open's errno; a switch port refused, with the
/// switch's errno).
/// </summary>
public sealed class SimulationActor : ReceiveActor, IWithTimers
{
    private readonly StackSettings _s;
    private readonly Dictionary<string, IActorRef> _hosts = new();
    private readonly Dictionary<string, IActorRef> _switches = new();
    private readonly Dictionary<string, HostDevices> _devices = new();
    private readonly List<IActorRef> _wires = new();
    private readonly List<IActorRef> _sinks = new();
    private readonly List<IActorRef> _pktgens = new();
    private readonly IActorRef?[] _apps;
    private readonly HashSet<IActorRef> _serversReady = new();
    private int _servers;
    private readonly List<IActorRef> _captures = new();
    private IActorRef _requester = ActorRefs.Nobody;
    private int _sinksReady;
    // Answers the capture taps' set-up still owes (PackChanged, DropMonitorStarted, WireCaptureTapAdded).
    private int _capturePending;
    private bool _failed;
    private bool _started;
    // A partition of a distributed run (Actors/Cluster): only the local hosts, switches, wires and workloads; null = all.
    private readonly ScenarioPart? _part;
    private readonly int _localHosts;
    private bool _partReady;

    public ITimerScheduler Timers { get; set; } = null!;

    public SimulationActor(StackSettings settings) : this(settings, null) { }

    /// <summary>The partition <paramref name="part"/> of the scenario (null: the whole scenario).</summary>
    public SimulationActor(StackSettings settings, ScenarioPart? part)
    {
        _s = settings;
        _part = part;
        _localHosts = settings.Hosts.Count(h => Local(h.Name));
        _apps = new IActorRef?[settings.Workloads.Length];
        Receive<StartSimulation>(_ =>
        {
            _requester = Sender;
            var unavailable = ScenarioCheck.Check(_s, forRun: true);
            if (unavailable.Count > 0)
            {
                Fail(Errno.EINVAL, new StackConfigException(unavailable).Message);
                return;
            }
            foreach (var sw in _s.Switches.Where(x => Local(x.Name)))
                _switches[sw.Name] = Context.ActorOf(SwitchActor.Props(sw), $"switch-{sw.Name}");
            var link = LinkSettings(_s);
            foreach (var h in _s.Hosts.Where(x => Local(x.Name)))
            {
                var host = Context.ActorOf(HostActor.Props(h, _s.Seed, _s.Trace, link), h.Name);
                _hosts[h.Name] = host;
                // `ip monitor link` on every host, from before the first carrier change: republished on the event stream.
                host.Tell(new SubscribeLinkMonitor(Self));
                host.Tell(GetHostDevices.Instance);
            }
            // A partition without hosts (a node the placement left empty) has nothing to wait for.
            if (_localHosts == 0) Cable();
        });
        Receive<HostDevices>(d =>
        {
            _devices[d.Host] = d;
            if (_devices.Count == _localHosts && !_failed) Cable();
        });
        Receive<PackChanged>(_ => CaptureSetUp());
        Receive<DropMonitorStarted>(_ => CaptureSetUp());
        Receive<WireCaptureTapAdded>(_ => CaptureSetUp());
        Receive<SinkStatus>(st =>
        {
            if (st.Ready) _sinksReady++;
            MaybeStartGenerators();
        });
        Receive<UdpEchoServerStatus>(st =>
        {
            // Servers say nothing when bound: asked until they are, before any client starts.
            if (st.Ready) _serversReady.Add(Sender);
            else Context.System.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(1), Sender, GetWorkloadStatus.Instance, Self);
            MaybeStartGenerators();
        });
        Receive<TcpServerStatus>(st =>
        {
            if (st.Ready) _serversReady.Add(Sender);
            else Context.System.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(1), Sender, GetWorkloadStatus.Instance, Self);
            MaybeStartGenerators();
        });
        Receive<SwitchPortAttached>(_ => { });
        Receive<CommandFailed>(OnCommandFailed);
        Receive<RunScheduledFault>(m => RunScheduled(_s.Schedule[m.Position]));
        Receive<StartPartitionWorkloads>(_ => StartGenerators());
        Receive<CableState>(m => Publish(Sender, m.Changed ? (m.Cut ? "cable cut: carrier off at both ends" : "cable restored: carrier on at both ends")
            : (m.Cut ? "cable already cut" : "cable not cut")));
        Receive<NetemSet>(m => Publish(Sender,
            $"netem {StackConfig.DirectionName(m.Direction)}: {(m.Settings is null ? "off" : m.Settings.ToString())}"));
        Receive<FaultRulesSet>(m => Publish(Sender, $"{m.Count} fault rule(s) active"));
        Receive<DriverFaultInjected>(m => Publish(Sender, m.Kind is { } k ? $"{m.Device}: {StackConfig.DriverFaultKindName(k)} armed"
            : _lastCommand.GetValueOrDefault(Origin(Sender)) is CrashDriver ? $"{m.Device}: driver crashed, supervisor resets the device" : $"{m.Device}: faults cleared"));
        Receive<LinkAdminSet>(m => Publish(Sender, $"{m.Device} {(m.Up ? "up" : "down")}"));
        Receive<LinkMonitorSubscribed>(_ => { });
        Receive<RtnlLinkEvent>(m => Context.System.EventStream.Publish(m));
        Receive<GetSimulationTopology>(_ => Sender.Tell(new SimulationTopology(_switches.ToImmutableDictionary(), _wires.ToImmutableArray(),
            _apps.OfType<IActorRef>().ToImmutableArray())));
    }

    /// <summary>
    /// Why this build cannot start a workload, or null when it can: every workload type the configuration
    /// knows has its actor, so only a settings type added without one is refused (before anything starts).
    /// </summary>
    public static string? Unavailable(WorkloadSettings w) => w switch
    {
        PktgenWorkload or UdpSinkSettings or PingSettings or TracerouteSettings or UdpEchoServerSettings or UdpEchoClientSettings
            or TcpBulkServerSettings or TcpBulkClientSettings or TcpRrServerSettings or TcpRrClientSettings => null,
        _ => "not available in this build (no actor runs this workload type)",
    };

    // A TAP that cannot be opened stops its link in the constructor: the whole start fails with the reason.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        if (e is ActorInitializationException { InnerException: TapOpenException tap })
        {
            Fail(Enum.IsDefined((Errno)tap.Errno) ? (Errno)tap.Errno : Errno.ENODEV, $"TAP link: {tap.Message}");
            return Directive.Stop;
        }
        return Akka.Actor.SupervisorStrategy.DefaultDecider.Decide(e);
    });

    private void Fail(Errno error, string detail)
    {
        if (_failed) return;
        _failed = true;
        _requester.Tell(new CommandFailed(StartSimulation.Instance, error, detail));
    }

    // A switch refusing a port fails the start; a refused scheduled action (a wire's netem, a host's command) is
    // published after the action's own line, as its success would be.
    private void OnCommandFailed(CommandFailed f)
    {
        switch (f.Command)
        {
            case AttachSwitchPort:
                string sw = _switches.FirstOrDefault(kv => kv.Value.Equals(Sender)).Key ?? Sender.Path.Name;
                Fail(f.Error, $"switch {sw}: {f.Command}: {f.Message}");
                break;
            case SetNetem n:
                Publish(Sender, $"netem {StackConfig.DirectionName(n.Direction)} refused: {f.Message}");
                break;
            case LinkSetAdmin l:
                Publish(Sender, $"{l.Device}: {f.Message}");
                break;
            case SubscribeLinkMonitor:
                Context.GetLogger().Warning("ip monitor link refused by {0}: {1}", Sender.Path.Name, f.Error);
                break;
            default:
                Publish(Sender, $"refused: {f.Message}");
                break;
        }
    }

    private IActorRef EndRef(string hostOrSwitch, string device, int? switchPort)
        => switchPort is null ? _devices[hostOrSwitch].Devices[device] : _switches[hostOrSwitch];

    // The speed (Mbit/s) of a wire's end: the device's, or the switch's for all its ports.
    private int EndSpeed(string hostOrSwitch, string device, int? switchPort)
        => switchPort is null
            ? _s.Host(hostOrSwitch).Devices.First(d => d.Name == device).Speed
            : _s.Switches.First(x => x.Name == hostOrSwitch).Speed;

    // TX interrupt coalescing (µs) of a wire's end: the device's tx-usecs; a switch port completes as a default NIC does.
    private int EndTxUsecs(string hostOrSwitch, string device, int? switchPort)
        => switchPort is null ? _s.Host(hostOrSwitch).Devices.First(d => d.Name == device).TxUsecs : 3;

    // Plugs one end into the link: a NIC transmits onto it (AttachWire), a switch port gets it (AttachSwitchPort).
    private void Plug(IActorRef end, int? switchPort, IActorRef link)
    {
        if (switchPort is { } port) end.Tell(new AttachSwitchPort(port, link));
        else end.Tell(new AttachWire(link));
    }

    private bool Local(string hostOrSwitch) => _part is null || _part.IsLocal(hostOrSwitch);

    private void Cable()
    {
        int i = 0;
        foreach (var w in _s.Wires)
        {
            if (_part is not null && (!Local(w.HostA) || (w.Tap is null && !Local(w.HostB)) || _part.Plan.Cross(i) is not null))
            {
                _wires.Add(CableHalf(i++, w));
                continue;
            }
            var a = EndRef(w.HostA, w.DeviceA, w.SwitchPortA);
            IActorRef link;
            if (w.Tap is { } tap)
            {
                link = Context.ActorOf(TapLinkActor.Props(a, tap), $"tap-{i++}-{w.HostA}-{w.DeviceA}--{tap}");
                Plug(a, w.SwitchPortA, link);
            }
            else
            {
                var b = EndRef(w.HostB, w.DeviceB, w.SwitchPortB);
                var options = new WireOptions(w.Name, _s.Seed, w.Delay)
                {
                    SpeedA = EndSpeed(w.HostA, w.DeviceA, w.SwitchPortA),
                    SpeedB = EndSpeed(w.HostB, w.DeviceB, w.SwitchPortB),
                    TxUsecsA = EndTxUsecs(w.HostA, w.DeviceA, w.SwitchPortA),
                    TxUsecsB = EndTxUsecs(w.HostB, w.DeviceB, w.SwitchPortB),
                    NetemAToB = FaultCheck.Settings(w, WireDirection.AToB),
                    NetemBToA = FaultCheck.Settings(w, WireDirection.BToA),
                    Faults = [.. _s.Faults.Where(f => f.Wire == i).Select(f => f.Rule)],
                };
                link = Context.ActorOf(WireActor.Props(a, b, options), $"wire-{i++}-{w.HostA}-{w.DeviceA}--{w.HostB}-{w.DeviceB}");
                Plug(a, w.SwitchPortA, link);
                Plug(b, w.SwitchPortB, link);
            }
            _wires.Add(link);
        }
        AttachCaptures();
        foreach (var sink in _s.Workloads.OfType<UdpSinkSettings>().Where(x => Local(x.Host)))
            _sinks.Add(Context.ActorOf(UdpSinkActor.Props(sink, _hosts[sink.Host]), $"sink-{sink.Host}-{sink.Port}"));
        for (int j = 0; j < _s.Workloads.Length; j++)
        {
            var w = _s.Workloads[j];
            if (!Local(w.Host)) continue;
            Props? server = w switch
            {
                UdpEchoServerSettings srv => UdpEchoServerActor.Props(srv, _hosts[srv.Host]),
                TcpBulkServerSettings bulk => TcpBulkServerActor.Props(bulk, _hosts[bulk.Host]),
                TcpRrServerSettings rr => TcpRrServerActor.Props(rr, _hosts[rr.Host]),
                _ => null,
            };
            if (server is null) continue;
            var a = Context.ActorOf(server, $"{ScenarioCheck.WorkloadType(w)}-{j}-{w.Host}");
            _apps[j] = a;
            _servers++;
            a.Tell(GetWorkloadStatus.Instance);
        }
        MaybeStartGenerators();
    }

    private void MaybeStartGenerators()
    {
        if (_failed || _started || _devices.Count < _localHosts || _capturePending > 0 || _sinksReady < _sinks.Count
            || _serversReady.Count < _servers) return;
        if (_part is not null)
        {
            // A partition waits for every other one's servers: the coordinator starts all at one instant.
            if (!_partReady) { _partReady = true; _part.Ready?.Invoke(); }
            return;
        }
        StartGenerators();
    }

    private void StartGenerators()
    {
        if (_started) return;
        _started = true;
        int i = 0;
        foreach (var p in _s.Workloads.OfType<PktgenWorkload>().Where(x => Local(x.Host)))
        {
            var dev = _s.Host(p.Host).Devices.First(d => d.Name == p.Device);
            _pktgens.Add(Context.ActorOf(PktgenActor.Props(p, _devices[p.Host].Devices[p.Device], dev.TxRing), $"pktgen-{i++}-{p.Host}-{p.Device}"));
        }
        for (int j = 0; j < _s.Workloads.Length; j++)
        {
            var w = _s.Workloads[j];
            if (!Local(w.Host)) continue;
            Props? props = w switch
            {
                PingSettings ping => PingActor.Props(ping, _hosts[w.Host], seed: unchecked(_s.Seed * 31 + j)),
                TracerouteSettings tr => TracerouteActor.Props(tr, _hosts[w.Host]),
                UdpEchoClientSettings cl => UdpEchoClientActor.Props(cl, _hosts[w.Host]),
                TcpBulkClientSettings bulk => TcpBulkClientActor.Props(bulk, _hosts[w.Host]),
                TcpRrClientSettings rr => TcpRrClientActor.Props(rr, _hosts[w.Host], seed: unchecked(_s.Seed * 31 + j)),
                _ => null,
            };
            if (props is not null) _apps[j] = Context.ActorOf(props, $"{ScenarioCheck.WorkloadType(w)}-{j}-{w.Host}");
        }
        // The fault schedule's clock starts with the workloads; its timers end with the simulation.
        for (int k = 0; k < _s.Schedule.Length; k++)
            Timers.StartSingleTimer(new RunScheduledFault(k), new RunScheduledFault(k), _s.Schedule[k].At);
        _requester.Tell(new SimulationStarted(_hosts.ToImmutableDictionary(), _wires.ToImmutableArray(),
            _pktgens.ToImmutableArray(), _sinks.ToImmutableArray(), _captures.FirstOrDefault())
        {
            Captures = [.. _captures],
        });
    }

    /// <summary>
    /// One tap per capture point: on each captured host a <c>ptype_all</c> registration (<c>dev_add_pack(ETH_P_ALL)</c>,
    /// bound to the device when the point names one) and the drop monitor's packet alerts, and on each wire with a
    /// captured end its fault events. The workloads start once every one of them answered.
    /// </summary>
    private void AttachCaptures()
    {
        var captures = _s.Captures;
        for (int k = 0; k < captures.Length; k++)
        {
            var point = captures[k];
            // A partition of a distributed run (Actors/Cluster) captures on its own hosts only. A point over every host
            // (device = all) has a tap on every partition, each writing its hosts' devices and its wire halves' events to a
            // part file (PartFile); the coordinator merges the parts into the point's file (CaptureMerge).
            bool all = point.Device == CaptureSettings.AllDevices;
            if (_part is not null && !all && !Local(point.Host)) continue;
            var tap = _part is not null && all
                ? Context.ActorOf(CaptureTapActor.Props(point with { File = PartFile(point.File, _part.Node) }, _s.Hosts, _s.Wires, _s.Faults, _hosts, _halfEndA.ToImmutableDictionary()),
                    k == 0 ? "capture" : $"capture-{k}")
                : Context.ActorOf(CaptureTapActor.Props(point, _s.Hosts, _s.Wires, _s.Faults, _hosts), k == 0 ? "capture" : $"capture-{k}");
            _captures.Add(tap);
            bool one = point.Device is not (CaptureSettings.AnyDevice or CaptureSettings.AllDevices);
            foreach (var h in _s.Hosts)
            {
                if (point.Device != CaptureSettings.AllDevices && point.Host != h.Name) continue;
                if (!_hosts.ContainsKey(h.Name)) continue; // on another partition
                _hosts[h.Name].Tell(new DevAddPack(new PacketTypeRegistration(EtherType.All, tap, one ? point.Device : null)));
                _hosts[h.Name].Tell(new DropMonitorStart(tap));
                _capturePending += 2;
            }
            for (int i = 0; i < _s.Wires.Length; i++)
            {
                var w = _s.Wires[i];
                if (w.Tap is not null) continue;
                bool a = w.SwitchPortA is null && point.Captures(w.HostA, w.DeviceA);
                bool b = w.SwitchPortB is null && point.Captures(w.HostB, w.DeviceB);
                if ((!a && !b) || _wires[i].IsNobody()) continue;
                _wires[i].Tell(new AddWireCaptureTap(tap));
                _capturePending++;
                // A split wire with both ends here: its other half sends the other direction (device = all: every half).
                if (_part is not null && all && _secondHalf.TryGetValue(i, out var second))
                {
                    second.Tell(new AddWireCaptureTap(tap));
                    _capturePending++;
                }
            }
        }
    }

    private void CaptureSetUp()
    {
        _capturePending--;
        MaybeStartGenerators();
    }

    /// <summary>The schedule's entry at <paramref name="Position"/> (of the time-sorted list) is due.</summary>
    private sealed record RunScheduledFault(int Position);

    private readonly Dictionary<IActorRef, TimeSpan> _lastActionAt = new();
    // A wire answers each command once and in order: its answers are stamped with their own action's time, even
    // when an answer arrives after the next action was sent (at most one entry per schedule entry).
    private readonly Dictionary<IActorRef, Queue<TimeSpan>> _wireActionsPending = new();
    private readonly Dictionary<IActorRef, object> _lastCommand = new();

    /// <summary>Runs one entry of the fault schedule and publishes what it did (<see cref="FaultScheduleEvent"/>).</summary>
    private void RunScheduled(ScheduledFault e)
    {
        string line = e.Describe();
        if (_part is not null && !LocalTarget(e)) return;
        switch (e)
        {
            case CutWireFault c:
                if (_part is not null && _part.Plan.Cross(c.Wire) is not null) _part.HalfCut?.Invoke(c.Wire);
                Tell(c.Wire, CutCable.Instance, e.At);
                break;
            case RestoreWireFault r: Tell(r.Wire, RestoreCable.Instance, e.At); break;
            case SetWireNetemFault n: Tell(n.Wire, new SetNetem(n.Direction, FaultCheck.Parse(n.Netem)), e.At); break;
            case SetWireFaultsFault f: Tell(f.Wire, new SetFaultRules(f.Rules), e.At); break;
            case CrashDriverFault c: ToHost(c.Host, new CrashDriver(c.Host, c.Device), e.At); break;
            case DriverFaultScheduled d: ToHost(d.Host, new InjectDriverFault(d.Device, d.Kind, d.Probability, d.Once), e.At); break;
            case LinkAdminFault l: ToHost(l.Host, new LinkSetAdmin(l.Device, l.Up), e.At); break;
            default: line += ": not available in this build"; break;
        }
        Context.System.EventStream.Publish(new FaultScheduleEvent(e.At, line));
    }

    // A partition runs the schedule's actions on its own hosts and wire halves (a cut wire: both halves, each end's own).
    private bool LocalTarget(ScheduledFault e) => e switch
    {
        CutWireFault c => !_wires[c.Wire].IsNobody(),
        RestoreWireFault r => !_wires[r.Wire].IsNobody(),
        SetWireNetemFault n => !_wires[n.Wire].IsNobody(),
        SetWireFaultsFault f => !_wires[f.Wire].IsNobody(),
        CrashDriverFault c => _hosts.ContainsKey(c.Host),
        DriverFaultScheduled d => _hosts.ContainsKey(d.Host),
        LinkAdminFault l => _hosts.ContainsKey(l.Host),
        _ => true,
    };

    /// <summary>
    /// A wire with an end on another node: nothing here when neither end is local; else the local half, whose channel
    /// for frames leaving this node hands them on with their arrival time (<see cref="ScenarioPart.Egress"/>), and whose
    /// far end is Nobody (the far half delivers that direction).
    /// </summary>
    private IActorRef CableHalf(int i, WireSettings w)
    {
        bool aLocal = Local(w.HostA), bLocal = w.Tap is null && Local(w.HostB);
        if (!aLocal && !bLocal) return ActorRefs.Nobody;
        // Both ends here (a split wire within one node): a half per end, the second one answers the schedule too.
        if (aLocal && bLocal) _secondHalf[i] = Half(i, w, aLocal: false);
        return Half(i, w, aLocal);
    }

    private readonly Dictionary<int, IActorRef> _secondHalf = new();
    // Every half built here: whether its local end is end A (a device = all tap writes a half's frameless events there only).
    private readonly Dictionary<IActorRef, bool> _halfEndA = new();

    /// <summary>The part file of a <c>device = all</c> capture point written by partition <paramref name="node"/> (merged by the coordinator).</summary>
    public static string PartFile(string file, string node) => $"{file}.{node}.part";

    private IActorRef Half(int i, WireSettings w, bool aLocal)
    {
        var part = _part!;
        long startNs = SimEngine.IsVirtual(Context.System) ? SimEngine.For(Context.System).NowNs : 0;
        var local = aLocal ? EndRef(w.HostA, w.DeviceA, w.SwitchPortA) : EndRef(w.HostB, w.DeviceB, w.SwitchPortB);
        var outgoing = aLocal ? WireDirection.AToB : WireDirection.BToA;
        var options = new WireOptions(w.Name, _s.Seed, TimeSpan.Zero)
        {
            SpeedA = EndSpeed(w.HostA, w.DeviceA, w.SwitchPortA),
            SpeedB = EndSpeed(w.HostB, w.DeviceB, w.SwitchPortB),
            TxUsecsA = EndTxUsecs(w.HostA, w.DeviceA, w.SwitchPortA),
            TxUsecsB = EndTxUsecs(w.HostB, w.DeviceB, w.SwitchPortB),
            NetemAToB = aLocal ? FaultCheck.Settings(w, WireDirection.AToB) : null,
            NetemBToA = aLocal ? null : FaultCheck.Settings(w, WireDirection.BToA),
            Faults = [.. _s.Faults.Where(f => f.Wire == i).Select(f => f.Rule)],
        };
        long prop = w.Delay.Ticks * 100;
        // The propagation delay is the crossing: a frame leaving the local channel at t arrives at t + delay.
        void Egress(WireDirection d, ReadOnlyMemory<byte> f, long t)
        {
            if (d == outgoing) part.Egress?.Invoke(i, d, f, startNs + t + prop);
        }
        var far = ActorRefs.Nobody; // swallows what the half would tell the far end (its carrier changes)
        var half = Context.ActorOf(aLocal ? WireActor.Props(local, far, options, Egress) : WireActor.Props(far, local, options, Egress),
            $"wire-{i}-{(aLocal ? "a" : "b")}-{w.HostA}-{w.DeviceA}--{w.HostB}-{w.DeviceB}");
        Plug(local, aLocal ? w.SwitchPortA : w.SwitchPortB, half);
        part.HalfBuilt?.Invoke(i, aLocal ? WireDirection.BToA : WireDirection.AToB, local, half);
        _halfEndA[half] = aLocal;
        return half;
    }

    private void Tell(int wire, object command, TimeSpan at)
    {
        _lastActionAt[_wires[wire]] = at;
        if (!_wireActionsPending.TryGetValue(_wires[wire], out var q)) _wireActionsPending[_wires[wire]] = q = new Queue<TimeSpan>();
        q.Enqueue(at);
        _wires[wire].Tell(command, Self);
        if (_secondHalf.TryGetValue(wire, out var second)) second.Tell(command, ActorRefs.NoSender); // its answer would repeat the first's
    }

    private void ToHost(string host, object command, TimeSpan at)
    {
        _lastActionAt[_hosts[host]] = at;
        _lastCommand[_hosts[host]] = command;
        _hosts[host].Tell(command, Self);
    }

    /// <summary>A wire's or host's answer to a scheduled action, published after the action's own line.</summary>
    private void Publish(IActorRef sender, string outcome)
    {
        var from = Origin(sender);
        int i = _wires.IndexOf(from);
        var at = _wireActionsPending.TryGetValue(from, out var q) && q.Count > 0 ? q.Dequeue() : _lastActionAt.GetValueOrDefault(from);
        string who = i >= 0 ? _s.Wires[i].Name : _hosts.FirstOrDefault(h => h.Value.Equals(from)).Key ?? from.Path.Name;
        Context.System.EventStream.Publish(new FaultScheduleEvent(at, $"  {who}: {outcome}"));
    }

    /// <summary>The wire or host an answer comes from: a host's answers may come from its children (the driver answers <see cref="CrashDriver"/>).</summary>
    private IActorRef Origin(IActorRef sender)
    {
        if (_wires.Contains(sender)) return sender;
        foreach (var h in _hosts.Values)
            if (h.Equals(sender) || h.Path.Equals(sender.Path.Parent)) return h;
        return sender;
    }

    /// <summary>The hosts' link-watch and driver-supervision tunables from <c>device-defaults</c>.</summary>
    public static HostLinkSettings LinkSettings(StackSettings s)
    {
        return HostLinkSettings.Default with
        {
            Supervision = s.Supervision,
        };
    }

    public static Props Props(StackSettings settings) => Akka.Actor.Props.Create(() => new SimulationActor(settings));

    /// <summary>One partition of a distributed run (Actors/Cluster).</summary>
    public static Props Props(StackSettings settings, ScenarioPart part) => Akka.Actor.Props.Create(() => new SimulationActor(settings, part));
}
