using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Netem;

public class NetemQueueTests
{
    private const long Ms = 1_000_000;

    private static NetemQopt Parse(string spec)
    {
        Assert.True(NetemParser.TryParse(spec, out var s, out var error), error);
        return s;
    }

    private static NetemQueue Queue(string spec, int seed = 1) => new(Parse(spec), new Random(seed));

    private static byte[] Udp(byte tos = 0, int payload = 18)
    {
        var f = FrameBuilder.Udp(MacAddress.Parse("02:00:00:00:00:02"), MacAddress.Parse("02:00:00:00:00:01"),
            Ipv4Address.Parse("10.0.0.1"), Ipv4Address.Parse("10.0.0.2"), 1000, 2000, new byte[payload]);
        if (tos != 0)
        {
            var ip = f.AsSpan(EthernetHeader.Length, Ipv4Header.MinLength);
            ip[1] = tos;
            ip[10] = 0; ip[11] = 0;
            var c = Checksum.Compute(ip);
            ip[10] = (byte)(c >> 8); ip[11] = (byte)c;
        }
        return f;
    }

    /// <summary>Enqueues n frames one at a time at t = i µs into an otherwise idle queue and drains each.</summary>
    private static void RunIdle(NetemQueue q, int n, byte[] frame, Action<long>? delaySeen = null)
    {
        for (int i = 0; i < n; i++)
        {
            long now = i * 1000L;
            q.Enqueue(frame, now);
            while (q.NextDeadlineNs is { } d)
            {
                Assert.True(q.TryDequeue(Math.Max(now, d), out _));
                delaySeen?.Invoke(d - now);
            }
        }
    }

    [Theory]
    [InlineData(1.0, 0.0015)]
    [InlineData(10.0, 0.005)]
    public void Enqueue_RandomLoss_DropsAtConfiguredRate(double percent, double tolerance)
    {
        var q = Queue($"loss random {percent}%");
        const int n = 100_000;
        RunIdle(q, n, Udp());
        double rate = (double)q.DroppedBy(DropReason.SIM_NETEM_LOSS) / n;
        Assert.InRange(rate, percent / 100 - tolerance, percent / 100 + tolerance);
        Assert.Equal(n, q.Sent + q.Dropped);
        Assert.Equal(0, q.DroppedBy(DropReason.QDISC_DROP));
    }

    private static (double Rate, double LossAfterLoss) LossPattern(string spec, int n)
    {
        var q = Queue(spec);
        var frame = Udp();
        long losses = 0, pairs = 0, lossAfterLoss = 0;
        bool prev = false;
        for (int i = 0; i < n; i++)
        {
            bool lost = q.Enqueue(frame, i).IsDropped;
            while (q.TryDequeue(i, out _)) { }
            if (lost) losses++;
            if (prev) { pairs++; if (lost) lossAfterLoss++; }
            prev = lost;
        }
        return ((double)losses / n, (double)lossAfterLoss / pairs);
    }

    [Fact]
    public void Enqueue_CorrelatedLoss_LossesComeInBursts()
    {
        var (rate, after) = LossPattern("loss random 10% 0%", 100_000);
        Assert.InRange(after, rate - 0.01, rate + 0.01); // independent: P(loss | loss) = P(loss)
        var (cRate, cAfter) = LossPattern("loss random 30% 50%", 100_000);
        Assert.True(cRate > 0.05, $"correlated loss rate {cRate}");
        Assert.True(cAfter > 2 * cRate, $"P(loss|loss) {cAfter} vs P(loss) {cRate}");
    }

    [Fact]
    public void Enqueue_StrongLossCorrelation_LosesFarBelowNominal_AsLinuxGetCrandom()
    {
        // get_crandom mixes 25% fresh with 75% previous value: the mix rarely falls below 10%,
        // the known shortcoming of netem's correlation (the rate is not preserved).
        var (rate, _) = LossPattern("loss random 10% 75%", 100_000);
        Assert.InRange(rate, 0.0, 0.001);
    }

