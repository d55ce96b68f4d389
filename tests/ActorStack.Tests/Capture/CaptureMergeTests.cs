using ActorStack.Hardware.Capture;

namespace ActorStack.Tests.Capture;

/// <summary>
/// <see cref="CaptureMerge"/>: parts of one capture point merged by (timestamp, interface), a part's own order kept at a
/// tie, a tie between parts broken by the records' bytes (so which part holds what does not change the output).
/// </summary>
public sealed class CaptureMergeTests
{
    private static byte[] Ng(params (int If, long Ns, byte Tag)[] packets)
    {
        using var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, leaveOpen: true))
        {
            w.AddInterface("h1/eth0");
            w.AddInterface("h2/eth0");
            foreach (var (i, ns, tag) in packets) w.WritePacket(i, [tag, tag], ns);
        }
        return ms.ToArray();
    }

    private static byte[] Tags(byte[] file) => [.. PcapNgReader.Read(file).Packets.Select(p => p.Data[0])];

    [Fact]
    public void Parts_MergeByTimeThenInterface_TiesBetweenPartsByBytes_SameWhateverTheSplit()
    {
        // One file holding everything in its emission order, and the same records split over two parts in another way.
        var whole = Ng((1, 20, 5), (0, 10, 9), (1, 10, 3), (0, 10, 1), (0, 30, 7), (0, 30, 4));
        var p1 = Ng((0, 10, 9), (0, 10, 1), (0, 30, 4));
        var p2 = Ng((1, 20, 5), (1, 10, 3), (0, 30, 7));

        var one = CaptureMerge.Merge([whole]);
        var two = CaptureMerge.Merge([p1, p2]);
        var swapped = CaptureMerge.Merge([p2, p1]);

        // At 10: interface 0 before 1, interface 0's two records in their order (9, then 1); at 30 one part's 7 and the
        // other's 4 are ordered by their bytes (4 first) in the split, by their order in the whole file: the canonical
        // form of one part keeps a part's own order, so only ties between parts depend on the bytes.
        Assert.Equal(new byte[] { 9, 1, 3, 5, 7, 4 }, Tags(one));
        Assert.Equal(new byte[] { 9, 1, 3, 5, 4, 7 }, Tags(two));
        Assert.Equal(two, swapped);
        Assert.Equal(whole.Length, one.Length);
    }

    [Fact]
    public void ClassicPcap_MergedByTime()
    {
        byte[] Pcap(params (long Ns, byte Tag)[] frames)
        {
            using var ms = new MemoryStream();
            using (var w = new PcapWriter(ms, 65535, leaveOpen: true, nanoseconds: true))
                foreach (var (ns, tag) in frames) w.WritePacketNs([tag], ns);
            return ms.ToArray();
        }
        var merged = CaptureMerge.Merge([Pcap((1_000_000_300, 2), (1_000_000_500, 4)), Pcap((1_000_000_100, 1), (1_000_000_400, 3))]);

        Assert.Equal(Pcap((1_000_000_100, 1), (1_000_000_300, 2), (1_000_000_400, 3), (1_000_000_500, 4)), merged);
    }

    [Fact]
    public void PartsWithOtherInterfaces_OrTruncated_Refused()
    {
        using var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, leaveOpen: true)) w.AddInterface("h9/eth0");
        var other = ms.ToArray();
        var good = Ng((0, 10, 1));

        Assert.Throws<InvalidDataException>(() => CaptureMerge.Merge([good, other]));
        Assert.Throws<InvalidDataException>(() => CaptureMerge.Merge([good[..^3]]));
        Assert.Throws<InvalidDataException>(() => CaptureMerge.Merge([new byte[] { 1, 2, 3, 4, 5 }]));
        Assert.Empty(CaptureMerge.Merge([]));
    }
}
