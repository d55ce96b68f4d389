using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// The members a coordinator knows: worker agents that answered its <see cref="NodeHello"/> with the same build (and,
/// when they were started with one, the same scenario), refusals, and members lost (unreachable or removed). Written by
/// <see cref="MemberWatcher"/>, read by <see cref="ClusterRun"/>; <see cref="Changed"/> wakes the reader.
/// </summary>
public sealed class ClusterMembers
{
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public ConcurrentDictionary<string, (IActorRef Agent, Address Address)> Accepted { get; } = new(StringComparer.Ordinal);
    public ConcurrentQueue<string> Refusals { get; } = new();
    public ConcurrentDictionary<Address, TaskCompletionSource<string>> Lost { get; } = new();

    public Task Changed => Volatile.Read(ref _changed).Task;

    public void Signal() => Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public TaskCompletionSource<string> LostSignal(Address a) => Lost.GetOrAdd(a, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>
/// On the coordinator: greets every member that comes up (<see cref="NodeHello"/> to its agent), checks the answer's
/// build and scenario hashes (a mismatch is refused on both sides: <see cref="NodeRefused"/> to the agent, the reason in
/// <see cref="ClusterMembers.Refusals"/>), and reports members that become unreachable or are removed as lost.
/// </summary>
public sealed class MemberWatcher : ReceiveActor
{
    public MemberWatcher(string self, string scenarioHash, ClusterMembers members)
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        string build = ClusterPlan.BuildHash();
        Receive<ClusterEvent.CurrentClusterState>(st =>
        {
            foreach (var m in st.Members.Where(m => m.Status == MemberStatus.Up)) Greet(m.Address);
        });
        Receive<ClusterEvent.MemberUp>(up => Greet(up.Member.Address));
        Receive<ClusterEvent.UnreachableMember>(u => Lose(u.Member.Address, "unreachable"));
        Receive<ClusterEvent.MemberRemoved>(r => Lose(r.Member.Address, "removed from the cluster"));
        Receive<NodeHello>(h =>
        {
            string? why = h.BuildHash != build ? $"node {h.Node} runs another build ({h.BuildHash}, the coordinator's {build})"
                : h.ScenarioHash.Length > 0 && h.ScenarioHash != scenarioHash ? $"node {h.Node} was started with another scenario ({h.ScenarioHash}, the coordinator's {scenarioHash})"
                : h.Node == self || members.Accepted.ContainsKey(h.Node) ? $"node name {h.Node} is taken"
                : null;
            if (why is not null)
            {
                Sender.Tell(new NodeRefused(self, why));
                members.Refusals.Enqueue(why);
            }
            else
            {
                members.Accepted[h.Node] = (Sender, Sender.Path.Address);
                Sender.Tell(new NodeAccepted(h.Node));
            }
            members.Signal();
        });
        Receive<NodeRefused>(r =>
        {
            members.Refusals.Enqueue(r.Reason);
            members.Signal();
        });
        return;

        void Greet(Address a)
        {
            if (a.Equals(cluster.SelfAddress)) return;
            Context.ActorSelection(new RootActorPath(a) / "user" / "node-agent").Tell(new NodeHello(self, build, scenarioHash), Self);
        }

        void Lose(Address a, string how)
        {
            if (a.Equals(cluster.SelfAddress)) return;
            members.LostSignal(a).TrySetResult(how);
            members.Signal();
        }
    }

    protected override void PreStart() => Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.InitialStateAsEvents,
        typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
}

/// <summary>A partition on a worker node, reached through its agent; a lost member fails the pending call.</summary>
public sealed class RemotePartitionLink(string node, IActorRef agent, Task<string> lost, TimeSpan timeout) : IPartitionLink
{
    public string Node => node;
    /// <summary>The node's agent (the real clock's frames go to it directly).</summary>
    public IActorRef Agent => agent;
    /// <summary>Completes (with how) when the node is lost.</summary>
    public Task<string> Lost => lost;

    public async Task<object> Send(object message)
    {
        var ask = agent.Ask<object>(message, timeout);
        var first = await Task.WhenAny(ask, lost);
        if (first == lost) throw new NodeLostException(node, await lost);
        try { return await ask; }
        catch (AskTimeoutException) { throw new NodeLostException(node, $"no answer to {message.GetType().Name} within {timeout.TotalSeconds:0}s"); }
    }
}

/// <summary>
/// <c>actorstack run</c> over a cluster: waits (at most <see cref="ClusterSettings.JoinTimeout"/>) for
/// <see cref="ClusterSettings.MinNodes"/> members and every node the scenario names, places the scenario
/// (<see cref="ClusterPlan"/>: refused before anything starts when a cut wire has no lookahead), and runs it with
/// <see cref="WindowCoordinator"/>: the coordinator's own partition in this process, the others on their nodes.
/// </summary>
public static class ClusterRun
{
    /// <summary>The coordinator's node name.</summary>
    public const string CoordinatorNode = "n1";

