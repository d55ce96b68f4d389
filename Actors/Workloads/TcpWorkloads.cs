using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// The bulk test's stream: a 13-byte header from the client (mode: 0 the client sends, 1 the server sends; the byte
/// count the server sends in reverse mode, 0 = until the client half-closes; the payload seed), then the payload,
/// which repeats one <see cref="BlockSize"/> block drawn from <c>Random(seed)</c>. In forward mode the server answers
/// the client's FIN with a 40-byte trailer: the payload bytes it read and their SHA-256. In reverse mode the server ends
/// its payload with an 8-byte trailer, its retransmitted segments (what iperf3's results exchange gives <c>-R</c>'s
/// sender line), before its FIN.
/// </summary>
public static class BulkStream
{
    public const int BlockSize = 128 * 1024;
    public const int HeaderLength = 13;
    public const int TrailerLength = 8 + 32;
    public const int RetransTrailerLength = 8;
    /// <summary>Sends a bulk sender keeps outstanding per socket (two 128 KiB writes keep the send buffer fed).</summary>
    public const int SendsInFlight = 2;

    public static byte[] Block(int seed)
    {
        var b = new byte[BlockSize];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>The next write of the payload at stream offset <paramref name="offset"/>, at most <paramref name="remaining"/> bytes.</summary>
    public static ReadOnlyMemory<byte> Chunk(byte[] block, long offset, long remaining)
    {
        int at = (int)(offset % BlockSize);
        return block.AsMemory(at, (int)Math.Min(BlockSize - at, remaining));
    }

    public static byte[] Header(bool reverse, long bytes, int seed)
    {
        var h = new byte[HeaderLength];
        h[0] = reverse ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(h.AsSpan(1), bytes);
        BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(9), seed);
        return h;
    }

    public static (bool Reverse, long Bytes, int Seed) ReadHeader(ReadOnlySpan<byte> h)
        => (h[0] == 1, BinaryPrimitives.ReadInt64BigEndian(h[1..]), BinaryPrimitives.ReadInt32BigEndian(h[9..]));

    public static byte[] RetransTrailer(long retrans)
    {
        var t = new byte[RetransTrailerLength];
        BinaryPrimitives.WriteInt64BigEndian(t, retrans);
        return t;
    }

    public static byte[] Trailer(long bytes, byte[] sha256)
    {
        var t = new byte[TrailerLength];
        BinaryPrimitives.WriteInt64BigEndian(t, bytes);
        sha256.CopyTo(t, 8);
        return t;
    }
}

/// <summary>iperf3's number formatting (<c>unit_snprintf</c>) and its report lines.</summary>
public static class IperfFormat
{
    public const string IntervalHeaderSender = "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd";
    public const string IntervalHeaderReceiver = "[ ID] Interval           Transfer     Bitrate";
    public const string SummaryHeader = "[ ID] Interval           Transfer     Bitrate         Retr";
    public const string Separator = "- - - - - - - - - - - - - - - - - - - - - - - - -";

    /// <summary>
    /// <c>unit_snprintf</c> with adaptive units: bytes in powers of 1024 ("112 MBytes"), bits in powers of 1000
    /// ("941 Mbits"); 3 significant digits (%4.2f below 9.995, %4.1f below 99.95, else %4.0f).
    /// </summary>
    public static string Unit(double value, bool bits)
    {
        double div = bits ? 1000 : 1024;
        string[] names = bits ? ["bits", "Kbits", "Mbits", "Gbits", "Tbits"] : ["Bytes", "KBytes", "MBytes", "GBytes", "TBytes"];
        int u = 0;
        while (value >= div && u < names.Length - 1) { value /= div; u++; }
        string fmt = value < 9.995 ? "F2" : value < 99.95 ? "F1" : "F0";
        return $"{value.ToString(fmt, CultureInfo.InvariantCulture),4} {names[u]}";
    }

    public static string Bytes(long bytes) => Unit(bytes, bits: false);

    public static string Bitrate(long bytes, double seconds) => Unit(seconds > 0 ? bytes * 8 / seconds : 0, bits: true) + "/sec";

    private static string Span(int id, double start, double end)
        => string.Create(CultureInfo.InvariantCulture, $"[{(id < 0 ? "SUM" : id.ToString(CultureInfo.InvariantCulture)),3}] {start,6:F2}-{end,-6:F2} sec");

    /// <summary>An interval line of the sender: Transfer, Bitrate, Retr, Cwnd (<c>report_bw_retrans_cwnd_format</c>).</summary>
    public static string SenderInterval(int id, double start, double end, long bytes, long retr, long cwndBytes)
        => $"{Span(id, start, end)}  {Bytes(bytes)}  {Bitrate(bytes, end - start)}  {retr,3}   {Bytes(cwndBytes)}";

