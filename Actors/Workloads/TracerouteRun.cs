using System.Collections.Immutable;
using System.Globalization;
using ActorStack.Actors.Ipv4;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// The probe bookkeeping and output of traceroute(8) (traceroute 2.x, default UDP method: <c>do_it</c>,
/// <c>parse_icmp_res</c>, <c>print_probe</c>) as a plain class, probing one probe at a time: probe n (0-based)
/// goes with TTL n / queries + 1 to port <c>base + n</c>; each probe ends with an answer or its timeout; a hop
/// is printed when its last probe ends; the run stops after a hop with a final answer (port unreachable from the
/// destination, or any other unreachable) or after <c>max_hops</c>.
/// </summary>
public sealed class TracerouteRun
{
    private readonly Ipv4Address _dst;
    private readonly int _maxHops, _queries;
    private readonly ushort _basePort;
    private readonly int _packetLength;
    private readonly List<TracerouteProbe> _hop = new();
    private readonly ImmutableArray<TracerouteHop>.Builder _hops = ImmutableArray.CreateBuilder<TracerouteHop>();
    private bool _hopFinal;

    public TracerouteRun(Ipv4Address destination, int maxHops, int queries, ushort basePort, int packetLength)
    {
        _dst = destination;
        _maxHops = Math.Clamp(maxHops, 1, 255);
        _queries = Math.Clamp(queries, 1, 10);
        _basePort = basePort;
        _packetLength = packetLength;
    }

    /// <summary>Index of the probe to send next or in flight.</summary>
    public int Probe { get; private set; }
    public int Ttl => Probe / _queries + 1;
    /// <summary>The UDP destination port of the current probe (<c>dst_port_seq</c>: base + probe index, wrapping).</summary>
    public ushort DestinationPort => (ushort)(_basePort + Probe);
    public bool Done { get; private set; }
    /// <summary>The destination itself answered (port unreachable): the trace reached it.</summary>
    public bool Reached { get; private set; }
    public ImmutableArray<TracerouteHop> Hops => _hops.ToImmutable();

    /// <summary>UDP payload bytes of a probe: the packet length minus the IP and UDP headers (at least 0).</summary>
    public int DataLength => Math.Max(0, _packetLength - Ipv4Header.MinLength - UdpHeader.Length);

    /// <summary><c>traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets</c></summary>
    public string Header() =>
        $"traceroute to {_dst} ({_dst}), {_maxHops} hops max, {DataLength + Ipv4Header.MinLength + UdpHeader.Length} byte packets";

    /// <summary>The probe payload the UDP method sends: bytes 0x40 + (i mod 0x40), as traceroute fills it.</summary>
    public byte[] ProbeData()
    {
        var d = new byte[DataLength];
        for (int i = 0; i < d.Length; i++) d[i] = (byte)(0x40 + (i & 0x3F));
        return d;
    }

    /// <summary>
    /// Is this ICMP error about the probe in flight? The quoted header must be our UDP datagram to the
    /// destination, from <paramref name="localPort"/>, to the current probe's port.
    /// </summary>
    public bool IsAnswerToCurrent(in QuotedHeader q, ushort localPort) =>
        !Done && q.Protocol == IpProtocol.Udp && q.Destination == _dst && q.UdpSourcePort == localPort
        && q.UdpDestinationPort == DestinationPort;

    /// <summary>
    /// <c>parse_icmp_res</c>: the annotation traceroute prints after the time, and whether the answer is final.
    /// Time exceeded in transit is the only non-final answer; port unreachable is final without annotation.
    /// </summary>
    public static (string Annotation, bool Final) Classify(byte type, byte code, uint info)
    {
        if (type == IcmpType.TimeExceeded && code == IcmpCode.ExcTtl) return ("", false);
        if (type != IcmpType.DestUnreach) return ($"!<{type}-{code}>", true);
        string s = code switch
        {
            0 or 6 or 8 or 11 => "!N",
            1 or 7 or 12 => "!H",
            9 or 10 or 13 => "!X",
            3 => "",
            2 => "!P",
            4 => $"!F-{(int)info}",
            5 => "!S",
            14 => "!V",
            15 => "!C",
            _ => $"!<{code}>",
        };
        return (s, true);
    }

    /// <summary>
    /// Ends the current probe with an answer from <paramref name="from"/> (an ICMP error of
    /// <paramref name="type"/>/<paramref name="code"/>) after <paramref name="rttTicks"/>.
    /// Returns the hop's line when this was the hop's last probe, else null.
    /// </summary>
    public string? Answer(Ipv4Address from, byte type, byte code, uint info, long rttTicks)
    {
        var (annotation, final) = Classify(type, code, info);
        if (final) _hopFinal = true;
        if (final && type == IcmpType.DestUnreach && code == IcmpCode.PortUnreach && from == _dst) Reached = true;
        return End(new TracerouteProbe(from, Math.Max(0, rttTicks), annotation));
    }

    /// <summary>Ends the current probe without an answer (<c>*</c>). Returns the hop's line when it completes the hop.</summary>
    public string? Timeout() => End(new TracerouteProbe(null, 0));

    private string? End(TracerouteProbe p)
    {
        if (Done) return null;
        _hop.Add(p);
        Probe++;
        if (_hop.Count < _queries) return null;
        var hop = new TracerouteHop(Ttl - 1, _hop.ToImmutableArray());
        _hops.Add(hop);
        _hop.Clear();
        if (_hopFinal || hop.Ttl >= _maxHops) Done = true;
        return FormatHop(hop);
    }

    /// <summary>
    /// <c>print_probe</c> for a whole hop: <c>%2u </c>, then per probe <c> *</c> or (when the address differs from
    /// the previous answered probe of the hop) <c> ADDR (ADDR)</c>, <c>  %.3f ms</c> and the annotation.
    /// </summary>
    public static string FormatHop(TracerouteHop hop)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append(hop.Ttl.ToString(CultureInfo.InvariantCulture).PadLeft(2)).Append(' ');
        Ipv4Address? previous = null;
        foreach (var p in hop.Probes)
        {
            if (p.From is not { } from) { sb.Append(" *"); continue; }
            if (previous != from) sb.Append(' ').Append(from).Append(" (").Append(from).Append(')');
            previous = from;
            sb.Append("  ").Append(Ms(p.RttTicks)).Append(" ms");
            if (p.Annotation.Length > 0) sb.Append(' ').Append(p.Annotation);
        }
        return sb.ToString();
    }

    /// <summary><c>%.3f</c> of a duration in milliseconds (round half to even on the exact value, as glibc prints).</summary>
    public static string Ms(long ticks) =>
        Math.Round((decimal)ticks / TimeSpan.TicksPerMillisecond, 3, MidpointRounding.ToEven).ToString("F3", CultureInfo.InvariantCulture);
}
