using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Workloads;
using ActorStack.Messages;

namespace ActorStack.Cli;

/// <summary>
/// The CLI's side of <c>ss -t</c>: queries from outside the simulation (the stack's actors only Tell; the report
/// asks them, as <c>ss</c> reads the kernel over netlink).
/// </summary>
public static class SsQuery
{
    /// <summary>Asks <paramref name="host"/> for its TCP sockets and each socket for its <see cref="TcpSocketInfo"/>; a socket that closed meanwhile is left out.</summary>
    public static async Task<ImmutableArray<TcpSocketInfo>> CollectTcp(IActorRef host, TimeSpan timeout)
    {
        var list = await host.Ask<TcpSocketList>(GetTcpSockets.Instance, timeout);
        var infos = await Task.WhenAll(list.Sockets.Select(async s =>
        {
            try { return await s.Ask<TcpSocketInfo>(GetSocketInfo.Instance, timeout); }
            catch (AskTimeoutException) { return null; }
        }));
        return Order(infos.OfType<TcpSocketInfo>());
    }

    /// <summary>The order <c>ss</c> lists them in here: listeners first, then by local and remote port.</summary>
    public static ImmutableArray<TcpSocketInfo> Order(IEnumerable<TcpSocketInfo> infos)
        => [.. infos.OrderBy(i => i.State == "LISTEN" ? 0 : 1).ThenBy(i => i.LocalPort).ThenBy(i => i.RemotePort)];
}
