using System.Buffers.Binary;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Frag;

/// <summary>Builds IPv4 packets and hand-made fragments for the fragmentation tests.</summary>
internal static class FragTestPackets
{
    public static readonly Ipv4Address Src = Ipv4Address.Parse("10.0.0.1");
    public static readonly Ipv4Address Dst = Ipv4Address.Parse("10.0.0.2");
    public const long Second = TimeSpan.TicksPerSecond;

    /// <summary>An IPv4 packet with <paramref name="dataLen"/> bytes of seeded random data after the header.</summary>
    public static byte[] Datagram(int dataLen, ushort id, ushort flagsAndOffset = 0, byte[]? options = null,
        byte protocol = IpProtocol.Udp, int seed = 1, byte tos = 0)
    {
        var data = new byte[dataLen];
        new Random(seed * 7919 + dataLen).NextBytes(data);
        return Packet(data, id, flagsAndOffset, options, protocol, tos);
    }

    /// <summary>A header (with optional options, padded to 32 bits by the caller) followed by <paramref name="data"/>.</summary>
    public static byte[] Packet(ReadOnlySpan<byte> data, ushort id, ushort flagsAndOffset, byte[]? options = null,
        byte protocol = IpProtocol.Udp, byte tos = 0, Ipv4Address? src = null, Ipv4Address? dst = null)
    {
        int optLen = options?.Length ?? 0;
        if (optLen % 4 != 0) throw new ArgumentException("options must be padded to 32 bits");
        int hlen = 20 + optLen;
        var p = new byte[hlen + data.Length];
        p[0] = (byte)(0x40 | hlen / 4);
        p[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), flagsAndOffset);
        p[8] = 64;
        p[9] = protocol;
        (src ?? Src).Write(p.AsSpan(12));
        (dst ?? Dst).Write(p.AsSpan(16));
        options?.CopyTo(p.AsSpan(20));
        data.CopyTo(p.AsSpan(hlen));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, hlen)));
        return p;
    }

    /// <summary>A hand-made fragment: <paramref name="len"/> bytes at byte offset <paramref name="offset"/> (a multiple of 8).</summary>
    public static byte[] Fragment(ushort id, int offset, int len, bool mf, byte fill = 0xAB, ushort extraFlags = 0, byte tos = 0)
    {
        var data = new byte[len];
        Array.Fill(data, fill);
        ushort fo = (ushort)((offset >> 3) | (mf ? Ipv4Header.FlagMf : 0) | extraFlags);
        return Packet(data, id, fo, tos: tos);
    }

    public static int FlagsAndOffset(byte[] p) => BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(6));
    public static int OffsetOf(byte[] p) => (FlagsAndOffset(p) & Ipv4Header.OffsetMask) << 3;
    public static bool Mf(byte[] p) => (FlagsAndOffset(p) & Ipv4Header.FlagMf) != 0;
    public static bool Df(byte[] p) => (FlagsAndOffset(p) & Ipv4Header.FlagDf) != 0;
    public static int TotalLength(byte[] p) => BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(2));
    public static int HeaderLength(byte[] p) => (p[0] & 0x0F) * 4;
    public static bool ChecksumOk(byte[] p) => Checksum.Compute(p.AsSpan(0, HeaderLength(p))) == 0;
}
