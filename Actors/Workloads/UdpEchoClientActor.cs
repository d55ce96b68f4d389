using System.Globalization;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// A UDP echo client on a host: a UDP socket connected to the server sends <c>Count</c> requests of
/// <c>Size</c> bytes (<see cref="UdpEchoPayload"/>: sequence number and a pattern, checked byte for byte on return).
/// With <c>Interval</c> &gt; 0 a request goes every interval and a request unanswered <c>Timeout</c> after it was
/// sent is lost; with <c>Interval</c> = 0 it is request/response: the next request goes when the answer came or
/// the timeout ran out. RTT = receive timestamp − send time (scheduler ticks). Send errors (ECONNREFUSED after a
/// port unreachable, ...) are counted and the run goes on.
/// </summary>
public sealed class UdpEchoClientActor : ReceiveActor, IWithTimers
{
    private const int ReadBatch = 64;
    /// <summary>Requests awaiting an answer at most; sending past it counts the oldest as lost.</summary>
    public const int MaxOutstanding = 65536;

    private sealed record SendTick
    {
        public static readonly SendTick Instance = new();
    }
    private sealed record RequestTimeout(uint Seq);
    private sealed record FinalTimeout
    {
        public static readonly FinalTimeout Instance = new();
    }

    private readonly UdpEchoClientSettings _s;
    private readonly IActorRef _host;
    private readonly OutputLines _out;
    private readonly RttSamples _rtt = new();
    private readonly Dictionary<uint, long> _outstanding = new();
    private readonly Queue<(uint Seq, long SentTicks)> _sendOrder = new();
    private IActorRef _socket = ActorRefs.Nobody;
    private uint _nextSeq;
    private long _sent, _answered, _lost, _late, _mismatched, _sendErrors;
    private Errno _lastError;
    private bool _started, _done;

    public ITimerScheduler Timers { get; set; } = null!;

    public UdpEchoClientActor(UdpEchoClientSettings s, IActorRef host, IActorRef? output)
    {
        _s = s;
        _host = host;
        _out = new OutputLines(Context.System.EventStream, output, s.Host, "udp-echo");

        Receive<SocketCreated>(c =>
        {
            _socket = c.Socket;
            _socket.Tell(new Connect(_s.Server, _s.Port));
        });
        Receive<SocketOk>(ok => { if (ok.Command is Connect && !_started) Start(); });
        Receive<Sent>(_ => { });
        Receive<CommandFailed>(OnFailed);
        Receive<Received>(OnReceived);
        Receive<SendTick>(_ =>
        {
            ExpireOld(Now);
            SendNext();
        });
        Receive<RequestTimeout>(t =>
        {
            if (!_outstanding.Remove(t.Seq)) return;
            _lost++;
            SendNextOrFinish();
        });
        Receive<FinalTimeout>(_ =>
        {
            _lost += _outstanding.Count;
            _outstanding.Clear();
            Finish();
        });
        Receive<GetWorkloadStatus>(_ => Sender.Tell(Status()));
    }

    private long Now => Context.System.Scheduler.Now.UtcTicks;
    private bool RequestResponse => _s.Interval <= TimeSpan.Zero;

    protected override void PreStart() => _host.Tell(new SocketCreate(SockType.Dgram));

    private void Start()
    {
        _started = true;
        _socket.Tell(new Recv(ReadBatch));
        SendNextOrFinish();
    }

    private void SendNextOrFinish()
    {
        if (_sent < _s.Count) SendNext();
        else if (_outstanding.Count == 0) Finish();
    }

