using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Config;

/// <summary>The scenario's topology keys: routes, neighbours, netfilter, switches, switch-port and TAP wire ends, the new workloads.</summary>
public class TopologyConfigTests
{
    // {HOST} is spliced into host r1, {MORE} into the scenario, {WORKLOADS} into the workload list.
    private const string Template = """
        actorstack.scenario {
          hosts {
            h1 {
              devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.1.2/24"] } }
            }
            r1 {
              sysctl { net.ipv4.ip_forward = 1 }
              devices {
                eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.1.1/24"] }
                eth1 { mac = "02:00:00:00:00:03", addresses = ["10.0.2.1/24"] }
              }
              {HOST}
            }
          }
          {MORE}
          {WORKLOADS}
        }
        """;

    private static string Text(string host = "", string more = "", string workloads = "")
        => Template.Replace("{HOST}", host).Replace("{MORE}", more).Replace("{WORKLOADS}", workloads.Length == 0 ? "" : $"workloads = [ {workloads} ]");

    private static StackSettings Load(string host = "", string more = "", string workloads = "")
        => StackConfig.Load(Text(host, more, workloads));

    private static string Fails(string host = "", string more = "", string workloads = "")
        => Assert.Single(Assert.Throws<StackConfigException>(() => Load(host, more, workloads)).Errors);

    private const string R1 = "actorstack.scenario.hosts.r1";

    private static Ipv4Prefix P(string s) => Ipv4Prefix.TryParse(s, out var p) ? p : throw new ArgumentException(s);

    [Fact]
    public void Routes_IpRouteSyntax_ParsedIntoRouteSettings()
    {
        var s = Load(host: """routes = ["10.9.0.0/16 via 10.0.2.2", "default via 10.0.1.254 metric 10", "unreachable 192.0.2.0/24", "10.8.0.0/16 dev eth1 src 10.0.2.1"]""");
        Assert.Equal<RouteSettings>(
        [
            new RouteSettings(P("10.9.0.0/16"), Ipv4Address.Parse("10.0.2.2")),
            new RouteSettings(new Ipv4Prefix(Ipv4Address.Any, 0), Ipv4Address.Parse("10.0.1.254"), Metric: 10),
            new RouteSettings(P("192.0.2.0/24"), Type: "unreachable"),
            new RouteSettings(P("10.8.0.0/16"), Device: "eth1", Source: Ipv4Address.Parse("10.0.2.1")),
        ], s.Host("r1").Routes);
        Assert.Equal("default via 10.0.1.254 metric 10", StackConfig.RouteText(s.Host("r1").Routes[1]));
        Assert.Empty(ScenarioCheck.Check(s, forRun: false));
    }

    [Theory]
    [InlineData("10.9.0.0/16 via 10.0.2", "gateway '10.0.2' is not a unicast IPv4 address")]
    [InlineData("10.9.0.1/16 via 10.0.2.2", "'10.9.0.1/16' has host bits set (Invalid prefix for given prefix length)")]
    [InlineData("10.9.0.0/16 dev eth7", "no device 'eth7' on this host (Cannot find device)")]
    [InlineData("10.9.0.0/16", "needs 'via GW' or 'dev DEV' (No nexthop device)")]
    [InlineData("10.9.0.0/16 via 10.0.2.2 weight 3", "unknown word 'weight' (known: via, dev, metric, src)")]
    [InlineData("10.9.0.0/16 via 10.0.2.2 metric -1", "metric '-1' is not an integer 0-2147483647")]
    [InlineData("blackhole 10.9.0.0/16 via 10.0.2.2", "a blackhole route takes no gateway or device (Gateway, device and multipath can not be specified for this route type)")]
    [InlineData("local 10.9.0.0/16", "'local' is not a destination prefix such as 10.0.2.0/24, or default (types: unicast, unreachable, blackhole, prohibit)")]
    public void Routes_BadSyntax_ErrorNamesRouteKeyAndValue(string route, string message)
        => Assert.Equal($"{R1}.routes[0] = \"{route}\": {message}", Fails(host: $"routes = [\"{route}\"]"));

