using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Engine;
using ActorStack.Config;
using ActorStack.Actors.Namespaces;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Engine;

/// <summary>
/// A TestKit whose system runs on the product's <see cref="SimEngine"/> (scheduler, default and internal
/// dispatchers). The engine boots inline (guardians, loggers, the test actor) and is paused when the constructor
/// ends: from then on nothing runs until the test calls Run*. TestKit's test actor and probes run on the
/// CallingThreadDispatcher (akka.test.test-actor.dispatcher), i.e. inline on the engine's thread when an actor tells them.
/// </summary>
public abstract class EngineKit : Akka.TestKit.Xunit2.TestKit
{
    protected readonly SimEngine Engine;

    protected EngineKit(string name, string extraHocon = "") : base(StackConfig.AkkaConfig(extraHocon + "\n" + SimEngine.Hocon), name)
    {
        Engine = SimEngine.For(Sys);
        Engine.Pause();
    }

    protected override void Dispose(bool disposing)
    {
        Engine.ReleaseControl(); // termination runs inline on whoever queues it (coordinated shutdown would do it too)
        base.Dispose(disposing);
    }

    /// <summary>A probe: its actor starts under /system, so the engine drains the guardian's turn inline meanwhile.</summary>
    protected TestProbe Probe()
    {
        Engine.ReleaseControl();
        try { return CreateTestProbe(); }
        finally { Engine.Pause(); }
    }

    /// <summary>Ask on the engine: tells with <paramref name="probe"/> as sender, runs what is due now, then takes the reply.</summary>
    protected async Task<T> AskNow<T>(TestProbe probe, IActorRef target, object message)
    {
        target.Tell(message, probe.Ref);
        Engine.RunUntilIdle();
        return await probe.ExpectMsgAsync<T>(TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Host "h" with one CPU and eth0 (MAC 02:00:00:00:00:02, 10.0.0.2/24) on the engine, its NIC and a probe to ask with:
    /// for tests that feed frames straight into a NIC.
    /// </summary>
    protected async Task<(IActorRef Host, IActorRef Nic, TestProbe Asker)> OneNicHost()
    {
        var asker = Probe();
        var settings = new HostSettings("h", 1, new SysctlSettings(),
            [new DeviceSettings("eth0", new MacAddress(0x02_00_00_00_00_02UL), Addresses: [new Ipv4Prefix(Ipv4Address.Parse("10.0.0.2"), 24)])]);
        var host = Sys.ActorOf(HostActor.Props(settings, seed: 1), "h");
        var nic = (await AskNow<HostDevices>(asker, host, GetHostDevices.Instance)).Devices["eth0"];
        return (host, nic, asker);
    }

    /// <summary>Tells <paramref name="message"/> to <paramref name="target"/> from <paramref name="sender"/> and runs what is due now.</summary>
    protected void TellNow(IActorRef target, object message, IActorRef sender)
    {
        target.Tell(message, sender);
        Engine.RunUntilIdle();
    }

    protected static TimeSpan Us(double us) => TimeSpan.FromTicks((long)Math.Round(us * 10));

    /// <summary>
    /// Waiting on the engine: runs everything due at the current instant, and while <paramref name="done"/> does not
    /// hold moves the clock to the next queued event and runs it. Fails if nothing is queued while not done (a stall)
    /// or when the next event lies beyond <paramref name="within"/> of simulated time (default <see cref="Timeouts.Simulated"/>).
    /// Returns the simulated time that passed.
    /// </summary>
    protected TimeSpan RunUntil(Func<bool> done, TimeSpan? within = null, string? what = null)
    {
        var start = Engine.Now;
        while (true)
        {
            Engine.RunUntilIdle();
            if (done()) return Engine.Now - start;
            NextInstant(start, within, what);
        }
    }

    /// <summary><see cref="RunUntil(Func{bool}, TimeSpan?, string?)"/> for a condition that asks the actors (it may run the engine itself).</summary>
    protected async Task<TimeSpan> RunUntilAsync(Func<Task<bool>> done, TimeSpan? within = null, string? what = null)
    {
        var start = Engine.Now;
        while (true)
        {
            Engine.RunUntilIdle();
            if (await done()) return Engine.Now - start;
            NextInstant(start, within, what);
        }
    }

    /// <summary>Moves the clock to the next queued event and runs what is due then; fails on a stall or past the limit.</summary>
    private void NextInstant(TimeSpan start, TimeSpan? within, string? what)
    {
        var limit = within ?? Timeouts.Simulated;
        // In ns: an event between two 100 ns ticks (a frame's wire time, a CPU cost) must be reached, not rounded off.
        long whenNs = Engine.NextDueNs
            ?? throw new Xunit.Sdk.XunitException($"{what ?? "condition"}: stalled at +{Engine.Now - start}, nothing queued");
        if (SimEngine.FromNs(whenNs) - start > limit) throw new Xunit.Sdk.XunitException($"{what ?? "condition"}: not met within {limit} of simulated time");
        Engine.RunUntilNs(whenNs);
    }

    /// <summary>
    /// Ask on the engine from a temporary sender (Akka's Ask, no timeout timer): first runs everything due now (what
    /// the test told before, e.g. injected frames, has gone all the way through the stack), then asks and runs the
    /// engine until the answer is there (moving the clock only if the answer needs time, e.g. a connect's handshake
    /// over a wire with delay).
    /// </summary>
    protected async Task<T> Ask<T>(IActorRef target, object message, TimeSpan? within = null)
    {
        Engine.RunUntilIdle();
        var answer = target.Ask<object>(message);
        RunUntil(() => answer.IsCompleted, within, $"answer of {target.Path.Name} to {message.GetType().Name}");
        var r = await answer;
        return r is T t ? t : throw new Xunit.Sdk.XunitException($"{target.Path.Name} answered {message.GetType().Name} with {r}, expected {typeof(T).Name}");
    }

    /// <summary>
    /// Awaits <paramref name="query"/>: code outside the engine that asks actors with Akka's Ask and awaits the answers
    /// on the thread pool (e.g. the CLI's SsQuery). The engine is in inline mode meanwhile, so each Tell runs what it
    /// queued at the current instant on the telling thread; the clock does not move.
    /// </summary>
    protected async Task<T> Outside<T>(Func<Task<T>> query)
    {
        Engine.ReleaseControl();
        try { return await query(); }
        finally { Engine.Pause(); }
    }

    /// <summary>The next message to <paramref name="probe"/> (the test actor if null) once everything due now has run: it must be there at this instant (nothing runs later unless the test runs the engine).</summary>
    protected async Task<T> Expect<T>(TestProbe? probe = null)
    {
        Engine.RunUntilIdle();
        return probe is null ? await ExpectMsgAsync<T>(Timeouts.Wall) : await probe.ExpectMsgAsync<T>(Timeouts.Wall);
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
        Engine.RunUntilIdle();
        if (probe is null) await ExpectNoMsgAsync(TimeSpan.Zero);
        else await probe.ExpectNoMsgAsync(TimeSpan.Zero);
    }
}
