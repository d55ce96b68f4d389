using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Frag;

namespace ActorStack.Tests.EndToEnd;

/// <summary>
/// Issue 4 end to end: UDP datagrams of every interesting size cross a cable between two whole hosts (same MTU
/// at both ends, real ARP) and come back, fragmented by <c>ip_fragment</c> and reassembled by <c>ip_defrag</c>
/// on both hosts; and a reassembly queue that never completes expires after <c>ipfrag_time</c> (30 s).
/// </summary>
public class FragmentEndToEndTests() : EndToEndKit("e2e-frag")
{
    private static readonly int[] Sizes = [1, 100, 1472, 1473, 8000, 65507];

    /// <summary>
    /// a (10.0.0.1) and b (10.0.0.2) on one cable, both with <paramref name="mtu"/>. One 65,507-byte datagram is
    /// 1,365 fragments at MTU 68 (1,597 for all six sizes), handed to the device at once, and the cable has no
    /// bandwidth limit, so each queue on the way is sized to hold every frame of the test (4096), where the
    /// defaults lose fragments depending on thread timing:
    /// <c>ip link set eth0 txqueuelen 4096</c> (1000-packet qdisc plus 256-descriptor TX ring),
    /// <c>ethtool -G eth0 rx 4096</c> (a whole TX ring lands at once on a 256-descriptor RX ring: FULL_RING), and
    /// <c>net.core.netdev_max_backlog</c> = 4096.
    /// </summary>
    private async Task<(Node A, Node B)> TwoHosts(int mtu)
    {
        var sysctl = new SysctlSettings(NetdevMaxBacklog: 4096);
        var a = await Start(new HostSettings("a", 1, sysctl, [Dev("eth0", 1, "10.0.0.1/24", mtu) with { TxQueueLen = 4096, RxRing = 4096 }]), 1);
        var b = await Start(new HostSettings("b", 1, sysctl, [Dev("eth0", 2, "10.0.0.2/24", mtu) with { TxQueueLen = 4096, RxRing = 4096 }]), 2);
        Cable(a.Devices["eth0"], b.Devices["eth0"]);
        return (a, b);
    }

    [Theory]
    [InlineData(68)]
    [InlineData(576)]
    [InlineData(1500)]
    [InlineData(9000)]
    public async Task UdpRoundTrip_SizesOneTo65507_OverMtu_ByteForByte(int mtu)
    {
        var (a, b) = await TwoHosts(mtu);
        var echo = await BoundSocket(b.Host, "0.0.0.0", 9000);
        Assert.Equal(Errno.OK, await Command(echo, new SetReceiveBuffer(1 << 20)));
        var senders = new IActorRef[Sizes.Length];
        var payloads = new byte[Sizes.Length][];
        for (int i = 0; i < Sizes.Length; i++)
        {
            senders[i] = await BoundSocket(a.Host, "0.0.0.0", (ushort)(5000 + i));
            Assert.Equal(Errno.OK, await Command(senders[i], new SetReceiveBuffer(1 << 20)));
            payloads[i] = Bytes(Sizes[i], mtu * 100 + i);
        }

        // ARP first, with one small datagram each way: fragments sent to an unresolved neighbour wait in a queue of
        // unres_qlen_bytes (212,992 bytes of truesize), and Linux, like this stack, drops the oldest beyond it.
        Assert.Equal(Errno.OK, await SendTo(senders[0], [0], "10.0.0.2", 9000));
        var warm = (await RecvOne(echo)).D!;
        Assert.Equal(Errno.OK, await SendTo(echo, [0], "10.0.0.1", warm.SourcePort));
        Assert.Equal(new byte[] { 0 }, (await RecvOne(senders[0])).D!.Payload.ToArray());

        // All six go at once: the send calls run concurrently, each socket in its own actor.
        var sent = await Task.WhenAll(senders.Select((s, i) => SendTo(s, payloads[i], "10.0.0.2", 9000)));
        Assert.All(sent, e => Assert.Equal(Errno.OK, e));

        // b echoes every datagram back to where it came from, as it was read.
        var got = new List<Datagram>();
        while (got.Count < Sizes.Length)
        {
            var r = Assert.IsType<Received>(await AskRun<object>(echo, new Recv(Sizes.Length - got.Count)));
            got.AddRange(r.Datagrams);
        }
        foreach (var d in got)
        {
            int i = d.SourcePort - 5000;
            Assert.Equal(Ip("10.0.0.1"), d.Source);
            Assert.Equal(payloads[i], d.Payload.ToArray());
            Assert.Equal(Errno.OK, await SendTo(echo, d.Payload.ToArray(), "10.0.0.1", d.SourcePort));
        }
        var back = await Task.WhenAll(senders.Select(s => RecvOne(s)));
        for (int i = 0; i < Sizes.Length; i++)
        {
            Assert.Equal(Errno.OK, back[i].Error);
            Assert.Equal(payloads[i], back[i].D!.Payload.ToArray());
            Assert.Equal((Ip("10.0.0.2"), (ushort)9000), (back[i].D!.Source, back[i].D!.SourcePort));
        }

        // Each way the same datagrams were cut: those larger than the MTU's UDP payload (mtu - 28) were fragmented.
        int maxUdp = mtu - 28, fragmented = Sizes.Count(s => s > maxUdp);
        int fragments = Sizes.Where(s => s > maxUdp).Sum(s => (s + 8 + (mtu - 20) / 8 * 8 - 1) / ((mtu - 20) / 8 * 8));
        foreach (var n in new[] { a, b })
        {
            var s = await Stats(n);
            Assert.Equal(fragmented, Mib(s, "Ip", "FragOKs"));
            Assert.Equal(fragments, Mib(s, "Ip", "FragCreates"));
            Assert.Equal(fragmented, Mib(s, "Ip", "ReasmOKs"));
            Assert.Equal(fragments, Mib(s, "Ip", "ReasmReqds"));
            Assert.Equal(0, Mib(s, "Ip", "ReasmFails"));
            Assert.Equal(Sizes.Length + 1, Mib(s, "Udp", "InDatagrams"));
            Assert.Equal(0, s.TotalDrops);
        }
    }

