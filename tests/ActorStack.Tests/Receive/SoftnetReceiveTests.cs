using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Hardware.Nic;
using ActorStack.Hardware.Pktgen;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Receive;

/// <summary>The softnet CPUs on a running host (enqueue_to_backlog, netif_receive_skb_internal): backlog overflow and RPS steering.</summary>
public class SoftnetReceiveTests() : ReceiveHostKit("softnet-rx")
{
    [Fact]
    public async Task Backlog_BurstRpsToCpu1WithMaxBacklog10_DropsCountedExactly()
    {
        var (host, nic) = await StartHost("backlog", 2, Eth0(rpsCpus: [1]), new SysctlSettings(NetdevMaxBacklog: 10));
        // The TestProbe replaces ip_rcv as the only IPv4 handler, so no queue after the backlog can drop.
        var ip = await Resolve(host.Path / "ip");
        await Ask<PackChanged>(host, new DevRemovePack(new PacketTypeRegistration(EtherType.Ipv4, ip)));
        var handler = Probe();
        await Ask<PackChanged>(host, new DevAddPack(new PacketTypeRegistration(EtherType.Ipv4, handler.Ref)));

        const int frames = 200;
        nic.Tell(Wire(Enumerable.Range(0, frames).Select(i => UdpFrame(9000, [(byte)i], id: (ushort)i))));
        Settle();
        var st = await Stats(host);
        Assert.Equal(frames, st.Softnet[1].Processed + st.Softnet[1].Dropped);
        var cpu1 = st.Softnet[1];
        Assert.Equal(frames, st.Device("eth0").Counters.RxPackets);
        Assert.Equal(0, st.Softnet[0].Processed);                  // cpu0 only steers
        Assert.Equal(frames - cpu1.Processed, cpu1.Dropped);
        // cpu0's net_rx_action polls the ring 64 + 64 + 64 + 8; each poll's buffers meet cpu1's backlog empty (cpu1's
        // softirq drained it meanwhile, so each poll raises one IPI): qlen <= 10 admits 11 of each 64 and all of the
        // last 8, 3 × 53 are dropped.
        Assert.Equal(11 + 11 + 11 + 8, cpu1.Processed);
        Assert.Equal(3 * 53, cpu1.Dropped);
        Assert.Equal(4, cpu1.ReceivedRps);
        long backlogDrops = st.Drops.Where(d => d.Site.Reason == DropReason.CPU_BACKLOG && d.Site.Location.StartsWith("cpu1"))
            .Sum(d => d.Packets);
        Assert.Equal(cpu1.Dropped, backlogDrops);
        Assert.Equal(cpu1.Dropped, st.DropsOf(DropReason.CPU_BACKLOG));

        long delivered = 0;
        var batches = new List<int>();
        while (delivered < cpu1.Processed)
        {
            var d = await ExpectSoon<ProtocolDeliver>(handler);
            Assert.Equal(1, d.Cpu);
            delivered += d.Items.Length;
            batches.Add(d.Items.Length);
        }
        Assert.Equal([11, 11, 11, 8], batches); // one process_backlog run per IPI, each draining what one poll admitted
        Assert.Equal(cpu1.Processed, delivered);
    }

