using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Offload;

/// <summary>Two hosts on one cable move 1 MiB over TCP with GRO/TSO/GSO on, off, and switched at run time.</summary>
public class OffloadTransferTests() : NetOnEngineKit("offload")
{
    private const int Eth0 = 2;

    /// <summary>
    /// The calibrated CPU cost of stack.hocon (host-defaults.cpu-cost): on the engine a host built from bare settings
    /// has an infinitely fast CPU, whose every poll finds one frame and so never merges; a CPU that takes time, as on
    /// the real clock, finds the frames that came meanwhile in its ring and GRO merges them.
    /// </summary>
    private static readonly CpuCostSettings Calibrated = StackConfig.Load().Host("receiver").CpuCost;

    private async Task<(Started A, Started B)> TwoHosts(bool gro, bool gso, bool tso)
    {
        DeviceSettings D(int mac, string addr) => Dev("eth0", mac, addr) with { Gro = gro, Gso = gso, Tso = tso };
        var a = await Start(HostOf("a", null, D(1, "10.0.0.1/24")) with { CpuCost = Calibrated, Neighbours = [Neigh("10.0.0.2", 2, "eth0")] });
        var b = await Start(HostOf("b", null, D(2, "10.0.0.2/24")) with { CpuCost = Calibrated, Neighbours = [Neigh("10.0.0.1", 1, "eth0")] });
        Cable(a.Devices["eth0"], b.Devices["eth0"]);
        return (a, b);
    }

