using Akka.Actor;

namespace ActorStack.Actors.Namespaces;

/// <summary>The kinds of child a <see cref="HostActor"/> supervises, by the name it gives them.</summary>
public enum HostChildKind
{
    /// <summary><c>dev-&lt;name&gt;</c>: a NIC driver (or <c>dev-lo</c>).</summary>
    Driver,
    /// <summary><c>softnet-cpuN</c>: one CPU's <c>softnet_data</c> and NET_RX softirq.</summary>
    Softnet,
    /// <summary><c>ip</c>, <c>udp</c>, <c>tcp</c>, <c>icmp</c>, <c>neigh</c>, <c>routing</c>: the protocol handlers and their tables.</summary>
    ProtocolHandler,
    /// <summary><c>linkwatch</c>: link state, the notifier chain and <c>ip monitor</c> subscribers.</summary>
    LinkWatch,
    /// <summary><c>sock-N</c>: a socket an application opened.</summary>
    Socket,
    /// <summary>Anything else (Akka's default applies).</summary>
    Other,
}

/// <summary>
/// The host's supervision policy, one directive per child kind (the decider in <see cref="HostActor"/> applies it;
/// one-for-one, so no failure reaches a sibling or another host):
/// <list type="bullet">
/// <item><b>Driver → Restart</b>: a device reset (<c>ndo_tx_timeout</c> / <c>igb_reset_task</c>), counted against the
/// device's back-off; the failed instance drops and counts what its rings and qdisc held (<c>SIM_DRIVER_RESET</c>,
/// <c>QUEUE_PURGE</c>); past <c>reset-limit</c> the restarted driver stays down.</item>
/// <item><b>Softnet → Restart</b>: the backlog it held is dropped and counted (<c>CPU_BACKLOG</c>) in its
/// <c>PreRestart</c>; <c>softnet_stat</c> lives in the namespace and survives.</item>
/// <item><b>ProtocolHandler, LinkWatch → Resume</b>: their state is their tables (UDP bind table, TCP hash tables,
/// reassembly queues,
/// neighbour table, FIB and PMTU cache, link state and subscribers), which a restart would lose silently, so it is kept; the one message
/// being handled when the fault hit is lost and counted once as <c>NOT_SPECIFIED</c> at <c>&lt;child&gt;/fault</c>,
/// with an error in the log.</item>
/// <item><b>Socket → Stop</b>: a socket's state is its queue and binding; a stopped socket unbinds, fails its blocked
/// readers and pending sends with EBADF, and frees every queued datagram — its receive queue and the deliveries still
/// in its mailbox — with <c>SOCKET_CLOSE</c>, as <c>close()</c> would (<c>udp_destroy_sock</c> →
/// <c>skb_queue_purge</c>): counted, never lost silently.</item>
/// <item><b>Other → Restart</b>.</item>
/// </list>
/// </summary>
public static class HostChildPolicy
{
    /// <summary>The kind of the host's child named <paramref name="name"/> (the child's actor name).</summary>
    public static HostChildKind Classify(string name) => name switch
    {
        _ when name.StartsWith("dev-", StringComparison.Ordinal) => HostChildKind.Driver,
        _ when name.StartsWith("softnet-", StringComparison.Ordinal) => HostChildKind.Softnet,
        _ when name.StartsWith("sock-", StringComparison.Ordinal) => HostChildKind.Socket,
        "ip" or "udp" or "tcp" or "icmp" or "neigh" or "routing" => HostChildKind.ProtocolHandler,
        "linkwatch" => HostChildKind.LinkWatch,
        _ => HostChildKind.Other,
    };

    /// <summary>The directive for a failed child of <paramref name="kind"/>.</summary>
    public static Directive For(HostChildKind kind) => kind switch
    {
        HostChildKind.Socket => Directive.Stop,
        HostChildKind.ProtocolHandler or HostChildKind.LinkWatch => Directive.Resume,
        _ => Directive.Restart,
    };
}
