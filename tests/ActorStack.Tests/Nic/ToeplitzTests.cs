using ActorStack.Hardware.Nic;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Nic;

public class ToeplitzTests
{
    // Microsoft "Verifying the RSS Hash Calculation": default key, IPv4 and IPv4+TCP columns.
    public static TheoryData<string, ushort, string, ushort, uint, uint> MicrosoftVectors => new()
    {
        // src, sport, dst, dport, IPv4 hash, IPv4+TCP hash
        { "66.9.149.187", 2794, "161.142.100.80", 1766, 0x323e8fc2, 0x51ccc178 },
        { "199.92.111.2", 14230, "65.69.140.83", 4739, 0xd718262a, 0xc626b0ea },
        { "24.19.198.95", 12898, "12.22.207.184", 38024, 0xd2d0a5de, 0x5c2b394a },
        { "38.27.205.30", 48228, "209.142.163.6", 2217, 0x82989176, 0xafc7327f },
        { "153.39.163.191", 44251, "202.188.127.2", 1303, 0x5d1809c5, 0x10e828a2 },
    };

    private static byte[] Input(string src, string dst, ushort? sport = null, ushort? dport = null)
    {
        var b = new byte[sport is null ? 8 : 12];
        Ipv4Address.Parse(src).Write(b);
        Ipv4Address.Parse(dst).Write(b.AsSpan(4));
        if (sport is ushort s && dport is ushort d)
        {
            b[8] = (byte)(s >> 8); b[9] = (byte)s; b[10] = (byte)(d >> 8); b[11] = (byte)d;
        }
        return b;
    }

    [Theory]
    [MemberData(nameof(MicrosoftVectors))]
    public void Toeplitz_MicrosoftVectors_MatchBothHashTypes(string src, ushort sport, string dst, ushort dport, uint ipv4, uint tcp)
    {
        Assert.Equal(ipv4, Toeplitz.Hash(Toeplitz.DefaultKey, Input(src, dst)));
        Assert.Equal(tcp, Toeplitz.Hash(Toeplitz.DefaultKey, Input(src, dst, sport, dport)));
    }

    [Fact]
    public void Toeplitz_DefaultKey_Is40BytesFromMicrosoft()
    {
        Assert.Equal(40, Toeplitz.DefaultKey.Length);
        Assert.Equal(new byte[] { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2 }, Toeplitz.DefaultKey[..8].ToArray());
        Assert.Equal(new byte[] { 0xbe, 0xac, 0x01, 0xfa }, Toeplitz.DefaultKey[36..].ToArray());
    }

    [Fact]
    public void Toeplitz_EmptyInputOrShortKey_NeverThrows()
    {
        Assert.Equal(0u, Toeplitz.Hash(Toeplitz.DefaultKey, ReadOnlySpan<byte>.Empty));
        // one set bit at position 0 selects the first 32 key bits
        Assert.Equal(0x6d5a56dau, Toeplitz.Hash(Toeplitz.DefaultKey, new byte[] { 0x80 }));
        Assert.Equal(0xAB000000u, Toeplitz.Hash(new byte[] { 0xAB }, new byte[] { 0x80, 0, 0 }));
        Assert.Equal(0u, Toeplitz.Hash(ReadOnlySpan<byte>.Empty, new byte[] { 0xFF, 0xFF }));
    }
}
