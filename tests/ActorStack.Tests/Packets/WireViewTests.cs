using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Packets;

/// <summary>The header views and writers of the wire layer on byte fixtures.</summary>
public class WireViewTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");
    private const int IpOff = EthernetHeader.Length;
    private const int L4Off = IpOff + Ipv4Header.MinLength;

    [Fact]
    public void TcpHeader_ReadsEveryField()
    {
        var f = FlowDissectorTests.Tcp(40000, 80);
        Assert.True(TcpHeader.TryRead(f.AsSpan(L4Off), out var th));
        Assert.Equal((ushort)40000, th.SourcePort);
        Assert.Equal((ushort)80, th.DestinationPort);
        Assert.Equal(40000u << 16 | 80, th.Ports);
        Assert.Equal(new TcpSeq(0x01020304), th.Seq);
        Assert.Equal(new TcpSeq(7), th.Ack);
        Assert.Equal(6, th.DataOffset);
        Assert.Equal(24, th.HeaderLength);
        Assert.True(th.DataOffsetValid);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Ece, th.Flags);
        Assert.Equal((ushort)1000, th.Window);
        Assert.Equal((ushort)0, th.UrgentPointer);
        Assert.Equal(new byte[] { TcpOptionKind.Mss, 4, 0x05, 0xB4 }, th.Options.ToArray());
        Assert.Equal(5, th.Payload.Length);
        Assert.True(TcpHeader.ChecksumValid(f.AsSpan(L4Off), A.Value, B.Value));
        Assert.False(TcpHeader.ChecksumValid(f.AsSpan(L4Off), A.Value, A.Value));
    }

    [Fact]
    public void TcpHeader_DataOffsetPastTheEnd_ClampedNeverThrows()
    {
        var f = FlowDissectorTests.Tcp().AsSpan(L4Off, 22).ToArray();
        f[12] = 0xF0; // 60-byte header in 22 bytes
        Assert.True(TcpHeader.TryRead(f, out var th));
        Assert.False(th.DataOffsetValid);
        Assert.Equal(2, th.Options.Length);
        Assert.Equal(0, th.Payload.Length);
        Assert.False(TcpHeader.TryRead(f.AsSpan(0, TcpHeader.MinLength - 1), out _));
    }

    [Fact]
    public void TcpHeaderWriter_SeqFlagsChecksum_MatchTcpSegment()
    {
        var f = FlowDissectorTests.Tcp();
        var seg = f.AsSpan(L4Off);
        var w = new TcpHeaderWriter(seg);
        w.Seq = new TcpSeq(99);
        w.Flags = TcpFlags.Ack;
        w.FillChecksum(A.Value, B.Value);
        Assert.Equal(TcpParseError.None, TcpSegment.TryParse(seg.ToArray(), A, B, out var parsed));
        Assert.Equal(new TcpSeq(99), parsed!.Seq);
        Assert.Equal(TcpFlags.Ack, parsed.Flags);
    }

    [Fact]
    public void FindTimestamp_AfterNops_AndReadTsVal()
    {
        byte[] opts = [1, 1, 8, 10, 0, 0, 0, 42, 0, 0, 0, 7];
        Assert.Equal(2, TcpHeader.FindTimestamp(opts));
        Assert.Equal(42u, TcpHeader.ReadTsVal(opts, 2));
        Assert.Equal(-1, TcpHeader.FindTimestamp([0, 8, 10, 0, 0, 0, 42, 0, 0, 0, 7]));
        Assert.Equal(-1, TcpHeader.FindTimestamp([8, 11, 0]));
    }

    [Fact]
    public void Ipv4HeaderWriter_DecrementTtl_ChecksumStillValid()
    {
        var ip = new byte[Ipv4Header.MinLength];
        Ipv4Header.Write(ip, 20, 1, 0, 64, IpProtocol.Udp, A, B);
        new Ipv4HeaderWriter(ip).DecrementTtl();
        Assert.True(Ipv4Header.TryRead(ip, out var h));
        Assert.Equal((byte)63, h.Ttl);
        Assert.True(h.ChecksumValid);
    }

    [Theory]
    [InlineData(0, false, 0)] // Not-ECT: not marked, nothing written
    [InlineData(1, true, 3)]  // ECT(1) → CE
    [InlineData(2, true, 3)]  // ECT(0) → CE
    [InlineData(3, true, 3)]  // CE stays CE
    public void Ipv4HeaderWriter_SetCe_MarksEctAndKeepsTheChecksumValid(int ecn, bool marked, int ecnAfter)
    {
        var ip = new byte[Ipv4Header.MinLength];
        Ipv4Header.Write(ip, 20, 7, 0, 64, IpProtocol.Tcp, A, B, tos: (byte)(0x10 | ecn));
        Assert.Equal(marked, new Ipv4HeaderWriter(ip).SetCe());
        Assert.True(Ipv4Header.TryRead(ip, out var h));
        Assert.Equal(ecnAfter, h.Ecn);
        Assert.Equal((byte)(0x10 | ecnAfter), h.Tos);
        Assert.True(h.ChecksumValid);
    }

    [Fact]
    public void Ipv4Header_Options_AndWellFormed()
    {
        var ip = new byte[28];
        Ipv4Header.Write(ip, 28, 1, 0, 64, IpProtocol.Udp, A, B);
        ip[0] = 0x46;
        ip[20] = Ipv4OptionType.RouterAlert; ip[21] = 4; ip[22] = 0; ip[23] = 0;
        Assert.True(Ipv4Header.TryReadWellFormed(ip, out var h));
        Assert.Equal(4, h.Options.Length);
        Assert.Equal(4, h.Payload.Length);
        Assert.False(Ipv4Header.TryReadWellFormed(ip.AsSpan(0, 23), out _));
        ip[0] = 0x44;
        Assert.False(Ipv4Header.TryReadWellFormed(ip, out _));
    }

    [Fact]
    public void Ipv4OptionReader_WalksAndStopsAtMalformed()
    {
        byte[] opts = [Ipv4OptionType.Noop, Ipv4OptionType.RouterAlert, 4, 0, 0, Ipv4OptionType.RecordRoute, 1];
        var r = new Ipv4OptionReader(opts);
        Assert.True(r.TryNext(out var t, out var o, out var l));
        Assert.Equal((Ipv4OptionType.Noop, 0, 1), (t, o, l));
        Assert.True(r.TryNext(out t, out o, out l));
        Assert.Equal((Ipv4OptionType.RouterAlert, 1, 4), (t, o, l));
        Assert.False(r.TryNext(out _, out _, out _));
        Assert.True(r.Malformed);

        var end = new Ipv4OptionReader([Ipv4OptionType.End, Ipv4OptionType.RouterAlert, 4, 0, 0]);
        Assert.False(end.TryNext(out _, out _, out _));
        Assert.False(end.Malformed);
    }

    [Fact]
    public void IcmpHeader_AndQuote_ReadTheQuotedTcpPortsAndSeq()
    {
        var offending = FlowDissectorTests.Tcp(1111, 2222).AsSpan(IpOff).ToArray();
        var err = IcmpPacket.DestUnreach(IcmpCode.FragNeeded, offending, nextHopMtu: 1400)!;
        Assert.True(IcmpHeader.TryRead(err, out var h));
        Assert.Equal(IcmpType.DestUnreach, h.Type);
        Assert.Equal(IcmpCode.FragNeeded, h.Code);
        Assert.Equal((ushort)1400, h.Sequence);
        Assert.True(IcmpQuote.TryRead(h.Data, out var q));
        Assert.Equal(Ipv4Header.MinLength, q.IpHeaderLength);
        Assert.Equal(B, q.Ip.Destination);
        Assert.Equal(IpProtocol.Tcp, q.Ip.Protocol);
        Assert.Equal((ushort)1111, q.SourcePort);
        Assert.Equal((ushort)2222, q.DestinationPort);
        Assert.Equal(new TcpSeq(0x01020304), q.TcpSeq);
        Assert.False(IcmpQuote.TryRead(h.Data[..(Ipv4Header.MinLength + TcpHeader.QuotedLength - 1)], out _));
    }

    [Fact]
    public void IcmpTimestamp_WriteReply_ReadsBackWithValidChecksum()
    {
        var m = new byte[IcmpTimestamp.Length + 3];
        IcmpTimestamp.WriteReply(m, 0x00070009, originate: 0x11223344, receive: 1000, transmit: 2000);
        Assert.True(IcmpHeader.TryRead(m.AsSpan(0, IcmpTimestamp.Length), out var h));
        Assert.Equal(IcmpPacket.TypeTimestampReply, h.Type);
        Assert.Equal((byte)0, h.Code);
        Assert.Equal((ushort)7, h.Id);
        Assert.Equal((ushort)9, h.Sequence);
        Assert.Equal(0, Checksum.Compute(m.AsSpan(0, IcmpTimestamp.Length)));
        Assert.Equal(0x11223344u, IcmpTimestamp.ReadOriginate(h.Data));
        Assert.True(IcmpTimestamp.TryRead(m, out var t));
        Assert.Equal(0x11223344u, t.Originate);
        Assert.Equal(1000u, t.Receive);
        Assert.Equal(2000u, t.Transmit);
        Assert.Equal(new byte[3], m[IcmpTimestamp.Length..]); // nothing written past the message
        Assert.False(IcmpTimestamp.TryRead(m.AsSpan(0, IcmpTimestamp.Length - 1), out _));
    }

    [Fact]
    public void EthernetHeader_SwapAddresses()
    {
        var f = FrameBuilder.Udp(new MacAddress(2), new MacAddress(1), A, B, 1, 2, []);
        EthernetHeader.SwapAddresses(f);
        Assert.True(EthernetHeader.TryRead(f, out var eth));
        Assert.Equal(new MacAddress(1), eth.Destination);
        Assert.Equal(new MacAddress(2), eth.Source);
        Assert.Equal(EtherType.Ipv4, eth.EtherType);
    }

    [Fact]
    public void ArpPacket_TryReadAddresses_LaxButTryReadStrict()
    {
        var f = ArpPacket.Request(new MacAddress(1), A, B).AsSpan(IpOff).ToArray();
        f[7] = 9; // opcode 9
        Assert.True(ArpPacket.TryReadAddresses(f, out var p, out _));
        Assert.Equal((ushort)9, p.Operation);
        Assert.False(ArpPacket.TryRead(f, out _, out var err));
        Assert.Equal(ArpParseError.BadOpcode, err);
        Assert.False(ArpPacket.TryReadAddresses(f.AsSpan(0, ArpPacket.Length - 1), out _, out err));
        Assert.Equal(ArpParseError.TooShort, err);
    }
}
