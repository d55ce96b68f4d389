using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Nic;

/// <summary>
/// The NIC's receive address filter on virtual time: what a switch floods for an unknown unicast destination reaches
/// every port, and a NIC that is not promiscuous (igb's RAR filter, virtio-net's receive_filter) discards the frames
/// for another MAC before DMA: no rx_packets, nothing for IP; its own, broadcast and multicast frames pass.
/// </summary>
public class MacFilterTests() : EngineKit("nic-mac-filter")
{
    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    private static byte[] Frame(MacAddress dst)
    {
        var f = new byte[EthernetHeader.Length + Ipv4Header.MinLength + 8];
        EthernetHeader.Write(f, dst, Mac(9), EtherType.Ipv4);
        Ipv4Header.Write(f.AsSpan(EthernetHeader.Length), Ipv4Header.MinLength + 8, 1, 0, 64, IpProtocol.Udp,
            Ipv4Address.Parse("10.0.0.9"), Ipv4Address.Parse("10.0.0.2"));
        return f;
    }

    [Fact]
    public async Task FloodedUnicastForAnotherMac_DiscardedByTheNic_OwnBroadcastMulticastPass()
    {
        var (host, nic, asker) = await OneNicHost(); // eth0 is Mac(2)
        nic.Tell(new WireFrames([Frame(Mac(3)), Frame(Mac(3)), Frame(Mac(2)), Frame(MacAddress.Broadcast), Frame(new MacAddress(0x01_00_5e_00_00_01UL))]), Akka.Actor.ActorRefs.NoSender);
        Engine.RunUntilIdle();
        var st = await AskNow<HostStats>(asker, host, GetStats.Instance);
        Assert.Equal(3, st.Device("eth0").Counters.RxPackets); // own, broadcast, multicast
        Assert.Equal(2, st.Drops.Where(d => d.Site == new DropSite(DropReason.OTHERHOST, "eth0/rx_filter")).Sum(d => d.Packets));
        Assert.Equal(2, st.DropsOf(DropReason.OTHERHOST)); // none reached ip_rcv_core as PACKET_OTHERHOST
        Assert.Equal(3, st.Mib("Ip")["InReceives"]);
    }
}