    /// <summary>An interval line of the receiver: Transfer, Bitrate (<c>report_bw_format</c>).</summary>
    public static string ReceiverInterval(int id, double start, double end, long bytes)
        => $"{Span(id, start, end)}  {Bytes(bytes)}  {Bitrate(bytes, end - start)}";

    /// <summary>A summary line: "sender" (with Retr when known) or "receiver".</summary>
    public static string Summary(int id, double start, double end, long bytes, long? retr, string role)
        => $"{Span(id, start, end)}  {Bytes(bytes)}  {Bitrate(bytes, end - start)}  {(retr is { } r ? r.ToString(CultureInfo.InvariantCulture) : ""),3}             {role}";

    public static string Hex(byte[] b) => Convert.ToHexStringLower(b);
}

/// <summary>Latency samples in scheduler ticks, bounded: past <see cref="MaxSamples"/> a seeded reservoir keeps a uniform sample.</summary>
public sealed class LatencySamples(int seed)
{
    public const int MaxSamples = 1 << 20;
    private readonly List<long> _samples = new();
    private readonly Random _rng = new(seed);
    private long _sum;

    public long Count { get; private set; }
    public long Min { get; private set; } = long.MaxValue;
    public long Max { get; private set; }
    public double Mean => Count == 0 ? 0 : _sum / (double)Count;

    public void Add(long ticks)
    {
        Count++;
        _sum += ticks;
        Min = Math.Min(Min, ticks);
        Max = Math.Max(Max, ticks);
        if (_samples.Count < MaxSamples) _samples.Add(ticks);
        else if (_rng.NextInt64(Count) is var j && j < MaxSamples) _samples[(int)j] = ticks; // Algorithm R
    }

    /// <summary>The <paramref name="p"/>-th percentile (nearest rank) of the kept samples; 0 when there are none.</summary>
    public long Percentile(double p)
    {
        if (_samples.Count == 0) return 0;
        var sorted = _samples.ToArray();
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary><c>ss -tanmi</c>: every TCP socket of a host, with its memory line (from the host's socket snapshot) and <c>-i</c> line.</summary>
public static class SsTcp
{
    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// The listing as <c>ss -tanmi</c> prints it: a line per socket (State, Recv-Q, Send-Q, Local Address:Port,
    /// Peer Address:Port), then for a connection <c>skmem:(r,rb,t,tb)</c> when the host's snapshot has the socket's
    /// buffers, and the <c>-i</c> line (ts sack cubic wscale:snd,rcv rto rtt:srtt/rttvar mss cwnd ssthresh bytes_acked
    /// bytes_received unacked retrans:cur/total).
    /// </summary>
    public static string Format(IEnumerable<TcpSocketInfo> sockets, IEnumerable<SocketInfo>? buffers = null)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("State       Recv-Q  Send-Q   Local Address:Port     Peer Address:Port");
        var bufs = (buffers ?? []).Where(b => b.Type == SockType.Stream).ToList();
        foreach (var s in sockets)
        {
            var peer = s.RemotePort == 0 ? $"{s.RemoteAddress}:*" : $"{s.RemoteAddress}:{s.RemotePort}";
            sb.AppendLine($"{s.State,-11} {s.RecvQueue,6} {s.SendQueue,7}   {$"{s.LocalAddress}:{s.LocalPort}",-22} {peer}");
            if (s.State is "LISTEN" or "UNCONN" or "TIME-WAIT") continue; // ss has no memory or -i line for these
            var b = bufs.FirstOrDefault(x => x.LocalPort == s.LocalPort && x.RemotePort == s.RemotePort && x.RemoteAddress == s.RemoteAddress);
            if (b is not null) sb.AppendLine($"\t skmem:(r{s.RecvQueue},rb{b.RcvBuf},t{s.SendQueue},tb{b.SndBuf})");
            var i = new System.Text.StringBuilder("\t");
            if (s.Timestamps) i.Append(" ts");
            if (s.Sack) i.Append(" sack");
            i.Append(' ').Append(s.CongestionControl.ToLowerInvariant());
            i.Append($" wscale:{s.SndWscale},{s.RcvWscale} rto:{Ms(s.Rto)} rtt:{Ms(s.Rtt)}/{Ms(s.RttVar)} mss:{s.Mss} cwnd:{s.Cwnd}");
            if (s.SsThresh is > 0 and < int.MaxValue) i.Append($" ssthresh:{s.SsThresh}");
            i.Append($" bytes_acked:{s.BytesAcked} bytes_received:{s.BytesReceived}");
            if (s.Unacked > 0) i.Append($" unacked:{s.Unacked}");
            i.Append($" retrans:0/{s.Retrans}");
            sb.AppendLine(i.ToString());
        }
        return sb.ToString();
    }
}
