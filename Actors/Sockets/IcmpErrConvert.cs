using ActorStack.Actors.Ipv4;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Sockets;

/// <summary>
/// What an ICMP error means to a datagram socket (<c>icmp_err_convert</c> and <c>__udp4_lib_err</c>):
/// the errno, and whether it is "hard" — only hard errors reach a connected socket without
/// <c>IP_RECVERR</c>; with <c>IP_RECVERR</c> every error is reported.
/// </summary>
public static class IcmpErrConvert
{
    private static readonly (Errno Err, bool Fatal)[] Unreach =
    [
        (Errno.ENETUNREACH, false),  // NET_UNREACH
        (Errno.EHOSTUNREACH, false), // HOST_UNREACH
        (Errno.ENOPROTOOPT, true),   // PROT_UNREACH
        (Errno.ECONNREFUSED, true),  // PORT_UNREACH
        (Errno.EMSGSIZE, false),     // FRAG_NEEDED
        (Errno.EOPNOTSUPP, false),   // SR_FAILED
        (Errno.ENETUNREACH, true),   // NET_UNKNOWN
        (Errno.EHOSTDOWN, true),     // HOST_UNKNOWN
        (Errno.ENONET, true),        // HOST_ISOLATED
        (Errno.ENETUNREACH, true),   // NET_ANO
        (Errno.EHOSTUNREACH, true),  // HOST_ANO
        (Errno.ENETUNREACH, false),  // NET_UNR_TOS
        (Errno.EHOSTUNREACH, false), // HOST_UNR_TOS
        (Errno.EHOSTUNREACH, true),  // PKT_FILTERED
        (Errno.EHOSTUNREACH, true),  // PREC_VIOLATION
        (Errno.EHOSTUNREACH, true),  // PREC_CUTOFF
    ];

    /// <summary>
    /// <c>__udp4_lib_err</c>'s decision. Returns false when the error is not for the socket at all
    /// (fragmentation needed with <c>IP_PMTUDISC_DONT</c>, or an ICMP type that carries no error).
    /// </summary>
    public static bool Convert(byte type, byte code, int pmtudisc, out Errno err, out bool hard)
    {
        err = Errno.EHOSTUNREACH;
        hard = false;
        switch (type)
        {
            case IcmpType.TimeExceeded:
                return true;
            case IcmpType.SourceQuench:
                return false;
            case IcmpType.ParameterProb:
                err = Errno.EPROTO;
                hard = true;
                return true;
            case IcmpType.DestUnreach:
                if (code == IcmpCode.FragNeeded)
                {
                    if (pmtudisc == 0) return false; // IP_PMTUDISC_DONT: ignore
                    err = Errno.EMSGSIZE;
                    hard = true;
                    return true;
                }
                if (code < Unreach.Length) (err, hard) = Unreach[code];
                return true;
            default:
                return false;
        }
    }
}