    [Fact]
    public void Enqueue_FourStateModel_MatchesStationaryLoss()
    {
        double p13 = 0.02, p31 = 0.30, p32 = 0.10, p23 = 0.50, p14 = 0.01;
        // Balance: π1·p13 = π3·p31, π2·p23 = π3·p32, π4 = p14·π1; loss = π3 + π4.
        double pi3 = 1 / (p31 / p13 + p32 / p23 + 1 + p14 * p31 / p13);
        double expected = pi3 * (1 + p14 * p31 / p13);
        var (rate, _) = LossPattern("loss state 2% 30% 10% 50% 1%", 200_000);
        Assert.InRange(rate, expected - 0.004, expected + 0.004);
    }

    [Fact]
    public void Enqueue_GilbertElliott_MatchesStationaryLoss()
    {
        double p = 0.01, r = 0.10, oneMinusH = 0.70, oneMinusK = 0.001;
        double bad = p / (p + r);
        double expected = (1 - bad) * oneMinusK + bad * oneMinusH;
        var (rate, after) = LossPattern("loss gemodel 1% 10% 70% 0.1%", 200_000);
        Assert.InRange(rate, expected - 0.006, expected + 0.006);
        Assert.True(after > 5 * rate, $"GE losses are bursty: P(loss|loss) {after}");
    }

    [Fact]
    public void DistributionTables_Normal_MatchesIproute2NormalDist()
    {
        var t = NetemDistributionTables.For(NetemDistribution.Normal)!;
        Assert.Equal(4096, t.Length);
        // The first row of iproute2's normal.dist.
        Assert.Equal(new short[] { -32768, -28307, -26871, -25967, -25298, -24765, -24320, -23937 }, t[..8]);
        double mean = t.Average(v => (double)v) / 8192;
        double sd = Math.Sqrt(t.Average(v => Math.Pow(v / 8192.0 - mean, 2)));
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(sd, 0.98, 1.02);
        var pareto = NetemDistributionTables.For(NetemDistribution.Pareto)!;
        Assert.Equal(4096, pareto.Length);
        Assert.Equal(-5461, pareto[0]);
        Assert.Equal(32767, pareto[^1]);
        Assert.Equal(4096, NetemDistributionTables.For(NetemDistribution.ParetoNormal)!.Length);
        Assert.Null(NetemDistributionTables.For(NetemDistribution.Uniform));
    }

    [Theory]
    [InlineData("delay 100ms 10ms", "")]
    [InlineData("delay 100ms 10ms distribution normal", "normal")]
    [InlineData("delay 100ms 10ms distribution pareto", "pareto")]
    [InlineData("delay 100ms 10ms distribution paretonormal", "paretonormal")]
    public void Enqueue_DelayDistribution_MeanAndStddevMatchTable(string spec, string dist)
    {
        const int n = 50_000;
        var q = Queue(spec);
        var delays = new List<long>(n);
        RunIdle(q, n, Udp(), delays.Add);
        Assert.Equal(n, delays.Count);
        double mu = 100 * Ms, sigma = 10 * Ms;
        double expMean, expSd;
        if (dist == "")
        {
            expMean = mu - 0.5;            // (rnd % 2σ) - σ: 2σ values, mean -1/2
            expSd = sigma / Math.Sqrt(3);
            Assert.All(delays, d => Assert.InRange(d, 90 * Ms, 110 * Ms - 1));
        }
        else
        {
            var t = NetemDistributionTables.For(Enum.Parse<NetemDistribution>(dist, ignoreCase: true))!;
            double tm = t.Average(v => (double)v) / 8192;
            expMean = mu + sigma * tm;
            expSd = sigma * Math.Sqrt(t.Average(v => Math.Pow(v / 8192.0 - tm, 2)));
        }
        double mean = delays.Average();
        double sd = Math.Sqrt(delays.Average(d => Math.Pow(d - mean, 2)));
        Assert.InRange(mean, expMean - 5 * expSd / Math.Sqrt(n), expMean + 5 * expSd / Math.Sqrt(n));
        Assert.InRange(sd, expSd * 0.97, expSd * 1.03);
    }

    [Fact]
    public void Enqueue_Duplicate_ClonesAtRateAndNeverDuplicatesADuplicate()
    {
        const int n = 100_000;
        var q = Queue("duplicate 10%");
        RunIdle(q, n, Udp());
        Assert.InRange(q.Duplicated / (double)n, 0.097, 0.103);
        Assert.Equal(n + q.Duplicated, q.Sent);
        var all = Queue("duplicate 100%");
        RunIdle(all, 100, Udp());
        Assert.Equal(100, all.Duplicated); // a clone is not cloned again
        Assert.Equal(200, all.Sent);
    }

