using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Exploration.StackNet;

namespace ActorStack.Tests.Exploration;

/// <summary>
/// Listener close against pending accepts, under 200 random and 200 PCT schedules each: a opens 4 connections to b's
/// listener (non-blocking connects at one instant) and b closes the listener 0..75 µs later (by iteration): with SYNs
/// in flight, children in SYN-RECV, and connections in the accept queue. Whatever the interleaving: every client
/// connection ends closed (ss: UNCONN), refused or reset (AttemptFails + EstabResets = 4), b keeps no socket, nobody is ESTAB.
/// </summary>
public class ListenerCloseExplorationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Clients = 4;

    internal static string ListenerCloseBody(ExplorationContext ctx, int variant)
    {
        var net = new StackNet(ctx);
        var a = net.Host("a", 1, "10.0.0.1", permanent: ("10.0.0.2", 2));
        var b = net.Host("b", 2, "10.0.0.2", permanent: ("10.0.0.1", 1));
        var wire = net.Wire(a, b, TimeSpan.FromMicroseconds(10));
        var listener = net.Listener(b, 80, 8);
        var clients = Enumerable.Range(0, Clients).Select(_ => net.Socket(a, SockType.Stream)).ToArray();
        var (inbox, got) = net.Inbox("inbox");
        ctx.System.Scheduler.ScheduleTellOnce(TimeSpan.FromMicroseconds(5 * (variant % 16)), listener, Close.Instance, inbox);
        foreach (var c in clients) c.Tell(new StreamConnect(Ip("10.0.0.2"), 80, NonBlocking: true), inbox);
        ctx.Engine.RunFor(TimeSpan.FromSeconds(4)); // a SYN that met no listener is retried after 1 s and answered with a RST
        // The outcome of each connect: a blocking connect now reports it (the error, or EISCONN if it got through).
        var outcome = clients.Select(c => net.Command(c, new StreamConnect(Ip("10.0.0.2"), 80))).ToArray();
        var infos = clients.Select(net.TcpInfo).ToArray();
        var sa = net.Stats(a);
        var sb = net.Stats(b);
        var w = net.WireStats(wire);
        Assert.Equal(Clients, got.Count(m => m is CommandFailed { Error: Errno.EINPROGRESS }));
        Assert.Single(got.OfType<SocketOk>());
        Assert.Equal(0L, Mib(sa, "Tcp", "CurrEstab") + Mib(sb, "Tcp", "CurrEstab"));
        Assert.DoesNotContain(sb.Sockets, s => s.Type == SockType.Stream);
        Assert.Equal(Clients, Mib(sa, "Tcp", "AttemptFails") + Mib(sa, "Tcp", "EstabResets"));
        Assert.Equal(Clients, Mib(sa, "Tcp", "ActiveOpens"));
        Assert.All(infos, i => Assert.Equal("UNCONN", i.State));
        Assert.All(outcome, e => Assert.Contains(e, new[] { Errno.ECONNREFUSED, Errno.ECONNRESET, Errno.EISCONN }));
        Assert.Equal(0L, w.AToBDetail!.InFlight + w.BToADetail!.InFlight);
        // As Linux: one RST per client from b, whichever stage its connection was in: a SYN that found no listener
        // (tcp_v4_send_reset), an ACK for a request sock the close dropped (the same), or an accept-queue child reset
        // by inet_csk_listen_stop (tcp_disconnect, which counts no TCPAbortOnClose). a frees each RST after acting on
        // it (TCP_RESET) and drops nothing else: no segment of b's finds a's socket gone.
        Assert.Equal((long)Clients, Mib(sb, "Tcp", "OutRsts"));
        Assert.Equal(0L, Mib(sb, "TcpExt", "TCPAbortOnClose"));
        Assert.Equal(((long)Clients, (long)Clients), (sa.DropsAt(DropReason.TCP_RESET, "tcp/sock"), sa.TotalDrops));
        Assert.InRange(Mib(sb, "Tcp", "PassiveOpens"), 0, Clients);
        Assert.InRange(Mib(sa, "Tcp", "RetransSegs"), 0, Clients);
        return $"outcomes {string.Join(",", outcome)}; a AttemptFails {Mib(sa, "Tcp", "AttemptFails")} EstabResets {Mib(sa, "Tcp", "EstabResets")} " +
               $"RetransSegs {Mib(sa, "Tcp", "RetransSegs")}; b PassiveOpens {Mib(sb, "Tcp", "PassiveOpens")} OutRsts {Mib(sb, "Tcp", "OutRsts")} " +
               $"AbortOnClose {Mib(sb, "TcpExt", "TCPAbortOnClose")}; a: {Drops(sa)}; b: {Drops(sb)}";
    }

    private static ExploreOptions Options(int seed) => new() { Scenario = "listener-close-v2", Seed = seed, MaxTime = TimeSpan.FromSeconds(10), MaxSteps = 200_000 };

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void ListenerClose_AgainstPendingAccepts_EveryClientRefusedOrReset(string strategy)
        => ExplorationLog.Run(output, "listener close vs accepts", 200, strategy, ctx => ListenerCloseBody(ctx, ctx.Iteration), Options(1));
}
