using Akka.Actor;
using ActorStack.Messages;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// The listening half of a TCP workload server, as its <c>main</c> would run it: <c>socket()</c>, <c>bind()</c>,
/// <c>listen(backlog)</c>, then one blocking <c>accept()</c> outstanding at all times. Called from the owning actor's
/// handlers (its Tells carry that actor as sender). A failed socket/bind/listen stops the server (the actor throws,
/// as the program would exit); a failed accept is retried.
/// </summary>
internal sealed class TcpListenSequence(IActorRef host, Bind bind, int backlog, string workload)
{
    public IActorRef Listener { get; private set; } = ActorRefs.Nobody;
    /// <summary>Listening (listen() returned).</summary>
    public bool Ready { get; private set; }

    /// <summary><c>socket(AF_INET, SOCK_STREAM)</c>: asked of the host from the actor's PreStart.</summary>
    public void Start() => host.Tell(new SocketCreate(SockType.Stream));

    public void OnCreated(SocketCreated c)
    {
        Listener = c.Socket;
        Listener.Tell(bind);
    }

    /// <summary>Bind done: listen; listen done: <paramref name="onListening"/> (the server's banner), then the first accept.</summary>
    public void OnOk(SocketOk ok, Action onListening)
    {
        switch (ok.Command)
        {
            case Bind: Listener.Tell(new Listen(backlog)); break;
            case Listen:
                Ready = true;
                onListening();
                AcceptNext();
                break;
        }
    }

    /// <summary>Keeps one accept outstanding: called for every <see cref="Accepted"/> before the connection is served.</summary>
    public void AcceptNext() => Listener.Tell(new Accept());

    /// <summary>
    /// A failure of the listener's own commands: socket/bind/listen end the server, an accept is retried. Returns
    /// false for a failure of another socket's command (a connection's: the caller handles it).
    /// </summary>
    public bool OnFailed(CommandFailed f)
    {
        if (f.Command is Bind or Listen or SocketCreate)
            throw new InvalidOperationException($"{workload} {bind.Address}:{bind.Port}: {f.Command.GetType().Name} failed with {f.Error}");
        if (f.Command is not Accept) return false;
        AcceptNext();
        return true;
    }
}