    [Fact]
    public async Task ReassemblyTimeout_OnlyLaterFragmentArrived_QueueFreedCountedNoIcmp()
    {
        var (a, b) = await TwoHosts(1500);
        Inject(b, FragTestPackets.Fragment(id: 77, offset: 1480, len: 100, mf: false));
        await Eventually(b, s => Assert.Equal(1, Mib(s, "Ip", "ReasmReqds")));

        Clock.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, Mib(await Stats(b), "Ip", "ReasmTimeout"));
        Clock.Advance(TimeSpan.FromMilliseconds(1));

        await Eventually(b, s =>
        {
            Assert.Equal(1, Mib(s, "Ip", "ReasmTimeout"));
            Assert.Equal(1, Mib(s, "Ip", "ReasmFails"));
            Assert.Equal(0, Mib(s, "Ip", "ReasmOKs"));
            Assert.Equal(1, s.DropsOf(DropReason.FRAG_REASM_TIMEOUT));
        });
        // ip_expire: no ICMP without the first fragment (INET_FRAG_FIRST_IN).
        var sb = await Stats(b);
        Assert.Equal(0, Mib(sb, "Icmp", "OutMsgs"));
        Assert.Equal(0, Mib(await Stats(a), "Icmp", "InMsgs"));
    }

    [Fact]
    public async Task ReassemblyTimeout_FirstFragmentArrived_IcmpTimeExceededFragReassemblyToSender()
    {
        var (a, b) = await TwoHosts(1500);
        var raw = await Socket(a.Host, SockType.Raw, IpProtocol.Icmp);
        var first = FragTestPackets.Fragment(id: 78, offset: 0, len: 1480, mf: true);
        Inject(b, first);
        await Eventually(b, s => Assert.Equal(1, Mib(s, "Ip", "ReasmReqds")));

        Clock.Advance(TimeSpan.FromSeconds(30));

        await Eventually(b, s =>
        {
            Assert.Equal(1, Mib(s, "Ip", "ReasmTimeout"));
            Assert.Equal(1, Mib(s, "Icmp", "OutTimeExcds"));
        });
        var (d, err) = await RecvOne(raw);
        Assert.Equal(Errno.OK, err);
        var p = d!.Payload.ToArray();
        int hl = (p[0] & 0x0F) * 4;
        Assert.Equal(Ip("10.0.0.2"), d.Source);
        Assert.Equal((byte)11, p[hl]);      // ICMP_TIME_EXCEEDED
        Assert.Equal((byte)1, p[hl + 1]);   // ICMP_EXC_FRAGTIME
        Assert.True(Checksum.Compute(p.AsSpan(hl)) == 0);
        // The quote: the first fragment's header and its first 8 data bytes.
        Assert.Equal(first.AsSpan(0, 28).ToArray(), p.AsSpan(hl + 8, 28).ToArray());
        await Eventually(a, s => Assert.Equal(1, Mib(s, "Icmp", "InTimeExcds")));
    }

    /// <summary>A frame from a (10.0.0.1, mac 1) to b's eth0, as if off the cable.</summary>
    private static void Inject(Node b, byte[] ipPacket)
    {
        var frame = new byte[EthernetHeader.Length + ipPacket.Length];
        EthernetHeader.Write(frame, Mac(2), Mac(1), EtherType.Ipv4);
        ipPacket.CopyTo(frame, EthernetHeader.Length);
        b.Devices["eth0"].Tell(new WireFrames(ImmutableArray.Create<ReadOnlyMemory<byte>>(frame)));
    }
}
