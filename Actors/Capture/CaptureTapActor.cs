using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Mailboxes;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Capture;

/// <summary>
/// One capture point of a scenario (<c>scenario.capture</c>, or an element of its list): a <c>ptype_all</c> tap on each
/// captured host (<c>dev_add_pack(ETH_P_ALL)</c>: the copies of <c>__netif_receive_skb_core</c>, inbound, and of
/// <c>dev_queue_xmit_nit</c>, outbound), a drop-monitor listener on each (<see cref="NetDmPacketAlert"/>) and a tap on
/// each wire with a captured end (<see cref="WireCaptureEvent"/>), all written by <see cref="CaptureFile"/>. The host
/// of a copy is the host actor its sender belongs to (the softnet or driver actor under it). Every block is stamped
/// when the tap gets it, which on the virtual clock is the instant it was sent, to the ns (Linux stamps a received
/// frame in <c>__netif_receive_skb_core</c>, <c>net_timestamp_check</c>, and a sent one in <c>dev_queue_xmit_nit</c>).
/// Its mailbox is bounded like a packet socket's receive buffer (4096 frames, drop alerts and wire events): a tap that
/// falls behind drops copies and events (counted), never the stack's data.
/// Answers <see cref="FlushCapture"/> with <see cref="CaptureFlushed"/>.
/// </summary>
public sealed class CaptureTapActor : ReceiveActor
{
    /// <summary>Frames a tap's mailbox holds at most (its <c>sk_rcvbuf</c>, in frames).</summary>
    public const int MailboxFrames = 4096;

    private readonly CaptureFile _file;
    private readonly Dictionary<ActorPath, string> _hostByPath;
    private readonly Dictionary<IActorRef, string?> _hostBySender = new();
    private readonly SimEngine? _engine;
    private readonly long _epochNs;
    private long _dropped;

    public CaptureTapActor(CaptureSettings point, ImmutableArray<HostSettings> hosts, ImmutableArray<WireSettings> wires,
        ImmutableArray<WireFaultSettings> faults, IReadOnlyDictionary<string, IActorRef> hostRefs,
        IReadOnlyDictionary<IActorRef, bool>? halves = null)
    {
        // Readers may open the file while the run goes on (run --out copies it after the flush).
        _file = new CaptureFile(point, hosts, wires, faults, new FileStream(point.File, FileMode.Create, FileAccess.Write, FileShare.Read));
        _hostByPath = hostRefs.ToDictionary(kv => kv.Value.Path, kv => kv.Key);
        if (SimEngine.IsVirtual(Context.System))
        {
            _engine = SimEngine.For(Context.System);
            _epochNs = (_engine.Epoch.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
        }
        var q = ChargedMessageQueue.Of(Context);
        if (q is not null)
        {
            q.Limit = MailboxFrames;
            q.OnDrop = (d, _) => Interlocked.Add(ref _dropped, d.Count);
        }
        Receive<SkbBatch>(b =>
        {
            q?.Uncharge(b.Count);
            if (HostOf(Sender) is not { } host) return;
            long now = NowNs;
            foreach (var skb in b.Items) _file.Frame(host, skb, now);
        });
        Receive<NetDmPacketAlert>(a =>
        {
            q?.Uncharge(1);
            _file.Drop(a, NowNs);
        });
        Receive<WireCaptureEvent>(e =>
        {
            q?.Uncharge(1);
            // A split wire's half (a partition's): its own end only for events without a frame (CaptureFile.Wire).
            _file.Wire(e, NowNs - e.AgoNs, halves is not null && halves.TryGetValue(Sender, out bool aLocal) ? aLocal : (bool?)null);
        });
        Receive<FlushCapture>(_ =>
        {
            _file.Flush();
            Sender.Tell(new CaptureFlushed(point.File, _file.Frames, Interlocked.Read(ref _dropped)) { Comments = _file.Comments });
        });
    }

    /// <summary>ns since the Unix epoch: the engine's clock on the virtual clock, the scheduler's (100 ns) on the real one.</summary>
    private long NowNs => _engine is { } e ? _epochNs + e.NowNs : (Context.System.Scheduler.Now.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;

    // The host actor a sender is (or is under).
    private string? HostOf(IActorRef sender)
    {
        if (_hostBySender.TryGetValue(sender, out var known)) return known;
        string? host = null;
        for (var p = sender.Path; p is not RootActorPath; p = p.Parent)
            if (_hostByPath.TryGetValue(p, out host)) break;
        _hostBySender[sender] = host;
        return host;
    }

    protected override void PostStop() => _file.Dispose();

    public static Props Props(CaptureSettings point, ImmutableArray<HostSettings> hosts, ImmutableArray<WireSettings> wires,
        ImmutableArray<WireFaultSettings> faults, IReadOnlyDictionary<string, IActorRef> hostRefs,
        IReadOnlyDictionary<IActorRef, bool>? halves = null)
        => Akka.Actor.Props.Create(() => new CaptureTapActor(point, hosts, wires, faults, hostRefs, halves)).WithMailbox("actorstack-nic-mailbox");
}
