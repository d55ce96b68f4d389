using System.Globalization;

namespace ActorStack.Config;

// The TCP workloads of a scenario: tcp-bulk-server / tcp-bulk-client (iperf3-like) and tcp-rr-server / tcp-rr-client
// (netperf TCP_RR-like).
public static partial class StackConfig
{
    /// <summary>Largest byte count of a bulk test (1 TiB).</summary>
    private const long MaxBulkBytes = 1L << 40;

    private static TcpBulkServerSettings ReadTcpBulkServer(Reader r, Dictionary<string, object?> w, string wp, string host)
    {
        r.KnownKeys(w, wp, ["type", "host", "bind"]);
        var (addr, port) = r.Endpoint(w, "bind", wp, allowAny: true);
        return new TcpBulkServerSettings(host, addr, port);
    }

    private static TcpBulkClientSettings ReadTcpBulkClient(Reader r, Dictionary<string, object?> w, string wp, string host)
    {
        r.KnownKeys(w, wp, ["type", "host", "server", "bytes", "time", "interval", "reverse", "parallel", "congestion", "nodelay", "seed"]);
        var (addr, port) = r.Endpoint(w, "server", wp, allowAny: false);
        long bytes = r.ByteCount(w, "bytes", wp, 1, MaxBulkBytes, 0);
        if (bytes > 0 && w.ContainsKey("time")) r.Error($"{wp}.time", w["time"], "give either bytes or time, not both");
        var cc = (w.GetValueOrDefault("congestion") as string)?.ToLowerInvariant();
        var congestion = TcpCongestion.Cubic;
        if (cc == "reno") congestion = TcpCongestion.Reno;
        else if (cc is not (null or "cubic")) r.Error($"{wp}.congestion", w["congestion"], "must be cubic or reno");
        return new TcpBulkClientSettings(host, addr, port,
            Bytes: bytes,
            Time: r.DurationOr(w, "time", wp, bytes > 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(24)),
            Interval: r.DurationOr(w, "interval", wp, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1)),
            Reverse: w.ContainsKey("reverse") && r.Bool(w, "reverse", wp),
            Parallel: r.Int(w, "parallel", wp, 1, 128, 1),
            Congestion: congestion,
            NoDelay: w.ContainsKey("nodelay") && r.Bool(w, "nodelay", wp))
        {
            PayloadSeed = r.Int(w, "seed", wp, int.MinValue, int.MaxValue, 1),
        };
    }

    private static TcpRrServerSettings ReadTcpRrServer(Reader r, Dictionary<string, object?> w, string wp, string host)
    {
        r.KnownKeys(w, wp, ["type", "host", "bind", "request", "response"]);
        var (addr, port) = r.Endpoint(w, "bind", wp, allowAny: true);
        return new TcpRrServerSettings(host, addr, port,
            Request: (int)r.ByteCount(w, "request", wp, 1, 1 << 20, 1),
            Response: (int)r.ByteCount(w, "response", wp, 1, 1 << 20, 1));
    }

    private static TcpRrClientSettings ReadTcpRrClient(Reader r, Dictionary<string, object?> w, string wp, string host)
    {
        r.KnownKeys(w, wp, ["type", "host", "server", "request", "response", "count", "time", "connections"]);
        var (addr, port) = r.Endpoint(w, "server", wp, allowAny: false);
        long count = r.Long(w, "count", wp, 1, long.MaxValue / 2, 0);
        if (count > 0 && w.ContainsKey("time")) r.Error($"{wp}.time", w["time"], "give either count or time, not both");
        return new TcpRrClientSettings(host, addr, port,
            Request: (int)r.ByteCount(w, "request", wp, 1, 1 << 20, 1),
            Response: (int)r.ByteCount(w, "response", wp, 1, 1 << 20, 1),
            Count: count,
            Time: r.DurationOr(w, "time", wp, count > 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(24)),
            Connections: r.Int(w, "connections", wp, 1, 4096, 1));
    }

    private sealed partial class Reader
    {
        /// <summary>
        /// A byte count as iperf3 takes it: an integer with an optional K, M, G or T suffix (powers of 1024, also KB/MB/...),
        /// between <paramref name="min"/> and <paramref name="max"/>, or <paramref name="def"/> when absent.
        /// </summary>
        public long ByteCount(Dictionary<string, object?> d, string key, string path, long min, long max, long def)
        {
            var v = d.GetValueOrDefault(key);
            if (v is null) return def;
            if (v is not string s || !TryByteCount(s, out var n))
            {
                Error($"{path}.{key}", v, "must be a byte count such as 1000, 64K or 16M");
                return def;
            }
            if (n < min || n > max)
            {
                Error($"{path}.{key}", v, $"must be between {min} and {max} bytes");
                return def;
            }
            return n;
        }

        public static bool TryByteCount(string s, out long n)
        {
            n = 0;
            s = s.Trim();
            int i = 0;
            while (i < s.Length && char.IsDigit(s[i])) i++;
            if (i == 0 || !long.TryParse(s[..i], NumberStyles.None, CultureInfo.InvariantCulture, out var v)) return false;
            int shift = s[i..].Trim().ToUpperInvariant() switch
            {
                "" or "B" => 0,
                "K" or "KB" or "KIB" => 10,
                "M" or "MB" or "MIB" => 20,
                "G" or "GB" or "GIB" => 30,
                "T" or "TB" or "TIB" => 40,
                _ => -1,
            };
            if (shift < 0 || v > long.MaxValue >> shift) return false;
            n = v << shift;
            return true;
        }
    }
}
