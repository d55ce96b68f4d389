using ActorStack.Messages;
using System.Security.Cryptography;
using ActorStack.Actors.Link;
using ActorStack.Actors.Tcp;
using ActorStack.Hardware.Netem;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// Bulk transfers through the socket actors over a wire with netem (the project's tc-netem syntax), byte for byte
/// (SHA-256). Both hosts run with TcpSettings.RtoMin 20 ms (Linux: `ip route ... rto_min 20ms`; the
/// net.ipv4.tcp_rto_min_us sysctl) so that the RTOs loss forces fit in the time a test may take.
/// </summary>
public class NetemTransferTests(Xunit.Abstractions.ITestOutputHelper output) : TcpStressKit("tcp-netem")
{
    private static readonly TcpSettings FastRto = new() { RtoMin = TimeSpan.FromMilliseconds(20) };

    private async Task<(long RetransA, HostStats A, HostStats B)> Transfer(string netem, int bytes, int seed)
    {
        Assert.True(NetemParser.TryParse(netem, out var ne, out var error), error);
        var p = await TwoHosts(new WireOptions("netem", seed, TimeSpan.Zero) { NetemAToB = ne, NetemBToA = ne }, FastRto);
        var (c, s) = await Connect(p, 5001);
        var data = Bytes(bytes, seed);
        var read = ReadExactly(s, data.Length, TimeSpan.FromSeconds(30));
        await SendAll(c, data);
        var got = await read;
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(got));
        var a = await Stats(p.A.Host);
        var b = await Stats(p.B.Host);
        var ci = await Info(c);
        output.WriteLine($"sender ({netem}): {bytes} bytes, cwnd={ci.Cwnd} rto={ci.Rto} srtt={ci.Rtt} " + string.Join(" ", a.Mib("Tcp").Counters.Concat(a.Mib("TcpExt").Counters).Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}")));
        output.WriteLine("receiver: " + string.Join(" ", b.Mib("Tcp").Counters.Concat(b.Mib("TcpExt").Counters).Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}")));
        return (Snmp(a, "RetransSegs"), a, b);
    }

    /// <remarks>
    /// 16 MiB at 10% loss took 27-47 s here (about 280 RTOs: no tail loss probe / RACK in the TCB yet, so a lost
    /// retransmission or a lost tail waits for the RTO); the 10% case moves 2 MiB (3 MiB took 2-7 s) to stay under 10 s on a loaded machine.
    /// </remarks>
    [Theory]
    [InlineData("loss 1%", 16 << 20)]
    [InlineData("loss 5%", 16 << 20)]
    [InlineData("loss 10%", 2 << 20)]
    public async Task Transfer_UnderLoss_ByteForByte_WithSackRecovery(string netem, int bytes)
    {
        var (retrans, a, _) = await Transfer(netem, bytes, seed: 11);
        Assert.True(retrans > 0, "loss must force retransmissions");
        // Losses in a flight of several segments are repaired by SACK recovery / fast retransmit, not only by RTOs.
        Assert.True(Ext(a, "TCPSackRecovery") > 0, $"TCPSackRecovery {Ext(a, "TCPSackRecovery")}");
        Assert.True(Ext(a, "TCPFastRetrans") > 0, $"TCPFastRetrans {Ext(a, "TCPFastRetrans")}");
        Assert.Equal(0, Snmp(a, "EstabResets"));
    }

    /// <remarks>
    /// 16 MiB took about 30 s: every reordering past 3 segments is taken for a loss (fixed tcp_reordering 3, no RACK,
    /// no reordering detection) and PAWS drops reordered pure ACKs (no tcp_disordered_ack), so cwnd stays near 12.
    /// 3 MiB keeps it under 10 s.
    /// </remarks>
    [Fact]
    public async Task Transfer_3MiB_WithReordering_ByteForByte_OfoQueueUsed()
    {
        var (_, _, b) = await Transfer("delay 1ms reorder 25% 50%", 3 << 20, seed: 12);
        Assert.True(Ext(b, "TCPOFOQueue") > 0, "reordered segments are held in the out-of-order queue");
    }

    [Fact]
    public async Task Transfer_16MiB_WithDuplication_ByteForByte_DuplicatesDropped()
    {
        var (_, a, b) = await Transfer("duplicate 5%", 16 << 20, seed: 13);
        // A duplicate data segment is old data at the receiver: it is ACKed and dropped, never delivered twice (SHA-256).
        Assert.True(Snmp(b, "InSegs") > Snmp(a, "OutSegs"), "duplicates must reach the receiver");
        Assert.Equal(0, Snmp(a, "EstabResets"));
    }
}
