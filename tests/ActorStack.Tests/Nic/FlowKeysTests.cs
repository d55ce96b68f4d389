using System.Buffers.Binary;
using ActorStack.Hardware.Nic;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Nic;

public class FlowKeysTests
{
    internal static readonly MacAddress Mac1 = new(0x02_00_00_00_00_01);
    internal static readonly MacAddress Mac2 = new(0x02_00_00_00_00_02);
    internal static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1");
    internal static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    internal static byte[] Udp(ushort sport = 1000, ushort dport = 2000, int payload = 18)
        => FrameBuilder.Udp(Mac2, Mac1, A, B, sport, dport, new byte[payload]);

    private const int IpOff = EthernetHeader.Length;

    [Fact]
    public void FlowKeys_UdpFrame_ExtractsFiveTuple()
    {
        Assert.True(FlowKeys.TryExtract(Udp(1234, 53), out var k));
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Udp, 1234, 53), k);
    }

    [Fact]
    public void FlowKeys_TcpProtocol_ReadsPorts()
    {
        var f = Udp(40000, 80);
        f[IpOff + 9] = IpProtocol.Tcp;
        Assert.True(FlowKeys.TryExtract(f, out var k));
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Tcp, 40000, 80), k);
    }

    [Fact]
    public void FlowKeys_OtherProtocol_NoPorts()
    {
        var f = Udp(1, 2);
        f[IpOff + 9] = IpProtocol.Icmp;
        Assert.True(FlowKeys.TryExtract(f, out var k, out var hasPorts));
        Assert.False(hasPorts);
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Icmp, 0, 0), k);
    }

    [Theory]
    [InlineData(Ipv4Header.FlagMf)]              // first fragment
    [InlineData(0x0010)]                         // later fragment, MF=0
    [InlineData(Ipv4Header.FlagMf | 0x0001)]     // middle fragment
    public void FlowKeys_Fragment_NoPorts(int flagsAndOffset)
    {
        var f = Udp(1111, 2222);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(IpOff + 6), (ushort)flagsAndOffset);
        Assert.True(FlowKeys.TryExtract(f, out var k, out var hasPorts));
        Assert.False(hasPorts);
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Udp, 0, 0), k);
    }

    [Fact]
    public void FlowKeys_DontFragmentOnly_KeepsPorts()
    {
        var f = Udp(1111, 2222);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(IpOff + 6), Ipv4Header.FlagDf);
        Assert.True(FlowKeys.TryExtract(f, out var k));
        Assert.Equal((ushort)1111, k.SrcPort);
        Assert.Equal((ushort)2222, k.DstPort);
    }

    [Fact]
    public void FlowKeys_IpOptions_PortsReadAfterIhl()
    {
        // IHL 6: insert 4 bytes of options (NOPs) between the IP header and UDP
        var f = Udp(5555, 6666);
        var g = new byte[f.Length + 4];
        f.AsSpan(0, IpOff + 20).CopyTo(g);
        g.AsSpan(IpOff + 20, 4).Fill(1);
        f.AsSpan(IpOff + 20).CopyTo(g.AsSpan(IpOff + 24));
        g[IpOff] = 0x46;
        Assert.True(FlowKeys.TryExtract(g, out var k));
        Assert.Equal(new FlowKeys(A, B, IpProtocol.Udp, 5555, 6666), k);
    }

    [Fact]
    public void FlowKeys_EveryTruncation_NeverThrowsAndPortsOnlyWhenPresent()
    {
        var f = FrameBuilder.Udp(Mac2, Mac1, A, B, 7, 9, new byte[10], padTo60: false);
        for (int len = 0; len <= f.Length; len++)
        {
            bool ok = FlowKeys.TryExtract(f.AsSpan(0, len), out var k, out var hasPorts);
            Assert.Equal(len >= IpOff + 20, ok);
            Assert.Equal(len >= IpOff + 24, hasPorts);
            if (hasPorts) Assert.Equal(new FlowKeys(A, B, IpProtocol.Udp, 7, 9), k);
            else if (ok) Assert.Equal(new FlowKeys(A, B, IpProtocol.Udp, 0, 0), k);
            else Assert.Equal(default, k);
        }
    }

    [Theory]
    [InlineData(0x65)] // version 6
    [InlineData(0x44)] // IHL 4
    [InlineData(0x40)] // IHL 0
    [InlineData(0x4F)] // IHL 15: a 60-byte header runs past the 46 bytes after Ethernet
    public void FlowKeys_BadVersionOrIhl_ReturnsFalse(byte versionIhl)
    {
        var f = Udp(payload: 0);
        Assert.Equal(60, f.Length);
        f[IpOff] = versionIhl;
        Assert.False(FlowKeys.TryExtract(f, out var k));
        Assert.Equal(default, k);
    }

    [Theory]
    [InlineData(EtherType.Arp)]
    [InlineData(EtherType.Ipv6)]
    [InlineData(EtherType.Vlan)]
    [InlineData((ushort)0x1234)]
    public void FlowKeys_NonIpv4EtherType_ReturnsFalse(ushort etherType)
    {
        var f = Udp();
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), etherType);
        Assert.False(FlowKeys.TryExtract(f, out _));
    }

    [Fact]
    public void FlowKeys_RandomGarbage_NeverThrows()
    {
        var rnd = new Random(20240601);
        int accepted = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var f = new byte[rnd.Next(0, 80)];
            rnd.NextBytes(f);
            if (f.Length >= 15 && rnd.Next(2) == 0)
            {
                // steer half of them into the IPv4 path so the deeper checks are exercised
                f[12] = 0x08; f[13] = 0x00;
                f[14] = (byte)(0x40 | rnd.Next(16));
                if (f.Length > 23 && rnd.Next(2) == 0) f[23] = rnd.Next(2) == 0 ? IpProtocol.Udp : IpProtocol.Tcp;
            }
            if (FlowKeys.TryExtract(f, out var k, out var hasPorts))
            {
                accepted++;
                int ihl = (f[14] & 15) * 4;
                Assert.True(f.Length >= 34 && ihl >= 20 && f.Length >= 14 + ihl);
                Assert.Equal(Ipv4Address.Read(f.AsSpan(26)), k.Src);
                if (hasPorts) Assert.True(f.Length >= 14 + ihl + 4);
            }
        }
        Assert.InRange(accepted, 1000, 20_000);
    }
}
