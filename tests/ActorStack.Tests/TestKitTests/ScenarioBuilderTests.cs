using ActorStack.Config;
using ActorStack.Messages.Packets;
using ActorStack.Testing;

namespace ActorStack.Tests.TestKitTests;

/// <summary>The kit's fluent builder writes the configuration the CLI reads: its text, and the settings that text loads to.</summary>
public class ScenarioBuilderTests
{
    private static ScenarioBuilder TwoHostsAndASwitch() => Scenario.Build()
        .Seed(7)
        .Set("sysctl.net.core.netdev_max_backlog", 300)
        .Host("a", h => h.Device("eth0", "10.0.1.1/24").Route("default via 10.0.1.254"))
        .Host("r", h => h.Cpus(2).Sysctl("net.ipv4.ip_forward", 1)
            .Device("eth0", "10.0.1.254/24", ("rx-ring", 512))
            .Device("eth1", "10.0.2.1/24", ("mac", "02:00:00:00:00:99"))
            .Neighbour("10.0.2.9 lladdr 02:00:00:00:00:09 dev eth1"))
        .Switch("sw1", 4)
        .Wire("a/eth0", "sw1/port1", w => w.Delay(TimeSpan.FromMilliseconds(1)).NetemAToB("loss 10%"))
        .Wire("r/eth0", "sw1/port2", w => w.Delay(TimeSpan.FromMicroseconds(250)))
        .UdpSink("r", "0.0.0.0:9000")
        .Ping("a", "10.0.1.254", count: 3, ("interval", TimeSpan.FromMilliseconds(200)))
        .Schedule(TimeSpan.FromSeconds(2), "cut", ("wire", "a/eth0"));

    [Fact]
    public void Builder_writes_the_scenario_as_hocon()
    {
        Assert.Equal("""
            actorstack {
              seed = 7
              sysctl.net.core.netdev_max_backlog = 300
              scenario {
                hosts {
                  a {
                    cpus = 1
                    devices {
                      eth0 { mac = "02:00:00:00:01:01", addresses = ["10.0.1.1/24"] }
                    }
                    routes = ["default via 10.0.1.254"]
                  }
                  r {
                    cpus = 2
                    sysctl { net.ipv4.ip_forward = 1 }
                    devices {
                      eth0 { mac = "02:00:00:00:02:01", addresses = ["10.0.1.254/24"], rx-ring = 512 }
                      eth1 { addresses = ["10.0.2.1/24"], mac = "02:00:00:00:00:99" }
                    }
                    neighbours = ["10.0.2.9 lladdr 02:00:00:00:00:09 dev eth1"]
                  }
                }
                switches {
                  sw1 { ports = 4 }
                }
                wires = [
                  { a = "a/eth0", b = "sw1/port1", delay = 1ms, netem-a-to-b = "loss 10%" }
                  { a = "r/eth0", b = "sw1/port2", delay = 250us }
                ]
                workloads = [
                  { type = "udp-sink", host = "r", bind = "0.0.0.0:9000" }
                  { type = "ping", host = "a", dst = "10.0.1.254", count = 3, interval = 200ms }
                ]
                schedule = [
                  { at = 2s, action = "cut", wire = "a/eth0" }
                ]
                capture { enabled = off }
              }
            }

            """, TwoHostsAndASwitch().ToHocon());
    }

