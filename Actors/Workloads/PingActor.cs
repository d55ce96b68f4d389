using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// iputils <c>ping -c COUNT -i INTERVAL -s SIZE -t TTL -W TIMEOUT [-w DEADLINE] DEST</c> on a host: a raw ICMP socket
/// (<c>socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)</c>) with <c>IP_TTL</c>; one echo request per interval
/// (<c>pinger</c>), read with blocking reads of whole IP packets: our echo replies (matched by identifier) and ICMP
/// errors quoting our requests (matched by the quoted identifier and sequence). Stops when every probe is answered
/// (<c>main_loop</c>'s exit test) or when the linger time after the last probe runs out (<c>__schedule_exit</c>);
/// with a deadline (<c>-w</c>) there is no linger: it stops when every probe is answered or at the deadline. Then prints the summary (<c>finish</c>) and closes the socket. Times are the scheduler's.
/// The identifier comes from a Random seeded with <c>seed</c> (iputils: <c>rand() &amp; 0xFFFF</c>).
/// </summary>
public sealed class PingActor : UntypedActor, IWithTimers
{
    /// <summary>Datagrams one read takes at most.</summary>
    private const int ReadBatch = 16;

    private sealed record ProbeTick
    {
        public static readonly ProbeTick Instance = new();
    }
    private sealed record ExitTick
    {
        public static readonly ExitTick Instance = new();
    }
    private sealed record DeadlineTick
    {
        public static readonly DeadlineTick Instance = new();
    }

    private readonly PingSettings _s;
    private readonly IActorRef _host;
    private readonly ushort _ident;
    private readonly PingStatistics _stats;
    private readonly OutputLines _out;
    private IActorRef _socket = ActorRefs.Nobody;
    private long _startTicks, _lastSendTicks;
    private bool _started, _done;

    public ITimerScheduler Timers { get; set; } = null!;

