using ActorStack.Messages.Packets;

namespace ActorStack.Config;

/// <summary>
/// <c>ping -c COUNT -i INTERVAL -s SIZE -t TTL [-W TIMEOUT] DEST</c> from a host: ICMP echo requests from a raw
/// ICMP socket, printed as iputils ping prints them (one line per reply or error, then the summary).
/// </summary>
public sealed record PingSettings(string Host, Ipv4Address Destination, int Count = 4, TimeSpan Interval = default,
    int Size = 56, int Ttl = 64, TimeSpan Timeout = default) : WorkloadSettings(Host)
{
    public TimeSpan Interval { get; init; } = Interval == default ? TimeSpan.FromSeconds(1) : Interval;
    /// <summary><c>-W</c>: how long to wait for the last reply.</summary>
    public TimeSpan Timeout { get; init; } = Timeout == default ? TimeSpan.FromSeconds(2) : Timeout;
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
