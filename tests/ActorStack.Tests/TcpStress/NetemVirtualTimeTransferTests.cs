using System.Security.Cryptography;
using ActorStack.Config;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// 16 MiB bulk transfers through the socket actors over a netem wire on virtual time (<see cref="VirtualTimeTcpKit"/>),
/// byte for byte (SHA-256): the cases whose RTO waits and netem delays would cost tens of seconds on the real-time
/// scheduler. Both hosts run with net.ipv4.tcp_rto_min_us 20000 like the real-time <see cref="NetemTransferTests"/>.
/// On the simulation engine a seeded run is the same run every time, event for event, so besides the bounds that say
/// what each case is about, the virtual time and the counters are pinned exactly: a change in them is a change in
/// TCP's behaviour (or in the order of events at an instant) and must be explained. Frames take their wire time at
/// the 10 Gbit/s line rate and the hosts their CPU cost per packet, so a millisecond of segments no longer lands at one
/// instant: the receiver's RX ring never overflows (FULL_RING 0), and under reordering alone every retransmission is
/// spurious (the receiver D-SACKs it: TCPDSACKOldSent = RetransSegs).
/// </summary>
public class NetemVirtualTimeTransferTests(Xunit.Abstractions.ITestOutputHelper output) : VirtualTimeTcpKit("tcp-netem-vt")
{
    private static readonly SysctlSettings FastRto = new() { Tcp = new TcpSysctl { RtoMinUs = 20_000 } };

    private async Task<(HostStats A, HostStats B, TimeSpan Elapsed)> Transfer(string netem, int bytes, int seed)
    {
        Assert.True(NetemParser.TryParse(netem, out var ne, out var error), error);
        var p = await TwoHosts(new WireOptions("netem", seed, TimeSpan.Zero) { NetemAToB = ne, NetemBToA = ne }, FastRto);
        var data = Bytes(bytes, seed);
        var run = StartBulk(p, 5001, data);
        var (jumps, elapsed) = await Drive(() => run.Done, TimeSpan.FromMinutes(10));
        Assert.Null(run.Failure);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(run.Received));
        var a = await Stats(p.A);
        var b = await Stats(p.B);
        var ci = await Info(run.Client);
        output.WriteLine($"sender ({netem}): {bytes} bytes in {elapsed.TotalMilliseconds} ms virtual, {jumps} clock jumps (longest {LongestJump.TotalMilliseconds} ms), cwnd={ci.Cwnd} rto={ci.Rto} srtt={ci.Rtt} {NonZero(a)}");
        output.WriteLine($"receiver: {NonZero(b)}");
        output.WriteLine("drops: " + string.Join(" ", b.Drops.Select(d => $"{d.Site}={d.Packets}")));
        // A connection that stalled with no timer of its own would be woken only by an unrelated one (the 5 s TX
        // watchdog, the neighbour timers): every wait of a transfer is an RTO, a probe or a netem delay, far shorter.
        Assert.True(LongestJump < TimeSpan.FromSeconds(4), $"longest clock jump {LongestJump}");
        return (a, b, elapsed);
    }

    [Fact]
    public async Task Transfer_16MiB_Loss10Percent_ByteForByte_WithSackRecovery()
    {
        var (a, b, elapsed) = await Transfer("loss 10%", 16 << 20, seed: 11);
        Assert.True(Snmp(a, "RetransSegs") > 0, "loss must force retransmissions");
        // Losses in a flight of several segments are repaired by SACK recovery / fast retransmit, not only by RTOs.
        Assert.True(Ext(a, "TCPSackRecovery") > 0, $"TCPSackRecovery {Ext(a, "TCPSackRecovery")}");
        Assert.True(Ext(a, "TCPFastRetrans") > 0, $"TCPFastRetrans {Ext(a, "TCPFastRetrans")}");
        Assert.Equal(0, Snmp(a, "EstabResets"));
        // The seeded run, exactly (wire seed 11): every loss is netem's, none at the receiver's stack.
        Assert.Equal(TimeSpan.FromTicks(33_559_064), elapsed);
        Assert.Equal((1327L, 1204L, 759L, 87L, 75L, 11588L), (Snmp(a, "RetransSegs"), Ext(a, "TCPFastRetrans"),
            Ext(a, "TCPSackRecovery"), Ext(a, "TCPTimeouts"), Ext(a, "TCPLossProbes"), Ext(a, "TCPOrigDataSent")));
        Assert.Equal((11657L, 67L), (Snmp(b, "InSegs"), Ext(b, "TCPDSACKOldSent")));
        Assert.Equal(0, b.DropsOf(DropReason.FULL_RING));
    }

    [Fact]
    public async Task Transfer_16MiB_WithReordering_ByteForByte_OfoQueueUsed()
    {
        var (a, b, elapsed) = await Transfer("delay 1ms reorder 25% 50%", 16 << 20, seed: 12);
        Assert.True(Ext(b, "TCPOFOQueue") > 0, "reordered segments are held in the out-of-order queue");
        // The seeded run, exactly (wire seed 12).
        Assert.Equal(TimeSpan.FromTicks(1_821_585), elapsed);
        Assert.Equal(821L, Ext(b, "TCPOFOQueue"));
        Assert.Equal((146L, 146L, 35L, 1740L), (Snmp(a, "RetransSegs"), Ext(a, "TCPFastRetrans"), Ext(a, "TCPSackRecovery"), Ext(a, "TCPSACKReorder")));
        Assert.Equal(0L, b.DropsOf(DropReason.FULL_RING)); // nothing lost: every retransmission is spurious, D-SACKed
        Assert.Equal((146L, 77L), (Ext(b, "TCPDSACKOldSent"), Ext(a, "TCPDSACKRecv")));
    }

    [Fact]
    public async Task Transfer_16MiB_Reorder10Percent_SpuriousRetransmitsAllDsacked()
    {
        // 10% of segments (each way) skip netem's 1 ms, so the fastest round trips take only their wire time and CPU
        // cost (µs): the min-RTT filter takes them (tcp_update_rtt_min), and RACK's reordering window min_rtt/4 is far
        // shorter than the 1 ms by which the others arrive late. Nothing is lost (no RX ring overflow at the line rate),
        // so every retransmission is spurious and the receiver D-SACKs each one; with Linux's receive window
        // (tcp_win_from_space) the reordering costs 694 of them and 12 recoveries in 80 ms. (Linux shows the same with netem reordering this extreme: the reorder window adapts
        // only up to tcp_max_reordering once D-SACKs come back.)
        var (a, b, elapsed) = await Transfer("delay 1ms reorder 10%", 16 << 20, seed: 12);
        Assert.True(Ext(a, "TCPSACKReorder") > 0, "reordering detected");
        Assert.True(Ext(b, "TCPOFOQueue") > 0);
        // The seeded run, exactly (wire seed 12).
        Assert.Equal(TimeSpan.FromTicks(802_672), elapsed);
        Assert.Equal((1360L, 78L, 12L, 694L, 0L), (Ext(a, "TCPSACKReorder"), Ext(a, "TCPDSACKRecv"), Ext(a, "TCPSackRecovery"),
            Snmp(a, "RetransSegs"), Ext(a, "TCPLostRetransmit")));
        // 694 retransmissions, all spurious: 693 D-SACKed as old data and one as out-of-order data (TCPDSACKOfoSent).
        Assert.Equal((1258L, 693L, 1L, 0L), (Ext(b, "TCPOFOQueue"), Ext(b, "TCPDSACKOldSent"), Ext(b, "TCPDSACKOfoSent"), b.DropsOf(DropReason.FULL_RING)));
    }
}
