using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Testing;

/// <summary>How a <see cref="StackKit"/> starts.</summary>
public sealed record StackKitOptions
{
    /// <summary>Name of the actor system the kit creates (<see cref="StackKit.Start(Scenario, StackKitOptions?)"/>).</summary>
    public string SystemName { get; init; } = "actorstack";

    /// <summary>Name of the <see cref="SimulationActor"/> (a second scenario in one actor system needs another).</summary>
    public string SimulationName { get; init; } = "sim";

    /// <summary>Akka configuration put over the scenario's (e.g. <c>akka.loglevel = DEBUG</c>).</summary>
    public string ExtraHocon { get; init; } = "";

    /// <summary>The default limit of every wait, in simulated time.</summary>
    public TimeSpan Limit { get; init; } = KitDefaults.Limit;

    /// <summary>
    /// At most this many events at one simulated instant before a wait fails as a liveness failure
    /// (<see cref="EngineDriver.MaxEventsPerInstant"/>): 5,000,000 by default, the CLI's bound; null: unchecked.
    /// </summary>
    public long? MaxEventsPerInstant { get; init; } = 5_000_000;

    /// <summary>
    /// Called with the engine before the simulation starts (boot has run inline, the engine is paused): the place to set
    /// the engine up for a run, e.g. its <see cref="SimEngine.Trace"/>, or a schedule strategy for exploration.
    /// </summary>
    public Action<SimEngine>? OnEngine { get; init; }
}

/// <summary>
/// A scenario running on the simulation engine, driven from a test. <see cref="Start(Scenario, StackKitOptions?)"/>
/// builds it as the CLI's <c>run</c> does (a <see cref="SimulationActor"/> named <c>sim</c>, <see cref="StartSimulation"/>),
/// on an actor system of its own whose scheduler and dispatchers are the engine's; the clock then moves only when the test
/// calls <see cref="RunFor"/>, <see cref="RunUntil"/> or a blocking call (an Ask, a socket's blocking recv), each of which
/// returns when the engine is quiescent at the instant it stops at. Questions to the actors (<see cref="Ask{T}"/>) are
/// answered at the current instant unless the answer needs simulated time. Nothing depends on the wall clock.
/// Hosts, wires and the applications are reached by name (<see cref="Host"/>, <see cref="Wire(string)"/>); probes see
/// frames, link events, drops and fault actions as they happen.
/// </summary>
public sealed partial class StackKit : IDisposable
{
    private readonly bool _ownsSystem;
    private readonly Dictionary<string, HostView> _hosts = new();
    private bool _disposed;

    private StackKit(ActorSystem system, Scenario scenario, StackKitOptions options, bool ownsSystem, EngineDriver? driver = null)
    {
        System = system;
        Scenario = scenario;
        _ownsSystem = ownsSystem;
        Engine = SimEngine.IsVirtual(system) ? SimEngine.For(system)
            : throw new ArgumentException("the actor system does not run on the simulation engine (its configuration needs SimEngine.Hocon)", nameof(system));
        Driver = driver ?? new EngineDriver(Engine) { DefaultLimit = options.Limit, MaxEventsPerInstant = options.MaxEventsPerInstant };
        options.OnEngine?.Invoke(Engine);
        Engine.Pause();
        Simulation = system.ActorOf(SimulationActor.Props(scenario.Settings), options.SimulationName);
        // The start answers once every server is bound (asked every 1 ms of simulated time) and the generators run.
        var answer = Driver.Begin(Simulation, StartSimulation.Instance);
        Driver.RunUntil(() => answer.IsCompleted, options.Limit, "StartSimulation");
        Started = answer.Result switch
        {
            SimulationStarted s => s,
            CommandFailed f => throw new StackAssertionException($"the scenario did not start: {f.Error}: {f.Detail}"),
            var r => throw new StackAssertionException($"the scenario did not start: {r}"),
        };
        Topology = Driver.Ask<SimulationTopology>(Simulation, GetSimulationTopology.Instance);
        StartedAt = Engine.Now;
    }

