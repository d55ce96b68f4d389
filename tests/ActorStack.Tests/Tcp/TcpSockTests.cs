using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

/// <summary>The TCP socket calls without actors: inet_bind / inet_listen / inet_stream_connect / inet_shutdown checks, setsockopt / getsockopt.</summary>
public class TcpSockTests
{
    private static readonly TcpSettings S = TcpSettings.Default;
    private static readonly Ipv4Address Local = Ipv4Address.Parse("10.0.0.1");

    private static Tcb SynSent()
    {
        var t = new Tcb(S, new TcpCounters(), 40000, 80, iss: 1);
        t.Connect(0);
        return t;
    }

    [Fact]
    public void InetBind_Bound_IsEinval_ForeignAddress_IsEaddrnotavail()
    {
        Assert.Equal(Errno.EINVAL, TcpSock.InetBind(bound: true, Ipv4Address.Any, isLocalAddress: false));
        Assert.Equal(Errno.EADDRNOTAVAIL, TcpSock.InetBind(false, Ipv4Address.Parse("192.0.2.1"), isLocalAddress: false));
        Assert.Equal(Errno.OK, TcpSock.InetBind(false, Local, isLocalAddress: true));
        Assert.Equal(Errno.OK, TcpSock.InetBind(false, Ipv4Address.Any, isLocalAddress: false));
    }

    [Fact]
    public void InetListen_WithAConnection_IsEinval()
    {
        Assert.Equal(Errno.OK, TcpSock.InetListen(null));
        Assert.Equal(Errno.EINVAL, TcpSock.InetListen(SynSent()));
    }

    [Fact]
    public void InetStreamConnect_StateSwitch()
    {
        bool reported = false;
        Assert.Equal(TcpConnectDecision.Fail, TcpSock.InetStreamConnect(true, null, 80, false, false, ref reported, out var e));
        Assert.Equal(Errno.EINVAL, e);
        Assert.Equal(TcpConnectDecision.Fail, TcpSock.InetStreamConnect(false, null, 0, false, false, ref reported, out e));
        Assert.Equal(Errno.ECONNREFUSED, e);
        Assert.Equal(TcpConnectDecision.Start, TcpSock.InetStreamConnect(false, null, 80, false, false, ref reported, out e));
        Assert.Equal(Errno.OK, e);

        var syn = SynSent();
        Assert.Equal(TcpConnectDecision.Fail, TcpSock.InetStreamConnect(false, syn, 80, nonBlocking: true, false, ref reported, out e));
        Assert.Equal(Errno.EALREADY, e);
        Assert.Equal(TcpConnectDecision.WaitForHandshake, TcpSock.InetStreamConnect(false, syn, 80, false, false, ref reported, out _));
        Assert.Equal(TcpConnectDecision.Fail, TcpSock.InetStreamConnect(false, syn, 80, false, waiterPresent: true, ref reported, out e));
        Assert.Equal(Errno.EALREADY, e);

        // A handshake that timed out (tcp_syn_retries): its error is reported once, then EISCONN.
        while (syn.State != TcpState.Closed) syn.OnTimer(syn.NextDeadline);
        Assert.Equal(Errno.ETIMEDOUT, syn.Error);
        Assert.Equal(TcpConnectDecision.Fail, TcpSock.InetStreamConnect(false, syn, 80, false, false, ref reported, out e));
        Assert.Equal(Errno.ETIMEDOUT, e);
        Assert.True(reported);
        Assert.Equal(TcpConnectDecision.Fail, TcpSock.InetStreamConnect(false, syn, 80, false, false, ref reported, out e));
        Assert.Equal(Errno.EISCONN, e);

        var p = new TcpPair();
        p.Establish();
        reported = false;
        Assert.Equal(TcpConnectDecision.Fail, TcpSock.InetStreamConnect(false, p.A, 80, false, false, ref reported, out e));
        Assert.Equal(Errno.EISCONN, e);
    }

    [Fact]
    public void InetShutdown_BadHow_IsEinval_NoConnectionOrSynSent_IsEnotconn()
    {
        var p = new TcpPair();
        p.Establish();
        Assert.Equal(Errno.EINVAL, TcpSock.InetShutdown(3, p.A));
        Assert.Equal(Errno.EINVAL, TcpSock.InetShutdown(-1, p.A));
        Assert.Equal(Errno.ENOTCONN, TcpSock.InetShutdown(Shutdown.Wr, null));
        Assert.Equal(Errno.ENOTCONN, TcpSock.InetShutdown(Shutdown.Wr, SynSent()));
        Assert.Equal(Errno.OK, TcpSock.InetShutdown(Shutdown.RdWr, p.A));
    }

