using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Actors.Ipv4;

/// <summary>What <c>ip_rcv</c> decided for a buffer.</summary>
public enum IpRcvVerdict { Drop, LocalDeliver, Forward }

/// <summary>
/// IPv4 receive without actors (<c>ip_rcv</c> → <c>ip_rcv_finish</c> → <c>ip_local_deliver</c>): <c>ip_rcv_core</c>'s validation in
/// Linux's order and with its counters, the PRE_ROUTING hook, the input route
/// decision (local, broadcast, or not ours); LOCAL_IN runs after reassembly. Counters go
/// to the namespace's MIBs; a drop's reason is returned.
/// </summary>
public sealed class IpRcv(NetNamespace ns)
{
    /// <summary>
    /// Validates and routes <paramref name="skb"/>; on local delivery the buffer
    /// comes back with its network length trimmed, its transport offset set and
    /// its <c>pkt_type</c> (host or broadcast).
    /// </summary>
    public IpRcvVerdict Receive(ref SkBuff skb, out DropReason reason)
    {
        reason = DropReason.NOT_SPECIFIED;
        var ip = ns.Ip;
        // When the interface is promiscuous, drop all the crap that it receives.
        if (skb.PktType == PacketKind.OtherHost)
        {
            reason = DropReason.OTHERHOST;
            return IpRcvVerdict.Drop;
        }
        var pkt = skb.Data.Span[skb.NetworkOffset..];
        ip.Inc(IpMib.InReceives);
        ns.IpExt.Add(IpExtMib.InOctets, pkt.Length);

        if (!Ipv4Header.TryRead(pkt, out var h) || h.Ihl < 5 || h.Version != 4 || pkt.Length < h.HeaderLength)
            return InHdrError(out reason);
        if (!h.ChecksumValid)
        {
            ns.IpExt.Inc(IpExtMib.InCsumErrors);
            ip.Inc(IpMib.InHdrErrors);
            reason = DropReason.IP_CSUM;
            return IpRcvVerdict.Drop;
        }
        int len = h.TotalLength;
        if (pkt.Length < len)
        {
            ns.IpExt.Inc(IpExtMib.InTruncatedPkts);
            reason = DropReason.PKT_TOO_SMALL;
            return IpRcvVerdict.Drop;
        }
        if (len < h.HeaderLength) return InHdrError(out reason);

        // Our transport medium may have padded the buffer out: trim to the IP length.
        skb = skb with { NetworkLength = len, TransportOffset = skb.NetworkOffset + h.HeaderLength };
        var packet = skb.Data.Span.Slice(skb.NetworkOffset, len);

        if (ns.Netfilter.Run(NfHook.PreRouting, packet) == NfVerdict.Drop)
        {
            reason = DropReason.NETFILTER_DROP;
            return IpRcvVerdict.Drop;
        }

        // ip_route_input_slow: martian sources first, then local / broadcast / other.
        var src = h.Source;
        var dst = h.Destination;
        if (src.IsMulticast || src.IsLimitedBroadcast || (src.IsLoopback && skb.Ifindex != 1))
        {
            reason = DropReason.IP_INVALID_SOURCE;
            return IpRcvVerdict.Drop;
        }
        if (ns.IsLocalBroadcast(dst)) // RTN_BROADCAST from the local table, also another device's subnet: brd_input
        {
            ns.IpExt.Inc(IpExtMib.InBcastPkts);
            skb = skb with { PktType = PacketKind.Broadcast };
        }
        else if (dst.IsMulticast)
        {
            // No multicast group is joined in a simulated host: ip_route_input_mc is not reached.
            ns.IpExt.Inc(IpExtMib.InMcastPkts);
            reason = DropReason.IP_INADDRERRORS;
            return IpRcvVerdict.Drop;
        }
        else if (!ns.IsLocalAddress(dst))
        {
            // Not ours: ip_forward when forwarding is on; otherwise ip_error counts InAddrErrors (and sends nothing).
            if (ns.Sysctl.IpForward && !src.IsAny) return IpRcvVerdict.Forward;
            ip.Inc(IpMib.InAddrErrors);
            reason = DropReason.IP_INADDRERRORS;
            return IpRcvVerdict.Drop;
        }

        return IpRcvVerdict.LocalDeliver;
    }

    /// <summary>The LOCAL_IN hook of <c>ip_local_deliver</c>, after reassembly.</summary>
    public bool LocalIn(ReadOnlySpan<byte> packet) => ns.Netfilter.Run(NfHook.LocalIn, packet) == NfVerdict.Accept;

    private IpRcvVerdict InHdrError(out DropReason reason)
    {
        ns.Ip.Inc(IpMib.InHdrErrors);
        reason = DropReason.IP_INHDR;
        return IpRcvVerdict.Drop;
    }
}
