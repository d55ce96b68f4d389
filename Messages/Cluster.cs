using System.Collections.Immutable;

namespace ActorStack.Messages;

// One simulation over several partitions (Akka.Cluster nodes, or threads of one process): conservative synchronisation
// in windows no longer than the lookahead (README "Running over several nodes"). Every message here crosses nodes and
// has a binary serializer (Actors/Serialization/ClusterSerializer); none is JSON.

/// <summary>
/// One frame crossing from one partition to another: it left the sending half of wire <paramref name="Wire"/> (index in
/// <c>scenario.wires</c>) in <paramref name="Direction"/> and reaches the far end at <paramref name="ArrivalNs"/> (virtual
/// ns since time 0). <paramref name="Seq"/> numbers the frames of one wire and direction: (time, wire, direction, seq) is
/// the order of injection at the far partition, whatever node or thread delivered them.
/// </summary>
public sealed record CrossFrame(long ArrivalNs, int Wire, WireDirection Direction, long Seq, ReadOnlyMemory<byte> Frame) : IComparable<CrossFrame>
{
    public int CompareTo(CrossFrame? other)
    {
        if (other is null) return 1;
        int c = ArrivalNs.CompareTo(other.ArrivalNs);
        if (c == 0) c = Wire.CompareTo(other.Wire);
        if (c == 0) c = Direction.CompareTo(other.Direction);
        return c != 0 ? c : Seq.CompareTo(other.Seq);
    }
}

/// <summary>
/// A worker node's greeting to the coordinator (and the coordinator's to a worker): its name, a hash of its build and
/// of the scenario it would run. A mismatch is refused on both sides (<see cref="NodeRefused"/>).
/// </summary>
public sealed record NodeHello(string Node, string BuildHash, string ScenarioHash);

/// <summary>The coordinator accepted a node (<paramref name="Accepted"/>) or refused it with <paramref name="Reason"/>.</summary>
public sealed record NodeRefused(string Node, string Reason);

/// <summary>The coordinator accepted <paramref name="Node"/>; it will place its partition with <see cref="PlacePartition"/>.</summary>
public sealed record NodeAccepted(string Node);

/// <summary>
/// Builds partition <paramref name="Node"/> of the scenario <paramref name="ConfigText"/> (the merged configuration) with
/// the placement <paramref name="Placement"/> (host or switch → node, sorted by name) and runs it until its servers are
/// bound; answered by <see cref="PartitionReady"/> or <see cref="CommandFailed"/>.
/// </summary>
public sealed record PlacePartition(string Node, string ConfigText, ImmutableArray<KeyValuePair<string, string>> Placement)
{
    /// <summary>On the real clock (<c>run --clock real</c>): no windows; the partition starts with <see cref="StartRealPartition"/>.</summary>
    public bool RealClock { get; init; }
}

/// <summary>
/// The real clock: every partition is placed and listens; start the workloads now. <paramref name="Peers"/>: every
/// partition's agent by node (the receiver's own included), to which the frames of the split wires go at once
/// (<see cref="CrossFrames"/>). Answered by <see cref="PartitionReady"/>.
/// </summary>
public sealed record StartRealPartition(ImmutableArray<KeyValuePair<string, Akka.Actor.IActorRef>> Peers);

/// <summary>
/// The real clock: frames that left the partition of node <paramref name="From"/> on split wires; the receiving partition
/// delivers each after its wire's delay, and answers with <see cref="CrossAck"/>.
/// </summary>
public sealed record CrossFrames(string From, ImmutableArray<CrossFrame> Frames);

/// <summary>The real clock: node <paramref name="From"/> has received <paramref name="Received"/> frames from the receiver so far.</summary>
public sealed record CrossAck(string From, long Received);

// The real clock inside one node: the partition's hooks and scheduler tell its agent, which runs the crossing on its own
// thread (never told across nodes).

/// <summary>A frame left the local half of split wire <paramref name="Wire"/> in <paramref name="Direction"/>, for the far node.</summary>
public sealed record RealEgress(int Wire, WireDirection Direction, ReadOnlyMemory<byte> Frame);

/// <summary>A frame from another node entered wire <paramref name="Wire"/> here at <paramref name="EnteredNs"/> and its delay has passed.</summary>
public sealed record RealArrival(int Wire, WireDirection Direction, long EnteredNs, ReadOnlyMemory<byte> Frame);

/// <summary>The fault schedule cut split wire <paramref name="Wire"/> here at <paramref name="AtNs"/> (the partition's clock).</summary>
public sealed record RealHalfCut(int Wire, long AtNs);

/// <summary>A node lost during a real-clock run, <paramref name="At"/> after the workloads started (<paramref name="Detail"/>: unreachable, removed).</summary>
public sealed record NodeLoss(string Node, TimeSpan At, string Detail);

/// <summary>The partition is built and its servers listen, at virtual <paramref name="ReadyNs"/>.</summary>
public sealed record PartitionReady(string Node, long ReadyNs);

/// <summary>
/// The workloads start at <paramref name="StartNs"/> (the latest <see cref="PartitionReady"/>); then the partition runs
/// every event before <paramref name="EndNs"/> after injecting <paramref name="Inbound"/> (frames from other partitions,
/// each due at or after the window's start); answered by <see cref="WindowDone"/>.
/// </summary>
public sealed record RunWindow(long Window, long StartNs, long EndNs, ImmutableArray<CrossFrame> Inbound);

/// <summary>
/// A window ran: the frames that left this partition (<paramref name="Outbound"/>, each due at or after the window's end),
/// the earliest event still queued (<paramref name="NextDueNs"/>, or long.MaxValue), events executed in the window, and the
/// wall time the window took on the node (<see cref="WallNs"/>, for the synchronisation's cost; not part of the results).
/// </summary>
public sealed record WindowDone(string Node, long Window, ImmutableArray<CrossFrame> Outbound, long NextDueNs, long Events)
{
    public long WallNs { get; init; }
}

