using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Namespaces;
using ActorStack.Messages;
using EtherType = ActorStack.Messages.Packets.EtherType;
using PacketDotNet;

namespace ActorStack.Testing;

/// <summary>Which way a tapped frame went: received by the device, or sent by it (<c>dev_queue_xmit_nit</c>).</summary>
public enum FrameDirection { In, Out }

/// <summary>
/// One frame a <c>ptype_all</c> tap saw: when (simulated time since virtual 0, and the frame's own timestamp, which
/// reads the simulation's clock from its epoch as a pcap would), where, which way, and the bytes, parsed with
/// PacketDotNet on demand.
/// </summary>
public sealed record CapturedFrame(TimeSpan At, DateTimeOffset Timestamp, string Host, string Device, FrameDirection Direction,
    PacketKind PktType, ImmutableArray<byte> Bytes)
{
    private Packet? _packet;

    /// <summary>The frame parsed from its Ethernet header on.</summary>
    public Packet Packet => _packet ??= Packet.ParsePacket(LinkLayers.Ethernet, Bytes.ToArray());

    public IPv4Packet? Ip => Packet.Extract<IPv4Packet>();
    public UdpPacket? Udp => Packet.Extract<UdpPacket>();
    public TcpPacket? Tcp => Packet.Extract<TcpPacket>();
    public ArpPacket? Arp => Packet.Extract<ArpPacket>();
    public IcmpV4Packet? Icmp => Packet.Extract<IcmpV4Packet>();

    /// <summary>A tcpdump-like line: "+0.001000200s b eth0 In 10.0.0.1.40000 &gt; 10.0.0.2.7: UDP, length 4".</summary>
    public override string ToString()
    {
        string what = Packet.PayloadPacket switch
        {
            IPv4Packet ip when ip.PayloadPacket is UdpPacket u => $"{ip.SourceAddress}.{u.SourcePort} > {ip.DestinationAddress}.{u.DestinationPort}: UDP, length {u.PayloadData?.Length ?? 0}",
            IPv4Packet ip when ip.PayloadPacket is TcpPacket t => $"{ip.SourceAddress}.{t.SourcePort} > {ip.DestinationAddress}.{t.DestinationPort}: TCP seq {t.SequenceNumber} ack {t.AcknowledgmentNumber}, length {t.PayloadData?.Length ?? 0}",
            IPv4Packet ip => $"{ip.SourceAddress} > {ip.DestinationAddress}: {ip.Protocol}, length {ip.TotalLength}",
            ArpPacket a => $"ARP {a.Operation} {a.SenderProtocolAddress} > {a.TargetProtocolAddress}",
            _ => $"{((EthernetPacket)Packet).Type}, length {Bytes.Length}",
        };
        return $"+{At.TotalSeconds:0.000000000}s {Host} {Device} {Direction} {what}";
    }
}

/// <summary>
/// A <c>ptype_all</c> tap on a host (<c>dev_add_pack</c> with <c>ETH_P_ALL</c>, as tcpdump registers): every frame the
/// host's devices receive (at <c>__netif_receive_skb_core</c>) and send (<c>dev_queue_xmit_nit</c>) from now on, with
/// direction and device. <see cref="Remove"/> unregisters it.
/// </summary>
public sealed class FrameProbe
{
    private readonly List<CapturedFrame> _frames = new();
    private readonly HostView _host;
    private readonly IActorRef _tap;
    private readonly PacketTypeRegistration _registration;

    internal FrameProbe(HostView host, string? device)
    {
        _host = host;
        var names = host.Stats().Devices.ToImmutableDictionary(d => d.Ifindex, d => d.Name);
        if (device is not null && !names.Values.Contains(device))
            throw new ArgumentException($"{host.Name} has no device {device} (known: {string.Join(", ", names.Values.Order(StringComparer.Ordinal))})", nameof(device));
        var kit = host.Kit;
        _tap = kit.System.ActorOf(Props.Create(() => new TapActor(this, kit, host.Name, names)));
        _registration = new PacketTypeRegistration(EtherType.All, _tap, device);
        host.Ref.Tell(new DevAddPack(_registration), _tap);
        kit.Driver.RunIdle();
    }

    /// <summary>Every frame seen so far, in the order the tap got them.</summary>
    public IReadOnlyList<CapturedFrame> Frames => _frames;

    /// <summary>The frames that carry UDP (with their parsed UDP header), in order.</summary>
    public IEnumerable<(CapturedFrame Frame, UdpPacket Udp)> Udp()
        => _frames.Select(f => (f, f.Udp)).Where(x => x.Udp is not null).Select(x => (x.f, x.Udp!));

    public void Clear() => _frames.Clear();

    /// <summary><c>dev_remove_pack</c>: the tap sees nothing more.</summary>
    public void Remove()
    {
        _host.Ref.Tell(new DevRemovePack(_registration), _tap);
        _host.Kit.Driver.RunIdle();
    }

    private sealed class TapActor : ReceiveActor
    {
        public TapActor(FrameProbe probe, StackKit kit, string host, ImmutableDictionary<int, string> names)
        {
            Receive<SkbBatch>(b =>
            {
                foreach (var skb in b.Items)
                    probe._frames.Add(new CapturedFrame(kit.Now, new DateTimeOffset(skb.TstampTicks, TimeSpan.Zero), host,
                        names.GetValueOrDefault(skb.Ifindex, $"if{skb.Ifindex}"),
                        skb.PktType == PacketKind.Outgoing ? FrameDirection.Out : FrameDirection.In, skb.PktType,
                        ImmutableArray.Create(skb.Data.Span)));
            });
            Receive<PackChanged>(_ => { });
        }
    }
}

