using System.Buffers.Binary;
using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Mailboxes;
using ActorStack.Actors.Net;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Icmp;

/// <summary>
/// The ICMP handler of one host (net/ipv4/icmp.c). Receives what <c>ip_local_deliver</c> hands to protocol 1
/// (<see cref="ProtocolDeliver"/>, <c>icmp_rcv</c>): answers echo and timestamp requests, turns errors about
/// packets this host sent into a path-MTU update and an <see cref="IcmpErrorReceived"/> to the protocol
/// (<c>icmp_unreach</c> → <c>icmp_socket_deliver</c>). Sends the errors any actor of the host asks for
/// (<see cref="IcmpSendError"/>, <c>__icmp_send</c>) under Linux's rules and rate limits. It plays the
/// per-CPU ICMP control socket: TTL <c>ip_default_ttl</c>, no DF (<c>IP_PMTUDISC_DONT</c>), no send-buffer owner.
/// Counters: /proc/net/snmp <c>Icmp:</c> in <see cref="NetNamespace.Icmp"/>, <c>IcmpMsg:</c> in
/// <see cref="NetNamespace.IcmpInType"/> / <see cref="NetNamespace.IcmpOutType"/>.
/// </summary>
public sealed class IcmpActor : ReceiveActor
{
    /// <summary><c>INADDR_DUMMY</c> (192.0.0.8): the source of an error when the host has no address to give.</summary>
    public static readonly Ipv4Address InaddrDummy = new(0xC0000008);

    // SKB_DROP_REASON_ICMP_CSUM and SKB_DROP_REASON_INVALID_PROTO, looked up by name so that they are used as soon
    // as DropReason lists them; until then the drop is recorded as NOT_SPECIFIED.
    private static readonly DropReason IcmpCsum = Enum.TryParse("ICMP_CSUM", out DropReason r1) ? r1 : DropReason.NOT_SPECIFIED;
    private static readonly DropReason InvalidProto = Enum.TryParse("INVALID_PROTO", out DropReason r2) ? r2 : DropReason.NOT_SPECIFIED;

    private readonly NetNamespace _ns;
    private readonly IcmpSettings _settings;
    private readonly IcmpRateLimiter _limiter;
    private readonly IpOutput _out;
    private readonly ChargedMessageQueue? _queue;

    public IcmpActor(NetNamespace ns, HostRefs refs, IcmpSettings? settings = null)
    {
        _ns = ns;
        _settings = settings ?? IcmpSettings.Default;
        _limiter = new IcmpRateLimiter(ns.Sysctl.Icmp,
            _settings.RandomGlobalConsume ? new Random(ns.SeedFor("icmp_global")) : null);
        _out = new IpOutput(ns, refs);
        _queue = ProtocolMailbox.Configure(Context, ns, "icmp");

        Receive<HostRefs>(r => _out.Refs = r);
        Receive<ProtocolDeliver>(OnDeliver);
        Receive<IcmpSendError>(OnSendError);
    }

    private long NowTicks => Context.System.Scheduler.Now.UtcTicks;

    private void OnDeliver(ProtocolDeliver m)
    {
        _queue?.Uncharge(m.Count);
        long now = NowTicks;
        foreach (var skb in m.Items)
            if (IcmpRcv(skb, now) is { } reason)
                _ns.Drops.Add(reason, "icmp");
        _out.Flush(Self);
    }

    private void OnSendError(IcmpSendError m)
    {
        IcmpSend(m, NowTicks);
        _out.Flush(Self);
    }

    // ---------------------------------------------------------------- receive

