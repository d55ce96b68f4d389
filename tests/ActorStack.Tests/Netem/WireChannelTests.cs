using System.Buffers.Binary;
using System.Collections.Immutable;
using ActorStack.Config;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Netem;

/// <summary>Frames for fault tests: UDP from FrameBuilder, TCP and ARP written by hand (rules read headers, not checksums).</summary>
internal static class FaultFrames
{
    public static readonly MacAddress MacA = MacAddress.Parse("02:00:00:00:00:01");
    public static readonly MacAddress MacB = MacAddress.Parse("02:00:00:00:00:02");
    public static readonly Ipv4Address IpA = Ipv4Address.Parse("10.0.0.1");
    public static readonly Ipv4Address IpB = Ipv4Address.Parse("10.0.0.2");

    public static byte[] Udp(ushort dport = 9000, int payload = 18, ushort sport = 1000)
        => FrameBuilder.Udp(MacB, MacA, IpA, IpB, sport, dport, new byte[payload]);

    public static byte[] Tcp(TcpFlags flags, ushort sport = 80, ushort dport = 40000, uint seq = 0)
    {
        var f = new byte[14 + 20 + 20];
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0800);
        var ip = f.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], 40);
        ip[8] = 64;
        ip[9] = 6;
        IpB.Write(ip[12..]);
        IpA.Write(ip[16..]);
        var tcp = ip[20..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], dport);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq);
        tcp[12] = 0x50;
        tcp[13] = (byte)flags;
        return f;
    }

    public static byte[] Arp(ushort op, Ipv4Address sender, Ipv4Address target)
    {
        var f = new byte[14 + 28];
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0806);
        var a = f.AsSpan(14);
        BinaryPrimitives.WriteUInt16BigEndian(a, 1);
        BinaryPrimitives.WriteUInt16BigEndian(a[2..], 0x0800);
        a[4] = 6;
        a[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(a[6..], op);
        sender.Write(a[14..]);
        target.Write(a[24..]);
        return f;
    }
}

public class WireChannelTests
{
    private const long Ms = 1_000_000;

    private static NetemQopt Netem(string spec)
    {
        Assert.True(NetemParser.TryParse(spec, out var s, out var error), error);
        return s;
    }

    private static void AssertConserved(WireDirectionStats s)
        => Assert.Equal(s.Offered + s.Duplicated, s.Delivered + s.Dropped + s.InFlight);

    /// <summary>Offers n frames, one per ms, releasing as a 10 ms scheduler tick would; returns what arrived.</summary>
    private static List<ReadOnlyMemory<byte>> Run(WireChannel ch, int n, Func<int, byte[]> frame, long tickNs = 10 * Ms, bool drain = true)
    {
        var got = new List<ReadOnlyMemory<byte>>();
        long nextTick = tickNs;
        for (int i = 0; i < n; i++)
        {
            long now = i * Ms;
            while (nextTick <= now) { ch.Release(nextTick, got); nextTick += tickNs; }
            ch.Offer(frame(i), now, got);
        }
        while (drain && ch.NextDeadlineNs is { } d)
        {
            nextTick = Math.Max(nextTick, d);
            ch.Release(nextTick, got);
            nextTick += tickNs;
        }
        return got;
    }

    [Fact]
    public void Offer_NoImpairment_DeliversAtOnceInOrder()
    {
        var ch = new WireChannel(1, 0);
        var got = Run(ch, 5, i => FaultFrames.Udp(payload: 20 + i));
        Assert.Equal([62, 63, 64, 65, 66], got.Select(f => f.Length));
        Assert.Equal(new WireDirectionStats(5, 5, 0, 0, 0, 0, 0, ImmutableSortedDictionary<DropReason, long>.Empty), ch.Stats());
    }

    [Fact]
    public void Offer_PropagationDelay_HeldUntilArrival()
    {
        var ch = new WireChannel(1, 5 * Ms);
        var got = new List<ReadOnlyMemory<byte>>();
        ch.Offer(FaultFrames.Udp(), 0, got);
        Assert.Empty(got);
        Assert.Equal(5 * Ms, ch.NextDeadlineNs);
        ch.Release(5 * Ms - 1, got);
        Assert.Empty(got);
        ch.Release(5 * Ms, got);
        Assert.Single(got);
        Assert.Null(ch.NextDeadlineNs);
    }