    [Fact]
    public void Builder_scenario_loads_to_the_same_settings_as_the_hand_written_file()
    {
        var built = TwoHostsAndASwitch().Build().Settings;
        var file = StackConfig.Load("""
            actorstack {
              seed = 7
              sysctl.net.core.netdev_max_backlog = 300
              scenario {
                hosts {
                  a { devices { eth0 { mac = "02:00:00:00:01:01", addresses = ["10.0.1.1/24"] } }
                      routes = ["default via 10.0.1.254"] }
                  r {
                    cpus = 2
                    sysctl.net.ipv4.ip_forward = 1
                    devices {
                      eth0 { mac = "02:00:00:00:02:01", addresses = ["10.0.1.254/24"], rx-ring = 512 }
                      eth1 { mac = "02:00:00:00:00:99", addresses = ["10.0.2.1/24"] }
                    }
                    neighbours = ["10.0.2.9 lladdr 02:00:00:00:00:09 dev eth1"]
                  }
                }
                switches { sw1 { ports = 4 } }
                wires = [
                  { a = "a/eth0", b = "sw1/port1", delay = 1ms, netem-a-to-b = "loss 10%" }
                  { a = "r/eth0", b = "sw1/port2", delay = 250us }
                ]
                workloads = [
                  { type = udp-sink, host = r, bind = "0.0.0.0:9000" }
                  { type = ping, host = a, dst = "10.0.1.254", count = 3, interval = 200ms }
                ]
                schedule = [ { at = 2s, action = cut, wire = "a/eth0" } ]
              }
            }
            """);
        Assert.Equal(7, built.Seed);
        Assert.Equal(file.Seed, built.Seed);
        Assert.Equal(file.Hosts.Select(Describe), built.Hosts.Select(Describe));
        Assert.Equal(file.Wires.Select(w => (w.Name, w.Delay, w.NetemAToB, w.NetemBToA, w.SwitchPortB)),
            built.Wires.Select(w => (w.Name, w.Delay, w.NetemAToB, w.NetemBToA, w.SwitchPortB)));
        Assert.Equal(file.Switches.Select(x => x.ToString()), built.Switches.Select(x => x.ToString()));
        Assert.Equal(file.Workloads.Select(x => x.ToString()), built.Workloads.Select(x => x.ToString()));
        Assert.Equal(file.Schedule.Select(e => e.Describe()), built.Schedule.Select(e => e.Describe()));
        Assert.Equal(file.Capture, built.Capture);
        Assert.Equal(300, built.Hosts[0].Sysctl.NetdevMaxBacklog);
        Assert.Equal(["a/eth0-sw1/port1", "r/eth0-sw1/port2"], built.Wires.Select(w => w.Name));
        Assert.Equal(TimeSpan.FromMicroseconds(250), built.Wires[1].Delay);
        Assert.Equal(new MacAddress(0x02_00_00_00_02_01UL), built.Host("r").Devices[0].Mac);
        Assert.Equal(512, built.Host("r").Devices[0].RxRing);
        Assert.True(built.Host("r").Sysctl.IpForward);
    }

    private static string Describe(HostSettings h)
        => $"{h.Name} cpus {h.Cpus} forward {h.Sysctl.IpForward} backlog {h.Sysctl.NetdevMaxBacklog} " +
           string.Join(" ", h.Devices.Select(d => $"{d.Name} {d.Mac} [{string.Join(",", d.Addresses)}] ring {d.RxRing}")) +
           $" routes [{string.Join(",", h.Routes)}] neigh [{string.Join(",", h.Neighbours)}]";

    [Fact]
    public void A_bad_key_is_refused_with_the_configuration_s_message()
    {
        var s = Scenario.Build().Host("a", h => h.Device("eth0", "10.0.0.1/24", ("rx-rnig", 256))).Build();
        var e = Assert.Throws<StackConfigException>(() => s.Settings);
        Assert.Contains("rx-rnig", e.Message);
        Assert.Contains("did you mean 'rx-ring'", e.Message);
    }

    [Fact]
    public void Durations_are_written_in_their_largest_exact_unit()
    {
        Assert.Equal("{ delay = 2s }", ScenarioBuilder.Object([("delay", TimeSpan.FromSeconds(2))]));
        Assert.Equal("{ delay = 1500ms }", ScenarioBuilder.Object([("delay", TimeSpan.FromMilliseconds(1500))]));
        Assert.Equal("{ delay = 250us }", ScenarioBuilder.Object([("delay", TimeSpan.FromMicroseconds(250))]));
        Assert.Equal("{ delay = 100ns }", ScenarioBuilder.Object([("delay", TimeSpan.FromTicks(1))]));
    }
}