    [Fact]
    public void Enqueue_Corrupt_FlipsOneBitInACopyAtRate()
    {
        const int n = 50_000;
        var q = Queue("corrupt 10%");
        var frame = Udp();
        var pristine = frame.ToArray();
        int oneBit = 0;
        for (int i = 0; i < n; i++)
        {
            var v = q.Enqueue(frame, i);
            Assert.True(q.TryDequeue(i, out var outFrame));
            int bits = 0;
            var o = outFrame.Span;
            for (int k = 0; k < o.Length; k++) bits += System.Numerics.BitOperations.PopCount((uint)(o[k] ^ pristine[k]));
            Assert.Equal(v.Corrupted ? 1 : 0, bits);
            oneBit += bits;
        }
        Assert.Equal(q.Corrupted, oneBit);
        Assert.InRange(q.Corrupted / (double)n, 0.095, 0.105);
        Assert.Equal(pristine, frame);
    }

    [Fact]
    public void Enqueue_ReorderGap1_SendsAtOnceAtRate()
    {
        const int n = 50_000;
        var q = Queue("delay 10ms reorder 25%");
        RunIdle(q, n, Udp());
        Assert.InRange(q.Reordered / (double)n, 0.24, 0.26);
    }

    [Fact]
    public void Enqueue_ReorderGap5_EveryFifthIsACandidate()
    {
        const int n = 80_000;
        var q = Queue("delay 10ms reorder 25% gap 5");
        var frame = Udp();
        int sinceLast = 0, minRun = int.MaxValue;
        for (int i = 0; i < n; i++)
        {
            var v = q.Enqueue(frame, i * 1000L);
            if (v.Reordered) { minRun = Math.Min(minRun, sinceLast); sinceLast = 0; }
            else sinceLast++;
            while (q.TryDequeue(i * 1000L + 10 * Ms, out _)) { }
            if (i < 4) Assert.False(v.Reordered);
        }
        Assert.Equal(4, minRun);
        // Renewal: 4 delayed frames, then geometric trials at 25%: one reorder per 8 frames on average.
        Assert.InRange(q.Reordered / (double)n, 0.115, 0.135);
    }

    [Fact]
    public void Dequeue_ReorderedFrame_OvertakesDelayedOnes()
    {
        var q = new NetemQueue(Parse("delay 10ms reorder 100% gap 3"), new Random(7));
        var frames = Enumerable.Range(0, 3).Select(i => new byte[] { (byte)i }).ToArray();
        foreach (var f in frames) q.Enqueue(f, 0);
        Assert.True(q.TryDequeue(0, out var first));
        Assert.Equal(2, first.Span[0]);
        Assert.False(q.TryDequeue(0, out _));
        Assert.Equal(10 * Ms, q.NextDeadlineNs);
        Assert.True(q.TryDequeue(10 * Ms, out var a));
        Assert.True(q.TryDequeue(10 * Ms, out var b));
        Assert.Equal(new byte[] { 0, 1 }, new[] { a.Span[0], b.Span[0] });
    }

    [Theory]
    [InlineData("rate 8mbit", 1500, 1_500_000L)]
    [InlineData("rate 1mbit 20 100 5", 1000, 9_240_000L)] // (1000+20) → 11 cells × 105 B = 1155 B at 125000 B/s
    [InlineData("rate 1mbit -14", 1014, 8_000_000L)]
    [InlineData("rate 10kbit 0 53 -5", 100, 76_800_000L)] // 2 cells × 48 B at 1250 B/s
    public void Enqueue_Rate_SerializationTimeIncludesOverheadAndCells(string spec, int length, long perFrameNs)
    {
        var q = Queue(spec);
        const int n = 100;
        for (int i = 0; i < n; i++) q.Enqueue(new byte[length], 0);
        var released = new List<long>();
        while (q.NextDeadlineNs is { } d)
        {
            Assert.True(q.TryDequeue(d, out _));
            released.Add(d);
        }
        Assert.Equal(Enumerable.Range(1, n).Select(k => k * perFrameNs), released);
    }

