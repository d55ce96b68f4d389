using ActorStack.Actors.Tcp;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Tcp.TcpPair;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

/// <summary>RACK's reordering window against tcp_rack_reo_wnd / tcp_rack_update_reo_wnd / tcp_update_rtt_min.</summary>
public class RackReorderWindowTests
{
    private static readonly long Us = TimeSpan.TicksPerMillisecond / 1000;
    private static bool IsData(TcpSegment s) => s.Payload.Length > 0;

    [Theory]
    [InlineData(0, TcpCaState.Recovery, 0, 3, 0)]    // no reordering seen: aggressive in recovery
    [InlineData(0, TcpCaState.Disorder, 3, 3, 0)]    // ... and at the dup-ACK threshold
    [InlineData(0, TcpCaState.Disorder, 2, 3, 2500)] // below the threshold: min_rtt/4
    [InlineData(1, TcpCaState.Recovery, 9, 3, 2500)] // reordering seen: min_rtt/4 even in recovery
    public void Window_OneStep_FollowsTcpRackReoWnd(int reordSeen, TcpCaState state, int sackedOut, int reordering, long expected)
        => Assert.Equal(expected, RackReorderWindow.Window(reordSeen, state, sackedOut, reordering, minRtt: 10_000, steps: 1, srtt: 1_000_000));

    [Fact]
    public void Window_ManySteps_CappedAtSrtt()
    {
        Assert.Equal(3 * 2500, RackReorderWindow.Window(1, TcpCaState.Open, 0, 3, 10_000, 3, 100_000));
        Assert.Equal(20_000, RackReorderWindow.Window(1, TcpCaState.Open, 0, 3, 10_000, 255, 20_000));
    }

    [Fact]
    public void Update_DsackEachRoundTrip_OneStepEachUpTo255()
    {
        var w = new RackReorderWindow();
        var nxt = new TcpSeq(1000);
        for (int i = 0; i < 300; i++)
        {
            w.OnDsack(reordSeen: 1, tlpDsack: false);
            w.Update(nxt + 1, nxt + 1000); // each ACK goes beyond what was in flight at the last step
            nxt += 1000;
        }
        Assert.Equal(255, w.Steps);
        Assert.Equal(16, w.Persist);
    }

    [Fact]
    public void Update_SecondDsackWithinOneRoundTrip_NoSecondStep()
    {
        var w = new RackReorderWindow();
        w.OnDsack(1, false);
        w.Update(new TcpSeq(1000), new TcpSeq(5000));
        w.OnDsack(1, false);
        w.Update(new TcpSeq(4000), new TcpSeq(6000)); // not beyond the SND.NXT of the first step
        Assert.Equal(2, w.Steps);
        w.OnDsack(1, false);
        w.Update(new TcpSeq(5001), new TcpSeq(7000));
        Assert.Equal(3, w.Steps);
    }

    [Fact]
    public void Update_DsackWithoutReorderingOrForLossProbe_Ignored()
    {
        var w = new RackReorderWindow();
        w.OnDsack(reordSeen: 0, tlpDsack: false);
        w.OnDsack(reordSeen: 4, tlpDsack: true);
        w.Update(new TcpSeq(1000), new TcpSeq(2000));
        Assert.Equal(1, w.Steps);
        Assert.False(w.DsackSeen);
    }

    [Fact]
    public void Persist_SixteenRecoveriesWithoutUndo_StepsBackToOne()
    {
        var w = new RackReorderWindow();
        w.OnDsack(1, false);
        w.Update(new TcpSeq(1000), new TcpSeq(2000));
        w.OnDsack(1, false);
        w.Update(new TcpSeq(2001), new TcpSeq(3000));
        Assert.Equal(3, w.Steps);
        for (int i = 0; i < 15; i++) w.OnRecoveryNotUndone();
        w.Update(new TcpSeq(4000), new TcpSeq(5000));
        Assert.Equal(3, w.Steps); // one recovery left
        w.OnRecoveryNotUndone();
        w.Update(new TcpSeq(5000), new TcpSeq(6000));
        Assert.Equal(1, w.Steps);
        Assert.Equal(0, w.Persist);
    }

    [Fact]
    public void Persist_DsackUndo_AddsOneRecoveryUpToSixteen()
    {
        var w = new RackReorderWindow();
        w.OnDsackUndo();
        Assert.Equal(1, w.Persist);
        for (int i = 0; i < 20; i++) w.OnDsackUndo();
        Assert.Equal(16, w.Persist);
    }

    [Theory]
    [InlineData(0, 10_000)]    // 0 µs: one jiffy (HZ=1000)
    [InlineData(9, 10_000)]    // below the µs clock: 0 µs
    [InlineData(25, 20)]       // whole µs
    [InlineData(10_000, 10_000)]
    public void MinRttSample_MicrosecondGranularity_ZeroIsOneJiffy(long rttTicks, long expected)
    {
        Assert.Equal(expected, Tcb.MinRttSample(rttTicks));
        Assert.Equal(10, Us);
    }

    [Fact]
    public void ZeroDelayWire_25PercentReordered_MinRttOneJiffy_NoSpuriousRetransmit()
    {
        // A wire with no delay of its own: 75% of segments (each way) wait 1 ms, 25% pass at once, so the fastest
        // round trips take 0 µs. Linux's min-RTT filter takes them for one jiffy, RACK's window is 250 µs per step
        // and D-SACK-free: no segment is retransmitted (before: min_rtt 1 tick, window 0, 927 spurious retransmits).
        var p = new TcpPair(sndBuf: 1 << 20);
        p.Delay = 0;
        p.ToSendA = RandomBytes(4 << 20, 9);
        var rng = new Random(9);
        p.Jitter = (_, _, _) => rng.NextDouble() < 0.25 ? 0 : Ms(1);
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(30));

        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(TimeSpan.TicksPerMillisecond, p.A.MinRtt);
        Assert.Equal(300, p.A.Reordering);
        Assert.Equal(0, p.MibA[TcpMib.RetransSegs]);
        Assert.Equal(0, p.MibA[TcpExtMib.TCPSackRecovery]);
        Assert.True(p.A.ReorderingSeen > 0);
        Assert.Equal(2500, p.A.RackReoWnd);
    }

    [Fact]
    public void RenoReordering_MoreDupAcksThanSegmentsOut_TcpRenoReorder()
    {
        // Without SACK every duplicate of a data segment draws a duplicate ACK; more of them than segments out beyond
        // the one hole can only be reordering or duplication (tcp_limit_reno_sacked): tcp_check_reno_reordering.
        var noSack = new TcpSettings { Sack = false };
        var p = new TcpPair(noSack, noSack, sndBuf: 262144);
        p.ToSendA = RandomBytes(200_000, 31);
        p.Duplicate = (fromA, s, _) => fromA && IsData(s);
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(5));

        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        Assert.Equal(p.A.ReorderingSeen, p.MibA[TcpExtMib.TCPRenoReorder]);
        Assert.True(p.A.ReorderingSeen > 0, "reno reordering detected");
        Assert.Equal(0, p.MibA[TcpExtMib.TCPSACKReorder]);
    }
}
