using Akka.Actor;
using ActorStack.Actors.Engine;

namespace ActorStack.Tests.Engine;

/// <summary>
/// Schedule exploration (<see cref="ScheduleExplorer"/>): a planted race in an application actor (it gets "Init" and
/// "Data" from two different actors at the same instant and crashes if Data comes first) is found by random and by PCT
/// within 100 iterations, reported with its seed and iteration, and its trace replays to the same failure every time;
/// one sender's messages to one receiver stay in order under every strategy; traces of another build or scenario are
/// refused; runs that never come to rest are liveness failures; the bounded exhaustive mode counts schedules exactly.
/// </summary>
public class ExplorationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actorstack-explore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ExploreOptions Options(string scenario = "race-v1", int seed = 1) => new() { Scenario = scenario, Seed = seed, TraceDirectory = _dir };

    /// <summary>The application actor with the race: Data must come after Init (the tolerant one keeps early Data until Init).</summary>
    private sealed class Receiver : ReceiveActor
    {
        public Receiver(bool tolerant, List<string> applied)
        {
            bool init = false, early = false;
            Receive<string>(m =>
            {
                if (m == "Init")
                {
                    init = true;
                    if (early) applied.Add("Data");
                }
                else if (!init)
                {
                    if (!tolerant) throw new InvalidOperationException("Data before Init");
                    early = true;
                }
                else applied.Add("Data");
            });
        }
    }

    /// <summary>On "go", tells its one message to the target (so Init and Data come from two different actors).</summary>
    private sealed class Sender : ReceiveActor
    {
        public Sender(IActorRef target, string what) => Receive<string>(_ => target.Tell(what));
    }

    /// <summary>
    /// The race's body: the three actors are created (and run) first, then both senders are told "go" at the same
    /// instant. With a tolerant receiver it checks the property "Data is applied exactly once".
    /// </summary>
    private static void Race(ExplorationContext ctx, bool tolerant = false, int senders = 2)
    {
        var applied = new List<string>();
        var r = ctx.System.ActorOf(Props.Create(() => new Receiver(tolerant, applied)), "receiver");
        var init = ctx.System.ActorOf(Props.Create(() => new Sender(r, "Init")), "init");
        var data = ctx.System.ActorOf(Props.Create(() => new Sender(r, "Data")), "data");
        for (int i = 2; i < senders; i++) ctx.System.ActorOf(Props.Create(() => new Sender(r, "Init")), $"init{i}").Tell("go");
        ctx.Engine.RunUntilIdle();
        init.Tell("go");
        data.Tell("go");
        ctx.Engine.RunFor(TimeSpan.FromMilliseconds(1));
        if (tolerant) Assert.Equal(["Data"], applied);
    }

    [Fact]
    public void Fifo_TheRaceIsNotSeen_OneScheduleOnly()
    {
        var r = ScheduleExplorer.Explore(100, "fifo", ctx => Race(ctx), Options());
        Assert.Equal(("fifo", 1, false), (r.Strategy, r.Iterations, r.Found));
    }

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void PlantedRace_FoundWithin100Iterations_ReportedWithSeedAndIteration_TraceReplaysTheSameFailure3Times(string strategy)
    {
        var r = ScheduleExplorer.Explore(100, strategy, ctx => Race(ctx), Options(seed: 7));
        Assert.True(r.Found, $"{strategy}: no failure in {r.Iterations} iterations");
        var f = r.Failure!;
        Assert.Equal((strategy, 7, r.Iterations - 1), (f.Strategy, f.Seed, f.Iteration));
        Assert.False(f.Liveness);
        Assert.IsType<InvalidOperationException>(f.Exception);
        Assert.Equal("Data before Init", f.Exception.Message);
        Assert.True(File.Exists(f.TraceFile));
        var trace = ScheduleTrace.Read(f.TraceFile);
        Assert.Equal((strategy, 7, f.Iteration, ScheduleTrace.CurrentBuild, "race-v1"), (trace.Strategy, trace.Seed, trace.Iteration, trace.Build, trace.Scenario));
        Assert.Equal(f.Choices, trace.Choices);
        Assert.Contains("Data before Init", trace.Failure);
        // The same seed finds it at the same iteration with the same schedule.
        var again = ScheduleExplorer.Explore(100, strategy, ctx => Race(ctx), Options(seed: 7));
        Assert.Equal(r.Iterations, again.Iterations);
        Assert.Equal(f.Choices, again.Failure!.Choices);
        for (int i = 0; i < 3; i++)
        {
            var replay = ScheduleExplorer.Replay(f.TraceFile, ctx => Race(ctx), Options());
            Assert.IsType<InvalidOperationException>(replay.Failure);
            Assert.Equal("Data before Init", replay.Failure!.Message);
            Assert.Equal(trace.Choices.Count, replay.Replayed);
            Assert.Equal(trace.Choices.Count, replay.Recorded);
        }
    }

    [Fact]
    public void PlantedRace_FirstFailingIteration_PinnedPerSeed()
    {
        string Firsts(string strategy) => string.Join(",", Enumerable.Range(1, 12).Select(seed =>
            ScheduleExplorer.Explore(100, strategy, ctx => Race(ctx), Options(seed: seed)).Failure!.Iteration));
        var random = Firsts("random");
        var pct = Firsts("pct");
        Assert.Equal(("1,2,3,0,4,0,0,0,1,0,1,0", "1,0,1,0,0,1,0,1,0,1,3,0"), (random, pct));
    }

    private sealed class Numbered : ReceiveActor
    {
        public Numbered(IActorRef target, string name, int count)
        {
            Receive<string>(_ =>
            {
                for (int i = 0; i < count; i++) target.Tell($"{name}{i}");
                // Three scheduled Tells due at one instant, same sender and receiver: they keep their order too.
                for (int i = 0; i < 3; i++)
                    Context.System.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(1), target, $"{name}t{i}", Self);
            });
        }
    }

    private sealed class Log : ReceiveActor
    {
        public Log(List<string> got) => Receive<string>(got.Add);
    }

    /// <summary>
    /// Three senders, five messages and three same-instant scheduled Tells each, to one receiver on the engine's default
    /// mailbox or on a <c>ChargedMailbox</c> (the socket/backlog/NIC queues).
    /// </summary>
    [Theory]
    [InlineData("random", null)]
    [InlineData("pct", null)]
    [InlineData("random", "actorstack-socket-mailbox")]
    [InlineData("pct", "actorstack-backlog-mailbox")]
    public void PerSenderFifo_HoldsUnderEverySchedule_WhileSendersInterleave(string strategy, string? mailbox)
    {
        var orders = new HashSet<string>();
        var r = ScheduleExplorer.Explore(60, strategy, ctx =>
        {
            var got = new List<string>();
            var props = Props.Create(() => new Log(got));
            var log = ctx.System.ActorOf(mailbox is null ? props : props.WithMailbox(mailbox), "log");
            var a = ctx.System.ActorOf(Props.Create(() => new Numbered(log, "a", 5)), "a");
            var b = ctx.System.ActorOf(Props.Create(() => new Numbered(log, "b", 5)), "b");
            var c = ctx.System.ActorOf(Props.Create(() => new Numbered(log, "c", 5)), "c");
            ctx.Engine.RunUntilIdle();
            if (mailbox is not null)
                Assert.IsType<ActorStack.Actors.Mailboxes.ChargedMessageQueue>(((ActorRefWithCell)log).Underlying is ActorCell { Mailbox: { } mb } ? mb.MessageQueue : null);
            a.Tell("go");
            b.Tell("go");
            c.Tell("go");
            ctx.Engine.RunFor(TimeSpan.FromMilliseconds(5));
            Assert.Equal(24, got.Count);
            foreach (var s in new[] { "a", "b", "c" })
            {
                Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{s}{i}"), got.Where(m => m.Length == 2 && m[0] == s[0]));
                Assert.Equal(Enumerable.Range(0, 3).Select(i => $"{s}t{i}"), got.Where(m => m.Length == 3 && m[0] == s[0]));
            }
            orders.Add(string.Join(",", got));
        }, Options("fifo-pairs", seed: 3));
        Assert.False(r.Found, r.Failure?.ToString());
        Assert.Equal(60, r.Iterations);
        // The senders' messages did interleave in many ways (fifo has one order: a0..a4 b0..b4 c0..c4).
        Assert.True(orders.Count >= 30, $"{orders.Count} distinct orders in 60 iterations");
    }

    /// <summary>Stashes everything until "open" (as <c>TcpSocketActor</c> stashes until its TCB is handed over), then logs.</summary>
    private sealed class Stasher : ReceiveActor, IWithUnboundedStash
    {
        public IStash Stash { get; set; } = null!;

        public Stasher(List<string> got)
        {
            Receive<string>(m => m == "open", _ =>
            {
                Become(() => Receive<string>(got.Add));
                Stash.UnstashAll();
            });
            ReceiveAny(_ => Stash.Stash());
        }
    }

    [Fact]
    public void PerSenderFifo_HoldsForAStashingActor_OnTheEnginesDequeMailbox()
    {
        var orders = new HashSet<string>();
        var r = ScheduleExplorer.Explore(40, "random", ctx =>
        {
            var got = new List<string>();
            var log = ctx.System.ActorOf(Props.Create(() => new Stasher(got)), "stasher");
            var a = ctx.System.ActorOf(Props.Create(() => new Numbered(log, "a", 4)), "a");
            var b = ctx.System.ActorOf(Props.Create(() => new Numbered(log, "b", 4)), "b");
            ctx.Engine.RunUntilIdle();
            Assert.IsType<EngineDequeMessageQueue>(((ActorRefWithCell)log).Underlying is ActorCell { Mailbox: { } mb } ? mb.MessageQueue : null);
            a.Tell("go");
            b.Tell("go");
            log.Tell("open");
            ctx.Engine.RunFor(TimeSpan.FromMilliseconds(5));
            Assert.Equal(14, got.Count);
            foreach (var s in new[] { "a", "b" })
            {
                Assert.Equal(Enumerable.Range(0, 4).Select(i => $"{s}{i}"), got.Where(m => m.Length == 2 && m[0] == s[0]));
                Assert.Equal(Enumerable.Range(0, 3).Select(i => $"{s}t{i}"), got.Where(m => m.Length == 3 && m[0] == s[0]));
            }
            orders.Add(string.Join(",", got));
        }, Options("stash", seed: 2));
        Assert.False(r.Found, r.Failure?.ToString());
        Assert.True(orders.Count >= 10, $"{orders.Count} distinct orders in 40 iterations");
    }

    [Fact]
    public void Trace_FromAnotherBuildOrScenario_IsRefusedBeforeRunning_AnotherBody_RefusedAtTheFirstDifferingStep()
    {
        var f = ScheduleExplorer.Explore(100, "random", ctx => Race(ctx), Options(seed: 7)).Failure!;
        bool ran = false;
        var otherBuild = Path.Combine(_dir, "other-build.trace");
        File.WriteAllText(otherBuild, File.ReadAllText(f.TraceFile).Replace($"build {ScheduleTrace.CurrentBuild}", "build 0123456789abcdef0123456789abcdef"));
        var e1 = Assert.Throws<ScheduleTraceException>(() => ScheduleExplorer.Replay(otherBuild, _ => ran = true, Options()));
        Assert.Contains("was recorded by another build of ActorStack.Actors (build 0123456789abcdef0123456789abcdef", e1.Message);
        var e2 = Assert.Throws<ScheduleTraceException>(() => ScheduleExplorer.Replay(f.TraceFile, _ => ran = true, Options("race-v2")));
        Assert.Contains("was recorded for scenario \"race-v1\", this is \"race-v2\"", e2.Message);
        var garbage = Path.Combine(_dir, "garbage.trace");
        File.WriteAllText(garbage, "actorstack-schedule-trace 1\nstrategy random\nseed x\n");
        var e3 = Assert.Throws<ScheduleTraceException>(() => ScheduleExplorer.Replay(garbage, _ => ran = true, Options()));
        Assert.Contains("line 3: seed \"x\" is not a number", e3.Message);
        var truncated = Path.Combine(_dir, "truncated.trace");
        File.WriteAllLines(truncated, File.ReadAllLines(f.TraceFile).SkipLast(1));
        var e4 = Assert.Throws<ScheduleTraceException>(() => ScheduleExplorer.Replay(truncated, _ => ran = true, Options()));
        Assert.Contains($"announces {f.Choices.Count} choices, has {f.Choices.Count - 1} lines of them", e4.Message);
        Assert.False(ran);
        // The same build and scenario name but a body with a third sender: refused where the decisions first differ.
        var e5 = Assert.Throws<ScheduleReplayException>(() => ScheduleExplorer.Replay(f.TraceFile, ctx => Race(ctx, senders: 3), Options()));
        Assert.Contains("step 0 differs: the trace has E ", e5.Message);
    }

    [Fact]
    public void Exhaustive_AnActorThatCouldRunBeforeASendReaches_SeesBothOrders()
    {
        // C has m1 (from the test) and is ready; A is ready to send m2. fifo runs C first (m1, then m2); running A first
        // lets C's mailbox-level decision take m2 first. Mailbox runs of C and A do not commute (A sends to C): both are run.
        var r = ScheduleExplorer.Exhaust(10, ctx =>
        {
            var got = new List<string>();
            var c = ctx.System.ActorOf(Props.Create(() => new Log(got)), "c");
            var a = ctx.System.ActorOf(Props.Create(() => new Sender(c, "m2")), "a");
            ctx.Engine.RunUntilIdle();
            c.Tell("m1");
            a.Tell("go");
            ctx.Engine.RunUntilIdle();
            Assert.Equal(["m1", "m2"], got);
        }, Options("m1-m2"), stopOnFailure: false);
        Assert.Equal((3, 1, true), (r.Schedules, r.Failing, r.Exhausted));
    }

    [Fact]
    public async Task ExploreAsync_AnAsyncBody_FindsTheRace_AndReplaysIt()
    {
        async Task Body(ExplorationContext ctx)
        {
            await Task.Yield();
            Race(ctx);
        }
        var r = await ScheduleExplorer.ExploreAsync(100, "random", Body, Options(seed: 3));
        Assert.Equal(3, r.Failure!.Iteration);
        var replay = await ScheduleExplorer.ReplayAsync(r.Failure.TraceFile, Body, Options());
        Assert.Equal("Data before Init", replay.Failure!.Message);
    }

    private sealed class PingPong : ReceiveActor
    {
        public PingPong() => Receive<IActorRef>(other => other.Tell(Self));
    }

    private sealed class Rearm : ReceiveActor, IWithTimers
    {
        public ITimerScheduler Timers { get; set; } = null!;
        public Rearm() => ReceiveAny(_ => Timers.StartSingleTimer("t", "tick", TimeSpan.FromMilliseconds(10)));
    }

    [Fact]
    public void MessageLoopAtOneInstant_StopsAtTheStepLimit_ReportedAsLivenessWithItsTrace()
    {
        var r = ScheduleExplorer.Explore(5, "random", ctx =>
        {
            var a = ctx.System.ActorOf(Props.Create(() => new PingPong()), "a");
            var b = ctx.System.ActorOf(Props.Create(() => new PingPong()), "b");
            a.Tell(b);
            ctx.Engine.RunFor(TimeSpan.FromSeconds(1));
        }, Options("loop") with { MaxSteps = 2000 });
        var f = r.Failure!;
        Assert.True(f.Liveness);
        var e = Assert.IsType<ScheduleLivenessException>(f.Exception);
        Assert.Equal(("steps", 2000L, 0L), (e.Limit, e.Steps, e.TimeNs));
        Assert.Contains("did not come to rest within 2000 events (actorstack.run.explore-max-steps)", e.Message);
        Assert.Equal(0, f.Iteration);
        Assert.True(File.Exists(f.TraceFile));
        Assert.Contains("liveness", ScheduleTrace.Read(f.TraceFile).Failure);
        // Its replay is the same liveness failure.
        var replay = ScheduleExplorer.Replay(f.TraceFile, ctx =>
        {
            var a = ctx.System.ActorOf(Props.Create(() => new PingPong()), "a");
            var b = ctx.System.ActorOf(Props.Create(() => new PingPong()), "b");
            a.Tell(b);
            ctx.Engine.RunFor(TimeSpan.FromSeconds(1));
        }, Options("loop") with { MaxSteps = 2000 });
        Assert.Equal(("steps", 2000L), (((ScheduleLivenessException)replay.Failure!).Limit, ((ScheduleLivenessException)replay.Failure!).Steps));
    }

    [Fact]
    public void TimerRearmingForever_StopsAtTheSimulatedTimeLimit_ReportedAsLiveness_BothSidesOfTheLimit()
    {
        void Body(ExplorationContext ctx, TimeSpan runFor)
        {
            ctx.System.ActorOf(Props.Create(() => new Rearm()), "t").Tell("tick");
            ctx.Engine.RunFor(runFor);
        }
        // 1 s of ticks every 10 ms is within a 1 s limit: the last tick at exactly 1 s runs, the next is not due yet.
        var within = ScheduleExplorer.Explore(2, "pct", ctx => Body(ctx, TimeSpan.FromSeconds(1)), Options("timer") with { MaxTime = TimeSpan.FromSeconds(1) });
        Assert.False(within.Found, within.Failure?.ToString());
        var past = ScheduleExplorer.Explore(2, "pct", ctx => Body(ctx, TimeSpan.FromDays(1)), Options("timer") with { MaxTime = TimeSpan.FromSeconds(1) });
        var e = Assert.IsType<ScheduleLivenessException>(past.Failure!.Exception);
        Assert.Equal(("time", 1_000_000_000L), (e.Limit, e.TimeNs));
        Assert.Contains("still due after 00:00:01 of simulated time (actorstack.run.explore-max-time), at 1010000000 ns", e.Message);
    }

    [Fact]
    public void Exhaustive_PlantedRace_FoundAfterAnExactNumberOfSchedules_AndAllSchedulesCounted()
    {
        var first = ScheduleExplorer.Exhaust(20, ctx => Race(ctx), Options("race-v1"));
        Assert.NotNull(first.Failure);
        Assert.Equal("Data before Init", first.Failure!.Exception.Message);
        Assert.Equal((2, 0, 1, false), (first.Schedules, first.Pruned, first.Failing, first.Exhausted));
        var replay = ScheduleExplorer.Replay(first.Failure.TraceFile, ctx => Race(ctx), Options("race-v1"));
        Assert.Equal("Data before Init", replay.Failure!.Message);
        var all = ScheduleExplorer.Exhaust(20, ctx => Race(ctx), Options("race-v1"), stopOnFailure: false);
        Assert.Equal((5, 3, 3, true), (all.Schedules, all.Pruned, all.Failing, all.Exhausted));
        // Without the reduction: every interleaving, the same verdict at ten times the runs.
        var unreduced = ScheduleExplorer.Exhaust(40, ctx => Race(ctx), Options("race-v1"), stopOnFailure: false, reduce: false);
        Assert.Equal((48, 0, 30, true), (unreduced.Schedules, unreduced.Pruned, unreduced.Failing, unreduced.Exhausted));
    }

    [Fact]
    public void Exhaustive_RaceFreeVariant_PropertyHoldsInEverySchedule_SpaceExhausted_AndADepthBoundTooSmallSaysSo()
    {
        var all = ScheduleExplorer.Exhaust(20, ctx => Race(ctx, tolerant: true), Options("race-free"));
        Assert.Equal((4, 3, 0, true, null), (all.Schedules, all.Pruned, all.Failing, all.Exhausted, all.Failure));
        var unreduced = ScheduleExplorer.Exhaust(40, ctx => Race(ctx, tolerant: true), Options("race-free"), reduce: false);
        Assert.Equal((36, 0, 0, true), (unreduced.Schedules, unreduced.Pruned, unreduced.Failing, unreduced.Exhausted));
        var shallow = ScheduleExplorer.Exhaust(1, ctx => Race(ctx, tolerant: true), Options("race-free"));
        Assert.Equal((1, 2, 0, false), (shallow.Schedules, shallow.Pruned, shallow.Failing, shallow.Exhausted));
    }
}
