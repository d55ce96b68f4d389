using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Messages;
using static ActorStack.Tests.Exploration.StackNet;

namespace ActorStack.Tests.Exploration;

/// <summary>
/// Cable restore against retransmission timers, under 200 random and 200 PCT schedules each: a sends 16 segments to
/// b, the cable is cut 0..30 µs into the transfer and mended 50..750 ms later (both by iteration), so the mend comes
/// before, at or between RTO expiries (tcp_retransmit_timer, backing off from 200 ms). Whatever the interleaving: the
/// transfer completes with exactly the bytes sent, in order, a retransmitted by timeout at least once when anything
/// was lost, and both connections are ESTAB with nothing unacknowledged.
/// </summary>
public class CableRestoreExplorationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Bytes = 16 * 1448;

    /// <summary>b's application: reads until <paramref name="into"/> is full (got[0] = bytes so far).</summary>
    private sealed class ReadAll : ReceiveActor
    {
        public ReadAll(IActorRef socket, byte[] into, int[] got)
        {
            Receive<string>(_ => socket.Tell(new StreamRecv(65536)));
            Receive<StreamData>(d =>
            {
                if (d.Eof) return;
                d.Data.Span.CopyTo(into.AsSpan(got[0]));
                got[0] += d.Data.Length;
                if (got[0] < into.Length) socket.Tell(new StreamRecv(65536));
            });
        }
    }

    internal static string CableRestoreBody(ExplorationContext ctx, int variant)
    {
        var net = new StackNet(ctx);
        var a = net.Host("a", 1, "10.0.0.1", permanent: ("10.0.0.2", 2));
        var b = net.Host("b", 2, "10.0.0.2", permanent: ("10.0.0.1", 1));
        var wire = net.Wire(a, b, TimeSpan.FromMicroseconds(10));
        var (_, client, server) = net.Connect(a, b, 80);
        var data = new byte[Bytes];
        new Random(variant).NextBytes(data);
        var into = new byte[Bytes];
        var got = new int[1];
        var reader = ctx.System.ActorOf(Props.Create(() => new ReadAll(server, into, got)), "reader");
        var (inbox, answers) = net.Inbox("inbox");
        var cutAt = TimeSpan.FromMicroseconds(2 * (variant % 16));
        var mendAt = cutAt + TimeSpan.FromMilliseconds(50 + 100 * (variant / 16 % 8));
        ctx.System.Scheduler.ScheduleTellOnce(cutAt, wire, CutCable.Instance, inbox);
        ctx.System.Scheduler.ScheduleTellOnce(mendAt, wire, RestoreCable.Instance, inbox);
        reader.Tell("go");
        client.Tell(new SendTo(data), inbox);
        var start = ctx.Engine.Now;
        var took = net.RunUntil(() => got[0] == Bytes, TimeSpan.FromSeconds(10), "transfer after the mend");
        ctx.Engine.RunFor(TimeSpan.FromSeconds(2)); // the last ACKs and any retransmission in flight settle
        Assert.True(data.AsSpan().SequenceEqual(into), "the bytes b read differ from those a sent");
        Assert.Equal(new[] { typeof(Sent) }, answers.Where(m => m is not CableState).Select(m => m.GetType()));
        Assert.Equal(Bytes, ((Sent)answers.Single(m => m is Sent)).Bytes);
        Assert.Equal(2, answers.OfType<CableState>().Count(s => s.Changed));
        var ia = net.TcpInfo(client);
        var ib = net.TcpInfo(server);
        Assert.Equal(("ESTAB", "ESTAB", 0, 0), (ia.State, ib.State, ia.Unacked, ia.SendQueue));
        var sa = net.Stats(a);
        var w = net.WireStats(wire);
        long lost = w.AToBDetail!.DroppedBy(DropReason.SIM_LINK_DOWN) + w.BToADetail!.DroppedBy(DropReason.SIM_LINK_DOWN);
        long retrans = Mib(sa, "Tcp", "RetransSegs"), timeouts = Mib(sa, "TcpExt", "TCPTimeouts");
        if (lost > 0) Assert.InRange(timeouts, 1, 4);     // 200, 400, 800 ms backed off: the mend by 780 ms ends it by the 4th
        Assert.InRange(retrans, timeouts, timeouts + 16);
        // The transfer ends after the mend, within the RTO backed off at most to 1.6 s after it.
        if (lost > 0) Assert.InRange(start + took, mendAt, mendAt + TimeSpan.FromSeconds(1.6));
        return $"lost {lost} timeouts {timeouts} retrans {retrans} took {took.TotalMilliseconds:F3} ms (mend at {mendAt.TotalMilliseconds:F3})";
    }

    private static ExploreOptions Options(int seed) => new() { Scenario = "cable-restore-v1", Seed = seed, MaxTime = TimeSpan.FromSeconds(20), MaxSteps = 300_000 };

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void CableRestore_AgainstRetransmissionTimers_TransferCompletesWithTheRightBytes(string strategy)
        => ExplorationLog.Run(output, "cable restore vs RTO", 200, strategy, ctx => CableRestoreBody(ctx, ctx.Iteration), Options(1));
}
