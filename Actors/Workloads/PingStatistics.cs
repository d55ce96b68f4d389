using System.Globalization;
using ActorStack.Actors.Ipv4;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// iputils ping's bookkeeping and output (ping_common.c: <c>gather_statistics</c>, <c>acknowledge</c>,
/// <c>finish</c>; ping.c: <c>pr_icmph</c>, <c>ping4_receive_error_msg</c>), as a plain class: every method takes
/// the times it needs and returns the line ping would print. RTTs are kept in microseconds as iputils keeps them
/// (triptime = receive time − the timestamp the reply carries). Sequence numbers start at 1.
/// </summary>
public sealed class PingStatistics
{
    /// <summary><c>MAX_DUP_CHK</c>: sequence numbers the duplicate table remembers.</summary>
    public const int MaxDupChk = 0x10000;

    private readonly Ipv4Address _dst;
    private readonly int _datalen;
    private readonly DupTable _rcvd = new();
    private ushort _acked;
    private long _tsum, _tsum2;

    public PingStatistics(Ipv4Address destination, int datalen)
    {
        _dst = destination;
        _datalen = Math.Max(0, datalen);
    }

    public long Transmitted { get; private set; }
    public long Received { get; private set; }
    public long Repeats { get; private set; }
    public long Checksum { get; private set; }
    public long Errors { get; private set; }
    public long TminUs { get; private set; } = long.MaxValue;
    public long TmaxUs { get; private set; }
    /// <summary>Most probes outstanding when an answer came (iputils' <c>pipesize</c>; −1 until the first answer).</summary>
    public int PipeSize { get; private set; } = -1;
    /// <summary>iputils' <c>timing</c>: the data has room for the send timestamp.</summary>
    public bool Timing => _datalen >= IcmpEcho.TimestampLength;

    /// <summary><c>PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.</c></summary>
    public string Header() => $"PING {_dst} ({_dst}) {_datalen}({_datalen + IcmpEcho.HeaderLength + Ipv4Header.MinLength}) bytes of data.";

    /// <summary>Counts a probe about to be sent (<c>advance_ntransmitted</c>, <c>rcvd_clear</c>) and returns its sequence number.</summary>
    public ushort NextSequence()
    {
        ushort seq = (ushort)(Transmitted + 1);
        _rcvd.Clear(seq % MaxDupChk);
        Transmitted++;
        if ((ushort)((ushort)Transmitted - _acked) > 0x7FFF) _acked = (ushort)((ushort)Transmitted + 1);
        return seq;
    }

    /// <summary>
    /// An echo reply for one of our probes (<c>gather_statistics</c>): <paramref name="icmpLength"/> is the ICMP
    /// length (header + data, "cc"), <paramref name="tripUs"/> the round trip in microseconds (ignored without timing).
    /// Returns the printed line, or null when <paramref name="quiet"/> (<c>-q</c>: no line is printed, none is built).
    /// </summary>
    public string? OnReply(Ipv4Address from, ushort seq, int icmpLength, int ttl, long tripUs, bool checksumFailed, bool quiet = false)
    {
        Received++;
        if (!checksumFailed) Acknowledge(seq);
        bool timed = Timing && icmpLength >= IcmpEcho.HeaderLength + IcmpEcho.TimestampLength;
        if (!timed) tripUs = 0;
        if (tripUs < 0) tripUs = 0; // "time of day goes back": iputils takes countermeasures and uses 0
        if (timed && !checksumFailed)
        {
            _tsum += tripUs;
            _tsum2 += tripUs * tripUs;
            if (tripUs < TminUs) TminUs = tripUs;
            if (tripUs > TmaxUs) TmaxUs = tripUs;
        }
        bool dup = false;
        if (checksumFailed) { Checksum++; Received--; }
        else if (_rcvd.Get(seq % MaxDupChk)) { Repeats++; Received--; dup = true; }
        else _rcvd.Set(seq % MaxDupChk);
        if (quiet) return null;

        var line = $"{icmpLength} bytes from {from}: icmp_seq={seq} ttl={ttl}";
        if (icmpLength < _datalen + IcmpEcho.HeaderLength) return line + " (truncated)";
        if (Timing) line += " time=" + FormatTripTime(tripUs);
        if (dup) line += " (DUP!)";
        if (checksumFailed) line += " (BAD CHECKSUM!)";
        return line;
    }

