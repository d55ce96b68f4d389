using ActorStack.Actors.Workloads;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Pktgen;

/// <summary>The udp-sink's check of <c>struct pktgen_hdr</c> per flow: in order, gaps, duplicates, reordering, corrupt headers.</summary>
public class PktgenSeqCheckTests
{
    private const uint A = 0x0a000001, B = 0x0a000003;

    private static byte[] Payload(uint seq, int size = 64)
    {
        var p = new byte[size];
        PktgenHeader.Write(p, seq, 0);
        return p;
    }

    private static PktgenSeqCheck Run(params uint[] seqs)
    {
        var c = new PktgenSeqCheck();
        foreach (var s in seqs) c.Observe(A, 10000, Payload(s));
        return c;
    }

    private static (long InOrder, long AfterGap, long Skipped, long Duplicates, long Reordered, long Corrupt, long Unsequenced) Books(PktgenSeqCheck c)
        => (c.InOrder, c.AfterGap, c.Skipped, c.Duplicates, c.Reordered, c.CorruptHeaders, c.Unsequenced);

    [Fact]
    public void InOrder_CountsEveryDatagramInOrder()
    {
        var c = Run(1, 2, 3, 4, 5);
        Assert.Equal((5L, 0L, 0L, 0L, 0L, 0L, 0L), Books(c));
        Assert.Equal(0, c.OutOfOrder);
        Assert.Equal(1, c.Flows);
    }

    [Fact]
    public void Gap_CountsTheDatagramAfterIt_AndTheSeqsSkipped()
    {
        var c = Run(1, 2, 5, 6, 10);
        Assert.Equal((3L, 2L, 5L, 0L, 0L, 0L, 0L), Books(c)); // 3, 4 and 7, 8, 9 skipped
        Assert.Equal(0, c.OutOfOrder);
    }

    [Fact]
    public void Duplicate_OfTheLastOrOfOneInTheWindow_IsADuplicate_NotReordered()
    {
        var c = Run(1, 2, 3, 3, 1, 4);
        Assert.Equal((4L, 0L, 0L, 2L, 0L, 0L, 0L), Books(c));
        Assert.Equal(2, c.OutOfOrder);
    }

    [Fact]
    public void Reordered_LateArrivalFillsItsGap_ASecondCopyIsThenADuplicate()
    {
        var c = Run(1, 3, 2, 2, 4);
        Assert.Equal((2L, 1L, 1L, 1L, 1L, 0L, 0L), Books(c));
        Assert.Equal(2, c.OutOfOrder);
    }

    [Fact]
    public void OlderThanTheWindow_IsReordered_ItCannotBeToldFromADuplicate()
    {
        var c = Run(1, 100, 1, 37, 36);
        // 1 is 99 behind (outside the 64-wide window): reordered; 37 is 63 behind (inside): first time, reordered; 36 is 64 behind: outside.
        Assert.Equal((1L, 1L, 98L, 0L, 3L, 0L, 0L), Books(c));
    }

    [Fact]
    public void CorruptMagic_OrShortPayload_OnAPktgenFlow_IsACorruptHeader_AndTheFlowGoesOn()
    {
        var c = new PktgenSeqCheck();
        c.Observe(A, 10000, Payload(1));
        var bad = Payload(2);
        bad[0] ^= 0x01; // magic 0xbe9be955 -> 0xbf9be955
        c.Observe(A, 10000, bad);
        c.Observe(A, 10000, Payload(3).AsSpan(0, PktgenHeader.Length - 1)); // 15 bytes: no room for the header
        c.Observe(A, 10000, Payload(4));
        Assert.Equal((1L, 1L, 2L, 0L, 0L, 2L, 0L), Books(c));
    }

    [Fact]
    public void CorruptSeq_FarAhead_NotConfirmedByTheNext_IsCorrupt_AndDoesNotMissequenceTheRest()
    {
        // seq 3 with bit 28 flipped: 268,435,459. Before this check every later datagram counted as out of order.
        var c = Run(1, 2, 3 | 1u << 28, 4, 5, 6);
        Assert.Equal((4L, 1L, 1L, 0L, 0L, 1L, 0L), Books(c)); // 4 follows 2: seq 3 is missing (it arrived corrupt)
        Assert.Equal(0, c.OutOfOrder);
    }

    [Fact]
    public void CorruptSeq_FarBehind_IsCorrupt()
    {
        var c = Run(2_000_000, 2_000_001, 2_000_002 - (1u << 20), 2_000_002);
        Assert.Equal((3L, 0L, 0L, 0L, 0L, 1L, 0L), Books(c));
    }

    [Fact]
    public void FarJump_ConfirmedByTheNextDatagram_IsAGap_NotCorrupt()
    {
        var c = Run(1, 2, 1_000_000, 1_000_001, 1_000_002);
        Assert.Equal((4L, 1L, 999_997L, 0L, 0L, 0L, 0L), Books(c));
    }

    [Fact]
    public void ConfirmJump_BothSidesOfTheLimit()
    {
        var at = new PktgenSeqCheck(confirmJump: 1000);
        foreach (var s in new uint[] { 1, 1001, 1002 }) at.Observe(A, 1, Payload(s)); // +1000: taken at once
        Assert.Equal((2L, 1L, 999L, 0L, 0L, 0L, 0L), Books(at));
        var over = new PktgenSeqCheck(confirmJump: 1000);
        foreach (var s in new uint[] { 1, 1002, 2 }) over.Observe(A, 1, Payload(s)); // +1001: held; 2 goes on from 1: it was corrupt
        Assert.Equal((2L, 0L, 0L, 0L, 0L, 1L, 0L), Books(over));
    }

    [Fact]
    public void SeqWraps_ThroughZero_InOrder()
    {
        var c = Run(uint.MaxValue - 1, uint.MaxValue, 0, 1);
        Assert.Equal((4L, 0L, 0L, 0L, 0L, 0L, 0L), Books(c));
    }

    [Fact]
    public void NoHeader_OnAFlowThatNeverCarriedOne_IsUnsequenced_NotCorrupt_AndFlowsAreSeparate()
    {
        var c = new PktgenSeqCheck();
        c.Observe(B, 7, new byte[32]);
        c.Observe(A, 10000, Payload(5));
        c.Observe(A, 10001, Payload(3)); // another port: another flow, its own position
        c.Observe(A, 10000, Payload(6));
        Assert.Equal((3L, 0L, 0L, 0L, 0L, 0L, 1L), Books(c));
        Assert.Equal(2, c.Flows);
    }
}
