using ActorStack.Actors.Tcp;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Tcp.TcpPair;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

public class ListenTests
{
    private static readonly Ipv4Address C = Ipv4Address.Parse("10.0.0.9");
    private static readonly Ipv4Address S = Ipv4Address.Parse("10.0.0.2");

    [Fact]
    public void SynCookie_RoundTrip_MssFromTable()
    {
        var sc = new SynCookies(7);
        long now = TimeSpan.FromMinutes(1000).Ticks;
        var isn = new TcpSeq(123456789);
        uint cookie = sc.InitSequence(C, S, 40000, 80, isn, 1400, now, out int mss);
        Assert.Equal(1300, mss);
        // Third segment: SEQ = isn + 1, ACK = cookie + 1.
        Assert.Equal(1300, sc.Check(C, S, 40000, 80, isn + 1, new TcpSeq(cookie) + 1, now));
        Assert.Equal(1300, sc.Check(C, S, 40000, 80, isn + 1, new TcpSeq(cookie) + 1, now + TimeSpan.FromSeconds(119).Ticks));
        Assert.Equal(536, (int)SynCookies.MssTable[0]);
        uint c2 = sc.InitSequence(C, S, 40000, 80, isn, 9000, now, out int mss2);
        Assert.Equal(1460, mss2);
        Assert.Equal(1460, sc.Check(C, S, 40000, 80, isn + 1, new TcpSeq(c2) + 1, now));
    }

    [Fact]
    public void SynCookie_ForgedOrExpiredOrOtherTuple_Rejected()
    {
        var sc = new SynCookies(7);
        long now = TimeSpan.FromMinutes(1000).Ticks + 1;
        var isn = new TcpSeq(5);
        uint cookie = sc.InitSequence(C, S, 40000, 80, isn, 1460, now, out _);
        Assert.Equal(0, sc.Check(C, S, 40000, 80, isn + 1, new TcpSeq(cookie) + 2, now));
        Assert.Equal(0, sc.Check(C, S, 40001, 80, isn + 1, new TcpSeq(cookie) + 1, now));
        Assert.Equal(0, sc.Check(C, S, 40000, 80, isn + 1, new TcpSeq(cookie) + 1, now + TimeSpan.FromMinutes(2).Ticks));
        Assert.Equal(0, new SynCookies(8).Check(C, S, 40000, 80, isn + 1, new TcpSeq(cookie) + 1, now));
    }

    [Fact]
    public void SynCookie_Timestamp_CarriesWscaleAndSack()
    {
        uint ts = SynCookies.InitTimestamp(1_000_000, 7, sackOk: true, ecnOk: false);
        Assert.True(ts <= 1_000_000);
        Assert.True(1_000_000 - ts < 64);
        SynCookies.DecodeTimestamp(ts, out var ws, out var sack);
        Assert.Equal(7, ws);
        Assert.True(sack);
        SynCookies.DecodeTimestamp(SynCookies.InitTimestamp(5000, null, false, false), out var ws2, out var sack2);
        Assert.Null(ws2);
        Assert.False(sack2);
    }

    [Fact]
    public void ListenQueue_AcceptQueueFull_OverflowCountedAndBounded()
    {
        var mib = new TcpCounters();
        var q = new ListenQueue<object>(new TcpSettings { SynCookies = 0 }, mib, backlog: 2);
        var children = Enumerable.Range(0, 5).Select(_ => new object()).ToList();
        int established = 0;
        foreach (var c in children)
        {
            if (q.OnSyn() != SynDecision.Accept) continue;
            q.AddToSynQueue(c);
            if (q.ChildEstablished(c)) established++;
        }
        // Linux lets backlog + 1 into the accept queue.
        Assert.Equal(3, established);
        Assert.Equal(3, q.AcceptQueueLength);
        Assert.Equal(2, mib[TcpExtMib.ListenOverflows]);
        Assert.Equal(2, mib[TcpExtMib.ListenDrops]);
        Assert.Same(children[0], q.Accept());
        Assert.Equal(SynDecision.Accept, q.OnSyn());
    }

