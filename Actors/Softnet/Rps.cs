using System.Globalization;
using ActorStack.Config;

namespace ActorStack.Actors.Softnet;

/// <summary>Receive Packet Steering helpers (net/core/dev.c, net-sysfs.c).</summary>
public static class Rps
{
    /// <summary>Linux <c>reciprocal_scale</c>: maps a 32-bit value into [0, n) by multiply and shift.</summary>
    public static uint ReciprocalScale(uint val, uint n) => (uint)(((ulong)val * n) >> 32);

    /// <summary>
    /// <c>get_rps_cpu</c>: <c>map->cpus[reciprocal_scale(hash, map->len)]</c>. Returns -1 (no steering:
    /// the packet stays on the CPU that received it) when the map is empty or the packet has no hash
    /// (<c>if (!hash) goto done</c>).
    /// </summary>
    public static int SelectCpu(uint hash, ReadOnlySpan<int> rpsCpus)
    {
        if (rpsCpus.IsEmpty || hash == 0) return -1;
        return rpsCpus[(int)ReciprocalScale(hash, (uint)rpsCpus.Length)];
    }

    /// <summary>
    /// Parses the sysfs <c>/sys/class/net/DEV/queues/rx-N/rps_cpus</c> format (<c>bitmap_parse</c>):
    /// hex, most significant first, optionally in comma-separated 32-bit groups of at most 8 digits
    /// ("3", "00000003", "ffffffff,00000001"); a trailing newline is allowed, as <c>echo</c> writes it.
    /// Returns the set CPU indexes in ascending order ("0" → empty: RPS off).
    /// Throws <see cref="FormatException"/> naming the value on anything else (this is configuration).
    /// </summary>
    public static int[] ParseCpuMask(string hexMask)
    {
        ArgumentNullException.ThrowIfNull(hexMask);
        if (!CpuMaskFormat.TryParse(hexMask.TrimEnd('\n'), out var cpus))
            throw new FormatException($"invalid rps_cpus mask '{hexMask}': expected hex in comma-separated groups of up to 8 digits");
        return cpus;
    }

    /// <summary>Formats CPU indexes back into the sysfs mask form (32-bit groups, comma separated).</summary>
    public static string FormatCpuMask(ReadOnlySpan<int> cpus)
    {
        int max = -1;
        foreach (var c in cpus)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(c);
            max = Math.Max(max, c);
        }
        var groups = new uint[max < 0 ? 1 : max / 32 + 1];
        foreach (var c in cpus) groups[c / 32] |= 1u << (c % 32);
        return string.Join(",", Enumerable.Reverse(groups).Select(g => g.ToString("x8", CultureInfo.InvariantCulture)));
    }
}
