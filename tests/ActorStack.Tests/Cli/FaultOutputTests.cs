using ActorStack.Cli;

namespace ActorStack.Tests.Cli;

/// <summary>
/// What the CLI prints about faults (issue 15, "The CLI"): <c>ip monitor</c> lines with the simulated time since the start
/// of the workloads (the fault schedule's origin), in run order with the <c>[fault +Ns]</c> lines.
/// </summary>
public sealed class FaultOutputTests
{
    private const string Scenario = """
        actorstack {
          scenario {
            hosts {
              h1 { devices { eth0 { addresses = ["10.0.0.1/24"] } } }
              h2 { devices { eth0 { addresses = ["10.0.0.2/24"] } } }
            }
            wires = [ { a = "h1/eth0", b = "h2/eth0" } ]
            schedule = [
              { at = 1s, action = cut, wire = "h1/eth0" }
              { at = 1500ms, action = restore, wire = "h1/eth0" }
              { at = 2s, action = crash, device = "h2/eth0" }
            ]
            workloads = [ { type = ping, host = h1, dst = "10.0.0.2", count = 3, interval = 1s, deadline = 5s } ]
          }
        }
        """;

    private static string Write(string text)
    {
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-faultout-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(file, text);
        return file;
    }

    // The link line up to its state (the tail — mode, group, qlen, link/ether — is the LinkWatch tests' business).
    private static string Cut(string line) => line.Contains(" mode ") ? line[..line.IndexOf(" mode ", StringComparison.Ordinal)] : line;