    [Fact]
    public void SoSndbuf_Doubled_CappedAtWmemMax_NotBelowWmemMin_NegativeIsEinval()
    {
        var s = new TcpSock(S);
        Assert.Equal(Errno.EINVAL, s.SetOption(SockOpt.SoSndbuf, -1, null, 0, wmemMax: 100_000, rmemMax: 100_000));
        Assert.Equal(S.WmemDefault, s.GetOption(SockOpt.SoSndbuf, null));
        Assert.Equal(Errno.OK, s.SetOption(SockOpt.SoSndbuf, 30_000, null, 0, 100_000, 100_000));
        Assert.Equal(60_000, s.GetOption(SockOpt.SoSndbuf, null));
        Assert.Equal(Errno.OK, s.SetOption(SockOpt.SoSndbuf, 1_000_000, null, 0, 100_000, 100_000));
        Assert.Equal(200_000, s.GetOption(SockOpt.SoSndbuf, null));
        Assert.Equal(Errno.OK, s.SetOption(SockOpt.SoSndbuf, 1, null, 0, 100_000, 100_000));
        Assert.Equal(S.WmemMin, s.GetOption(SockOpt.SoSndbuf, null));
        Assert.Equal(S.WmemMin, s.Options().SndBuf);
    }

    [Fact]
    public void SoRcvbuf_OnlyBeforeTheConnection()
    {
        var s = new TcpSock(S);
        Assert.Equal(Errno.OK, s.SetOption(SockOpt.SoRcvbuf, 50_000, null, 0, 100_000, 100_000));
        Assert.Equal(100_000, s.GetOption(SockOpt.SoRcvbuf, null));
        Assert.Equal(Errno.EINVAL, s.SetOption(SockOpt.SoRcvbuf, 50_000, SynSent(), 0, 100_000, 100_000));
        Assert.Equal(Errno.EINVAL, s.SetRcvBuf(-1, null, 100_000));
    }

    [Fact]
    public void Keepalive_Bounds_AreMaxTcpKeepidleIntvlCnt()
    {
        var s = new TcpSock(S);
        foreach (var (opt, max) in new[] { (SockOpt.TcpKeepidle, 32767), (SockOpt.TcpKeepintvl, 32767), (SockOpt.TcpKeepcnt, 127) })
        {
            Assert.Equal(Errno.EINVAL, s.SetOption(opt, 0, null, 0, 1, 1));
            Assert.Equal(Errno.EINVAL, s.SetOption(opt, max + 1, null, 0, 1, 1));
            Assert.Equal(Errno.OK, s.SetOption(opt, max, null, 0, 1, 1));
            Assert.Equal(max, s.GetOption(opt, null));
        }
        var t = SynSent();
        Assert.Equal(Errno.OK, s.SetOption(SockOpt.TcpKeepcnt, 5, t, 0, 1, 1));
        Assert.Equal(5, t.KeepaliveProbes);
        Assert.Equal(Errno.OK, s.SetOption(SockOpt.SoKeepalive, 1, t, 0, 1, 1));
        Assert.True(t.KeepAlive);
    }

    [Fact]
    public void TcpMaxseg_TcpMinMssToMaxTcpWindow_BeforeConnectOnly_DefaultIsTcpMssDefault()
    {
        var s = new TcpSock(S);
        Assert.Equal(536, s.GetOption(SockOpt.TcpMaxseg, null));
        Assert.Equal(Errno.EINVAL, s.SetOption(SockOpt.TcpMaxseg, 87, null, 0, 1, 1));
        Assert.Equal(Errno.EINVAL, s.SetOption(SockOpt.TcpMaxseg, 32768, null, 0, 1, 1));
        Assert.Equal(Errno.OK, s.SetOption(SockOpt.TcpMaxseg, 88, null, 0, 1, 1));
        Assert.Equal(88, s.GetOption(SockOpt.TcpMaxseg, null));
        Assert.Equal(88, s.Options().UserMss);
        Assert.Equal(Errno.EINVAL, s.SetOption(SockOpt.TcpMaxseg, 1000, SynSent(), 0, 1, 1));
    }

    [Fact]
    public void NodelayCork_AppliedToTheTcb_UnknownOptionIsEnoprotoopt()
    {
        var s = new TcpSock(S);
        var t = SynSent();
        Assert.Equal(Errno.OK, s.SetOption(SockOpt.TcpNodelay, 1, t, 0, 1, 1));
        Assert.True(t.NoDelay);
        Assert.Equal(Errno.OK, s.SetOption(SockOpt.TcpCork, 1, t, 0, 1, 1));
        Assert.True(t.Cork);
        Assert.Equal(1, s.GetOption(SockOpt.TcpCork, t));
        Assert.Equal(Errno.ENOPROTOOPT, s.SetOption(SockOpt.SoBroadcast, 1, t, 0, 1, 1));
        Assert.Null(s.GetOption(SockOpt.SoBroadcast, t));
    }

    [Fact]
    public void LingerAndCongestion()
    {
        var s = new TcpSock(S);
        Assert.Equal(Errno.EINVAL, s.SetLinger(true, -1));
        Assert.False(s.LingerOn);
        Assert.Equal(Errno.OK, s.SetLinger(true, 5));
        Assert.Equal((true, 5), (s.Options().LingerOn, s.Options().LingerSeconds));
        Assert.Equal("cubic", s.CongestionName(null));
        Assert.Equal(Errno.ENOENT, s.SetCongestion("vegas", null));
        var t = SynSent();
        Assert.Equal(Errno.OK, s.SetCongestion("reno", t));
        Assert.Equal("reno", s.CongestionName(null));
        Assert.Equal("reno", t.CongestionName);
        Assert.Equal(CongestionAlgorithm.Reno, s.Options().Congestion);
    }
}
