using ActorStack.Config;
using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using ActorStack.Messages.Packets;
using PacketDotNet;

namespace ActorStack.Hardware.Pktgen;

/// <summary>The addresses and ports of one pktgen flow.</summary>
public readonly record struct PktgenFlow(Ipv4Address Source, Ipv4Address Destination, ushort SourcePort, ushort DestinationPort)
{
    public override string ToString() => $"{Source}:{SourcePort} -> {Destination}:{DestinationPort}";
}

/// <summary>
/// Builds the Ethernet/IPv4/UDP frames Linux's pktgen sends (<c>fill_packet_ipv4</c>), one per call,
/// exactly <see cref="PktgenSettings.PktSize"/> bytes long.
/// <para>
/// Flow <c>i</c> (0 ≤ i &lt; flows) has the 5-tuple
/// <code>
/// src  = src_min     + i mod (src_max     - src_min     + 1)
/// dst  = dst_min     + i mod (dst_max     - dst_min     + 1)
/// sport = udp_src_min + i mod (udp_src_max - udp_src_min + 1)
/// dport = udp_dst_min + i mod (udp_dst_max - udp_dst_min + 1)
/// </code>
/// Flows are visited in turn (Linux's <c>FLOW_SEQ</c>), <c>flowlen</c> frames each, starting with flow 0;
/// with <see cref="PktgenSettings.FlowRandom"/> the next flow after <c>flowlen</c> frames is drawn from a
/// <see cref="Random"/> seeded with <see cref="PktgenSettings.Seed"/>.
/// </para>
/// <para>
/// Per frame, as Linux does: the IPv4 id starts at 0 and increments per frame (<c>pkt_dev->ip_id++</c>),
/// DF is not set (<c>frag_off = 0</c>), and the payload opens with <see cref="PktgenHeader"/> whose
/// <c>seq_num</c> starts at 1 (<c>pktgen_clear_counters</c>) and increments per frame across all flows;
/// the rest of the payload is zero. The UDP checksum is always computed, as Linux does with its
/// <c>UDPCSUM</c> flag (without it Linux sends 0); a computed 0 is sent as 0xFFFF (CSUM_MANGLED_0).
/// </para>
/// <para>
/// The first frame of each flow is built with PacketDotNet and kept as that flow's template (its 42
/// header bytes and the 16-bit sums of its IPv4 header and UDP datagram with the per-frame fields zeroed);
/// every frame is then a copy of the template with id, seq and time patched and both checksums completed
/// from the stored sums, so no packet library runs per frame. Not thread-safe: one sender owns it.
/// </para>
/// </summary>
public sealed class PktgenGenerator
{
    public const int EthernetOffset = 0;
    public const int IpOffset = EthernetHeader.Length;                       // 14
    public const int UdpOffset = IpOffset + Ipv4Header.MinLength;            // 34
    public const int PayloadOffset = UdpOffset + UdpHeader.Length;           // 42
    private const int IpIdOffset = IpOffset + 4;
    private const int IpChecksumOffset = IpOffset + 10;
    private const int UdpChecksumOffset = UdpOffset + 6;
    private const int SeqOffset = PayloadOffset + 4;
    private const int TvSecOffset = PayloadOffset + 8;
    private const int TvUsecOffset = PayloadOffset + 12;

    private readonly PktgenSettings _settings;
    private readonly FlowTemplate?[] _templates;
    /// <summary>UDP payload shared by all flows: the magic, then zeros up to pkt_size.</summary>
    private readonly byte[] _payloadTemplate;
    private readonly Random? _random;
    private int _currentFlow;
    private int _sentOnCurrentFlow;
    private uint _seq = 1;
    private ushort _ipId;

    /// <exception cref="ArgumentException">The settings fail <see cref="PktgenSettings.Validate"/> (a configuration error, found before anything runs).</exception>
    public PktgenGenerator(PktgenSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var errors = settings.Validate();
        if (errors.Count > 0) throw new ArgumentException("invalid pktgen settings: " + string.Join("; ", errors), nameof(settings));
        _settings = settings;
        _templates = new FlowTemplate?[settings.Flows];
        _payloadTemplate = new byte[settings.PktSize - PayloadOffset];
        PktgenHeader.Write(_payloadTemplate, seq: 0, utcTicks: 0);
        if (settings.FlowRandom) _random = new Random(settings.Seed);
    }

    public PktgenSettings Settings => _settings;
    /// <summary>Frames built so far (Linux <c>sofar</c>).</summary>
    public long Sent { get; private set; }
    /// <summary>True once <c>count</c> frames were built; never true when count is 0 (forever). <see cref="Next()"/> keeps working past it.</summary>
    public bool Done => _settings.Count != 0 && Sent >= _settings.Count;
    /// <summary>The seq_num the next frame will carry.</summary>
    public uint NextSeq => _seq;

    /// <summary>The 5-tuple of flow <paramref name="index"/> (formula in the class summary).</summary>
    public PktgenFlow GetFlow(int index)
    {
        var s = _settings;
        var i = (ulong)index;
        return new PktgenFlow(
            new Ipv4Address((uint)(s.SrcMin.Value + i % ((ulong)s.SrcMax.Value - s.SrcMin.Value + 1))),
            new Ipv4Address((uint)(s.DstMin.Value + i % ((ulong)s.DstMax.Value - s.DstMin.Value + 1))),
            (ushort)(s.UdpSrcMin + index % (s.UdpSrcMax - s.UdpSrcMin + 1)),
            (ushort)(s.UdpDstMin + index % (s.UdpDstMax - s.UdpDstMin + 1)));
    }

