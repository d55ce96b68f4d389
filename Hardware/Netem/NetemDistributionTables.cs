using ActorStack.Messages;
namespace ActorStack.Hardware.Netem;

/// <summary>
/// The delay tables tc loads from <c>/usr/lib/tc/{normal,pareto,paretonormal}.dist</c>, built here with
/// the same construction as iproute2's generators (netem/normal.c, pareto.c, paretonormal.c): 4096
/// signed 16-bit samples of the inverse CDF scaled by <c>NETEM_DIST_SCALE</c> (8192), so that
/// <c>tabledist</c> returns <c>mu + sigma * table[rnd % 4096] / 8192</c>.
/// </summary>
public static class NetemDistributionTables
{
    /// <summary><c>NETEM_DIST_SCALE</c>.</summary>
    public const int DistScale = 8192;
    private const int TableSize = 16384; // TABLESIZE of the generators; every 4th entry is kept

    private static readonly Lazy<short[]> NormalTable = new(BuildNormal);
    private static readonly Lazy<short[]> ParetoTable = new(BuildPareto);
    private static readonly Lazy<short[]> ParetoNormalTable = new(BuildParetoNormal);
    private static readonly Lazy<double[]> NormalInverse = new(BuildNormalInverse);

    /// <summary>The table for <paramref name="d"/>, or null for the table-less uniform default.</summary>
    public static short[]? For(NetemDistribution d) => d switch
    {
        NetemDistribution.Normal => NormalTable.Value,
        NetemDistribution.Pareto => ParetoTable.Value,
        NetemDistribution.ParetoNormal => ParetoNormalTable.Value,
        _ => null,
    };

    /// <summary>normal.c's inner table: table[i] = the last x in -10..10 step 0.00005 with rint(16384·Φ(x)) = i.</summary>
    private static double[] BuildNormalInverse()
    {
        var table = new double[TableSize + 1];
        for (double x = -10.0; x < 10.05; x += .00005)
        {
            int i = (int)Math.Round(TableSize * Phi(x), MidpointRounding.ToEven);
            table[i] = x;
        }
        return table;
    }

    private static short[] BuildNormal()
    {
        var inv = NormalInverse.Value;
        var t = new short[TableSize / 4];
        for (int i = 0, n = 0; i < TableSize; i += 4)
            t[n++] = Clip((int)Math.Round(inv[i] * DistScale, MidpointRounding.ToEven));
        return t;
    }

    private static short[] BuildPareto()
    {
        var t = new short[TableSize / 4];
        int n = 0;
        for (int i = 65536; i > 0; i -= 16)
            t[n++] = (short)ParetoValue(i);
        return t;
    }

    private static short[] BuildParetoNormal()
    {
        var inv = NormalInverse.Value;
        var t = new short[TableSize / 4];
        for (int i = 0, n = 0; i < TableSize; i += 4)
        {
            int normValue = (int)Math.Round(inv[i] * DistScale, MidpointRounding.ToEven);
            int parValue = ParetoValue(65536 - 4 * i);
            t[n++] = Clip((normValue + 3 * parValue) / 4);
        }
        return t;
    }

    /// <summary>Pareto with a = 3, shifted to mean 0 and scaled by 4/3 (pareto.c / paretovalue in paretonormal.c).</summary>
    private static int ParetoValue(int i)
    {
        double d = i / 65536.0;
        d = 1.0 / Math.Pow(d, 1.0 / 3.0);
        d -= 1.5;
        d *= 4.0 / 3.0 * DistScale;
        if (d > 32767) d = 32767;
        return (int)Math.Round(d, MidpointRounding.ToEven);
    }

    private static short Clip(int v) => (short)Math.Clamp(v, short.MinValue, short.MaxValue);

    /// <summary>Standard normal CDF, .5 + .5·erf(x/√2).</summary>
    private static double Phi(double x) => 0.5 + 0.5 * Erf(x / Math.Sqrt(2.0));

    /// <summary>
    /// erf by the all-positive series erf(z) = 2/√π · e^(−z²) · Σ 2ⁿ z^(2n+1) / (1·3·…·(2n+1)),
    /// accurate to a few ulp where it matters (|z| ≤ 6); beyond that erf is ±1 in double precision.
    /// </summary>
    internal static double Erf(double z)
    {
        double a = Math.Abs(z);
        if (a > 6.0) return Math.Sign(z);
        double term = a, sum = a, z2 = a * a;
        for (int n = 1; n < 500; n++)
        {
            term *= 2.0 * z2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        double r = 2.0 / Math.Sqrt(Math.PI) * Math.Exp(-z2) * sum;
        return z < 0 ? -r : r;
    }
}
