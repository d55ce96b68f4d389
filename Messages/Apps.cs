using System.Collections.Immutable;
using ActorStack.Messages.Packets;
using Akka.Actor;
using ActorStack.Messages;

namespace ActorStack.Messages;

/// <summary>
/// One line an application workload prints on its standard output (ping, traceroute, the UDP echo client),
/// published on the actor system's event stream and told to the workload's subscriber, in print order.
/// </summary>
public sealed record WorkloadOutput(string Host, string Workload, string Line)
{
    public override string ToString() => $"{Host}/{Workload}: {Line}";
}

/// <summary>
/// A ping workload's report (answer to <see cref="GetWorkloadStatus"/>; also told to the subscriber once when
/// it is <see cref="Done"/>). Counters use iputils' names: ntransmitted, nreceived, nerrors, nrepeats, nchecksum.
/// RTTs in microseconds as iputils keeps them.
/// </summary>
public sealed record PingStatus(string Host, Ipv4Address Destination, ImmutableArray<string> Lines, long Transmitted,
    long Received, long Errors, long Duplicates, long Corrupted, long RttMinUs, long RttAvgUs, long RttMaxUs, long RttMdevUs,
    bool Done)
{
    public override string ToString() =>
        $"PingStatus({Host} -> {Destination}: {Transmitted} sent, {Received} received, {Errors} errors, done={Done})";
}

/// <summary>One probe of a traceroute hop: who answered (null: no answer within the wait, printed <c>*</c>),
/// the round-trip time, and traceroute's annotation (<c>!H</c>, <c>!N</c>, <c>!P</c>, <c>!X</c>, <c>!F-mtu</c>, ...).</summary>
public sealed record TracerouteProbe(Ipv4Address? From, long RttTicks, string Annotation = "");

public sealed record TracerouteHop(int Ttl, ImmutableArray<TracerouteProbe> Probes);

/// <summary>A traceroute workload's report: the printed lines, the finished hops, and whether the destination answered.</summary>
public sealed record TracerouteStatus(string Host, Ipv4Address Destination, ImmutableArray<string> Lines,
    ImmutableArray<TracerouteHop> Hops, bool Reached, bool Done)
{
    public override string ToString() => $"TracerouteStatus({Host} -> {Destination}: {Hops.Length} hops, reached={Reached}, done={Done})";
}

/// <summary>A UDP echo server's report: datagrams read, echoed back, and sends that failed (by errno).</summary>
public sealed record UdpEchoServerStatus(string Host, string Bind, long Datagrams, long Bytes, long Echoed, long SendErrors,
    bool Ready);

/// <summary>
/// A UDP echo client's report. <see cref="Answered"/> counts answers equal byte for byte to the request;
/// <see cref="Mismatched"/> answers that differ; <see cref="Lost"/> requests not answered within the timeout;
/// <see cref="Late"/> answers that came after their request was counted lost. RTTs in scheduler ticks (100 ns).
/// </summary>
public sealed record UdpEchoClientStatus(string Host, Ipv4Address Server, ushort Port, long Sent, long Answered, long Lost,
    long Late, long Mismatched, long SendErrors, long RttMinTicks, long RttAvgTicks, long RttMaxTicks,
    long RttMedianTicks, bool Done)
{
    public override string ToString() =>
        $"UdpEchoClientStatus({Host} -> {Server}:{Port}: {Sent} sent, {Answered} answered, {Lost} lost, done={Done})";
}

/// <summary>A TCP server workload's status: ready once listening; connections accepted, payload bytes read and sent, transactions answered.</summary>
public sealed record TcpServerStatus(string Host, string Workload, string Bind, bool Ready, long Accepted, long BytesRead, long BytesSent,
    long Transactions, long Errors);

/// <summary>
/// A bulk client's status: per test totals (payload bytes the client sent or read, what the receiver reported, the sending
/// sockets' retransmissions), whether every stream's SHA-256 matched on both ends, errors, done once the summary is printed.
/// </summary>
public sealed record TcpBulkClientStatus(string Host, Ipv4Address Server, ushort Port, int Streams, long BytesSent, long BytesReceived,
    long Retransmits, bool ChecksumsMatch, int Errors, bool Done);

/// <summary>An RR client's status: transactions completed, their rate over the test time and latency in scheduler ticks.</summary>
public sealed record TcpRrClientStatus(string Host, Ipv4Address Server, ushort Port, int Connections, long Transactions, double PerSecond,
    long LatencyMinTicks, double LatencyAvgTicks, long LatencyP50Ticks, long LatencyP99Ticks, long LatencyMaxTicks, int Errors, bool Done);

/// <summary>Asks a host for its TCP socket actors (for <c>ss -t</c>); answered by <see cref="TcpSocketList"/>.</summary>
public sealed record GetTcpSockets
{
    public static readonly GetTcpSockets Instance = new();
}

public sealed record TcpSocketList(ImmutableArray<IActorRef> Sockets);