    /// <summary><c>icmp_rcv</c>: null when the message was consumed, else why it was dropped (counters already counted).</summary>
    private DropReason? IcmpRcv(in SkBuff skb, long now)
    {
        var mib = _ns.Icmp;
        var ip = skb.Data.Span.Slice(skb.NetworkOffset, skb.NetworkLength);
        if (!Ipv4Header.TryRead(ip, out var h) || h.Ihl < 5 || ip.Length < h.HeaderLength)
            return DropReason.IP_INHDR; // ip_rcv_core let it through: cannot happen from Ipv4Actor
        int transport = skb.TransportOffset >= 0 ? skb.TransportOffset - skb.NetworkOffset : h.HeaderLength;
        if (transport < Ipv4Header.MinLength || transport > ip.Length) return DropReason.IP_INHDR;
        var icmp = ip[transport..];

        mib.Inc(IcmpMib.InMsgs);
        switch (IcmpPacket.TryParse(icmp, out var msg))
        {
            case IcmpParseStatus.BadChecksum:
                mib.Inc(IcmpMib.InCsumErrors);
                mib.Inc(IcmpMib.InErrors);
                return IcmpCsum;
            case IcmpParseStatus.Truncated:
                mib.Inc(IcmpMib.InErrors);
                return DropReason.PKT_TOO_SMALL;
        }
        CountIn(msg.Type);

        // RFC 1122 3.2.2: unknown types MUST be silently discarded.
        if (msg.Type > IcmpPacket.NrIcmpTypes)
        {
            mib.Inc(IcmpMib.InErrors);
            return DropReason.UNHANDLED_PROTO;
        }

        // RTCF_BROADCAST | RTCF_MULTICAST: only echo / timestamp / address requests may be sent to a broadcast,
        // and echo and timestamp only when icmp_echo_ignore_broadcasts is off (RFC 1122 3.2.2.6, 3.2.2.8).
        bool bcast = h.Destination.IsMulticast || _ns.IsBroadcastAddress(h.Destination, skb.Ifindex);
        if (bcast)
        {
            bool echoLike = msg.Type is IcmpType.Echo or IcmpPacket.TypeTimestamp;
            if ((echoLike && _ns.Sysctl.IcmpEchoIgnoreBroadcasts)
                || !(echoLike || msg.Type is IcmpPacket.TypeAddress or IcmpPacket.TypeAddressReply))
            {
                mib.Inc(IcmpMib.InErrors);
                return InvalidProto;
            }
        }

        var data = icmp[IcmpPacket.HeaderLength..];
        switch (msg.Type)
        {
            case IcmpType.Echo:
                IcmpEcho(skb, h, icmp, bcast, now);
                return null;
            case IcmpPacket.TypeTimestamp:
                return IcmpTimestamp(skb, h, msg, data, bcast, now);
            case IcmpType.DestUnreach or IcmpType.SourceQuench or IcmpType.TimeExceeded or IcmpType.ParameterProb:
                return IcmpUnreach(skb, h, msg, data, now);
            case IcmpType.Redirect:
                // icmp_redirect: the quoted header must be there; UDP's err handler only updates the route
                // (ipv4_sk_redirect) and tells the socket nothing, and this FIB takes no redirects.
                if (data.Length < Ipv4Header.MinLength)
                {
                    mib.Inc(IcmpMib.InErrors);
                    return DropReason.PKT_TOO_SMALL;
                }
                return null;
            default:
                // Echo replies go to ping sockets (ping_rcv; raw sockets had their copy in ip_local_deliver);
                // the rest is icmp_discard ("pretend it was a success").
                return null;
        }
    }

    /// <summary>
    /// <c>icmp_echo</c> → <c>icmp_reply</c>: the same message back as an echo reply, from the address that was
    /// pinged (<c>fib_compute_spec_dst</c>: the destination, or for a broadcast the receiving device's address),
    /// with the request's TOS; nothing when <c>icmp_echo_ignore_all</c>.
    /// </summary>
    private void IcmpEcho(in SkBuff skb, in Ipv4Header h, ReadOnlySpan<byte> request, bool bcast, long now)
    {
        if (_ns.Sysctl.IcmpEchoIgnoreAll) return;
        var saddr = SpecDst(skb, h, bcast);
        if (!ReplyRoute(IcmpType.EchoReply, request[1], h.Source, saddr, now, out var rt)) return;
        var frame = IpOutput.NewFrame(Ipv4Header.MinLength + request.Length);
        IcmpPacket.WriteEchoReply(request, frame.AsSpan(IpOutput.Headroom + Ipv4Header.MinLength));
        Push(frame, rt, h.Source, h.Tos, IcmpType.EchoReply, now);
    }

