using System.Buffers.Binary;
using ActorStack.Hardware.Nic;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Offload.OffloadFrames;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Offload;

public class TcpSegmenterTests
{
    [Fact]
    public void Segment_SuperFrame_CutToMssFramesWithValidChecksums()
    {
        var data = Payload(3500, 3);
        var super = Frame(1000, data, TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Cwr, ipId: 40);
        var frames = new List<ReadOnlyMemory<byte>>();
        Assert.Equal(3, TcpSegmenter.Count(super, 1448));
        Assert.Equal(3, TcpSegmenter.Segment(super, 1448, frames));

        Assert.Equal([14 + 52 + 1448, 14 + 52 + 1448, 14 + 52 + 604], frames.Select(f => f.Length).ToArray());
        var segs = frames.Select(f => Parse(f, verify: true)).ToArray();
        Assert.Equal([1000u, 2448u, 3896u], segs.Select(s => s.Seq.Value).ToArray());
        Assert.Equal([TcpFlags.Ack | TcpFlags.Cwr, TcpFlags.Ack, TcpFlags.Ack | TcpFlags.Psh], segs.Select(s => s.Flags).ToArray());
        Assert.Equal(data, segs.SelectMany(s => s.Payload.ToArray()).ToArray());
        Assert.All(segs, s => Assert.Equal(100u, s.Options.TsVal));
        for (int i = 0; i < 3; i++)
        {
            var ip = frames[i].Span[14..];
            Assert.Equal(0, Checksum.Compute(ip[..20]));
            Assert.Equal(frames[i].Length - 14, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
            Assert.Equal(40 + i, BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
            Assert.Equal(super.AsSpan(0, 14).ToArray(), frames[i].Span[..14].ToArray());
        }
    }

    [Fact]
    public void Segment_FinOnlyOnLastFrame()
    {
        var frames = new List<ReadOnlyMemory<byte>>();
        TcpSegmenter.Segment(Frame(1, Payload(2000, 1), TcpFlags.Ack | TcpFlags.Fin), 1000, frames);
        Assert.Equal([TcpFlags.Ack, TcpFlags.Ack | TcpFlags.Fin], frames.Select(f => Parse(f).Flags).ToArray());
    }

    [Fact]
    public void Segment_NotTcp_ReturnsZero()
    {
        var f = Frame(1, Payload(2000, 1));
        f[14 + 9] = IpProtocol.Udp;
        var frames = new List<ReadOnlyMemory<byte>>();
        Assert.Equal(0, TcpSegmenter.Segment(f, 1000, frames));
        Assert.Empty(frames);
        Assert.Equal(int.MaxValue, TcpSegmenter.SegmentNetworkLength(f.AsSpan(14), 1000));
    }

    [Fact]
    public void SegmentNetworkLength_IsHeadersPlusGsoSize()
        => Assert.Equal(20 + 32 + 1448, TcpSegmenter.SegmentNetworkLength(Frame(1, Payload(5000, 1)).AsSpan(14), 1448));
}