    /// <summary>
    /// <c>cookie_v4_check</c> → <c>tcp_v4_syn_recv_sock</c>: a cookie ACK makes its child only with room in the accept
    /// queue (backlog 2: 3 places), and the child holds its place from then on, before it reports ready; the 4th ACK
    /// finds the queue full: ListenOverflows + ListenDrops, no child (the listener drops the ACK without a RST). A cookie
    /// child gone before it was ready gives its place back; one accepted frees a place too.
    /// </summary>
    [Fact]
    public void ListenQueue_CookieChild_HoldsItsPlaceFromTheAck_FourthOverflowsSilently()
    {
        var mib = new TcpCounters();
        var q = new ListenQueue<object>(new TcpSettings { SynCookies = 2 }, mib, backlog: 2);
        var c = Enumerable.Range(0, 4).Select(_ => new object()).ToArray();
        Assert.True(q.ReserveCookieChild());
        Assert.True(q.ReserveCookieChild());
        Assert.True(q.ReserveCookieChild());
        Assert.False(q.ReserveCookieChild());                // 3 > backlog 2: full before any child reported ready
        Assert.Equal((1L, 1L), (mib[TcpExtMib.ListenOverflows], mib[TcpExtMib.ListenDrops]));
        Assert.True(q.CookieEstablished(c[0]));
        Assert.True(q.CookieEstablished(c[1]));
        Assert.Equal(2, q.AcceptQueueLength);
        Assert.False(q.ReserveCookieChild());                // the third still holds its place
        q.ReleaseCookieChild();                              // ... until it goes before it was ready
        Assert.True(q.ReserveCookieChild());
        Assert.True(q.CookieEstablished(c[2]));
        Assert.Equal(3, q.AcceptQueueLength);
        Assert.False(q.ReserveCookieChild());
        Assert.Same(c[0], q.Accept());
        Assert.True(q.ReserveCookieChild());
        Assert.Equal((3L, 3L), (mib[TcpExtMib.ListenOverflows], mib[TcpExtMib.ListenDrops]));
    }

    [Fact]
    public void ListenQueue_SynFlood_CookiesInsteadOfState()
    {
        var mib = new TcpCounters();
        var q = new ListenQueue<object>(TcpSettings.Default, mib, backlog: 4);
        for (int i = 0; i < 5; i++) // backlog + 1 requests (inet_csk_reqsk_queue_is_full: qlen > backlog)
        {
            Assert.Equal(SynDecision.Accept, q.OnSyn());
            q.AddToSynQueue(new object());
        }
        for (int i = 0; i < 100; i++) Assert.Equal(SynDecision.SendCookie, q.OnSyn());
        Assert.Equal(5, q.SynQueueLength);
        Assert.Equal(100, mib[TcpExtMib.SyncookiesSent]);
        Assert.Equal(100, mib[TcpExtMib.TCPReqQFullDoCookies]);
    }

