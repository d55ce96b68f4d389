using ActorStack.Actors.Ipv4;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;

namespace ActorStack.Actors.Icmp;

/// <summary>An ICMP message this host built, for <c>ip_local_out</c> on <see cref="Route"/> (<c>icmp_push_reply</c>).</summary>
public readonly record struct IcmpTransmit(SkBuff Skb, OutputRoute Route);

/// <summary>
/// An error for the protocol that sent the quoted datagram (<c>icmp_socket_deliver</c> → the protocol's
/// <c>err_handler</c>): <see cref="Protocol"/> is the quoted header's protocol (UDP or TCP).
/// </summary>
public readonly record struct IcmpDelivery(byte Protocol, IcmpErrorReceived Error);

/// <summary>
/// What one call of <see cref="IcmpCore"/> decided: the messages to send and the errors to hand up, in the
/// order they were decided. The caller owns it, carries them out and clears it before the next call.
/// </summary>
public sealed class IcmpDecisions
{
    public List<IcmpTransmit> Transmits { get; } = new();
    public List<IcmpDelivery> Deliveries { get; } = new();
    /// <summary>Path MTUs learned from fragmentation needed, for the FIB's owner (<c>__ip_rt_update_pmtu</c>).</summary>
    public List<PmtuUpdate> PmtuUpdates { get; } = new();

    public void Clear()
    {
        Transmits.Clear();
        Deliveries.Clear();
        PmtuUpdates.Clear();
    }
}

/// <summary>
/// The ICMP protocol of one host without an actor (net/ipv4/icmp.c): <see cref="IcmpRcv"/> (<c>icmp_rcv</c>
/// with <c>icmp_echo</c>, <c>icmp_timestamp</c>, <c>icmp_unreach</c>, <c>icmp_redirect</c>, <c>icmp_discard</c>)
/// and <see cref="IcmpSend"/> (<c>__icmp_send</c>). Time is passed in; what to send and what to deliver comes
/// back in an <see cref="IcmpDecisions"/>. It plays the per-CPU ICMP control socket: TTL <c>ip_default_ttl</c>,
/// no DF (<c>IP_PMTUDISC_DONT</c>), no send-buffer owner. Counters go to the namespace's MIBs
/// (/proc/net/snmp <c>Icmp:</c> in <see cref="NetNamespace.Icmp"/>, <c>IcmpMsg:</c> in
/// <see cref="NetNamespace.IcmpInType"/> / <see cref="NetNamespace.IcmpOutType"/>); learned path MTUs to
/// the routing actor as <see cref="IcmpDecisions.PmtuUpdates"/>. Routes are looked up through <paramref name="output"/> (its dst cache).
/// </summary>
public sealed class IcmpCore(NetNamespace ns, IcmpSettings settings, IcmpRateLimiter limiter, IpOutput output)
{
    /// <summary><c>INADDR_DUMMY</c> (192.0.0.8): the source of an error when the host has no address to give.</summary>
    public static readonly Ipv4Address InaddrDummy = new(0xC0000008);

    /// <summary><c>ICMP_EXT_ECHO</c> (RFC 8335 extended echo request, PROBE): above <c>NR_ICMP_TYPES</c> but known to <c>icmp_rcv</c>.</summary>
    public const byte IcmpExtEcho = 42;
    /// <summary><c>ICMP_EXT_ECHOREPLY</c> (RFC 8335 extended echo reply): <c>icmp_rcv</c> gives it to <c>ping_rcv</c>.</summary>
    public const byte IcmpExtEchoReply = 43;

    public IcmpSettings Settings => settings;
    public IcmpRateLimiter Limiter => limiter;

    // ---------------------------------------------------------------- receive

    /// <summary>
    /// <c>icmp_rcv</c> for one buffer <c>ip_local_deliver</c> handed to protocol 1: null when the message was
    /// consumed, else why it was dropped (the MIB counters are already counted; the drop itself is the caller's
    /// to record). Replies and errors to hand up are added to <paramref name="d"/>.
    /// </summary>
    public DropReason? IcmpRcv(in SkBuff skb, long now, IcmpDecisions d)
    {
        var mib = ns.Icmp;
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
                return DropReason.ICMP_CSUM;
            case IcmpParseStatus.Truncated:
                mib.Inc(IcmpMib.InErrors);
                return DropReason.PKT_TOO_SMALL;
        }
        CountIn(msg.Type);

