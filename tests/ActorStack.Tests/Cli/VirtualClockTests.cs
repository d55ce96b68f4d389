using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Cli;
using ActorStack.Config;

namespace ActorStack.Tests.Cli;

/// <summary>The CLI's <see cref="VirtualClock"/>: asks answered by driving the engine, waiting in simulated time, and a run that cannot move the clock.</summary>
public sealed class VirtualClockTests
{
    /// <summary>Answers "ping" now, "later" 250 ms later (a timer), and bounces "bounce n" to itself n times at one instant.</summary>
    private sealed class Echo : ReceiveActor
    {
        public Echo()
        {
            Receive<string>(m => m == "ping", _ => Sender.Tell("pong"));
            Receive<string>(m => m == "later", _ => Context.System.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(250), Sender, "done", Self));
            Receive<string>(m => m == "never", _ => { });
            Receive<int>(n => { if (n > 0) Self.Tell(n - 1); });
        }
    }

    private static (ActorSystem Sys, SimEngine Engine, IActorRef Echo) Start()
    {
        var sys = ActorSystem.Create("vclock", StackConfig.AkkaConfig(SimEngine.Hocon));
        var engine = SimEngine.For(sys);
        var echo = sys.ActorOf(Props.Create(() => new Echo()), "echo");
        engine.Pause();
        return (sys, engine, echo);
    }

    private static async Task Stop(ActorSystem sys, SimEngine engine)
    {
        engine.ReleaseControl();
        await sys.Terminate();
    }

    [Fact]
    public async Task Ask_DrivesTheEngine_WaitMovesSimulatedTime()
    {
        var (sys, engine, echo) = Start();
        try
        {
            var clock = new VirtualClock(engine, sys);
            Assert.Equal("pong", await clock.Ask<string>(echo, "ping", TimeSpan.FromSeconds(1)));
            Assert.Equal(TimeSpan.Zero, engine.Now);
            // A reply that needs simulated time: the clock steps to the timer, exactly 250 ms.
            Assert.Equal("done", await clock.Ask<string>(echo, "later", TimeSpan.FromSeconds(1)));
            Assert.Equal(TimeSpan.FromMilliseconds(250), engine.Now);
            Assert.Equal(SimEngine.DefaultEpoch.UtcDateTime + TimeSpan.FromMilliseconds(250), clock.UtcNow);
            // No answer: a timeout, no wall-clock wait (nothing is queued, the clock stays).
            var e = await Assert.ThrowsAsync<AskTimeoutException>(() => clock.Ask<string>(echo, "never", TimeSpan.FromSeconds(10)));
            Assert.Contains("did not answer String within 10s simulated time", e.Message);
            await Assert.ThrowsAsync<InvalidCastException>(() => clock.Ask<int>(echo, "ping", TimeSpan.FromSeconds(1)));
            await clock.Wait(TimeSpan.FromSeconds(2));
            Assert.Equal(TimeSpan.FromMilliseconds(2250), engine.Now);
        }
        finally { await Stop(sys, engine); }
    }

    [Fact]
    public async Task Wait_OnAnInstantThatNeverEnds_FailsNamingTheInstant()
    {
        var (sys, engine, echo) = Start();
        try
        {
            var clock = new VirtualClock(engine, sys, maxEventsPerInstant: 1000);
            await clock.Wait(TimeSpan.FromMilliseconds(1.5));
            echo.Tell(50_000); // 50,001 messages at 1.5 ms, 30 a mailbox run (throughput): more than the 1000 runs allowed
            var e = await Assert.ThrowsAsync<SimulationStuckException>(() => clock.Wait(TimeSpan.FromSeconds(1)));
            Assert.Equal("the simulation does not advance: more than 1000 events at simulated 0.001500000s " +
                         "(nothing on that path costs simulated time: a wire without delay?)", e.Message);
            Assert.Equal(TimeSpan.FromMilliseconds(1.5), engine.Now);
            // Under the bound it is no failure.
            echo.Tell(900);
            var ok = new VirtualClock(engine, sys, maxEventsPerInstant: 1000);
            engine.RunUntilIdle(); // the rest of the 50,000 first
            await ok.Wait(TimeSpan.FromSeconds(1));
            Assert.Equal(TimeSpan.FromMilliseconds(1001.5), engine.Now);
        }
        finally { await Stop(sys, engine); }
    }
}
