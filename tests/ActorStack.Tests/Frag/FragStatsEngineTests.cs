using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Frag;

/// <summary>
/// The reassembly state a host reports (<see cref="GetFragStats"/>: <c>/proc/net/sockstat</c>'s <c>FRAG: inuse N memory M</c>
/// and the high-water mark its IP handler keeps), measured while the host runs, on the engine. Every fragment here is
/// a small frame in a 2 KiB RX buffer: truesize 2,304 (<c>RxTruesizeTests</c>).
/// </summary>
public class FragStatsEngineTests() : EngineKit("frag-stats")
{
    private const long Truesize = 2304;
    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    private async Task<(IActorRef Host, IActorRef Nic, TestProbe Asker)> Host(DefragSettings frag)
    {
        var asker = Probe();
        var settings = new HostSettings("h", 1, new SysctlSettings { Frag = frag },
            [new DeviceSettings("eth0", Mac(2), Addresses: [new Ipv4Prefix(Ipv4Address.Parse("10.0.0.2"), 24)])]);
        var host = Sys.ActorOf(HostActor.Props(settings, seed: 1), "h");
        var nic = (await AskNow<HostDevices>(asker, host, GetHostDevices.Instance)).Devices["eth0"];
        return (host, nic, asker);
    }

    /// <summary>Fragment of datagram <paramref name="id"/> from 10.0.0.1 in an Ethernet frame to eth0.</summary>
    private static ReadOnlyMemory<byte> Frame(ushort id, int offset, int len, bool mf)
    {
        var ip = FragTestPackets.Fragment(id, offset, len, mf);
        var f = new byte[EthernetHeader.Length + ip.Length];
        EthernetHeader.Write(f, Mac(2), Mac(1), EtherType.Ipv4);
        ip.CopyTo(f, EthernetHeader.Length);
        return f;
    }

    private void Feed(IActorRef nic, params ReadOnlyMemory<byte>[] frames)
    {
        nic.Tell(new WireFrames([.. frames]), ActorRefs.NoSender);
        Engine.RunUntilIdle();
    }

    [Fact]
    public async Task Peak_IsTheMostHeld_CountingTheLastFragmentQueuedBeforeReassembly_AndOutlivesExpiry()
    {
        var (host, nic, asker) = await Host(DefragSettings.Default);
        Assert.Equal(new FragStats(0, 0, 0), await AskNow<FragStats>(asker, host, GetFragStats.Instance));
        Feed(nic, [.. Enumerable.Range(1, 5).Select(i => Frame((ushort)i, 0, 1000, mf: true))]);
        Assert.Equal(new FragStats(5, 5 * Truesize, 5 * Truesize), await AskNow<FragStats>(asker, host, GetFragStats.Instance));
        // Datagram 1's last fragment is queued (6 × 2,304 held) before ip_frag_reasm frees the queue.
        Feed(nic, Frame(1, 1000, 200, mf: false));
        Assert.Equal(new FragStats(4, 4 * Truesize, 6 * Truesize), await AskNow<FragStats>(asker, host, GetFragStats.Instance));
        var ip = (await AskNow<HostStats>(asker, host, GetStats.Instance)).Mib("Ip");
        Assert.Equal((6L, 1L), (ip["ReasmReqds"], ip["ReasmOKs"])); // one ReasmReqds per fragment
        // ipfrag_time (30 s) later the four queues expire: nothing held, the peak stays.
        Engine.RunFor(TimeSpan.FromSeconds(31));
        Assert.Equal(new FragStats(0, 0, 6 * Truesize), await AskNow<FragStats>(asker, host, GetFragStats.Instance));
    }

    [Fact]
    public async Task Peak_ReachesIpfragHighThresh_AndNeverPassesIt_EvictionMakesRoom()
    {
        // Room for exactly 3 fragments; eviction frees down to 1.
        var (host, nic, asker) = await Host(DefragSettings.Default with { IpfragHighThresh = 3 * Truesize, IpfragLowThresh = Truesize });
        Feed(nic, [.. Enumerable.Range(1, 3).Select(i => Frame((ushort)i, 0, 1000, mf: true))]);
        Assert.Equal(new FragStats(3, 3 * Truesize, 3 * Truesize), await AskNow<FragStats>(asker, host, GetFragStats.Instance));
        // The 4th would take 4 × 2,304 > high: the two oldest queues are evicted (down to low), then it is queued.
        Feed(nic, Frame(4, 0, 1000, mf: true));
        Assert.Equal(new FragStats(2, 2 * Truesize, 3 * Truesize), await AskNow<FragStats>(asker, host, GetFragStats.Instance));
        Feed(nic, Frame(5, 0, 1000, mf: true), Frame(6, 0, 1000, mf: true));
        Assert.Equal(new FragStats(2, 2 * Truesize, 3 * Truesize), await AskNow<FragStats>(asker, host, GetFragStats.Instance));
        var ip = (await AskNow<HostStats>(asker, host, GetStats.Instance)).Mib("Ip");
        Assert.Equal((6L, 4L), (ip["ReasmReqds"], ip["ReasmFails"]));
    }
}
