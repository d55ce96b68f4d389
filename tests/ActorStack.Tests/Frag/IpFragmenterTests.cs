using ActorStack.Actors.Ipv4.Frag;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Frag.FragTestPackets;

namespace ActorStack.Tests.Frag;

public class IpFragmenterTests
{
    // Router alert (type 148: copied flag set), record route (type 7: not copied), END.
    private static readonly byte[] Options = { 0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 0x00 };

    [Fact]
    public void Fragment_1500Over576_CutsOn8ByteBoundariesWithMfAndChecksums()
    {
        var packet = Datagram(1480, id: 42);
        var r = IpFragmenter.Fragment(packet, 576, ignoreDf: false);

        Assert.Equal(FragmentOutcome.Fragmented, r.Outcome);
        Assert.Equal((1, 3, 0), (r.FragOKs, r.FragCreates, r.FragFails));
        Assert.Equal(new[] { 572, 572, 396 }, r.Fragments.Select(TotalLength));
        Assert.Equal(new[] { 0, 552, 1104 }, r.Fragments.Select(OffsetOf));
        Assert.Equal(new[] { true, true, false }, r.Fragments.Select(Mf));
        Assert.All(r.Fragments, f => Assert.True(ChecksumOk(f)));
        Assert.All(r.Fragments, f => Assert.Equal(packet.AsSpan(4, 2).ToArray(), f.AsSpan(4, 2).ToArray()));
        // Data is the original, in order.
        var data = r.Fragments.SelectMany(f => f.Skip(20)).ToArray();
        Assert.Equal(packet.Skip(20).ToArray(), data);
    }

    [Fact]
    public void Fragment_LastFitsUnroundedSpace_UsesItWhole()
    {
        // MTU 576: data space 556, rounded 552. 1108 bytes = 552 + 556 (last fragment need not be a multiple of 8).
        var r = IpFragmenter.Fragment(Datagram(1108, 1), 576, false);
        Assert.Equal(new[] { 572, 576 }, r.Fragments.Select(TotalLength));
        var r2 = IpFragmenter.Fragment(Datagram(1109, 1), 576, false);
        Assert.Equal(new[] { 572, 572, 25 }, r2.Fragments.Select(TotalLength));
    }

    [Fact]
    public void Fragment_FitsMtu_ReturnsCopyWithoutCounters()
    {
        var packet = Datagram(1480, 1, Ipv4Header.FlagDf);
        var r = IpFragmenter.Fragment(packet, 1500, false);
        Assert.Equal(FragmentOutcome.Fits, r.Outcome);
        Assert.Equal((0, 0, 0), (r.FragOKs, r.FragCreates, r.FragFails));
        Assert.Equal(packet, r.Fragments.Single());
        Assert.NotSame(packet, r.Fragments.Single());
    }

    [Fact]
    public void Fragment_DfSetTooBig_RefusedWithMtuAndEmsgsize()
    {
        var r = IpFragmenter.Fragment(Datagram(1481, 1, Ipv4Header.FlagDf), 1500, ignoreDf: false);
        Assert.Equal(FragmentOutcome.Refused, r.Outcome);
        Assert.Equal(1500, r.Mtu);
        Assert.Equal(Errno.EMSGSIZE, r.Error);
        Assert.Equal(DropReason.PKT_TOO_BIG, r.Reason);
        Assert.Equal((0, 0, 1), (r.FragOKs, r.FragCreates, r.FragFails));
        Assert.Empty(r.Fragments);
    }

    [Fact]
    public void Fragment_DfSetIgnoreDf_FragmentsAndClearsDf()
    {
        var r = IpFragmenter.Fragment(Datagram(1481, 1, Ipv4Header.FlagDf), 1500, ignoreDf: true);
        Assert.Equal(FragmentOutcome.Fragmented, r.Outcome);
        Assert.Equal(2, r.FragCreates);
        Assert.All(r.Fragments, f => Assert.False(Df(f)));
    }

    [Fact]
    public void Fragment_ForwardedReassembledDfLargerOriginalFragments_Refused()
    {
        // ip_fragment: DF with ignore_df, but frag_max_size (2000) > mtu (1500): the sender's fragments would not fit.
        var r = IpFragmenter.Fragment(Datagram(3000, 1, Ipv4Header.FlagDf), 1500, ignoreDf: true, fragMaxSize: 2000);
        Assert.Equal(FragmentOutcome.Refused, r.Outcome);
        Assert.Equal(1, r.FragFails);
    }