    [Fact]
    public void Routes_NotAList_ErrorNamesKey()
        => Assert.Equal($"{R1}.routes = \"10.9.0.0/16 via 10.0.2.2\": must be a list of \"PREFIX via GW\" strings as `ip route add` takes them",
            Fails(host: "routes = \"10.9.0.0/16 via 10.0.2.2\""));

    [Fact]
    public void Routes_GatewayNotOnAConnectedSubnet_FibCheckNamesKey()
    {
        var s = Load(host: """routes = ["10.9.0.0/16 via 10.0.2.2", "10.7.0.0/16 via 10.0.3.1 metric 5"]""");
        Assert.Equal($"{R1}.routes[1] = \"10.7.0.0/16 via 10.0.3.1 metric 5\": Nexthop has invalid gateway (ENETUNREACH)",
            Assert.Single(ScenarioCheck.Check(s, forRun: false)));
        var e = Assert.Throws<StackConfigException>(() => ScenarioCheck.Validate(s, forRun: false));
        Assert.Contains("routes[1]", e.Message);
    }

    [Fact]
    public void Routes_PrefsrcNotLocal_FibCheckNamesKey()
    {
        var s = Load(host: """routes = ["10.9.0.0/16 dev eth1 src 10.0.2.9"]""");
        Assert.Equal($"{R1}.routes[0] = \"10.9.0.0/16 dev eth1 src 10.0.2.9\": Invalid prefsrc address (EINVAL)",
            Assert.Single(ScenarioCheck.Check(s, forRun: false)));
    }

    [Fact]
    public void Neighbours_IpNeighSyntax_Parsed()
    {
        var s = Load(host: """neighbours = ["10.0.2.9 lladdr 02:00:00:00:00:09 dev eth1", "10.0.1.7 lladdr 02:00:00:00:00:07 dev eth0 nud permanent"]""");
        Assert.Equal<NeighbourSettings>(
        [
            new NeighbourSettings(Ipv4Address.Parse("10.0.2.9"), MacAddress.Parse("02:00:00:00:00:09"), "eth1"),
            new NeighbourSettings(Ipv4Address.Parse("10.0.1.7"), MacAddress.Parse("02:00:00:00:00:07"), "eth0"),
        ], s.Host("r1").Neighbours);
    }

