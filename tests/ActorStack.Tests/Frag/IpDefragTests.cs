using ActorStack.Config;
using ActorStack.Actors.Ipv4.Frag;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Frag.FragTestPackets;

namespace ActorStack.Tests.Frag;

public class IpDefragTests
{
    private static IpDefrag NewDefrag() => new(DefragSettings.Default);

    private static DefragCounters C(long timeout = 0, long reqds = 0, long oks = 0, long fails = 0, long overlaps = 0)
        => new(timeout, reqds, oks, fails, overlaps);

    [Fact]
    public void Settings_Defaults_AreLinuxDefaults()
    {
        var s = DefragSettings.Default;
        Assert.Equal(4194304, s.IpfragHighThresh);
        Assert.Equal(3145728, s.IpfragLowThresh);
        Assert.Equal(TimeSpan.FromSeconds(30), s.IpfragTime);
        Assert.Equal(64, s.IpfragMaxDist);
    }

    [Fact]
    public void Snapshot_ToPairs_LinuxNamesInSnmpOrder()
    {
        Assert.Equal(new[] { "ReasmTimeout", "ReasmReqds", "ReasmOKs", "ReasmFails", "ReasmOverlaps" },
            C(1, 2, 3, 4, 5).ToPairs().Select(p => p.Key));
        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, C(1, 2, 3, 4, 5).ToPairs().Select(p => p.Value));
    }

    [Fact]
    public void Add_NotAFragment_ReturnedUncounted()
    {
        var d = NewDefrag();
        var p = Datagram(100, 1, Ipv4Header.FlagDf);
        var r = d.Add(p, 0);
        Assert.Equal(DefragStatus.Complete, r.Status);
        Assert.Equal(p, r.Packet);
        Assert.Equal(C(), d.Snapshot());
    }

    /// <summary>All 24 orders of a 4-fragment datagram, each with a duplicate after every fragment, interleaved with another datagram of the same flow.</summary>
    [Fact]
    public void Add_EveryPermutationWithDuplicatesInterleaved_ReassemblesBoth()
    {
        var a = Datagram(200, id: 100, seed: 3);
        var b = Datagram(200, id: 101, seed: 4);
        var fa = IpFragmenter.Fragment(a, 76, false).Fragments; // 56+56+56+32 data bytes
        var fb = IpFragmenter.Fragment(b, 76, false).Fragments;
        Assert.Equal(4, fa.Count);
        var rng = new Random(11);
        var d = NewDefrag();
        long reqds = 0;
        int perms = 0;
        foreach (var order in Permutations(new[] { 0, 1, 2, 3 }))
        {
            perms++;
            var orderB = order.Reverse().ToArray();
            for (int i = 0; i < 4; i++)
            {
                var r = d.Add(fa[order[i]], perms);
                reqds++;
                if (i < 3)
                {
                    Assert.Equal(DefragStatus.Incomplete, r.Status);
                    // A duplicate of something already queued is ignored; the queue survives.
                    var dup = d.Add(fa[order[rng.Next(i + 1)]], perms);
                    reqds++;
                    Assert.Equal(DefragStatus.Dropped, dup.Status);
                    Assert.Equal(DropReason.DUP_FRAG, dup.Reason);
                    Assert.Equal(DefragCause.Duplicate, dup.Cause);
                    Assert.Equal(1, dup.FragmentsFreed);
                }
                else
                {
                    Assert.Equal(DefragStatus.Complete, r.Status);
                    Assert.Equal(a, r.Packet);
                }
                var rb = d.Add(fb[orderB[i]], perms);
                reqds++;
                Assert.Equal(i < 3 ? DefragStatus.Incomplete : DefragStatus.Complete, rb.Status);
                if (i == 3) Assert.Equal(b, rb.Packet);
            }
            Assert.Equal(0, d.QueueCount);
            Assert.Equal(0, d.MemoryBytes);
        }
        Assert.Equal(24, perms);
        Assert.Equal(C(reqds: reqds, oks: 48), d.Snapshot());
        Assert.Equal(24 * 11, reqds);
    }

    [Fact]
    public void Add_DuplicateAfterCompletion_StartsNewQueue()
    {
        var frags = IpFragmenter.Fragment(Datagram(100, 5), 68, false).Fragments;
        var d = NewDefrag();
        foreach (var f in frags) d.Add(f, 0);
        Assert.Equal(DefragStatus.Incomplete, d.Add(frags[0], 0).Status);
        Assert.Equal(1, d.QueueCount);
    }

    [Fact]
    public void Add_DifferentProtocolSameId_SeparateQueues()
    {
        var d = NewDefrag();
        var u = IpFragmenter.Fragment(Datagram(100, 5, protocol: IpProtocol.Udp), 68, false).Fragments;
        var t = IpFragmenter.Fragment(Datagram(100, 5, protocol: IpProtocol.Icmp), 68, false).Fragments;
        d.Add(u[0], 0);
        d.Add(t[0], 0);
        Assert.Equal(2, d.QueueCount);
    }

    [Fact]
    public void Expire_FirstFragmentArrived_ReturnsItAndCounts()
    {
        var d = NewDefrag();
        var frags = IpFragmenter.Fragment(Datagram(100, 7), 68, false).Fragments;
        Assert.Equal(DefragStatus.Incomplete, d.Add(frags[0], 5 * Second).Status);
        Assert.Equal(35 * Second, d.NextExpiryTicks);
        // A later fragment does not push the timer back (inet_frag_alloc arms it once).
        d.Add(frags[1], 20 * Second);
        Assert.Equal(35 * Second, d.NextExpiryTicks);
        Assert.Empty(d.Expire(35 * Second - 1));
        var e = Assert.Single(d.Expire(35 * Second));
        Assert.True(e.FirstFragmentArrived);
        Assert.Equal(frags[0], e.FirstFragment);
        Assert.Equal(new FragKey(Src, Dst, 7, IpProtocol.Udp), e.Key);
        Assert.Equal(2, e.FragmentsFreed);
        Assert.Equal(C(timeout: 1, reqds: 2, fails: 1), d.Snapshot());
        Assert.Equal(0, d.MemoryBytes);
        Assert.Equal(0, d.QueueCount);
        Assert.Null(d.NextExpiryTicks);
        // The last fragment after expiry starts a fresh queue instead of completing.
        Assert.Equal(DefragStatus.Incomplete, d.Add(frags[2], 36 * Second).Status);
    }

    [Fact]
    public void Expire_FirstFragmentAbsent_NoIcmpData()
    {
        var d = NewDefrag();
        var frags = IpFragmenter.Fragment(Datagram(100, 7), 68, false).Fragments;
        d.Add(frags[1], 0);
        d.Add(frags[2], 0);
        var e = Assert.Single(d.Expire(30 * Second));
        Assert.False(e.FirstFragmentArrived);
        Assert.Null(e.FirstFragment);
        Assert.Equal(C(timeout: 1, reqds: 2, fails: 1), d.Snapshot());
    }

    [Fact]
    public void Expire_SeveralQueues_OldestFirstOnlyDueOnes()
    {
        var d = new IpDefrag(DefragSettings.Default with { IpfragTime = TimeSpan.FromSeconds(10) });
        for (ushort id = 1; id <= 3; id++)
            d.Add(Fragment(id, 0, 8, mf: true), id * Second);
        var e = d.Expire(12 * Second);
        Assert.Equal(new ushort[] { 1, 2 }, e.Select(x => x.Key.Id));
        Assert.Equal(13 * Second, d.NextExpiryTicks);
        Assert.Equal(1, d.QueueCount);
    }

    [Fact]
    public void Add_Teardrop_LastFragmentInsideFirst_DiscardsQueue()
    {
        // Teardrop: a 36-byte first fragment (kept as [0, 32)), then a "last" fragment [24, 28) ending inside it.
        var d = NewDefrag();
        Assert.Equal(DefragStatus.Incomplete, d.Add(Fragment(1, 0, 36, mf: true), 0).Status);
        var r = d.Add(Fragment(1, 24, 4, mf: false), 0);
        Assert.Equal(DefragStatus.Dropped, r.Status);
        Assert.Equal(DefragCause.InconsistentEnd, r.Cause);
        Assert.Equal(2, r.FragmentsFreed);
        Assert.Equal(C(reqds: 2, fails: 1), d.Snapshot());
        Assert.Equal(0, d.QueueCount);
        Assert.Equal(0, d.MemoryBytes);
    }

    [Fact]
    public void Add_OverlapPastTail_DiscardsQueueCountsOverlap()
    {
        var d = NewDefrag();
        d.Add(Fragment(1, 0, 16, mf: true), 0);
        var r = d.Add(Fragment(1, 8, 16, mf: true), 0);
        Assert.Equal(DefragCause.Overlap, r.Cause);
        Assert.Equal(2, r.FragmentsFreed);
        Assert.Equal(C(reqds: 2, fails: 1, overlaps: 1), d.Snapshot());
        Assert.Equal(0, d.QueueCount);
        Assert.Equal(0, d.MemoryBytes);
    }

    [Fact]
    public void Add_OverlapInsideQueue_DiscardsQueue()
    {
        var d = NewDefrag();
        d.Add(Fragment(1, 0, 8, mf: true), 0);
        d.Add(Fragment(1, 16, 8, mf: true), 0);
        d.Add(Fragment(1, 32, 8, mf: false), 0);
        var r = d.Add(Fragment(1, 8, 16, mf: true), 0); // [8, 24) overlaps [16, 24)
        Assert.Equal(DefragCause.Overlap, r.Cause);
        Assert.Equal(4, r.FragmentsFreed);
        Assert.Equal(C(reqds: 4, fails: 1, overlaps: 1), d.Snapshot());
    }

    [Fact]
    public void Add_InsideOneRun_IsDuplicateButSpanningTwoRuns_IsOverlap()
    {
        var d = NewDefrag();
        d.Add(Fragment(1, 0, 8, mf: true), 0);
        d.Add(Fragment(1, 8, 8, mf: true), 0);          // appended: one run [0, 16)
        var dup = d.Add(Fragment(1, 0, 16, mf: true, fill: 0xCD), 0);
        Assert.Equal(DefragCause.Duplicate, dup.Cause); // inside the run, even with other bytes: dropped, queue kept
        Assert.Equal(1, d.QueueCount);

        // Runs built out of order stay separate (Linux): [32,40) then [16,24) then [24,32) are three runs.
        d.Add(Fragment(1, 32, 8, mf: true), 0);
        d.Add(Fragment(1, 16, 8, mf: true), 0);
        d.Add(Fragment(1, 24, 8, mf: true), 0);
        var r = d.Add(Fragment(1, 16, 16, mf: true), 0); // same data as [16,24)+[24,32), but spans two runs
        Assert.Equal(DefragCause.Overlap, r.Cause);
        Assert.Equal(C(reqds: 7, fails: 1, overlaps: 1), d.Snapshot());
    }

    [Fact]
    public void Add_TwoDifferentLastFragments_DiscardsQueue()
    {
        var d = NewDefrag();
        d.Add(Fragment(1, 8, 8, mf: false), 0);
        var r = d.Add(Fragment(1, 8, 16, mf: false), 0);
        Assert.Equal(DefragCause.InconsistentEnd, r.Cause);
        Assert.Equal(C(reqds: 2, fails: 1), d.Snapshot());
    }

    [Fact]
    public void Add_DataBeyondKnownEnd_DiscardsQueue()
    {
        var d = NewDefrag();
        d.Add(Fragment(1, 8, 8, mf: false), 0);
        var r = d.Add(Fragment(1, 16, 8, mf: true), 0);
        Assert.Equal(DefragCause.InconsistentEnd, r.Cause);
        Assert.Equal(0, d.QueueCount);
    }

    [Theory]
    [InlineData(0, true)]   // empty fragment with MF
    [InlineData(7, true)]   // rounds down to nothing
    [InlineData(0, false)]  // empty final fragment at the known end
    public void Add_ZeroLengthFragment_DiscardsQueue(int len, bool mf)
    {
        var d = NewDefrag();
        d.Add(Fragment(1, 0, 16, mf: true), 0);
        var r = d.Add(Fragment(1, 16, len, mf), 0);
        Assert.Equal(DefragStatus.Dropped, r.Status);
        Assert.Equal(DefragCause.ZeroLength, r.Cause);
        Assert.Equal(2, r.FragmentsFreed);
        Assert.Equal(C(reqds: 2, fails: 1), d.Snapshot());
        Assert.Equal(0, d.QueueCount);
        Assert.Equal(0, d.MemoryBytes);
    }

    [Fact]
    public void Add_NonFinalFragmentNotMultipleOf8_TrimmedToBoundary()
    {
        var d = NewDefrag();
        var data = Enumerable.Range(0, 20).Select(i => (byte)i).ToArray();
        var first = Packet(data.AsSpan(0, 13), 1, Ipv4Header.FlagMf);          // [0, 13) trimmed to [0, 8)
        var last = Packet(data.AsSpan(8, 12), 1, (ushort)(8 >> 3));           // [8, 20)
        Assert.Equal(DefragStatus.Incomplete, d.Add(first, 0).Status);
        var r = d.Add(last, 0);
        Assert.Equal(DefragStatus.Complete, r.Status);
        Assert.Equal(Packet(data, 1, 0), r.Packet);
    }

    [Fact]
    public void Add_TinyFirstFragment_Accepted()
    {
        var d = NewDefrag();
        var p = Datagram(9, 1);
        Assert.Equal(DefragStatus.Incomplete, d.Add(Packet(p.AsSpan(20, 8), 1, Ipv4Header.FlagMf), 0).Status);
        var r = d.Add(Packet(p.AsSpan(28, 1), 1, 1), 0);
        Assert.Equal(p, r.Packet);
    }

    [Fact]
    public void Add_PingOfDeath_DroppedAtReassembly()
    {
        // 65,548 data bytes: the last fragment sits at the largest offset (65528) and ends 20 bytes later.
        var d = NewDefrag();
        var results = new List<DefragResult>();
        int off = 0;
        while (off < 65528)
        {
            int len = Math.Min(1480, 65528 - off);
            results.Add(d.Add(Fragment(99, off, len, mf: true), 0));
            off += len;
        }
        Assert.All(results, r => Assert.Equal(DefragStatus.Incomplete, r.Status));
        var last = d.Add(Fragment(99, 65528, 20, mf: false), 0);
        Assert.Equal(DefragStatus.Dropped, last.Status);
        Assert.Equal(DropReason.PKT_TOO_BIG, last.Reason);
        Assert.Equal(DefragCause.Oversize, last.Cause);
        Assert.Equal(results.Count + 1, last.FragmentsFreed);
        Assert.Equal(C(reqds: results.Count + 1, fails: 1), d.Snapshot());
        Assert.Equal(0, d.QueueCount);
        Assert.Equal(0, d.MemoryBytes);
    }

    [Fact]
    public void Add_Largest_65535Datagram_Reassembles()
    {
        var p = Datagram(65515, 3);
        var d = NewDefrag();
        DefragResult r = default;
        foreach (var f in IpFragmenter.Fragment(p, 1500, false).Fragments.Reverse()) r = d.Add(f, 0);
        Assert.Equal(p, r.Packet);
    }

    [Fact]
    public void Add_AllFragmentsDf_ReassembledKeepsDf()
    {
        var p = Datagram(3000, 1, Ipv4Header.FlagDf);
        var frags = IpFragmenter.Fragment(p, 1500, ignoreDf: true, keepDf: true).Fragments;
        var d = NewDefrag();
        DefragResult r = default;
        foreach (var f in frags) r = d.Add(f, 0);
        Assert.Equal(p, r.Packet); // DF restored because the largest fragment had it
    }

    [Fact]
    public void Add_OnlySmallFragmentHasDf_ReassembledWithoutDf()
    {
        var d = NewDefrag();
        d.Add(Fragment(1, 0, 64, mf: true), 0);
        var r = d.Add(Fragment(1, 64, 8, mf: false, extraFlags: Ipv4Header.FlagDf), 0);
        Assert.False(Df(r.Packet!));
        Assert.True(ChecksumOk(r.Packet!));
        Assert.Equal(20 + 72, TotalLength(r.Packet!));
    }

    [Fact]
    public void Add_EcnNotEctMixedWithEct_Dropped()
    {
        var d = NewDefrag();
        d.Add(Fragment(1, 0, 8, mf: true, tos: 0), 0);
        var r = d.Add(Fragment(1, 8, 8, mf: false, tos: 2), 0);
        Assert.Equal(DefragCause.InvalidEcn, r.Cause);
        Assert.Equal(C(reqds: 2, fails: 1), d.Snapshot());
    }

    [Fact]
    public void Add_EcnCeWithEct_ReassembledIsCe()
    {
        var d = NewDefrag();
        d.Add(Fragment(1, 0, 8, mf: true, tos: 2), 0);
        var r = d.Add(Fragment(1, 8, 8, mf: false, tos: 3), 0);
        Assert.Equal(3, r.Packet![1] & 3);
        Assert.True(ChecksumOk(r.Packet!));
    }

    [Fact]
    public void Add_FloodOf100kIds_MemoryNeverAboveHighThreshEvictsCounted()
    {
        var d = NewDefrag();
        int truesize = SkBuff.TruesizeFor(28);
        Assert.Equal(640, truesize);
        long evicted = 0, maxMem = 0;
        var frag = Fragment(0, 0, 8, mf: true);
        for (int i = 0; i < 100_000; i++)
        {
            // Same bytes, different ids (and sources, for more than 65536 keys).
            var f = (byte[])frag.Clone();
            f[4] = (byte)(i >> 8); f[5] = (byte)i; f[15] = (byte)(i >> 16);
            var r = d.Add(f, i);
            Assert.Equal(DefragStatus.Incomplete, r.Status);
            evicted += r.QueuesEvicted;
            maxMem = Math.Max(maxMem, d.MemoryBytes);
        }
        Assert.True(maxMem <= 4194304);
        Assert.Equal(6553L * 640, maxMem); // 6553 queues fit under 4 MiB
        // Each eviction frees 1638 queues (6553 -> 4915, under 3 MiB) before the new one; 58 rounds in 100,000 arrivals.
        Assert.Equal(4996, d.QueueCount);
        Assert.Equal(4996L * 640, d.MemoryBytes);
        Assert.Equal(95004, evicted);
        Assert.Equal(C(reqds: 100_000, fails: 95004), d.Snapshot());

        // A legitimate datagram still gets through while the flood is held.
        var p = Datagram(3000, 7);
        DefragResult last = default;
        foreach (var f in IpFragmenter.Fragment(p, 1500, false).Fragments) last = d.Add(f, 100_000);
        Assert.Equal(p, last.Packet);
    }

    [Fact]
    public void Add_FragmentLargerThanHighThresh_RefusedNoMemory()
    {
        var d = new IpDefrag(DefragSettings.Default with { IpfragHighThresh = 500, IpfragLowThresh = 400 });
        var r = d.Add(Fragment(1, 0, 8, mf: true), 0);
        Assert.Equal(DefragStatus.Dropped, r.Status);
        Assert.Equal(DropReason.NOMEM, r.Reason);
        Assert.Equal(DefragCause.NoMemory, r.Cause);
        Assert.Equal(C(reqds: 1, fails: 1), d.Snapshot());
        Assert.Equal(0, d.QueueCount);
    }

    [Fact]
    public void Add_Eviction_FreesLeastRecentlyUsedDownToLowThresh()
    {
        // Room for 4 fragments of 640 bytes; eviction goes down to 3.
        var d = new IpDefrag(DefragSettings.Default with { IpfragHighThresh = 4 * 640, IpfragLowThresh = 3 * 640 });
        d.Add(Fragment(1, 0, 8, mf: true), 0);
        d.Add(Fragment(2, 0, 8, mf: true), 0);
        d.Add(Fragment(3, 0, 8, mf: true), 0);
        d.Add(Fragment(1, 8, 8, mf: true), 0);  // queue 1 used again: LRU order is 2, 3, 1
        Assert.Equal(4 * 640, d.MemoryBytes);

        var r = d.Add(Fragment(5, 0, 8, mf: true), 0);
        Assert.Equal(DefragStatus.Incomplete, r.Status);
        Assert.Equal((1, 1), (r.QueuesEvicted, r.FragmentsEvicted)); // queue 2 only
        Assert.Equal(4 * 640, d.MemoryBytes);

        var done = d.Add(Fragment(1, 16, 8, mf: false), 0);     // evicts queue 3, then completes queue 1
        Assert.Equal(DefragStatus.Complete, done.Status);
        Assert.Equal(1, done.QueuesEvicted);
        Assert.Equal(20 + 24, done.Packet!.Length);
        Assert.Equal(C(reqds: 6, oks: 1, fails: 2), d.Snapshot());
        Assert.Equal(640, d.MemoryBytes);                        // queue 5

        Assert.Equal(DefragStatus.Incomplete, d.Add(Fragment(2, 8, 8, mf: false), 0).Status); // a new queue 2
        Assert.Equal(2, d.QueueCount);
    }

    [Fact]
    public void Add_HostileInput_NeverThrowsMemoryBounded()
    {
        var d = new IpDefrag(DefragSettings.Default with { IpfragHighThresh = 200_000, IpfragLowThresh = 100_000 });
        var rng = new Random(1234);
        var baseFrag = Fragment(1, 0, 64, mf: true);
        long complete = 0;
        for (int i = 0; i < 20_000; i++)
        {
            byte[] p;
            if (i % 4 == 0)
            {
                p = new byte[rng.Next(0, 80)];
                rng.NextBytes(p);
            }
            else
            {
                p = (byte[])baseFrag.Clone();
                p[0] = (byte)(0x45 + (i % 50 == 0 ? rng.Next(-5, 11) : 0));
                p[4] = 0; p[5] = (byte)rng.Next(4);
                ushort fo = (ushort)rng.Next(0, 65536);
                p[6] = (byte)(fo >> 8); p[7] = (byte)fo;
                int tl = rng.Next(0, p.Length + 1);
                p[2] = (byte)(tl >> 8); p[3] = (byte)tl;
            }
            var r = d.Add(p, i);
            if (r.Status == DefragStatus.Complete) complete++;
            Assert.True(d.MemoryBytes <= 200_000);
        }
        d.Expire(long.MaxValue);
        Assert.Equal(0, d.QueueCount);
        Assert.Equal(0, d.MemoryBytes);
        var c = d.Snapshot();
        Assert.True(c.ReasmReqds > 10_000);
        Assert.True(c.ReasmFails > 0);
    }

    [Theory]
    [InlineData(new byte[] { 0x45, 0, 0, 20 })]                    // shorter than a header
    [InlineData(new byte[] { 0x65, 0, 0, 20, 0, 0, 0x20, 0, 64, 17, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 })] // version 6
    [InlineData(new byte[] { 0x44, 0, 0, 20, 0, 0, 0x20, 0, 64, 17, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 })] // IHL 4
    [InlineData(new byte[] { 0x45, 0, 0, 40, 0, 0, 0x20, 0, 64, 17, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 })] // total length > buffer
    public void Add_MalformedHeader_DroppedInHdr(byte[] p)
    {
        var d = NewDefrag();
        var r = d.Add(p, 0);
        Assert.Equal(DropReason.IP_INHDR, r.Reason);
        Assert.Equal(DefragCause.Malformed, r.Cause);
        Assert.Equal(C(reqds: 1, fails: 1), d.Snapshot());
    }

    internal static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1) { yield return items; yield break; }
        for (int i = 0; i < items.Length; i++)
            foreach (var rest in Permutations(items.Where((_, j) => j != i).ToArray()))
                yield return new[] { items[i] }.Concat(rest).ToArray();
    }
}
