using System.Numerics;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

/// <summary>
/// SYN cookies as Linux computes them (net/ipv4/syncookies.c, tcp_syncookies = 1): the ISN of
/// the SYN-ACK is
/// <c>H(saddr,daddr,sport,dport,0) + sseq + (count &lt;&lt; 24) + ((H(...,count,1) + mssind) &amp; 0xFFFFFF)</c>
/// where count is the minute counter (<c>tcp_cookie_time</c>) and mssind the index in
/// <see cref="MssTable"/>. A cookie is valid for <see cref="MaxAge"/> minutes. H is SipHash-2-4
/// keyed with two secrets drawn from the seed passed in (Linux: <c>siphash_4u32</c> with
/// <c>syncookie_secret[c]</c>). With timestamps the options that do not fit the cookie ride in
/// the low 6 bits of TSval (<c>cookie_init_timestamp</c>).
/// </summary>
public sealed class SynCookies
{
    /// <summary><c>msstab</c>: the MSS values a cookie can encode (2 bits).</summary>
    public static readonly ushort[] MssTable = [TcpConstants.TCP_MSS_DEFAULT, 1300, 1440, 1460];
    public const int CookieBits = 24;
    public const uint CookieMask = (1u << CookieBits) - 1;
    /// <summary>MAX_SYNCOOKIE_AGE in minutes.</summary>
    public const uint MaxAge = 2;
    private const int TsBits = 6;
    private const uint TsOptWscaleMask = 0xF, TsOptSack = 1 << 4, TsOptEcn = 1 << 5;

    private readonly (ulong K0, ulong K1)[] _secret = new (ulong, ulong)[2];

    public SynCookies(int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < 2; i++) _secret[i] = ((ulong)rng.NextInt64(), (ulong)rng.NextInt64());
    }

    /// <summary><c>tcp_cookie_time</c>: minutes of the passed-in clock.</summary>
    public static uint CookieTime(long nowTicks) => (uint)(nowTicks / TimeSpan.TicksPerMinute);

    private uint Hash(Ipv4Address saddr, Ipv4Address daddr, ushort sport, ushort dport, uint count, int c)
    {
        ulong m0 = (ulong)daddr.Value << 32 | saddr.Value;
        ulong m1 = (ulong)count << 32 | ((uint)sport << 16 | dport);
        return (uint)SipHash24(_secret[c].K0, _secret[c].K1, m0, m1);
    }

    /// <summary>
    /// <c>__cookie_v4_init_sequence</c>: the cookie ISN for a SYN from saddr:sport with sequence
    /// <paramref name="isn"/> and MSS option <paramref name="mss"/>; <paramref name="mssUsed"/> is the
    /// largest table MSS not above it (the connection will use that).
    /// </summary>
    public uint InitSequence(Ipv4Address saddr, Ipv4Address daddr, ushort sport, ushort dport, TcpSeq isn, int mss,
        long nowTicks, out int mssUsed)
    {
        int mssind = MssTable.Length - 1;
        for (; mssind > 0; mssind--)
            if (mss >= MssTable[mssind]) break;
        mssUsed = MssTable[mssind];
        uint count = CookieTime(nowTicks);
        return unchecked(Hash(saddr, daddr, sport, dport, 0, 0) + isn.Value + (count << CookieBits) +
                         ((Hash(saddr, daddr, sport, dport, count, 1) + (uint)mssind) & CookieMask));
    }

    /// <summary>
    /// <c>__cookie_v4_check</c> for the third segment of a handshake (its SEQ and ACK as received):
    /// returns the MSS the cookie encodes, or 0 when it is forged or older than <see cref="MaxAge"/>
    /// minutes (the caller counts SyncookiesRecv or SyncookiesFailed).
    /// </summary>
    public int Check(Ipv4Address saddr, Ipv4Address daddr, ushort sport, ushort dport, TcpSeq seq, TcpSeq ack, long nowTicks)
    {
        uint sseq = (seq - 1).Value;
        uint cookie = (ack - 1).Value;
        uint count = CookieTime(nowTicks);
        unchecked
        {
            cookie -= Hash(saddr, daddr, sport, dport, 0, 0) + sseq;
            uint diff = (count - (cookie >> CookieBits)) & (uint.MaxValue >> CookieBits);
            if (diff >= MaxAge) return 0;
            uint mssind = (cookie - Hash(saddr, daddr, sport, dport, count - diff, 1)) & CookieMask;
            return mssind < MssTable.Length ? MssTable[mssind] : 0;
        }
    }

    /// <summary>
    /// <c>cookie_init_timestamp</c>: TSval for a cookie SYN-ACK carrying the peer's window scale
    /// (0xF = none), SACK-permitted and ECN in its low 6 bits, never after <paramref name="tsNow"/>.
    /// </summary>
    public static uint InitTimestamp(uint tsNow, int? sndWscale, bool sackOk, bool ecnOk)
    {
        uint options = sndWscale is int ws ? (uint)ws : TsOptWscaleMask;
        if (sackOk) options |= TsOptSack;
        if (ecnOk) options |= TsOptEcn;
        uint ts = unchecked((tsNow >> TsBits) << TsBits) | options;
        if (unchecked((int)(ts - tsNow)) > 0) ts = unchecked(ts - (1u << TsBits));
        return ts;
    }

    /// <summary><c>cookie_timestamp_decode</c>: the options from the TSecr of the third segment.</summary>
    public static void DecodeTimestamp(uint tsEcr, out int? sndWscale, out bool sackOk)
    {
        uint ws = tsEcr & TsOptWscaleMask;
        sndWscale = ws == TsOptWscaleMask ? null : (int)ws;
        sackOk = (tsEcr & TsOptSack) != 0;
    }

    private static ulong SipHash24(ulong k0, ulong k1, ulong m0, ulong m1)
    {
        ulong v0 = 0x736f6d6570736575UL ^ k0, v1 = 0x646f72616e646f6dUL ^ k1;
        ulong v2 = 0x6c7967656e657261UL ^ k0, v3 = 0x7465646279746573UL ^ k1;
        void Round()
        {
            v0 += v1; v1 = BitOperations.RotateLeft(v1, 13); v1 ^= v0; v0 = BitOperations.RotateLeft(v0, 32);
            v2 += v3; v3 = BitOperations.RotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = BitOperations.RotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = BitOperations.RotateLeft(v1, 17); v1 ^= v2; v2 = BitOperations.RotateLeft(v2, 32);
        }
        foreach (var m in new[] { m0, m1, 16UL << 56 })
        {
            v3 ^= m; Round(); Round(); v0 ^= m;
        }
        v2 ^= 0xFF;
        Round(); Round(); Round(); Round();
        return v0 ^ v1 ^ v2 ^ v3;
    }
}
