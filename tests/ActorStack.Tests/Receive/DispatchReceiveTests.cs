using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Receive;

/// <summary>netif_receive_skb dispatch (__netif_receive_skb_core, dev_add_pack, trace_netif_receive_skb): taps, dev_add_pack / dev_remove_pack, trace points, generic XDP.</summary>
public class DispatchReceiveTests() : ReceiveHostKit("dispatch-rx")
{
    private const ushort LocalExperimental = 0x88B5;

    private static byte[] RawFrame(ushort etherType, byte marker)
    {
        var frame = new byte[60];
        EthernetHeader.Write(frame, HostMac, PeerMac, etherType);
        frame[14] = marker;
        return frame;
    }

    [Fact]
    public async Task Tap_SlowTap_GetsEqualCopiesAndSocketDataUnchanged()
    {
        var (host, nic) = await StartHost("tap", 1, Eth0());
        var sock = await OpenUdp(host, 9000);
        var tap = Probe();
        await Ask<PackChanged>(host, new DevAddPack(new PacketTypeRegistration(EtherType.All, tap.Ref)));
        var frames = Enumerable.Range(0, 10).Select(i => UdpFrame(9000, [(byte)i, (byte)(i * 3)], id: (ushort)i)).ToArray();
        var original = frames.Select(f => f.ToArray()).ToArray();
        nic.Tell(Wire(frames));

        // The application reads everything while the tap has not looked at its mailbox.
        var got = await ReadExactly(sock, 10);
        for (int i = 0; i < 10; i++) Assert.Equal(new[] { (byte)i, (byte)(i * 3) }, got[i].Payload.ToArray());

        // gro_normal_batch = 8: the poll's 10 frames reach the tap as two lists, 8 and 2.
        var first = await ExpectSoon<SkbBatch>(tap);
        var second = await ExpectSoon<SkbBatch>(tap);
        Assert.Equal((8, 2), (first.Items.Length, second.Items.Length));
        var items = first.Items.AddRange(second.Items);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(original[i].AsSpan().SequenceEqual(items[i].Data.Span));
            Assert.True(MemoryMarshal.TryGetArray(items[i].Data, out var tapSeg));
            Assert.True(MemoryMarshal.TryGetArray(got[i].Payload, out var sockSeg));
            Assert.NotSame(sockSeg.Array, tapSeg.Array);
            tapSeg.Array!.AsSpan().Fill(0xEE); // a tap scribbling on its copy
            Assert.Equal(new[] { (byte)i, (byte)(i * 3) }, got[i].Payload.ToArray());
        }
        await ExpectNothingFor(tap, TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, (await Stats(host)).Device("eth0").Counters.RxDropped);
    }

    [Fact]
    public async Task DevAddPack_CustomEtherTypeThenRemoved_DeliveredThenCountedUnhandled()
    {
        var (host, nic) = await StartHost("ptype-base", 1, Eth0());
        var handler = Probe();
        var reg = new PacketTypeRegistration(LocalExperimental, handler.Ref);
        Assert.True((await Ask<PackChanged>(host, new DevAddPack(reg))).Added);

        var first = RawFrame(LocalExperimental, 1);
        nic.Tell(Wire(first));
        var d = await ExpectSoon<ProtocolDeliver>(handler);
        Assert.Single(d.Items);
        Assert.True(first.AsSpan().SequenceEqual(d.Items[0].Data.Span));
        Assert.Equal(LocalExperimental, d.Items[0].Protocol);
        Assert.Equal(PacketKind.Host, d.Items[0].PktType);

        Assert.False((await Ask<PackChanged>(host, new DevRemovePack(reg))).Added);
        nic.Tell(Wire(RawFrame(LocalExperimental, 2)));
        Settle();
        var st = await Stats(host);
        Assert.Equal(2, st.Softnet[0].Processed);
        Assert.Equal(1, st.Device("eth0").Counters.RxDropped);
        Assert.Equal(1, st.DropsOf(DropReason.UNHANDLED_PROTO));
        await ExpectNothingFor(handler, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task DevAddPack_SnifferAddedThenRemoved_GetsCopyOnlyWhileRegistered()
    {
        var (host, nic) = await StartHost("ptype-all", 1, Eth0());
        var sniffer = Probe();
        var reg = new PacketTypeRegistration(EtherType.All, sniffer.Ref);
        await Ask<PackChanged>(host, new DevAddPack(reg));

        var frame = RawFrame(LocalExperimental, 7);
        nic.Tell(Wire(frame));
        var b = await ExpectSoon<SkbBatch>(sniffer);
        Assert.Single(b.Items);
        Assert.True(frame.AsSpan().SequenceEqual(b.Items[0].Data.Span));
        var st = await Stats(host);
        Assert.Equal(0, st.Device("eth0").Counters.RxDropped); // the tap is pt_prev: it consumed the frame
        Assert.Equal(0, st.DropsOf(DropReason.UNHANDLED_PROTO));

        await Ask<PackChanged>(host, new DevRemovePack(reg));
        nic.Tell(Wire(RawFrame(LocalExperimental, 8)));
        Settle();
        st = await Stats(host);
        Assert.Equal(1, st.Device("eth0").Counters.RxDropped);
        Assert.Equal(2, st.Softnet[0].Processed);
        Assert.Equal(1, st.DropsOf(DropReason.UNHANDLED_PROTO));
        await ExpectNothingFor(sniffer, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Trace_OneFrame_GroAndNetifReceiveEntryExitInOrder()
    {
        var (host, nic) = await StartHost("trace", 1, Eth0());
        var events = Probe();
        Sys.EventStream.Subscribe(events.Ref, typeof(TraceEvent));
        Assert.True((await Ask<TracingSet>(host, new SetTracing(true))).Enabled);
        var sock = await OpenUdp(host, 9000);
        nic.Tell(Wire(UdpFrame(9000, [42])));
        await ReadExactly(sock, 1);

        var expected = new[]
        {
            (TracePoint.NapiGroReceiveEntry, -1),
            (TracePoint.NapiGroReceiveExit, 3),  // GRO_NORMAL: onto rx_list (gro_normal_one), under gro_normal_batch
            (TracePoint.NetifReceiveSkbEntry, -1), // gro_normal_list at the end of the poll
            (TracePoint.NetifReceiveSkbExit, 0), // NET_RX_SUCCESS
        };
        foreach (var (point, result) in expected)
        {
            var e = await ExpectSoon<TraceEvent>(events);
            Assert.Equal(point, e.Point);
            Assert.Equal(result, e.Result);
            Assert.Equal("trace", e.Host);
            Assert.Equal("eth0", e.Device);
            Assert.Equal(0, e.Cpu);
            Assert.Equal(60, e.Length);
        }
        await ExpectNothingFor(events, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Xdp_UnknownDevice_AnsweredByCommandFailedWithEnodev()
    {
        var (host, _) = await StartHost("xdp-nodev", 1, Eth0());
        var set = new SetXdp("eth7", new XdpProgram("drop", [new XdpRule(XdpAction.Drop)]));
        Assert.Equal(new CommandFailed(set, Errno.ENODEV, "no device eth7"), await Ask<CommandFailed>(host, set));
    }

    [Fact]
    public async Task Xdp_DropRuleForPort9999_DropsThoseAndPassesOthers()
    {
        var (host, nic) = await StartHost("xdp", 1, Eth0());
        var prog = new XdpProgram("drop9999", [new XdpRule(XdpAction.Drop, IpProtocol: IpProtocol.Udp, DestinationPort: 9999)]);
        Assert.Equal("drop9999", (await Ask<XdpChanged>(host, new SetXdp("eth0", prog))).Program);
        var sock = await OpenUdp(host, 9000);
        var frames = Enumerable.Range(0, 8).Select(i => UdpFrame(i % 2 == 0 ? (ushort)9999 : (ushort)9000, [(byte)i], id: (ushort)i));
        nic.Tell(Wire(frames));

        var got = await ReadExactly(sock, 4);
        Assert.Equal(new byte[] { 1, 3, 5, 7 }, got.Select(d => d.Payload.Span[0]).ToArray());
        Settle();
        var st = await Stats(host);
        Assert.Equal(4, st.DropsOf(DropReason.XDP));
        Assert.Equal("eth0/xdp", st.Drops.Single(d => d.Site.Reason == DropReason.XDP).Site.Location);
        Assert.Equal(0, st.Mib("Udp")["NoPorts"]);   // the dropped ones never reached UDP
        Assert.Equal(4, st.Softnet[0].Processed);     // nor netif_receive_skb
        Assert.Equal(8, st.Device("eth0").Counters.RxPackets);
        Assert.Equal("drop9999", st.Device("eth0").XdpProgram);
        Assert.Equal(4, st.TotalDrops);
    }
}
