using ActorStack.Cli;
using ActorStack.Config;

namespace ActorStack.Tests.Config;

/// <summary>Loading stack.hocon plus a user's file: key-by-key merge, scenario replacement, and errors naming key and value.</summary>
public class StackConfigTests
{
    private const string Scenario = """
        actorstack {
          sysctl { net.core.dev_weight = 32 }
          scenario {
            hosts {
              a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"] } } }
              b {
                cpus = 2
                sysctl { net.core.netdev_max_backlog = 50 }
                devices { eth0 { mac = "02:00:00:00:00:0b", addresses = ["10.1.0.2/24"] } }
              }
            }
            wires = [ { a = "a/eth0", b = "b/eth0" } ]
            workloads = [ { type = udp-sink, host = b, bind = "0.0.0.0:9000" } ]
          }
        }
        """;

    private static StackConfigException LoadFails(string text) => Assert.Throws<StackConfigException>(() => StackConfig.Load(text));

    [Fact]
    public void Load_Default_HasTheMainScenario()
    {
        var s = StackConfig.Load();
        Assert.Equal(["sender", "receiver"], s.Hosts.Select(h => h.Name).OrderByDescending(n => n));
        Assert.Equal(2, s.Host("receiver").Cpus);
        Assert.Equal(1000, s.Host("receiver").Sysctl.NetdevMaxBacklog);
        Assert.Equal(212992, s.Host("receiver").Sysctl.RmemDefault);
        Assert.True(s.Capture.Enabled);
    }

    [Fact]
    public void Load_UserScenario_ReplacesDefaultScenarioWhole()
    {
        var s = StackConfig.Load(Scenario);
        Assert.Equal(["a", "b"], s.Hosts.Select(h => h.Name).Order());
        Assert.Single(s.Wires);
        Assert.IsType<UdpSinkSettings>(Assert.Single(s.Workloads));
        Assert.False(s.Capture.Enabled); // the default scenario's capture block is gone too
    }

    [Fact]
    public void Load_HostSysctlOverride_MergesKeyByKey()
    {
        var s = StackConfig.Load(Scenario);
        var a = s.Host("a").Sysctl;
        var b = s.Host("b").Sysctl;
        Assert.Equal(new SysctlSettings(DevWeight: 32), a);
        Assert.Equal(new SysctlSettings(DevWeight: 32, NetdevMaxBacklog: 50), b);
    }

    [Fact]
    public void Load_UnknownKey_NamesKeyAndSuggestion()
    {
        var e = LoadFails("actorstack { sysctl { net.core.netdev_max_backlogg = 5 } }");
        var msg = Assert.Single(e.Errors);
        Assert.Contains("actorstack.sysctl.net.core.netdev_max_backlogg: unknown key", msg);
        Assert.Contains("did you mean 'net.core.netdev_max_backlog'?", msg);
        Assert.Contains("net.core.netdev_max_backlogg", e.Message);
    }

    [Fact]
    public void Load_WrongType_NamesKeyAndValue()
    {
        var e = LoadFails(Scenario.Replace("mac = \"02:00:00:00:00:0a\",", "mac = \"02:00:00:00:00:0a\", mtu = \"abc\","));
        Assert.Equal("actorstack.scenario.hosts.a.devices.eth0.mtu = \"abc\": must be an integer", Assert.Single(e.Errors));
    }

    [Fact]
    public void Load_OutOfRange_NamesKeyValueAndRange()
    {
        var e = LoadFails(Scenario.Replace("cpus = 2", "cpus = 0"));
        Assert.Equal("actorstack.scenario.hosts.b.cpus = \"0\": must be between 1 and 64", Assert.Single(e.Errors));
    }

    [Fact]
    public void Load_WireToUnknownHost_NamesWireEnd()
    {
        var e = LoadFails(Scenario.Replace("b = \"b/eth0\"", "b = \"nosuch/eth0\""));
        Assert.Equal("actorstack.scenario.wires[0].b = \"nosuch/eth0\": unknown host 'nosuch'", Assert.Single(e.Errors));
    }

    [Fact]
    public void Load_UnknownWorkloadType_NamesType()
    {
        var e = LoadFails(Scenario.Replace("type = udp-sink", "type = iperf"));
        var msg = Assert.Single(e.Errors);
        Assert.StartsWith("actorstack.scenario.workloads[0].type = \"iperf\": unknown workload type", msg);
    }

    [Fact]
    public async Task RunnerMain_BadConfigFile_Returns2AndCheckDefault_Returns0()
    {
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-bad-{Guid.NewGuid():N}.hocon");
        try
        {
            await File.WriteAllTextAsync(file, Scenario.Replace("cpus = 2", "cpus = 0"));
            Assert.Equal(2, await Runner.Main(["run", "--config", file]));
            Assert.Equal(2, await Runner.Main(["run", "--config", file + ".missing"]));
            Assert.Equal(2, await Runner.Main(["frobnicate"]));
            Assert.Equal(0, await Runner.Main(["check"]));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