/// <summary>An event-stream subscription of the kit: the events of type <typeparamref name="TEvent"/> from now on, each with its simulated time.</summary>
public abstract class StreamProbe<TEvent>
{
    private readonly List<(TimeSpan At, TEvent Event)> _events = new();
    private readonly IActorRef _listener;
    private readonly StackKit _kit;

    internal StreamProbe(StackKit kit)
    {
        _kit = kit;
        _listener = kit.System.ActorOf(Props.Create(() => new Listener(this, kit)));
        kit.System.EventStream.Subscribe(_listener, typeof(TEvent));
        kit.Driver.RunIdle();
    }

    /// <summary>Every event so far, with the simulated time since the workloads started (the fault schedule's clock).</summary>
    public IReadOnlyList<(TimeSpan At, TEvent Event)> Events => _events;

    public void Clear() => _events.Clear();

    /// <summary>Stops listening.</summary>
    public void Remove()
    {
        _kit.System.EventStream.Unsubscribe(_listener);
        _kit.System.Stop(_listener);
        _kit.Driver.RunIdle();
    }

    private sealed class Listener : ReceiveActor
    {
        public Listener(StreamProbe<TEvent> probe, StackKit kit) => Receive<TEvent>(e => probe._events.Add((kit.Elapsed, e)));
    }
}

/// <summary><c>ip monitor link</c> on every host: a <see cref="RtnlLinkEvent"/> per carrier, admin or operstate change.</summary>
public sealed class LinkProbe : StreamProbe<RtnlLinkEvent>
{
    internal LinkProbe(StackKit kit) : base(kit) { }

    /// <summary>The events as lines "HOST: IP-MONITOR-LINE", in order.</summary>
    public IReadOnlyList<string> Lines => Events.Select(e => $"{e.Event.Host}: {e.Event.Line}").ToList();
}

/// <summary>The fault schedule's actions and their outcomes (<see cref="FaultScheduleEvent"/>), as the CLI prints them.</summary>
public sealed class FaultProbe : StreamProbe<FaultScheduleEvent>
{
    internal FaultProbe(StackKit kit) : base(kit) { }

    public IReadOnlyList<string> Lines => Events.Select(e => e.Event.ToString()).ToList();
}

/// <summary>What the applications print (ping, traceroute, the UDP echo client): <see cref="WorkloadOutput"/>.</summary>
public sealed class OutputProbe : StreamProbe<WorkloadOutput>
{
    internal OutputProbe(StackKit kit) : base(kit) { }

    public IReadOnlyList<string> Lines => Events.Select(e => e.Event.ToString()).ToList();
}

/// <summary>A drop as it happened: the simulated instant (since virtual 0, as <see cref="CapturedFrame.At"/>), the host, dropwatch's reason and place, and how many packets.</summary>
public sealed record DropEvent(TimeSpan At, string Host, DropReason Reason, string Location, long Packets)
{
    public override string ToString() => $"+{At.TotalSeconds:0.000000000}s {Host}: {Packets} x {Reason} at {Location}";
}

/// <summary>
/// Drops as they happen (the kernel's <c>kfree_skb</c> tracepoint, as dropwatch reports it): after every simulated
/// instant the kit runs, the hosts' drop tables are compared with the instant before, and each increase is an event.
/// </summary>
public sealed class DropProbe : IInstantObserver
{
    private readonly List<DropEvent> _events = new();
    private readonly List<(string Host, DropMonitor Monitor)> _monitors;
    private readonly Dictionary<(string, DropSite), long> _last = new();
    private readonly StackKit _kit;

    internal DropProbe(StackKit kit, IReadOnlyList<HostView> hosts)
    {
        _kit = kit;
        _monitors = hosts.Select(h => (h.Name, NamespaceOf(h).Drops)).ToList();
        foreach (var (host, m) in _monitors)
            foreach (var d in m.Snapshot()) _last[(host, d.Site)] = d.Packets;
        kit.Driver.AddObserver(this);
    }

    // ActorCell.Actor is internal to Akka (Akka.TestKit's TestActorRef reads it the same way).
    private static readonly System.Reflection.PropertyInfo? CellActor =
        typeof(ActorCell).GetProperty("Actor", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic);

    /// <summary>
    /// The host's <see cref="NetNamespace"/>: its drop monitor is shared state written with Interlocked by the host's
    /// actors and read here as dropwatch reads the kernel's, without a message (so probing adds no event to the run).
    /// </summary>
    private static NetNamespace NamespaceOf(HostView h)
        => h.Ref is ActorRefWithCell { Underlying: ActorCell cell } && CellActor?.GetValue(cell) is HostActor actor ? actor.Namespace
            : throw new InvalidOperationException($"{h.Name}: the host's actor is not local (a drop probe reads its namespace in process)");

    public IReadOnlyList<DropEvent> Events => _events;

    /// <summary>The drops of <paramref name="reason"/> so far.</summary>
    public long Count(DropReason reason) => _events.Where(e => e.Reason == reason).Sum(e => e.Packets);

    public void Clear() => _events.Clear();

    public void Remove() => _kit.Driver.RemoveObserver(this);

    void IInstantObserver.AfterInstant(TimeSpan now)
    {
        foreach (var (host, m) in _monitors)
            foreach (var d in m.Snapshot())
            {
                long before = _last.GetValueOrDefault((host, d.Site));
                if (d.Packets == before) continue;
                _last[(host, d.Site)] = d.Packets;
                _events.Add(new DropEvent(now, host, d.Site.Reason, d.Site.Location, d.Packets - before));
            }
    }
}
