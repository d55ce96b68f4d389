namespace ActorStack.Hardware.Nic;

/// <summary>
/// The Toeplitz hash of Microsoft's Receive Side Scaling, as NICs compute it and as Linux's
/// <c>toeplitz_hash</c> (tools/testing/selftests/net/toeplitz.c) reproduces it: for every set bit of
/// the input, XOR in the 32-bit window of the key that starts at that bit position.
/// </summary>
public static class Toeplitz
{
    private static readonly byte[] s_defaultKey =
    {
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
        0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
        0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    };

    /// <summary>The 40-byte key of Microsoft's RSS verification suite (the key many NIC drivers default to).</summary>
    public static ReadOnlySpan<byte> DefaultKey => s_defaultKey;

    /// <summary>
    /// Hashes <paramref name="input"/> (fields in network byte order: src addr, dst addr, src port,
    /// dst port). The key needs input.Length + 4 bytes; key bits beyond its end are taken as zero,
    /// so a short key never throws.
    /// </summary>
    public static uint Hash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        uint window = 0;
        for (int i = 0; i < 4; i++) window = window << 8 | KeyByte(key, i);

        uint result = 0;
        for (int i = 0; i < input.Length; i++)
        {
            byte b = input[i];
            byte next = KeyByte(key, i + 4);
            for (int bit = 7; bit >= 0; bit--)
            {
                if ((b >> bit & 1) != 0) result ^= window;
                window = window << 1 | (uint)(next >> bit & 1);
            }
        }
        return result;
    }

    private static byte KeyByte(ReadOnlySpan<byte> key, int i) => i < key.Length ? key[i] : (byte)0;
}
