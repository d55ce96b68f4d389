using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Cli;
using ActorStack.Config;
using ActorStack.Tests.Cli;

namespace ActorStack.Tests.Engine;

/// <summary>
/// <c>actorstack.run.schedule</c>, <c>schedule-seed</c> and <c>pct-depth</c> choose the engine's strategy from the actor
/// system's configuration (so a CLI run takes them from its config file); a wrong value is refused naming the key.
/// </summary>
public class ExplorationConfigTests
{
    private static SimEngine EngineOf(ActorSystem system) => SimEngine.For(system);

    [Fact]
    public async Task ScheduleKeys_PickTheStrategy_FifoIsNone_AWrongNameIsRefused()
    {
        foreach (var (hocon, expected) in new[]
                 {
                     ("", "fifo"),
                     ("actorstack.run { schedule = random, schedule-seed = 5 }", "random/5"),
                     ("actorstack.run { schedule = pct, schedule-seed = 9, pct-depth = 4 }", "pct/9/4"),
                 })
        {
            var system = ActorSystem.Create("cfg", StackConfig.AkkaConfig(hocon + "\n" + SimEngine.Hocon));
            try
            {
                var s = EngineOf(system).Strategy;
                string got = s switch
                {
                    null => "fifo",
                    PctScheduleStrategy p => $"pct/{p.Seed}/{p.Depth}",
                    _ => $"{s.Name}/{s.Seed}",
                };
                Assert.Equal(expected, got);
                Assert.Empty(EngineOf(system).Choices); // a run's choices are not recorded
            }
            finally
            {
                EngineOf(system).ReleaseControl();
                await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        var e = Assert.ThrowsAny<Exception>(() => ActorSystem.Create("bad", StackConfig.AkkaConfig("actorstack.run.schedule = lifo\n" + SimEngine.Hocon)));
        Assert.Contains("actorstack.run.schedule: \"lifo\" is not a schedule (fifo, random or pct)", e.ToString());
    }

    [Fact]
    public void ExploreOptions_FromConfig_StackHoconDefaults_AndAUsersValues()
    {
        var d = ExploreOptions.FromConfig(StackConfig.AkkaConfig());
        Assert.Equal((0, 3, 1_000_000L, TimeSpan.FromHours(1)), (d.Seed, d.PctDepth, d.MaxSteps, d.MaxTime));
        var u = ExploreOptions.FromConfig(StackConfig.AkkaConfig("actorstack.run { schedule-seed = -4, pct-depth = 5, explore-max-steps = 10, explore-max-time = 250ms }"));
        Assert.Equal((-4, 5, 10L, TimeSpan.FromMilliseconds(250)), (u.Seed, u.PctDepth, u.MaxSteps, u.MaxTime));
    }

    [Fact]
    public void ScenarioHash_IsTheSha256Prefix_AndASystemFactoryMakesEachIterationsSystem()
    {
        Assert.Equal("ba7816bf8f01cfea", ScheduleTrace.ScenarioHash("abc"));
        var names = new List<string>();
        var r = ScheduleExplorer.Explore(3, "random", ctx => names.Add(ctx.System.Name),
            new ExploreOptions { SystemFactory = config => ActorSystem.Create("mine", config) });
        Assert.Equal((3, false), (r.Iterations, r.Found));
        Assert.Equal(["mine", "mine", "mine"], names);
    }

    [Fact]
    public async Task RandomSchedule_PingBetweenTwoHosts_SameSeedSameDigest_OtherSeedOrFifoAnother()
    {
        var fifo = await ExplorationFifoTests.PingRun("");
        var a = await ExplorationFifoTests.PingRun("actorstack.run { schedule = random, schedule-seed = 5 }");
        var b = await ExplorationFifoTests.PingRun("actorstack.run { schedule = random, schedule-seed = 5 }");
        var c = await ExplorationFifoTests.PingRun("actorstack.run { schedule = random, schedule-seed = 6 }");
        var p = await ExplorationFifoTests.PingRun("actorstack.run { schedule = pct, schedule-seed = 5 }");
        Assert.Equal(a, b);
        Assert.NotEqual(fifo.Digest, a.Digest);
        Assert.NotEqual(a.Digest, c.Digest);
        Assert.NotEqual(fifo.Digest, p.Digest);
    }

    [Fact]
    public async Task Cli_RunWithScheduleRandomInItsConfig_RunsOnThatStrategy_AWrongValueIsRefusedWithTheKey()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-schedule-cli-");
        try
        {
            string pcap = Path.Combine(dir.FullName, "a.pcap");
            string job = ClockTests.MainJobWithCapture(pcap, count: 300);
            var file = Path.Combine(dir.FullName, "random.hocon");
            File.WriteAllText(file, File.ReadAllText(job) + "\nactorstack.run { schedule = random, schedule-seed = 7 }\n");
            File.Delete(job);
            SimEngine? engine = null;
            var o = new StringWriter();
            var err = new StringWriter();
            int rc = await Runner.Execute(["run", "--config", file, "--quiet"], o, err, default, e => engine = e);
            Assert.True(rc == 0, err.ToString() + o);
            Assert.Equal(("random", 7), (engine!.Strategy!.Name, engine.Strategy.Seed));

            File.WriteAllText(file, File.ReadAllText(file).Replace("schedule = random", "schedule = lifo"));
            err = new StringWriter();
            rc = await Runner.Execute(["run", "--config", file, "--quiet"], new StringWriter(), err);
            Assert.Equal(2, rc);
            Assert.Contains("actorstack.run.schedule", err.ToString());
            Assert.Contains("must be fifo, random or pct", err.ToString());
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public async Task Cli_ScheduleFlagsAndSet_ReachTheEngine()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-schedule-flags-");
        try
        {
            string job = ClockTests.MainJobWithCapture(Path.Combine(dir.FullName, "a.pcap"), count: 300);
            SimEngine? engine = null;
            var err = new StringWriter();
            int rc = await Runner.Execute(["run", "--config", job, "--quiet", "--schedule", "pct", "--schedule-seed", "7", "--pct-depth", "2"],
                new StringWriter(), err, default, e => engine = e);
            Assert.True(rc == 0, err.ToString());
            Assert.Equal(("pct", 7), (engine!.Strategy!.Name, engine.Strategy.Seed));

            engine = null;
            rc = await Runner.Execute(["run", "--config", job, "--quiet", "--set", "run.schedule=random", "--set", "run.schedule-seed=3"],
                new StringWriter(), err, default, e => engine = e);
            Assert.True(rc == 0, err.ToString());
            Assert.Equal(("random", 3), (engine!.Strategy!.Name, engine.Strategy.Seed));

            engine = null;
            rc = await Runner.Execute(["run", "--config", job, "--quiet"], new StringWriter(), err, default, e => engine = e);
            Assert.True(rc == 0, err.ToString());
            Assert.Null(engine!.Strategy); // fifo: no strategy object
        }
        finally { dir.Delete(recursive: true); }
    }
}
