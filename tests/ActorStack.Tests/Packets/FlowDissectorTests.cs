using System.Buffers.Binary;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Packets;

/// <summary>The flow dissector (<see cref="FlowKeys.Dissect"/>) on byte fixtures.</summary>
public class FlowDissectorTests
{
    private static readonly MacAddress Mac1 = new(0x02_00_00_00_00_01);
    private static readonly MacAddress Mac2 = new(0x02_00_00_00_00_02);
    private static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");
    private const int IpOff = EthernetHeader.Length;
    private const int L4Off = IpOff + Ipv4Header.MinLength;

    private static byte[] Udp(ushort sport = 1000, ushort dport = 2000, int payload = 18)
        => FrameBuilder.Udp(Mac2, Mac1, A, B, sport, dport, new byte[payload], ttl: 33, padTo60: false);

    /// <summary>An Ethernet/IPv4/TCP frame: seq 0x01020304, flags SYN|ACK|ECE, 4 option bytes (MSS), 5 payload bytes.</summary>
    internal static byte[] Tcp(ushort sport = 40000, ushort dport = 80)
    {
        var seg = new TcpSegment
        {
            SourcePort = sport, DestinationPort = dport, Seq = new TcpSeq(0x01020304), Ack = new TcpSeq(7),
            Flags = TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Ece, Window = 1000, Options = new TcpOptions { Mss = 1460 },
            Payload = new byte[5],
        };
        var f = new byte[L4Off + seg.Length];
        EthernetHeader.Write(f, Mac2, Mac1, EtherType.Ipv4);
        seg.WriteTo(f.AsSpan(L4Off), A, B);
        Ipv4Header.Write(f.AsSpan(IpOff), Ipv4Header.MinLength + seg.Length, 1, Ipv4Header.FlagDf, 64, IpProtocol.Tcp, A, B, tos: 0x10);
        return f;
    }

    private static byte[] Icmp(byte type = IcmpType.Echo, byte code = 0)
    {
        var m = IcmpPacket.EchoRequest(1, 2, new byte[4]);
        m[0] = type; m[1] = code;
        var f = new byte[L4Off + m.Length];
        EthernetHeader.Write(f, Mac2, Mac1, EtherType.Ipv4);
        m.CopyTo(f, L4Off);
        Ipv4Header.Write(f.AsSpan(IpOff), Ipv4Header.MinLength + m.Length, 1, 0, 64, IpProtocol.Icmp, A, B);
        return f;
    }

    private static void SetFragment(byte[] f, ushort flagsAndOffset)
    {
        var w = new Ipv4HeaderWriter(f.AsSpan(IpOff));
        w.FlagsAndOffset = flagsAndOffset;
        w.FillChecksum();
    }