        // RFC 8335 (PROBE) is handled before the type check. ICMP_EXT_ECHO: icmp_rcv hands it to icmp_echo, whose
        // icmp_build_probe answers nothing with icmp_echo_enable_probe off (the default; PROBE is not simulated), and
        // the message is consumed (SKB_NOT_DROPPED_YET). ICMP_EXT_ECHOREPLY goes to ping_rcv, as an echo reply does
        // (below). Either way: InMsgs and IcmpMsg InType42/43, no InErrors (measured on 6.18).
        if (msg.Type is IcmpExtEcho or IcmpExtEchoReply) return null;

        // RFC 1122 3.2.2: unknown types MUST be silently discarded.
        if (msg.Type > IcmpPacket.NrIcmpTypes)
        {
            mib.Inc(IcmpMib.InErrors);
            return DropReason.UNHANDLED_PROTO;
        }

        // RTCF_BROADCAST | RTCF_MULTICAST: only echo / timestamp / address requests may be sent to a broadcast,
        // and echo and timestamp only when icmp_echo_ignore_broadcasts is off (RFC 1122 3.2.2.6, 3.2.2.8).
        bool bcast = h.Destination.IsMulticast || ns.IsLocalBroadcast(h.Destination);
        if (bcast)
        {
            bool echoLike = msg.Type is IcmpType.Echo or IcmpPacket.TypeTimestamp;
            if ((echoLike && ns.Sysctl.IcmpEchoIgnoreBroadcasts)
                || !(echoLike || msg.Type is IcmpPacket.TypeAddress or IcmpPacket.TypeAddressReply))
            {
                mib.Inc(IcmpMib.InErrors);
                return DropReason.INVALID_PROTO;
            }
        }

