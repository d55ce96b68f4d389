using System.Buffers.Binary;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// The UDP echo client's request payload: a 4-byte big-endian sequence number, then bytes <c>(seq + i) &amp; 0xFF</c>,
/// so an answer can be checked byte for byte against the request it claims to answer without keeping a copy.
/// Payloads are at least <see cref="MinSize"/> bytes (the sequence number).
/// </summary>
public static class UdpEchoPayload
{
    public const int MinSize = 4;

    public static byte[] Build(uint seq, int size)
    {
        var b = new byte[Math.Max(MinSize, size)];
        BinaryPrimitives.WriteUInt32BigEndian(b, seq);
        for (int i = MinSize; i < b.Length; i++) b[i] = (byte)(seq + i);
        return b;
    }

    public static bool TryReadSequence(ReadOnlySpan<byte> payload, out uint seq)
    {
        seq = 0;
        if (payload.Length < MinSize) return false;
        seq = BinaryPrimitives.ReadUInt32BigEndian(payload);
        return true;
    }

    /// <summary>True when <paramref name="payload"/> is exactly the request <see cref="Build"/> made for its sequence number.</summary>
    public static bool Matches(ReadOnlySpan<byte> payload, int size)
    {
        if (!TryReadSequence(payload, out var seq) || payload.Length != Math.Max(MinSize, size)) return false;
        for (int i = MinSize; i < payload.Length; i++)
            if (payload[i] != (byte)(seq + i)) return false;
        return true;
    }
}

/// <summary>
/// Round-trip times of one run: min, max and mean over every sample, median over the first
/// <see cref="MaxSamples"/> samples (the bound keeps a long run's memory fixed).
/// </summary>
public sealed class RttSamples
{
    public const int MaxSamples = 100_000;
    private readonly List<long> _samples = new();
    private long _sum;

    public long Count { get; private set; }
    public long Min { get; private set; }
    public long Max { get; private set; }
    public long Mean => Count == 0 ? 0 : _sum / Count;

    public void Add(long ticks)
    {
        if (ticks < 0) ticks = 0;
        if (Count == 0 || ticks < Min) Min = ticks;
        if (ticks > Max) Max = ticks;
        Count++;
        _sum += ticks;
        if (_samples.Count < MaxSamples) _samples.Add(ticks);
    }

    /// <summary>The lower median of the kept samples (0 without samples).</summary>
    public long Median()
    {
        if (_samples.Count == 0) return 0;
        var sorted = _samples.ToArray();
        Array.Sort(sorted);
        return sorted[(sorted.Length - 1) / 2];
    }
}
