using ActorStack.Config;

namespace ActorStack.Tests.Experiments;

/// <summary><c>--set key=value</c> and <c>--seed N</c>: an overlay over the user's file, validated like it (issue 15).</summary>
public class ConfigOverrideTests
{
    private const string Scenario = """
        actorstack.scenario {
          hosts {
            a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"] } } }
            b { devices { eth0 { mac = "02:00:00:00:00:0b", addresses = ["10.1.0.2/24"] } } }
          }
          wires = [ { a = "a/eth0", b = "b/eth0", delay = 1ms } ]
        }
        """;

    private static ConfigOverride Set(string arg) => ConfigOverride.Parse(arg)!;

    [Fact]
    public void Set_TunableAndScenarioKeys_OverTheFile()
    {
        var s = StackConfig.Load(Scenario, "exp", [Set("seed=9"), Set("run.settle=3s"), Set("actorstack.sysctl.net.core.dev_weight=8"),
            Set("scenario.hosts.b.cpus=4"), Set("scenario.wires[0].delay=7ms"), Set("scenario.wires.0.netem-a-to-b=\"loss 1%\"")]);
        Assert.Equal(9, s.Seed);
        Assert.Equal(TimeSpan.FromSeconds(3), s.Run.Settle);
        Assert.Equal(8, s.Host("a").Sysctl.DevWeight);
        Assert.Equal(4, s.Host("b").Cpus);
        Assert.Equal(1, s.Host("a").Cpus);
        Assert.Equal(TimeSpan.FromMilliseconds(7), s.Wires[0].Delay);
        Assert.Equal("loss 1%", s.Wires[0].NetemAToB);
    }

    [Fact]
    public void Set_IntoTheDefaultScenario_EditsACopyOfIt()
    {
        var s = StackConfig.Load(null, "config", [Set("scenario.hosts.receiver.cpus=3")]);
        Assert.Equal(3, s.Host("receiver").Cpus);
        Assert.Equal(["receiver", "sender"], s.Hosts.Select(h => h.Name).Order()); // still the whole default scenario
    }

    [Fact]
    public void Set_UnknownKey_IsRefusedWithASuggestion()
    {
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load(Scenario, "exp", [Set("run.max-duratoin=2s")]));
        Assert.Equal("--set run.max-duratoin=2s: actorstack.run.max-duratoin: unknown key (did you mean 'max-duration'?)", Assert.Single(e.Errors));
        e = Assert.Throws<StackConfigException>(() => StackConfig.Load(Scenario, "exp", [Set("scenario.hosts.a.devices.eth0.mtuu=9000")]));
        Assert.Equal("--set scenario.hosts.a.devices.eth0.mtuu=9000: actorstack.scenario.hosts.a.devices.eth0.mtuu: unknown key (did you mean 'mtu'?)",
            Assert.Single(e.Errors));
    }

    [Fact]
    public void Set_BadValueAndBadIndex_AreRefused()
    {
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load(Scenario, "exp", [Set("seed=abc")]));
        Assert.Equal("--set seed=abc: actorstack.seed = \"abc\": must be an integer", Assert.Single(e.Errors));
        e = Assert.Throws<StackConfigException>(() => StackConfig.Load(Scenario, "exp", [Set("scenario.wires[3].delay=1ms")]));
        Assert.Equal("--set scenario.wires[3].delay=1ms: actorstack.scenario.wires has 1 element(s), '3' is not one of them (0..0)", Assert.Single(e.Errors));
        Assert.Null(ConfigOverride.Parse("novalue"));
        Assert.Null(ConfigOverride.Parse("=1"));
    }

    [Fact]
    public void EffectiveText_LoadsToTheSameSettings()
    {
        var over = new[] { Set("seed=12"), Set("scenario.wires[0].delay=3ms") };
        var text = StackConfig.EffectiveText(Scenario, "exp", over);
        var again = StackConfig.Load(text, "config.hocon");
        Assert.Equal(12, again.Seed);
        Assert.Equal(TimeSpan.FromMilliseconds(3), again.Wires[0].Delay);
        Assert.Equal(["a", "b"], again.Hosts.Select(h => h.Name).Order());
        Assert.Contains("\"seed\" = \"12\"", text);
        Assert.Equal(text, StackConfig.EffectiveText(text, "config.hocon")); // a fixed point
    }
}
