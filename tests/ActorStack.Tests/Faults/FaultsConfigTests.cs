using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;

namespace ActorStack.Tests.Faults;

/// <summary>device-defaults' supervision keys and the device actions of scenario.schedule, with their errors.</summary>
public class FaultsConfigTests
{
    private static string Text(string top = "", string schedule = "") => $$"""
        actorstack {
          {{top}}
          scenario {
            hosts {
              h1 { devices { eth0 { addresses = ["10.0.0.1/24"] } } }
              h2 { devices { eth0 { addresses = ["10.0.0.2/24"] } } }
            }
            wires = [ { a = "h1/eth0", b = "h2/eth0" } ]
            workloads = []
            capture { enabled = off }
            {{(schedule.Length == 0 ? "" : $"schedule = [ {schedule} ]")}}
          }
        }
        """;

    private static StackSettings Load(string top = "", string schedule = "") => StackConfig.Load(Text(top, schedule));

    private static string Fails(string top = "", string schedule = "")
        => Assert.Single(Assert.Throws<StackConfigException>(() => Load(top, schedule)).Errors);

    [Fact]
    public void Supervision_Defaults_LinuxValuesReachTheHosts()
    {
        var s = Load();
        Assert.Equal(new DeviceSupervisionSettings(5, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2)), s.Supervision);
        Assert.Equal(DeviceSupervisionSettings.Default, SimulationActor.LinkSettings(s).Supervision);
    }

    [Fact]
    public void Supervision_Overrides_ReadIntoHostLinkSettings()
    {
        var s = Load("device-defaults { reset-limit = 2, reset-window = 10s, watchdog-timeo = 500ms, link-up-delay = 0s }");
        Assert.Equal(new DeviceSupervisionSettings(2, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500), TimeSpan.Zero), s.Supervision);
        var link = SimulationActor.LinkSettings(s);
        Assert.Equal(new DeviceSupervisionSettings(2, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500), TimeSpan.Zero), link.Supervision);
        Assert.Equal(LinkWatchSettings.Default, link.LinkWatch);
        Assert.Empty(link.Supervision.Validate());
    }

    [Theory]
    [InlineData("reset-limit = -1", "actorstack.device-defaults.reset-limit = \"-1\": must be between 0 and 1000")]
    [InlineData("reset-limit = many", "actorstack.device-defaults.reset-limit = \"many\": must be an integer")]
    [InlineData("reset-window = 0s", "actorstack.device-defaults.reset-window = \"0s\": must be > 0")]
    [InlineData("watchdog-timeo = 0", "actorstack.device-defaults.watchdog-timeo = \"0\": must be > 0")]
    [InlineData("watchdog-timeo = soon", "actorstack.device-defaults.watchdog-timeo = \"soon\": must be a duration such as 500ms, 2s or 1m")]
    [InlineData("link-up-delay = -2s", "actorstack.device-defaults.link-up-delay = \"-2s\": must be a duration such as 500ms, 2s or 1m")]
    [InlineData("reset-limt = 3", "actorstack.device-defaults.reset-limt: unknown key (did you mean 'reset-limit'?)")]
    public void Supervision_BadValue_ErrorNamesTheKey(string setting, string error)
        => Assert.Equal(error, Fails($"device-defaults {{ {setting} }}"));

    [Fact]
    public void Schedule_DeviceActions_ReadInTimeOrder()
    {
        var s = Load(schedule: """
            { at = 5s, action = crash, device = "h2/eth0" }
            { at = 1s, action = fault, device = "h1/eth0", kind = transmit, probability = 0.1, once = off }
            { at = 2s, action = fault, device = "h2/eth0", kind = tx-hang }
            { at = 3s, action = link-down, device = "h1/eth0" }
            { at = 4s, action = link-up, device = "h1/eth0" }
            """);
        Assert.Equal<ScheduledFault>([
            new DriverFaultScheduled(TimeSpan.FromSeconds(1), "h1", "eth0", DriverFaultKind.Transmit, 0.1, false) { Index = 1 },
            new DriverFaultScheduled(TimeSpan.FromSeconds(2), "h2", "eth0", DriverFaultKind.TxHang, 1.0, true) { Index = 2 },
            new LinkAdminFault(TimeSpan.FromSeconds(3), "h1", "eth0", false) { Index = 3 },
            new LinkAdminFault(TimeSpan.FromSeconds(4), "h1", "eth0", true) { Index = 4 },
            new CrashDriverFault(TimeSpan.FromSeconds(5), "h2", "eth0") { Index = 0 },
        ], s.Schedule);
        Assert.Equal(["fault transmit on h1/eth0 (probability 0.1)", "fault tx-hang on h2/eth0", "ip link set dev eth0 down on h1",
            "ip link set dev eth0 up on h1", "crash driver h2/eth0"], s.Schedule.Select(e => e.Describe()));
    }

    [Fact]
    public void Schedule_EveryKindName_ParsesToItsKind()
    {
        string[] names = ["irq-handler", "napi-poll", "transmit", "rx-ring-stall", "tx-hang", "irq-loss"];
        var s = Load(schedule: string.Join("\n", names.Select(n => $"{{ at = 1s, action = fault, device = \"h1/eth0\", kind = {n} }}")));
        Assert.Equal([DriverFaultKind.IrqHandler, DriverFaultKind.NapiPoll, DriverFaultKind.Transmit, DriverFaultKind.RxRingStall,
            DriverFaultKind.TxHang, DriverFaultKind.IrqLoss], s.Schedule.Cast<DriverFaultScheduled>().Select(f => f.Kind));
    }

    [Theory]
    [InlineData("{ at = 1s, action = crash, device = \"h9/eth0\" }",
        "actorstack.scenario.schedule[0].device = \"h9/eth0\": no host h9 (known: h1, h2)")]
    [InlineData("{ at = 1s, action = crash, device = \"h2/eth7\" }",
        "actorstack.scenario.schedule[0].device = \"h2/eth7\": host h2 has no device eth7 (known: eth0)")]
    [InlineData("{ at = 1s, action = crash, device = \"h2/lo\" }",
        "actorstack.scenario.schedule[0].device = \"h2/lo\": lo has no NIC driver: device faults are on NICs only")]
    [InlineData("{ at = 1s, action = link-down, device = eth0 }",
        "actorstack.scenario.schedule[0].device = \"eth0\": must name a device as \"host/dev\", such as \"h2/eth0\"")]
    [InlineData("{ at = 1s, action = fault, device = \"h1/eth0\", kind = meltdown }",
        "actorstack.scenario.schedule[0].kind = \"meltdown\": must be one of irq-handler, napi-poll, transmit, rx-ring-stall, tx-hang, irq-loss")]
    [InlineData("{ at = 1s, action = fault, device = \"h1/eth0\", kind = transmit, probability = 1.5 }",
        "actorstack.scenario.schedule[0].probability = \"1.5\": must be a number in (0, 1]")]
    [InlineData("{ at = 1s, action = fault, device = \"h1/eth0\", kind = tx-hang, probability = 0.5 }",
        "actorstack.scenario.schedule[0].probability = \"0.5\": tx-hang takes effect at once; probability is for irq-handler, napi-poll and transmit")]
    [InlineData("{ at = 1s, action = crash, device = \"h1/eth0\", kind = tx-hang }",
        "actorstack.scenario.schedule[0].kind: unknown key (known: at, action, device)")]
    [InlineData("{ at = 1s, action = reboot, device = \"h1/eth0\" }",
        "actorstack.scenario.schedule[0].action = \"reboot\": must be cut, restore, netem, faults, crash, fault, link-down or link-up")]
    public void Schedule_BadDeviceAction_RejectedBeforeTheRunNamingTheKey(string entry, string error)
        => Assert.Equal(error, Fails(schedule: entry));
}
