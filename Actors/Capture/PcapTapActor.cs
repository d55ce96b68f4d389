using Akka.Actor;
using ActorStack.Actors.Mailboxes;
using ActorStack.Hardware.Capture;
using ActorStack.Messages;

namespace ActorStack.Actors.Capture;

/// <summary>
/// A <c>ptype_all</c> tap (the tcpdump capture point of <c>__netif_receive_skb_core</c>) that writes every
/// frame it is given to a pcap file with the frame's RX timestamp from the
/// simulation clock. Its mailbox is bounded like a packet socket's receive
/// buffer: a tap that falls behind drops copies (counted), never the stack's data.
/// </summary>
public sealed class PcapTapActor : ReceiveActor
{
    private readonly PcapWriter _writer;
    private readonly string _file;
    private long _dropped;

    public PcapTapActor(string file, int snapLength)
    {
        _file = file;
        _writer = new PcapWriter(File.Create(file), snapLength);
        var q = ChargedMessageQueue.Of(Context);
        if (q is not null)
        {
            q.Limit = 4096;
            q.OnDrop = (d, _) => Interlocked.Add(ref _dropped, d.Count);
        }
        Receive<SkbBatch>(b =>
        {
            q?.Uncharge(b.Count);
            foreach (var skb in b.Items) _writer.WritePacket(skb.Data.Span, skb.TstampTicks);
        });
        Receive<FlushCapture>(_ =>
        {
            _writer.Flush();
            Sender.Tell(new CaptureFlushed(_file, _writer.PacketsWritten, Interlocked.Read(ref _dropped)));
        });
    }

    protected override void PostStop() => _writer.Dispose();

    public static Props Props(string file, int snapLength)
        => Akka.Actor.Props.Create(() => new PcapTapActor(file, snapLength)).WithMailbox("actorstack-nic-mailbox");
}