    /// <summary>
    /// An ICMP error quoting one of our probes (<c>ping4_receive_error_msg</c>, SO_EE_ORIGIN_ICMP): counted in
    /// <c>nerrors</c>, acknowledged, printed as <c>From 10.0.1.1 icmp_seq=1 Time to live exceeded</c>.
    /// </summary>
    public string OnError(Ipv4Address from, ushort seq, byte type, byte code, uint info)
    {
        Acknowledge(seq);
        Errors++;
        return $"From {from} icmp_seq={seq} {Describe(type, code, info)}";
    }

    /// <summary>A local send error (pinger's hard local error): the probe counts as transmitted; ping prints <c>ping: sendmsg: ...</c>.</summary>
    public static string SendError(Messages.Errno e) => $"ping: sendmsg: {Strerror.Of(e)}";

    /// <summary>main_loop's exit test: as many answers (replies and errors) as probes asked for.</summary>
    public bool AllAnswered(long count) => Received + Errors >= count;

    /// <summary>
    /// How long ping lingers after its last probe (<c>__schedule_exit</c>): twice the largest RTT, at least one
    /// interval, once something came back; else the <c>-W</c> linger time.
    /// </summary>
    public TimeSpan ExitWait(TimeSpan interval, TimeSpan linger)
    {
        if (Received == 0) return linger;
        var twice = TimeSpan.FromTicks(2 * TmaxUs * 10);
        return twice < interval ? interval : twice;
    }

    /// <summary>iputils' <c>acknowledge</c>: tracks the pipe size and the highest sequence answered.</summary>
    private void Acknowledge(ushort seq)
    {
        ushort diff = (ushort)((ushort)Transmitted - seq);
        if (diff > 0x7FFF) return;
        if (diff + 1 > PipeSize) PipeSize = diff + 1;
        if ((short)(seq - _acked) > 0 || (ushort)((ushort)Transmitted - _acked) > 0x7FFF) _acked = seq;
    }

    public long AvgUs => Received + Repeats > 0 ? _tsum / (Received + Repeats) : 0;

    /// <summary>The mean deviation as <c>finish</c> computes it: integer variance, then <c>llsqrt</c>.</summary>
    public long MdevUs
    {
        get
        {
            long total = Received + Repeats;
            if (total == 0) return 0;
            long tmvar = _tsum < int.MaxValue
                ? (_tsum2 - _tsum * _tsum / total) / total
                : _tsum2 / total - AvgUs * AvgUs;
            return LlSqrt(tmvar);
        }
    }

    /// <summary>
    /// The summary <c>finish</c> prints: an empty line, <c>--- DST ping statistics ---</c>, the counts line and,
    /// when something came back with timing, the <c>rtt min/avg/max/mdev</c> line (with <c>pipe N</c> appended, or
    /// alone, when more than one probe was outstanding). <paramref name="elapsed"/> is from the start to the last
    /// probe sent (<c>cur_time - start_time</c>).
    /// </summary>
    public IReadOnlyList<string> Summary(TimeSpan elapsed)
    {
        var lines = new List<string> { "", $"--- {_dst} ping statistics ---" };
        var counts = $"{Transmitted} packets transmitted, {Received} received";
        if (Repeats > 0) counts += $", +{Repeats} duplicates";
        if (Checksum > 0) counts += $", +{Checksum} corrupted";
        if (Errors > 0) counts += $", +{Errors} errors";
        if (Transmitted > 0)
        {
            float loss = (float)((Transmitted - Received) * 100.0 / Transmitted);
            long ms = (elapsed.Ticks + TimeSpan.TicksPerMillisecond / 2) / TimeSpan.TicksPerMillisecond;
            counts += $", {FormatG(loss)}% packet loss, time {ms}ms";
        }
        lines.Add(counts);
        var last = "";
        string comma = "";
        if (Received > 0 && Timing)
        {
            last = $"rtt min/avg/max/mdev = {Us(TminUs)}/{Us(AvgUs)}/{Us(TmaxUs)}/{Us(MdevUs)} ms";
            comma = ", ";
        }
        if (PipeSize > 1) last += $"{comma}pipe {PipeSize}";
        if (last.Length > 0) lines.Add(last);
        return lines;
    }

