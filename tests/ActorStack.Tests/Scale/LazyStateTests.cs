using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Scale;

/// <summary>
/// A host's state that is made on first use instead of at boot (issue 17, an idle host's memory): it must give the
/// values the eagerly built state gave. <c>ip_idents</c> (2048 counters filled with random values by
/// <c>ip_rt_init</c>), the <c>IcmpMsg</c> per-type counters and ping's duplicate table (<c>rcvd_tbl</c>, 65,536 bits).
/// </summary>
public sealed class LazyStateTests
{
    private static NetNamespace Ns(string name = "h", int seed = 7) => new(
        new HostSettings(name, 2, new SysctlSettings(),
            [new DeviceSettings("eth0", MacAddress.Parse("02:00:00:00:00:01"), Addresses: [new Ipv4Prefix(Ipv4Address.Parse("10.0.0.1"), 24)])]),
        seed);

    /// <summary>The table as ip_rt_init filled it before: counter i is the i-th draw of the host's ip_idents source.</summary>
    private static int[] EagerTable(NetNamespace ns)
    {
        var r = new Random(ns.SeedFor("ip_idents"));
        var t = new int[2048];
        for (int i = 0; i < t.Length; i++) t[i] = r.Next();
        return t;
    }

    private static int Bucket(Ipv4Address dst, byte protocol) =>
        (int)((((dst.Value * 0x9E3779B1u) ^ ((uint)protocol * 0x85EBCA77u)) >> 21) & 2047);

    [Fact]
    public void IpIdents_DrawnOnFirstUse_SameSequenceAsTheBootTable_InEveryBlock()
    {
        var ns = Ns();
        var table = EagerTable(ns);
        // 3 rounds over 300 destinations and 2 protocols: the blocks of 64 counters are made as their counters are
        // first used, in no particular order; every id must be the eager table's, counter by counter.
        int buckets = 0;
        var seen = new HashSet<int>();
        for (int round = 0; round < 3; round++)
            for (uint d = 0; d < 300; d++)
                foreach (byte proto in new byte[] { IpProtocol.Icmp, IpProtocol.Udp })
                {
                    var dst = new Ipv4Address(0x0A000000u + d * 7919u);
                    int b = Bucket(dst, proto);
                    if (seen.Add(b)) buckets++;
                    ushort expected = (ushort)unchecked(++table[b]);
                    Assert.Equal(expected, ns.NextIpId(dst, proto));
                }
        Assert.True(buckets > 400, $"only {buckets} counters used");
    }

    [Fact]
    public void IpIdents_OneDestination_FirstIdsAreTheBootValuePlusOne_AndDifferBySeedAndHost()
    {
        var dst = Ipv4Address.Parse("10.0.0.2");
        var ns = Ns();
        int start = EagerTable(ns)[Bucket(dst, IpProtocol.Icmp)];
        Assert.Equal((ushort)(start + 1), ns.NextIpId(dst, IpProtocol.Icmp));
        Assert.Equal((ushort)(start + 2), ns.NextIpId(dst, IpProtocol.Icmp));
        // Same host and seed: the same sequence; another seed or host name: another one (a replayable random start).
        Assert.Equal((ushort)(start + 1), Ns().NextIpId(dst, IpProtocol.Icmp));
        Assert.NotEqual((ushort)(start + 1), Ns(seed: 8).NextIpId(dst, IpProtocol.Icmp));
        Assert.NotEqual((ushort)(start + 1), Ns(name: "g").NextIpId(dst, IpProtocol.Icmp));
    }

    [Fact]
    public void IcmpTypeCounters_CountEveryType_ZeroWhereNeverCounted()
    {
        var c = new IcmpTypeCounters();
        Assert.Equal(256, c.Length);
        for (int t = 0; t < 256; t++) Assert.Equal(0, c[t]);
        c.Increment(0);
        c.Increment(8);
        c.Increment(8);
        c.Increment(255);
        c.Increment(31);
        c.Increment(32);
        for (int t = 0; t < 256; t++)
            Assert.Equal(t switch { 8 => 2, 0 or 255 or 31 or 32 => 1, _ => 0 }, c[t]);
    }

    [Fact]
    public void IcmpTypeCounters_ConcurrentIncrements_NoneLost()
    {
        var c = new IcmpTypeCounters();
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 64 * 150; i++) c.Increment(i % 64);
        });
        for (int t = 0; t < 64; t++) Assert.Equal(8 * 150, c[t]);
        Assert.Equal(0, c[64]);
    }

    [Fact]
    public void PingDupTable_EverySequenceAcrossItsPages_FirstReplyCounted_SecondDuplicate_ClearedWhenSentAgain()
    {
        var dst = Ipv4Address.Parse("10.0.0.2");
        var s = new PingStatistics(dst, 56);
        // 70,000 probes: the sequence wraps past 65,535 (every page of the table used, then reused).
        int dups = 0;
        for (int i = 0; i < 70_000; i++)
        {
            ushort seq = s.NextSequence();
            Assert.DoesNotContain("DUP", s.OnReply(dst, seq, 64, 64, 100, false));
            if (i % 4093 == 0)
            {
                Assert.EndsWith("(DUP!)", s.OnReply(dst, seq, 64, 64, 100, false));
                dups++;
            }
        }
        // A reply to a sequence not sent since the wrap is a duplicate only if its bit is still set: seq 5 was
        // answered at probe 65,541 (set), seq 65,000 at probe 65,000 (set, not cleared since).
        Assert.EndsWith("(DUP!)", s.OnReply(dst, 5, 64, 64, 100, false));
        Assert.EndsWith("(DUP!)", s.OnReply(dst, 65_000, 64, 64, 100, false));
        Assert.Equal(70_000, s.Received);
        Assert.Equal(dups + 2, s.Repeats);
    }
}
