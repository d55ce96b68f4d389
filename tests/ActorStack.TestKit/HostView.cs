using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Testing;

/// <summary>
/// One host of a running scenario: its counters by their Linux names (<c>/proc/net/snmp</c> and <c>netstat</c> MIBs,
/// <c>/proc/net/softnet_stat</c>, <c>ip -s link</c>, dropwatch), assertions on them whose failure names the counter and
/// both values, sockets created on it, and taps on its devices. Every read is a fresh snapshot taken at the current
/// simulated instant (<see cref="GetStats"/>), after everything due now has run.
/// </summary>
public sealed class HostView
{
    private ImmutableDictionary<string, IActorRef>? _devices;

    internal HostView(StackKit kit, string name, IActorRef host)
    {
        Kit = kit;
        Name = name;
        Ref = host;
    }

    public StackKit Kit { get; }
    public string Name { get; }

    /// <summary>The host's actor (its network namespace): sockets are created and commands given here.</summary>
    public IActorRef Ref { get; }

    /// <summary>Every counter of the host, now.</summary>
    public HostStats Stats() => Kit.Ask<HostStats>(Ref, GetStats.Instance);

    /// <summary>A device's driver actor (the NIC), e.g. to feed frames to it.</summary>
    public IActorRef Device(string name)
    {
        _devices ??= Kit.Ask<HostDevices>(Ref, GetHostDevices.Instance).Devices;
        return _devices.TryGetValue(name, out var d) ? d
            : throw new ArgumentException($"{Name} has no device {name} (known: {string.Join(", ", _devices.Keys.Order(StringComparer.Ordinal))})", nameof(name));
    }

    /// <summary>A MIB counter as <c>nstat</c> names it: <c>Mib("Udp", "InDatagrams")</c>, <c>Mib("TcpExt", "TCPTimeouts")</c>.</summary>
    public long Mib(string mib, string counter) => CounterValue(Stats(), mib, counter);

    internal long CounterValue(HostStats s, string mib, string counter)
    {
        var m = s.Snmp.FirstOrDefault(x => x.Name == mib)
                ?? throw new ArgumentException($"{Name}: no MIB {mib} (known: {string.Join(", ", s.Snmp.Select(x => x.Name))})", nameof(mib));
        foreach (var c in m.Counters)
            if (c.Key == counter) return c.Value;
        throw new ArgumentException($"{Name}: {mib} has no counter {counter} (known: {string.Join(", ", m.Counters.Select(c => c.Key))})", nameof(counter));
    }

    /// <summary>Fails unless the MIB counter is <paramref name="expected"/>: "b: Udp InDatagrams = 9, expected 10".</summary>
    public void AssertMib(string mib, string counter, long expected)
    {
        long actual = Mib(mib, counter);
        if (actual != expected) throw new StackAssertionException($"{Name}: {mib} {counter} = {actual}, expected {expected}");
    }

    /// <summary>The columns of <c>/proc/net/softnet_stat</c> by the kernel's names (<c>softnet_seq_show</c>).</summary>
    public static readonly ImmutableArray<string> SoftnetColumns =
        ["processed", "dropped", "time_squeeze", "received_rps", "flow_limit_count", "backlog_len", "input_qlen", "process_qlen"];

    /// <summary>A column of CPU <paramref name="cpu"/>'s line of <c>/proc/net/softnet_stat</c> (see <see cref="SoftnetColumns"/>).</summary>
    public long Softnet(int cpu, string column)
    {
        var s = Stats();
        var line = s.Softnet.FirstOrDefault(x => x.Cpu == cpu)
                   ?? throw new ArgumentOutOfRangeException(nameof(cpu), cpu, $"{Name} has CPUs {string.Join(", ", s.Softnet.Select(x => x.Cpu))}");
        return column switch
        {
            "processed" => line.Processed,
            "dropped" => line.Dropped,
            "time_squeeze" => line.TimeSqueeze,
            "received_rps" => line.ReceivedRps,
            "flow_limit_count" => line.FlowLimitCount,
            "backlog_len" => line.BacklogLen,
            "input_qlen" => line.InputQlen,
            "process_qlen" => line.ProcessQlen,
            _ => throw new ArgumentException($"softnet_stat has no column {column} (known: {string.Join(", ", SoftnetColumns)})", nameof(column)),
        };
    }

    /// <summary>Fails unless the softnet_stat column is <paramref name="expected"/>: "b: softnet_stat cpu0 dropped = 3, expected 0".</summary>
    public void AssertSoftnet(int cpu, string column, long expected)
    {
        long actual = Softnet(cpu, column);
        if (actual != expected) throw new StackAssertionException($"{Name}: softnet_stat cpu{cpu} {column} = {actual}, expected {expected}");
    }

