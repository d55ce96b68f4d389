using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using ActorStack.Actors.Neighbour;
using ActorStack.Config;
using ActorStack.Hardware.Tap;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Wire;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Tap;

/// <summary>
/// The TAP link against the real kernel: each test makes its own network namespace, opens the TAP
/// inside it (so the device and its address never exist outside), and a <see cref="TestProbe"/>
/// stands in for the NIC. Kernel I/O is real, so waits are generous (5 s) though each exchange takes
/// milliseconds.
/// </summary>
[Collection(ActorStack.Tests.Tap.KernelTapCollection.Name)]
public sealed class TapLinkTests() : TestKit(StackConfig.AkkaConfig(), "tap")
{
    private const string TapName = "astap0";
    private static readonly TimeSpan KernelIo = Timeouts.Wall;
    private static readonly Ipv4Address KernelIp = Ipv4Address.Parse("192.0.2.1");
    private static readonly Ipv4Address SimIp = Ipv4Address.Parse("192.0.2.2");
    private static readonly MacAddress SimMac = MacAddress.Parse("02:00:00:00:00:02");

    [RequiresTapFact]
    public void TapDevice_OpenInNamespace_CreatesDeviceThereAndRemovesItOnDispose()
    {
        using var ns = Netns.Create();
        var tap = TapDevice.Open(TapName, ns.Path);
        string link;
        try
        {
            Assert.Equal(TapName, tap.Name);
            link = ns.Ip("-o", "link", "show", TapName);
        }
        finally
        {
            tap.Dispose();
        }
        Assert.Contains($"link/ether {tap.Mac}", link);
        Assert.NotEqual(MacAddress.Zero, tap.Mac);
        Assert.Throws<InvalidOperationException>(() => ns.Ip("link", "show", TapName));
        Assert.Equal(-9, tap.Write(new byte[60]));   // EBADF once disposed
        Assert.Equal(0, tap.Read(new byte[60]));
    }

    [RequiresTapFact]
    public void TapDevice_OpenNameOfNonTapDevice_ThrowsWithEinval()
    {
        using var ns = Netns.Create();
        var e = Assert.Throws<TapOpenException>(() => TapDevice.Open("lo", ns.Path));
        Assert.Equal((int)Errno.EINVAL, e.Errno);
        Assert.Contains("errno 22", e.Message);
    }

    [Fact]
    public void TapDevice_OpenNameTooLong_ThrowsArgumentException()
        => Assert.Throws<ArgumentException>(() => TapDevice.Open("a-name-of-16-chr"));

    [RequiresTapFact]
    public async Task TapLink_KernelSendsToUnresolvedNeighbour_NicGetsArpRequest()
    {
        using var ns = Netns.Create();
        var nic = CreateTestProbe();
        var link = await StartLink(ns, nic);
        try
        {
            var kernelMac = (await AskStats(link)).KernelMac;
            using var sock = NetnsSocket.Udp(ns, new IPEndPoint(IPAddress.Any, 0));
            sock.SendTo("hello"u8.ToArray(), new IPEndPoint(IPAddress.Parse(SimIp.ToString()), 9));

            var frame = await ExpectFrame(nic, f => TapFrames.IsArp(f, out _));

            EthernetHeader.TryRead(frame, out var eth);
            Assert.Equal(MacAddress.Broadcast, eth.Destination);
            Assert.Equal(kernelMac, eth.Source);
            ArpPacket.TryRead(frame.AsSpan(EthernetHeader.Length), out var arp, out _);
            Assert.Equal(ArpPacket.OpRequest, arp.Operation);
            Assert.Equal(kernelMac, arp.SenderMac);
            Assert.Equal(KernelIp, arp.SenderIp);
            Assert.Equal(SimIp, arp.TargetIp);
            var stats = await AskStats(link);
            Assert.Equal(1, stats.RxPackets);
            Assert.Equal(42, stats.RxBytes);
        }
        finally
        {
            await Stop(link);
        }
    }