    /// <summary>Starts <paramref name="scenario"/> on an actor system of its own (disposed with the kit).</summary>
    public static StackKit Start(Scenario scenario, StackKitOptions? options = null)
    {
        options ??= new StackKitOptions();
        // Later text wins: the scenario, the caller's extra configuration, then the engine (no CLR exit hook: it would hand
        // the engine back to inline mode from another thread).
        var config = StackConfig.AkkaConfig(scenario.Hocon + "\n" + options.ExtraHocon + "\n" + SimEngine.Hocon
                                            + "\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = off");
        _ = scenario.Settings; // a scenario that does not check fails here, before a system exists
        var system = ActorSystem.Create(options.SystemName, config);
        try { return new StackKit(system, scenario, options, ownsSystem: true); }
        catch
        {
            SimEngine.For(system).ReleaseControl();
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            throw;
        }
    }

    /// <summary>Starts a scenario given as HOCON text (see <see cref="Scenario.FromHocon"/>).</summary>
    public static StackKit Start(string hocon, StackKitOptions? options = null) => Start(Scenario.FromHocon(hocon), options);

    /// <summary>
    /// Starts <paramref name="scenario"/> in an existing actor system that runs on the engine (e.g. an Akka.TestKit's,
    /// see <see cref="StackTestKit"/>); the kit does not terminate it.
    /// </summary>
    public static StackKit Attach(ActorSystem system, Scenario scenario, StackKitOptions? options = null)
        => new(system, scenario, options ?? new StackKitOptions(), ownsSystem: false);

    /// <summary><see cref="Attach(ActorSystem, Scenario, StackKitOptions?)"/> sharing a test kit's driver (its probes see every instant the kit runs).</summary>
    internal static StackKit Attach(ActorSystem system, Scenario scenario, StackKitOptions? options, EngineDriver driver)
        => new(system, scenario, options ?? new StackKitOptions(), ownsSystem: false, driver);

    public ActorSystem System { get; }
    public SimEngine Engine { get; }
    public EngineDriver Driver { get; }
    public Scenario Scenario { get; }
    public StackSettings Settings => Scenario.Settings;
    public IActorRef Simulation { get; }
    public SimulationStarted Started { get; }
    public SimulationTopology Topology { get; }

    /// <summary>Simulated time since virtual 0.</summary>
    public TimeSpan Now => Engine.Now;

    /// <summary>The simulated instant the workloads started (the fault schedule's origin).</summary>
    public TimeSpan StartedAt { get; }

    /// <summary>Simulated time since the workloads started (what the fault schedule's <c>at</c> counts).</summary>
    public TimeSpan Elapsed => Engine.Now - StartedAt;

    /// <summary>Now as a date: the epoch (<c>actorstack.run.epoch</c>) plus simulated time; frame timestamps read this clock.</summary>
    public DateTimeOffset UtcNow => Engine.UtcNow;

    /// <summary>Runs the simulation for <paramref name="duration"/> of simulated time (see <see cref="EngineDriver.RunFor"/>).</summary>
    public void RunFor(TimeSpan duration) => Driver.RunFor(duration);

    /// <summary>Runs until <paramref name="done"/> holds, at most <paramref name="limit"/> of simulated time (see <see cref="EngineDriver.RunUntil"/>).</summary>
    public TimeSpan RunUntil(Func<bool> done, TimeSpan? limit = null, string? what = null) => Driver.RunUntil(done, limit, what);

    /// <summary>Runs in steps of <paramref name="every"/> until <paramref name="done"/> holds (see <see cref="EngineDriver.RunUntil(Func{bool}, TimeSpan, TimeSpan, string?)"/>).</summary>
    public TimeSpan RunUntil(Func<bool> done, TimeSpan limit, TimeSpan every, string? what = null) => Driver.RunUntil(done, limit, every, what);

    /// <summary>Asks an actor of the simulation and runs the engine until it answered (see <see cref="EngineDriver.Ask{T}"/>).</summary>
    public T Ask<T>(IActorRef target, object message, TimeSpan? limit = null) => Driver.Ask<T>(target, message, limit);

    /// <summary>The host named <paramref name="name"/> in the scenario.</summary>
    public HostView Host(string name)
    {
        if (_hosts.TryGetValue(name, out var v)) return v;
        if (!Started.Hosts.TryGetValue(name, out var host))
            throw new ArgumentException($"no host {name} (known: {string.Join(", ", Started.Hosts.Keys.Order(StringComparer.Ordinal))})", nameof(name));
        return _hosts[name] = new HostView(this, name, host);
    }

