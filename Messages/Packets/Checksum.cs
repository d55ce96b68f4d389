using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ActorStack.Messages.Packets;

/// <summary>
/// RFC 1071 one's-complement Internet checksum, as <c>csum_partial</c> /
/// <c>csum_fold</c> compute it, plus the RFC 1624 incremental update that
/// <c>ip_decrease_ttl</c> uses.
/// </summary>
public static class Checksum
{
    /// <summary>Unfolded 32-bit sum of big-endian 16-bit words (<c>csum_partial</c>).</summary>
    public static uint Partial(ReadOnlySpan<byte> data, uint sum = 0)
    {
        ulong acc = sum;
        int i = 0;
        // 4 bytes at a time into a 64-bit accumulator: no carry can be lost.
        var words = MemoryMarshal.Cast<byte, uint>(data[..(data.Length & ~3)]);
        foreach (var w in words)
        {
            uint be = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(w) : w;
            acc += (be >> 16) + (be & 0xFFFF);
        }
        i = data.Length & ~3;
        for (; i + 1 < data.Length; i += 2)
            acc += (uint)(data[i] << 8 | data[i + 1]);
        if (i < data.Length)
            acc += (uint)(data[i] << 8);
        while (acc >> 32 != 0) acc = (acc & 0xFFFFFFFF) + (acc >> 32);
        return (uint)acc;
    }

    /// <summary>Fold to 16 bits and complement (<c>csum_fold</c>).</summary>
    public static ushort Fold(uint sum)
    {
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    public static ushort Compute(ReadOnlySpan<byte> data) => Fold(Partial(data));

    /// <summary>Pseudo-header sum for TCP/UDP over IPv4 (<c>csum_tcpudp_nofold</c>).</summary>
    public static uint PseudoHeader(uint src, uint dst, byte protocol, int length)
        => (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + protocol + (uint)length;

    /// <summary>RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a changed 16-bit word.</summary>
    public static ushort IncrementalUpdate(ushort oldChecksum, ushort oldWord, ushort newWord)
    {
        uint sum = (uint)(~oldChecksum & 0xFFFF) + (uint)(~oldWord & 0xFFFF) + newWord;
        return Fold(sum);
    }
}
