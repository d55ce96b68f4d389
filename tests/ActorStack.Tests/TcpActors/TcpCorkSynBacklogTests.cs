using ActorStack.Actors.Tcp;
using ActorStack.Tests.Tcp;
using ActorStack.Config;

namespace ActorStack.Tests.TcpActors;

/// <summary>TCP_CORK in the TCB (<c>tcp_nagle_check</c> with TCP_NAGLE_CORK) and net.ipv4.tcp_max_syn_backlog in the listen queue.</summary>
public sealed class TcpCorkSynBacklogTests
{
    private static int DataSegmentsFromA(TcpPair p, int from) => p.Trace.Skip(from).Count(x => x.FromA && x.Seg.Payload.Length > 0);

    [Fact]
    public void Cork_FullSegmentsGo_SubMssTailHeldUntilUncork()
    {
        var p = new TcpPair();
        p.Establish();
        p.A.SetCork(true, p.Now);
        int mss = p.A.CurrentMss();
        int before = p.Trace.Count;
        p.A.Send(new byte[2 * mss + 100], p.Now, out _);
        p.Flush();
        Assert.Equal(2, DataSegmentsFromA(p, before)); // the 100-byte tail waits even with nothing small in flight
        p.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(2 * mss, p.ReadB.Length);
        p.A.SetCork(false, p.Now);
        p.Flush();
        Assert.Equal(3, DataSegmentsFromA(p, before));
        p.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(2 * mss + 100, p.ReadB.Length);
    }

    [Fact]
    public void Cork_OverridesNoDelay_FinStillSent()
    {
        var p = new TcpPair();
        p.Establish();
        p.A.SetNoDelay(true, p.Now);
        p.A.SetCork(true, p.Now);
        int before = p.Trace.Count;
        p.A.Send(new byte[10], p.Now, out _);
        p.Flush();
        Assert.Equal(0, DataSegmentsFromA(p, before));
        p.A.Shutdown(p.Now); // a FIN is never corked (tcp_nagle_check skips the segment that carries it)
        p.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(10, p.ReadB.Length);
        Assert.True(p.B.EofReceived);
    }

    [Fact]
    public void OnSyn_NoCookies_LastQuarterOfMaxSynBacklogDropped()
    {
        var mib = new TcpCounters();
        var q = new ListenQueue<object>(new TcpSettings { SynCookies = 0, MaxSynBacklog = 8 }, mib, backlog: 100);
        var decisions = new List<SynDecision>();
        for (int i = 0; i < 8; i++)
        {
            var d = q.OnSyn();
            decisions.Add(d);
            if (d == SynDecision.Accept) q.AddToSynQueue(new object());
        }
        // max_syn_backlog - qlen < max_syn_backlog >> 2: with 8, a 7th waiting request leaves 1 < 2 free.
        Assert.Equal(Enumerable.Repeat(SynDecision.Accept, 7).Append(SynDecision.Drop), decisions);
        Assert.Equal(7, q.SynQueueLength);
        Assert.Equal((1L, 0L, 0L), (mib[TcpExtMib.ListenDrops], mib[TcpExtMib.ListenOverflows], mib[TcpExtMib.SyncookiesSent]));
    }

    [Fact]
    public void OnSyn_Cookies_MaxSynBacklogNotABound_BacklogIs()
    {
        var mib = new TcpCounters();
        var q = new ListenQueue<object>(new TcpSettings { SynCookies = 1, MaxSynBacklog = 8 }, mib, backlog: 16);
        for (int i = 0; i < 17; i++) // inet_csk_reqsk_queue_is_full: qlen > backlog, so backlog + 1 are kept
        {
            Assert.Equal(SynDecision.Accept, q.OnSyn());
            q.AddToSynQueue(new object());
        }
        Assert.Equal(SynDecision.SendCookie, q.OnSyn()); // cookies, not a drop
        Assert.Equal((0L, 1L), (mib[TcpExtMib.ListenDrops], mib[TcpExtMib.SyncookiesSent]));
    }
}
