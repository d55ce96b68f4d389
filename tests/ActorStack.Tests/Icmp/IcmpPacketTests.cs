using System.Buffers.Binary;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.Icmp;

public class IcmpPacketTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    [Fact]
    public void TryParse_EchoRequest_ReadsTypeIdSequence()
    {
        var m = IcmpPacket.EchoRequest(0x1234, 7, [1, 2, 3]);
        Assert.Equal(IcmpParseStatus.Ok, IcmpPacket.TryParse(m, out var msg));
        Assert.Equal(IcmpType.Echo, msg.Type);
        Assert.Equal(0, msg.Code);
        Assert.Equal(0x1234, msg.Id);
        Assert.Equal(7, msg.Sequence);
        Assert.Equal(0, Checksum.Compute(m));
    }

    [Fact]
    public void TryParse_CorruptedByte_BadChecksum()
    {
        var m = IcmpPacket.EchoRequest(1, 1, [1, 2, 3, 4]);
        m[9] ^= 0xFF;
        Assert.Equal(IcmpParseStatus.BadChecksum, IcmpPacket.TryParse(m, out _));
    }

    [Fact]
    public void TryParse_FourBytesWithValidChecksum_Truncated()
    {
        var m = new byte[] { 8, 0, 0, 0 };
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(m));
        Assert.Equal(IcmpParseStatus.Truncated, IcmpPacket.TryParse(m, out _));
    }

    [Fact]
    public void WriteEchoReply_Request_SameIdSequenceDataAndValidChecksum()
    {
        var req = IcmpPacket.EchoRequest(0xBEEF, 42, [9, 8, 7, 6, 5]);
        var reply = new byte[req.Length];
        Assert.Equal(req.Length, IcmpPacket.WriteEchoReply(req, reply));
        Assert.Equal(IcmpType.EchoReply, reply[0]);
        Assert.Equal(0, reply[1]);
        Assert.Equal(req[4..], reply[4..]);
        Assert.Equal(0, Checksum.Compute(reply));
    }

    private static byte[] Datagram(int length)
    {
        var p = new byte[length];
        Ipv4Header.Write(p, length, 1, 0, 64, IpProtocol.Udp, A, B);
        for (int i = 20; i < length; i++) p[i] = (byte)i;
        return p;
    }

    [Fact]
    public void Error_LongOffendingDatagram_QuotesUpTo576BytesOfIp()
    {
        var off = Datagram(1000);
        var e = IcmpPacket.DestUnreach(IcmpCode.PortUnreach, off)!;
        Assert.Equal(576 - 20, e.Length);
        Assert.Equal(off[..548], e[8..]);
        Assert.Equal(0, Checksum.Compute(e));
    }

    [Fact]
    public void Error_ShortOffendingDatagram_QuotesAllOfIt()
    {
        var off = Datagram(40);
        var e = IcmpPacket.TimeExceeded(IcmpCode.ExcTtl, off)!;
        Assert.Equal(48, e.Length);
        Assert.Equal(new byte[] { IcmpType.TimeExceeded, 0 }, e[..2]);
        Assert.Equal(new byte[4], e[4..8]);
        Assert.Equal(off, e[8..]);
    }

    [Fact]
    public void Error_FragNeeded_NextHopMtuInLowHalfOfSecondWord()
    {
        var e = IcmpPacket.DestUnreach(IcmpCode.FragNeeded, Datagram(60), 1400)!;
        Assert.Equal(new byte[] { 3, 4 }, e[..2]);
        Assert.Equal(new byte[] { 0, 0, 0x05, 0x78 }, e[4..8]);
        IcmpPacket.TryParse(e, out var msg);
        Assert.Equal(1400, msg.NextHopMtu);
    }

    [Fact]
    public void Error_ParameterProblem_PointerInFirstByteOfSecondWord()
    {
        var e = IcmpPacket.ParameterProblem(9, Datagram(28))!;
        Assert.Equal(new byte[] { 9, 0, 0, 0 }, e[4..8]);
        IcmpPacket.TryParse(e, out var msg);
        Assert.Equal(9, msg.Pointer);
    }

    [Theory]
    [InlineData(1000, 1500, 548)]
    [InlineData(1000, 576, 548)]
    [InlineData(1000, 100, 72)]
    [InlineData(1000, 68, 40)]
    [InlineData(1000, 48, 0)]
    [InlineData(30, 1500, 30)]
    public void QuoteLength_RouteMtu_Linux576Rule(int offending, int mtu, int expected)
        => Assert.Equal(expected, IcmpPacket.QuoteLength(offending, mtu));

    [Theory]
    [InlineData(0, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    [InlineData(5, true)]
    [InlineData(8, false)]
    [InlineData(11, true)]
    [InlineData(12, true)]
    [InlineData(13, false)]
    [InlineData(18, false)]
    [InlineData(19, true)]
    public void IsError_Type_AsIcmpPointers(byte type, bool error) => Assert.Equal(error, IcmpPacket.IsError(type));

    [Fact]
    public void CheckQuoted_Lengths_Statuses()
    {
        var d = Datagram(40);
        Assert.Equal(QuoteStatus.Ok, IcmpPacket.CheckQuoted(d.AsSpan(0, 28)));
        Assert.Equal(QuoteStatus.ShortPayload, IcmpPacket.CheckQuoted(d.AsSpan(0, 27)));
        Assert.Equal(QuoteStatus.Truncated, IcmpPacket.CheckQuoted(d.AsSpan(0, 19)));
        d[0] = 0x44;
        Assert.Equal(QuoteStatus.BadHeader, IcmpPacket.CheckQuoted(d));
    }
}