    [RequiresTapFact]
    public async Task TapLink_NicSendsArpRequest_TxDoneAndKernelReplies()
    {
        using var ns = Netns.Create();
        var nic = CreateTestProbe();
        var link = await StartLink(ns, nic);
        try
        {
            var kernelMac = (await AskStats(link)).KernelMac;
            var request = TapFrames.ArpRequest(SimMac, SimIp, KernelIp);
            link.Tell(new WireFrames([request]), nic.Ref);

            // The reply may overtake the completion: collect both in any order.
            WireTxDone? done = null;
            byte[]? reply = null;
            while (done is null || reply is null)
            {
                switch (await nic.ExpectMsgAsync<object>(KernelIo))
                {
                    case WireTxDone d: Assert.Null(done); done = d; break;
                    case WireFrames w:
                        foreach (var f in w.Frames)
                            if (TapFrames.IsArp(f.Span, out _)) reply = f.ToArray();
                        break;
                    case var other: Assert.Fail($"unexpected {other}"); break;
                }
            }

            Assert.Equal(new WireTxDone(1), done);
            EthernetHeader.TryRead(reply, out var eth);
            Assert.Equal(SimMac, eth.Destination);
            Assert.Equal(kernelMac, eth.Source);
            ArpPacket.TryRead(reply.AsSpan(EthernetHeader.Length), out var arp, out _);
            Assert.Equal(ArpPacket.OpReply, arp.Operation);
            Assert.Equal(kernelMac, arp.SenderMac);
            Assert.Equal(KernelIp, arp.SenderIp);
            Assert.Equal(SimMac, arp.TargetMac);
            Assert.Equal(SimIp, arp.TargetIp);
            Assert.Contains($"{SimIp} dev {TapName} lladdr {SimMac}", ns.Ip("neigh", "show"));   // arp_process learnt the sender
            var stats = await AskStats(link);
            Assert.Equal((1L, 42L, 0L), (stats.TxPackets, stats.TxBytes, stats.TxErrors));
        }
        finally
        {
            await Stop(link);
        }
    }

    [RequiresTapFact]
    public async Task TapLink_NicSendsUdpFrame_KernelSocketReceivesItByteForByte()
    {
        using var ns = Netns.Create();
        var nic = CreateTestProbe();
        var link = await StartLink(ns, nic);
        try
        {
            var kernelMac = (await AskStats(link)).KernelMac;
            using var sock = NetnsSocket.Udp(ns, new IPEndPoint(IPAddress.Parse(KernelIp.ToString()), 7000));
            var payload = Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray();
            var frame = FrameBuilder.Udp(kernelMac, SimMac, SimIp, KernelIp, 5000, 7000, payload, id: 1);

            link.Tell(new WireFrames([frame]), nic.Ref);

            Assert.Equal(new WireTxDone(1), await nic.ExpectMsgAsync<WireTxDone>(KernelIo));
            var (got, from) = await NetnsSocket.ReceiveAsync(sock, KernelIo);
            Assert.Equal(payload, got);
            Assert.Equal(new IPEndPoint(IPAddress.Parse(SimIp.ToString()), 5000), from);
        }
        finally
        {
            await Stop(link);
        }
    }

    [RequiresTapFact]
    public async Task TapLink_KernelFrameLongerThanBuffer_DroppedAndCounted()
    {
        using var ns = Netns.Create();
        var nic = CreateTestProbe();
        var link = await StartLink(ns, nic, new TapLinkSettings(RxBufferSize: 100));
        try
        {
            ns.Ip("neigh", "add", SimIp.ToString(), "lladdr", SimMac.ToString(), "dev", TapName);
            using var sock = NetnsSocket.Udp(ns, new IPEndPoint(IPAddress.Any, 6000));
            var to = new IPEndPoint(IPAddress.Parse(SimIp.ToString()), 9);
            sock.SendTo(new byte[200], to);          // 242-byte frame: longer than the buffer
            sock.SendTo("small"u8.ToArray(), to);    // 47-byte frame

            var frame = await ExpectFrame(nic, _ => true);

            Assert.Equal(FrameBuilder.UdpOverhead + 5, frame.Length);
            Assert.Equal("small"u8.ToArray(), frame[FrameBuilder.UdpOverhead..]);
            var stats = await AskStats(link);
            Assert.Equal((1L, 1L, 47L), (stats.RxOversize, stats.RxPackets, stats.RxBytes));
            link.Tell(GetWireStats.Instance, TestActor);
            Assert.Equal(new WireStats(0, 1, 0, 1), await ExpectMsgAsync<WireStats>(KernelIo));
        }
        finally
        {
            await Stop(link);
        }
    }

