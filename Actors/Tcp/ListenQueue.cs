using ActorStack.Config;
namespace ActorStack.Actors.Tcp;

/// <summary>What a listener does with an arriving SYN (<c>tcp_conn_request</c>).</summary>
public enum SynDecision
{
    /// <summary>Create a child in SYN_RECEIVED (<see cref="Tcb.AcceptSyn"/>) and add it with <see cref="ListenQueue{T}.AddToSynQueue"/>.</summary>
    Accept,
    /// <summary>The SYN queue is full: answer with a SYN cookie SYN-ACK and keep no state (SyncookiesSent counted).</summary>
    SendCookie,
    /// <summary>Dropped (accept queue full, or SYN queue full without cookies); ListenDrops counted.</summary>
    Drop,
}

/// <summary>
/// A listening socket's two queues (<c>struct request_sock_queue</c>): the SYN queue of embryonic
/// children and the accept queue of established ones, both bounded by
/// <c>sk_max_ack_backlog</c> = min(backlog, somaxconn). As in Linux the accept queue is full only
/// when it holds more than the backlog (<c>sk_acceptq_is_full</c>), and the SYN queue likewise when it holds
/// more than the backlog (<c>inet_csk_reqsk_queue_is_full</c>). Overflows count ListenOverflows / ListenDrops.
/// </summary>
public sealed class ListenQueue<TChild> where TChild : class
{
    private readonly TcpSettings _s;
    private readonly TcpCounters _mib;
    // The SYN queue with each request's num_timeout (SYN-ACK timeouts so far); _young counts those with none yet
    // (request_sock_queue.young: reqsk_queue_added / the first timeout / reqsk_queue_removed).
    private readonly Dictionary<TChild, int> _synQueue = new(ReferenceEqualityComparer.Instance);
    private int _young;
    private readonly Queue<TChild> _acceptQueue = new();

    public int MaxAckBacklog { get; private set; }
    public int SynQueueLength => _synQueue.Count;
    /// <summary><c>reqsk_queue_len_young</c>: requests whose SYN-ACK has not timed out yet.</summary>
    public int SynQueueYoung => _young;
    public int AcceptQueueLength => _acceptQueue.Count;

    public ListenQueue(TcpSettings settings, TcpCounters mib, int backlog)
    {
        _s = settings;
        _mib = mib;
        Listen(backlog);
    }

    /// <summary><c>listen(2)</c> again changes the backlog (<c>__inet_listen_sk</c>): min(backlog, somaxconn), at least 0.</summary>
    public void Listen(int backlog) => MaxAckBacklog = Math.Clamp(backlog, 0, _s.SoMaxConn);

    // sk_acceptq_is_full: sk_ack_backlog > sk_max_ack_backlog. A cookie child is in the accept queue from the
    // moment cookie_v4_check makes it (inet_csk_reqsk_queue_add); here it holds its place until it reports ready.
    private bool AcceptQueueFull => _acceptQueue.Count + _cookieChildren > MaxAckBacklog;
    private int _cookieChildren; // cookie children made, not yet established here nor gone

    /// <summary>
    /// <c>cookie_v4_check</c> → <c>tcp_get_cookie_sock</c> → <c>tcp_v4_syn_recv_sock</c>: with the accept queue full no
    /// child is made (<c>exit_overflow</c>: ListenOverflows, ListenDrops) and the ACK is dropped without a RST, whatever
    /// <c>tcp_abort_on_overflow</c> says; else the child takes its place in the accept queue. False on overflow.
    /// </summary>
    public bool ReserveCookieChild()
    {
        if (AcceptQueueFull)
        {
            _mib.Ext.Inc(TcpExtMib.ListenOverflows);
            _mib.Ext.Inc(TcpExtMib.ListenDrops);
            return false;
        }
        _cookieChildren++;
        return true;
    }

    /// <summary>A cookie child went before it was established here: its place in the accept queue is free again.</summary>
    public void ReleaseCookieChild()
    {
        if (_cookieChildren > 0) _cookieChildren--;
    }

    /// <summary>
    /// <c>inet_csk_reqsk_queue_is_full</c>: <c>reqsk_queue_len &gt; sk_max_ack_backlog</c> (Linux 6.x), so with
    /// listen(128) the 129th request is still kept and the 130th is the first to get a cookie.
    /// </summary>
    public bool SynQueueFull => _synQueue.Count > MaxAckBacklog;

