using System.Buffers.Binary;
using System.Collections.Immutable;
using ActorStack.Actors.Tcp;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

public class TcpSegmentTests
{
    private static readonly Ipv4Address Src = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Dst = Ipv4Address.Parse("10.0.0.2");

    private static TcpSegment Syn() => new()
    {
        SourcePort = 40000, DestinationPort = 80, Seq = new TcpSeq(0xFFFFFFF0), Flags = TcpFlags.Syn, Window = 64240,
        Options = new TcpOptions { Mss = 1460, SackPermitted = true, HasTimestamp = true, TsVal = 12345, TsEcr = 0, WindowScale = 7 },
    };

    [Fact]
    public void Syn_WrittenAsLinux_Has40ByteHeaderAndLinuxOptionLayout()
    {
        var b = Syn().ToArray(Src, Dst);
        Assert.Equal(40, b.Length);
        Assert.Equal(0xA0, b[12]); // data offset 10 words
        Assert.Equal(0x02, b[13]);
        // mss 1460 | sackOK | TS | NOP wscale 7, as tcpdump shows a Linux SYN.
        Assert.Equal(new byte[] { 2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0x30, 0x39, 0, 0, 0, 0, 1, 3, 3, 7 }, b[20..40]);
        uint sum = Checksum.PseudoHeader(Src.Value, Dst.Value, IpProtocol.Tcp, b.Length);
        Assert.Equal(0, Checksum.Fold(Checksum.Partial(b, sum)));
    }

