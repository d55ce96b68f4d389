using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// traceroute(8) with the default UDP method on a host: a UDP socket bound to an ephemeral port sends each probe
/// with <c>IP_TTL</c> set to its hop to port <c>base + probe</c>; a raw ICMP socket reads the answers: time exceeded
/// from each router, port unreachable from the destination (other unreachables end the trace with their
/// annotation). One probe is in flight at a time; a probe unanswered after <c>-w</c> (Wait) is a <c>*</c>.
/// The probe state and the printout are <see cref="TracerouteRun"/>'s; times are the scheduler's.
/// </summary>
public sealed class TracerouteActor : ReceiveActor, IWithTimers
{
    private const int ReadBatch = 16;

    private sealed record WaitExpired(int Probe);

    private readonly TracerouteSettings _s;
    private readonly IActorRef _host;
    private readonly TracerouteRun _run;
    private readonly OutputLines _out;
    private readonly byte[] _data;
    private IActorRef _udp = ActorRefs.Nobody, _raw = ActorRefs.Nobody;
    private ushort _localPort;
    private bool _started, _inFlight, _done;
    private long _sentTicks;

    public ITimerScheduler Timers { get; set; } = null!;

    public TracerouteActor(TracerouteSettings s, IActorRef host, IActorRef? output)
    {
        _s = s;
        _host = host;
        _run = new TracerouteRun(s.Destination, s.MaxHops, s.Queries, s.Port, s.PacketLength);
        _data = _run.ProbeData();
        _out = new OutputLines(Context.System.EventStream, output, s.Host, "traceroute");

        Receive<SocketCreated>(OnCreated);
        Receive<SocketOk>(OnOk);
        Receive<SocketInfo>(i =>
        {
            _localPort = i.LocalPort;
            MaybeStart();
        });
        Receive<CommandFailed>(OnFailed);
        Receive<Sent>(_ => { });
        Receive<Received>(OnReceived);
        Receive<WaitExpired>(w =>
        {
            if (!_inFlight || w.Probe != _run.Probe) return;
            _inFlight = false;
            Print(_run.Timeout());
            NextProbe();
        });
        Receive<GetWorkloadStatus>(_ => Sender.Tell(Status()));
    }

    private long Now => Context.System.Scheduler.Now.UtcTicks;

    /// <summary>The UDP socket first, then the raw ICMP one (answers come in that order).</summary>
    protected override void PreStart() => _host.Tell(new SocketCreate(SockType.Dgram));

    private void OnCreated(SocketCreated c)
    {
        if (_udp.IsNobody())
        {
            _udp = c.Socket;
            _udp.Tell(new Bind(Ipv4Address.Any, 0));
            _host.Tell(new SocketCreate(SockType.Raw, IpProtocol.Icmp));
            return;
        }
        _raw = c.Socket;
        _raw.Tell(new Recv(ReadBatch));
        MaybeStart();
    }

    private void OnOk(SocketOk ok)
    {
        switch (ok.Command)
        {
            case Bind: _udp.Tell(GetSocketInfo.Instance); break; // learn the ephemeral port errors will quote
            case SetSocketOption: Send(); break;
        }
    }

    private void MaybeStart()
    {
        if (_started || _raw.IsNobody() || _localPort == 0) return;
        _started = true;
        _out.Print(_run.Header(), Self);
        NextProbe();
    }

    private void NextProbe()
    {
        if (_run.Done) { Finish(); return; }
        _udp.Tell(new SetSocketOption(SockOpt.IpTtl, _run.Ttl));
    }

    private void Send()
    {
        if (_done) return;
        _sentTicks = Now;
        _inFlight = true;
        Timers.StartSingleTimer("wait", new WaitExpired(_run.Probe), _s.Wait); // set before anyone sees the probe
        _udp.Tell(new SendTo(_data, _s.Destination, _run.DestinationPort));
    }

    private void OnFailed(CommandFailed f)
    {
        if (f.Command is Recv or Close) return;
        // A probe that cannot be sent ends the trace, as traceroute's error("send") does.
        string what = f.Command switch { SendTo => "send", Bind => "bind", SetSocketOption => "setsockopt IP_TTL", _ => "socket" };
        _out.Print($"traceroute: {what}: {Strerror.Of(f.Error)}", Self);
        Finish();
    }

    private void OnReceived(Received r)
    {
        if (_done) return;
        _raw.Tell(new Recv(ReadBatch));
        long now = Now;
        foreach (var d in r.Datagrams)
        {
            if (!_inFlight) break;
            if (!IcmpMessage.TryParse(d.Payload, out var m) || !m.TryGetQuoted(out var q)) continue;
            if (!_run.IsAnswerToCurrent(q, _localPort)) continue; // another probe's late answer, or not ours
            Timers.Cancel("wait");
            _inFlight = false;
            long recv = d.TstampTicks > 0 ? d.TstampTicks : now;
            Print(_run.Answer(m.Source, m.Type, m.Code, m.ErrorInfo, recv - _sentTicks));
            NextProbe();
        }
    }

    private void Print(string? line)
    {
        if (line is not null) _out.Print(line, Self);
    }

    private void Finish()
    {
        if (_done) return;
        _done = true;
        _inFlight = false;
        Timers.CancelAll();
        if (!_udp.IsNobody()) _udp.Tell(Close.Instance);
        if (!_raw.IsNobody()) _raw.Tell(Close.Instance);
        _out.Completed(Status(), Self);
    }

    private TracerouteStatus Status() => new(_s.Host, _s.Destination, _out.Snapshot(), _run.Hops, _run.Reached, _done);

    public static Props Props(TracerouteSettings s, IActorRef host, IActorRef? output = null)
        => Akka.Actor.Props.Create(() => new TracerouteActor(s, host, output));
}
