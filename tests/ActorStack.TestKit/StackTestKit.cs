using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Engine;
using ActorStack.Config;
using Xunit.Abstractions;

namespace ActorStack.Testing;

/// <summary>
/// An Akka.TestKit (xunit) whose actor system runs on the simulation engine (scheduler, default and internal
/// dispatchers), for tests that want probes as actors. The engine boots inline (guardians, loggers, the test actor) and
/// is paused when the constructor ends: from then on nothing runs until the test runs it (<see cref="RunUntil"/>,
/// <see cref="Ask{T}"/>, <see cref="Expect{T}"/>, a <see cref="StackKit"/>'s calls). TestKit's test actor and probes run on
/// the CallingThreadDispatcher (<c>akka.test.test-actor.dispatcher</c>), i.e. inline on the engine's thread when an actor
/// tells them. <see cref="StartScenario"/> starts a whole scenario in this system (a <see cref="StackKit"/> sharing the
/// driver, so its probes see every instant the test runs).
/// </summary>
public abstract class StackTestKit : Akka.TestKit.Xunit2.TestKit
{
    protected readonly SimEngine Engine;
    protected readonly EngineDriver Driver;

    protected StackTestKit(string name, string extraHocon = "", ITestOutputHelper? output = null)
        : base(StackConfig.AkkaConfig(extraHocon + "\n" + SimEngine.Hocon), name, output)
    {
        Engine = SimEngine.For(Sys);
        Driver = new EngineDriver(Engine);
        Engine.Pause();
    }

    protected override void Dispose(bool disposing)
    {
        Engine.ReleaseControl(); // termination runs inline on whoever queues it (coordinated shutdown would do it too)
        base.Dispose(disposing);
    }

    /// <summary>Starts <paramref name="scenario"/> in this test's actor system (see <see cref="StackKit"/>).</summary>
    protected StackKit StartScenario(Scenario scenario, StackKitOptions? options = null) => StackKit.Attach(Sys, scenario, options, Driver);

    /// <summary>A probe: its actor starts under /system, so the engine drains the guardian's turn inline meanwhile.</summary>
    protected TestProbe Probe()
    {
        Engine.ReleaseControl();
        try { return CreateTestProbe(); }
        finally { Engine.Pause(); }
    }

    /// <summary>
    /// Waiting on the engine: runs everything due at the current instant, and while <paramref name="done"/> does not
    /// hold moves the clock to the next queued event and runs it. Fails if nothing is queued while not done (a stall)
    /// or when the next event lies beyond <paramref name="within"/> of simulated time (default <see cref="KitDefaults.Limit"/>).
    /// Returns the simulated time that passed.
    /// </summary>
    protected TimeSpan RunUntil(Func<bool> done, TimeSpan? within = null, string? what = null) => Driver.RunUntil(done, within, what);

    /// <summary><see cref="RunUntil(Func{bool}, TimeSpan?, string?)"/> for a condition that asks the actors (it may run the engine itself).</summary>
    protected Task<TimeSpan> RunUntilAsync(Func<Task<bool>> done, TimeSpan? within = null, string? what = null) => Driver.RunUntilAsync(done, within, what);

    /// <summary>
    /// Ask on the engine from a temporary sender (Akka's Ask, no timeout timer): first runs everything due now (what
    /// the test told before, e.g. injected frames, has gone all the way through the stack), then asks and runs the
    /// engine until the answer is there (moving the clock only if the answer needs time, e.g. a connect's handshake
    /// over a wire with delay).
    /// </summary>
    protected Task<T> Ask<T>(IActorRef target, object message, TimeSpan? within = null)
    {
        try { return Task.FromResult(Driver.Ask<T>(target, message, within)); }
        catch (Exception e) when (e is not OutOfMemoryException) { return Task.FromException<T>(e); }
    }

    /// <summary>
    /// Awaits <paramref name="query"/>: code outside the engine that asks actors with Akka's Ask and awaits the answers
    /// on the thread pool. The engine is in inline mode meanwhile, so each Tell runs what it queued at the current
    /// instant on the telling thread; the clock does not move.
    /// </summary>
    protected async Task<T> Outside<T>(Func<Task<T>> query)
    {
        Engine.ReleaseControl();
        try { return await query(); }
        finally { Engine.Pause(); }
    }

    /// <summary>
    /// The next message to <paramref name="probe"/> (the test actor if null) once everything due now has run: it must be
    /// there at this instant (nothing runs later unless the test runs the engine). The wall-clock bound only limits how
    /// long a failing expectation waits for a message that cannot come.
    /// </summary>
    protected async Task<T> Expect<T>(TestProbe? probe = null)
    {
        Driver.RunIdle();
        var wait = TimeSpan.FromSeconds(15);
        return probe is null ? await ExpectMsgAsync<T>(wait) : await probe.ExpectMsgAsync<T>(wait);
    }

    /// <summary>
    /// The next message to <paramref name="probe"/> (the test actor if null), running the engine until one is there
    /// (at most <paramref name="within"/> of simulated time, 1 s by default): for answers that take wire time at the
    /// line rate and CPU cost per packet.
    /// </summary>
    protected async Task<T> ExpectSoon<T>(TestProbe? probe = null, TimeSpan? within = null)
    {
        RunUntil(() => probe is null ? HasMessages : probe.HasMessages, within ?? TimeSpan.FromSeconds(1), $"a {typeof(T).Name}");
        return await Expect<T>(probe);
    }

    /// <summary>Nothing for <paramref name="probe"/> (the test actor if null) once everything due now has run; the clock does not move.</summary>
    protected async Task ExpectNothingNow(TestProbe? probe = null)
    {
        Driver.RunIdle();
        if (probe is null) await ExpectNoMsgAsync(TimeSpan.Zero);
        else await probe.ExpectNoMsgAsync(TimeSpan.Zero);
    }
}
