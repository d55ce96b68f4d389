using ActorStack.Config;
using System.Buffers.Binary;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>
/// Every malformed frame the receive path must survive, fed to one host in one burst, with the exact
/// counter and drop reason each one charges (ip_rcv_core, __udp4_lib_rcv, eth_type_trans, the NIC);
/// then the host still delivers good datagrams.
/// </summary>
public class BadInputTests() : NetOnEngineKit("bad-input")
{
    [Fact]
    public async Task ReceivePath_EveryMalformedFrame_CountedOnceAndHostKeepsWorking()
    {
        // No ICMP errors (icmp_msgs_per_sec 0): the closed port and the unknown protocol would otherwise make the
        // host send errors (and ARP for them) on its unwired NIC, whose drops are not the receive path's.
        var quiet = new SysctlSettings { Icmp = new IcmpRateLimitSettings { IcmpMsgsPerSec = 0, IcmpMsgsBurst = 0 } };
        var (host, nic) = await StartHost(sysctl: quiet);
        var sock = await BoundSocket(host, "0.0.0.0", 7000);

        var truncated = new byte[10];                                          // < ETH_HLEN: rx_length_errors
        var shortIp = Udp(7000)[..24];                                         // 10 bytes of IPv4: InHdrErrors
        var badVersion = Udp(7000); badVersion[14] = 0x65; FixIpChecksum(badVersion);
        var ihl4 = Udp(7000); ihl4[14] = 0x44; FixIpChecksum(ihl4);
        var badIpCsum = Udp(7000); badIpCsum[24] ^= 0x5A;
        var tooLong = Udp(7000); BinaryPrimitives.WriteUInt16BigEndian(tooLong.AsSpan(16), 1000); FixIpChecksum(tooLong);
        var underIhl = Udp(7000); BinaryPrimitives.WriteUInt16BigEndian(underIhl.AsSpan(16), 19); FixIpChecksum(underIhl);
        var unknownEther = Udp(7000); BinaryPrimitives.WriteUInt16BigEndian(unknownEther.AsSpan(12), 0x88B5);
        var unknownProto = Udp(7000); unknownProto[23] = 253; FixIpChecksum(unknownProto);
        var udpLenLong = Udp(7000); BinaryPrimitives.WriteUInt16BigEndian(udpLenLong.AsSpan(38), 200);
        var udpLenShort = Udp(7000); BinaryPrimitives.WriteUInt16BigEndian(udpLenShort.AsSpan(38), 4);
        var badUdpCsum = Udp(7000); badUdpCsum[40] ^= 0x01;
        var zeroUdpCsum = Udp(7000, [9, 9]); zeroUdpCsum[40] = 0; zeroUdpCsum[41] = 0;
        var closedPort = Udp(7001);
        var notOurs = Udp(7000, dst: Ipv4Address.Parse("10.0.0.77"));
        var otherMac = Udp(7000, dstMac: MacAddress.Parse("02:00:00:00:00:99"));
        var padded = Udp(7000, [42]);
        Assert.Equal(60, padded.Length);
        var good = Udp(7000, "good"u8.ToArray());

        Inject(nic, truncated, shortIp, badVersion, ihl4, badIpCsum, tooLong, underIhl, unknownEther, unknownProto,
            udpLenLong, udpLenShort, badUdpCsum, zeroUdpCsum, closedPort, notOurs, otherMac, padded, good);

        var read = await ReadAll(sock, 3);
        Assert.Equal([new byte[] { 9, 9 }, [42], "good"u8.ToArray()], read.Select(d => d.Payload.ToArray()).ToArray());
        Assert.All(read, d => Assert.Equal((PeerIp, (ushort)5000), (d.Source, d.SourcePort)));

        await Settled(host, s =>
        {
            var ip = s.Mib("Ip");
            Assert.Equal(15, ip["InReceives"]);      // not the truncated, non-IPv4 or other-host frames
            Assert.Equal(5, ip["InHdrErrors"]);      // short, version, IHL, checksum, length < IHL*4
            Assert.Equal(1, ip["InAddrErrors"]);
            Assert.Equal(1, ip["InUnknownProtos"]);
            Assert.Equal(7, ip["InDelivers"]);       // the UDP datagrams that passed IP
            var ipExt = s.Mib("IpExt");
            Assert.Equal(1, ipExt["InCsumErrors"]);
            Assert.Equal(1, ipExt["InTruncatedPkts"]);
            var udp = s.Mib("Udp");
            Assert.Equal(3, udp["InErrors"]);        // two bad lengths, one bad checksum
            Assert.Equal(1, udp["InCsumErrors"]);
            Assert.Equal(1, udp["NoPorts"]);
            Assert.Equal(3, udp["InDatagrams"]);
            Assert.Equal(0, udp["RcvbufErrors"]);
            var dev = s.Device("eth0").Counters;
            Assert.Equal(16, dev.RxPackets); // the frame for another MAC never passed the NIC's address filter
            Assert.Equal(1, dev.RxLengthErrors);
            Assert.Equal(1, dev.RxErrors);
            Assert.Equal(1, dev.RxDropped);

            Assert.Equal(1, s.DropsOf(DropReason.SIM_NIC_LENGTH));
            Assert.Equal(4, s.DropsOf(DropReason.IP_INHDR));
            Assert.Equal(1, s.DropsOf(DropReason.IP_CSUM));
            Assert.Equal(3, s.DropsOf(DropReason.PKT_TOO_SMALL)); // IP total length > buffer, two UDP lengths
            Assert.Equal(1, s.DropsOf(DropReason.UNHANDLED_PROTO));
            Assert.Equal(1, s.DropsOf(DropReason.IP_NOPROTO));
            Assert.Equal(1, s.DropsOf(DropReason.UDP_CSUM));
            Assert.Equal(1, s.DropsOf(DropReason.NO_SOCKET));
            Assert.Equal(1, s.DropsOf(DropReason.IP_INADDRERRORS));
            Assert.Equal(1, s.DropsOf(DropReason.OTHERHOST));
            Assert.Equal(1, s.Drops.Where(d => d.Site == new DropSite(DropReason.OTHERHOST, "eth0/rx_filter")).Sum(d => d.Packets));
            Assert.Equal(15, s.TotalDrops);
        });

        // Still working afterwards: a second good datagram is read.
        Inject(nic, Udp(7000, "again"u8.ToArray()));
        var again = await ReadAll(sock, 1);
        Assert.Equal("again"u8.ToArray(), again[0].Payload.ToArray());
        Assert.Equal(RecvQueueEmpty, await RecvNonBlocking(sock));
    }

    private const Errno RecvQueueEmpty = Errno.EAGAIN;
}