    [Theory]
    [InlineData("loss 10%")]
    [InlineData("delay 20ms 5ms distribution normal")]
    [InlineData("duplicate 20%")]
    [InlineData("corrupt 20%")]
    [InlineData("delay 10ms reorder 25% gap 3")]
    [InlineData("rate 1mbit limit 20")]
    [InlineData("slot 5ms 10ms packets 3")]
    [InlineData("loss gemodel 5% 30% duplicate 5% delay 3ms 1ms")]
    public void Netem_EachImpairment_Conserves(string spec)
    {
        var ch = new WireChannel(7, 1 * Ms, Netem(spec));
        var mid = new List<ReadOnlyMemory<byte>>();
        for (int i = 0; i < 2000; i++) ch.Offer(FaultFrames.Udp(), i * Ms / 4, mid);
        AssertConserved(ch.Stats());
        ch.Release(long.MaxValue / 4, mid);
        while (ch.NextDeadlineNs is { } d) ch.Release(d, mid);
        var s = ch.Stats();
        AssertConserved(s);
        Assert.Equal(0, s.InFlight);
        Assert.Equal(s.Delivered, mid.Count);
    }

    [Fact]
    public void Netem_Loss_RateAndReasonCounted()
    {
        var ch = new WireChannel(3, 0, Netem("loss 5%"));
        var got = Run(ch, 20000, _ => FaultFrames.Udp());
        var s = ch.Stats();
        long lost = s.DroppedBy(DropReason.SIM_NETEM_LOSS);
        Assert.InRange(lost / 20000.0, 0.045, 0.055);
        Assert.Equal(20000 - lost, got.Count);
        Assert.Equal([DropReason.SIM_NETEM_LOSS], s.Drops.Keys);
    }

