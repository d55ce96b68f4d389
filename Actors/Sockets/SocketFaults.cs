namespace ActorStack.Actors.Sockets;

/// <summary>The exception an injected socket fault raises.</summary>
public sealed class SocketFaultException(string message) : Exception(message);
