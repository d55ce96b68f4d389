using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;

namespace ActorStack.Actors.Tcp;

/// <summary>Tcp: counters of /proc/net/snmp, in Linux's order (<c>snmp4_tcp_list</c>).</summary>
public enum TcpMib
{
    RtoAlgorithm, RtoMin, RtoMax, MaxConn, ActiveOpens, PassiveOpens, AttemptFails, EstabResets, CurrEstab, InSegs, OutSegs,
    RetransSegs, InErrs, OutRsts, InCsumErrors,
}

/// <summary>TcpExt: counters of /proc/net/netstat (the ones the TCP core touches; Linux names).</summary>
public enum TcpExtMib
{
    SyncookiesSent, SyncookiesRecv, SyncookiesFailed, PAWSEstabRejected, DelayedACKs, DelayedACKLocked, ListenOverflows,
    ListenDrops, TCPLossProbes, TCPFastRetrans, TCPSlowStartRetrans, TCPTimeouts, TCPRenoRecovery, TCPSackRecovery,
    TCPRenoRecoveryFail, TCPSackRecoveryFail, TCPFullUndo, TCPPartialUndo, TCPOFOQueue, TCPOFODrop, TCPOFOMerge,
    TCPChallengeACK, TCPSYNChallenge, TCPBacklogDrop, TCPAbortOnData, TCPAbortOnClose, TCPAbortOnTimeout, TCPAbortOnLinger,
    TCPWinProbe, TCPKeepAlive, TCPSACKReneging, TCPSackShifted, TCPDSACKRecv, TCPRcvQDrop, TCPZeroWindowDrop,
    TCPWantZeroWindowAdv, TCPToZeroWindowAdv, TCPFromZeroWindowAdv, TCPACKSkippedPAWS, TCPACKSkippedSeq,
    TCPACKSkippedChallenge, TCPHPHits, TCPPureAcks, TCPHPAcks, TCPTimeWaitOverflow, TWRecycled, TW, TCPSynRetrans,
    TCPOrigDataSent, TCPDelivered, TCPRetransFail, OutOfWindowIcmps, TCPAckCompressed, TCPSpuriousRTOs, EmbryonicRsts,
    TCPSpuriousRtxHostQueues,
    // Loss recovery (RACK-TLP, D-SACK, reordering).
    TCPLossProbeRecovery, TCPDSACKOldSent, TCPDSACKOfoSent, TCPDSACKOfoRecv, TCPDSACKUndo, TCPSACKReorder, TCPTSReorder,
    TCPLostRetransmit, DelayedACKLost, TCPRenoReorder,
    // tcp_syn_flood_action: the SYN queue was full (or tcp_syncookies 2) — a cookie sent, or the SYN dropped without cookies.
    TCPReqQFullDoCookies, TCPReqQFullDrop,
}

/// <summary>
/// The TCP MIBs a connection updates: shared by all connections of a namespace (the
/// caller owns them and adds them to its MIB listing; <see cref="Mib{T}"/> is thread-safe).
/// </summary>
public sealed class TcpCounters
{
    public Mib<TcpMib> Tcp { get; }
    public Mib<TcpExtMib> Ext { get; }

    public TcpCounters(Mib<TcpMib>? tcp = null, Mib<TcpExtMib>? ext = null)
    {
        Tcp = tcp ?? new Mib<TcpMib>("Tcp");
        Ext = ext ?? new Mib<TcpExtMib>("TcpExt");
        // Constants /proc/net/snmp prints: RtoAlgorithm 1 (other: Van Jacobson), RtoMin/RtoMax in ms, MaxConn -1.
        Tcp.Set(TcpMib.RtoAlgorithm, 1);
        Tcp.Set(TcpMib.RtoMin, (long)TcpConstants.TCP_RTO_MIN.TotalMilliseconds);
        Tcp.Set(TcpMib.RtoMax, (long)TcpConstants.TCP_RTO_MAX.TotalMilliseconds);
        Tcp.Set(TcpMib.MaxConn, -1);
    }

    /// <summary>
    /// Counts a segment <see cref="TcpSegment.TryParse(ReadOnlyMemory{byte}, ActorStack.Messages.Packets.Ipv4Address, ActorStack.Messages.Packets.Ipv4Address, out TcpSegment?, bool)"/>
    /// refused as <c>tcp_v4_rcv</c> does (csum_error: InCsumErrors + InErrs; bad_packet: InErrs;
    /// discard_it: nothing) and returns the drop reason for the drop monitor.
    /// </summary>
    public DropReason CountParseError(TcpParseError e)
    {
        switch (e)
        {
            case TcpParseError.BadChecksum:
                Tcp.Inc(TcpMib.InCsumErrors);
                Tcp.Inc(TcpMib.InErrs);
                return DropReason.TCP_CSUM;
            case TcpParseError.BadDataOffset:
            case TcpParseError.BadOptions:
                Tcp.Inc(TcpMib.InErrs);
                return DropReason.PKT_TOO_SMALL;
            case TcpParseError.TooShort:
            case TcpParseError.HeaderTruncated:
                return DropReason.PKT_TOO_SMALL;
            default:
                return DropReason.NOT_SPECIFIED;
        }
    }

    public long this[TcpMib f] => Tcp[f];
    public long this[TcpExtMib f] => Ext[f];
}