    /// <summary><c>tcp_conn_request</c>: decides on a SYN before any state is created.</summary>
    public SynDecision OnSyn()
    {
        bool wantCookie = false;
        // (syncookies == 2 || inet_csk_reqsk_queue_is_full(sk)) → tcp_syn_flood_action, which counts
        // TCPReqQFullDoCookies when tcp_syncookies is set (also for mode 2 with room left) and TCPReqQFullDrop
        // otherwise; the drop then goes through tcp_listendrop (ListenDrops).
        if (_s.SynCookies == 2 || SynQueueFull)
        {
            if (_s.SynCookies == 0)
            {
                _mib.Ext.Inc(TcpExtMib.TCPReqQFullDrop);
                _mib.Ext.Inc(TcpExtMib.ListenDrops);
                return SynDecision.Drop;
            }
            _mib.Ext.Inc(TcpExtMib.TCPReqQFullDoCookies);
            wantCookie = true;
        }
        if (AcceptQueueFull)
        {
            _mib.Ext.Inc(TcpExtMib.ListenOverflows);
            _mib.Ext.Inc(TcpExtMib.ListenDrops);
            return SynDecision.Drop;
        }
        if (wantCookie)
        {
            _mib.Ext.Inc(TcpExtMib.SyncookiesSent);
            return SynDecision.SendCookie;
        }
        // Without syncookies the last quarter of net.ipv4.tcp_max_syn_backlog is kept for peers proven alive
        // (tcp_peer_is_proven; this stack keeps no tcp_metrics, so none is): max_syn_backlog - reqsk_queue_len <
        // max_syn_backlog >> 2 drops the SYN (pr_drop_req, tcp_listendrop). With syncookies on, Linux bounds the
        // SYN queue by sk_max_ack_backlog alone (inet_csk_reqsk_queue_is_full above) and answers the rest with cookies.
        if (_s.SynCookies == 0 && _s.MaxSynBacklog - _synQueue.Count < _s.MaxSynBacklog >> 2)
        {
            _mib.Ext.Inc(TcpExtMib.ListenDrops);
            return SynDecision.Drop;
        }
        return SynDecision.Accept;
    }

    /// <summary><c>reqsk_queue_added</c>: qlen and young both grow.</summary>
    public void AddToSynQueue(TChild child)
    {
        if (_synQueue.TryAdd(child, 0)) _young++;
    }

    public bool InSynQueue(TChild child) => _synQueue.ContainsKey(child);

    /// <summary>The child timed out or was reset before completing (<c>inet_csk_reqsk_queue_drop</c> → <c>reqsk_queue_removed</c>).</summary>
    public bool RemoveFromSynQueue(TChild child)
    {
        if (!_synQueue.Remove(child, out int numTimeout)) return false;
        if (numTimeout == 0) _young--;
        return true;
    }

    /// <summary>
    /// <c>reqsk_timer_handler</c> for one request whose SYN-ACK timed out: true to resend it (num_timeout grows; the
    /// first timeout makes the request old), false when it expires (removed here, as <c>inet_csk_reqsk_queue_drop</c>).
    /// The retry limit is tcp_synack_retries, lowered while the queue is more than half full (qlen·2 &gt;
    /// max(8, backlog)) and the old requests are not outnumbered by twice the young: each halving of the young share
    /// takes one retry off, down to 2 ("we reserve half of room for young embrions; and abort old ones without pity").
    /// With listen(128) and 3,000 unanswered SYNs this gives Linux's waves of 129, 129, then 64 SYN-ACKs.
    /// </summary>
    public bool SynAckTimer(TChild child)
    {
        if (!_synQueue.TryGetValue(child, out int numTimeout)) return false;
        int maxRetries = _s.SynAckRetries, qlen = _synQueue.Count;
        if (qlen << 1 > Math.Max(8, MaxAckBacklog))
        {
            int young = _young << 1;
            while (maxRetries > 2)
            {
                if (qlen < young) break;
                maxRetries--;
                young <<= 1;
            }
        }
        if (numTimeout >= maxRetries) // syn_ack_recalc without TCP_DEFER_ACCEPT: expire
        {
            RemoveFromSynQueue(child);
            return false;
        }
        _synQueue[child] = numTimeout + 1;
        if (numTimeout == 0) _young--;
        return true;
    }

    /// <summary>
    /// The child's handshake completed (<c>inet_csk_complete_hashdance</c>): moves it to the accept
    /// queue, or — the accept queue being full — counts ListenOverflows and ListenDrops and leaves it in
    /// the SYN queue (tcp_abort_on_overflow 0: the ACK is ignored, the SYN-ACK will be retransmitted).
    /// </summary>
    public bool ChildEstablished(TChild child)
    {
        if (AcceptQueueFull)
        {
            _mib.Ext.Inc(TcpExtMib.ListenOverflows);
            _mib.Ext.Inc(TcpExtMib.ListenDrops);
            return false;
        }
        RemoveFromSynQueue(child);
        _acceptQueue.Enqueue(child);
        return true;
    }

    /// <summary>A child created from a valid cookie (<c>cookie_v4_check</c>) takes the place <see cref="ReserveCookieChild"/> kept.</summary>
    public bool CookieEstablished(TChild child)
    {
        ReleaseCookieChild();
        _acceptQueue.Enqueue(child);
        return true;
    }

    /// <summary><c>inet_csk_accept</c>: the oldest established child, or null (EAGAIN / block).</summary>
    public TChild? Accept() => _acceptQueue.Count > 0 ? _acceptQueue.Dequeue() : null;
}