    [Fact]
    public void Enqueue_RateAfterIdle_StartsFromNowAndDelayCountsAgainstBacklog()
    {
        var q = Queue("delay 5ms rate 8mbit"); // 1000 B = 1 ms
        q.Enqueue(new byte[1000], 0);           // sends at 5 + 1
        q.Enqueue(new byte[1000], 0);           // after the first: 6 + max(0, 5 - 6) + 1 = 7
        Assert.Equal(6 * Ms, q.NextDeadlineNs);
        Assert.True(q.TryDequeue(6 * Ms, out _));
        Assert.True(q.TryDequeue(7 * Ms, out _));
        q.Enqueue(new byte[1000], 100 * Ms);    // idle: now + 5 + 1
        Assert.Equal(106 * Ms, q.NextDeadlineNs);
    }

    [Fact]
    public void Dequeue_Slot_ReleasesPacketsPerSlot()
    {
        var q = new NetemQueue(Parse("slot 10ms 10ms packets 2"), new Random(3), configuredAtNs: 0);
        for (int i = 0; i < 5; i++) q.Enqueue(new byte[100], 1);
        var released = new List<long>();
        long now = 1;
        while (q.Backlog > 0)
        {
            while (q.TryDequeue(now, out _)) released.Add(now);
            now = q.NextDeadlineNs ?? now;
        }
        Assert.Equal(new[] { 10 * Ms + 1, 10 * Ms + 1, 20 * Ms + 1, 20 * Ms + 1, 30 * Ms + 1 }, released);
    }

    [Fact]
    public void Dequeue_SlotBytes_EndsSlotWhenBudgetSpent()
    {
        var q = new NetemQueue(Parse("slot 1ms bytes 1500"), new Random(3));
        for (int i = 0; i < 4; i++) q.Enqueue(new byte[1000], 1);
        var released = new List<long>();
        long now = 1;
        while (q.Backlog > 0)
        {
            while (q.TryDequeue(now, out _)) released.Add(now);
            now = q.NextDeadlineNs ?? now;
        }
        Assert.Equal(new[] { Ms + 1, Ms + 1, 2 * Ms + 1, 2 * Ms + 1 }, released);
    }

    [Fact]
    public void Dequeue_SlotRange_SpacingUniformBetweenMinAndMax()
    {
        var q = new NetemQueue(Parse("limit 20000 slot 1ms 2ms packets 1"), new Random(5));
        const int n = 20_000;
        for (int i = 0; i < n; i++) q.Enqueue(new byte[64], 0);
        var released = new List<long>();
        long now = 0;
        while (q.Backlog > 0)
        {
            while (q.TryDequeue(now, out _)) released.Add(now);
            now = q.NextDeadlineNs ?? now;
        }
        var gaps = released.Zip(released.Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps, g => Assert.InRange(g, Ms, 2 * Ms));
        Assert.InRange(gaps.Average(), 1.49 * Ms, 1.51 * Ms);
    }

    private static List<(long Time, string Bytes)> Scenario(int seed)
    {
        var s = Parse("limit 50 delay 10ms 5ms 25% distribution normal loss random 5% 25% corrupt 5% duplicate 5% " +
                      "reorder 10% 50% gap 3 rate 10mbit slot 1ms 2ms packets 4");
        var q = new NetemQueue(s, new Random(seed));
        var outSeq = new List<(long, string)>();
        long now = 0;
        for (int i = 0; i < 5000; i++)
        {
            now = i * 100_000L;
            var f = new byte[60 + i % 500];
            f[0] = (byte)i; f[1] = (byte)(i >> 8);
            q.Enqueue(f, now);
            while (q.TryDequeue(now, out var o)) outSeq.Add((now, Convert.ToHexString(o.Span)));
        }
        while (q.NextDeadlineNs is { } d)
        {
            now = Math.Max(now, d);
            while (q.TryDequeue(now, out var o)) outSeq.Add((now, Convert.ToHexString(o.Span)));
        }
        Assert.Equal(q.Received + q.Duplicated, q.Sent + q.Dropped + q.Backlog);
        Assert.True(q.DroppedBy(DropReason.QDISC_DROP) > 0 && q.DroppedBy(DropReason.SIM_NETEM_LOSS) > 0);
        return outSeq;
    }