    /// <summary>The counters of <c>ip -s -s link</c> by their <c>rtnl_link_stats64</c> names.</summary>
    public static readonly ImmutableArray<string> LinkCounterNames =
        ["rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "rx_missed_errors", "rx_fifo_errors", "rx_length_errors", "rx_crc_errors",
         "rx_nohandler", "multicast", "tx_bytes", "tx_packets", "tx_errors", "tx_dropped", "tx_carrier_errors", "collisions",
         "carrier_up_count", "carrier_down_count"];

    /// <summary>A device counter of <c>ip -s -s link show DEV</c> (see <see cref="LinkCounterNames"/>).</summary>
    public long Link(string device, string counter)
    {
        var s = Stats();
        var d = s.Devices.FirstOrDefault(x => x.Name == device)
                ?? throw new ArgumentException($"{Name} has no device {device} (known: {string.Join(", ", s.Devices.Select(x => x.Name))})", nameof(device));
        var c = d.Counters;
        return counter switch
        {
            "rx_bytes" => c.RxBytes, "rx_packets" => c.RxPackets, "rx_errors" => c.RxErrors, "rx_dropped" => c.RxDropped,
            "rx_missed_errors" => c.RxMissedErrors, "rx_fifo_errors" => c.RxFifoErrors, "rx_length_errors" => c.RxLengthErrors,
            "rx_crc_errors" => c.RxCrcErrors, "rx_nohandler" => c.RxNohandler, "multicast" => c.Multicast,
            "tx_bytes" => c.TxBytes, "tx_packets" => c.TxPackets, "tx_errors" => c.TxErrors, "tx_dropped" => c.TxDropped,
            "tx_carrier_errors" => c.TxCarrierErrors, "collisions" => c.Collisions,
            "carrier_up_count" => c.CarrierUpCount, "carrier_down_count" => c.CarrierDownCount,
            _ => throw new ArgumentException($"ip -s link has no counter {counter} (known: {string.Join(", ", LinkCounterNames)})", nameof(counter)),
        };
    }

    /// <summary>Fails unless the device counter is <paramref name="expected"/>: "b: eth0 rx_missed_errors = 2, expected 0".</summary>
    public void AssertLink(string device, string counter, long expected)
    {
        long actual = Link(device, counter);
        if (actual != expected) throw new StackAssertionException($"{Name}: {device} {counter} = {actual}, expected {expected}");
    }

    /// <summary>Packets dropped for <paramref name="reason"/> (at <paramref name="location"/>, or anywhere), as dropwatch counts them.</summary>
    public long Drops(DropReason reason, string? location = null)
        => Stats().Drops.Where(d => d.Site.Reason == reason && (location is null || d.Site.Location == location)).Sum(d => d.Packets);

    /// <summary>Fails unless the drops for <paramref name="reason"/> are <paramref name="expected"/>, listing every drop of the host.</summary>
    public void AssertDrops(DropReason reason, long expected, string? location = null)
    {
        var s = Stats();
        long actual = s.Drops.Where(d => d.Site.Reason == reason && (location is null || d.Site.Location == location)).Sum(d => d.Packets);
        if (actual != expected)
            throw new StackAssertionException($"{Name}: drops {reason}{(location is null ? "" : $" at {location}")} = {actual}, expected {expected} " +
                                              $"(all drops: {(s.Drops.IsEmpty ? "none" : string.Join(", ", s.Drops.Select(d => $"{d.Site.Reason} at {d.Site.Location}={d.Packets}")))})");
    }

    /// <summary><c>socket(AF_INET, SOCK_DGRAM, 0)</c> on this host.</summary>
    public UdpSocket Udp() => new(this, Create(SockType.Dgram));

    /// <summary><c>socket(AF_INET, SOCK_STREAM, 0)</c> on this host.</summary>
    public TcpSocket Tcp() => new(this, Create(SockType.Stream));

    private IActorRef Create(SockType type)
    {
        var created = Kit.Ask<object>(Ref, new SocketCreate(type)) switch
        {
            SocketCreated c => c.Socket,
            CommandFailed f => throw new StackAssertionException($"{Name}: socket({type}) failed: {f.Error} {f.Detail}"),
            var r => throw new StackAssertionException($"{Name}: socket({type}) answered {r}"),
        };
        Kit.Driver.RunIdle(); // started: PreStart registered it
        return created;
    }

    /// <summary>
    /// A <c>ptype_all</c> tap on <paramref name="device"/> (every device if null): frames the host receives and sends,
    /// from now on, as tcpdump sees them (<see cref="FrameProbe"/>).
    /// </summary>
    public FrameProbe Frames(string? device = null) => new(this, device);

    /// <summary>
    /// Registers <paramref name="handler"/> (e.g. an Akka.TestKit probe) as a <c>ptype_all</c> tap (<c>dev_add_pack</c>):
    /// it receives <see cref="SkbBatch"/> messages with a copy of each frame, and a <see cref="PackChanged"/> once registered.
    /// </summary>
    public void AddPacketTap(IActorRef handler, string? device = null)
    {
        Ref.Tell(new DevAddPack(new PacketTypeRegistration(EtherType.All, handler, device)), handler);
        Kit.Driver.RunIdle();
    }

