using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Capture;
using ActorStack.Actors.Host;
using ActorStack.Actors.Link;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Simulation;

/// <summary>
/// Builds a scenario from validated settings, step by step and by messages
/// only: hosts, then (once every host named its drivers) the wires between
/// their NICs, the capture tap, the applications (sinks), and — when every
/// socket is bound — the packet generators. Answers <see cref="StartSimulation"/>
/// with everything a caller needs to watch the run.
/// </summary>
public sealed class SimulationActor : ReceiveActor
{
    private readonly StackSettings _s;
    private readonly Dictionary<string, IActorRef> _hosts = new();
    private readonly Dictionary<string, HostDevices> _devices = new();
    private readonly List<IActorRef> _wires = new();
    private readonly List<IActorRef> _sinks = new();
    private readonly List<IActorRef> _pktgens = new();
    private IActorRef? _capture;
    private IActorRef _requester = ActorRefs.Nobody;
    private int _sinksReady;
    private bool _captureReady;

    public SimulationActor(StackSettings settings)
    {
        _s = settings;
        Receive<StartSimulation>(_ =>
        {
            _requester = Sender;
            foreach (var h in _s.Hosts)
            {
                var host = Context.ActorOf(HostActor.Props(h, _s.Seed, _s.Trace), h.Name);
                _hosts[h.Name] = host;
                host.Tell(GetHostDevices.Instance);
            }
        });
        Receive<HostDevices>(d =>
        {
            _devices[d.Host] = d;
            if (_devices.Count == _s.Hosts.Length) Cable();
        });
        Receive<PackChanged>(_ =>
        {
            _captureReady = true;
            MaybeStartGenerators();
        });
        Receive<SinkStatus>(st =>
        {
            if (st.Ready) _sinksReady++;
            MaybeStartGenerators();
        });
    }

    private void Cable()
    {
        int i = 0;
        foreach (var w in _s.Wires)
        {
            var a = _devices[w.HostA].Devices[w.DeviceA];
            var b = _devices[w.HostB].Devices[w.DeviceB];
            var wire = Context.ActorOf(WireActor.Props(a, b, w.Delay), $"wire-{i++}-{w.HostA}-{w.DeviceA}--{w.HostB}-{w.DeviceB}");
            a.Tell(new AttachWire(wire));
            b.Tell(new AttachWire(wire));
            _wires.Add(wire);
        }
        if (_s.Capture.Enabled)
        {
            _capture = Context.ActorOf(PcapTapActor.Props(_s.Capture.File, _s.Capture.SnapLength), "capture");
            var dev = _s.Capture.Device == "any" ? null : _s.Capture.Device;
            _hosts[_s.Capture.Host].Tell(new DevAddPack(new PacketTypeRegistration(EtherType.All, _capture, dev)));
        }
        else _captureReady = true;
        foreach (var sink in _s.Workloads.OfType<UdpSinkSettings>())
            _sinks.Add(Context.ActorOf(UdpSinkActor.Props(sink, _hosts[sink.Host]), $"sink-{sink.Host}-{sink.Port}"));
        MaybeStartGenerators();
    }

    private void MaybeStartGenerators()
    {
        if (_devices.Count < _s.Hosts.Length || !_captureReady || _sinksReady < _sinks.Count || _pktgens.Count > 0) return;
        int i = 0;
        foreach (var p in _s.Workloads.OfType<PktgenWorkload>())
        {
            var dev = _s.Host(p.Host).Devices.First(d => d.Name == p.Device);
            _pktgens.Add(Context.ActorOf(PktgenActor.Props(p, _devices[p.Host].Devices[p.Device], dev.TxRing), $"pktgen-{i++}-{p.Host}-{p.Device}"));
        }
        _requester.Tell(new SimulationStarted(_hosts.ToImmutableDictionary(), _wires.ToImmutableArray(),
            _pktgens.ToImmutableArray(), _sinks.ToImmutableArray(), _capture));
    }

    public static Props Props(StackSettings settings) => Akka.Actor.Props.Create(() => new SimulationActor(settings));
}
