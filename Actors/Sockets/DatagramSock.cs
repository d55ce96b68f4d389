using Akka.Actor;
using ActorStack.Actors.Icmp;
using ActorStack.Actors.Ipv4;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Actors.Sockets;

/// <summary>
/// The send side, options and pending error of one datagram socket (UDP or raw IPv4) without an actor:
/// <c>udp_sendmsg</c> / <c>raw_sendmsg</c> with <c>ip_append_data</c> and the cork (<c>MSG_MORE</c>, <c>UDP_CORK</c>),
/// <c>sk_wmem_alloc</c> against <c>sk_sndbuf</c>, <c>sock_wfree</c>, <c>sk_err</c> (<c>__udp4_lib_err</c>,
/// <c>sock_error</c>) and <c>setsockopt</c> / <c>getsockopt</c>. Time is passed in. Datagrams go to
/// <paramref name="output"/> (<c>ip_local_out</c>), owned by <paramref name="owner"/> (whom <c>sock_wfree</c>
/// tells); the caller flushes <paramref name="output"/> after each call that sent. Addresses, buffer sizes and the
/// published counters live in <paramref name="counters"/>, which the socket shares with <c>ss</c> and snapshots.
/// </summary>
public sealed class DatagramSock
{
    /// <summary><c>SOCK_MIN_RCVBUF</c>: 2048 bytes plus one <c>sk_buff</c>.</summary>
    public const int SockMinRcvbuf = 2048 + 256;
    /// <summary><c>SOCK_MIN_SNDBUF</c>: twice (2048 bytes + one <c>sk_buff</c>).</summary>
    public const int SockMinSndbuf = 2 * (2048 + 256);

    private readonly NetNamespace _ns;
    private readonly SockType _type;
    private readonly byte _protocol;
    private readonly SocketCounters _c;
    private readonly IpOutput _out;
    private readonly IActorRef _owner;
    private readonly UdpCork _cork = new();
    private Errno _skErr;
    private int _ttl = -1, _tos, _pmtudisc;
    private byte _priority;
    private bool _hdrincl, _broadcast, _recverr, _udpCork;

    public DatagramSock(NetNamespace ns, SockType type, byte protocol, SocketCounters counters, IpOutput output, IActorRef owner)
    {
        _ns = ns;
        _type = type;
        _protocol = protocol;
        _c = counters;
        _out = output;
        _owner = owner;
        _hdrincl = type == SockType.Raw && protocol == IpProtocol.Raw; // IPPROTO_RAW implies IP_HDRINCL
        _pmtudisc = ns.Sysctl.IpNoPmtuDisc != 0 ? 0 : 1;                 // IP_PMTUDISC_WANT unless ip_no_pmtu_disc
    }

    public SockType Type => _type;
    public bool Connected => !_c.RemoteAddress.IsAny;
    /// <summary><c>sk_wmem_alloc</c>: truesize of the buffers sent and not yet freed.</summary>
    public long WmemAlloc => _wmemAlloc;
    /// <summary>The corked datagram (<c>sk_write_queue</c>).</summary>
    public UdpCork Cork => _cork;

    // ---------------------------------------------------------------- sk_err

    /// <summary><c>sock_error</c>: the pending error, cleared as it is reported.</summary>
    public Errno? TakeError()
    {
        if (_skErr == Errno.OK) return null;
        var e = _skErr;
        SetError(Errno.OK);
        return e;
    }

    private void SetError(Errno e)
    {
        _skErr = e;
        Volatile.Write(ref _c.PendingError, (int)e);
    }

    /// <summary>
    /// <c>__udp4_lib_err</c>: sets <c>sk_err</c> for hard errors on a connected socket, or any error with
    /// <c>IP_RECVERR</c>; true when it did (the caller wakes a blocked reader: <c>sk_error_report</c>).
    /// </summary>
    public bool Err(IcmpErrorReceived e)
    {
        if (!IcmpErrConvert.Convert(e.Type, e.Code, _pmtudisc, out var err, out bool hard)) return false;
        if (!_recverr && (!hard || !Connected)) return false;
        SetError(err);
        return true;
    }

    // ---------------------------------------------------------------- sending

    /// <summary>
    /// One <c>udp_sendmsg</c> / <c>raw_sendmsg</c>. <paramref name="wouldBlock"/>: the send buffer is full
    /// (<c>sock_alloc_send_skb</c> would sleep); nothing was done.
    /// </summary>
    public Errno SendMsg(SendTo m, long now, out bool wouldBlock)
    {
        wouldBlock = false;
        if (TakeError() is { } err) return err;
        return _type == SockType.Dgram ? UdpSendMsg(m, now, out wouldBlock) : RawSendMsg(m, now, out wouldBlock);
    }