    /// <summary>gather_statistics' time format: 3 decimals under 1 ms, 2 under 10 ms, 1 under 100 ms, else whole ms.</summary>
    public static string FormatTripTime(long us)
    {
        if (us >= 100000 - 50) return $"{(us + 500) / 1000} ms";
        if (us >= 10000 - 5) return $"{(us + 50) / 1000}.{(us + 50) % 1000 / 100} ms";
        if (us >= 1000) return $"{(us + 5) / 1000}.{(us + 5) % 1000 / 10:D2} ms";
        return $"{us / 1000}.{us % 1000:D3} ms";
    }

    private static string Us(long us) => $"{us / 1000}.{us % 1000:D3}";

    /// <summary>printf's <c>%g</c> (6 significant digits, trailing zeros removed) for the loss percentage.</summary>
    public static string FormatG(float v) => ((double)v).ToString("G6", CultureInfo.InvariantCulture);

    private static long LlSqrt(long a)
    {
        long prev = long.MaxValue, x = a;
        if (x > 0)
            while (x < prev) { prev = x; x = (x + a / x) / 2; }
        return x;
    }

    /// <summary>
    /// iputils' <c>pr_icmph</c> text for an ICMP type and code; <paramref name="info"/> is the kernel's
    /// <c>ee_info</c>: the MTU for fragmentation needed, the pointer for a parameter problem, the gateway of a redirect.
    /// </summary>
    public static string Describe(byte type, byte code, uint info) => type switch
    {
        IcmpType.EchoReply => "Echo Reply",
        IcmpType.DestUnreach => code switch
        {
            0 => "Destination Net Unreachable",
            1 => "Destination Host Unreachable",
            2 => "Destination Protocol Unreachable",
            3 => "Destination Port Unreachable",
            4 => $"Frag needed and DF set (mtu = {info})",
            5 => "Source Route Failed",
            6 => "Destination Net Unknown",
            7 => "Destination Host Unknown",
            8 => "Source Host Isolated",
            9 => "Destination Net Prohibited",
            10 => "Destination Host Prohibited",
            11 => "Destination Net Unreachable for Type of Service",
            12 => "Destination Host Unreachable for Type of Service",
            13 => "Packet filtered",
            14 => "Precedence Violation",
            15 => "Precedence Cutoff",
            _ => $"Dest Unreachable, Bad Code: {code}",
        },
        IcmpType.SourceQuench => "Source Quench",
        IcmpType.Redirect => code switch
        {
            0 => "Redirect Network",
            1 => "Redirect Host",
            2 => "Redirect Type of Service and Network",
            3 => "Redirect Type of Service and Host",
            _ => $"Redirect, Bad Code: {code}",
        } + $"(New nexthop: {new Ipv4Address(info)})",
        IcmpType.Echo => "Echo Request",
        IcmpType.TimeExceeded => code switch
        {
            0 => "Time to live exceeded",
            1 => "Frag reassembly time exceeded",
            _ => $"Time exceeded, Bad Code: {code}",
        },
        IcmpType.ParameterProb => $"Parameter problem: pointer = {info}",
        _ => $"Bad ICMP type: {type}",
    };

    /// <summary>
    /// iputils' <c>rcvd_tbl</c>: a bit per sequence number modulo <see cref="MaxDupChk"/>, kept in pages of 4,096
    /// bits made when a bit in them is first set (a ping that sends a probe a second uses one page in its first
    /// hour instead of the whole 8 KiB table). A bit in a page never made reads as clear.
    /// </summary>
    private sealed class DupTable
    {
        private const int PageBits = 4096;
        private readonly ulong[]?[] _pages = new ulong[]?[MaxDupChk / PageBits];

        public bool Get(int bit) => _pages[bit / PageBits] is { } p && (p[bit % PageBits >> 6] & 1UL << (bit & 63)) != 0;

        public void Set(int bit) => (_pages[bit / PageBits] ??= new ulong[PageBits / 64])[bit % PageBits >> 6] |= 1UL << (bit & 63);

        public void Clear(int bit)
        {
            if (_pages[bit / PageBits] is { } p) p[bit % PageBits >> 6] &= ~(1UL << (bit & 63));
        }
    }
}