    [Fact]
    public async Task Rps_16FlowsOnTwoCpus_EachFlowOnOneCpuAndInOrder()
    {
        const int flows = 16, perFlow = 20, total = flows * perFlow;
        var (host, nic) = await StartHost("rps", 2, Eth0(rxRing: 512, rpsCpus: [0, 1]), new SysctlSettings(RmemDefault: 1 << 20)); // 2,304 bytes a datagram (RX truesize) // rps_cpus = 3
        var sock = await OpenUdp(host, 9000);
        var gen = new PktgenGenerator(new PktgenSettings
        {
            Count = total, Flows = flows, FlowLen = 1, UdpSrcMin = 1000, UdpSrcMax = 1000 + flows - 1,
            UdpDstMin = 9000, UdpDstMax = 9000, DstMac = HostMac, SrcMin = PeerIp, SrcMax = PeerIp, DstMin = HostIp, DstMax = HostIp,
        });
        var frames = Enumerable.Range(0, total).Select(_ => gen.Next()).ToList();

        // Where RPS must put each frame: the NIC's RSS hash, reciprocal-scaled over rps_cpus.
        var rss = new RssHasher(1);
        var expectedPerCpu = new long[2];
        var cpuOfFlow = new Dictionary<ushort, int>();
        foreach (var f in frames)
        {
            int cpu = Rps.SelectCpu(rss.Hash(f), [0, 1]);
            expectedPerCpu[cpu]++;
            ushort sport = (ushort)(f[34] << 8 | f[35]);
            Assert.Equal(cpuOfFlow.GetValueOrDefault(sport, cpu), cpu);
            cpuOfFlow[sport] = cpu;
        }
        Assert.True(expectedPerCpu[0] > 0 && expectedPerCpu[1] > 0, "the flows must spread over both CPUs");

        nic.Tell(Wire(frames));
        var got = await ReadExactly(sock, total);
        var lastSeq = new Dictionary<ushort, uint>();
        foreach (var d in got)
        {
            Assert.True(PktgenHeader.TryRead(d.Payload.Span, out uint seq, out _));
            if (lastSeq.TryGetValue(d.SourcePort, out uint prev)) Assert.True(seq > prev, $"flow {d.SourcePort}: seq {seq} after {prev}");
            lastSeq[d.SourcePort] = seq;
        }
        Assert.Equal(flows, lastSeq.Count);
        Assert.All(got.GroupBy(d => d.SourcePort), g => Assert.Equal(perFlow, g.Count()));

        var st = await Stats(host);
        Assert.Equal(expectedPerCpu[0], st.Softnet[0].Processed);
        Assert.Equal(expectedPerCpu[1], st.Softnet[1].Processed);
        Assert.Equal(5, st.Softnet[1].ReceivedRps);
        Assert.Equal(0, st.Softnet[0].ReceivedRps); // cpu0 enqueues to its own backlog without an IPI
        Assert.Equal(0, st.Softnet[0].Dropped + st.Softnet[1].Dropped);
        Assert.Equal(total, st.Mib("Udp")["InDatagrams"]);
    }
}

/// <summary>received_rps as Linux counts it: one per IPI, counted by the CPU that receives it.</summary>
public class ReceivedRpsTests() : ReceiveHostKit("received-rps")
{
    [Fact]
    public async Task ReceivedRps_TwoBurstsOf200ToCpu1_OneIpiPerBurst()
    {
        // A long time limit keeps each burst in one net_rx_action run on cpu0 (4 polls: 64+64+64+8),
        // so cpu1's backlog is scheduled once per burst: one IPI, however many BacklogEnqueue batches.
        var (host, nic) = await StartHost("ipi", 2, Eth0(rpsCpus: [1]), new SysctlSettings(NetdevBudgetUsecs: 1_000_000, RmemDefault: 1 << 20));
        var sock = await OpenUdp(host, 9000);

        nic.Tell(Wire(Enumerable.Range(0, 200).Select(i => UdpFrame(9000, [(byte)i], id: (ushort)i))));
        await ReadExactly(sock, 200);
        var st = await Stats(host);
        Assert.Equal(1, st.Softnet[1].ReceivedRps);
        Assert.Equal(0, st.Softnet[0].ReceivedRps);
        Assert.Equal(200, st.Softnet[1].Processed);

        // cpu1's backlog completed (NAPI_STATE_SCHED clear) before its last poll's buffers were handed on,
        // so this burst finds it idle again.
        nic.Tell(Wire(Enumerable.Range(0, 200).Select(i => UdpFrame(9000, [(byte)i], id: (ushort)(200 + i)))));
        await ReadExactly(sock, 200);
        st = await Stats(host);
        Assert.Equal(2, st.Softnet[1].ReceivedRps);
        Assert.Equal(0, st.Softnet[0].ReceivedRps);
        Assert.Equal(400, st.Softnet[1].Processed);
        Assert.Equal(0, st.Softnet[0].Processed + st.Softnet[1].Dropped);
    }
}
