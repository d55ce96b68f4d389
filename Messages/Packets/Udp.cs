using System.Buffers.Binary;

namespace ActorStack.Messages.Packets;

/// <summary>UDP header view (RFC 768), 8 bytes.</summary>
public readonly ref struct UdpHeader
{
    public const int Length = 8;
    /// <summary>Source and destination port: the first 4 bytes of a UDP or TCP header.</summary>
    public const int PortsLength = 4;
    private readonly ReadOnlySpan<byte> _b;
    private UdpHeader(ReadOnlySpan<byte> b) => _b = b;

    public static bool TryRead(ReadOnlySpan<byte> segment, out UdpHeader h)
    {
        h = segment.Length >= Length ? new UdpHeader(segment) : default;
        return segment.Length >= Length;
    }

    /// <summary>
    /// The two ports that start a UDP and a TCP header alike (<c>__skb_flow_get_ports</c>): false when fewer than
    /// 4 bytes are present.
    /// </summary>
    public static bool TryReadPorts(ReadOnlySpan<byte> transport, out ushort sourcePort, out ushort destinationPort)
    {
        sourcePort = destinationPort = 0;
        if (transport.Length < PortsLength) return false;
        sourcePort = BinaryPrimitives.ReadUInt16BigEndian(transport);
        destinationPort = BinaryPrimitives.ReadUInt16BigEndian(transport[2..]);
        return true;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_b);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_b[2..]);
    public int DatagramLength => BinaryPrimitives.ReadUInt16BigEndian(_b[4..]);
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_b[6..]);
    /// <summary>What follows the header, to the end of the buffer (not cut to <see cref="DatagramLength"/>).</summary>
    public ReadOnlySpan<byte> Payload => _b[Length..];

    /// <summary>
    /// Verifies the checksum over pseudo header and <paramref name="datagram"/> (exactly the UDP length).
    /// A zero checksum means "none" (RFC 768) and is valid.
    /// </summary>
    public static bool ChecksumValid(ReadOnlySpan<byte> datagram, Ipv4Address src, Ipv4Address dst)
    {
        if (BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]) == 0) return true;
        uint sum = Packets.Checksum.PseudoHeader(src.Value, dst.Value, IpProtocol.Udp, datagram.Length);
        return Packets.Checksum.Fold(Packets.Checksum.Partial(datagram, sum)) == 0;
    }

    /// <summary>Writes the header and fills in the checksum over the payload that already follows it.</summary>
    public static void Write(Span<byte> datagram, ushort srcPort, ushort dstPort, Ipv4Address src, Ipv4Address dst)
    {
        BinaryPrimitives.WriteUInt16BigEndian(datagram, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[2..], dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[4..], (ushort)datagram.Length);
        datagram[6] = 0; datagram[7] = 0;
        uint sum = Packets.Checksum.PseudoHeader(src.Value, dst.Value, IpProtocol.Udp, datagram.Length);
        var c = Packets.Checksum.Fold(Packets.Checksum.Partial(datagram, sum));
        BinaryPrimitives.WriteUInt16BigEndian(datagram[6..], c == 0 ? (ushort)0xFFFF : c);
    }
}