    private Errno UdpSendMsg(SendTo m, long now, out bool wouldBlock)
    {
        wouldBlock = false;
        bool more = (m.Flags & MsgFlags.More) != 0 || _udpCork;
        if (!_cork.Active)
        {
            Ipv4Address dst;
            ushort port;
            if (m.Address is { } a)
            {
                if (m.Port == 0) return Errno.EINVAL;
                (dst, port) = (a, m.Port);
            }
            else if (Connected) (dst, port) = (_c.RemoteAddress, _c.RemotePort);
            else return Errno.EDESTADDRREQ;
            if (m.Payload.Length > DatagramBuilder.MaxUdpPayload) return Errno.EMSGSIZE;
            if (!more)
            {
                if (Full) { wouldBlock = true; return Errno.OK; }
                return UdpSendSkb(dst, port, null, m.Payload, m.Payload.Length, now);
            }
            _cork.Start(dst, port);
        }
        // ip_append_data onto the pending datagram; the destination stays the first send's.
        if (_cork.Length + m.Payload.Length > DatagramBuilder.MaxUdpPayload)
        {
            _cork.Clear();
            return Errno.EMSGSIZE;
        }
        if (Full) { wouldBlock = true; return Errno.OK; }
        _cork.Append(m.Payload);
        if (more) return Errno.OK;
        return UdpPushPendingFrames(now);
    }

    /// <summary><c>udp_push_pending_frames</c>.</summary>
    private Errno UdpPushPendingFrames(long now)
    {
        var (dst, port, parts, len) = (_cork.Destination, _cork.Port, _cork.Parts.ToArray(), _cork.Length);
        _cork.Clear();
        return UdpSendSkb(dst, port, parts, default, len, now);
    }

    private bool Full => _wmemAlloc >= Volatile.Read(ref _c.SndBuf);

    // sk_wmem_alloc and the send counters are changed only by this socket; they are published to the shared
    // SocketCounters (ss, snapshots) and the Udp MIB once per message handler (PublishSendCounters), not per datagram.
    private long _wmemAlloc;
    private long _sentDatagrams, _sentBytes, _udpOut;

    /// <summary>Publishes <c>sk_wmem_alloc</c> and the datagrams sent since the last call (<c>OutDatagrams</c>).</summary>
    public void PublishSendCounters()
    {
        Volatile.Write(ref _c.WmemAlloc, _wmemAlloc);
        if (_sentDatagrams == 0 && _udpOut == 0) return;
        Interlocked.Add(ref _c.DatagramsSent, _sentDatagrams);
        Interlocked.Add(ref _c.BytesSent, _sentBytes);
        _ns.Udp.Add(UdpMib.OutDatagrams, _udpOut);
        _sentDatagrams = _sentBytes = _udpOut = 0;
    }

    /// <summary>
    /// Route, the local checks of <c>ip_append_data</c>, then <c>udp_send_skb</c> → <c>ip_send_skb</c>. The data is
    /// the corked <paramref name="parts"/>, or <paramref name="single"/> when null (one uncorked send).
    /// </summary>
    private Errno UdpSendSkb(Ipv4Address dst, ushort port, IReadOnlyList<ReadOnlyMemory<byte>>? parts, ReadOnlyMemory<byte> single,
        int len, long now)
    {
        var err = Route(dst, now, out var rt);
        if (err != Errno.OK) return err;
        int ipLen = Ipv4Header.MinLength + UdpHeader.Length + len;
        if (_pmtudisc >= 2 && ipLen > rt.Mtu) return Errno.EMSGSIZE; // IP_PMTUDISC_DO/PROBE: ip_local_error
        bool df = _pmtudisc >= 2 || (_pmtudisc == 1 && ipLen <= rt.Mtu);
        var frame = parts is null
            ? DatagramBuilder.Udp(_out, rt.Source, _c.LocalPort, dst, port, single.Span, Ttl(rt), (byte)_tos, df)
            : DatagramBuilder.Udp(_out, rt.Source, _c.LocalPort, dst, port, parts, len, Ttl(rt), (byte)_tos, df);
        err = Transmit(frame, rt, now);
        if (err != Errno.OK) return err;
        _udpOut++;
        _sentDatagrams++;
        _sentBytes += len;
        return Errno.OK;
    }