    /// <summary>The wire at <paramref name="index"/> in <c>scenario.wires</c>.</summary>
    public WireView Wire(int index)
    {
        if (index < 0 || index >= Settings.Wires.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the scenario has {Settings.Wires.Length} wire(s)");
        return new WireView(this, Settings.Wires[index].Name, Started.Wires[index]);
    }

    /// <summary>A wire by its name ("a/eth0-b/eth0") or by one of its ends ("a/eth0"), as the fault schedule names it.</summary>
    public WireView Wire(string name)
    {
        var matches = Enumerable.Range(0, Settings.Wires.Length).Where(i =>
        {
            var w = Settings.Wires[i];
            return w.Name == name || $"{w.HostA}/{w.DeviceA}" == name || $"{w.HostB}/{w.DeviceB}" == name;
        }).ToList();
        return matches.Count == 1 ? Wire(matches[0])
            : throw new ArgumentException($"{(matches.Count == 0 ? "no" : "more than one")} wire {name} (wires: {string.Join(", ", Settings.Wires.Select(w => w.Name))})", nameof(name));
    }

    /// <summary>The application workloads (servers and clients, in <c>scenario.workloads</c> order); each answers <see cref="GetWorkloadStatus"/>.</summary>
    public ImmutableArray<IActorRef> Apps => Topology.Apps;

    /// <summary>A workload's status record (<see cref="PingStatus"/>, <see cref="SinkStatus"/>, <see cref="PktgenStatus"/>, …).</summary>
    public T Status<T>(IActorRef workload) => Ask<T>(workload, GetWorkloadStatus.Instance);

    /// <summary>Link events (<c>ip monitor link</c>) of every host from now on.</summary>
    public LinkProbe LinkEvents() => new(this);

    /// <summary>Drops (dropwatch: reason, place, packets) on every host from now on, as they happen.</summary>
    public DropProbe Drops() => new(this, Started.Hosts.Keys.Order(StringComparer.Ordinal).Select(Host).ToList());

    /// <summary>The fault schedule's actions and their outcomes from now on.</summary>
    public FaultProbe Faults() => new(this);

    /// <summary>What the applications print (ping, traceroute, the UDP echo client) from now on.</summary>
    public OutputProbe Output() => new(this);

    /// <summary>
    /// The books of the UDP traffic from <paramref name="from"/> to <paramref name="to"/> (see <see cref="FlowBooks"/>):
    /// sent (pktgen and <c>Udp: OutDatagrams</c> of the sender), read (<c>Udp: InDatagrams</c> of the receiver, counted at
    /// <c>recvmsg</c>), queued in the receiver's sockets, dropped by reason on both hosts and on the wires between them,
    /// and in flight on those wires.
    /// </summary>
    public FlowBooks Books(string from, string to)
    {
        var tx = Host(from).Stats();
        var rx = Host(to).Stats();
        long pktgen = 0;
        foreach (var g in Started.Pktgens)
        {
            var st = Status<PktgenStatus>(g);
            if (st.Host == from) pktgen += st.Sent;
        }
        var wires = Enumerable.Range(0, Settings.Wires.Length)
            .Where(i => Settings.Wires[i].Tap is null && new[] { Settings.Wires[i].HostA, Settings.Wires[i].HostB }.Intersect([from, to]).Any())
            .Select(i => (Settings.Wires[i].Name, Ask<WireStats>(Started.Wires[i], GetWireStats.Instance)));
        return FlowBooks.Of(tx, rx, pktgen + tx.Mib("Udp")["OutDatagrams"], rx.Mib("Udp")["InDatagrams"], wires);
    }

    /// <summary>Fails unless <see cref="Books"/> balance: sent + duplicated = read + queued + dropped by reason + in flight.</summary>
    public FlowBooks AssertConserved(string from, string to)
    {
        var b = Books(from, to);
        b.AssertBalanced();
        return b;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_ownsSystem) return;
        Engine.ReleaseControl(); // termination runs inline on whoever queues it
        System.Terminate().Wait(TimeSpan.FromSeconds(10));
    }
}
