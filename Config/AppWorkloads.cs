using ActorStack.Messages.Packets;

namespace ActorStack.Config;

/// <summary>
/// <c>ping -c COUNT -i INTERVAL -s SIZE -t TTL [-W TIMEOUT] [-w DEADLINE] DEST</c> from a host: ICMP echo requests
/// from a raw ICMP socket, printed as iputils ping prints them (one line per reply or error, then the summary).
/// </summary>
public sealed record PingSettings(string Host, Ipv4Address Destination, int Count = 4, TimeSpan Interval = default,
    int Size = 56, int Ttl = 64, TimeSpan Timeout = default, TimeSpan Deadline = default) : WorkloadSettings(Host)
{
    public TimeSpan Interval { get; init; } = Interval == default ? TimeSpan.FromSeconds(1) : Interval;
    /// <summary><c>-W</c>: how long to wait for the last reply when none has come yet (after some reply, ping waits
    /// twice the longest round trip, at least one interval).</summary>
    public TimeSpan Timeout { get; init; } = Timeout == default ? TimeSpan.FromSeconds(2) : Timeout;
    /// <summary><c>-w</c>: ping ends this long after it started, whatever was sent or received; with a count, it no
    /// longer stops after the last probe but waits for COUNT answers until then. Zero: no deadline.</summary>
    public TimeSpan Deadline { get; init; } = Deadline;
    /// <summary><c>-q</c>: quiet output, only the header and the summary are printed (and kept for the status), no
    /// line per reply or error; the statistics are the same. A long-running ping then keeps no growing output.</summary>
    public bool Quiet { get; init; }
}

/// <summary>
/// <c>traceroute -m MAX_HOPS -q QUERIES -w WAIT -p PORT DEST</c>: UDP probes with rising TTL (port 33434 upward),
/// answers read from a raw ICMP socket (time exceeded from each router, port unreachable from the destination).
/// </summary>
public sealed record TracerouteSettings(string Host, Ipv4Address Destination, int MaxHops = 30, int Queries = 3,
    TimeSpan Wait = default, ushort Port = 33434, int PacketLength = 60) : WorkloadSettings(Host)
{
    public TimeSpan Wait { get; init; } = Wait == default ? TimeSpan.FromSeconds(5) : Wait;
}

/// <summary>A UDP echo server (RFC 862): every datagram received on <paramref name="Port"/> is sent back to its sender.</summary>
public sealed record UdpEchoServerSettings(string Host, Ipv4Address Address, ushort Port) : WorkloadSettings(Host);

/// <summary>
/// A UDP echo client: <paramref name="Count"/> datagrams of <paramref name="Size"/> bytes to the server, one every
/// <paramref name="Interval"/> (zero: the next as soon as the previous answer came, request/response), reporting
/// answers, losses and round-trip times.
/// </summary>
public sealed record UdpEchoClientSettings(string Host, Ipv4Address Server, ushort Port, int Count = 10, int Size = 64,
    TimeSpan Interval = default, TimeSpan Timeout = default) : WorkloadSettings(Host)
{
    public TimeSpan Timeout { get; init; } = Timeout == default ? TimeSpan.FromSeconds(1) : Timeout;
}

/// <summary>Congestion control a TCP workload asks for (<c>TCP_CONGESTION</c>, iperf3 <c>-C</c>).</summary>
public enum TcpCongestion { Cubic, Reno }

/// <summary>An iperf3-like bulk server (<c>iperf3 -s</c>): accepts connections on <paramref name="Port"/> and counts what it reads.</summary>
public sealed record TcpBulkServerSettings(string Host, Ipv4Address Address, ushort Port) : WorkloadSettings(Host);

/// <summary>
/// An iperf3-like bulk client (<c>iperf3 -c SERVER -n BYTES | -t TIME -i INTERVAL [-R] [-P N] [-C cc] [-N]</c>):
/// <paramref name="Parallel"/> connections each send <paramref name="Bytes"/> bytes (or for <paramref name="Time"/> when
/// Bytes is 0); with <paramref name="Reverse"/> the server sends and the client reads. Interval lines every
/// <paramref name="Interval"/>, then the sender/receiver summary.
/// </summary>
public sealed record TcpBulkClientSettings(string Host, Ipv4Address Server, ushort Port, long Bytes = 0, TimeSpan Time = default,
    TimeSpan Interval = default, bool Reverse = false, int Parallel = 1, TcpCongestion Congestion = TcpCongestion.Cubic,
    bool NoDelay = false) : WorkloadSettings(Host)
{
    /// <summary>iperf3's default length of a test when no byte count is given: 10 s.</summary>
    public TimeSpan Time { get; init; } = Time == default && Bytes == 0 ? TimeSpan.FromSeconds(10) : Time;
    public TimeSpan Interval { get; init; } = Interval == default ? TimeSpan.FromSeconds(1) : Interval;
    /// <summary>Seed of the deterministic payload whose SHA-256 both ends report.</summary>
    public int PayloadSeed { get; init; } = 1;
}

/// <summary>A netperf TCP_RR-like server: on each accepted connection reads requests and answers each with a response.</summary>
public sealed record TcpRrServerSettings(string Host, Ipv4Address Address, ushort Port, int Request = 1, int Response = 1)
    : WorkloadSettings(Host);

/// <summary>
/// A netperf TCP_RR-like client: <paramref name="Connections"/> connections, each sending a <paramref name="Request"/>-byte
/// request and waiting for the <paramref name="Response"/>-byte answer, <paramref name="Count"/> transactions in all (or
/// for <paramref name="Time"/> when Count is 0); reports transactions/s and latency min/avg/p50/p99/max.
/// </summary>
public sealed record TcpRrClientSettings(string Host, Ipv4Address Server, ushort Port, int Request = 1, int Response = 1,
    long Count = 0, TimeSpan Time = default, int Connections = 1) : WorkloadSettings(Host)
{
    public TimeSpan Time { get; init; } = Time == default && Count == 0 ? TimeSpan.FromSeconds(10) : Time;
}