    [Fact]
    public async Task IpMonitorLines_CarrySimulatedTimeSinceWorkloadsStart()
    {
        var file = Write(Scenario);
        try
        {
            var (rc, o, _) = await ClockTests.Cli("run", "--config", file);
            Assert.Equal(0, rc);
            var lines = o.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Contains("ip monitor:") || l.StartsWith("[fault ")).Select(Cut).ToList();
            const string Up = "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP";
            const string Down = "2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN";
            string[] expected =
            [
                // Attaching the cable at boot: the workloads start at the same simulated instant.
                $"[+0.000s h2] ip monitor: {Up}", $"[+0.000s h1] ip monitor: {Up}",
                "[fault +1s] cut wire h1/eth0-h2/eth0", "[fault +1s]   h1/eth0-h2/eth0: cable cut: carrier off at both ends",
                $"[+1.000s h1] ip monitor: {Down}", $"[+1.000s h2] ip monitor: {Down}",
                "[fault +1.5s] restore wire h1/eth0-h2/eth0", "[fault +1.5s]   h1/eth0-h2/eth0: cable restored: carrier on at both ends",
                $"[+1.500s h1] ip monitor: {Up}", $"[+1.500s h2] ip monitor: {Up}",
                "[fault +2s] crash driver h2/eth0", "[fault +2s]   h2: eth0: driver crashed, supervisor resets the device",
                $"[+2.000s h2] ip monitor: {Down}",
                // The reset's link-up-delay (2 s, device-defaults), not 1 ms earlier.
                $"[+4.000s h2] ip monitor: {Up}",
            ];
            Assert.True(expected.SequenceEqual(lines), "got:\n" + string.Join("\n", lines));
            // The untimed form (events.jsonl's text, which has its own t) is unchanged.
            Assert.DoesNotContain(o.Split('\n'), l => l.StartsWith("[h1] ip monitor:") || l.StartsWith("[h2] ip monitor:"));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void MonitorLine_FormatsSignAndMilliseconds()
    {
        var e = new ActorStack.Messages.RtnlLinkEvent("h1", ActorStack.Messages.RtnlLinkKind.RTM_NEWLINK, 2, "eth0", true, true, "UP", 1, 0, "2: eth0: x");
        Assert.Equal("[+2.500s h1] ip monitor: 2: eth0: x", Runner.MonitorLine(e, TimeSpan.FromMilliseconds(2500)));
        Assert.Equal("[-0.001s h1] ip monitor: 2: eth0: x", Runner.MonitorLine(e, TimeSpan.FromMilliseconds(-1)));
        Assert.Equal("[+0.000s h1] ip monitor: Deleted 2: eth0: x", Runner.MonitorLine(e with { Kind = ActorStack.Messages.RtnlLinkKind.RTM_DELLINK }, TimeSpan.Zero));
        Assert.Equal("[h1] ip monitor: 2: eth0: x", Runner.MonitorLine(e));
    }

    [Fact]
    public async Task CheckAndTopology_ShowNetemFaultRulesAndSchedule_OfTcpExample()
    {
        var config = ClockTests.RepoPath("examples/tcp.hocon");
        string[] plan =
        [
            "  netem-a-to-b \"loss 1%\" (h1/eth0 -> sw1/port1)",
            "schedule:",
            "  at 2s: cut wire h2/eth0-sw1/port2",
            "  at 2.5s: restore wire h2/eth0-sw1/port2",
            "  at 3.5s: crash driver h2/eth0",
        ];
        var check = await ClockTests.Cli("check", "--config", config);
        Assert.Equal(0, check.Rc);
        var c = check.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int w = c.IndexOf("wire h1/eth0 <-> sw1/port1 delay 0ms");
        Assert.True(w >= 0, check.Out);
        Assert.Equal(plan[0], c[w + 1]);
        Assert.Equal("wire h2/eth0 <-> sw1/port2 delay 0ms", c[w + 2]); // no netem, no rules on the other wire
        Assert.Equal(plan[1..], c.Skip(w + 3).Take(4));

        var topo = await ClockTests.Cli("topology", "--config", config);
        Assert.Equal(0, topo.Rc);
        var t = topo.Out.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        Assert.Equal(["wire h1/eth0 <-> sw1/port1, delay 0ms, speed 1000Mb/s", plan[0], "wire h2/eth0 <-> sw1/port2, delay 0ms, speed 1000Mb/s", .. plan[1..]],
            t.Skip(t.Count - 7));
    }

    [Fact]
    public async Task Topology_ShowsConditionalRulesAndScheduledRules_InConfigWords()
    {
        var file = Write("""
            actorstack.scenario {
              hosts {
                h1 { devices { eth0 { addresses = ["10.0.0.1/24"] } } }
                h2 { devices { eth0 { addresses = ["10.0.0.2/24"] } } }
              }
              wires = [ { a = "h1/eth0", b = "h2/eth0", netem-b-to-a = "delay 10ms" } ]
              faults = [
                { wire = "h1/eth0", direction = a-to-b, match = { proto = tcp, tcp-flags = "syn,ack", dport = 80 }, nth = 3, action = drop }
                { wire = "h2/eth0", match = { proto = arp, arp-op = reply }, action = delay, delay = 2s }
              ]
              schedule = [
                { at = 1s, action = netem, wire = "h1/eth0", direction = a-to-b, netem = "loss 20%" }
                { at = 1500ms, action = faults, wire = "h1/eth0", rules = [ { match = { proto = udp, dst = "10.0.0.2" }, every = 100, action = corrupt } ] }
              ]
            }
            """);
        try
        {
            var (rc, o, e) = await ClockTests.Cli("topology", "--config", file);
            Assert.True(rc == 0, e);
            var t = o.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
            Assert.Equal([
                "wire h1/eth0 <-> h2/eth0, delay 0ms, speed 10000Mb/s",
                "  netem-b-to-a \"delay 10ms\" (h2/eth0 -> h1/eth0)",
                "  fault direction a-to-b match { proto = tcp, dport = 80, tcp-flags = \"fin,syn,rst,ack syn,ack\" } nth 3 action drop",
                "  fault match { proto = arp, arp-op = reply } action delay delay 2s",
                "schedule:",
                "  at 1s: netem loss 20% on h1/eth0-h2/eth0 a-to-b",
                "  at 1.5s: faults on h1/eth0-h2/eth0: 1 rule(s)",
                "    fault match { proto = udp, dst = \"10.0.0.2/32\" } every 100 action corrupt",
            ], t.Skip(t.Count - 8));
        }
        finally { File.Delete(file); }
    }
}