    [Fact]
    public void Netem_Delay_MeanAndStddevThroughTheChannel()
    {
        // 5000 frames offered at t = 0 through "delay 50ms 10ms distribution normal limit 10000", released on exact deadlines.
        var ch = new WireChannel(11, 0, Netem("delay 50ms 10ms distribution normal limit 10000"));
        var delays = new List<double>();
        var got = new List<ReadOnlyMemory<byte>>();
        for (int i = 0; i < 5000; i++)
        {
            var f = FaultFrames.Udp(payload: 18);
            BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(42), i);
            ch.Offer(f, 0, got);
        }
        Assert.Empty(got);
        while (ch.NextDeadlineNs is { } d)
        {
            got.Clear();
            ch.Release(d, got);
            delays.AddRange(got.Select(_ => d / (double)Ms));
        }
        Assert.Equal(5000, delays.Count);
        double mean = delays.Average();
        double sd = Math.Sqrt(delays.Sum(x => (x - mean) * (x - mean)) / delays.Count);
        Assert.InRange(mean, 49.5, 50.5);
        Assert.InRange(sd, 9.5, 10.5);
    }

    [Fact]
    public void Netem_Rate_ThroughputMatchesRate()
    {
        // 1 Mbit/s = 125000 B/s; 1000 frames of 60 bytes offered at once leave 480 µs apart: 480 ms in all.
        var ch = new WireChannel(1, 0, Netem("rate 1mbit limit 2000"));
        var got = new List<ReadOnlyMemory<byte>>();
        for (int i = 0; i < 1000; i++) ch.Offer(FaultFrames.Udp(payload: 18), 0, got);
        long last = 0;
        while (ch.NextDeadlineNs is { } d) { ch.Release(d, got); last = d; }
        Assert.Equal(1000, got.Count);
        Assert.Equal(60, got[0].Length);
        Assert.Equal(1000 * 480_000L, last);
    }

    [Fact]
    public void Netem_SameSeedTwice_IdenticalDropTablesAndOutput()
    {
        string spec = "delay 5ms 3ms loss 7% 25% duplicate 3% corrupt 2% reorder 10% gap 2";
        (WireDirectionStats, byte[]) Once(int seed)
        {
            var ch = new WireChannel(WireSeed.For(seed, "h1/eth0-h2/eth0", "a-to-b"), 1 * Ms, Netem(spec));
            var got = Run(ch, 3000, i => FaultFrames.Udp(payload: 18 + i % 7));
            return (ch.Stats(), got.SelectMany(f => f.ToArray()).ToArray());
        }
        var (s1, o1) = Once(42);
        var (s2, o2) = Once(42);
        var (s3, _) = Once(43);
        Assert.Equal(s1.Drops, s2.Drops);
        Assert.Equal(s1 with { Drops = s2.Drops }, s2);
        Assert.Equal(o1, o2);
        Assert.NotEqual(s1.Drops[DropReason.SIM_NETEM_LOSS], s3.Drops[DropReason.SIM_NETEM_LOSS]);
    }

    [Fact]
    public void WireSeed_StableAcrossProcesses_KnownValue()
    {
        // A fixed value: FNV-1a over the UTF-16 code units, folded; string.GetHashCode would differ per process.
        Assert.Equal(WireSeed.For(1, "a", "b"), WireSeed.For(1, "a", "b"));
        Assert.NotEqual(WireSeed.For(1, "h1/eth0-h2/eth0", "a-to-b"), WireSeed.For(1, "h1/eth0-h2/eth0", "b-to-a"));
        Assert.Equal(369973355, WireSeed.For(1, "a", "b"));
    }

    [Fact]
    public void Cut_DropsInFlightAndOfferedAsLinkDown_RestoreCarriesAgain()
    {
        var ch = new WireChannel(1, 2 * Ms, Netem("delay 10ms"));
        var got = new List<ReadOnlyMemory<byte>>();
        for (int i = 0; i < 4; i++) ch.Offer(FaultFrames.Udp(), i * Ms, got);
        Assert.True(ch.Cut());
        Assert.False(ch.Cut());
        ch.Offer(FaultFrames.Udp(), 5 * Ms, got);
        Assert.Null(ch.NextDeadlineNs);
        var s = ch.Stats();
        Assert.Equal(5, s.DroppedBy(DropReason.SIM_LINK_DOWN));
        Assert.Equal(0, s.InFlight);
        AssertConserved(s);

        Assert.True(ch.Restore());
        ch.Offer(FaultFrames.Udp(), 6 * Ms, got);
        ch.Release(18 * Ms, got);
        Assert.Single(got);
        AssertConserved(ch.Stats());
    }

    [Fact]
    public void SetNetem_Change_HeldFramesKeepTheirSendTimes()
    {
        var ch = new WireChannel(1, 0, Netem("delay 100ms"));
        var got = new List<ReadOnlyMemory<byte>>();
        ch.Offer(FaultFrames.Udp(payload: 20), 0, got);
        ch.SetNetem(Netem("delay 10ms"), 1 * Ms);
        ch.Offer(FaultFrames.Udp(payload: 30), 1 * Ms, got);
        ch.Release(11 * Ms, got);
        Assert.Equal([72], got.Select(f => f.Length));
        ch.Release(99 * Ms, got);
        Assert.Single(got);
        ch.Release(100 * Ms, got);
        Assert.Equal([72, 62], got.Select(f => f.Length));

        ch.SetNetem(null, 100 * Ms);
        ch.Offer(FaultFrames.Udp(), 100 * Ms, got);
        Assert.Equal(3, got.Count);
        AssertConserved(ch.Stats());
    }

    [Fact]
    public void Fault_DropThirdSynAck_OnlyThatOne()
    {
        var rule = new FaultRule(new FaultMatch { Proto = FaultProto.Tcp, TcpFlags = TcpFlags.Syn | TcpFlags.Ack,
            TcpFlagsMask = TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Ack }, FaultAction.Drop) { Nth = 3 };
        var ch = new WireChannel(1, 0, faults: [rule]) { Direction = WireDirection.BToA };
        var kinds = new[] { TcpFlags.Syn, TcpFlags.Syn | TcpFlags.Ack, TcpFlags.Ack, TcpFlags.Syn | TcpFlags.Ack,
            TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Psh, TcpFlags.Syn | TcpFlags.Ack, TcpFlags.Syn | TcpFlags.Ack };
        var got = new List<ReadOnlyMemory<byte>>();
        foreach (var k in kinds) ch.Offer(FaultFrames.Tcp(k), 0, got);
        // SYN-ACKs at 1, 3, 4 (PSH ignored by the default mask), 5, 6: the third one (index 4) is gone.
        Assert.Equal(kinds.Where((_, i) => i != 4).Select(k => (byte)k), got.Select(f => f.Span[14 + 20 + 13]));
        Assert.Equal(1, ch.Stats().DroppedBy(DropReason.SIM_FAULT_RULE));
        Assert.Equal(5, ch.Faults.Matched(0));
        Assert.Equal(1, ch.Faults.Fired(0));
    }

    [Fact]
    public void Fault_TcpSequenceRange_DropsOnlySegmentsInside_EvenAcrossTheWrap()
    {
        // "drop the segments carrying bytes 4294967000..1000": a range that wraps past 2^32.
        var rule = new FaultRule(new FaultMatch { Proto = FaultProto.Tcp, TcpSeqFirst = 4294967000u, TcpSeqLast = 1000u }, FaultAction.Drop);
        var ch = new WireChannel(1, 0, faults: [rule]);
        uint[] seqs = [4294966000u, 4294967000u, 4294967295u, 0u, 1000u, 1001u, 5000u];
        var got = new List<ReadOnlyMemory<byte>>();
        foreach (var q in seqs) ch.Offer(FaultFrames.Tcp(TcpFlags.Ack, seq: q), 0, got);
        Assert.Equal([4294966000u, 1001u, 5000u], got.Select(f => BinaryPrimitives.ReadUInt32BigEndian(f.Span[(14 + 20 + 4)..])));
        Assert.Equal(4, ch.Stats().DroppedBy(DropReason.SIM_FAULT_RULE));
    }

    [Fact]
    public void Fault_CorruptEvery100thUdpToPort53_OneBitInACopy()
    {
        var rule = new FaultRule(new FaultMatch { Proto = FaultProto.Udp, Dport = 53 }, FaultAction.Corrupt) { Every = 100 };
        var ch = new WireChannel(5, 0, faults: [rule]);
        var dns = FaultFrames.Udp(dport: 53);
        var other = FaultFrames.Udp(dport: 54);
        var got = Run(ch, 1000, i => i % 2 == 0 ? dns : other);
        var corrupted = got.Select((f, i) => (f, i)).Where(x => !x.f.Span.SequenceEqual(x.i % 2 == 0 ? dns : other)).ToList();
        // The 100th, 200th, ... 500th DNS datagram: offered as frames 198, 398, ..., 998.
        Assert.Equal([198, 398, 598, 798, 998], corrupted.Select(x => x.i));
        foreach (var (f, _) in corrupted)
        {
            int bits = 0;
            for (int j = 0; j < f.Length; j++) bits += System.Numerics.BitOperations.PopCount((uint)(f.Span[j] ^ dns[j]));
            Assert.Equal(1, bits);
        }
        Assert.Equal(5, ch.Stats().Corrupted);
        Assert.Equal(FaultFrames.Udp(dport: 53), dns); // the caller's buffer is untouched
    }

    [Fact]
    public void Fault_DelayArpReplies_TwoSecondsLaterOthersUnaffected()
    {
        var rule = new FaultRule(new FaultMatch { Proto = FaultProto.Arp, ArpOp = 2 }, FaultAction.Delay)
        {
            Direction = WireDirection.AToB, Delay = TimeSpan.FromSeconds(2),
        };
        var ab = new WireChannel(1, 0, faults: [rule]) { Direction = WireDirection.AToB };
        var ba = new WireChannel(2, 0, faults: [rule]) { Direction = WireDirection.BToA };
        var got = new List<ReadOnlyMemory<byte>>();
        ab.Offer(FaultFrames.Arp(1, FaultFrames.IpA, FaultFrames.IpB), 0, got);
        ab.Offer(FaultFrames.Arp(2, FaultFrames.IpA, FaultFrames.IpB), 0, got);
        ba.Offer(FaultFrames.Arp(2, FaultFrames.IpB, FaultFrames.IpA), 0, got);
        Assert.Equal(2, got.Count); // the request, and the reply the other way
        Assert.Equal(2000 * Ms, ab.NextDeadlineNs);
        Assert.Equal(1, ab.Stats().InFlight);
        ab.Release(2000 * Ms, got);
        Assert.Equal(3, got.Count);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(got[2].Span[20..]));
        AssertConserved(ab.Stats());
    }

    [Fact]
    public void Fault_DuplicateAndDropWithNetem_Conserves()
    {
        var dup = new FaultRule(new FaultMatch { Proto = FaultProto.Udp, Dst = new Ipv4Prefix(FaultFrames.IpB, 32) }, FaultAction.Duplicate) { Every = 3 };
        var drop = new FaultRule(FaultMatch.All, FaultAction.Drop) { Every = 7 };
        var ch = new WireChannel(9, 1 * Ms, Netem("delay 2ms 1ms loss 3% duplicate 2%"), [dup, drop]);
        Run(ch, 2100, _ => FaultFrames.Udp());
        var s = ch.Stats();
        AssertConserved(s);
        Assert.Equal(0, s.InFlight);
        // Both rules count every frame; the duplicate rule (first) wins when both select: n % 7 == 0 and n % 3 != 0.
        Assert.Equal(200, s.DroppedBy(DropReason.SIM_FAULT_RULE));
        Assert.Equal(2100, s.Offered);
        Assert.Equal(700, ch.Faults.Fired(0));
        Assert.Equal(300, ch.Faults.Fired(1));
    }

    [Fact]
    public void FaultMatcher_MalformedFrames_NeverThrowAndMatchOnlyUnconditionalRules()
    {
        var any = new FaultRule(FaultMatch.All, FaultAction.Drop);
        var udp = new FaultRule(new FaultMatch { Proto = FaultProto.Udp, Dport = 53 }, FaultAction.Drop);
        var m = new FaultMatcher([udp, any]);
        byte[][] bad = [[], new byte[13], FaultFrames.Udp(dport: 53)[..20], FaultFrames.Udp(dport: 53)[..36], FaultFrames.Arp(2, default, default)[..30]];
        foreach (var f in bad) Assert.Same(any, m.Select(f, WireDirection.AToB));
        Assert.Equal(0, m.Matched(0));
        Assert.Same(udp, m.Select(FaultFrames.Udp(dport: 53), WireDirection.AToB));
    }
}
