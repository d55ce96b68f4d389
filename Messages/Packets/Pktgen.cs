using System.Buffers.Binary;

namespace ActorStack.Messages.Packets;

/// <summary>
/// Linux's <c>struct pktgen_hdr</c> at the start of every pktgen UDP payload, all fields in network byte order:
/// <code>
/// | pgh_magic 0xbe9be955 (4) | seq_num (4) | tv_sec (4) | tv_usec (4) |
/// </code>
/// <c>tv_sec</c> is the Unix time truncated to 32 bits, as <c>pktgen_finalize_skb</c> writes it;
/// both time fields are 0 when the sender stamps no time (Linux flag <c>NO_TIMESTAMP</c>).
/// </summary>
public static class PktgenHeader
{
    public const uint Magic = 0xbe9be955;
    public const int Length = 16;
    private const int SeqAt = 4, SecAt = 8, UsecAt = 12;

    /// <summary>Writes the header; <paramref name="utcTicks"/> 0 (or any time before 1970) writes no timestamp.</summary>
    public static void Write(Span<byte> udpPayload, uint seq, long utcTicks)
    {
        var (sec, usec) = ToTimeval(utcTicks);
        BinaryPrimitives.WriteUInt32BigEndian(udpPayload, Magic);
        BinaryPrimitives.WriteUInt32BigEndian(udpPayload[SeqAt..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(udpPayload[SecAt..], sec);
        BinaryPrimitives.WriteUInt32BigEndian(udpPayload[UsecAt..], usec);
    }

    /// <summary>
    /// Reads the header the way pktgen's receive side checks it: false when the payload is shorter than
    /// 16 bytes or the magic is wrong. <paramref name="utcTicks"/> is 0 when the frame carries no timestamp.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> udpPayload, out uint seq, out long utcTicks)
    {
        seq = 0;
        utcTicks = 0;
        if (udpPayload.Length < Length || BinaryPrimitives.ReadUInt32BigEndian(udpPayload) != Magic) return false;
        seq = BinaryPrimitives.ReadUInt32BigEndian(udpPayload[SeqAt..]);
        uint sec = BinaryPrimitives.ReadUInt32BigEndian(udpPayload[SecAt..]);
        uint usec = BinaryPrimitives.ReadUInt32BigEndian(udpPayload[UsecAt..]);
        if (sec != 0 || usec != 0)
            utcTicks = DateTime.UnixEpoch.Ticks + sec * TimeSpan.TicksPerSecond + usec * TimeSpan.TicksPerMicrosecond;
        return true;
    }

    /// <summary>UTC ticks to (tv_sec, tv_usec): seconds since 1970 truncated to 32 bits, microseconds truncated.</summary>
    public static (uint Sec, uint Usec) ToTimeval(long utcTicks)
    {
        long sinceEpoch = utcTicks - DateTime.UnixEpoch.Ticks;
        if (sinceEpoch <= 0) return (0, 0);
        return ((uint)(sinceEpoch / TimeSpan.TicksPerSecond),
                (uint)(sinceEpoch % TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond));
    }
}