    /// <summary>Linux 6.18 with listen(128): 129 requests kept, the 130th answered with a cookie (measured: 3,000 SYNs, 2,871 cookies).</summary>
    [Theory]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(129)]
    public void ListenQueue_Listen128_Keeps129_CookiesFrom130th(int backlog)
    {
        var mib = new TcpCounters();
        var q = new ListenQueue<object>(TcpSettings.Default, mib, backlog);
        var d = new List<SynDecision>();
        for (int i = 0; i < 3000; i++)
        {
            var x = q.OnSyn();
            d.Add(x);
            if (x == SynDecision.Accept) q.AddToSynQueue(new object());
        }
        Assert.Equal(backlog + 1, d.TakeWhile(x => x == SynDecision.Accept).Count());
        Assert.All(d.Skip(backlog + 1), x => Assert.Equal(SynDecision.SendCookie, x));
        Assert.Equal(backlog + 1, q.SynQueueLength);
        Assert.Equal(3000 - backlog - 1, mib[TcpExtMib.TCPReqQFullDoCookies]);
        Assert.Equal(3000 - backlog - 1, mib[TcpExtMib.SyncookiesSent]);
        Assert.Equal((0L, 0L), (mib[TcpExtMib.TCPReqQFullDrop], mib[TcpExtMib.ListenDrops]));
        if (backlog == 128) Assert.Equal(2871, mib[TcpExtMib.SyncookiesSent]);
    }

    [Fact]
    public void ListenQueue_NoCookies_130thDropped_ReqQFullDropCounted()
    {
        var mib = new TcpCounters();
        var q = new ListenQueue<object>(TcpSettings.Default with { SynCookies = 0, MaxSynBacklog = 4096 }, mib, backlog: 128);
        for (int i = 0; i < 129; i++)
        {
            Assert.Equal(SynDecision.Accept, q.OnSyn());
            q.AddToSynQueue(new object());
        }
        Assert.Equal((0L, 0L), (mib[TcpExtMib.TCPReqQFullDrop], mib[TcpExtMib.ListenDrops]));
        Assert.Equal(SynDecision.Drop, q.OnSyn());
        Assert.Equal(SynDecision.Drop, q.OnSyn());
        Assert.Equal((2L, 2L, 0L, 0L), (mib[TcpExtMib.TCPReqQFullDrop], mib[TcpExtMib.ListenDrops],
            mib[TcpExtMib.TCPReqQFullDoCookies], mib[TcpExtMib.SyncookiesSent]));
    }

    [Fact]
    public void ListenQueue_Syncookies2_EverySynCookied_CountedAsReqQFull()
    {
        // tcp_syncookies 2 sends cookies unconditionally; tcp_syn_flood_action counts TCPReqQFullDoCookies for each.
        var mib = new TcpCounters();
        var q = new ListenQueue<object>(TcpSettings.Default with { SynCookies = 2 }, mib, backlog: 128);
        Assert.Equal(SynDecision.SendCookie, q.OnSyn());
        Assert.Equal((1L, 1L), (mib[TcpExtMib.TCPReqQFullDoCookies], mib[TcpExtMib.SyncookiesSent]));
    }

    [Fact]
    public void ListenQueue_Backlog_ClampedToSomaxconn()
        => Assert.Equal(4096, new ListenQueue<object>(TcpSettings.Default, new TcpCounters(), 100_000).MaxAckBacklog);

    [Fact]
    public void Cookie_ConnectionFromThirdSegment_TransfersData()
    {
        // The listener answers the SYN statelessly: the SYN-ACK comes from a throwaway TCB whose ISS is the cookie.
        var p = new TcpPair { BListens = false };
        var sc = new SynCookies(99);
        p.A.Connect(p.Now);
        p.Flush();
        var syn = p.Trace[0].Seg;
        uint cookie = sc.InitSequence(IpA, IpB, PortA, PortB, syn.Seq, syn.Options.Mss ?? 536, p.Now, out _);
        var stateless = new Tcb(TcpSettings.Default, p.MibB, PortB, PortA, cookie);
        stateless.AcceptSyn(syn, p.Now);
        var synAck = stateless.Outbox.Single();
        p.Now += Ms(5);
        p.Inject(toB: false, synAck);
        Assert.Equal(TcpState.Established, p.A.State);
        var ack = p.Trace.Last(x => x.FromA).Seg;

        int mss = sc.Check(IpA, IpB, PortA, PortB, ack.Seq, ack.Ack, p.Now);
        Assert.Equal(1460, mss);
        var child = new Tcb(TcpSettings.Default, p.MibB, PortB, PortA, cookie);
        child.AcceptCookie(ack, mss, sackOk: true, sndWscale: 7, tsOk: false, p.Now);
        Assert.Equal(TcpState.Established, child.State);
        Assert.Equal(child.Iss + 1, child.SndUna);
        Assert.Equal(ack.Seq, child.RcvNxt);
        Assert.Equal(1, p.MibB[TcpMib.PassiveOpens]);
    }
}
