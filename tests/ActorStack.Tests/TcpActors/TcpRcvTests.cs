using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;
using ActorStack.Config;

namespace ActorStack.Tests.TcpActors;

/// <summary><c>tcp_v4_rcv</c> on one host: validation counters and the RST for a segment nobody wants.</summary>
public class TcpRcvTests() : NetOnEngineKit("tcp-rcv")
{
    private static byte[] Frame(TcpSegment seg, Action<byte[]>? corrupt = null)
        => TcpStress.TcpStressKit.TcpFrame(seg, HostMac, PeerMac, PeerIp, HostIp, corrupt);

    private static TcpSegment Syn(ushort dport) => new()
    {
        SourcePort = 40000, DestinationPort = dport, Seq = new TcpSeq(1000), Flags = TcpFlags.Syn, Window = 65535,
        Options = new TcpOptions { Mss = 1460 },
    };

    [Fact]
    public async Task Rcv_BadChecksum_CountedInCsumErrorsAndInErrs_NoReset()
    {
        var (host, nic) = await StartHost();
        Inject(nic, Frame(Syn(80), f => f[EthernetHeader.Length + Ipv4Header.MinLength + 16] ^= 0xFF));
        await Eventually(host, s =>
        {
            Assert.Equal(1, s.Mib("Tcp")["InCsumErrors"]);
            Assert.Equal(1, s.Mib("Tcp")["InErrs"]);
            Assert.Equal(1, s.Mib("Tcp")["InSegs"]); // tcp_v4_rcv counts it before the checksum check ("even if it's bad")
            Assert.Equal(0, s.Mib("Tcp")["OutRsts"]);
            Assert.Equal(1, s.DropsOf(DropReason.TCP_CSUM));
        });
    }

    [Fact]
    public async Task Rcv_DataOffsetBelowFive_CountedInErrs()
    {
        var (host, nic) = await StartHost();
        Inject(nic, Frame(Syn(80) with { Options = default }, f => f[EthernetHeader.Length + Ipv4Header.MinLength + 12] = 4 << 4));
        await Eventually(host, s =>
        {
            Assert.Equal(1, s.Mib("Tcp")["InErrs"]);
            Assert.Equal(0, s.Mib("Tcp")["InCsumErrors"]);
            Assert.Equal(1, s.DropsOf(DropReason.PKT_TOO_SMALL));
        });
    }

    [Fact]
    public async Task Rcv_SynToClosedPort_AnsweredByRst_NoSocketDrop()
    {
        var (host, nic) = await StartHost();
        Inject(nic, Frame(Syn(80)));
        await Eventually(host, s =>
        {
            Assert.Equal(1, s.Mib("Tcp")["InSegs"]);
            Assert.Equal(1, s.Mib("Tcp")["OutRsts"]);
            Assert.Equal(1, s.Mib("Tcp")["OutSegs"]);
            Assert.Equal(1, s.DropsOf(DropReason.NO_SOCKET));
        });
    }
}
