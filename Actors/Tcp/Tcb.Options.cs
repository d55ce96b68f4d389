using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

// Options: negotiated TCP options (window scale, SACK, timestamps, MSS: tcp_sync_mss, tcp_current_mss) and the
// socket options the owner sets on a live connection (do_tcp_setsockopt: TCP_NODELAY, TCP_CORK, SO_KEEPALIVE ...).
public sealed partial class Tcb
{
    private readonly uint _tsOffset;
    // Negotiated options.
    public int SndWscale { get; private set; }
    public int RcvWscale { get; private set; }
    public bool WscaleOk { get; private set; }
    public bool SackOk { get; private set; }
    public bool TsOk { get; private set; }
    private uint _tsRecent;
    public int PeerMss { get; private set; }
    /// <summary>
    /// Payload bytes per full segment (<c>mss_cache</c>, <c>tcp_sync_mss</c>): the peer's MSS clamped to what the
    /// path MTU leaves after the IP and TCP headers, less the timestamp option; at least TCP_MIN_SND_MSS (48).
    /// </summary>
    public int Mss => Math.Max(Math.Min(Math.Min(PeerMss, UserMss > 0 ? UserMss : int.MaxValue), PathMtu > 0 ? PathMtu - TcpConstants.IPV4_TCP_HEADER_LEN : int.MaxValue)
        - (TsOk ? TcpConstants.TCPOLEN_TSTAMP_ALIGNED : 0), MinSndMss);
    /// <summary><c>TCP_MAXSEG</c> (<c>rx_opt.user_mss</c>): clamps the MSS announced and used; 0 = none.</summary>
    public int UserMss { get; set; }
    /// <summary>The path MTU the MSS follows (<c>icsk_pmtu_cookie</c>); 0 until the owner calls <see cref="SyncMss"/>.</summary>
    public int PathMtu { get; private set; }
    /// <summary>TCP_MIN_SND_MSS: the smallest MSS a path MTU can force.</summary>
    public const int MinSndMss = TcpConstants.TCP_MIN_SND_MSS;
    /// <summary>The MSS announced in SYNs (<c>tcp_advertise_mss</c>): the route MTU less 40 when known, at most tcp default.</summary>
    private int AdvMss => Math.Min(PathMtu > 0 ? Math.Max(Math.Min(_s.DefaultMss, PathMtu - TcpConstants.IPV4_TCP_HEADER_LEN), MinSndMss) : _s.DefaultMss,
        UserMss > 0 ? UserMss : int.MaxValue);

    public bool NoDelay { get; set; }
    public bool KeepAlive { get; set; }
    public TimeSpan? KeepaliveTime { get; set; }
    public TimeSpan? KeepaliveInterval { get; set; }
    public int? KeepaliveProbes { get; set; }
    private int _keepaliveProbesOut;

    // ---------------------------------------------------------------- MSS

    /// <summary>
    /// <c>tcp_sync_mss</c>: the owner tells the TCB the route's MTU (learned PMTU included); the MSS follows it.
    /// Returns the new <see cref="Mss"/>.
    /// </summary>
    public int SyncMss(int pmtu)
    {
        if (pmtu >= TcpConstants.IPV4_MIN_MTU) PathMtu = pmtu;
        return Mss;
    }

    /// <summary>
    /// <c>tcp_current_mss</c>: the payload of a data segment sent now, so that payload plus every option it
    /// carries (timestamps, and the SACK blocks of the out-of-order queue) fits the path MTU.
    /// </summary>
    public int CurrentMss()
    {
        int mss = Mss;
        int blocks = SackBlockCount();
        if (blocks > 0) mss -= TcpConstants.TCPOLEN_SACK_BASE_ALIGNED + TcpConstants.TCPOLEN_SACK_PERBLOCK * blocks; // NOP NOP SACK len + 8 per block (tcp_established_options)
        return Math.Max(mss, MinSndMss);
    }

    /// <summary>
    /// <c>tcp_v4_mtu_reduced</c> → <c>tcp_simple_retransmit</c>: an ICMP fragmentation-needed lowered the path MTU:
    /// the MSS shrinks, every outstanding segment larger than it is marked lost (cut up on retransmission) and
    /// the connection enters Loss without reducing cwnd, retransmitting at once. False if the MTU is not smaller.
    /// </summary>
    public bool MtuReduced(int mtu, long now)
    {
        if (mtu < TcpConstants.IPV4_MIN_MTU || (PathMtu > 0 && mtu >= PathMtu)) return false;
        SyncMss(mtu);
        if (State is TcpState.Closed or TcpState.Listen or TcpState.TimeWait) return true;
        int mss = Mss;
        bool lost = false;
        foreach (var t in _rtx)
        {
            if (t.Len <= mss || t.Sacked) continue;
            t.Lost = true; _anyLostOrRetrans = true;
            t.Retrans = false;
            lost = true;
        }
        if (!lost) return true;
        if (CaState != TcpCaState.Loss)
        {
            _highSeq = SndNxt;
            CaState = TcpCaState.Loss;
        }
        _forceRetrans = true;
        Push(now);
        return true;
    }

    // ---------------------------------------------------------------- socket options

    /// <summary><c>tcp_set_congestion_control</c>: switches the algorithm, also mid-connection (the new one starts its epoch afresh).</summary>
    public void SetCongestionControl(CongestionAlgorithm a)
    {
        if (_cc.Name == ICongestionControl.Create(a).Name) return;
        _cc = ICongestionControl.Create(a);
        _cc.OnLoss(_cwnd);
    }

    /// <summary>TCP_NODELAY: setting it sends what Nagle held back (<c>tcp_push_pending_frames</c>).</summary>
    public void SetNoDelay(bool on, long now)
    {
        NoDelay = on;
        if (on) Push(now);
    }

    /// <summary>TCP_CORK (TCP_NAGLE_CORK): sub-MSS segments wait; clearing it sends them (<c>tcp_push_pending_frames</c>).</summary>
    public bool Cork { get; private set; }
    public void SetCork(bool on, long now)
    {
        Cork = on;
        if (!on) Push(now);
    }

    /// <summary>SO_SNDBUF on a live connection: the send queue's bound (never below what is queued).</summary>
    /// <summary>SO_SNDBUF: a fixed send buffer, no longer grown by <see cref="SndBufExpand"/> (SOCK_SNDBUF_LOCK).</summary>
    public void SetSendBuffer(int bytes)
    {
        _sndBuf.Limit = Math.Max(bytes, _s.WmemMin);
        _sndBufLocked = true;
    }

    private bool _sndBufLocked;
    private uint TsNow(long now) => unchecked((uint)(now / TimeSpan.TicksPerMillisecond) + _tsOffset);
}
