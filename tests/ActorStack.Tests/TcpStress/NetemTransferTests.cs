using ActorStack.Messages;
using System.Security.Cryptography;
using ActorStack.Actors.Tcp;
using ActorStack.Hardware.Netem;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Wire;
using ActorStack.Config;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// Bulk transfers through the socket actors over a wire with netem (the project's tc-netem syntax), byte for byte
/// (SHA-256), on the simulation engine: the wire's seed fixes every loss, so the recovery counters are exact. Both hosts
/// run with TcpSettings.RtoMin 20 ms (Linux: `ip route ... rto_min 20ms`; the net.ipv4.tcp_rto_min_us sysctl).
/// </summary>
public class NetemTransferTests(Xunit.Abstractions.ITestOutputHelper output) : TcpStressKit("tcp-netem", output)
{
    private static readonly TcpSettings FastRto = new() { RtoMin = TimeSpan.FromMilliseconds(20) };

    private async Task<(long RetransA, HostStats A, HostStats B)> Transfer(string netem, int bytes, int seed)
    {
        Assert.True(NetemParser.TryParse(netem, out var ne, out var error), error);
        var p = await TwoHosts(new WireOptions("netem", seed, TimeSpan.Zero) { NetemAToB = ne, NetemBToA = ne }, FastRto);
        var (c, s) = await Connect(p, 5001);
        var data = Bytes(bytes, seed);
        var read = StartRead(s, data.Length);
        RunUntilDone(StartSendAll(c, data), read);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(read.Data.ToArray()));
        var a = await Stats(p.A.Host);
        var b = await Stats(p.B.Host);
        var ci = await Info(c);
        TestOutput?.WriteLine($"sender ({netem}): {bytes} bytes, cwnd={ci.Cwnd} rto={ci.Rto} srtt={ci.Rtt} " + string.Join(" ", a.Mib("Tcp").Counters.Concat(a.Mib("TcpExt").Counters).Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}")));
        TestOutput?.WriteLine("receiver: " + string.Join(" ", b.Mib("Tcp").Counters.Concat(b.Mib("TcpExt").Counters).Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}")));
        return (Snmp(a, "RetransSegs"), a, b);
    }

    /// <remarks>10% loss and reordering: <see cref="NetemVirtualTimeTransferTests"/>.</remarks>
    [Theory]
    [InlineData("loss 1%", 16 << 20, 105L, 89L, 105L)]
    [InlineData("loss 5%", 16 << 20, 588L, 412L, 581L)]
    public async Task Transfer_UnderLoss_ByteForByte_WithSackRecovery(string netem, int bytes, long retransSegs, long sackRecovery, long fastRetrans)
    {
        var (retrans, a, _) = await Transfer(netem, bytes, seed: 11);
        // Loss forces retransmissions; losses in a flight of several segments are repaired by SACK recovery / fast
        // retransmit, not only by RTOs. Seed 11 fixes every loss, so each count is exact.
        Assert.Equal((retransSegs, sackRecovery, fastRetrans), (retrans, Ext(a, "TCPSackRecovery"), Ext(a, "TCPFastRetrans")));
        Assert.True(sackRecovery > 0 && fastRetrans > 0);
        Assert.Equal(0, Snmp(a, "EstabResets"));
    }

    [Fact]
    public async Task Transfer_16MiB_WithDuplication_ByteForByte_DuplicatesDropped()
    {
        var (_, a, b) = await Transfer("duplicate 5%", 16 << 20, seed: 13);
        // A duplicate data segment is old data at the receiver: it is ACKed and dropped, never delivered twice (SHA-256).
        // The receiver reported the duplicates it dropped as D-SACKs (RFC 2883; TcpExt TCPDSACKOldSent).
        Assert.Equal(581, Ext(b, "TCPDSACKOldSent")); // seed 13 fixes the duplicates
        Assert.Equal(0, Snmp(a, "EstabResets"));
    }
}
