using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

/// <summary>
/// Two TCBs back to back over an in-memory network with virtual time: every segment is
/// serialized, checksummed and parsed again on the way, and may be dropped, delayed or
/// reordered by the test. B is "listening": the first SYN it sees goes to <see cref="Tcb.AcceptSyn"/>.
/// </summary>
public sealed class TcpPair
{
    public static readonly Ipv4Address IpA = Ipv4Address.Parse("10.0.0.1");
    public static readonly Ipv4Address IpB = Ipv4Address.Parse("10.0.0.2");
    public const ushort PortA = 40000, PortB = 5001;
    public static long Ms(double ms) => (long)(ms * TimeSpan.TicksPerMillisecond);

    public long Now;
    public Tcb A { get; }
    public Tcb B { get; }
    public TcpCounters MibA { get; } = new();
    public TcpCounters MibB { get; } = new();
    public bool BListens = true;
    /// <summary>One-way delay.</summary>
    public long Delay = Ms(5);
    /// <summary>Return true to drop: (from A?, segment, index of the segment in its direction).</summary>
    public Func<bool, TcpSegment, int, bool>? Drop;
    /// <summary>Return true to deliver a segment twice (netem duplicate).</summary>
    public Func<bool, TcpSegment, int, bool>? Duplicate;
    /// <summary>Extra delay per segment (reordering).</summary>
    public Func<bool, TcpSegment, int, long>? Jitter;
    public readonly List<(long At, bool FromA, TcpSegment Seg)> Trace = new();
    public readonly List<TcpEvent> EventsA = new(), EventsB = new();
    public readonly MemoryStream ReadA = new(), ReadB = new();
    public bool AutoReadA = true, AutoReadB = true;
    public byte[] ToSendA = [], ToSendB = [];
    public int SentA, SentB;
    public int DroppedA, DroppedB;
    private int _idxA, _idxB;
    private long _order;
    private readonly PriorityQueue<(bool ToB, byte[] Bytes), (long, long)> _wire = new();

    public TcpPair(TcpSettings? sa = null, TcpSettings? sb = null, int? sndBuf = null, int? rcvBufB = null,
        CongestionAlgorithm? cc = null, bool simultaneous = false)
    {
        sa ??= TcpSettings.Default;
        sb ??= TcpSettings.Default;
        A = new Tcb(sa, MibA, PortA, PortB, iss: 0xFFFF0000, tsOffset: 1000, congestion: cc, sndBuf: sndBuf);
        B = new Tcb(sb, MibB, PortB, PortA, iss: 0x7000_0000, tsOffset: 555_000, congestion: cc, sndBuf: sndBuf, rcvBuf: rcvBufB);
    }

    public void Step()
    {
        Flush();
        long next = Math.Min(A.NextDeadline, B.NextDeadline);
        if (_wire.TryPeek(out _, out var p) && p.Item1 <= next)
        {
            _wire.Dequeue();
            Now = Math.Max(Now, p.Item1);
            return;
        }
        throw new InvalidOperationException("Step with nothing pending");
    }

    /// <summary>Runs the network and timers until virtual time <paramref name="until"/> (or nothing is pending).</summary>
    public void RunUntil(long until)
    {
        for (int guard = 0; guard < 5_000_000; guard++)
        {
            Flush();
            long timer = Math.Min(A.NextDeadline, B.NextDeadline);
            bool haveWire = _wire.TryPeek(out var item, out var prio);
            long at = haveWire ? Math.Min(prio.Item1, timer) : timer;
            if (at > until || at == long.MaxValue) { Now = Math.Max(Now, until == long.MaxValue ? Now : until); return; }
            Now = Math.Max(Now, at);
            if (haveWire && prio.Item1 <= timer)
            {
                _wire.Dequeue();
                Deliver(item.ToB, item.Bytes);
            }
            else
            {
                if (A.NextDeadline <= Now) A.OnTimer(Now);
                if (B.NextDeadline <= Now) B.OnTimer(Now);
            }
        }
        throw new InvalidOperationException("runaway simulation");
    }

