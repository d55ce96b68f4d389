using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ActorStack.Messages.Packets;

/// <summary>
/// RFC 1071 one's-complement Internet checksum, as <c>csum_partial</c> /
/// <c>csum_fold</c> compute it, plus the RFC 1624 incremental update that
/// <c>ip_decrease_ttl</c> uses.
/// </summary>
public static class Checksum
{
    /// <summary>
    /// Unfolded 32-bit sum of big-endian 16-bit words (<c>csum_partial</c>): congruent mod 0xFFFF to the sum of
    /// <paramref name="sum"/> and the words, and zero only when both are (so <see cref="Fold"/> gives the RFC 1071 value).
    /// Like the kernel's <c>do_csum</c> it adds machine words in native byte order (RFC 1071 2(B): the one's-complement
    /// sum is byte-order independent), 32 bytes at a time into 64-bit lanes, and swaps the folded result once.
    /// </summary>
    public static uint Partial(ReadOnlySpan<byte> data, uint sum = 0)
    {
        ulong acc = 0;
        int i = 0;
        ref byte p = ref MemoryMarshal.GetReference(data);
        if (Vector256.IsHardwareAccelerated && data.Length >= 64)
        {
            // Four 64-bit lanes per vector, each adding 32-bit halves: a lane gains < 2^33 per step, no carry is lost.
            var lo = Vector256<ulong>.Zero;
            var hi = Vector256<ulong>.Zero;
            for (; i + 32 <= data.Length; i += 32)
            {
                var v = Vector256.LoadUnsafe(ref Unsafe.Add(ref p, i)).AsUInt32();
                var (a, b) = Vector256.Widen(v);
                lo += a;
                hi += b;
            }
            acc = Vector256.Sum(lo) + Vector256.Sum(hi);
        }
        for (; i + 8 <= data.Length; i += 8)
        {
            ulong w = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i));
            acc += (w & 0xFFFFFFFF) + (w >> 32);
        }
        for (; i + 4 <= data.Length; i += 4)
            acc += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
        // Fold the native-order sum to 16 bits (a non-zero sum stays non-zero), then into network order.
        while (acc >> 16 != 0) acc = (acc & 0xFFFF) + (acc >> 16);
        ulong be = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)acc) : acc;
        be += sum;
        for (; i + 1 < data.Length; i += 2)
            be += (uint)(data[i] << 8 | data[i + 1]);
        if (i < data.Length)
            be += (uint)(data[i] << 8);
        while (be >> 32 != 0) be = (be & 0xFFFFFFFF) + (be >> 32);
        return (uint)be;
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
