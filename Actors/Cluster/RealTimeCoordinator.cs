using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// A distributed run on the real clock (<c>run --clock real</c> over several nodes): no windows and no lookahead. Every
/// partition runs on Akka's own scheduler; a frame leaving a split wire's local half goes at once, through Akka.Remote with
/// the binary serializer, to the far node's agent (<see cref="CrossFrames"/>), which delivers it after the wire's delay on its
/// own scheduler. The coordinator places the partitions, starts the workloads everywhere (<see cref="StartRealPartition"/>),
/// lets <c>duration</c> pass on the control plane's scheduler and collects the reports. A node lost meanwhile (unreachable,
/// then downed; or it left) does not stop the run: the survivors cut every wire to it (carrier down at their end: link
/// events, <c>ip monitor</c>), count the frames it never acknowledged and every later frame for it as SIM_NODE_LOST, and
/// go on to the end; the result names the node and when it was lost, with the survivors' results.
/// </summary>
public sealed class RealTimeCoordinator(StackSettings settings, ClusterPlan plan, string configText)
{
    /// <summary>The control plane's clock (its actor system's scheduler) for the loss instants and the wall figures.</summary>
    public required Func<TimeSpan> WallClock { get; init; }

    /// <summary>Called once the workloads run everywhere (tests stop a node after it).</summary>
    public Action? OnStarted { get; init; }

    /// <summary>Runs the scenario for <paramref name="duration"/> of real time after the workloads start.</summary>
    public async Task<ClusterRunResult> Run(IReadOnlyList<RemotePartitionLink> links, TimeSpan duration, IScheduler scheduler)
    {
        var origin = WallClock();
        var missing = plan.Nodes.Where(n => links.All(l => l.Node != n)).ToList();
        if (missing.Count > 0) throw new ClusterPlanException($"no partition link for node(s) {string.Join(", ", missing)}");
        var placement = plan.Placement.Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value)).ToImmutableArray();
        // Before the workloads start a lost node fails the run (nothing ran yet): NodeLostException to the caller.
        Check(await Task.WhenAll(links.Select(l => l.Send(new PlacePartition(l.Node, configText, placement) { RealClock = true }))));
        var peers = links.Select(l => new KeyValuePair<string, IActorRef>(l.Node, l.Agent)).ToImmutableArray();
        Check(await Task.WhenAll(links.Select(l => l.Send(new StartRealPartition(peers)))));
        var start = WallClock();
        OnStarted?.Invoke();

        var end = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var timer = scheduler.Advanced.ScheduleOnceCancelable(duration, () => end.TrySetResult());
        var alive = links.ToList();
        var lost = ImmutableArray.CreateBuilder<NodeLoss>();
        while (true)
        {
            var watch = alive.Select(l => (Task)l.Lost).Prepend(end.Task).ToArray();
            int first = Array.IndexOf(watch, await Task.WhenAny(watch));
            if (first == 0) break;
            var gone = alive[first - 1];
            var at = WallClock() - start;
            alive.Remove(gone);
            lost.Add(new NodeLoss(gone.Node, at, await gone.Lost));
            // The survivors' end of every wire to it: carrier down, its frames lost; the run goes on.
            await Survivors(alive, lost, start, _ => new PeerLost(gone.Node, SimEngine.ToNs(at), 0));
        }
        timer.Cancel();
        // Page after page from each survivor (a partition of many hosts does not fit one remote message); one lost
        // meanwhile is left out and recorded, as above.
        var counters = new List<PartitionCounters>();
        foreach (var l in alive.ToList())
        {
            try
            {
                if (await WindowCoordinator.Collect(l) is PartitionCounters c) counters.Add(c);
            }
            catch (NodeLostException e)
            {
                alive.Remove(l);
                lost.Add(new NodeLoss(l.Node, WallClock() - start, e.Message));
            }
        }
        var hosts = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var drops = ImmutableSortedDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        var files = ImmutableArray.CreateBuilder<string>();
        foreach (var c in counters)
        {
            foreach (var (h, text) in c.Hosts) hosts[h] = text;
            foreach (var (r, n) in c.CrossDrops) drops[r] = drops.GetValueOrDefault(r) + n;
            files.AddRange(c.Files.Select(f => f.Value));
        }
        string? error = WindowCoordinator.MergeCaptures(settings, counters, files);
        var wall = WallClock() - origin;
        return new ClusterRunResult(hosts.ToImmutable(), drops.ToImmutable(), files.ToImmutable(), 0, 0, 0, 0, SimEngine.ToNs(duration),
            wall, TimeSpan.Zero, error)
        {
            StartWall = start - origin,
            RunWall = WallClock() - start,
            Report = ClusterReport.Merge(settings, counters.Select(c => c.Report).OfType<PartitionReport>()),
            RealClock = true,
            Lost = lost.ToImmutable(),
        };
    }

    private static void Check(object[] answers)
    {
        foreach (var a in answers)
            if (a is NodeRefused r) throw new ClusterPlanException(r.Reason);
            else if (a is not PartitionReady) throw new ClusterPlanException($"unexpected answer {a}");
    }

    // Asks every node still alive; one lost meanwhile is left out (and recorded, and the others told), not an error.
    private async Task<List<object>> Survivors(List<RemotePartitionLink> alive, ImmutableArray<NodeLoss>.Builder lost, TimeSpan start,
        Func<RemotePartitionLink, object> message)
    {
        var tasks = alive.Select(l => (l, t: l.Send(message(l)))).ToList();
        var answers = new List<object>();
        var gone = new List<RemotePartitionLink>();
        foreach (var (l, t) in tasks)
        {
            try { answers.Add(await t); }
            catch (NodeLostException e)
            {
                gone.Add(l);
                lost.Add(new NodeLoss(l.Node, WallClock() - start, e.Message));
            }
        }
        foreach (var g in gone)
        {
            alive.Remove(g);
            await Survivors(alive, lost, start, _ => new PeerLost(g.Node, SimEngine.ToNs(WallClock() - start), 0));
        }
        return answers;
    }
}