    /// <summary>Waits for the members; returns the plan and the links, or throws <see cref="ClusterPlanException"/> naming what is missing.</summary>
    public static async Task<(ClusterPlan Plan, List<IPartitionLink> Links)> Join(ActorSystem control, StackSettings s, string configText,
        ClusterMembers members, int? minNodes = null, TimeSpan? windowTimeout = null)
    {
        int min = minNodes ?? s.Cluster.MinNodes;
        var named = s.Hosts.Select(h => (h.Name, h.Node)).Concat(s.Switches.Select(w => (w.Name, w.Node)))
            .Where(x => x.Node is not null && x.Node != CoordinatorNode).ToList();
        // The join timeout on the control plane's own scheduler (the member's real-time actor system).
        var timedOut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var timer = control.Scheduler.Advanced.ScheduleOnceCancelable(s.Cluster.JoinTimeout, () => timedOut.TrySetResult());
        var deadline = timedOut.Task;
        while (true)
        {
            if (members.Refusals.TryPeek(out var refusal)) throw new ClusterPlanException($"refused: {refusal}");
            var changed = members.Changed;
            var missing = named.Where(x => !members.Accepted.ContainsKey(x.Node!)).ToList();
            if (members.Accepted.Count + 1 >= min && missing.Count == 0) break;
            if (await Task.WhenAny(changed, deadline) == deadline)
            {
                // A member may have been accepted between the check above and the deadline: look once more.
                missing = named.Where(x => !members.Accepted.ContainsKey(x.Node!)).ToList();
                if (members.Accepted.Count + 1 >= min && missing.Count == 0 && members.Refusals.IsEmpty) break;
                string what = missing.Count > 0
                    ? string.Join("; ", missing.GroupBy(x => x.Node).Select(g => $"node {g.Key} (placing {Names(g.Select(x => x.Name).ToList())}) did not join"))
                    : $"{members.Accepted.Count + 1} of min-nodes = {min} members joined";
                throw new ClusterPlanException($"{what} within {s.Cluster.JoinTimeout.TotalSeconds:0.###}s (members: {string.Join(", ", members.Accepted.Keys.Prepend(CoordinatorNode))})");
            }
        }
        var nodes = members.Accepted.Keys.Order(StringComparer.Ordinal).Prepend(CoordinatorNode).ToList();
        var plan = ClusterPlan.Make(s, nodes);
        timer.Cancel();
        var links = new List<IPartitionLink> { new LocalPartitionLink(CoordinatorNode, wallClock: () => control.Scheduler.MonotonicClock) };
        foreach (var n in nodes.Skip(1))
        {
            var (agent, address) = members.Accepted[n];
            links.Add(new RemotePartitionLink(n, agent, members.LostSignal(address).Task, windowTimeout ?? TimeSpan.FromMinutes(10)));
        }
        return (plan, links);
    }

    /// <summary>
    /// The real clock (<c>run --clock real</c>): joins and places as <see cref="Run"/>, then runs with
    /// <see cref="RealTimeCoordinator"/> for <paramref name="duration"/> of real time after the workloads start; the
    /// coordinator's own partition is behind an agent of its own here (the peers send it their frames).
    /// </summary>
    public static async Task<ClusterRunResult> RunReal(ActorSystem control, StackSettings s, string configText, TimeSpan duration,
        int? minNodes = null, TextWriter? log = null, Action? onStarted = null)
    {
        var members = new ClusterMembers();
        var watcher = control.ActorOf(Props.Create(() => new MemberWatcher(CoordinatorNode, ClusterPlan.ScenarioHash(configText), members)), "member-watcher");
        List<IPartitionLink>? links = null;
        IActorRef? own = null;
        try
        {
            (var plan, links) = await Join(control, s, configText, members, minNodes);
            log?.WriteLine(plan.Describe(s));
            own = control.ActorOf(NodeAgentActor.Props(CoordinatorNode, null, new TaskCompletionSource<string>()), $"node-agent-{CoordinatorNode}");
            var never = new TaskCompletionSource<string>().Task; // the coordinator's own partition is lost only with it
            var real = links.Select(l => l as RemotePartitionLink ?? new RemotePartitionLink(l.Node, own, never, TimeSpan.FromMinutes(10))).ToList();
            return await new RealTimeCoordinator(s, plan, configText) { WallClock = () => control.Scheduler.MonotonicClock, OnStarted = onStarted }
                .Run(real, duration, control.Scheduler);
        }
        finally
        {
            control.Stop(watcher);
            if (own is not null) control.Stop(own);
            foreach (var l in links ?? []) (l as IDisposable)?.Dispose();
        }
    }

    /// <summary>At most 10 names, then how many more (a node of a big scenario places tens of thousands of hosts).</summary>
    private static string Names(List<string> names)
        => names.Count <= 10 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(10))} and {names.Count - 10:N0} more";

    /// <summary>Joins, places and runs for <paramref name="duration"/> after the workloads start.</summary>
    public static async Task<ClusterRunResult> Run(ActorSystem control, StackSettings s, string configText, TimeSpan duration,
        int? minNodes = null, TextWriter? log = null)
    {
        var members = new ClusterMembers();
        var watcher = control.ActorOf(Props.Create(() => new MemberWatcher(CoordinatorNode, ClusterPlan.ScenarioHash(configText), members)), "member-watcher");
        List<IPartitionLink>? links = null;
        try
        {
            (var plan, links) = await Join(control, s, configText, members, minNodes);
            log?.WriteLine(plan.Describe(s));
            return await new WindowCoordinator(s, plan, configText) { WallClock = () => control.Scheduler.MonotonicClock }.Run(links, duration);
        }
        finally
        {
            control.Stop(watcher);
            foreach (var l in links ?? []) (l as IDisposable)?.Dispose();
        }
    }
}
