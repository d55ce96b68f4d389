using System.Globalization;
using ActorStack.Actors.Workloads;
using ActorStack.Messages;
using Spectre.Console;

namespace ActorStack.Cli;

/// <summary>
/// What the scenario did up to one progress tick, summed over its workloads: pktgen's frames sent and the UDP sinks'
/// datagrams read (the line's first columns, as <c>run</c> always printed them), TCP bytes the servers read and sent,
/// UDP echo requests sent and answered, pings transmitted and answered, and the engine's events (virtual clock).
/// </summary>
public sealed record ProgressSample(TimeSpan Elapsed, TimeSpan? Max, bool HasFrames, long PktgenSent, long SinkRead, long TcpBytes, bool HasTcp,
    long UdpSent, long UdpAnswered, bool HasUdpEcho, long PingTransmitted, long PingReceived, bool HasPing, long? Events)
{
    /// <summary>Sums the workloads' statuses (<see cref="GetWorkloadStatus"/> replies).</summary>
    public static ProgressSample From(TimeSpan elapsed, TimeSpan? max, IEnumerable<PktgenStatus> gens, IEnumerable<SinkStatus> sinks,
        IReadOnlyList<object> apps, long? events)
    {
        var g = gens.ToList();
        var k = sinks.ToList();
        var servers = apps.OfType<TcpServerStatus>().ToList();
        var bulk = apps.OfType<TcpBulkClientStatus>().ToList();
        var rr = apps.OfType<TcpRrClientStatus>().ToList();
        var echo = apps.OfType<UdpEchoClientStatus>().ToList();
        var echoServers = apps.OfType<UdpEchoServerStatus>().ToList();
        var pings = apps.OfType<PingStatus>().ToList();
        // TCP bytes moved: what the servers read and sent (each byte of a flow once), or the clients' bytes sent when the
        // server is not in the scenario (a TAP peer).
        long tcp = servers.Count > 0 ? servers.Sum(s => s.BytesRead + s.BytesSent) : bulk.Sum(b => b.BytesSent);
        return new ProgressSample(elapsed, max, g.Count + k.Count > 0, g.Sum(x => x.Sent), k.Sum(x => x.Datagrams), tcp, servers.Count + bulk.Count + rr.Count > 0,
            echo.Count > 0 ? echo.Sum(c => c.Sent) : 0, echo.Count > 0 ? echo.Sum(c => c.Answered) : echoServers.Sum(s => s.Echoed),
            echo.Count + echoServers.Count > 0, pings.Sum(p => p.Transmitted), pings.Sum(p => p.Received), pings.Count > 0, events);
    }

    /// <summary>
    /// The plain progress line: <c>[  60.0s] sent          0  read          0  (         0 datagrams/s)</c> (pktgen's frames
    /// and the UDP sinks' datagrams, when the scenario has any), then what
    /// else runs (<c>tcp 112.0 MB</c>, <c>udp echo 10/9</c> sent/answered, <c>ping 5/5</c> answered/sent) and the clock:
    /// <c>of 120.0s</c> (the end: <c>--duration</c> or <c>max-duration</c>) and <c>N events/s</c> (engine events per simulated second
    /// since the previous tick, virtual clock).
    /// </summary>
    public string Line(ProgressSample? previous)
    {
        double s = Elapsed.TotalSeconds;
        var line = FormattableString.Invariant($"[{s,6:F1}s]") + (HasFrames
            ? FormattableString.Invariant($" sent {PktgenSent,10}  read {SinkRead,10}  ({(s > 0 ? SinkRead / s : 0),10:F0} datagrams/s)")
            : "");
        var what = What();
        var clock = Clock(previous);
        foreach (var part in new[] { what, clock })
            if (part.Length > 0) line += (line.EndsWith(']') ? " " : "  ") + part;
        return line;
    }

    /// <summary>The workloads' part of the line: <c>tcp 112.0 MB, udp echo 10/9, ping 5/5</c>.</summary>
    public string What()
    {
        var parts = new List<string>();
        if (HasTcp) parts.Add($"tcp {Bytes(TcpBytes)}");
        if (HasUdpEcho) parts.Add(FormattableString.Invariant($"udp echo {UdpSent}/{UdpAnswered}"));
        if (HasPing) parts.Add(FormattableString.Invariant($"ping {PingReceived}/{PingTransmitted}"));
        return string.Join(", ", parts);
    }

    /// <summary>The clock's part: <c>of 120.0s, 70132 events/s</c>.</summary>
    public string Clock(ProgressSample? previous)
    {
        var parts = new List<string>();
        if (Max is { } m) parts.Add(FormattableString.Invariant($"of {m.TotalSeconds:F1}s"));
        if (Events is { } ev)
        {
            var dt = (Elapsed - (previous?.Elapsed ?? TimeSpan.Zero)).TotalSeconds;
            var de = ev - (previous?.Events ?? 0);
            if (dt > 0) parts.Add(FormattableString.Invariant($"{de / dt:F0} events/s"));
        }
        return string.Join(", ", parts);
    }

    /// <summary>Bytes as iperf3 prints them (1024-based): <c>512 Bytes</c>, <c>1.5 KBytes</c>, <c>112.0 MBytes</c>, <c>2.00 GBytes</c>.</summary>
    public static string Bytes(long b) => b switch
    {
        < 1024 => FormattableString.Invariant($"{b} Bytes"),
        < 1024 * 1024 => FormattableString.Invariant($"{b / 1024.0:0.0} KBytes"),
        < 1024L * 1024 * 1024 => FormattableString.Invariant($"{b / (1024.0 * 1024):0.0} MBytes"),
        _ => FormattableString.Invariant($"{b / (1024.0 * 1024 * 1024):0.00} GBytes"),
    };
}

/// <summary>
/// Where progress goes: plain lines on the run's output (redirected output, CI, tests), or a live Spectre.Console
/// progress bar on an interactive terminal (simulated time against the run's end, the workloads' counters beside it).
/// </summary>
public abstract class ProgressView
{
    public abstract void Show(ProgressSample sample, ProgressSample? previous);

    public static async Task<T> Around<T>(bool live, TextWriter o, bool quiet, Func<ProgressView, Task<T>> body)
    {
        if (!live) return await body(new Lines(o, quiet));
        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: 1);
                result = await body(new Bar(task));
                task.Value = task.MaxValue;
                task.StopTask();
            });
        return result;
    }

    private sealed class Lines(TextWriter o, bool quiet) : ProgressView
    {
        public override void Show(ProgressSample sample, ProgressSample? previous)
        {
            if (!quiet) o.WriteLine(sample.Line(previous));
        }
    }

    private sealed class Bar(ProgressTask task) : ProgressView
    {
        public override void Show(ProgressSample sample, ProgressSample? previous)
        {
            double s = sample.Elapsed.TotalSeconds;
            task.MaxValue = sample.Max?.TotalSeconds ?? Math.Max(s * 2, 1);
            task.Value = Math.Min(s, task.MaxValue);
            var parts = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{s:F1}s") };
            if (sample.HasFrames) parts.Add(FormattableString.Invariant($"pktgen {sample.PktgenSent}, read {sample.SinkRead}"));
            if (sample.What() is { Length: > 0 } w) parts.Add(w);
            if (sample.Clock(previous) is { Length: > 0 } c) parts.Add(c);
            task.Description = Markup.Escape(string.Join("  ", parts));
        }
    }
}
