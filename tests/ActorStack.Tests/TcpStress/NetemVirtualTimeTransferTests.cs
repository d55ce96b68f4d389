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
/// TCP's behaviour (or in the order of events at an instant) and must be explained. The engine has no line rate yet,
/// so a millisecond of segments lands at one instant and overflows the receiver's RX ring (FULL_RING): with 1 ms
/// netem delay those drops are the only losses, and each is repaired by exactly one retransmission.
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
        Assert.Equal(TimeSpan.FromTicks(81_775_827), elapsed);
        Assert.Equal((1415L, 1165L, 749L, 205L, 195L, 11588L), (Snmp(a, "RetransSegs"), Ext(a, "TCPFastRetrans"),
            Ext(a, "TCPSackRecovery"), Ext(a, "TCPTimeouts"), Ext(a, "TCPLossProbes"), Ext(a, "TCPOrigDataSent")));
        Assert.Equal((11738L, 148L), (Snmp(b, "InSegs"), Ext(b, "TCPDSACKOldSent")));
        Assert.Equal(0, b.DropsOf(DropReason.FULL_RING));
    }

    [Fact]
    public async Task Transfer_16MiB_WithReordering_ByteForByte_OfoQueueUsed()
    {
        var (a, b, elapsed) = await Transfer("delay 1ms reorder 25% 50%", 16 << 20, seed: 12);
        Assert.True(Ext(b, "TCPOFOQueue") > 0, "reordered segments are held in the out-of-order queue");
        // The seeded run, exactly (wire seed 12).
        Assert.Equal(TimeSpan.FromMilliseconds(88), elapsed);
        Assert.Equal(773L, Ext(b, "TCPOFOQueue"));
        Assert.Equal((1095L, 1095L, 4L, 525L), (Snmp(a, "RetransSegs"), Ext(a, "TCPFastRetrans"), Ext(a, "TCPSackRecovery"), Ext(a, "TCPSACKReorder")));
        Assert.Equal(1095L, b.DropsOf(DropReason.FULL_RING)); // one retransmission per RX ring drop, no spurious one
        Assert.Equal(0L, Ext(a, "TCPDSACKRecv"));
    }

    [Fact]
    public async Task Transfer_16MiB_Reorder10Percent_FewSpuriousRetransmits()
    {
        // 10% of segments (each way) skip netem's 1 ms, so the fastest round trips take 0 µs: the min-RTT filter takes
        // them for one jiffy (tcp_update_rtt_min) and RACK waits min_rtt/4 per step once reordering was seen. Losses
        // left are real (the receiver's RX ring overflows when a millisecond of segments lands at once); spurious
        // retransmissions (D-SACKed) stay few: before, min_rtt was 1 tick, the window 0, and about 600 D-SACKs and
        // 176 recoveries came back per run (3,686 retransmissions in all).
        var (a, b, elapsed) = await Transfer("delay 1ms reorder 10%", 16 << 20, seed: 12);
        Assert.True(Ext(a, "TCPSACKReorder") > 0, "reordering detected");
        Assert.True(Ext(a, "TCPDSACKRecv") < 150, $"TCPDSACKRecv {Ext(a, "TCPDSACKRecv")}");
        Assert.True(Ext(a, "TCPSackRecovery") < 30, $"TCPSackRecovery {Ext(a, "TCPSackRecovery")}");
        Assert.True(Ext(b, "TCPOFOQueue") > 0);
        // The seeded run, exactly (wire seed 12): 1,247 RX ring drops, 1,284 retransmissions, 8 of them D-SACKed as
        // spurious (the receiver had the data: TCPDSACKOldSent 14). (net_rx_action polling each NAPI once per run and the
        // protocol handlers inside the softirq moved these from 1,394 / 1,588 / 32.)
        Assert.Equal(TimeSpan.FromMilliseconds(63), elapsed);
        Assert.Equal((776L, 8L, 5L, 1284L, 341L), (Ext(a, "TCPSACKReorder"), Ext(a, "TCPDSACKRecv"), Ext(a, "TCPSackRecovery"),
            Snmp(a, "RetransSegs"), Ext(a, "TCPLostRetransmit")));
        Assert.Equal((1549L, 14L, 1247L), (Ext(b, "TCPOFOQueue"), Ext(b, "TCPDSACKOldSent"), b.DropsOf(DropReason.FULL_RING)));
    }
}