        var data = icmp[IcmpPacket.HeaderLength..];
        switch (msg.Type)
        {
            case IcmpType.Echo:
                IcmpEcho(skb, h, icmp, bcast, now, d);
                return null;
            case IcmpPacket.TypeTimestamp:
                return IcmpTimestamp(skb, h, msg, data, bcast, now, d);
            case IcmpType.DestUnreach or IcmpType.SourceQuench or IcmpType.TimeExceeded or IcmpType.ParameterProb:
                return IcmpUnreach(skb, h, msg, data, now, d);
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
    private void IcmpEcho(in SkBuff skb, in Ipv4Header h, ReadOnlySpan<byte> request, bool bcast, long now, IcmpDecisions d)
    {
        if (ns.Sysctl.IcmpEchoIgnoreAll) return;
        var saddr = SpecDst(skb, h, bcast);
        IcmpHeader.TryRead(request, out var rq); // icmp_rcv pulled the 8-byte header
        if (!ReplyRoute(IcmpType.EchoReply, rq.Code, h.Source, saddr, now, out var rt)) return;
        var frame = IpOutput.NewFrame(Ipv4Header.MinLength + request.Length);
        IcmpPacket.WriteEchoReply(request, frame.AsSpan(IpOutput.Headroom + Ipv4Header.MinLength));
        Push(frame, rt, h.Source, h.Tos, IcmpType.EchoReply, d);
    }

    /// <summary>
    /// <c>icmp_timestamp</c>: at least the originate timestamp must be there (else <c>InErrors</c>); the reply
    /// carries it back with receive and transmit set to the milliseconds since midnight UT (RFC 792).
    /// </summary>
    private DropReason? IcmpTimestamp(in SkBuff skb, in Ipv4Header h, in IcmpMessage msg, ReadOnlySpan<byte> data, bool bcast,
        long now, IcmpDecisions d)
    {
        if (data.Length < Messages.Packets.IcmpTimestamp.StampLength)
        {
            ns.Icmp.Inc(IcmpMib.InErrors);
            return DropReason.PKT_TOO_SMALL;
        }
        var saddr = SpecDst(skb, h, bcast);
        if (!ReplyRoute(IcmpPacket.TypeTimestampReply, 0, h.Source, saddr, now, out var rt)) return null;
        var frame = IpOutput.NewFrame(Ipv4Header.MinLength + Messages.Packets.IcmpTimestamp.Length);
        var m = frame.AsSpan(IpOutput.Headroom + Ipv4Header.MinLength);
        uint ms = (uint)(now % TimeSpan.TicksPerDay / TimeSpan.TicksPerMillisecond); // inet_current_timestamp
        Messages.Packets.IcmpTimestamp.WriteReply(m, msg.RestOfHeader, Messages.Packets.IcmpTimestamp.ReadOriginate(data), ms, ms);
        Push(frame, rt, h.Source, h.Tos, IcmpPacket.TypeTimestampReply, d);
        return null;
    }

    /// <summary>
    /// <c>icmp_unreach</c> for destination unreachable, source quench, time exceeded and parameter problem: the
    /// quoted header is checked; fragmentation needed lowers the path MTU toward the quoted destination
    /// (<c>ip_no_pmtu_disc</c> 0: the next-hop MTU of RFC 1191, floored at <c>min_pmtu</c> by <c>__ip_rt_update_pmtu</c>,
    /// which Linux reaches through the protocol's err handler); codes above <c>NR_ICMP_UNREACH</c> and reassembly
    /// time exceeded are not passed up; then <c>icmp_socket_deliver</c> hands the error to UDP or TCP.
    /// </summary>
    private DropReason? IcmpUnreach(in SkBuff skb, in Ipv4Header h, in IcmpMessage msg, ReadOnlySpan<byte> quoted, long now,
        IcmpDecisions d)
    {
        var mib = ns.Icmp;
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
                    switch (ns.Sysctl.IpNoPmtuDisc)
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

        // CheckQuoted accepted the quoted IPv4 header: the view reads it.
        Ipv4Header.TryRead(quoted, out var qh);
        var quotedDst = qh.Destination;
        byte protocol = qh.Protocol;
        if (!settings.IgnoreBogusErrorResponses && ns.IsBroadcastAddress(quotedDst, skb.Ifindex)) return null;

        // icmp_socket_deliver: the IP header plus 8 bytes of the protocol's header, and never IPPROTO_RAW.
        if (q == QuoteStatus.ShortPayload || protocol == IpProtocol.Raw)
        {
            mib.Inc(IcmpMib.InErrors);
            return DropReason.PKT_TOO_SMALL;
        }
        if (learnPmtu) UpdatePmtu(d, quotedDst, (int)info, now);
        if (protocol is IpProtocol.Udp or IpProtocol.Tcp) // udp_err / tcp_v4_err
            d.Deliveries.Add(new IcmpDelivery(protocol, new IcmpErrorReceived(msg.Type, msg.Code, info, h.Source, quoted.ToArray())));
        return null;
    }

    /// <summary><c>ipv4_update_pmtu</c>: the device MTU of the route toward <paramref name="dst"/> bounds what is learned.</summary>
    private void UpdatePmtu(IcmpDecisions d, Ipv4Address dst, int mtu, long now)
    {
        if (output.Route(dst, Ipv4Address.Any, 0, now, out var rt) != Errno.OK || rt.Device.IsLoopback) return;
        d.PmtuUpdates.Add(new PmtuUpdate(dst, mtu, rt.Device.Settings.Mtu, now)); // the exceptions' owner applies it
    }

    /// <summary><c>fib_compute_spec_dst</c>: the address a request was sent to, or for a broadcast the receiving device's address.</summary>
    private Ipv4Address SpecDst(in SkBuff skb, in Ipv4Header h, bool bcast)
    {
        if (!bcast) return h.Destination;
        var dev = ns.Device(skb.Ifindex) ?? ns.Loopback;
        return ns.SelectSource(dev, h.Source);
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
    /// datagram as fits in 576 bytes. The message, if any, is added to <paramref name="d"/>.
    /// </summary>
    public void IcmpSend(IcmpSendError m, long now, IcmpDecisions d)
    {
        var off = m.Offending.Span;
        if (!Ipv4Header.TryRead(off, out var h) || h.Ihl < 5) return;
        var src = h.Source;
        var dst = h.Destination;
        if (dst.IsMulticast || ns.IsLocalBroadcast(dst)) return; // the route's RTCF_BROADCAST
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
        if (ns.IsLocalAddress(dst)) saddr = dst;
        else if (settings.ErrorsUseInboundIfaddr && m.InIfindex > 0 && ns.Device(m.InIfindex) is { } inDev)
            saddr = ns.SelectSource(inDev, src);
        byte tos = IcmpPacket.IsError(m.Type) ? (byte)((h.Tos & IcmpPacket.TosMask) | IcmpPacket.TosPrecInternetControl) : h.Tos;

        if (!RouteBack(src, saddr, now, out var rt)) return;
        if (!XrlimAllow(src, nowMs, apply, rt)) return;

        int quote = IcmpPacket.QuoteLength(off.Length, rt.Mtu);
        if (quote == 0) return;
        var frame = IpOutput.NewFrame(Ipv4Header.MinLength + IcmpPacket.HeaderLength + quote);
        IcmpPacket.WriteError(frame.AsSpan(IpOutput.Headroom + Ipv4Header.MinLength), m.Type, m.Code, m.Info, off[..quote]);
        Push(frame, rt, src, tos, m.Type, d);
    }

    // ---------------------------------------------------------------- common output

    private bool GlobalAllow(byte type, byte code, long nowMs, out bool apply)
    {
        if (limiter.GlobalAllow(type, code, nowMs, out apply)) return true;
        ns.Icmp.Inc(IcmpMib.OutRateLimitGlobal);
        return false;
    }

    private bool XrlimAllow(Ipv4Address dst, long nowMs, bool apply, in OutputRoute rt)
    {
        if (limiter.XrlimAllow(dst, nowMs, apply, rt.Device.IsLoopback)) return true;
        ns.Icmp.Inc(IcmpMib.OutRateLimitHost);
        return false;
    }

    /// <summary>
    /// <c>icmp_route_lookup</c> / <c>ip_route_output_key</c> toward <paramref name="dst"/>. Linux gives up silently
    /// when there is no route; ActorStack counts the message it could not send in <c>OutErrors</c> (and the drop as
    /// <c>IP_OUTNOROUTES</c>) so that it is not lost from the books.
    /// </summary>
    private bool RouteBack(Ipv4Address dst, Ipv4Address saddr, long now, out OutputRoute rt)
    {
        if (output.Route(dst, saddr, 0, now, out rt) == Errno.OK) return true;
        ns.Icmp.Inc(IcmpMib.OutErrors);
        ns.Drops.Add(DropReason.IP_OUTNOROUTES, "icmp/send");
        return false;
    }

    /// <summary>
    /// <c>icmp_push_reply</c> → <c>ip_push_pending_frames</c>: the IP header (TTL <c>ip_default_ttl</c>, no DF, the
    /// given TOS; source the route's, or <c>INADDR_DUMMY</c> when there is none), <c>icmp_out_count</c>; the buffer
    /// is then the caller's to hand to <c>ip_local_out</c>. <paramref name="frame"/> holds the ICMP message after
    /// the IP header's 20 bytes.
    /// </summary>
    private void Push(byte[] frame, in OutputRoute rt, Ipv4Address dst, byte tos, byte type, IcmpDecisions d)
    {
        var ip = frame.AsSpan(IpOutput.Headroom);
        var src = rt.Source.IsAny ? InaddrDummy : rt.Source;
        output.WriteHeader(ip, ip.Length, df: false, (byte)ns.Sysctl.IpDefaultTtl, IpProtocol.Icmp, src, dst, tos);
        CountOut(type);
        d.Transmits.Add(new IcmpTransmit(IpOutput.NewSkb(frame), rt));
    }

    // ---------------------------------------------------------------- counters

    private void CountIn(byte type)
    {
        ns.IcmpInType.Increment(type);
        if (InCounter(type) is { } c) ns.Icmp.Inc(c);
    }

    private void CountOut(byte type) => IcmpOutCount(ns, type);

    /// <summary>
    /// <c>icmp_out_count</c>: one ICMP message of <paramref name="type"/> leaves this host (<c>Icmp: OutMsgs</c>, the
    /// type's <c>Out*</c> column, <c>IcmpMsg: OutTypeN</c>). Called for the messages ICMP builds and, as
    /// <c>__ip_make_skb</c> / <c>raw_send_hdrinc</c> do, for those a raw ICMP socket sends.
    /// </summary>
    public static void IcmpOutCount(NetNamespace ns, byte type)
    {
        ns.IcmpOutType.Increment(type);
        ns.Icmp.Inc(IcmpMib.OutMsgs);
        if (OutCounter(type) is { } c) ns.Icmp.Inc(c);
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
}
