using ActorStack.Messages;

namespace ActorStack.Actors.Workloads;

/// <summary>glibc's <c>strerror</c> texts for the errno values sockets return, for the lines the tools print.</summary>
public static class Strerror
{
    public static string Of(Errno e) => e switch
    {
        Errno.OK => "Success",
        Errno.EPERM => "Operation not permitted",
        Errno.EBADF => "Bad file descriptor",
        Errno.EAGAIN => "Resource temporarily unavailable",
        Errno.ENOMEM => "Cannot allocate memory",
        Errno.EACCES => "Permission denied",
        Errno.EBUSY => "Device or resource busy",
        Errno.EINVAL => "Invalid argument",
        Errno.EMSGSIZE => "Message too long",
        Errno.EDESTADDRREQ => "Destination address required",
        Errno.EADDRINUSE => "Address already in use",
        Errno.EADDRNOTAVAIL => "Cannot assign requested address",
        Errno.ENETDOWN => "Network is down",
        Errno.ENETUNREACH => "Network is unreachable",
        Errno.ENOBUFS => "No buffer space available",
        Errno.ECONNREFUSED => "Connection refused",
        Errno.EHOSTUNREACH => "No route to host",
        Errno.ETIMEDOUT => "Connection timed out",
        Errno.ENOTCONN => "Transport endpoint is not connected",
        Errno.EOPNOTSUPP => "Operation not supported",
        _ => $"Unknown error {(int)e}",
    };
}
