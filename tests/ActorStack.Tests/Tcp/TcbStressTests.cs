using ActorStack.Actors.Tcp;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Tcp.TcpPair;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

public class TcbStressTests
{
    [Theory]
    [InlineData(0.01, true, CongestionAlgorithm.Cubic, 1)]
    [InlineData(0.05, true, CongestionAlgorithm.Cubic, 2)]
    [InlineData(0.10, true, CongestionAlgorithm.Cubic, 3)]
    [InlineData(0.05, false, CongestionAlgorithm.Reno, 4)]
    [InlineData(0.10, false, CongestionAlgorithm.Reno, 5)]
    public void Transfer_LossReorderDuplication_ByteForByte(double loss, bool sack, CongestionAlgorithm cc, int seed)
    {
        var s = new TcpSettings { Sack = sack };
        var p = new TcpPair(s, s, sndBuf: 262144, cc: cc);
        p.ToSendA = RandomBytes(400_000, seed);
        p.ToSendB = RandomBytes(100_000, seed + 100);
        var rng = new Random(seed);
        p.Drop = (_, _, _) => rng.NextDouble() < loss;
        p.Duplicate = (_, _, _) => rng.NextDouble() < 0.01;
        p.Jitter = (_, _, _) => rng.Next(10) == 0 ? Ms(2) : 0;
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(600));

        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(p.ToSendB, p.ReadA.ToArray());
        Assert.Equal(TcpState.Established, p.A.State);
        Assert.True(p.MibA[TcpMib.RetransSegs] > 0);
        Assert.Equal(p.MibA[TcpMib.RetransSegs], p.A.SegmentsRetransmitted);
    }

    [Fact]
    public void Transfer_ThenCloseUnderLoss_BothEndClosed()
    {
        var p = new TcpPair(sndBuf: 131072);
        p.ToSendA = RandomBytes(100_000, 77);
        var rng = new Random(77);
        p.Drop = (_, _, _) => rng.NextDouble() < 0.05;
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(30));
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        p.A.Close(p.Now);
        p.RunFor(TimeSpan.FromSeconds(5));
        p.B.Close(p.Now);
        p.RunFor(TimeSpan.FromSeconds(200));
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(TcpState.Closed, p.B.State);
        Assert.Equal(0, p.MibA[TcpMib.CurrEstab]);
        Assert.Equal(0, p.MibB[TcpMib.CurrEstab]);
    }

    [Fact]
    public void HostileSegments_RandomFieldsNeverThrowAndNeverDeliver()
    {
        var p = new TcpPair();
        p.Establish();
        var rng = new Random(1234);
        var flagsChoices = new[]
        {
            TcpFlags.Syn | TcpFlags.Fin, TcpFlags.None, TcpFlags.Rst, TcpFlags.Ack, TcpFlags.Syn, TcpFlags.Ack | TcpFlags.Psh,
            TcpFlags.Fin, TcpFlags.Syn | TcpFlags.Ack, TcpFlags.Rst | TcpFlags.Ack,
        };
        for (int i = 0; i < 2000; i++)
        {
            // Blind injection: sequence and ACK numbers far from the connection's (RFC 5961 attacker).
            var seq = p.B.RcvNxt + rng.Next(200_000, int.MaxValue);
            var ack = p.B.SndNxt + rng.Next(1_000_000, int.MaxValue);
            p.Inject(toB: true, new TcpSegment
            {
                SourcePort = PortA, DestinationPort = PortB, Seq = seq, Ack = ack,
                Flags = flagsChoices[rng.Next(flagsChoices.Length)], Window = (ushort)rng.Next(65536), Payload = new byte[rng.Next(100)],
            });
            p.Now += Ms(1);
        }
        Assert.Equal(TcpState.Established, p.B.State);
        Assert.Equal(0, p.B.ReadableBytes);
        Assert.Equal(0, p.B.OfoSegments);
        // Duplicate ACKs for them are rate limited (tcp_invalid_ratelimit 500 ms).
        Assert.True(p.SentBy(false).Count() < 10, $"{p.SentBy(false).Count()} answers");
        // The connection still works.
        p.ToSendA = RandomBytes(10_000, 1);
        p.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
    }

    [Fact]
    public void MalformedBytes_ParserNeverThrows()
    {
        var rng = new Random(5);
        var src = Ipv4Address.Parse("1.2.3.4");
        var dst = Ipv4Address.Parse("5.6.7.8");
        int ok = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var b = new byte[rng.Next(0, 80)];
            rng.NextBytes(b);
            if (TcpSegment.TryParse(b, src, dst, out _, verifyChecksum: false) == TcpParseError.None) ok++;
        }
        Assert.True(ok > 0);
    }
}

public class TcbReceiveTests
{
    [Fact]
    public void Receive_PeekThenRead_SameBytesAndEagainWhenEmpty()
    {
        var p = new TcpPair { AutoReadB = false };
        p.Establish();
        var buf = new byte[100];
        Assert.Equal(0, p.B.Receive(buf, p.Now, peek: false, out var err));
        Assert.Equal(ActorStack.Messages.Errno.EAGAIN, err);
        p.ToSendA = RandomBytes(50, 3);
        p.RunFor(TimeSpan.FromMilliseconds(50));
        Assert.Equal(50, p.B.Receive(buf, p.Now, peek: true, out _));
        Assert.Equal(p.ToSendA, buf[..50]);
        Assert.Equal(50, p.B.ReadableBytes);
        Assert.Equal(20, p.B.Receive(buf.AsSpan(0, 20), p.Now, peek: false, out _));
        Assert.Equal(30, p.B.Receive(buf, p.Now, peek: false, out _));
        Assert.Equal(p.ToSendA[20..], buf[..30]);
        Assert.Equal(0, p.B.ReadableBytes);
    }
}