    /// <summary>
    /// <c>icmp_timestamp</c>: at least the originate timestamp must be there (else <c>InErrors</c>); the reply
    /// carries it back with receive and transmit set to the milliseconds since midnight UT (RFC 792).
    /// </summary>
    private DropReason? IcmpTimestamp(in SkBuff skb, in Ipv4Header h, in IcmpMessage msg, ReadOnlySpan<byte> data, bool bcast, long now)
    {
        if (data.Length < 4)
        {
            _ns.Icmp.Inc(IcmpMib.InErrors);
            return DropReason.PKT_TOO_SMALL;
        }
        var saddr = SpecDst(skb, h, bcast);
        if (!ReplyRoute(IcmpPacket.TypeTimestampReply, 0, h.Source, saddr, now, out var rt)) return null;
        var frame = IpOutput.NewFrame(Ipv4Header.MinLength + IcmpPacket.HeaderLength + 12);
        var m = frame.AsSpan(IpOutput.Headroom + Ipv4Header.MinLength);
        uint ms = (uint)(now % TimeSpan.TicksPerDay / TimeSpan.TicksPerMillisecond); // inet_current_timestamp
        data[..4].CopyTo(m[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(m[12..], ms);
        BinaryPrimitives.WriteUInt32BigEndian(m[16..], ms);
        IcmpPacket.WriteHeader(m, IcmpPacket.TypeTimestampReply, 0, msg.RestOfHeader);
        Push(frame, rt, h.Source, h.Tos, IcmpPacket.TypeTimestampReply, now);
        return null;
    }

    /// <summary>
    /// <c>icmp_unreach</c> for destination unreachable, source quench, time exceeded and parameter problem: the
    /// quoted header is checked; fragmentation needed lowers the path MTU toward the quoted destination
    /// (<c>ip_no_pmtu_disc</c> 0: the next-hop MTU of RFC 1191, floored at <c>min_pmtu</c> by <c>__ip_rt_update_pmtu</c>,
    /// which Linux reaches through the protocol's err handler); codes above <c>NR_ICMP_UNREACH</c> and reassembly
    /// time exceeded are not passed up; then <c>icmp_socket_deliver</c> hands the error to UDP.
    /// </summary>
    private DropReason? IcmpUnreach(in SkBuff skb, in Ipv4Header h, in IcmpMessage msg, ReadOnlySpan<byte> quoted, long now)
    {
        var mib = _ns.Icmp;
        var q = IcmpPacket.CheckQuoted(quoted);
        if (q == QuoteStatus.Truncated)
        {
            mib.Inc(IcmpMib.InErrors);
            return DropReason.PKT_TOO_SMALL;
        }
        if (q == QuoteStatus.BadHeader)
        {
            mib.Inc(IcmpMib.InErrors);
            return DropReason.IP_INHDR;
        }

        uint info = 0;
        bool learnPmtu = false;
        switch (msg.Type)
        {
            case IcmpType.DestUnreach:
                if ((msg.Code & 15) == IcmpCode.FragNeeded)
                {
                    switch (_ns.Sysctl.IpNoPmtuDisc)
                    {
                        case 0:
                            info = msg.NextHopMtu;
                            learnPmtu = true;
                            break;
                        case 2:
                            return null;
                        case 3:
                            // Only protocols with icmp_strict_tag_validation (TCP) believe it; UDP and ICMP do not.
                            return null;
                    }
                }
                if (msg.Code > IcmpPacket.NrIcmpUnreach) return null;
                break;
            case IcmpType.ParameterProb:
                info = msg.Pointer;
                break;
            case IcmpType.TimeExceeded:
                if (msg.Code == IcmpCode.ExcFragTime) return null;
                break;
        }

        var quotedDst = Ipv4Address.Read(quoted[16..]);
        byte protocol = quoted[9];
        if (!_settings.IgnoreBogusErrorResponses && _ns.IsBroadcastAddress(quotedDst, skb.Ifindex)) return null;

        // icmp_socket_deliver: the IP header plus 8 bytes of the protocol's header, and never IPPROTO_RAW.
        if (q == QuoteStatus.ShortPayload || protocol == IpProtocol.Raw)
        {
            mib.Inc(IcmpMib.InErrors);
            return DropReason.PKT_TOO_SMALL;
        }
        if (learnPmtu) UpdatePmtu(quotedDst, (int)info, now);
        if (protocol == IpProtocol.Udp)
            _out.Refs.Udp.Tell(new IcmpErrorReceived(msg.Type, msg.Code, info, h.Source, quoted.ToArray()), Self);
        else if (protocol == IpProtocol.Tcp)
            _out.Refs.Tcp.Tell(new IcmpErrorReceived(msg.Type, msg.Code, info, h.Source, quoted.ToArray()), Self); // tcp_v4_err
        return null;
    }

    /// <summary><c>ipv4_update_pmtu</c>: the device MTU of the route toward <paramref name="dst"/> bounds what is learned.</summary>
    private void UpdatePmtu(Ipv4Address dst, int mtu, long now)
    {
        if (_out.Route(dst, Ipv4Address.Any, 0, now, out var rt) != Errno.OK || rt.Device.IsLoopback) return;
        _out.Refs.Routing.Tell(new PmtuUpdate(dst, mtu, rt.Device.Settings.Mtu, now), Self);   // the exceptions' owner
    }

    /// <summary><c>fib_compute_spec_dst</c>: the address a request was sent to, or for a broadcast the receiving device's address.</summary>
    private Ipv4Address SpecDst(in SkBuff skb, in Ipv4Header h, bool bcast)
    {
        if (!bcast) return h.Destination;
        var dev = _ns.Device(skb.Ifindex) ?? _ns.Loopback;
        return _ns.SelectSource(dev, h.Source);
    }

    /// <summary>
    /// <c>icmp_reply</c>'s checks before building: the global limit (replies are outside <c>icmp_ratemask</c> by
    /// default), the route back, the per-destination limit.
    /// </summary>
    private bool ReplyRoute(byte type, byte code, Ipv4Address dst, Ipv4Address saddr, long now, out OutputRoute rt)
    {
        rt = default;
        long nowMs = now / TimeSpan.TicksPerMillisecond;
        if (!GlobalAllow(type, code, nowMs, out bool apply)) return false;
        if (!RouteBack(dst, saddr, now, out rt)) return false;
        return XrlimAllow(dst, nowMs, apply, rt);
    }

    // ---------------------------------------------------------------- send

    /// <summary>
    /// <c>__icmp_send</c>: an error about <see cref="IcmpSendError.Offending"/>, unless it is about a
    /// broadcast or multicast destination, a fragment other than the first, an ICMP error (or unknown type),
    /// or a martian source (0.0.0.0, broadcast, multicast, loopback from outside) (RFC 1122 3.2.2). Then the
    /// global limit (not for packets that came in on lo), the source (the offending packet's destination when it
    /// was addressed here; else the inbound device's address with <c>icmp_errors_use_inbound_ifaddr</c>, else the
    /// route's), the route back to the offender, the per-destination limit, and as much of the offending
    /// datagram as fits in 576 bytes.
    /// </summary>
    private void IcmpSend(IcmpSendError m, long now)
    {
        var off = m.Offending.Span;
        if (!Ipv4Header.TryRead(off, out var h) || h.Ihl < 5) return;
        var src = h.Source;
        var dst = h.Destination;
        if (dst.IsMulticast || _ns.IsBroadcastAddress(dst, m.InIfindex)) return;
        if (h.FragmentOffset != 0) return;
        if (IcmpPacket.IsError(m.Type) && h.Protocol == IpProtocol.Icmp)
        {
            if (off.Length <= h.HeaderLength) return;
            if (IcmpPacket.IsError(off[h.HeaderLength])) return;
        }
        if (src.IsAny || src.IsLimitedBroadcast || src.IsMulticast || (src.IsLoopback && m.InIfindex > 1)) return;

        long nowMs = now / TimeSpan.TicksPerMillisecond;
        bool apply = false;
        if (m.InIfindex != 1 && !GlobalAllow(m.Type, m.Code, nowMs, out apply)) return;

        var saddr = Ipv4Address.Any;
        if (_ns.IsLocalAddress(dst)) saddr = dst;
        else if (_settings.ErrorsUseInboundIfaddr && m.InIfindex > 0 && _ns.Device(m.InIfindex) is { } inDev)
            saddr = _ns.SelectSource(inDev, src);
        byte tos = IcmpPacket.IsError(m.Type) ? (byte)((h.Tos & IcmpPacket.TosMask) | IcmpPacket.TosPrecInternetControl) : h.Tos;

        if (!RouteBack(src, saddr, now, out var rt)) return;
        if (!XrlimAllow(src, nowMs, apply, rt)) return;

        int quote = IcmpPacket.QuoteLength(off.Length, rt.Mtu);
        if (quote == 0) return;
        var frame = IpOutput.NewFrame(Ipv4Header.MinLength + IcmpPacket.HeaderLength + quote);
        IcmpPacket.WriteError(frame.AsSpan(IpOutput.Headroom + Ipv4Header.MinLength), m.Type, m.Code, m.Info, off[..quote]);
        Push(frame, rt, src, tos, m.Type, now);
    }

    // ---------------------------------------------------------------- common output

    private bool GlobalAllow(byte type, byte code, long nowMs, out bool apply)
    {
        if (_limiter.GlobalAllow(type, code, nowMs, out apply)) return true;
        _ns.Icmp.Inc(IcmpMib.OutRateLimitGlobal);
        return false;
    }

    private bool XrlimAllow(Ipv4Address dst, long nowMs, bool apply, in OutputRoute rt)
    {
        if (_limiter.XrlimAllow(dst, nowMs, apply, rt.Device.IsLoopback)) return true;
        _ns.Icmp.Inc(IcmpMib.OutRateLimitHost);
        return false;
    }

    /// <summary>
    /// <c>icmp_route_lookup</c> / <c>ip_route_output_key</c> toward <paramref name="dst"/>. Linux gives up silently
    /// when there is no route; ActorStack counts the message it could not send in <c>OutErrors</c> (and the drop as
    /// <c>IP_OUTNOROUTES</c>) so that it is not lost from the books.
    /// </summary>
    private bool RouteBack(Ipv4Address dst, Ipv4Address saddr, long now, out OutputRoute rt)
    {
        if (_out.Route(dst, saddr, 0, now, out rt) == Errno.OK) return true;
        _ns.Icmp.Inc(IcmpMib.OutErrors);
        _ns.Drops.Add(DropReason.IP_OUTNOROUTES, "icmp/send");
        return false;
    }

    /// <summary>
    /// <c>icmp_push_reply</c> → <c>ip_push_pending_frames</c>: the IP header (TTL <c>ip_default_ttl</c>, no DF, the
    /// given TOS; source the route's, or <c>INADDR_DUMMY</c> when there is none), <c>icmp_out_count</c>, then
    /// <c>ip_local_out</c>. <paramref name="frame"/> holds the ICMP message after the IP header's 20 bytes.
    /// </summary>
    private void Push(byte[] frame, in OutputRoute rt, Ipv4Address dst, byte tos, byte type, long now)
    {
        var ip = frame.AsSpan(IpOutput.Headroom);
        var src = rt.Source.IsAny ? InaddrDummy : rt.Source;
        _out.WriteHeader(ip, ip.Length, df: false, (byte)_ns.Sysctl.IpDefaultTtl, IpProtocol.Icmp, src, dst, tos);
        CountOut(type);
        _out.LocalOut(IpOutput.NewSkb(frame), rt, now);
    }

    // ---------------------------------------------------------------- counters

    private void CountIn(byte type)
    {
        Interlocked.Increment(ref _ns.IcmpInType[type]);
        if (InCounter(type) is { } c) _ns.Icmp.Inc(c);
    }

    private void CountOut(byte type)
    {
        Interlocked.Increment(ref _ns.IcmpOutType[type]);
        _ns.Icmp.Inc(IcmpMib.OutMsgs);
        if (OutCounter(type) is { } c) _ns.Icmp.Inc(c);
    }

    /// <summary>The <c>Icmp: In*</c> column /proc/net/snmp shows for a type (<c>icmpmibmap</c>), if any.</summary>
    public static IcmpMib? InCounter(byte type) => type switch
    {
        IcmpType.EchoReply => IcmpMib.InEchoReps,
        IcmpType.DestUnreach => IcmpMib.InDestUnreachs,
        IcmpType.SourceQuench => IcmpMib.InSrcQuenchs,
        IcmpType.Redirect => IcmpMib.InRedirects,
        IcmpType.Echo => IcmpMib.InEchos,
        IcmpType.TimeExceeded => IcmpMib.InTimeExcds,
        IcmpType.ParameterProb => IcmpMib.InParmProbs,
        IcmpPacket.TypeTimestamp => IcmpMib.InTimestamps,
        IcmpPacket.TypeTimestampReply => IcmpMib.InTimestampReps,
        IcmpPacket.TypeAddress => IcmpMib.InAddrMasks,
        IcmpPacket.TypeAddressReply => IcmpMib.InAddrMaskReps,
        _ => null,
    };

    /// <summary>The <c>Icmp: Out*</c> column for a type, if any.</summary>
    public static IcmpMib? OutCounter(byte type) => type switch
    {
        IcmpType.EchoReply => IcmpMib.OutEchoReps,
        IcmpType.DestUnreach => IcmpMib.OutDestUnreachs,
        IcmpType.SourceQuench => IcmpMib.OutSrcQuenchs,
        IcmpType.Redirect => IcmpMib.OutRedirects,
        IcmpType.Echo => IcmpMib.OutEchos,
        IcmpType.TimeExceeded => IcmpMib.OutTimeExcds,
        IcmpType.ParameterProb => IcmpMib.OutParmProbs,
        IcmpPacket.TypeTimestamp => IcmpMib.OutTimestamps,
        IcmpPacket.TypeTimestampReply => IcmpMib.OutTimestampReps,
        IcmpPacket.TypeAddress => IcmpMib.OutAddrMasks,
        IcmpPacket.TypeAddressReply => IcmpMib.OutAddrMaskReps,
        _ => null,
    };

    public static Props Props(NetNamespace ns, HostRefs refs, IcmpSettings? settings = null)
        => Akka.Actor.Props.Create(() => new IcmpActor(ns, refs, settings)).WithMailbox(ProtocolMailbox.Id);
}
