using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Receive;

/// <summary>
/// On virtual time, a host with two NICs (eth0 10.0.0.2/24, eth1 10.1.0.2/24), a probe on each wire:
/// generic XDP's <c>XDP_TX</c> (the frame goes back out of the device it came in on, MACs swapped) and
/// <c>XDP_REDIRECT</c> (out of the other device as it is), end to end through the softirq and the driver's TX path;
/// and the RX timestamp (<c>SO_TIMESTAMP</c>: the skb's <c>tstamp</c> from the NIC's receive) on a datagram read later.
/// </summary>
public class XdpActionAndTstampTests() : EngineKit("xdp-tstamp")
{
    private static readonly MacAddress Mac0 = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:01:02");
    private static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");

    private async Task<(IActorRef Host, IActorRef Eth0, TestProbe Wire0, TestProbe Wire1, TestProbe Asker)> Start(string name,
        CpuCostSettings? cost = null)
    {
        var asker = Probe();
        var settings = new HostSettings(name, 1, new SysctlSettings(),
        [
            new DeviceSettings("eth0", Mac0, Addresses: [new Ipv4Prefix(HostIp, 24)]),
            new DeviceSettings("eth1", Mac1, Addresses: [new Ipv4Prefix(Ipv4Address.Parse("10.1.0.2"), 24)]),
        ]) { CpuCost = cost ?? CpuCostSettings.Zero };
        var host = Sys.ActorOf(HostActor.Props(settings, seed: 1), name);
        var devs = (await AskNow<HostDevices>(asker, host, GetHostDevices.Instance)).Devices;
        var w0 = Probe();
        var w1 = Probe();
        TellNow(devs["eth0"], new AttachWire(w0.Ref), ActorRefs.Nobody);
        TellNow(devs["eth1"], new AttachWire(w1.Ref), ActorRefs.Nobody);
        Engine.RunUntilNs(Engine.NowNs + 1_000_000_000); // the link watch brings the carrier up
        // A socket on port 9, so that the frame XDP passes is read, not answered by an ICMP error (and its ARP).
        var sock = (await AskNow<SocketCreated>(asker, host, new SocketCreate(SockType.Dgram))).Socket;
        Assert.IsType<SocketOk>(await AskNow<object>(asker, sock, new Bind(Ipv4Address.Any, 9)));
        return (host, devs["eth0"], w0, w1, asker);
    }

    private static byte[] Udp(ushort port, byte b, ushort id)
        => FrameBuilder.Udp(Mac0, PeerMac, PeerIp, HostIp, 5000, port, [b], id);

    private static WireFrames Wire(params byte[][] frames) => new(frames.Select(f => (ReadOnlyMemory<byte>)f).ToImmutableArray());

    private static List<byte[]> Drain(TestProbe wire)
    {
        var got = new List<byte[]>();
        while (wire.HasMessages)
            if (wire.ReceiveOne(TimeSpan.Zero) is WireFrames w) got.AddRange(w.Frames.Select(f => f.ToArray()));
        return got;
    }

    [Fact]
    public async Task XdpTx_ReflectsOutOfTheSameDevice_MacsSwapped_OthersPass()
    {
        var (host, eth0, w0, w1, asker) = await Start("xdp-tx");
        var prog = new XdpProgram("reflect7", [new XdpRule(XdpAction.Tx, IpProtocol: IpProtocol.Udp, DestinationPort: 7)]);
        Assert.Equal("reflect7", (await AskNow<XdpChanged>(asker, host, new SetXdp("eth0", prog))).Program);
        Drain(w0); Drain(w1);
        var before = await AskNow<HostStats>(asker, host, GetStats.Instance);
        var f1 = Udp(7, 1, 11);
        var f2 = Udp(7, 2, 12);
        TellNow(eth0, Wire(f1, f2, Udp(9, 3, 13)), ActorRefs.Nobody);
        Engine.RunUntilNs(Engine.NowNs + 1_000_000);

        var out0 = Drain(w0).Where(f => EthernetHeader.TryRead(f, out var e) && e.EtherType == EtherType.Ipv4).ToList();
        Assert.Equal(2, out0.Count);
        foreach (var (sent, back) in new[] { (f1, out0[0]), (f2, out0[1]) })
        {
            Assert.Equal(PeerMac, MacAddress.Read(back));                   // destination: who sent it
            Assert.Equal(Mac0, MacAddress.Read(back.AsSpan(6)));            // source: this NIC
            Assert.Equal(sent.AsSpan(12).ToArray(), back.AsSpan(12).ToArray()); // the rest as it came
        }
        Assert.Empty(Drain(w1));
        var st = await AskNow<HostStats>(asker, host, GetStats.Instance);
        Assert.Equal(3, st.Device("eth0").Counters.RxPackets - before.Device("eth0").Counters.RxPackets);
        Assert.Equal(2, st.Device("eth0").Counters.TxPackets - before.Device("eth0").Counters.TxPackets);
        Assert.Equal(0, st.Device("eth1").Counters.TxPackets - before.Device("eth1").Counters.TxPackets);
        Assert.Equal(1, st.Softnet[0].Processed - before.Softnet[0].Processed); // only the port-9 frame went up
        Assert.Equal(1, st.Mib("Ip")["InReceives"] - before.Mib("Ip")["InReceives"]);
        Assert.Equal(0, st.DropsOf(DropReason.XDP));
    }

