using System.Globalization;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Actors;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// A netperf TCP_RR-like client: <c>Connections</c> connections, each with one transaction at a time (a
/// <c>Request</c>-byte write, then reads until the <c>Response</c> bytes came). The test runs <c>Count</c>
/// transactions in all or for <c>Time</c> (a timer; scheduler time only); latency is the scheduler time from the
/// write to the last response byte. Prints netperf's TCP_RR table and the latency line, then closes its sockets.
/// </summary>
public sealed class TcpRrClientActor : ReceiveActor, IWithTimers
{
    private sealed record EndTick
    {
        public static readonly EndTick Instance = new();
    }

    private sealed class Conn(IActorRef socket)
    {
        public readonly IActorRef Socket = socket;
        public bool Connected, Idle, Done;
        public long SentAt, Got;
    }

    private readonly TcpRrClientSettings _s;
    private readonly IActorRef _host;
    private readonly OutputLines _out;
    private readonly Dictionary<IActorRef, Conn> _conns = new(ActorRefComparer.Instance);
    private readonly ReadOnlyMemory<byte> _request;
    private readonly LatencySamples _latency;
    private long _issued, _completed, _startTicks, _endTicks;
    private int _errors;
    private bool _running, _stopping, _done;
    private Errno _lastError;

    public ITimerScheduler Timers { get; set; } = null!;

    public TcpRrClientActor(TcpRrClientSettings s, IActorRef host, IActorRef? output, int seed)
    {
        _s = s;
        _host = host;
        _out = new OutputLines(Context.System.EventStream, output, s.Host, "tcp-rr-client");
        _request = new byte[s.Request];
        _latency = new LatencySamples(seed);
        Receive<SocketCreated>(c =>
        {
            _conns[c.Socket] = new Conn(c.Socket);
            c.Socket.Tell(new StreamConnect(_s.Server, _s.Port));
        });
        Receive<SocketOk>(ok =>
        {
            if (ok.Command is not StreamConnect || !_conns.TryGetValue(Sender, out var c)) return;
            c.Connected = true;
            MaybeStart();
        });
        Receive<StreamData>(OnData);
        Receive<Sent>(_ => { });
        Action<CommandFailed> onFailed = f =>
        {
            if (!_conns.TryGetValue(Sender, out var c) || c.Done) return;
            _errors++;
            _lastError = f.Error;
            if (f.Command is StreamConnect) _out.Print($"netperf: connect to {_s.Server}:{_s.Port}: {Strerror.Of(f.Error)}", Self);
            EndConn(c);
            if (!_running) MaybeStart();
        };
        Receive<CommandFailed>(onFailed);
        Receive<EndTick>(_ =>
        {
            _stopping = true;
            foreach (var c in _conns.Values.Where(c => c.Idle && !c.Done)) EndConn(c);
        });
        Receive<GetWorkloadStatus>(_ => Sender.Tell(Status()));
    }

    private long Now => Context.System.Scheduler.Now.UtcTicks;

    protected override void PreStart()
    {
        for (int i = 0; i < _s.Connections; i++) _host.Tell(new SocketCreate(SockType.Stream));
    }

    private void MaybeStart()
    {
        if (_running || _done || _conns.Count < _s.Connections || _conns.Values.Any(c => !c.Connected && !c.Done)) return;
        _running = true;
        _startTicks = Now;
        if (_s.Count == 0) Timers.StartSingleTimer("end", EndTick.Instance, _s.Time);
        foreach (var c in _conns.Values.Where(c => c.Connected && !c.Done))
        {
            c.Socket.Tell(new StreamRecv());
            Issue(c);
        }
        MaybeFinish();
    }

    private void Issue(Conn c)
    {
        if (_stopping || (_s.Count > 0 && _issued >= _s.Count)) { EndConn(c); return; }
        _issued++;
        c.Idle = false;
        c.Got = 0;
        c.SentAt = Now;
        c.Socket.Tell(new SendTo(_request));
    }

    private void OnData(StreamData d)
    {
        if (!_conns.TryGetValue(Sender, out var c) || c.Done) return;
        if (d.Eof)
        {
            _errors++;
            _lastError = Errno.ECONNRESET;
            EndConn(c);
            return;
        }
        c.Got += d.Data.Length;
        c.Socket.Tell(new StreamRecv());
        if (c.Got < _s.Response) return;
        _completed++;
        _latency.Add(Now - c.SentAt);
        c.Idle = true;
        Issue(c);
    }

    private void EndConn(Conn c)
    {
        if (c.Done) return;
        c.Done = true;
        c.Idle = false;
        c.Socket.Tell(Close.Instance);
        MaybeFinish();
    }

    private void MaybeFinish()
    {
        if (_done || _conns.Count < _s.Connections || _conns.Values.Any(c => !c.Done)) return;
        _done = true;
        _endTicks = Now;
        Timers.CancelAll();
        var st = _final = Status();
        double secs = (_endTicks - _startTicks) / (double)TimeSpan.TicksPerSecond;
        _out.Print($"MIGRATED TCP REQUEST/RESPONSE TEST from 0.0.0.0 () port 0 AF_INET to {_s.Server} () port {_s.Port} AF_INET", Self);
        _out.Print("Local /Remote", Self);
        _out.Print("Socket Size   Request  Resp.   Elapsed  Trans.", Self);
        _out.Print("Send   Recv   Size     Size    Time     Rate", Self);
        _out.Print("bytes  Bytes  bytes    bytes   secs.    per sec", Self);
        _out.Print("", Self);
        // The socket sizes are the tcp_wmem / tcp_rmem defaults (netperf prints the local send and remote receive buffer).
        _out.Print(string.Create(CultureInfo.InvariantCulture,
            $"{ActorStack.Config.TcpSettings.Default.WmemDefault,-6} {ActorStack.Config.TcpSettings.Default.RmemDefault,-6} {_s.Request,-8} {_s.Response,-7} {secs,-8:F2} {st.PerSecond:F2}"), Self);
        _out.Print(string.Create(CultureInfo.InvariantCulture,
            $"{_completed} transactions on {_s.Connections} connection(s), latency us min/avg/p50/p99/max = " +
            $"{Us(st.LatencyMinTicks)}/{Us(st.LatencyAvgTicks)}/{Us(st.LatencyP50Ticks)}/{Us(st.LatencyP99Ticks)}/{Us(st.LatencyMaxTicks)}") +
            (_errors > 0 ? $", {_errors} error(s) ({Strerror.Of(_lastError)})" : ""), Self);
        _out.Completed(st, Self);
    }

    private static string Us(double ticks) => (ticks / 10.0).ToString("F1", CultureInfo.InvariantCulture);

    private TcpRrClientStatus? _final;

    private TcpRrClientStatus Status()
    {
        if (_final is not null) return _final;
        long end = _done ? _endTicks : Now;
        double secs = _running ? (end - _startTicks) / (double)TimeSpan.TicksPerSecond : 0;
        return new TcpRrClientStatus(_s.Host, _s.Server, _s.Port, _s.Connections, _completed, secs > 0 ? _completed / secs : 0,
            _latency.Count > 0 ? _latency.Min : 0, _latency.Mean, _done ? _latency.Percentile(50) : 0, _done ? _latency.Percentile(99) : 0, _latency.Max, _errors, _done);
    }

    public static Props Props(TcpRrClientSettings s, IActorRef host, IActorRef? output = null, int seed = 1)
        => Akka.Actor.Props.Create(() => new TcpRrClientActor(s, host, output, seed));
}