    private Errno RawSendMsg(SendTo m, long now, out bool wouldBlock)
    {
        wouldBlock = false;
        var dst = m.Address ?? (Connected ? _c.RemoteAddress : (Ipv4Address?)null);
        if (_hdrincl && dst is null && Ipv4Header.TryRead(m.Payload.Span, out var uh)) dst = uh.Destination;
        if (dst is not { } d) return Errno.EDESTADDRREQ;
        if (m.Payload.Length > Ipv4Header.MaxTotalLength - (_hdrincl ? 0 : Ipv4Header.MinLength)) return Errno.EMSGSIZE;
        if (Full) { wouldBlock = true; return Errno.OK; }
        var err = Route(d, now, out var rt);
        if (err != Errno.OK) return err;
        byte[] frame;
        if (_hdrincl)
        {
            // raw_send_hdrinc: the packet may not exceed the MTU (no fragmentation of a user-built header).
            if (m.Payload.Length > rt.Mtu) return Errno.EMSGSIZE;
            err = DatagramBuilder.HdrIncl(_out, m.Payload.Span, rt.Source, out frame, out _);
            if (err != Errno.OK) return err;
            // raw_send_hdrinc: an ICMP message the user built whole is counted like any other (icmp_out_count).
            var hp = m.Payload.Span;
            if (Ipv4Header.TryRead(hp, out var hh) && hh.Protocol == IpProtocol.Icmp && hp.Length >= hh.HeaderLength
                && IcmpHeader.TryRead(hp[hh.HeaderLength..], out var ih))
                IcmpCore.IcmpOutCount(_ns, ih.Type);
        }
        else
        {
            int ipLen = Ipv4Header.MinLength + m.Payload.Length;
            if (_pmtudisc >= 2 && ipLen > rt.Mtu) return Errno.EMSGSIZE;
            bool df = _pmtudisc >= 2 || (_pmtudisc == 1 && ipLen <= rt.Mtu);
            frame = DatagramBuilder.Raw(_out, rt.Source, d, _protocol, m.Payload.Span, Ttl(rt), (byte)_tos, df);
            // __ip_make_skb: an ICMP socket's message counts under the type raw_probe_proto_opt read from it.
            if (_protocol == IpProtocol.Icmp && IcmpHeader.TryRead(m.Payload.Span, out var ih)) IcmpCore.IcmpOutCount(_ns, ih.Type);
        }
        err = Transmit(frame, rt, now);
        if (err != Errno.OK) return err;
        _sentDatagrams++;
        _sentBytes += m.Payload.Length;
        return Errno.OK;
    }

    /// <summary><c>ip_route_output_flow</c> for a send: a bound address is the source; broadcast needs <c>SO_BROADCAST</c>.</summary>
    private Errno Route(Ipv4Address dst, long now, out OutputRoute rt)
    {
        var err = _out.Route(dst, _c.LocalAddress.IsLimitedBroadcast ? Ipv4Address.Any : _c.LocalAddress, 0, now, out rt);
        if (err == Errno.ENETUNREACH) _ns.Ip.Inc(IpMib.OutNoRoutes);
        if (err != Errno.OK) return err;
        if (rt.IsBroadcast && !_broadcast && !dst.IsMulticast) return Errno.EACCES;
        return Errno.OK;
    }

    private byte Ttl(in OutputRoute rt) => (byte)(_ttl >= 0 ? _ttl : rt.NextHop.IsMulticast ? 1 : _ns.Sysctl.IpDefaultTtl);

    /// <summary>Charges the buffer to <c>sk_wmem_alloc</c> and sends it (<c>ip_local_out</c>).</summary>
    private Errno Transmit(byte[] frame, in OutputRoute rt, long now)
    {
        var skb = IpOutput.NewSkb(frame, _owner, _priority);
        _wmemAlloc += skb.Truesize;
        return _out.LocalOut(skb, rt, now);
    }

    /// <summary>
    /// <c>sock_wfree</c>: <paramref name="truesize"/> bytes of sent buffers were freed, <paramref name="dropped"/> of
    /// them by a full qdisc (<c>NET_XMIT_DROP</c>). <c>ip_send_skb</c> makes that <c>-ENOBUFS</c> and counts Ip
    /// OutDiscards; <c>udp_send_skb</c> then counts SndbufErrors (or, with <c>IP_RECVERR</c>, reports <c>ENOBUFS</c>)
    /// and not OutDatagrams. The device's verdict arrives after the send returned here, so the OutDatagrams counted
    /// then are taken back and the error is reported on the socket's next call.
    /// </summary>
    public void WmemFree(long truesize, int dropped)
    {
        _wmemAlloc -= truesize;
        Volatile.Write(ref _c.WmemAlloc, _wmemAlloc);
        if (dropped <= 0) return;
        _ns.Ip.Add(IpMib.OutDiscards, dropped);
        if (_type != SockType.Dgram) return;
        _udpOut -= dropped;
        _ns.Udp.Add(UdpMib.OutDatagrams, _udpOut);
        _udpOut = 0;
        if (_recverr) SetError(Errno.ENOBUFS);
        else _ns.Udp.Add(UdpMib.SndbufErrors, dropped);
    }

    /// <summary><c>ip_flush_pending_frames</c> at close.</summary>
    public void Close() => _cork.Clear();

    // ---------------------------------------------------------------- options