    [Fact]
    public void Dissect_Udp_AddressesPortsTtlAndLength()
    {
        var k = FlowKeys.Dissect(Udp(1234, 53));
        Assert.Equal(FlowKeyControl.Ethernet | FlowKeyControl.Ipv4 | FlowKeyControl.Ports, k.Control);
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Udp, 1234, 53), k.HashKeys);
        Assert.Equal(EtherType.Ipv4, k.EtherType);
        Assert.Equal((byte)33, k.Ttl);
        Assert.Equal(UdpHeader.Length + 18, k.L4Length);
        Assert.Equal(TcpFlags.None, k.TcpFlags);
    }

    [Fact]
    public void Dissect_Tcp_FlagsSeqAndTos()
    {
        var k = FlowKeys.Dissect(Tcp());
        Assert.Equal(FlowKeyControl.Ethernet | FlowKeyControl.Ipv4 | FlowKeyControl.Ports | FlowKeyControl.TcpHeader, k.Control);
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Tcp, 40000, 80), k.HashKeys);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Ece, k.TcpFlags);
        Assert.Equal(0x01020304u, k.TcpSeq);
        Assert.Equal((byte)0x10, k.Tos);
    }

    [Fact]
    public void Dissect_TcpShorterThanItsHeader_PortsButNoFlags()
    {
        var f = Tcp().AsSpan(0, L4Off + TcpHeader.MinLength - 1);
        var k = FlowKeys.Dissect(f);
        Assert.True(k.HasPorts);
        Assert.False(k.HasTcpHeader);
        Assert.Equal(TcpFlags.None, k.TcpFlags);
        Assert.Equal(0u, k.TcpSeq);
        Assert.Equal(TcpHeader.MinLength - 1, k.L4Length);
    }

    [Fact]
    public void Dissect_Icmp_TypeAndCodeNoPorts()
    {
        var k = FlowKeys.Dissect(Icmp(IcmpType.DestUnreach, IcmpCode.FragNeeded));
        Assert.Equal(FlowKeyControl.Ethernet | FlowKeyControl.Ipv4 | FlowKeyControl.Icmp, k.Control);
        Assert.Equal(IcmpType.DestUnreach, k.IcmpType);
        Assert.Equal(IcmpCode.FragNeeded, k.IcmpCode);
        Assert.Equal((ushort)0, k.SrcPort);
    }

    [Fact]
    public void Dissect_IcmpOfOneByte_TypeOnly()
    {
        var k = FlowKeys.Dissect(Icmp(IcmpType.Echo, 9).AsSpan(0, L4Off + 1));
        Assert.True(k.HasIcmp);
        Assert.Equal(IcmpType.Echo, k.IcmpType);
        Assert.Equal((byte)0, k.IcmpCode);
    }

    [Fact]
    public void Dissect_Arp_SenderTargetAndOpcode()
    {
        var f = ArpPacket.Request(Mac1, A, B);
        var k = FlowKeys.Dissect(f);
        Assert.Equal(FlowKeyControl.Ethernet | FlowKeyControl.Arp, k.Control);
        Assert.Equal(EtherType.Arp, k.EtherType);
        Assert.Equal(A, k.Src);
        Assert.Equal(B, k.Dst);
        Assert.Equal(ArpPacket.OpRequest, k.ArpOp);
    }

    [Fact]
    public void Dissect_ArpWithOddOpcode_StillReadLikeAnyArp()
    {
        var f = ArpPacket.Request(Mac1, A, B);
        f[IpOff + 7] = 9; // opcode 9: arp_process would drop it, a matcher still sees an ARP packet
        var k = FlowKeys.Dissect(f);
        Assert.True(k.IsArp);
        Assert.Equal((ushort)9, k.ArpOp);
    }

    [Fact]
    public void Dissect_ArpWithWrongAddressLength_EthernetOnly()
    {
        var f = ArpPacket.Request(Mac1, A, B);
        f[IpOff + 4] = 8;
        var k = FlowKeys.Dissect(f);
        Assert.Equal(FlowKeyControl.Ethernet, k.Control);
        Assert.Equal(EtherType.Arp, k.EtherType);
        Assert.Equal(Ipv4Address.Any, k.Src);
    }

    [Theory]
    [InlineData(EtherType.Ipv6)]
    [InlineData(EtherType.Vlan)]
    [InlineData((ushort)0x1234)]
    public void Dissect_NonIp_EtherTypeKeptNothingElse(ushort etherType)
    {
        var f = Udp();
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), etherType);
        var k = FlowKeys.Dissect(f);
        Assert.Equal(new FlowKeys { EtherType = etherType, Control = FlowKeyControl.Ethernet }, k);
    }

    [Fact]
    public void Dissect_EveryTruncation_NeverThrowsAndReadsOnlyWhatIsPresent()
    {
        var f = Tcp();
        for (int len = 0; len <= f.Length; len++)
        {
            var k = FlowKeys.Dissect(f.AsSpan(0, len));
            Assert.Equal(len >= EthernetHeader.Length, k.HasEthernet);
            Assert.Equal(len >= L4Off, k.IsIpv4);
            Assert.Equal(len >= L4Off + UdpHeader.PortsLength, k.HasPorts);
            Assert.Equal(len >= L4Off + TcpHeader.MinLength, k.HasTcpHeader);
            Assert.Equal(Math.Max(0, len - L4Off), k.L4Length);
        }
    }

    [Fact]
    public void Dissect_IpOptions_TransportReadAfterIhl()
    {
        var f = Tcp(5555, 6666);
        var g = new byte[f.Length + 8];
        f.AsSpan(0, L4Off).CopyTo(g);
        g.AsSpan(L4Off, 8).Fill(Ipv4OptionType.Noop);
        f.AsSpan(L4Off).CopyTo(g.AsSpan(L4Off + 8));
        g[IpOff] = 0x47; // IHL 7
        var k = FlowKeys.Dissect(g);
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Tcp, 5555, 6666), k.HashKeys);
        Assert.Equal(0x01020304u, k.TcpSeq);
        Assert.Equal(f.Length - L4Off, k.L4Length);
    }

    [Theory]
    [InlineData(0x65)] // version 6
    [InlineData(0x44)] // IHL 4
    [InlineData(0x4F)] // IHL 15 runs past the frame
    public void Dissect_BadVersionOrIhl_EthernetOnly(byte versionIhl)
    {
        var f = Udp(payload: 0);
        f[IpOff] = versionIhl;
        var k = FlowKeys.Dissect(f);
        Assert.Equal(new FlowKeys { EtherType = EtherType.Ipv4, Control = FlowKeyControl.Ethernet }, k);
    }

    [Fact]
    public void Dissect_FirstFragment_PortsOnlyWithParse1stFrag()
    {
        var f = Tcp();
        SetFragment(f, Ipv4Header.FlagMf);
        var hash = FlowKeys.Dissect(f);
        Assert.Equal(FlowKeyControl.Ethernet | FlowKeyControl.Ipv4 | FlowKeyControl.IsFragment | FlowKeyControl.FirstFragment, hash.Control);
        Assert.Equal((ushort)0, hash.SrcPort);
        Assert.True(hash.IsFirstFragmentOrWhole);

        var filter = FlowKeys.Dissect(f, FlowDissectorFlags.Parse1stFrag);
        Assert.Equal(FlowKeyControl.Ethernet | FlowKeyControl.Ipv4 | FlowKeyControl.IsFragment | FlowKeyControl.FirstFragment
            | FlowKeyControl.Ports | FlowKeyControl.TcpHeader, filter.Control);
        Assert.Equal((ushort)40000, filter.SrcPort);
        Assert.Equal((ushort)80, filter.DstPort);
    }

    [Theory]
    [InlineData(0x0010)]                     // last fragment at 128 bytes
    [InlineData(Ipv4Header.FlagMf | 0x0001)] // middle fragment at 8 bytes
    public void Dissect_LaterFragment_NeverTransport(int flagsAndOffset)
    {
        var f = Tcp();
        SetFragment(f, (ushort)flagsAndOffset);
        var k = FlowKeys.Dissect(f, FlowDissectorFlags.Parse1stFrag);
        Assert.Equal(FlowKeyControl.Ethernet | FlowKeyControl.Ipv4 | FlowKeyControl.IsFragment, k.Control);
        Assert.False(k.IsFirstFragmentOrWhole);
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Tcp, 0, 0), k.HashKeys);
    }

    [Fact]
    public void DissectIpv4_FromNetworkHeader_SameKeysWithoutEthernetFlag()
    {
        var f = Udp(7, 9);
        var k = FlowKeys.DissectIpv4(f.AsSpan(IpOff));
        Assert.Equal(FlowKeyControl.Ipv4 | FlowKeyControl.Ports, k.Control);
        Assert.Equal(EtherType.Ipv4, k.EtherType);
        Assert.Equal(FlowKeys.Dissect(f) with { Control = k.Control }, k);
    }

    [Fact]
    public void TryExtract_FillsOnlyHashKeys()
    {
        Assert.True(FlowKeys.TryExtract(Tcp(), out var k, out bool ports));
        Assert.True(ports);
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Tcp, 40000, 80), k);
    }
}
