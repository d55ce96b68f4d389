using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Hardware.Pktgen;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// Linux pktgen bound to one device: builds real Ethernet/IPv4/UDP frames and
/// hands them straight to the driver (<c>ndo_start_xmit</c>), bypassing the
/// stack. At most a TX ring's worth of frames is outstanding; TX completions
/// return the credit. With <c>ratep</c> the frames due are sent on each timer
/// tick of the scheduler (its clock gives the elapsed time); without it,
/// as fast as completions allow.
/// </summary>
public sealed class PktgenActor : ReceiveActor, IWithTimers
{
    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private const int Batch = 64;
    private readonly PktgenWorkload _w;
    private readonly IActorRef _nic;
    private readonly PktgenGenerator _gen;
    private readonly int _window;
    private int _inFlight;
    private long _sent, _txDropped;
    private long _startTicks;
    public ITimerScheduler Timers { get; set; } = null!;

    public PktgenActor(PktgenWorkload w, IActorRef nic, int txRing)
    {
        _w = w;
        _nic = nic;
        _gen = new PktgenGenerator(w.Pktgen);
        _window = Math.Max(txRing, Batch);
        Receive<Tick>(_ => Pump());
        Receive<TxCompleted>(c =>
        {
            _inFlight -= c.Sent + c.Dropped;
            _txDropped += c.Dropped;
            Pump();
        });
        Receive<GetWorkloadStatus>(_ => Sender.Tell(Status()));
    }

    private bool Done => _w.Pktgen.Count > 0 && _sent >= _w.Pktgen.Count;

    private PktgenStatus Status() => new(_w.Host, _w.Device, _sent, _txDropped, _w.Pktgen.Count, Done && _inFlight == 0);

    protected override void PreStart()
    {
        _startTicks = Context.System.Scheduler.Now.UtcTicks;
        if (_w.Pktgen.RatePps > 0) Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromMilliseconds(10));
        Self.Tell(Tick.Instance);
    }

    private void Pump()
    {
        long now = Context.System.Scheduler.Now.UtcTicks;
        long due = _w.Pktgen.RatePps > 0
            ? (long)((now - _startTicks) / (double)TimeSpan.TicksPerSecond * _w.Pktgen.RatePps) + 1 - _sent
            : long.MaxValue;
        if (_w.Pktgen.Count > 0) due = Math.Min(due, _w.Pktgen.Count - _sent);
        while (due > 0 && _inFlight < _window)
        {
            int n = (int)Math.Min(Math.Min(due, Batch), _window - _inFlight);
            // One block per batch, one slice per frame: frames are never written after the send.
            int size = _w.Pktgen.PktSize;
            var block = new byte[n * size];
            var b = ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>(n);
            for (int i = 0; i < n; i++)
            {
                var frame = block.AsMemory(i * size, size);
                _gen.WriteNext(frame.Span, now);
                b.Add(frame);
            }
            _nic.Tell(new XmitFrames(b.MoveToImmutable()), Self);
            _inFlight += n;
            _sent += n;
            due -= n;
        }
        if (Done) Timers.Cancel("tick");
    }

    public static Props Props(PktgenWorkload w, IActorRef nic, int txRing)
        => Akka.Actor.Props.Create(() => new PktgenActor(w, nic, txRing));
}