    public void RunFor(TimeSpan t) => RunUntil(Now + t.Ticks);

    /// <summary>Delivers a hand-made segment to A or B now (bypassing loss), returning the drop reason.</summary>
    public DropReason Inject(bool toB, TcpSegment seg)
    {
        var r = (toB ? B : A).SegmentArrived(Reparse(seg, toB ? IpA : IpB, toB ? IpB : IpA), Now);
        Flush();
        return r;
    }

    private static TcpSegment Reparse(TcpSegment seg, Ipv4Address src, Ipv4Address dst)
    {
        var bytes = seg.ToArray(src, dst);
        Assert.Equal(TcpParseError.None, TcpSegment.TryParse(bytes, src, dst, out var p));
        return p!;
    }

    private void Deliver(bool toB, byte[] bytes)
    {
        var src = toB ? IpA : IpB;
        var dst = toB ? IpB : IpA;
        Assert.Equal(TcpParseError.None, TcpSegment.TryParse(bytes, src, dst, out var seg));
        var t = toB ? B : A;
        if (toB && BListens && B.State == TcpState.Closed && seg!.Syn && !seg.HasAck && !seg.Rst)
        {
            BListens = false;
            B.AcceptSyn(seg, Now);
            return;
        }
        var r = t.SegmentArrived(seg!, Now);
        if (r != DropReason.NOT_DROPPED_YET) (toB ? DropReasonsB : DropReasonsA).Add(r);
    }

    /// <summary>Why segments delivered over the wire to A / B were dropped (non-None results of SegmentArrived).</summary>
    public readonly List<DropReason> DropReasonsA = new(), DropReasonsB = new();

    public void Flush()
    {
        for (int round = 0; round < 4; round++)
        {
            Pump(A, true);
            Pump(B, false);
        }
    }

    private void Pump(Tcb t, bool isA)
    {
        var ev = isA ? EventsA : EventsB;
        ev.AddRange(t.Events);
        t.Events.Clear();
        // Application: write what is left, read everything.
        var data = isA ? ToSendA : ToSendB;
        ref int sent = ref isA ? ref SentA : ref SentB;
        if (sent < data.Length && t.State is TcpState.Established or TcpState.CloseWait)
        {
            int n = t.Send(data.AsSpan(sent), Now, out _);
            if (n > 0) sent += n;
        }
        if (isA ? AutoReadA : AutoReadB) ReadAll(t, isA ? ReadA : ReadB);
        foreach (var seg in t.Outbox)
        {
            int idx = isA ? _idxA++ : _idxB++;
            Trace.Add((Now, isA, seg));
            if (Drop?.Invoke(isA, seg, idx) == true)
            {
                if (isA) DroppedA++; else DroppedB++;
                continue;
            }
            long at = Now + Delay + (Jitter?.Invoke(isA, seg, idx) ?? 0);
            var bytes = seg.ToArray(isA ? IpA : IpB, isA ? IpB : IpA);
            _wire.Enqueue((isA, bytes), (at, _order++));
            if (Duplicate?.Invoke(isA, seg, idx) == true) _wire.Enqueue((isA, bytes), (at + Ms(1), _order++));
        }
        t.Outbox.Clear();
        ev.AddRange(t.Events);
        t.Events.Clear();
    }

    public void ReadAll(Tcb t, MemoryStream into)
    {
        var buf = new byte[65536];
        while (true)
        {
            int n = t.Receive(buf, Now, peek: false, out _);
            if (n <= 0) break;
            into.Write(buf, 0, n);
        }
    }

    public IEnumerable<TcpSegment> SentBy(bool a) => Trace.Where(x => x.FromA == a).Select(x => x.Seg);

    public static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    public void Establish()
    {
        A.Connect(Now);
        RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TcpState.Established, A.State);
        Assert.Equal(TcpState.Established, B.State);
    }
}