    /// <summary><c>SO_RCVBUF</c>: doubled for bookkeeping overhead, capped at <c>rmem_max</c>, at least <c>SOCK_MIN_RCVBUF</c>.</summary>
    public Errno SetRcvBuf(int bytes, out int rcvbuf)
    {
        rcvbuf = 0;
        if (bytes < 0) return Errno.EINVAL;
        int val = Math.Min(bytes, _ns.Sysctl.RmemMax);
        rcvbuf = Math.Max(val * 2, SockMinRcvbuf);
        Volatile.Write(ref _c.RcvBuf, rcvbuf);
        return Errno.OK;
    }

    /// <summary>
    /// <c>sock_setsockopt</c> / <c>do_ip_setsockopt</c> / <c>udp_lib_setsockopt</c>. Clearing <c>UDP_CORK</c> sends
    /// the pending datagram (<paramref name="sent"/>: the caller flushes the output; an error of that send becomes
    /// <c>sk_err</c>).
    /// </summary>
    public Errno SetSockOpt(SockOpt opt, int v, long now, out bool sent)
    {
        sent = false;
        switch (opt)
        {
            case SockOpt.SoSndbuf:
                if (v < 0) return Errno.EINVAL;
                Volatile.Write(ref _c.SndBuf, Math.Max(Math.Min(v, _ns.Sysctl.WmemMax) * 2, SockMinSndbuf));
                return Errno.OK;
            case SockOpt.SoBroadcast: _broadcast = v != 0; return Errno.OK;
            case SockOpt.SoPriority:
                if (v is < 0 or > 255) return Errno.EPERM;
                _priority = (byte)v;
                return Errno.OK;
            case SockOpt.IpTtl:
                if (v != -1 && v is < 1 or > 255) return Errno.EINVAL;
                _ttl = v;
                return Errno.OK;
            case SockOpt.IpTos:
                _tos = v & 0xFF;
                _priority = ActorStack.Actors.Sched.PfifoFast<object>.Tos2Priority((byte)_tos); // sk_priority = rt_tos2priority(tos)
                return Errno.OK;
            case SockOpt.IpHdrIncl:
                if (_type != SockType.Raw) return Errno.ENOPROTOOPT;
                if (_protocol == IpProtocol.Raw && v == 0) return Errno.EINVAL; // IPPROTO_RAW is always HDRINCL
                _hdrincl = v != 0;
                return Errno.OK;
            case SockOpt.IpMtuDiscover:
                if (v is < 0 or > 5) return Errno.EINVAL;
                _pmtudisc = v;
                return Errno.OK;
            case SockOpt.IpRecvErr: _recverr = v != 0; return Errno.OK;
            case SockOpt.UdpCork:
                if (_type != SockType.Dgram) return Errno.ENOPROTOOPT;
                _udpCork = v != 0;
                if (!_udpCork && _cork.Active)
                {
                    var e = UdpPushPendingFrames(now);
                    PublishSendCounters();
                    sent = true;
                    if (e != Errno.OK) SetError(e);
                }
                return Errno.OK;
            default:
                return Errno.EINVAL; // IP_MTU is read-only
        }
    }

    /// <summary>
    /// <c>sock_getsockopt</c> / <c>do_ip_getsockopt</c> / <c>udp_lib_getsockopt</c>: <c>ENOPROTOOPT</c> for an option
    /// this socket type does not have; <c>IP_MTU</c> is the path MTU of a connected socket's route (<c>ENOTCONN</c>
    /// otherwise).
    /// </summary>
    public Errno GetSockOpt(SockOpt opt, long now, out int value)
    {
        value = 0;
        if (opt == SockOpt.IpMtu)
        {
            if (!Connected) return Errno.ENOTCONN;
            var err = _out.Route(_c.RemoteAddress, _c.LocalAddress, 0, now, out var rt);
            if (err != Errno.OK) return err;
            value = rt.Mtu;
            return Errno.OK;
        }
        int? v = opt switch
        {
            SockOpt.SoSndbuf => Volatile.Read(ref _c.SndBuf),
            SockOpt.SoBroadcast => _broadcast ? 1 : 0,
            SockOpt.SoPriority => _priority,
            SockOpt.IpTtl => _ttl >= 0 ? _ttl : _ns.Sysctl.IpDefaultTtl,
            SockOpt.IpTos => _tos,
            SockOpt.IpHdrIncl => _type == SockType.Raw ? (_hdrincl ? 1 : 0) : null,
            SockOpt.IpMtuDiscover => _pmtudisc,
            SockOpt.IpRecvErr => _recverr ? 1 : 0,
            SockOpt.UdpCork => _type == SockType.Dgram ? (_udpCork ? 1 : 0) : null,
            _ => null,
        };
        if (v is not { } val) return Errno.ENOPROTOOPT;
        value = val;
        return Errno.OK;
    }
}
