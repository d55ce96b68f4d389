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
}