    [Theory]
    [InlineData("10.0.2.9 02:00:00:00:00:09 dev eth1", "must be \\\"ADDR lladdr MAC dev DEV\\\" (optionally followed by \\\"nud permanent\\\")")]
    [InlineData("10.0.2.300 lladdr 02:00:00:00:00:09 dev eth1", "'10.0.2.300' is not a unicast IPv4 address")]
    [InlineData("10.0.2.9 lladdr ff:ff:ff:ff:ff:ff dev eth1", "'ff:ff:ff:ff:ff:ff' is not a unicast MAC address like 02:00:00:00:00:09")]
    [InlineData("10.0.2.9 lladdr 02:00:00:00:00:09 dev eth9", "no device 'eth9' on this host (Cannot find device)")]
    public void Neighbours_Bad_ErrorNamesKeyAndValue(string neigh, string message)
        => Assert.Equal($"{R1}.neighbours[0] = \"{neigh}\": {message.Replace("\\\"", "\"")}", Fails(host: $"neighbours = [\"{neigh}\"]"));

    [Fact]
    public void Netfilter_Rule_ParsedIntoNfRule()
    {
        var s = Load(host: """
            netfilter = [
              { hook = FORWARD, action = DROP, src = "10.0.1.0/24", dst = "10.0.2.5", proto = udp, sport = 53, dport = 9000 }
              { hook = INPUT, action = ACCEPT, proto = icmp }
              { hook = PREROUTING, action = DROP, src = "10.0.1.77/24" }
            ]
            """);
        Assert.Equal<NfRule>(
        [
            new NfRule(NfHook.Forward, NfVerdict.Drop, P("10.0.1.0/24"), P("10.0.2.5/32"), IpProtocol.Udp, 53, 9000),
            new NfRule(NfHook.LocalIn, NfVerdict.Accept, Protocol: IpProtocol.Icmp),
            new NfRule(NfHook.PreRouting, NfVerdict.Drop, P("10.0.1.0/24")), // host bits masked, as iptables does
        ], s.Host("r1").Netfilter);
        Assert.Equal("-A FORWARD -s 10.0.1.0/24 -d 10.0.2.5/32 -p udp -m udp --sport 53 --dport 9000 -j DROP",
            ActorStack.Cli.Topology.IptablesRule(s.Host("r1").Netfilter[0]));
    }

    [Theory]
    [InlineData("hook = FORWARDS, action = DROP", "hook = \"FORWARDS\": must be one of PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING")]
    [InlineData("hook = OUTPUT, action = REJECT", "action = \"REJECT\": must be ACCEPT or DROP")]
    [InlineData("hook = OUTPUT, action = DROP, src = \"10.0.1/24\"", "src = \"10.0.1/24\": must be an IPv4 address or prefix such as 10.0.1.0/24")]
    [InlineData("hook = OUTPUT, action = DROP, proto = sctpx", "proto = \"sctpx\": must be udp, tcp, icmp, all or a protocol number 0-255")]
    [InlineData("hook = OUTPUT, action = DROP, dport = 53", "dport = \"53\": needs proto = udp or tcp (as iptables' --sport/--dport need -p)")]
    [InlineData("hook = OUTPUT, action = DROP, proto = udp, sport = 70000", "sport = \"70000\": must be between 0 and 65535")]
    public void Netfilter_Bad_ErrorNamesKeyAndValue(string rule, string message)
        => Assert.Equal($"{R1}.netfilter[0].{message}", Fails(host: $"netfilter = [{{ {rule} }}]"));

    [Fact]
    public void Netfilter_UnknownKey_Named()
        => Assert.StartsWith($"{R1}.netfilter[0].port: unknown key", Fails(host: "netfilter = [{ hook = INPUT, action = DROP, port = 5 }]"));

    [Fact]
    public void Switches_AndSwitchPortWires_Parsed()
    {
        var s = Load(more: """
            switches {
              sw1 { ports = 8, ageing-time = 30s }
              sw2 { ports = 2 }
            }
            wires = [
              { a = "h1/eth0", b = "sw1/port3" }
              { a = "sw1/port8", b = "sw2/port1", delay = 2ms }
              { a = "r1/eth0", tap = "astap0" }
            ]
            """);
        Assert.Equal<SwitchSettings>([new SwitchSettings("sw1", 8, TimeSpan.FromSeconds(30)), new SwitchSettings("sw2", 2)], s.Switches);
        Assert.Equal(TimeSpan.FromSeconds(300), s.Switches[1].AgeingTime);
        Assert.Equal(1000, s.Switches[1].TxQueueLen);
        Assert.Equal(new WireSettings("h1", "eth0", "sw1", "port3", TimeSpan.Zero) { SwitchPortB = 3 }, s.Wires[0]);
        Assert.Equal(new WireSettings("sw1", "port8", "sw2", "port1", TimeSpan.FromMilliseconds(2)) { SwitchPortA = 8, SwitchPortB = 1 }, s.Wires[1]);
        Assert.Equal(new WireSettings("r1", "eth0", "tap", "astap0", TimeSpan.Zero) { Tap = "astap0" }, s.Wires[2]);
    }

    [Theory]
    [InlineData("switches { sw1 { ports = 0 } }", "actorstack.scenario.switches.sw1.ports = \"0\": must be between 1 and 1024")]
    [InlineData("switches { sw1 { ports = 4, ageing-time = soon } }", "actorstack.scenario.switches.sw1.ageing-time = \"soon\": must be a duration such as 500ms, 2s or 1m")]
    [InlineData("switches { sw1 { ports = 4, ageing-time = 0s } }", "actorstack.scenario.switches.sw1.ageing-time = \"0s\": must be between 10ms and 1000000s")]
    [InlineData("switches { h1 { ports = 4 } }", "actorstack.scenario.switches.h1 = \"h1\": is already the name of a host")]
    [InlineData("switches { sw1 { ports = 4 } }\nwires = [ { a = \"h1/eth0\", b = \"sw1/port5\" } ]", "actorstack.scenario.wires[0].b = \"sw1/port5\": switch 'sw1' has ports port1 to port4")]
    [InlineData("switches { sw1 { ports = 4 } }\nwires = [ { a = \"h1/eth0\", b = \"sw1/p1\" } ]", "actorstack.scenario.wires[0].b = \"sw1/p1\": switch 'sw1' has ports port1 to port4")]
    [InlineData("switches { sw1 { ports = 4 } }\nwires = [ { a = \"sw1/port1\", b = \"sw1/port2\" } ]", "actorstack.scenario.wires[0].b = \"sw1/port2\": cables switch 'sw1' to itself")]
    [InlineData("switches { sw1 { ports = 4 } }\nwires = [ { a = \"h1/eth0\", b = \"sw1/port1\" }, { a = \"r1/eth0\", b = \"sw1/port1\" } ]", "actorstack.scenario.wires[1].b = \"sw1/port1\": is already cabled by actorstack.scenario.wires[0].b")]
    [InlineData("wires = [ { a = \"h1/eth0\", tap = \"a/b\" } ]", "actorstack.scenario.wires[0].tap = \"a/b\": must be a Linux interface name of 1-15 characters (IFNAMSIZ)")]
    [InlineData("wires = [ { a = \"h1/eth0\", b = \"r1/eth0\", tap = \"t0\" } ]", "actorstack.scenario.wires[0].tap = \"t0\": a wire has either b or tap, not both")]
    [InlineData("wires = [ { a = \"h1/eth0\", tap = \"t0\" }, { a = \"r1/eth0\", tap = \"t0\" } ]", "actorstack.scenario.wires[1].tap = \"t0\": is already cabled by actorstack.scenario.wires[0].tap")]
    public void Switches_Bad_ErrorNamesKeyAndValue(string more, string message)
        => Assert.Equal(message, Fails(more: more));

    [Fact]
    public void Workloads_PingTracerouteEcho_ParsedIntoTheirRecords()
    {
        var s = Load(workloads: """
            { type = ping, host = h1, dst = "10.0.2.5", count = 3, interval = 200ms, size = 100, ttl = 5, timeout = 1s, deadline = 10s }
            { type = traceroute, host = h1, dst = "10.0.2.5", max-hops = 8, queries = 1, wait = 500ms, port = 40000 }
            { type = udp-echo-server, host = r1, bind = "0.0.0.0:7" }
            { type = udp-echo-client, host = h1, server = "10.0.1.1:7", count = 5, size = 32, interval = 10ms, timeout = 300ms }
            { type = ping, host = h1, dst = "10.0.2.5" }
            """);
        var dst = Ipv4Address.Parse("10.0.2.5");
        Assert.Equal<WorkloadSettings>(
        [
            new PingSettings("h1", dst, 3, TimeSpan.FromMilliseconds(200), 100, 5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10)),
            new TracerouteSettings("h1", dst, 8, 1, TimeSpan.FromMilliseconds(500), 40000),
            new UdpEchoServerSettings("r1", Ipv4Address.Any, 7),
            new UdpEchoClientSettings("h1", Ipv4Address.Parse("10.0.1.1"), 7, 5, 32, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(300)),
            new PingSettings("h1", dst),
        ], s.Workloads);
        var ping = (PingSettings)s.Workloads[4];
        Assert.Equal((4, TimeSpan.FromSeconds(1), 56, 64, TimeSpan.FromSeconds(2), TimeSpan.Zero),
            (ping.Count, ping.Interval, ping.Size, ping.Ttl, ping.Timeout, ping.Deadline));
        Assert.Empty(ScenarioCheck.Check(s, forRun: true));
    }

    [Theory]
    [InlineData("{ type = ping, host = h1, dst = \"10.0.2\" }", "actorstack.scenario.workloads[0].dst = \"10.0.2\": must be an IPv4 address")]
    [InlineData("{ type = ping, host = h1, dst = \"10.0.2.5\", deadline = 0s }", "actorstack.scenario.workloads[0].deadline = \"0s\": must be between 1ms and 86400s")]
    [InlineData("{ type = ping, host = h1, dst = \"10.0.2.5\", count = 0 }", "actorstack.scenario.workloads[0].count = \"0\": must be between 1 and 2147483647")]
    [InlineData("{ type = ping, host = h1, dst = \"10.0.2.5\", size = 65508 }", "actorstack.scenario.workloads[0].size = \"65508\": must be between 0 and 65507")]
    [InlineData("{ type = ping, host = h1, dst = \"10.0.2.5\", ttl = 256 }", "actorstack.scenario.workloads[0].ttl = \"256\": must be between 1 and 255")]
    [InlineData("{ type = ping, host = h1, dst = \"10.0.2.5\", interval = 0s }", "actorstack.scenario.workloads[0].interval = \"0s\": must be between 1ms and 3600s")]
    [InlineData("{ type = ping, host = h1, dst = \"10.0.2.5\", flood = on }", "actorstack.scenario.workloads[0].flood: unknown key (known: type, host, dst, count, interval, size, ttl, timeout, deadline)")]
    [InlineData("{ type = ping, host = h9, dst = \"10.0.2.5\" }", "actorstack.scenario.workloads[0].host = \"h9\": unknown host")]
    [InlineData("{ type = traceroute, host = h1, dst = \"10.0.2.5\", max-hops = 0 }", "actorstack.scenario.workloads[0].max-hops = \"0\": must be between 1 and 255")]
    [InlineData("{ type = traceroute, host = h1, dst = \"10.0.2.5\", queries = 11 }", "actorstack.scenario.workloads[0].queries = \"11\": must be between 1 and 10")]
    [InlineData("{ type = traceroute, host = h1, dst = \"10.0.2.5\", wait = forever }", "actorstack.scenario.workloads[0].wait = \"forever\": must be a duration such as 500ms, 2s or 1m")]
    [InlineData("{ type = traceroute, host = h1, dst = \"10.0.2.5\", port = 0 }", "actorstack.scenario.workloads[0].port = \"0\": must be between 1 and 65535")]
    [InlineData("{ type = udp-echo-server, host = r1, bind = \"0.0.0.0\" }", "actorstack.scenario.workloads[0].bind = \"0.0.0.0\": must be \"address:port\" with a port 1-65535")]
    [InlineData("{ type = udp-echo-client, host = h1, server = \"0.0.0.0:7\" }", "actorstack.scenario.workloads[0].server = \"0.0.0.0:7\": must name a unicast address")]
    [InlineData("{ type = udp-echo-client, host = h1, server = \"10.0.1.1:7\", timeout = 0s }", "actorstack.scenario.workloads[0].timeout = \"0s\": must be between 1ms and 3600s")]
    public void Workloads_Bad_ErrorNamesKeyAndValue(string workload, string message)
        => Assert.Equal(message, Fails(workloads: workload));

    [Fact]
    public async Task RunnerMain_RouteTheFibRefuses_Returns2ForCheckRunAndTopology()
    {
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-route-{Guid.NewGuid():N}.hocon");
        try
        {
            await File.WriteAllTextAsync(file, Text(host: """routes = ["10.7.0.0/16 via 10.0.3.1"]"""));
            Assert.Equal(2, await ActorStack.Cli.Runner.Main(["check", "--config", file]));
            Assert.Equal(2, await ActorStack.Cli.Runner.Main(["topology", "--config", file]));
            Assert.Equal(2, await ActorStack.Cli.Runner.Main(["run", "--config", file]));
            await File.WriteAllTextAsync(file, Text(workloads: """{ type = ping, host = h1, dst = "10.0.1.1" }"""));
            Assert.Equal(0, await ActorStack.Cli.Runner.Main(["topology", "--config", file]));
            Assert.Equal(0, await ActorStack.Cli.Runner.Main(["check", "--config", file]));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
