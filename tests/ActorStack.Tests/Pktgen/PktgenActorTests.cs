using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Hardware.Pktgen;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Pktgen;

/// <summary>
/// pktgen's pacing on the virtual clock (<c>pktgen_xmit</c> and <c>spin</c>): every transmit call at its own ns
/// (<c>next_tx += delay</c>), <c>burst</c> frames per call, a sender behind its schedule catching up back to back, and
/// <see cref="PktgenReanchor"/> (<c>next_tx = now</c>) dropping that deficit.
/// </summary>
public class PktgenActorTests() : EngineKit("pktgen-actor")
{
    /// <summary>
    /// A driver that logs every <see cref="XmitFrames"/> at the engine's ns with the frames' pktgen seq and timestamp,
    /// and completes them at once, or (holding) only when told <see cref="Release"/>.
    /// </summary>
    private sealed class FakeNic : ReceiveActor
    {
        public sealed record Release
        {
            public static readonly Release Instance = new();
        }

        public FakeNic(SimEngine engine, List<(long Ns, uint Seq, long Stamp)> log, bool hold)
        {
            var held = new List<(IActorRef To, int Count)>();
            Receive<XmitFrames>(m =>
            {
                foreach (var f in m.Frames)
                {
                    Assert.True(PktgenHeader.TryRead(f.Span[PktgenGenerator.PayloadOffset..], out var seq, out var stamp));
                    log.Add((engine.NowNs, seq, stamp));
                }
                if (hold) held.Add((Sender, m.Frames.Length));
                else Sender.Tell(new TxCompleted(m.Frames.Length, 0));
            });
            Receive<Release>(_ =>
            {
                hold = false;
                foreach (var (to, n) in held) to.Tell(new TxCompleted(n, 0));
                held.Clear();
            });
        }
    }

    private (IActorRef Pktgen, IActorRef Nic, List<(long Ns, uint Seq, long Stamp)> Log) Start(PktgenSettings p, bool hold = false, int txRing = 64)
    {
        var log = new List<(long, uint, long)>();
        var nic = Sys.ActorOf(Props.Create(() => new FakeNic(Engine, log, hold)), "nic");
        var g = Sys.ActorOf(PktgenActor.Props(new PktgenWorkload("h", "eth0", p), nic, txRing), "pktgen");
        return (g, nic, log);
    }

    private static long Count(List<(long Ns, uint Seq, long Stamp)> log, long fromNs, long toNs) => log.Count(e => e.Ns >= fromNs && e.Ns < toNs);

    [Fact]
    public void Ratep1M_OneFramePerMicrosecond_TimestampsExactlyRateSpaced()
    {
        long t0 = Engine.NowNs;
        var (_, _, log) = Start(new PktgenSettings { Count = 10, RatePps = 1_000_000 });
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        Assert.Equal(Enumerable.Range(0, 10).Select(k => t0 + k * 1000L), log.Select(e => e.Ns));
        Assert.Equal(Enumerable.Range(1, 10).Select(k => (uint)k), log.Select(e => e.Seq));
        // The header's time is the send instant (µs resolution in struct pktgen_hdr: exact at 1 µs spacing).
        Assert.Equal(Enumerable.Range(0, 10).Select(k => Engine.Epoch.UtcTicks + (t0 + k * 1000L) / 100), log.Select(e => e.Stamp));
    }

    [Fact]
    public void Ratep1_1M_DelayIs909Ns_AsLinuxTruncatesIt_EachFrameAtItsOwnNs()
    {
        long t0 = Engine.NowNs;
        var (_, _, log) = Start(new PktgenSettings { Count = 12, RatePps = 1_100_000 });
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        Assert.Equal(Enumerable.Range(0, 12).Select(k => t0 + k * 909L), log.Select(e => e.Ns)); // NSEC_PER_SEC / 1,100,000 = 909
    }