    [RequiresTapFact]
    public async Task TapLink_KernelSendsMoreThanBatch_NicGetsBoundedBatches()
    {
        using var ns = Netns.Create();
        var nic = CreateTestProbe();
        var link = await StartLink(ns, nic, new TapLinkSettings(RxBatch: 2));
        try
        {
            ns.Ip("neigh", "add", SimIp.ToString(), "lladdr", SimMac.ToString(), "dev", TapName);
            using var sock = NetnsSocket.Udp(ns, new IPEndPoint(IPAddress.Any, 6000));
            var to = new IPEndPoint(IPAddress.Parse(SimIp.ToString()), 9);
            for (byte i = 0; i < 5; i++) sock.SendTo(new[] { i }, to);

            var payloads = new List<byte>();
            while (payloads.Count < 5)
            {
                var w = await nic.ExpectMsgAsync<WireFrames>(KernelIo);
                Assert.InRange(w.Count, 1, 2);
                payloads.AddRange(w.Frames.Select(f => f.Span[FrameBuilder.UdpOverhead]));
            }

            Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, payloads);
        }
        finally
        {
            await Stop(link);
        }
    }

    [RequiresTapFact]
    public async Task TapLink_MoreFramesThanTxQueueLen_ExcessCompletedAndCountedAsDropped()
    {
        using var ns = Netns.Create();
        var nic = CreateTestProbe();
        var link = await StartLink(ns, nic, new TapLinkSettings(TxQueueLen: 1));
        try
        {
            var frames = Enumerable.Range(0, 10)
                .Select(i => (ReadOnlyMemory<byte>)TapFrames.ArpRequest(SimMac, SimIp, new Ipv4Address(KernelIp.Value + 10 + (uint)i)))
                .ToImmutableArray();

            link.Tell(new WireFrames(frames), nic.Ref);

            // Admitted while the queue's charge is at or under its limit: 2 of 10 (ChargedMessageQueue).
            Assert.Equal(new WireTxDone(8), await nic.ExpectMsgAsync<WireTxDone>(KernelIo));
            Assert.Equal(new WireTxDone(2), await nic.ExpectMsgAsync<WireTxDone>(KernelIo));
            var stats = await AskStats(link);
            Assert.Equal((2L, 84L, 0L, 8L), (stats.TxPackets, stats.TxBytes, stats.TxErrors, stats.TxDropped));
            link.Tell(GetWireStats.Instance, TestActor);
            Assert.Equal(new WireStats(2, 0, 8, 0), await ExpectMsgAsync<WireStats>(KernelIo));
        }
        finally
        {
            await Stop(link);
        }
    }

    [RequiresTapFact]
    public async Task TapLink_Stopped_ReaderEndsAndDeviceIsRemoved()
    {
        using var ns = Netns.Create();
        var nic = CreateTestProbe();
        var link = await StartLink(ns, nic);
        Assert.True((await AskStats(link)).ReaderRunning);

        await Stop(link);

        Assert.Throws<InvalidOperationException>(() => ns.Ip("link", "show", TapName));
    }

    [RequiresTapFact]
    public async Task TapLink_OpenFails_ActorStops()
    {
        using var ns = Netns.Create();
        var link = Sys.ActorOf(TapLinkActor.Props(CreateTestProbe().Ref, "lo", ns.Path, TapLinkSettings.Default));
        Watch(link);
        await ExpectTerminatedAsync(link, KernelIo);
    }

    /// <summary>Starts a link on a new TAP inside <paramref name="ns"/>, addresses it 192.0.2.1/24 and brings it up.</summary>
    private async Task<IActorRef> StartLink(Netns ns, TestProbe nic, TapLinkSettings? settings = null)
    {
        var link = Sys.ActorOf(TapLinkActor.Props(nic.Ref, TapName, ns.Path, settings ?? TapLinkSettings.Default));
        var stats = await AskStats(link);          // answered once the constructor opened the device
        Assert.Equal(TapName, stats.Device);
        ns.Ip("addr", "add", $"{KernelIp}/24", "dev", TapName);
        ns.Ip("link", "set", TapName, "up");
        return link;
    }

    private async Task<TapLinkStats> AskStats(IActorRef link)
    {
        link.Tell(GetTapLinkStats.Instance, TestActor);
        return await ExpectMsgAsync<TapLinkStats>(KernelIo);
    }

    private async Task Stop(IActorRef link)
    {
        Watch(link);
        Sys.Stop(link);
        await ExpectTerminatedAsync(link, KernelIo);
        Unwatch(link);
    }

    /// <summary>The first frame from the kernel matching <paramref name="match"/>; other frames are skipped.</summary>
    private static async Task<byte[]> ExpectFrame(TestProbe nic, Func<byte[], bool> match)
    {
        for (int i = 0; i < 100; i++)
        {
            var w = await nic.ExpectMsgAsync<WireFrames>(KernelIo);
            Assert.InRange(w.Count, 1, TapLinkSettings.Default.RxBatch);
            foreach (var f in w.Frames)
                if (match(f.ToArray())) return f.ToArray();
        }
        throw new Xunit.Sdk.XunitException("no matching frame in 100 messages");
    }
}