    /// <summary><c>ip link set dev DEV up|down</c>; returns the errno (OK when done).</summary>
    public Errno SetLink(string device, bool up) => Kit.Ask<object>(Ref, new LinkSetAdmin(device, up)) switch
    {
        LinkAdminSet => Errno.OK,
        CommandFailed f => f.Error,
        var r => throw new StackAssertionException($"{Name}: ip link set {device}: answered {r}"),
    };

    /// <summary>
    /// The host's non-zero counters in one block: per device <c>ip -s link</c> and qdisc, <c>softnet_stat</c>, every
    /// SNMP MIB, drop reasons (dropwatch) and sockets (queue, drops, reads): what to print when a test fails.
    /// </summary>
    public string Dump() => Dump(Stats());

    public static string Dump(HostStats s)
    {
        var sb = new StringBuilder($"== {s.Host}\n");
        foreach (var d in s.Devices)
        {
            var c = d.Counters;
            sb.Append($"  {d.Name}: rx {c.RxPackets} drop {c.RxDropped} missed {c.RxMissedErrors} fifo {c.RxFifoErrors}; tx {c.TxPackets} drop {c.TxDropped}; irqs [{string.Join(",", d.IrqsPerQueue)}]");
            if (d.Qdisc is { } q) sb.Append($"; qdisc sent {q.Packets} drop {q.Drops} requeues {q.Requeues} backlog {q.Backlog} stopped {q.TxQueueStopped} restart {q.TxRestartQueue}");
            sb.Append('\n');
        }
        foreach (var sd in s.Softnet)
            sb.Append($"  softnet cpu{sd.Cpu}: processed {sd.Processed} dropped {sd.Dropped} time_squeeze {sd.TimeSqueeze} rps {sd.ReceivedRps} input_qlen {sd.InputQlen} process_qlen {sd.ProcessQlen}\n");
        foreach (var m in s.Snmp)
        {
            var nz = m.Counters.Where(c => c.Value != 0).Select(c => $"{c.Key}={c.Value}").ToList();
            if (nz.Count > 0) sb.Append($"  {m.Name}: {string.Join(" ", nz)}\n");
        }
        foreach (var d in s.Drops) sb.Append($"  drop {d.Site.Reason} at {d.Site.Location}: {d.Packets}\n");
        foreach (var k in s.Sockets)
            sb.Append($"  sock {k.Type}/{k.Protocol} {k.LocalAddress}:{k.LocalPort}: queued {k.RecvQueueDatagrams} drops {k.Drops} read {k.DatagramsRead} sent {k.DatagramsSent} err {k.PendingError}\n");
        return sb.ToString();
    }

    public override string ToString() => Name;
}

/// <summary>One wire of a running scenario: its counters, conservation, and the commands a test gives a cable.</summary>
public sealed class WireView
{
    internal WireView(StackKit kit, string name, IActorRef wire)
    {
        Kit = kit;
        Name = name;
        Ref = wire;
    }

    public StackKit Kit { get; }

    /// <summary>"a/eth0-b/eth0", as <c>faults</c> and <c>schedule</c> name it.</summary>
    public string Name { get; }
    public IActorRef Ref { get; }

    public WireStats Stats() => Kit.Ask<WireStats>(Ref, GetWireStats.Instance);

    /// <summary>Cuts the cable: frames on it are dropped (<c>SIM_LINK_DOWN</c>), both ends lose carrier.</summary>
    public CableState Cut() => Kit.Ask<CableState>(Ref, CutCable.Instance);

    public CableState Restore() => Kit.Ask<CableState>(Ref, RestoreCable.Instance);

    /// <summary><c>tc qdisc change … netem OPTIONS</c> on one direction (null or "" removes it); the errno (EINVAL with tc's message on bad options).</summary>
    public Errno SetNetem(WireDirection direction, string? options)
    {
        NetemQopt? q = null;
        if (!string.IsNullOrWhiteSpace(options))
        {
            if (!Hardware.Netem.NetemParser.TryParse(options, out var parsed, out var error))
                throw new ArgumentException($"netem \"{options}\": {error}", nameof(options));
            q = parsed;
        }
        return Kit.Ask<object>(Ref, new SetNetem(direction, q)) switch
        {
            NetemSet => Errno.OK,
            CommandFailed f => f.Error,
            var r => throw new StackAssertionException($"wire {Name}: netem answered {r}"),
        };
    }

    /// <summary>Fails unless each direction balances: offered + duplicated = delivered + dropped by reason + in flight.</summary>
    public WireStats AssertConserved()
    {
        var s = Stats();
        if (Conservation.CheckWire(Name, s) is { } failure) throw new StackAssertionException(failure);
        return s;
    }

    public override string ToString() => Name;
}