    private async Task<(IActorRef Client, IActorRef Server)> Pair(Started a, Started b, ushort port)
    {
        var l = await TcpSocket(b.Host);
        Assert.Equal(Errno.OK, await Command(l, new Bind(Ip("0.0.0.0"), port)));
        Assert.Equal(Errno.OK, await Command(l, new Listen(4)));
        var c = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), port)));
        var acc = await Ask<Accepted>(l, new Accept());
        return (c, acc.Socket);
    }

    /// <summary>Writes <paramref name="data"/> in 64 KiB sends while the other end reads it (two applications on the engine).</summary>
    private Task Transfer(IActorRef from, IActorRef to, byte[] data)
    {
        var read = StartRead(to, data.Length);
        RunUntilDone(StartSendAll(from, data), read);
        Assert.Equal(data, read.Data.ToArray());
        return Task.CompletedTask;
    }

    private static OffloadStats Off(HostStats s) => s.Device("eth0").Offload!;

    [Fact]
    public async Task Transfer_GroTsoOn_OneMiBByteForByte_SegmentsMergedAndCut()
    {
        var (a, b) = await TwoHosts(gro: true, gso: true, tso: true);
        var (c, s) = await Pair(a, b, 5001);
        var data = Bytes(1 << 20, seed: 11);
        await Transfer(c, s, data);

        var sa = await Stats(a.Host);
        var sb = await Stats(b.Host);
        // Exact on the engine: TSO packets sent, GRO packets coalesced, segments merged into them (GRO_MERGED) and
        // segments whose page-fragment head was stolen (GRO_MERGED_FREE).
        Assert.Equal((274L, 309L, 0L, 415L), (Off(sa).TsoPackets, Off(sb).GroCoalesced, Off(sb).GroMerged, Off(sb).GroMergedFree));
        Assert.Equal(0, Off(sa).GsoPackets);
        Assert.Equal(Off(sb).GroHeld, Off(sb).GroFlushed); // every held packet went up by the end of its poll
        // Every frame on the wire fitted the MTU: the receiver took all of them (no length errors).
        Assert.Equal(0, sb.Device("eth0").Counters.RxLengthErrors);
        Assert.Equal(sa.Device("eth0").Counters.TxPackets, sb.Device("eth0").Counters.RxPackets);
        // The qdisc counts gso_segs: as many packets as frames the device sent.
        Assert.Equal(sa.Device("eth0").Counters.TxPackets, sa.Device("eth0").Qdisc!.Packets);
        // InSegs counts the segments inside GRO packets: at least one per MSS of data.
        long mss = 1500 - 20 - 32;
        Assert.True(Mib(sb, "Tcp", "InSegs") >= (1 << 20) / mss, $"InSegs {Mib(sb, "Tcp", "InSegs")}");
        Assert.Equal(727, Mib(sb, "Tcp", "InSegs")); // exact on the engine: 725 with data (1 MiB / MSS 1448) and 2 without
        Assert.Equal(0, Mib(sb, "Tcp", "InCsumErrors"));
        // The wire lost nothing (TxPackets == RxPackets above), and on the simulated clock no timer fires early: nothing
        // was retransmitted, by fast retransmit, a loss probe or an RTO.
        Assert.Equal((0L, 0L, 0L, 0L), (Mib(sa, "Tcp", "RetransSegs"), Mib(sa, "TcpExt", "TCPFastRetrans"),
            Mib(sa, "TcpExt", "TCPLossProbes"), Mib(sa, "TcpExt", "TCPTimeouts")));
    }

    [Fact]
    public async Task Transfer_AllOffloadsOff_OneMiBByteForByte_NothingMergedOrCut()
    {
        var (a, b) = await TwoHosts(gro: false, gso: false, tso: false);
        var (c, s) = await Pair(a, b, 5002);
        var data = Bytes(1 << 20, seed: 12);
        await Transfer(c, s, data);

        var sa = await Stats(a.Host);
        var sb = await Stats(b.Host);
        Assert.Equal((0L, 0L, 0L, 0L), (Off(sa).TsoPackets, Off(sa).GsoPackets, Off(sb).GroMerged, Off(sb).GroHeld));
        Assert.Equal(sb.Device("eth0").Counters.RxPackets, Off(sb).GroNormal);
        Assert.Equal(Mib(sb, "Tcp", "InSegs"), sb.Device("eth0").Counters.RxPackets);
    }

    [Fact]
    public async Task Transfer_TsoOffGsoOn_CutInSoftware()
    {
        var (a, b) = await TwoHosts(gro: true, gso: true, tso: false);
        var (c, s) = await Pair(a, b, 5003);
        await Transfer(c, s, Bytes(256 * 1024, seed: 13));
        var sa = await Stats(a.Host);
        Assert.Equal(0, Off(sa).TsoPackets);
        Assert.Equal(42, Off(sa).GsoPackets); // exact on the engine
        Assert.Equal(0, (await Stats(b.Host)).Device("eth0").Counters.RxLengthErrors);
    }

    [Fact]
    public async Task SetDeviceFeatures_AtRunTime_TurnsMergingAndCuttingOff()
    {
        var (a, b) = await TwoHosts(gro: true, gso: true, tso: true);
        var (c, s) = await Pair(a, b, 5004);
        await Transfer(c, s, Bytes(256 * 1024, seed: 14));
        var before = Off(await Stats(b.Host));
        var tsoBefore = Off(await Stats(a.Host)).TsoPackets;
        Assert.True(before.GroCoalesced > 0);
        Assert.True(tsoBefore > 0);

        Assert.Equal(new DeviceFeatures(Eth0, "eth0", false, true, true),
            await Ask<DeviceFeatures>(b.Host, new SetDeviceFeatures(Eth0, Gro: false)));
        Assert.Equal(new DeviceFeatures(Eth0, "eth0", true, false, false),
            await Ask<DeviceFeatures>(a.Host, new SetDeviceFeatures(Eth0, Gso: false, Tso: false)));
        Assert.Equal(new DeviceFeatures(Eth0, "eth0", true, false, false), await Ask<DeviceFeatures>(a.Host, new GetDeviceFeatures(Eth0)));
        Assert.Equal(new CommandFailed(new GetDeviceFeatures(9), Errno.ENODEV), await Ask<CommandFailed>(a.Host, new GetDeviceFeatures(9)));

        await Transfer(c, s, Bytes(256 * 1024, seed: 15));
        var after = Off(await Stats(b.Host));
        var sa = Off(await Stats(a.Host));
        Assert.Equal(before.GroCoalesced, after.GroCoalesced);
        Assert.Equal(before.GroMerged, after.GroMerged);
        Assert.Equal(before.GroMergedFree, after.GroMergedFree);
        Assert.True(after.GroNormal > before.GroNormal);
        Assert.Equal((77L, 42L, 2L, 186L), (before.GroCoalesced, tsoBefore, before.GroNormal, after.GroNormal)); // exact on the engine
        Assert.Equal(tsoBefore, sa.TsoPackets);
        Assert.Equal(0, sa.GsoPackets);
        Assert.False(after.Gro);
    }
}
