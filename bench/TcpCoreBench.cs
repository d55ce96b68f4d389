using System.Diagnostics;
using ActorStack.Actors.Tcp;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Bench;

/// <summary>
/// tcp-core [--seconds N] [--warmup N] [--rcvbuf BYTES] [--sndbuf BYTES]: the TCP protocol alone, no actors. Two
/// <see cref="Tcb"/>s back to back in one thread (as tests' TcpPair): every segment is serialized with its checksum
/// into a new array and parsed and verified again (what TcpXmit and TcpActor do per segment), the sender's
/// application keeps its send buffer full, the receiver's reads everything after each batch. One round = the
/// sender's outbox delivered to the receiver, the receiver's outbox (ACKs) delivered back; virtual time advances
/// 10 µs per round (so RTT samples and timers stay sane). Prints payload Gbit/s of wall clock and CPU per byte,
/// and a per-phase split (Stopwatch per phase: sender's Tcb, wire encode+decode, receiver's Tcb, reading).
/// </summary>
public static class TcpCoreBench
{
    private static readonly Ipv4Address IpA = Ipv4Address.Parse("10.0.0.1"), IpB = Ipv4Address.Parse("10.0.0.2");

    public static int Run(string[] args)
    {
        int seconds = 5, warmup = 1;
        int? rcvBuf = null, sndBuf = 4 * 1024 * 1024;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--seconds": seconds = int.Parse(Next()); break;
                case "--warmup": warmup = int.Parse(Next()); break;
                case "--rcvbuf": rcvBuf = int.Parse(Next()); break;
                case "--sndbuf": sndBuf = int.Parse(Next()); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        var s = TcpSettings.Default;
        var a = new Tcb(s, new TcpCounters(), 40000, 5201, iss: 0xFFFF0000, tsOffset: 1000, sndBuf: sndBuf);
        var b = new Tcb(s, new TcpCounters(), 5201, 40000, iss: 0x7000_0000, tsOffset: 555_000, rcvBuf: rcvBuf);
        // MTU 1500 on both sides, as the actors' tcp_sync_mss does.
        a.SyncMss(1500);
        a.AliasSendQueue = b.AliasSendQueue = true; // as TcpSocketActor: the outbox is serialized before the next call
        b.SyncMss(1500);
        long now = TimeSpan.TicksPerSecond;
        var toA = new List<byte[]>();
        var toB = new List<byte[]>();
        var block = new byte[128 * 1024];
        new Random(1).NextBytes(block);
        var readBuf = new byte[256 * 1024];
        long received = 0;
        long tSender = 0, tWire = 0, tReceiver = 0, tRead = 0, rounds = 0, segsToB = 0, segsToA = 0;

        void Drain(Tcb t, List<byte[]> into, ref long n)
        {
            foreach (var seg in t.Outbox) into.Add(seg.ToArray(t == a ? IpA : IpB, t == a ? IpB : IpA));
            n += t.Outbox.Count;
            t.Outbox.Clear();
            t.Events.Clear();
        }

        // Handshake.
        a.Connect(now);
        for (int i = 0; i < 10 && !(a.State == TcpState.Established && b.State == TcpState.Established); i++)
        {
            Drain(a, toB, ref segsToB);
            foreach (var bytes in toB)
            {
                if (TcpSegment.TryParse(bytes, IpA, IpB, out var seg) != TcpParseError.None) throw new InvalidOperationException("parse");
                if (b.State == TcpState.Closed) b.AcceptSyn(seg!, now); else b.SegmentArrived(seg!, now);
            }
            toB.Clear();
            Drain(b, toA, ref segsToA);
            foreach (var bytes in toA)
            {
                if (TcpSegment.TryParse(bytes, IpB, IpA, out var seg) != TcpParseError.None) throw new InvalidOperationException("parse");
                a.SegmentArrived(seg!, now);
            }
            toA.Clear();
            now += TimeSpan.TicksPerMillisecond;
        }
        if (a.State != TcpState.Established || b.State != TcpState.Established) throw new InvalidOperationException("handshake");

        var sw = new Stopwatch();
        var clock = Stopwatch.StartNew();
        bool measuring = false;
        long received0 = 0, wall0 = 0;
        TimeSpan cpu0 = default;
        long alloc0 = 0;
        while (true)
        {
            if (!measuring && clock.Elapsed.TotalSeconds >= warmup)
            {
                measuring = true;
                received0 = received;
                wall0 = clock.ElapsedTicks;
                cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                alloc0 = GC.GetAllocatedBytesForCurrentThread();
                tSender = tWire = tReceiver = tRead = rounds = segsToA = segsToB = 0;
            }
            if (measuring && clock.Elapsed.TotalSeconds >= warmup + seconds) break;
            rounds++;

            // Sender: the application fills the send buffer (tcp_sendmsg pushes what cwnd/rwnd allow).
            sw.Restart();
            while (a.SendBufferFree > 0) if (a.Send(block, now, out _) <= 0) break;
            if (a.NextDeadline <= now) a.OnTimer(now);
            tSender += sw.ElapsedTicks;

            sw.Restart();
            Drain(a, toB, ref segsToB);
            var parsedB = new List<TcpSegment>(toB.Count);
            foreach (var bytes in toB)
            {
                if (TcpSegment.TryParse(bytes, IpA, IpB, out var seg) != TcpParseError.None) throw new InvalidOperationException("parse");
                parsedB.Add(seg!);
            }
            toB.Clear();
            tWire += sw.ElapsedTicks;

            sw.Restart();
            foreach (var seg in parsedB) b.SegmentArrived(seg, now);
            if (b.NextDeadline <= now) b.OnTimer(now);
            tReceiver += sw.ElapsedTicks;

            sw.Restart();
            while (true)
            {
                int n = b.Receive(readBuf, now, peek: false, out _);
                if (n <= 0) break;
                received += n;
            }
            tRead += sw.ElapsedTicks;

            sw.Restart();
            Drain(b, toA, ref segsToA);
            var parsedA = new List<TcpSegment>(toA.Count);
            foreach (var bytes in toA)
            {
                if (TcpSegment.TryParse(bytes, IpB, IpA, out var seg) != TcpParseError.None) throw new InvalidOperationException("parse");
                parsedA.Add(seg!);
            }
            toA.Clear();
            tWire += sw.ElapsedTicks;

            sw.Restart();
            foreach (var seg in parsedA) a.SegmentArrived(seg, now);
            tSender += sw.ElapsedTicks;
            now += 10 * TimeSpan.TicksPerMicrosecond / 1; // 10 µs per round
        }
        double elapsed = (clock.ElapsedTicks - wall0) / (double)Stopwatch.Frequency;
        long bytesMeasured = received - received0;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        double F(long ticks) => ticks * 1e9 / Stopwatch.Frequency / Math.Max(1, segsToB);
        Console.WriteLine($"mode tcp-core, two Tcbs in one thread, MSS {a.Mss}, rcvbuf {b.ReceiveBufferLimit}, sndbuf {a.SendBufferLimit}, {seconds}s");
        Console.WriteLine($"result: {bytesMeasured * 8 / 1e9 / elapsed:F3} Gbit/s payload, {cpu * 1e9 / Math.Max(1, bytesMeasured):F3} ns CPU per payload byte, " +
                          $"{alloc / (double)Math.Max(1, segsToB):F0} bytes allocated per data segment");
        Console.WriteLine($"segments: {segsToB:N0} A→B, {segsToA:N0} B→A (ACKs), {rounds:N0} rounds; cwnd {a.Cwnd}, in flight at end {a.PacketsOut}, " +
                          $"retrans {a.SegmentsRetransmitted}, srtt {a.Srtt / 10.0:F0} µs");
        Console.WriteLine($"ns per data segment: sender Tcb (send+ACK processing) {F(tSender):F0}, wire (serialize+checksum+parse, both ways) {F(tWire):F0}, " +
                          $"receiver Tcb {F(tReceiver):F0}, reading {F(tRead):F0}");
        return 0;
    }
}
