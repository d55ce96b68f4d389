using System.Buffers.Binary;
using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.Offload;

/// <summary>Builds Ethernet + IPv4 + TCP frames for the offload tests (valid checksums unless told otherwise).</summary>
internal static class OffloadFrames
{
    public static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1"), B = Ipv4Address.Parse("10.0.0.2");

    public static byte[] Payload(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    public static byte[] Frame(uint seq, byte[] payload, TcpFlags flags = TcpFlags.Ack, ushort sport = 40000, ushort dport = 5001,
        uint tsVal = 100, uint ack = 7, ushort ipId = 1, bool df = true, bool timestamps = true)
    {
        var seg = new TcpSegment
        {
            SourcePort = sport, DestinationPort = dport, Seq = new TcpSeq(seq), Ack = new TcpSeq(ack), Flags = flags, Window = 500,
            Options = timestamps ? new TcpOptions { HasTimestamp = true, TsVal = tsVal, TsEcr = 9 } : default,
            Payload = payload,
        };
        int ipLen = 20 + seg.Length;
        var f = new byte[14 + ipLen];
        f[12] = 0x08; f[13] = 0x00;
        var ip = f.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)ipLen);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], ipId);
        ip[6] = df ? (byte)0x40 : (byte)0;
        ip[8] = 64;
        ip[9] = IpProtocol.Tcp;
        A.Write(ip[12..]);
        B.Write(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..20]));
        seg.WriteTo(ip[20..], A, B);
        return f;
    }

    public static SkBuff Skb(byte[] frame) => new(frame, 2, 0, 0, 0, SkBuff.TruesizeFor(frame.Length)) { Protocol = EtherType.Ipv4 };

    /// <summary>Parses the TCP segment of a frame; <paramref name="verify"/> checks its checksum.</summary>
    public static TcpSegment Parse(ReadOnlyMemory<byte> frame, bool verify = true)
    {
        int ipLen = BinaryPrimitives.ReadUInt16BigEndian(frame.Span[16..]);
        var err = TcpSegment.TryParse(frame.Slice(34, ipLen - 20), A, B, out var seg, verify);
        Assert.Equal(TcpParseError.None, err);
        return seg!;
    }
}
