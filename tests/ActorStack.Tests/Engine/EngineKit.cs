using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Engine;
using ActorStack.Config;

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

    /// <summary>Tells <paramref name="message"/> to <paramref name="target"/> from <paramref name="sender"/> and runs what is due now.</summary>
    protected void TellNow(IActorRef target, object message, IActorRef sender)
    {
        target.Tell(message, sender);
        Engine.RunUntilIdle();
    }

    protected static TimeSpan Us(double us) => TimeSpan.FromTicks((long)Math.Round(us * 10));
}