    /// <summary>The next frame without a timestamp (tv_sec = tv_usec = 0); a fresh array the caller owns.</summary>
    public byte[] Next() => Next(0);

    /// <summary>The next frame stamped with <paramref name="utcTicks"/> (simulation clock); a fresh array the caller owns.</summary>
    public byte[] Next(long utcTicks)
    {
        var frame = new byte[_settings.PktSize];
        WriteNext(frame, utcTicks);
        return frame;
    }

    /// <summary>
    /// Writes the next frame into <paramref name="destination"/> (at least pkt_size bytes) and returns its
    /// length: the allocation-free path for senders that own a buffer pool.
    /// </summary>
    public int WriteNext(Span<byte> destination, long utcTicks)
    {
        int length = _settings.PktSize;
        if (destination.Length < length)
            throw new ArgumentException($"destination holds {destination.Length} bytes, pkt_size is {length}", nameof(destination));

        var t = _templates[PickFlow()] ??= BuildTemplate(_currentFlow);
        var frame = destination[..length];
        t.Header.CopyTo(frame);
        _payloadTemplate.CopyTo(frame[PayloadOffset..]);

        ushort id = _ipId++;
        BinaryPrimitives.WriteUInt16BigEndian(frame[IpIdOffset..], id);
        BinaryPrimitives.WriteUInt16BigEndian(frame[IpChecksumOffset..], Checksum.Fold(t.IpSum + id));

        uint seq = _seq++;
        var (sec, usec) = PktgenHeader.ToTimeval(utcTicks);
        BinaryPrimitives.WriteUInt32BigEndian(frame[SeqOffset..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(frame[TvSecOffset..], sec);
        BinaryPrimitives.WriteUInt32BigEndian(frame[TvUsecOffset..], usec);
        uint udpSum = t.UdpSum + (seq >> 16) + (seq & 0xFFFF) + (sec >> 16) + (sec & 0xFFFF) + (usec >> 16) + (usec & 0xFFFF);
        ushort udpCheck = Checksum.Fold(udpSum);
        BinaryPrimitives.WriteUInt16BigEndian(frame[UdpChecksumOffset..], udpCheck == 0 ? (ushort)0xFFFF : udpCheck);

        Sent++;
        return length;
    }

    /// <summary>Chooses the flow of the next frame, as <c>f_pick</c> does: stay for flowlen frames, then move on.</summary>
    private int PickFlow()
    {
        if (_sentOnCurrentFlow >= _settings.FlowLen)
        {
            _currentFlow = _random is null ? (_currentFlow + 1) % _settings.Flows : _random.Next(_settings.Flows);
            _sentOnCurrentFlow = 0;
        }
        _sentOnCurrentFlow++;
        return _currentFlow;
    }

    /// <summary>Builds flow <paramref name="index"/>'s first frame (id 0, seq 0, no time) with PacketDotNet and keeps its headers and sums.</summary>
    private FlowTemplate BuildTemplate(int index)
    {
        var f = GetFlow(index);
        var udp = new UdpPacket(f.SourcePort, f.DestinationPort) { PayloadData = (byte[])_payloadTemplate.Clone() };
        var ip = new IPv4Packet(ToIpAddress(f.Source), ToIpAddress(f.Destination))
        {
            TimeToLive = _settings.Ttl,
            Id = 0,
            FragmentFlags = 0,
            FragmentOffset = 0,
            TypeOfService = 0,
            PayloadPacket = udp,
        };
        var eth = new EthernetPacket(ToPhysical(_settings.SrcMac), ToPhysical(_settings.DstMac), EthernetType.IPv4)
        {
            PayloadPacket = ip,
        };
        eth.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        var bytes = eth.Bytes;
        if (bytes.Length != _settings.PktSize)
            throw new InvalidOperationException($"PacketDotNet built {bytes.Length} bytes for pkt_size {_settings.PktSize}");

        var header = bytes.AsSpan(0, PayloadOffset).ToArray();
        // Zero the fields that change per frame, then keep the folded (uncomplemented) 16-bit sums.
        header[IpIdOffset] = header[IpIdOffset + 1] = 0;
        header[IpChecksumOffset] = header[IpChecksumOffset + 1] = 0;
        header[UdpChecksumOffset] = header[UdpChecksumOffset + 1] = 0;
        uint ipSum = Fold16(Checksum.Partial(header.AsSpan(IpOffset, Ipv4Header.MinLength)));
        int udpLength = _settings.PktSize - UdpOffset;
        uint pseudo = Checksum.PseudoHeader(f.Source.Value, f.Destination.Value, IpProtocol.Udp, udpLength);
        uint udpSum = Fold16(Checksum.Partial(_payloadTemplate, Fold16(Checksum.Partial(header.AsSpan(UdpOffset, UdpHeader.Length), Fold16(pseudo)))));
        return new FlowTemplate(header, ipSum, udpSum);
    }

    /// <summary>Folds a 32-bit one's-complement sum to 16 bits without complementing it.</summary>
    private static uint Fold16(uint sum) => (uint)(~Checksum.Fold(sum) & 0xFFFF);

    private static IPAddress ToIpAddress(Ipv4Address a)
    {
        Span<byte> b = stackalloc byte[4];
        a.Write(b);
        return new IPAddress(b);
    }

    private static PhysicalAddress ToPhysical(MacAddress m)
    {
        var b = new byte[6];
        m.Write(b);
        return new PhysicalAddress(b);
    }

    /// <summary>A flow's first 42 bytes (id and checksums zeroed) and the 16-bit sums of its IPv4 header and UDP datagram.</summary>
    private sealed record FlowTemplate(byte[] Header, uint IpSum, uint UdpSum);
}