    [Fact]
    public async Task XdpRedirect_SentOutOfTheOtherDeviceUnchanged_UnknownTargetDropped()
    {
        var (host, eth0, w0, w1, asker) = await Start("xdp-redirect");
        var prog = new XdpProgram("redir", [
            new XdpRule(XdpAction.Redirect, IpProtocol: IpProtocol.Udp, DestinationPort: 7, RedirectDevice: "eth1"),
            new XdpRule(XdpAction.Redirect, IpProtocol: IpProtocol.Udp, DestinationPort: 8, RedirectDevice: "eth9"),
        ]);
        await AskNow<XdpChanged>(asker, host, new SetXdp("eth0", prog));
        Drain(w0); Drain(w1);
        var before = await AskNow<HostStats>(asker, host, GetStats.Instance);
        var f1 = Udp(7, 1, 21);
        TellNow(eth0, Wire(f1, Udp(8, 2, 22), Udp(9, 3, 23)), ActorRefs.Nobody);
        Engine.RunUntilNs(Engine.NowNs + 1_000_000);

        var out1 = Drain(w1).Where(f => EthernetHeader.TryRead(f, out var e) && e.EtherType == EtherType.Ipv4).ToList();
        Assert.Equal(f1, Assert.Single(out1));                                  // byte for byte, MACs untouched
        Assert.DoesNotContain(Drain(w0), f => EthernetHeader.TryRead(f, out var e) && e.EtherType == EtherType.Ipv4);
        var st = await AskNow<HostStats>(asker, host, GetStats.Instance);
        Assert.Equal(1, st.Device("eth1").Counters.TxPackets - before.Device("eth1").Counters.TxPackets);
        Assert.Equal(0, st.Device("eth0").Counters.TxPackets - before.Device("eth0").Counters.TxPackets);
        Assert.Equal(1, st.Softnet[0].Processed - before.Softnet[0].Processed);
        Assert.Equal(1, st.DropsOf(DropReason.XDP));                               // the redirect to no device
        Assert.Equal("eth0/xdp", st.Drops.Single(d => d.Site.Reason == DropReason.XDP).Site.Location);
    }

    [Fact]
    public async Task RxTimestamp_IsTheSimulatedInstantOfReception_NotOfTheRead()
    {
        var (host, eth0, _, _, asker) = await Start("tstamp");
        var sock = (await AskNow<SocketCreated>(asker, host, new SocketCreate(SockType.Dgram))).Socket;
        Assert.IsType<SocketOk>(await AskNow<object>(asker, sock, new Bind(Ipv4Address.Any, 9000)));
        Engine.RunUntilNs(Engine.NowNs + 1_234_500);
        long t1 = Sys.Scheduler.Now.UtcTicks;
        TellNow(eth0, Wire(Udp(9000, 1, 31)), ActorRefs.Nobody);
        Engine.RunUntilNs(Engine.NowNs + 700_000);
        long t2 = Sys.Scheduler.Now.UtcTicks;
        TellNow(eth0, Wire(Udp(9000, 2, 32)), ActorRefs.Nobody);
        Engine.RunUntilNs(Engine.NowNs + 5_000_000);    // read 5 ms later
        var got = await AskNow<Received>(asker, sock, new Recv(2));
        Assert.Equal(2, got.Datagrams.Length);
        Assert.Equal(t1, got.Datagrams[0].TstampTicks);
        Assert.Equal(t2, got.Datagrams[1].TstampTicks);
        Assert.Equal(7_000, t2 - t1);                       // 700 µs in 100 ns ticks
        Assert.True(Sys.Scheduler.Now.UtcTicks - t2 >= 50_000);
    }

    /// <summary>
    /// The timestamp is the instant the NIC received the frame even when the poll comes later: with a driver poll of
    /// 10 µs per packet, a frame that arrives 1 µs after another waits in the ring until the CPU is done with the first
    /// (its interrupt raises NAPI, the softirq is still busy) and is polled about 9 µs after it arrived; it still carries
    /// its own arrival instant, not the poll's (igb stamps at DMA; <c>net_timestamp_check</c> stamps only a buffer
    /// without one). On a CPU that costs nothing the two instants are the same and the test above cannot tell them apart.
    /// </summary>
    [Fact]
    public async Task RxTimestamp_FrameWaitingInTheRingWhileTheCpuIsBusy_KeepsItsArrivalInstant()
    {
        var (host, eth0, _, _, asker) = await Start("tstamp-busy", CpuCostSettings.Zero with { NapiPollNs = 10_000 });
        var sock = (await AskNow<SocketCreated>(asker, host, new SocketCreate(SockType.Dgram))).Socket;
        Assert.IsType<SocketOk>(await AskNow<object>(asker, sock, new Bind(Ipv4Address.Any, 9000)));
        Engine.RunUntilNs(Engine.NowNs + 1_000_000);
        long t1 = Sys.Scheduler.Now.UtcTicks;
        TellNow(eth0, Wire(Udp(9000, 1, 41)), ActorRefs.Nobody);
        Engine.RunUntilNs(Engine.NowNs + 1_000);         // 1 µs later: the CPU is still in the first poll
        long t2 = Sys.Scheduler.Now.UtcTicks;
        TellNow(eth0, Wire(Udp(9000, 2, 42)), ActorRefs.Nobody);
        Engine.RunUntilNs(Engine.NowNs + 5_000_000);
        var got = await AskNow<Received>(asker, sock, new Recv(2));
        Assert.Equal(2, got.Datagrams.Length);
        Assert.Equal((t1, t2), (got.Datagrams[0].TstampTicks, got.Datagrams[1].TstampTicks));
        Assert.Equal(10, t2 - t1);                          // 1 µs in 100 ns ticks
    }
}