    [Fact]
    public void Burst4_SendsFourFramesAtEachInstant_DelayApart()
    {
        long t0 = Engine.NowNs;
        var (_, _, log) = Start(new PktgenSettings { Count = 12, RatePps = 1000, Burst = 4 });
        Engine.RunFor(TimeSpan.FromMilliseconds(10));
        long ms = 1_000_000;
        Assert.Equal([t0, t0, t0, t0, t0 + ms, t0 + ms, t0 + ms, t0 + ms, t0 + 2 * ms, t0 + 2 * ms, t0 + 2 * ms, t0 + 2 * ms],
            log.Select(e => e.Ns));
        Assert.Equal(Enumerable.Range(1, 12).Select(k => (uint)k), log.Select(e => e.Seq));
    }

    [Fact]
    public void Behind_NotReanchored_PaysTheDeficitBackAtOnce_AsLinuxDoes()
    {
        long t0 = Engine.NowNs;
        var (_, nic, log) = Start(new PktgenSettings { RatePps = 1000 }, hold: true);
        Engine.RunFor(TimeSpan.FromSeconds(1));
        long t1 = Engine.NowNs;
        Assert.Equal(t0 + 1_000_000_000, t1);
        // 64 frames (the ring) at t0 + k ms, k < 64; the 65th call spun to t0 + 64 ms and found the queue stopped.
        Assert.Equal(Enumerable.Range(0, 64).Select(k => t0 + k * 1_000_000L), log.Select(e => e.Ns));
        nic.Tell(FakeNic.Release.Instance);
        Engine.RunFor(TimeSpan.FromMilliseconds(1500));
        // At t1 the retried call and every slot from t0 + 65 ms to t0 + 1000 ms: 1 + 936 frames at once.
        Assert.Equal(937, Count(log, t1, t1 + 1));
        Assert.Equal(1936, Count(log, t1, t1 + 1_000_000_000));
    }

    [Fact]
    public async Task Behind_Reanchored_SendsExactlyRateTimesInterval_InTheNextInterval()
    {
        var (g, nic, log) = Start(new PktgenSettings { RatePps = 1000 }, hold: true);
        Engine.RunFor(TimeSpan.FromSeconds(1));
        long t1 = Engine.NowNs;
        Assert.Equal(64, log.Count);
        var asker = Probe();
        g.Tell(PktgenReanchor.Instance, asker.Ref);
        nic.Tell(FakeNic.Release.Instance);
        Engine.RunFor(TimeSpan.FromMilliseconds(1500));
        var atAnchor = await asker.ExpectMsgAsync<PktgenStatus>();
        Assert.Equal(64, atAnchor.Sent); // answered at the anchor: frames sent before the window
        // next_tx = t1: one frame at t1 + k ms for k = 0..999, none of the ~936 frames it was behind by.
        Assert.Equal(1, Count(log, t1, t1 + 1));
        Assert.Equal(1000, Count(log, t1, t1 + 1_000_000_000));
        Assert.Equal(Enumerable.Range(0, 1000).Select(k => t1 + k * 1_000_000L), log.Where(e => e.Ns >= t1 && e.Ns < t1 + 1_000_000_000).Select(e => e.Ns));
        Assert.Equal(1, Count(log, t1 + 1_000_000_000, t1 + 1_000_000_001)); // the next interval starts on schedule
    }

    [Fact]
    public void Reanchor_OnSchedule_ChangesNothingButThePhase()
    {
        long t0 = Engine.NowNs;
        var (g, _, log) = Start(new PktgenSettings { RatePps = 1000 });
        Engine.RunFor(TimeSpan.FromMicroseconds(2500)); // frames at t0, +1 ms, +2 ms
        long t1 = Engine.NowNs;
        g.Tell(PktgenReanchor.Instance, Probe().Ref);
        Engine.RunFor(TimeSpan.FromMicroseconds(2200));
        Assert.Equal([t0, t0 + 1_000_000, t0 + 2_000_000, t1, t1 + 1_000_000, t1 + 2_000_000], log.Select(e => e.Ns));
    }
}
