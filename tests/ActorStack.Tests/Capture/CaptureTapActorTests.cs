using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Capture;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Hardware.Capture;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Capture;

/// <summary>
/// The capture tap on the engine: its mailbox holds at most <see cref="CaptureTapActor.MailboxFrames"/> items (frames,
/// drop alerts, wire events; one more is admitted while the charge is at the limit, as every charged queue here), the
/// rest is dropped and counted; drops on devices it does not capture and copies from actors under no known host are
/// left out.
/// </summary>
public sealed class CaptureTapActorTests() : EngineKit("capture-tap")
{
    private static readonly HostSettings H = new("h", 1, new SysctlSettings(),
        [new DeviceSettings("eth0", new MacAddress(0x02_00_00_00_00_02UL)), new DeviceSettings("eth1", new MacAddress(0x02_00_00_00_00_03UL))]);

    [Fact]
    public async Task Flood_OfDropAlerts_MailboxBound_BothSides()
    {
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-tap-{Guid.NewGuid():N}.pcapng");
        try
        {
            var asker = Probe();
            var host = Sys.ActorOf(Props.Empty, "h");
            var point = new CaptureSettings(true, "h", "eth0", file, 65535);
            var tap = Sys.ActorOf(CaptureTapActor.Props(point, [H], [], [], new Dictionary<string, IActorRef> { ["h"] = host }), "tap");
            var frame = new byte[60];
            tap.Tell(new NetDmPacketAlert("h", DropReason.QDISC_DROP, "eth1/qdisc", 1, 3, frame, Transmit: true));   // not captured
            tap.Tell(new NetDmPacketAlert("h", DropReason.CPU_BACKLOG, "cpu0", 1, 0, frame, Transmit: false));        // no device
            tap.Tell(new NetDmPacketAlert("other", DropReason.QDISC_DROP, "eth0/qdisc", 1, 2, frame, Transmit: true)); // no such host
            tap.Tell(new SkbBatch([new SkBuff(frame, 2, 0, 0, 0, 640)]), ActorRefs.NoSender);                          // from no host
            var flushed = await AskNow<CaptureFlushed>(asker, tap, FlushCapture.Instance);
            Assert.Equal((0L, 0L, 0L), (flushed.Frames, flushed.Comments, flushed.Dropped));

            // All told at one instant before the tap runs: 4097 admitted (0..4096 charged before each), 903 dropped.
            for (int i = 0; i < 5000; i++)
                tap.Tell(new NetDmPacketAlert("h", DropReason.QDISC_DROP, "eth0/qdisc", 1, 2, frame, Transmit: true));
            flushed = await AskNow<CaptureFlushed>(asker, tap, FlushCapture.Instance);
            Assert.Equal((0L, 4097L, 903L), (flushed.Frames, flushed.Comments, flushed.Dropped));

            // With the mailbox drained, the next ones are admitted again.
            tap.Tell(new NetDmPacketAlert("h", DropReason.FULL_RING, "eth0/rx0", 1, 2, frame, Transmit: false));
            tap.Tell(new NetDmPacketAlert("h", DropReason.DEV_READY, "eth0/tx", 7, 0, ReadOnlyMemory<byte>.Empty, Transmit: true));
            flushed = await AskNow<CaptureFlushed>(asker, tap, FlushCapture.Instance);
            Assert.Equal((4099L, 903L), (flushed.Comments, flushed.Dropped));
            TellNow(tap, PoisonPill.Instance, asker.Ref); // PostStop closes the file

            var f = PcapNgReader.Read(await File.ReadAllBytesAsync(file));
            Assert.Equal(["h/eth0"], f.Interfaces.Select(i => i.Name));
            Assert.Equal(4099, f.Packets.Length);
            Assert.All(f.Packets.Take(4097), p => Assert.Equal((PacketDirection.Outbound, 60, "SKB_DROP_REASON_QDISC_DROP at eth0/qdisc"),
                (p.Direction, p.Data.Length, p.Comments.Single())));
            Assert.Equal((PacketDirection.Inbound, 60, "SKB_DROP_REASON_FULL_RING at eth0/rx0"),
                (f.Packets[4097].Direction, f.Packets[4097].Data.Length, f.Packets[4097].Comments.Single()));
            Assert.Equal((PacketDirection.Unknown, 0, "SKB_DROP_REASON_DEV_READY at eth0/tx (7 packets)"),
                (f.Packets[4098].Direction, f.Packets[4098].Data.Length, f.Packets[4098].Comments.Single()));
        }
        finally { File.Delete(file); }
    }
}