    [Fact]
    public void Segment_RoundTrip_KeepsEveryField()
    {
        var seg = new TcpSegment
        {
            SourcePort = 1, DestinationPort = 2, Seq = new TcpSeq(100), Ack = new TcpSeq(200),
            Flags = TcpFlags.Ack | TcpFlags.Psh, Window = 501, Payload = new byte[] { 1, 2, 3, 4, 5 },
            Options = new TcpOptions
            {
                HasTimestamp = true, TsVal = 7, TsEcr = 9,
                Sack = ImmutableArray.Create(new SackBlock(new TcpSeq(300), new TcpSeq(400)), new SackBlock(new TcpSeq(500), new TcpSeq(600))),
            },
        };
        var b = seg.ToArray(Src, Dst);
        Assert.Equal(20 + 12 + 4 + 16 + 5, b.Length);
        Assert.Equal(TcpParseError.None, TcpSegment.TryParse(b, Src, Dst, out var p));
        Assert.NotNull(p);
        Assert.Equal(seg.SourcePort, p!.SourcePort);
        Assert.Equal(seg.DestinationPort, p.DestinationPort);
        Assert.Equal(seg.Seq, p.Seq);
        Assert.Equal(seg.Ack, p.Ack);
        Assert.Equal(seg.Flags, p.Flags);
        Assert.Equal(seg.Window, p.Window);
        Assert.True(p.Options.HasTimestamp);
        Assert.Equal(7u, p.Options.TsVal);
        Assert.Equal(9u, p.Options.TsEcr);
        Assert.Equal(seg.Options.Sack, p.Options.Sack.ToArray());
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, p.Payload.ToArray());
        Assert.Null(p.Options.Mss); // MSS absent
    }

    [Fact]
    public void Syn_RoundTrip_NegotiationOptions()
    {
        Assert.Equal(TcpParseError.None, TcpSegment.TryParse(Syn().ToArray(Src, Dst), Src, Dst, out var p));
        Assert.Equal((ushort)1460, p!.Options.Mss);
        Assert.Equal((byte)7, p.Options.WindowScale);
        Assert.True(p.Options.SackPermitted);
        Assert.Equal(12345u, p.Options.TsVal);
        Assert.Equal(1, p.SeqLength);
        Assert.Equal(new TcpSeq(0xFFFFFFF1), p.EndSeq);
    }

    [Fact]
    public void Parse_BadChecksum_ReturnsBadChecksum()
    {
        var b = Syn().ToArray(Src, Dst);
        b[25] ^= 0x01;
        Assert.Equal(TcpParseError.BadChecksum, TcpSegment.TryParse(b, Src, Dst, out var p));
        Assert.Null(p);
        // The same bytes are valid for the right pseudo header only.
        Assert.Equal(TcpParseError.BadChecksum, TcpSegment.TryParse(Syn().ToArray(Src, Dst), Src, Ipv4Address.Parse("10.0.0.3"), out _));
    }

    [Theory]
    [InlineData(4, TcpParseError.BadDataOffset)]
    [InlineData(0, TcpParseError.BadDataOffset)]
    [InlineData(11, TcpParseError.HeaderTruncated)]
    [InlineData(15, TcpParseError.HeaderTruncated)]
    public void Parse_BadDataOffset_Refused(int words, TcpParseError expected)
    {
        var b = Syn().ToArray(Src, Dst);
        b[12] = (byte)(words << 4);
        Assert.Equal(expected, TcpSegment.TryParse(b, Src, Dst, out _, verifyChecksum: false));
    }

    [Fact]
    public void CountParseError_AsTcpV4Rcv_CountsInErrsAndCsum()
    {
        var mib = new TcpCounters();
        Assert.Equal(ActorStack.Messages.DropReason.TCP_CSUM, mib.CountParseError(TcpParseError.BadChecksum));
        Assert.Equal(ActorStack.Messages.DropReason.PKT_TOO_SMALL, mib.CountParseError(TcpParseError.BadDataOffset));
        Assert.Equal(ActorStack.Messages.DropReason.PKT_TOO_SMALL, mib.CountParseError(TcpParseError.HeaderTruncated));
        Assert.Equal(1, mib[TcpMib.InCsumErrors]);
        Assert.Equal(2, mib[TcpMib.InErrs]);
        Assert.Equal(200, mib[TcpMib.RtoMin]);
    }

    [Fact]
    public void Parse_TooShort_ReturnsTooShort()
        => Assert.Equal(TcpParseError.TooShort, TcpSegment.TryParse(new byte[19], Src, Dst, out _));

    [Fact]
    public void Parse_OptionLengthPastHeader_ReturnsBadOptions()
    {
        var b = Syn().ToArray(Src, Dst);
        b[21] = 30; // MSS option claims 30 bytes
        Assert.Equal(TcpParseError.BadOptions, TcpSegment.TryParse(b, Src, Dst, out _, verifyChecksum: false));
        b[21] = 1; // length below 2
        Assert.Equal(TcpParseError.BadOptions, TcpSegment.TryParse(b, Src, Dst, out _, verifyChecksum: false));
    }

    [Fact]
    public void Options_EolAndUnknownOptions_SkippedAsLinux()
    {
        // NOP, unknown kind 30 len 4, MSS (valid on SYN), EOL, then garbage that must be ignored.
        var opt = new byte[] { 1, 30, 4, 0xAA, 0xBB, 2, 4, 0x02, 0x18, 0, 99, 99 };
        Assert.True(TcpOptions.TryParse(opt, syn: true, out var o));
        Assert.Equal((ushort)536, o.Mss);
        Assert.False(o.HasTimestamp);
        // On a non-SYN segment MSS is ignored (tcp_parse_options only takes it with SYN).
        Assert.True(TcpOptions.TryParse(opt, syn: false, out var o2));
        Assert.Null(o2.Mss);
    }

    [Fact]
    public void Options_WindowScaleAbove14_ClampedTo14()
    {
        Assert.True(TcpOptions.TryParse(new byte[] { 3, 3, 20, 0 }, syn: true, out var o));
        Assert.Equal((byte)14, o.WindowScale);
    }

    [Fact]
    public void Options_NoTimestamp_SackPermittedPaddedWithNops()
    {
        var seg = new TcpSegment { Flags = TcpFlags.Syn, Options = new TcpOptions { Mss = 1460, SackPermitted = true } };
        var b = seg.ToArray(Src, Dst);
        Assert.Equal(28, b.Length);
        Assert.Equal(new byte[] { 2, 4, 0x05, 0xB4, 1, 1, 4, 2 }, b[20..28]);
    }

    [Fact]
    public void Seq_Comparison_WrapsAround()
    {
        var a = new TcpSeq(0xFFFFFF00);
        var b = a + 0x200;
        Assert.Equal(0x100u, b.Value);
        Assert.True(a < b);
        Assert.True(b > a);
        Assert.Equal(0x200, b - a);
        Assert.True(new TcpSeq(0xFFFFFFFF).Between(a, b));
        Assert.False(new TcpSeq(0x201).Between(a, b));
    }
}
