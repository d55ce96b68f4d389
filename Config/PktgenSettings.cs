using System.Globalization;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

/// <summary>
/// One pktgen device's parameters, named as Linux's <c>/proc/net/pktgen/&lt;dev&gt;</c> commands
/// (Documentation/networking/pktgen.rst). Validate with <see cref="Validate"/> before use;
/// <see cref="PktgenGenerator"/> assumes a valid record.
/// </summary>
public sealed record PktgenSettings
{
    /// <summary>Smallest frame the generator builds: ETH_ZLEN. (Linux accepts down to 42 and pads the payload up to <c>struct pktgen_hdr</c>.)</summary>
    public const int MinPktSize = 60;
    /// <summary>Largest frame: a 9000-byte MTU jumbo frame plus Ethernet header and a VLAN tag.</summary>
    public const int MaxPktSize = 9018;
    /// <summary>MAX_CFLOWS: the most flows Linux's pktgen tracks.</summary>
    public const int MaxFlows = 65536;

    /// <summary><c>count</c>: frames to send; 0 = send forever.</summary>
    public long Count { get; init; }

    /// <summary>
    /// <c>pkt_size</c>: frame length in bytes without the 4-byte FCS, from the Ethernet header on.
    /// The UDP payload is padded with zeros so that every frame is exactly this long.
    /// (Linux's default is 60; ActorStack uses the customary 64.)
    /// </summary>
    public int PktSize { get; init; } = 64;

    /// <summary><c>ratep</c>: frames per second; 0 = as fast as possible. Linux turns it into <c>delay</c> = NSEC_PER_SEC / ratep.</summary>
    public long RatePps { get; init; }

    /// <summary><c>flows</c>: number of concurrent flows (distinct 5-tuples).</summary>
    public int Flows { get; init; } = 1;

    /// <summary><c>flowlen</c>: frames sent on one flow before moving to the next; 1 = round-robin per frame.</summary>
    public int FlowLen { get; init; } = 1;

    /// <summary><c>src_mac</c>.</summary>
    public MacAddress SrcMac { get; init; } = MacAddress.Parse("02:00:00:00:00:01");
    /// <summary><c>dst_mac</c>.</summary>
    public MacAddress DstMac { get; init; } = MacAddress.Parse("02:00:00:00:00:02");

    /// <summary><c>src_min</c>: first IPv4 source address of the range.</summary>
    public Ipv4Address SrcMin { get; init; } = Ipv4Address.Parse("10.0.0.1");
    /// <summary><c>src_max</c>: last IPv4 source address of the range (inclusive).</summary>
    public Ipv4Address SrcMax { get; init; } = Ipv4Address.Parse("10.0.0.1");
    /// <summary><c>dst_min</c>: first IPv4 destination address of the range.</summary>
    public Ipv4Address DstMin { get; init; } = Ipv4Address.Parse("10.0.0.2");
    /// <summary><c>dst_max</c>: last IPv4 destination address of the range (inclusive).</summary>
    public Ipv4Address DstMax { get; init; } = Ipv4Address.Parse("10.0.0.2");

    /// <summary><c>udp_src_min</c> (Linux default 9).</summary>
    public ushort UdpSrcMin { get; init; } = 9;
    /// <summary><c>udp_src_max</c> (inclusive, Linux default 9).</summary>
    public ushort UdpSrcMax { get; init; } = 9;
    /// <summary><c>udp_dst_min</c> (Linux default 9, the discard port).</summary>
    public ushort UdpDstMin { get; init; } = 9;
    /// <summary><c>udp_dst_max</c> (inclusive, Linux default 9).</summary>
    public ushort UdpDstMax { get; init; } = 9;

    /// <summary><c>burst</c>: frames handed to the device per transmit call (<c>xmit_more</c> batching).</summary>
    public int Burst { get; init; } = 1;

    /// <summary>
    /// IPv4 TTL of every frame. Linux's pktgen writes a fixed 32 (<c>iph->ttl = 32</c> in
    /// <c>fill_packet_ipv4</c>) and has no command for it; ActorStack follows it (default 32) and lets a scenario change it.
    /// </summary>
    public byte Ttl { get; init; } = 32;

    /// <summary>
    /// Pick the next flow at random instead of in turn: Linux's default, turned off by its
    /// <c>FLOW_SEQ</c> flag. ActorStack defaults to sequential (FLOW_SEQ on) so runs are easy to read.
    /// </summary>
    public bool FlowRandom { get; init; }

    /// <summary>Seed of the PRNG used when <see cref="FlowRandom"/> is set.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Inter-frame gap for <see cref="RatePps"/> in nanoseconds (Linux <c>delay</c>); 0 when unlimited.</summary>
    public long DelayNanoseconds => RatePps > 0 ? 1_000_000_000L / RatePps : 0;

    /// <summary>
    /// Every out-of-range value as "key: problem (value)", keys in pktgen spelling. Empty when valid.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Count < 0) errors.Add($"count: must be >= 0 (got {Count})");
        if (PktSize < MinPktSize || PktSize > MaxPktSize)
            errors.Add($"pkt_size: must be between {MinPktSize} and {MaxPktSize} (got {PktSize})");
        if (RatePps < 0) errors.Add($"ratep: must be >= 0 (got {RatePps})");
        if (Flows < 1 || Flows > MaxFlows) errors.Add($"flows: must be between 1 and {MaxFlows} (got {Flows})");
        if (FlowLen < 1) errors.Add($"flowlen: must be >= 1 (got {FlowLen})");
        if (Burst < 1) errors.Add($"burst: must be >= 1 (got {Burst})");
        if (Ttl == 0) errors.Add("ttl: must be >= 1 (got 0)");
        if (SrcMin.Value > SrcMax.Value) errors.Add($"src_min: must be <= src_max (got {SrcMin} > {SrcMax})");
        if (DstMin.Value > DstMax.Value) errors.Add($"dst_min: must be <= dst_max (got {DstMin} > {DstMax})");
        if (UdpSrcMin > UdpSrcMax)
            errors.Add($"udp_src_min: must be <= udp_src_max (got {UdpSrcMin.ToString(CultureInfo.InvariantCulture)} > {UdpSrcMax.ToString(CultureInfo.InvariantCulture)})");
        if (UdpDstMin > UdpDstMax)
            errors.Add($"udp_dst_min: must be <= udp_dst_max (got {UdpDstMin.ToString(CultureInfo.InvariantCulture)} > {UdpDstMax.ToString(CultureInfo.InvariantCulture)})");
        if (SrcMac.IsMulticast) errors.Add($"src_mac: must be a unicast address (got {SrcMac})");
        return errors;
    }
}