/// <summary>
/// The peer <paramref name="LostNode"/> left the run (unreachable, then downed) at virtual <paramref name="AtNs"/>: every
/// wire to it goes carrier-down at this partition's end; <paramref name="InFlight"/> frames that were on their way to this
/// partition from it are counted as SIM_NODE_LOST. Answered by <see cref="WindowDone"/> for window -1.
/// </summary>
public sealed record PeerLost(string LostNode, long AtNs, long InFlight);

/// <summary>
/// Asks a partition for its hosts' counters; answered by <see cref="PartitionCounters"/>. Page 0 gathers them (and ends
/// the partition) and answers the first page; while an answer says <see cref="PartitionCounters.More"/>, page
/// <see cref="Page"/> + 1 follows: a big partition's counters and report do not fit in one remote message (100,000 hosts'
/// reports are gigabytes), so each page carries at most <see cref="PageSize"/> elements of each list.
/// </summary>
public sealed record CollectCounters
{
    public static readonly CollectCounters Instance = new();
    /// <summary>Elements of each list (hosts' counters, host, switch, wire, workload and capture reports) per page.</summary>
    public const int PageSize = 256;
    public int Page { get; init; }
}

/// <summary>
/// The counters of a partition's hosts, one canonical text per host (<c>CounterText</c>: every MIB counter, device
/// counter, softnet row and drop table entry), and its cross-node drops by reason.
/// </summary>
public sealed record PartitionCounters(string Node, ImmutableArray<KeyValuePair<string, string>> Hosts,
    ImmutableArray<KeyValuePair<string, long>> CrossDrops, ImmutableArray<KeyValuePair<string, string>> Files)
{
    /// <summary>What the end-of-run report needs from this partition; null from a partition that could not gather it.</summary>
    public PartitionReport? Report { get; init; }
    /// <summary>This partition's parts of the <c>device = all</c> capture points, which the coordinator merges.</summary>
    public ImmutableArray<CapturePart> CaptureParts { get; init; } = [];
    /// <summary>This is one page of the partition's counters and more follow (<see cref="CollectCounters.Page"/>).</summary>
    public bool More { get; init; }
}

/// <summary>
/// What one partition captured of <c>device = all</c> point <paramref name="Point"/>: the bytes of its part file (a whole
/// pcap or pcapng file: its hosts' devices, its wire halves' events), or, when it was too big to send, none and the part
/// stays at <paramref name="Path"/> on that node.
/// </summary>
public sealed record CapturePart(int Point, string Path, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// To a partition's <c>SimulationActor</c>: every partition's servers listen, start the clients and generators now (the
/// same instant on every partition); answered by <see cref="SimulationStarted"/>.
/// </summary>
public sealed record StartPartitionWorkloads
{
    public static readonly StartPartitionWorkloads Instance = new();
}

/// <summary>
/// What the end-of-run report (<c>run</c>'s tables) needs from one partition, gathered there with the same questions in the
/// same order as a single-node run asks them: per local host its stats, netfilter counts, neighbours and TCP sockets; per
/// local switch its counters and forwarding table; per wire what this partition saw of it; every local workload's status;
/// every local capture's flush. Crosses nodes once, at the end of the run (nested in <see cref="PartitionCounters.Report"/>).
/// </summary>
public sealed record PartitionReport(string Node, ImmutableArray<HostReport> Hosts, ImmutableArray<SwitchReport> Switches,
    ImmutableArray<WireReport> Wires, ImmutableArray<AppReport> Apps, ImmutableArray<CaptureReport> Captures);

/// <summary>Capture point <paramref name="Point"/> (index in <c>scenario.capture</c>'s points) flushed its file here.</summary>
public sealed record CaptureReport(int Point, CaptureFlushed Flushed);

/// <summary>One host's report: <c>ip -s link</c>, <c>tc</c>, softnet, SNMP, drops and UDP sockets (<paramref name="Stats"/>), <c>iptables -v</c>, <c>ip neigh</c>, <c>ss -t</c>.</summary>
public sealed record HostReport(string Host, HostStats Stats, NfRules Netfilter, NeighbourList Neighbours, ImmutableArray<TcpSocketInfo> Tcp);

/// <summary>One switch's report: its counters and <c>bridge fdb show</c>.</summary>
public sealed record SwitchReport(string Switch, SwitchStatsSnapshot Stats, SwitchFdb Fdb);

/// <summary>
/// What one partition saw of wire <paramref name="Wire"/> (index in <c>scenario.wires</c>): the whole wire's stats when it
/// runs whole here (<paramref name="Whole"/>); for a split wire, one direction: sent from here (<paramref name="Sent"/>, the
/// local half's channel, every frame handed to the crossing counted delivered) or arriving here (<paramref name="Arrived"/>
/// frames delivered to the local end, <paramref name="LostAtCut"/> dropped because the cable was cut while they crossed).
/// </summary>
public sealed record WireReport(int Wire, WireStats? Whole, WireDirection Direction, WireDirectionStats? Sent, long Arrived, long LostAtCut);

/// <summary>The kind of an application line of the report, in the report's order: socket readers, applications, pktgen.</summary>
public enum AppReportKind
{
    Sink,
    App,
    Pktgen,
}

/// <summary>A workload's status (<c>SinkStatus</c>, <c>PingStatus</c>, …, <c>PktgenStatus</c>) with its position in the scenario's workloads.</summary>
public sealed record AppReport(AppReportKind Kind, int Workload, object Status);
