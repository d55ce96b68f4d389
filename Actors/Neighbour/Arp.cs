using ActorStack.Actors.Routing;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Neighbour;

public enum ArpVerdict
{
    /// <summary>Processed (<c>consume_skb</c>): possibly a reply to send and neighbour actions to carry out.</summary>
    Consumed,
    /// <summary>Not for the ARP layer (other host / looped back / NOARP device); consumed without counting a drop.</summary>
    Ignored,
    /// <summary>Freed as invalid (<c>kfree_skb</c>), counted under <see cref="ArpResult{T}.Reason"/>.</summary>
    Dropped,
}

/// <summary>What <see cref="Arp.Process{T}"/> decided.</summary>
public sealed record ArpResult<T>(ArpVerdict Verdict, DropReason Reason, byte[]? Reply, IReadOnlyList<NeighAction<T>> Actions,
    ArpParseError ParseError = ArpParseError.None, bool Learned = false, bool Gratuitous = false)
{
    public override string ToString() => $"{Verdict}{(Verdict == ArpVerdict.Dropped ? $" {Reason}/{ParseError}" : "")}{(Reply is null ? "" : " +reply")} actions={Actions.Count}";
}

/// <summary>The ARP receive path (net/ipv4/arp.c) as pure functions over a <see cref="Fib"/> and a <see cref="NeighbourTable{T}"/>.</summary>
public static class Arp
{
    /// <summary>
    /// <c>arp_rcv</c> → <c>arp_process</c> for one ARP payload (after the Ethernet header) received on
    /// <paramref name="dev"/>, with arp_ignore = 0, arp_filter = 0, no proxy ARP:
    /// <list type="bullet">
    /// <item>invalid packets are dropped (lengths, hardware/protocol type, opcode); requests for multicast or
    /// loopback targets are dropped;</item>
    /// <item>a request with sender 0.0.0.0 (duplicate address detection, RFC 2131/5227) for one of our addresses
    /// is answered and nothing is learned;</item>
    /// <item>a request for a local address (any of the host's, as <c>ip_route_input</c> → RTN_LOCAL decides) from a
    /// valid source creates/refreshes the sender as STALE (<c>neigh_event_ns</c>) and is answered;</item>
    /// <item>otherwise an existing entry for the sender is updated: REACHABLE for a reply addressed to us, STALE for
    /// requests and broadcast replies; a different address overrides only after <c>locktime</c> or when
    /// gratuitous. Without an entry nothing is created unless <c>arp_accept</c> (unsolicited replies ignored).</item>
    /// </list>
    /// </summary>
    public static ArpResult<T> Process<T>(ReadOnlySpan<byte> arpPayload, PacketKind pktType, string dev, MacAddress devMac,
        IFibLookup fib, NeighbourTable<T> neigh, long nowMs, ArpSettings? settings = null)
    {
        settings ??= ArpSettings.Default;
        var none = Array.Empty<NeighAction<T>>();
        if (pktType is PacketKind.OtherHost or PacketKind.Loopback)
            return new(ArpVerdict.Ignored, DropReason.NOT_SPECIFIED, null, none);
        if (!ArpPacket.TryRead(arpPayload, out var arp, out var err))
            return new(ArpVerdict.Dropped, ArpPacket.DropReasonOf(err), null, none, err);

        var sha = arp.SenderMac;
        var sip = arp.SenderIp;
        var tha = arp.TargetMac;
        var tip = arp.TargetIp;
        if (tip.IsMulticast || (!settings.RouteLocalnet && tip.IsLoopback))
            return new(ArpVerdict.Dropped, DropReason.NOT_SPECIFIED, null, none);
        if (sip == tip && settings.DropGratuitousArp)
            return new(ArpVerdict.Dropped, DropReason.NOT_SPECIFIED, null, none);

        if (sip.IsAny)
        {
            byte[]? dad = null;
            if (arp.IsRequest && IsLocalOn(fib, tip, dev))
                dad = ArpPacket.Frame(sha, devMac, ArpPacket.OpReply, devMac, tip, sha, sip);
            return new(ArpVerdict.Consumed, DropReason.NOT_SPECIFIED, dad, none);
        }

        var actions = new List<NeighAction<T>>();
        if (arp.IsRequest && ValidInputSource(sip, dev) && fib.Lookup(tip).Route?.Type == RouteType.Local)
        {
            byte[]? reply = null;
            bool learned = neigh.EventNs(sip, dev, sha, nowMs, actions);
            if (learned) reply = ArpPacket.Frame(sha, devMac, ArpPacket.OpReply, devMac, tip, sha, sip);
            return new(ArpVerdict.Consumed, DropReason.NOT_SPECIFIED, reply, actions, Learned: learned);
        }

        bool exists = neigh.Contains(sip, dev);
        bool isGarp = false;
        int addrType = -1;
        if (exists || settings.ArpAccept) isGarp = IsGarp(fib, arp.Operation, sip, tip, sha, tha, out addrType);
        bool create = false;
        if (settings.ArpAccept && !exists)
        {
            create = isGarp || (arp.IsReply && (addrType == (int)RouteType.Unicast ||
                                                (addrType < 0 && AddrType(fib, sip) == RouteType.Unicast)));
        }
        var state = arp.IsReply && pktType == PacketKind.Host ? NudState.Reachable : NudState.Stale;
        bool updated = neigh.UpdateFromArp(sip, dev, sha, state, isGarp, create, nowMs, actions);
        return new(ArpVerdict.Consumed, DropReason.NOT_SPECIFIED, null, actions, Learned: updated, Gratuitous: isGarp);
    }

    // arp_is_garp: sender == target IP; a gratuitous reply also needs tha == sha; the address must be unicast for us.
    private static bool IsGarp(IFibLookup fib, ushort op, Ipv4Address sip, Ipv4Address tip, MacAddress sha, MacAddress tha, out int addrType)
    {
        addrType = -1;
        bool garp = sip == tip;
        if (garp && op == ArpPacket.OpReply) garp = tha == sha;
        if (garp)
        {
            var t = AddrType(fib, sip);
            addrType = (int)t;
            if (t != RouteType.Unicast) garp = false;
        }
        return garp;
    }

    // inet_addr_type: the local table decides local/broadcast; anything else routable or not is unicast.
    private static RouteType AddrType(IFibLookup fib, Ipv4Address a)
    {
        if (a.IsAny || a.IsLimitedBroadcast) return RouteType.Broadcast;
        if (a.IsMulticast) return (RouteType)5; // RTN_MULTICAST
        var r = fib.Lookup(a);
        return r.Route is { Table: RouteTable.Local } route ? route.Type : RouteType.Unicast;
    }

    // inet_addr_type_dev_table(dev, tip) == RTN_LOCAL: the address is local (the local table has no per-device
    // split in ActorStack's single FIB, so any local address qualifies, as with the default l3mdev-less table).
    private static bool IsLocalOn(IFibLookup fib, Ipv4Address tip, string dev)
        => fib.Lookup(tip).Route is { Type: RouteType.Local, Table: RouteTable.Local };

    // ip_route_input_slow's martian-source checks that reject a request before it is answered.
    private static bool ValidInputSource(Ipv4Address sip, string dev)
        => !sip.IsMulticast && !sip.IsLimitedBroadcast && (dev == "lo" || !sip.IsLoopback);
}
