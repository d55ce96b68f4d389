using ActorStack.Config;

namespace ActorStack.Tests.Topology;

/// <summary><c>actorstack topology</c>: hosts with devices and routes, switches with their ports, wires.</summary>
public class TopologyPrintTests
{
    private const string Text = """
        actorstack.scenario {
          hosts {
            h1 {
              devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.1.2/24"] } }
              routes = ["default via 10.0.1.1"]
            }
            r1 {
              sysctl { net.ipv4.ip_forward = 1 }
              devices {
                eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.1.1/24"], speed = 1000 }
                eth1 { mac = "02:00:00:00:00:03", addresses = ["10.0.2.1/24"], mtu = 9000 }
              }
              routes = ["unreachable 192.0.2.0/24", "10.9.0.0/16 via 10.0.2.2 metric 10"]
              neighbours = ["10.0.2.2 lladdr 02:00:00:00:00:04 dev eth1"]
              netfilter = [{ hook = FORWARD, action = DROP, proto = udp, dport = 9000 }]
            }
          }
          switches { sw1 { ports = 4, ageing-time = 30s } }
          wires = [
            { a = "h1/eth0", b = "sw1/port1" }
            { a = "r1/eth0", b = "sw1/port4", delay = 1ms }
            { a = "r1/eth1", tap = "astap0" }
          ]
        }
        """;

    [Fact]
    public void Format_RouterSwitchAndTap_PrintsHostsRoutesSwitchesAndWires()
    {
        var expected = """
            host h1: 1 CPU(s), ip_forward 0
              1: lo: mtu 65536 link/loopback 00:00:00:00:00:00 inet 127.0.0.1/8
              2: eth0: mtu 1500 link/ether 02:00:00:00:00:01 qlen 1000 speed 10000Mb/s inet 10.0.1.2/24 <-> sw1/port1
              ip route:
                default via 10.0.1.1 dev eth0
                10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.2
            host r1: 1 CPU(s), ip_forward 1 (router)
              1: lo: mtu 65536 link/loopback 00:00:00:00:00:00 inet 127.0.0.1/8
              2: eth0: mtu 1500 link/ether 02:00:00:00:00:02 qlen 1000 speed 1000Mb/s inet 10.0.1.1/24 <-> sw1/port4
              3: eth1: mtu 9000 link/ether 02:00:00:00:00:03 qlen 1000 speed 10000Mb/s inet 10.0.2.1/24 <-> TAP astap0 (Linux kernel)
              ip route:
                10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.1
                10.0.2.0/24 dev eth1 proto kernel scope link src 10.0.2.1
                10.9.0.0/16 via 10.0.2.2 dev eth1 metric 10
                unreachable 192.0.2.0/24
              ip neigh:
                10.0.2.2 dev eth1 lladdr 02:00:00:00:00:04 PERMANENT
              iptables -S:
                -A FORWARD -p udp -m udp --dport 9000 -j DROP
            switch sw1: 4 ports, ageing_time 30s, fdb_max_learned 8192, txqueuelen 1000, speed 10000Mb/s
              port1 <-> h1/eth0
              port4 <-> r1/eth0
              2 port(s) not cabled
            wire h1/eth0 <-> sw1/port1, delay 0ms, speed 10000Mb/s
            wire r1/eth0 <-> sw1/port4, delay 1ms, speed 1000Mb/s
            wire r1/eth1 <-> TAP astap0, delay 0ms

            """.ReplaceLineEndings("\n");
        Assert.Equal(expected, ActorStack.Cli.Topology.Format(StackConfig.Load(Text)).ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task RunnerMain_Topology_Returns0()
    {
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-topology-{Guid.NewGuid():N}.hocon");
        try
        {
            await File.WriteAllTextAsync(file, Text);
            Assert.Equal(0, await ActorStack.Cli.Runner.Main(["topology", "--config", file]));
            Assert.Equal(0, await ActorStack.Cli.Runner.Main(["topology"]));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
