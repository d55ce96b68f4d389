using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Offload;

/// <summary>
/// A router with GRO on merges a forwarded TCP flow; the merged packet leaves through the out device cut back to
/// MSS frames (ip_forward measures a GRO packet by its segments), with TSO on the out device and with it off.
/// </summary>
public class OffloadForwardingTests() : NetOnEngineKit("offload-fwd")
{
    /// <summary>
    /// The calibrated CPU cost of stack.hocon (host-defaults.cpu-cost): on the engine a host built from bare settings
    /// has an infinitely fast CPU, whose every poll finds one frame and so never merges; a CPU that takes time, as on
    /// the real clock, finds the frames that came meanwhile in its ring and GRO merges them.
    /// </summary>
    private static readonly CpuCostSettings Calibrated = StackConfig.Load().Host("receiver").CpuCost;

    private async Task<(Started A, Started R, Started B)> Build(bool routerTso)
    {
        var a = await Start(HostOf("a", null, Dev("eth0", 1, "10.0.1.1/24")) with
        {
            CpuCost = Calibrated,
            Neighbours = [Neigh("10.0.1.254", 11, "eth0")],
            Routes = [Route("0.0.0.0/0", via: "10.0.1.254")],
        });
        var r = await Start(HostOf("r", new SysctlSettings { IpForward = true }, Dev("eth0", 11, "10.0.1.254/24"),
            Dev("eth1", 12, "10.0.2.254/24") with { Tso = routerTso }) with
        {
            CpuCost = Calibrated,
            Neighbours = [Neigh("10.0.1.1", 1, "eth0"), Neigh("10.0.2.1", 2, "eth1")],
        });
        var b = await Start(HostOf("b", null, Dev("eth0", 2, "10.0.2.1/24")) with
        {
            CpuCost = Calibrated,
            Neighbours = [Neigh("10.0.2.254", 12, "eth0")],
            Routes = [Route("0.0.0.0/0", via: "10.0.2.254")],
        });
        Cable(a.Devices["eth0"], r.Devices["eth0"]);
        Cable(r.Devices["eth1"], b.Devices["eth0"]);
        return (a, r, b);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Forward_GroPacket_CutBackToMss_DeliveredByteForByte(bool routerTso)
    {
        var (a, r, b) = await Build(routerTso);
        var l = await TcpSocket(b.Host);
        Assert.Equal(Errno.OK, await Command(l, new Bind(Ip("0.0.0.0"), 5001)));
        Assert.Equal(Errno.OK, await Command(l, new Listen(4)));
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.2.1"), 5001)));
        var s = (await Ask<Accepted>(l, new Accept())).Socket;

        var data = Bytes(512 * 1024, seed: 21);
        var read = StartRead(s, data.Length);
        RunUntilDone(StartSendAll(c, data), read);
        Assert.Equal(data, read.Data.ToArray());

        var sr = await Stats(r.Host);
        var sb = await Stats(b.Host);
        var rin = sr.Device("eth0").Offload!;
        var rout = sr.Device("eth1").Offload!;
        // Exact on the engine: what the router's GRO merged, cut back on the way out by TSO or by GSO.
        Assert.Equal(18, rin.GroCoalesced);
        if (routerTso) Assert.Equal((18L, 0L), (rout.TsoPackets, rout.GsoPackets)); // each merged packet cut once
        else Assert.Equal((0L, 18L), (rout.TsoPackets, rout.GsoPackets));
        Assert.Equal(0, Mib(sr, "Ip", "FragFails"));
        Assert.Equal(0, sb.Device("eth0").Counters.RxLengthErrors);
        Assert.Equal(sr.Device("eth1").Counters.TxPackets, sb.Device("eth0").Counters.RxPackets);
    }
}