    [Fact]
    public void Fragment_FragMaxSizeBelowMtu_FragmentsNoLargerAndKeepsDf()
    {
        // A 1000-byte-fragmented DF datagram, reassembled and forwarded to a 9000-byte link: refragmented at 1000.
        var r = IpFragmenter.Fragment(Datagram(2932, 1, Ipv4Header.FlagDf), 9000, ignoreDf: true, fragMaxSize: 1000, keepDf: true);
        Assert.Equal(FragmentOutcome.Fragmented, r.Outcome);
        Assert.Equal(new[] { 996, 996, 1000 }, r.Fragments.Select(TotalLength)); // 976 + 976 + 980 data
        Assert.All(r.Fragments, f => Assert.True(Df(f)));
    }

    [Fact]
    public void Fragment_Options_CopiedInEveryFragmentOthersNoopedAfterFirst()
    {
        var packet = Datagram(200, 9, options: Options);
        var r = IpFragmenter.Fragment(packet, 96, false); // 32-byte header, 64 data bytes per fragment
        Assert.Equal(4, r.FragCreates);
        Assert.All(r.Fragments, f => Assert.Equal(32, HeaderLength(f)));
        Assert.Equal(Options, r.Fragments[0].AsSpan(20, 12).ToArray());
        var fixedOpts = new byte[] { 0x94, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0x00 };
        foreach (var f in r.Fragments.Skip(1))
            Assert.Equal(fixedOpts, f.AsSpan(20, 12).ToArray());
        Assert.All(r.Fragments, f => Assert.True(ChecksumOk(f)));
        // The input is untouched.
        Assert.Equal(Options, packet.AsSpan(20, 12).ToArray());
    }

    [Fact]
    public void Fragment_NonFirstFragment_KeepsOptionsOffsetsAndMf()
    {
        // Refragmenting a middle fragment (offset 1480, MF): options are already fixed, MF stays on every piece.
        var middle = Datagram(1480, 3, (ushort)((1480 >> 3) | Ipv4Header.FlagMf), options: Options);
        var r = IpFragmenter.Fragment(middle, 576, false);
        Assert.Equal(new[] { 1480, 1480 + 544, 1480 + 1088 }, r.Fragments.Select(OffsetOf));
        Assert.All(r.Fragments, f => Assert.True(Mf(f)));
        Assert.All(r.Fragments, f => Assert.Equal(Options, f.AsSpan(20, 12).ToArray()));
    }

    [Fact]
    public void OptionsFragment_MalformedLength_StopsWithoutChange()
    {
        var header = new byte[28];
        header[20] = 0x07; header[21] = 0; // length 0: malformed
        header[22] = 0x07; header[23] = 3;
        var before = header.ToArray();
        IpFragmenter.OptionsFragment(header);
        Assert.Equal(before, header);
    }

    [Theory]
    [InlineData(10)]       // shorter than a header
    [InlineData(0)]
    public void Fragment_Truncated_FailsCounted(int len)
    {
        var r = IpFragmenter.Fragment(new byte[len], 1500, false);
        Assert.Equal(FragmentOutcome.Failed, r.Outcome);
        Assert.Equal(DropReason.IP_INHDR, r.Reason);
        Assert.Equal(1, r.FragFails);
    }

    [Fact]
    public void Fragment_TotalLengthBeyondBuffer_Fails()
    {
        var p = Datagram(100, 1);
        var r = IpFragmenter.Fragment(p.AsSpan(0, 60), 68, false);
        Assert.Equal(FragmentOutcome.Failed, r.Outcome);
    }

    [Fact]
    public void Fragment_MtuBelowHeaderPlus8_Fails()
    {
        var r = IpFragmenter.Fragment(Datagram(100, 1), 27, false);
        Assert.Equal(FragmentOutcome.Failed, r.Outcome);
        Assert.Equal(1, r.FragFails);
    }

    [Fact]
    public void Fragment_WithHeadroom_SameFragmentsAfterTheFreeBytes()
    {
        var packet = Datagram(3000, 9);
        var bare = IpFragmenter.Fragment(packet, 1500, false);
        var roomy = IpFragmenter.Fragment(packet, 1500, false, headroom: 14);
        Assert.Equal(bare.Fragments.Count, roomy.Fragments.Count);
        for (int i = 0; i < bare.Fragments.Count; i++)
        {
            Assert.Equal(14 + bare.Fragments[i].Length, roomy.Fragments[i].Length);
            Assert.Equal(bare.Fragments[i], roomy.Fragments[i][14..]);
            Assert.All(roomy.Fragments[i][..14], b => Assert.Equal(0, b));
        }
    }
}
