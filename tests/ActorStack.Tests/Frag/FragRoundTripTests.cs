using ActorStack.Config;
using ActorStack.Actors.Ipv4.Frag;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Frag.FragTestPackets;

namespace ActorStack.Tests.Frag;

/// <summary>Fragment with <see cref="IpFragmenter"/>, reassemble with <see cref="IpDefrag"/>, compare byte for byte.</summary>
public class FragRoundTripTests
{
    public static TheoryData<int, int> SizesAndMtus()
    {
        var t = new TheoryData<int, int>();
        foreach (int udpPayload in new[] { 1, 7, 8, 9, 1472, 1473, 65507 })
            foreach (int mtu in new[] { 68, 576, 1500, 9000 })
                t.Add(udpPayload, mtu);
        return t;
    }

    /// <summary>Number of fragments <c>ip_frag_next</c> makes: full rounded pieces until the rest fits the unrounded space.</summary>
    private static int ExpectedFragments(int dataLen, int mtu, int hlen = 20)
    {
        int space = mtu - hlen, rounded = space & ~7;
        return dataLen <= space ? 1 : 1 + (dataLen - space + rounded - 1) / rounded;
    }

    [Theory]
    [MemberData(nameof(SizesAndMtus))]
    public void RoundTrip_UdpPayloadOverMtu_ByteForByte(int udpPayload, int mtu)
    {
        int dataLen = UdpHeader.Length + udpPayload;
        var packet = Datagram(dataLen, id: 0x1234);
        var r = IpFragmenter.Fragment(packet, mtu, ignoreDf: false);
        var d = new IpDefrag(DefragSettings.Default);

        if (packet.Length <= mtu)
        {
            Assert.Equal(FragmentOutcome.Fits, r.Outcome);
            Assert.Equal(packet, r.Fragments.Single());
            return;
        }
        Assert.Equal(FragmentOutcome.Fragmented, r.Outcome);
        Assert.Equal(ExpectedFragments(dataLen, mtu), r.FragCreates);
        Assert.Equal(r.FragCreates, r.Fragments.Count);
        Assert.All(r.Fragments, f => Assert.True(f.Length <= mtu && ChecksumOk(f)));

        // Reverse order: the datagram is complete only at the last one added.
        DefragResult res = default;
        for (int i = r.Fragments.Count - 1; i >= 0; i--)
        {
            res = d.Add(r.Fragments[i], 0);
            Assert.Equal(i == 0 ? DefragStatus.Complete : DefragStatus.Incomplete, res.Status);
        }
        Assert.Equal(packet, res.Packet);
        Assert.Equal(new DefragCounters(0, r.Fragments.Count, 1, 0, 0), d.Snapshot());
        Assert.Equal(0, d.MemoryBytes);
    }

    [Fact]
    public void RoundTrip_SweepSizesAndMtus_ByteForByte()
    {
        var d = new IpDefrag(DefragSettings.Default);
        var rng = new Random(2024);
        var mtus = new[] { 68, 69, 75, 576, 1006, 1500, 4352, 9000 };
        long fragments = 0, datagrams = 0;
        var sizes = Enumerable.Range(0, 1600).Concat(Enumerable.Range(0, 60).Select(_ => rng.Next(1600, 65516)));
        foreach (int dataLen in sizes)
        {
            ushort id = (ushort)datagrams;
            var packet = Datagram(dataLen, id, seed: dataLen);
            int mtu = mtus[(int)(datagrams % mtus.Length)];
            var frags = IpFragmenter.Fragment(packet, mtu, false).Fragments.ToArray();
            if (frags.Length == 1) continue;
            datagrams++;
            rng.Shuffle(frags);
            DefragResult res = default;
            foreach (var f in frags) res = d.Add(f, 0);
            fragments += frags.Length;
            Assert.Equal(packet, res.Packet);
        }
        Assert.Equal(new DefragCounters(0, fragments, datagrams, 0, 0), d.Snapshot());
        Assert.Equal(0, d.QueueCount);
    }

    [Fact]
    public void RoundTrip_OptionsDatagram_ReassembledHeaderIsOriginal()
    {
        byte[] options = { 0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 0x00 };
        var packet = Datagram(3000, 77, options: options);
        var frags = IpFragmenter.Fragment(packet, 576, false).Fragments;
        var d = new IpDefrag(DefragSettings.Default);
        DefragResult res = default;
        foreach (var f in frags.Skip(1).Append(frags[0])) res = d.Add(f, 0);
        Assert.Equal(packet, res.Packet);
    }

    [Fact]
    public void RoundTrip_RouterRefragments9000To1500_ReassemblesOriginal()
    {
        // A host on a 9000-byte link sends 20,000 bytes; the router forwards each fragment onto a 1500-byte link.
        var packet = Datagram(20_000, 4242);
        var first = IpFragmenter.Fragment(packet, 9000, false);
        Assert.Equal(3, first.FragCreates);
        var onWire = new List<byte[]>();
        int routerOks = 0, routerCreates = 0;
        foreach (var f in first.Fragments)
        {
            var r = IpFragmenter.Fragment(f, 1500, false);
            routerOks += r.FragOKs;
            routerCreates += r.FragCreates;
            onWire.AddRange(r.Fragments);
        }
        Assert.Equal((3, 16), (routerOks, routerCreates)); // 8976 -> 7 (6 * 1480 + 96), twice; 2048 -> 2 (1480 + 568)
        Assert.All(onWire, f => Assert.True(f.Length <= 1500));
        Assert.Single(onWire, f => !Mf(f));

        var arr = onWire.ToArray();
        new Random(5).Shuffle(arr);
        var d = new IpDefrag(DefragSettings.Default);
        DefragResult res = default;
        foreach (var f in arr) res = d.Add(f, 0);
        Assert.Equal(packet, res.Packet);
    }
}