    public PingActor(PingSettings s, IActorRef host, IActorRef? output, int seed)
    {
        _s = s;
        _host = host;
        _ident = (ushort)(new Random(seed).Next() & 0xFFFF);
        _stats = new PingStatistics(s.Destination, s.Size);
        _out = new OutputLines(Context.System.EventStream, output, s.Host, "ping");
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Received m: OnReceived(m); break;
            case ProbeTick: SendProbe(); break;
            case Sent: break;
            case SocketCreated c:
                _socket = c.Socket;
                _socket.Tell(new SetSocketOption(SockOpt.IpTtl, _s.Ttl));
                break;
            case SocketOk ok:
                if (ok.Command is SetSocketOption && !_started) Start();
                break;
            case CommandFailed m: OnFailed(m); break;
            case ExitTick: Finish(); break;
            case DeadlineTick: Finish(); break; // iputils: the deadline's SIGALRM, then finish()
            case GetWorkloadStatus: Sender.Tell(Status()); break;
            default: Unhandled(message); break;
        }
    }

    private long Now => Context.System.Scheduler.Now.UtcTicks;

    protected override void PreStart() => _host.Tell(new SocketCreate(SockType.Raw, IpProtocol.Icmp));

    /// <summary><c>setup</c> then the first <c>pinger</c>: header, start time, the first read and probe.</summary>
    private void Start()
    {
        _started = true;
        _out.Print(_stats.Header(), Self);
        _startTicks = Now;
        if (_s.Deadline > TimeSpan.Zero) Timers.StartSingleTimer("deadline", DeadlineTick.Instance, _s.Deadline);
        _socket.Tell(new Recv(ReadBatch));
        SendProbe();
    }

    /// <summary><c>pinger</c> / <c>ping4_send_probe</c>: one echo request with the send time in its data.</summary>
    private void SendProbe()
    {
        if (_done) return;
        long now = Now;
        ushort seq = _stats.NextSequence();
        _lastSendTicks = now;
        // The timer first, then the send: whoever sees the request can rely on the timer being set.
        if (_s.Count <= 0 || _stats.Transmitted < _s.Count)
            Timers.StartSingleTimer("probe", ProbeTick.Instance, _s.Interval);
        else if (_s.Deadline <= TimeSpan.Zero) // with -w, main_loop waits for the answers until the deadline instead
            Timers.StartSingleTimer("exit", ExitTick.Instance, _stats.ExitWait(_s.Interval, _s.Timeout));
        _socket.Tell(new SendTo(IcmpEcho.BuildRequest(_ident, seq, _s.Size, now), _s.Destination));
    }

    private void OnFailed(CommandFailed f)
    {
        switch (f.Command)
        {
            case SendTo: // hard local error: the probe counts as sent (advance_ntransmitted), ping says why
                _out.Print(PingStatistics.SendError(f.Error), Self);
                break;
            case SocketCreate:
                _out.Print($"ping: socket: {Strerror.Of(f.Error)}", Self);
                Finish();
                break;
            case SetSocketOption:
                _out.Print($"ping: can't set unicast time-to-live: {Strerror.Of(f.Error)}", Self);
                Finish();
                break;
            // A read failing (EBADF once the socket closed) ends nothing more.
        }
    }

    private void OnReceived(Received r)
    {
        if (_done) return;
        _socket.Tell(new Recv(ReadBatch)); // next read first, as main_loop keeps reading
        long now = Now;
        foreach (var d in r.Datagrams) Parse(d, now);
        if (_s.Count > 0 && _stats.Transmitted >= _s.Count && _stats.AllAnswered(_s.Count)) Finish();
        else if (_s.Deadline > TimeSpan.Zero && _stats.Errors > 0) Finish(); // main_loop: "if (deadline && nerrors) break"
    }

    /// <summary><c>ping4_parse_reply</c>: our echo replies and the errors that quote our echo requests; all else is not ours.</summary>
    private void Parse(Datagram d, long now)
    {
        if (!IcmpMessage.TryParse(d.Payload, out var m)) return; // too short: "packet too short", not ours
        if (m.Type == IcmpType.EchoReply)
        {
            if (m.EchoId != _ident || !IcmpEcho.PatternIntact(m.Body.Span)) return;
            long recv = d.TstampTicks > 0 ? d.TstampTicks : now; // SO_TIMESTAMP, else the time of the read
            long tripUs = m.TryGetTimestamp(out var sent) ? (recv - sent) / 10 : 0;
            // -q: options & F_QUIET, no line per reply
            if (_stats.OnReply(m.Source, m.EchoSequence, m.Length, m.Ttl, tripUs, !m.ChecksumValid, _s.Quiet) is { } line) _out.Print(line, Self);
            return;
        }
        if (m.Type is IcmpType.Redirect or IcmpType.SourceQuench) return;
        if (!m.TryGetQuoted(out var q) || q.Protocol != IpProtocol.Icmp || q.IcmpType != IcmpType.Echo
            || q.Destination != _s.Destination || q.EchoId != _ident) return;
        var error = _stats.OnError(m.Source, q.EchoSequence, m.Type, m.Code, m.ErrorInfo);
        if (!_s.Quiet) _out.Print(error, Self);
    }

    /// <summary><c>finish</c>: the summary, then the socket is closed and the subscriber gets the final status.</summary>
    private void Finish()
    {
        if (_done) return;
        _done = true;
        Timers.CancelAll();
        _out.PrintAll(_stats.Summary(TimeSpan.FromTicks(Math.Max(0, _lastSendTicks - _startTicks))), Self);
        if (!_socket.IsNobody()) _socket.Tell(Close.Instance);
        _out.Completed(Status(), Self);
    }

    private PingStatus Status() => new(_s.Host, _s.Destination, _out.Snapshot(), _stats.Transmitted, _stats.Received,
        _stats.Errors, _stats.Repeats, _stats.Checksum, _stats.Received > 0 ? _stats.TminUs : 0, _stats.AvgUs,
        _stats.TmaxUs, _stats.MdevUs, _done);

    public static Props Props(PingSettings s, IActorRef host, IActorRef? output = null, int seed = 1)
        => FactoryProps.Of(() => new PingActor(s, host, output, seed));
}
