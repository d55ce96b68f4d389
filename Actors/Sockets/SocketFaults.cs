namespace ActorStack.Actors.Sockets;

/// <summary>
/// Fault injection for a socket actor: it throws <see cref="SocketFaultException"/> at once, and the host's
/// supervision policy stops it (see <c>HostChildPolicy</c>): its queued datagrams are freed with
/// <c>SOCKET_CLOSE</c>. No answer.
/// </summary>
public sealed record CrashSocket
{
    public static readonly CrashSocket Instance = new();
}

/// <summary>The exception an injected socket fault raises.</summary>
public sealed class SocketFaultException(string message) : Exception(message);
