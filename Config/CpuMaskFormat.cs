using System.Globalization;

namespace ActorStack.Config;

/// <summary>
/// The sysfs CPU mask format (<c>bitmap_parse</c>, as <c>/sys/class/net/DEV/queues/rx-N/rps_cpus</c>): hex, most
/// significant first, in comma-separated 32-bit groups of at most 8 digits ("3", "00000003", "ffffffff,00000001").
/// </summary>
public static class CpuMaskFormat
{
    /// <summary>The CPU indexes set in <paramref name="mask"/>, ascending ("0": none); false on anything malformed.</summary>
    public static bool TryParse(string mask, out int[] cpus)
    {
        cpus = [];
        var groups = mask.Split(',');
        var list = new List<int>();
        for (int g = 0; g < groups.Length; g++)
        {
            var grp = groups[g];
            if (grp.Length is 0 or > 8 ||
                !uint.TryParse(grp, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint bits))
                return false;
            int baseCpu = (groups.Length - 1 - g) * 32;
            for (int b = 0; b < 32; b++)
                if ((bits >> b & 1) != 0) list.Add(baseCpu + b);
        }
        list.Sort();
        cpus = list.ToArray();
        return true;
    }
}