    private void SendNext()
    {
        if (_done || _sent >= _s.Count) return;
        long now = Now;
        uint seq = _nextSeq++;
        if (_outstanding.Count >= MaxOutstanding && _sendOrder.TryDequeue(out var oldest) && _outstanding.Remove(oldest.Seq)) _lost++;
        _outstanding[seq] = now;
        if (!RequestResponse) _sendOrder.Enqueue((seq, now));
        _sent++;
        var request = new SendTo(UdpEchoPayload.Build(seq, _s.Size));
        if (RequestResponse)
            Timers.StartSingleTimer("timeout", new RequestTimeout(seq), _s.Timeout);
        else if (_sent < _s.Count)
            Timers.StartSingleTimer("send", SendTick.Instance, _s.Interval);
        else
            Timers.StartSingleTimer("final", FinalTimeout.Instance, _s.Timeout);
        _socket.Tell(request); // after the timer: whoever sees the request can rely on the timer being set
    }

    /// <summary>Interval mode: requests sent <c>Timeout</c> or longer ago are lost (send order = expiry order).</summary>
    private void ExpireOld(long now)
    {
        while (_sendOrder.TryPeek(out var head) && head.SentTicks + _s.Timeout.Ticks <= now)
        {
            _sendOrder.Dequeue();
            if (_outstanding.Remove(head.Seq)) _lost++;
        }
    }

    private void OnFailed(CommandFailed f)
    {
        if (f.Command is not SendTo st) return; // a failed read: the socket is closing
        _sendErrors++;
        _lastError = f.Error;
        if (UdpEchoPayload.TryReadSequence(st.Payload.Span, out var seq)) _outstanding.Remove(seq); // it never left
        if (RequestResponse)
        {
            Timers.Cancel("timeout");
            SendNextOrFinish();
        }
        else if (_sent >= _s.Count && _outstanding.Count == 0) Finish();
    }

    private void OnReceived(Received r)
    {
        if (_done) return;
        _socket.Tell(new Recv(ReadBatch));
        long now = Now;
        if (!RequestResponse) ExpireOld(now);
        bool answeredCurrent = false;
        foreach (var d in r.Datagrams)
        {
            if (!UdpEchoPayload.TryReadSequence(d.Payload.Span, out var seq)) { _mismatched++; continue; }
            if (!_outstanding.Remove(seq, out var sentTicks)) { _late++; continue; }
            answeredCurrent = true;
            if (!UdpEchoPayload.Matches(d.Payload.Span, _s.Size)) { _mismatched++; continue; }
            _answered++;
            _rtt.Add((d.TstampTicks > 0 ? d.TstampTicks : now) - sentTicks);
        }
        if (RequestResponse && answeredCurrent)
        {
            Timers.Cancel("timeout");
            SendNextOrFinish();
        }
        else if (_sent >= _s.Count && _outstanding.Count == 0) Finish();
    }

    private void Finish()
    {
        if (_done) return;
        _done = true;
        Timers.CancelAll();
        _out.Print($"udp-echo {_s.Server}:{_s.Port}: {_sent} sent, {_answered} answered, {_lost} lost" +
                   (_sendErrors > 0 ? $", {_sendErrors} send errors ({Strerror.Of(_lastError)})" : "") +
                   (_rtt.Count > 0 ? $", rtt min/avg/max/median = {Ms(_rtt.Min)}/{Ms(_rtt.Mean)}/{Ms(_rtt.Max)}/{Ms(_rtt.Median())} ms" : ""), Self);
        _socket.Tell(Close.Instance);
        _out.Completed(Status(), Self);
    }

    private static string Ms(long ticks) => (ticks / (double)TimeSpan.TicksPerMillisecond).ToString("F3", CultureInfo.InvariantCulture);

    private UdpEchoClientStatus Status() => new(_s.Host, _s.Server, _s.Port, _sent, _answered, _lost, _late, _mismatched,
        _sendErrors, _rtt.Min, _rtt.Mean, _rtt.Max, _rtt.Median(), _done);

    public static Props Props(UdpEchoClientSettings s, IActorRef host, IActorRef? output = null)
        => Akka.Actor.Props.Create(() => new UdpEchoClientActor(s, host, output));
}