    [Fact]
    public void NetemQueue_SameSeedTwice_IdenticalOutput()
    {
        var a = Scenario(42);
        var b = Scenario(42);
        Assert.Equal(a, b);
        Assert.NotEqual(a, Scenario(43));
    }

    [Fact]
    public void Enqueue_OverLimit_DropsAndCountsLimit()
    {
        var q = Queue("limit 10 delay 1s");
        var verdicts = Enumerable.Range(0, 15).Select(_ => q.Enqueue(new byte[100], 0)).ToList();
        Assert.Equal(10, q.Backlog);
        Assert.Equal(1000, q.BacklogBytes);
        Assert.Equal(5, q.DroppedBy(DropReason.QDISC_DROP));
        Assert.All(verdicts.Skip(10), v => Assert.Equal(DropReason.QDISC_DROP, v.Drop));
        Assert.All(verdicts.Take(10), v => Assert.Equal(1, v.Queued));
        Assert.Equal(10, q.Reset());
        Assert.Equal(0, q.Backlog);
    }

    [Fact]
    public void Enqueue_AllImpairments_CallerBufferNeverMutated()
    {
        var q = Queue("delay 1ms loss 50% ecn corrupt 100% duplicate 50%");
        var frame = Udp(tos: 0x02);
        var pristine = frame.ToArray();
        for (int i = 0; i < 2000; i++)
        {
            q.Enqueue(frame, i);
            while (q.TryDequeue(i + 2 * Ms, out _)) { }
        }
        Assert.True(q.Corrupted > 0 && q.EcnMarked > 0);
        Assert.Equal(pristine, frame);
    }

    [Fact]
    public void Enqueue_EcnOnEctPacket_MarksCeWithValidChecksum()
    {
        var q = Queue("loss 100% ecn");
        var ect0 = Udp(tos: 0x02);
        var v = q.Enqueue(ect0, 0);
        Assert.True(v.EcnMarked);
        Assert.Equal(1, v.Queued);
        Assert.True(q.TryDequeue(0, out var marked));
        Assert.True(Ipv4Header.TryRead(marked.Span[EthernetHeader.Length..], out var ip));
        Assert.Equal(0x03, ip.Tos & 3);
        Assert.True(ip.ChecksumValid);
        Assert.Equal(0x02, ect0[EthernetHeader.Length + 1]);

        var ect1 = Udp(tos: 0xB9); // DSCP 46, ECT(1)
        Assert.True(q.Enqueue(ect1, 0).EcnMarked);
        Assert.True(q.TryDequeue(0, out marked));
        Assert.True(Ipv4Header.TryRead(marked.Span[EthernetHeader.Length..], out ip));
        Assert.Equal(0xBB, ip.Tos);
        Assert.True(ip.ChecksumValid);

        var notEct = q.Enqueue(Udp(), 0);
        Assert.Equal(DropReason.SIM_NETEM_LOSS, notEct.Drop);
        Assert.Equal(2, q.EcnMarked);
        Assert.Equal(1, q.DroppedBy(DropReason.SIM_NETEM_LOSS));
    }

    [Fact]
    public void Enqueue_MalformedFrames_NeverThrow()
    {
        var q = Queue("delay 1ms loss 30% ecn corrupt 50% duplicate 20% rate 1mbit");
        var rng = new Random(9);
        for (int i = 0; i < 2000; i++)
        {
            var f = new byte[rng.Next(0, 40)];
            rng.NextBytes(f);
            if (f.Length >= 14) { f[12] = 0x08; f[13] = 0x00; }
            q.Enqueue(f, i * 1000L);
            while (q.TryDequeue(i * 1000L + 100 * Ms, out _)) { }
        }
        Assert.Equal(q.Received + q.Duplicated, q.Sent + q.Dropped + q.Backlog);
    }

    [Fact]
    public void NetemQueue_InvalidSettings_RejectedAtConstruction()
    {
        var bad = NetemQopt.Default with { Slot = new NetemSlot(2 * Ms, 1 * Ms) };
        var ex = Assert.Throws<ArgumentException>(() => new NetemQueue(bad, new Random(1)));
        Assert.StartsWith("netem: slot min delay greater than max delay", ex.Message);
    }
}
