using System.Buffers.Binary;
using ActorStack.Actors.Workloads;
using ActorStack.Messages.Packets;
using IcmpMessage = ActorStack.Actors.Workloads.IcmpMessage;

namespace ActorStack.Tests.Apps;

public class IcmpEchoTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    private static byte[] Ip(byte[] payload, Ipv4Address src, Ipv4Address dst, byte ttl = 64, byte protocol = IpProtocol.Icmp)
    {
        var p = new byte[20 + payload.Length];
        Ipv4Header.Write(p, p.Length, 1, 0, ttl, protocol, src, dst);
        payload.CopyTo(p, 20);
        return p;
    }

    [Fact]
    public void BuildRequest_Default_LayoutChecksumTimestampAndPattern()
    {
        var m = IcmpEcho.BuildRequest(0x1234, 7, 56, 0x0102030405060708);
        Assert.Equal(64, m.Length);
        Assert.Equal(8, m[0]);
        Assert.Equal(0, m[1]);
        Assert.Equal(0, Checksum.Compute(m));
        Assert.Equal(0x1234, BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(4)));
        Assert.Equal(7, BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(6)));
        Assert.Equal(0x0102030405060708, BinaryPrimitives.ReadInt64BigEndian(m.AsSpan(8)));
        Assert.Equal(8, m[16]);   // data byte 8
        Assert.Equal(55, m[63]);  // data byte 55
        Assert.True(IcmpEcho.PatternIntact(m.AsSpan(8)));
    }

    [Fact]
    public void TryParse_EchoReplyInIpPacket_FieldsAndTimestamp()
    {
        var reply = IcmpEcho.BuildReply(0xBEEF, 3, 56, 12345);
        Assert.True(IcmpMessage.TryParse(Ip(reply, B, A, ttl: 63), out var m));
        Assert.Equal(B, m.Source);
        Assert.Equal(A, m.Destination);
        Assert.Equal(63, m.Ttl);
        Assert.Equal(0, m.Type);
        Assert.Equal(0xBEEF, m.EchoId);
        Assert.Equal(3, m.EchoSequence);
        Assert.Equal(64, m.Length);
        Assert.True(m.ChecksumValid);
        Assert.True(m.TryGetTimestamp(out var t));
        Assert.Equal(12345, t);
        Assert.False(m.IsError);
        Assert.False(m.TryGetQuoted(out _));
    }

    [Fact]
    public void TryParse_CorruptedByte_ChecksumInvalid()
    {
        var reply = IcmpEcho.BuildReply(1, 1, 56, 0);
        reply[30] ^= 0xFF;
        Assert.True(IcmpMessage.TryParse(Ip(reply, B, A), out var m));
        Assert.False(m.ChecksumValid);
    }

    [Fact]
    public void TryGetQuoted_TimeExceededQuotingOurEcho_IdAndSequence()
    {
        var request = Ip(IcmpEcho.BuildRequest(0x4242, 9, 56, 0), A, B);
        var err = new byte[8 + 28];
        err[0] = 11;
        request.AsSpan(0, 28).CopyTo(err.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(err.AsSpan(2), Checksum.Compute(err));
        Assert.True(IcmpMessage.TryParse(Ip(err, Ipv4Address.Parse("10.0.1.1"), A), out var m));
        Assert.True(m.IsError);
        Assert.True(m.TryGetQuoted(out var q));
        Assert.Equal(IpProtocol.Icmp, q.Protocol);
        Assert.Equal(B, q.Destination);
        Assert.Equal(8, q.IcmpType);
        Assert.Equal(0x4242, q.EchoId);
        Assert.Equal(9, q.EchoSequence);
    }

    [Fact]
    public void ErrorInfo_FragNeeded_NextHopMtu()
    {
        var err = new byte[8 + 28];
        err[0] = 3; err[1] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(err.AsSpan(6), 1400);
        Assert.True(IcmpMessage.TryParse(Ip(err, A, B), out var m));
        Assert.Equal(1400u, m.ErrorInfo);
    }

    [Theory]
    [InlineData(10)]   // shorter than an IP header
    [InlineData(27)]   // IP header + 7 bytes: no whole ICMP header
    public void TryParse_Truncated_False(int length)
    {
        var p = Ip(IcmpEcho.BuildReply(1, 1, 56, 0), B, A);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)length);
        Assert.False(IcmpMessage.TryParse(p.AsMemory(0, length), out _));
    }

    [Fact]
    public void TryParse_NotIcmp_False()
        => Assert.False(IcmpMessage.TryParse(Ip(new byte[16], A, B, protocol: IpProtocol.Udp), out _));

    [Fact]
    public void TryGetQuoted_ErrorTooShortForQuote_False()
    {
        var err = new byte[8 + 20];   // quotes the IP header but not 8 bytes after it
        err[0] = 3;
        Assert.True(IcmpMessage.TryParse(Ip(err, A, B), out var m));
        Assert.False(m.TryGetQuoted(out _));
    }

    [Fact]
    public void UdpEchoPayload_BuildAndMatch_ByteForByte()
    {
        var p = UdpEchoPayload.Build(77, 64);
        Assert.Equal(64, p.Length);
        Assert.True(UdpEchoPayload.TryReadSequence(p, out var seq));
        Assert.Equal(77u, seq);
        Assert.True(UdpEchoPayload.Matches(p, 64));
        p[40] ^= 1;
        Assert.False(UdpEchoPayload.Matches(p, 64));
        Assert.False(UdpEchoPayload.Matches(UdpEchoPayload.Build(77, 64).AsSpan(0, 63), 64));
    }

    [Fact]
    public void RttSamples_FourSamples_MinMaxMeanLowerMedian()
    {
        var r = new RttSamples();
        foreach (var t in new long[] { 40, 10, 30, 20 }) r.Add(t);
        Assert.Equal(10, r.Min);
        Assert.Equal(40, r.Max);
        Assert.Equal(25, r.Mean);
        Assert.Equal(20, r.Median());
    }
}
