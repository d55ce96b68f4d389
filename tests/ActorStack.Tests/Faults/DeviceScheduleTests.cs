using Akka.Actor;
using Akka.TestKit;
using ActorStack.Tests.Engine;
using ActorStack.Actors.Simulation;
using ActorStack.Cli;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Faults;

/// <summary>
/// The fault schedule's device actions run by the SimulationActor on virtual time, with every host's
/// <c>ip monitor link</c> stream republished on the event stream (what the CLI prints). On the simulation engine:
/// each step of the clock runs to completion before the test reads what was printed, so each action's instant is exact.
/// </summary>
public class DeviceScheduleTests() : EngineKit("device-schedule")
{
    private static readonly TimeSpan Wait = Timeouts.Wall;

    private const string Scenario = """
        actorstack {
          device-defaults { link-up-delay = 100ms }
          scenario {
            hosts {
              h1 { devices { eth0 { addresses = ["10.0.0.1/24"] } } }
              h2 { devices { eth0 { addresses = ["10.0.0.2/24"] } } }
            }
            wires = [ { a = "h1/eth0", b = "h2/eth0" } ]
            workloads = []
            capture { enabled = off }
            schedule = [
              { at = 2s, action = crash, device = "h2/eth0" }
              { at = 4s, action = link-down, device = "h1/eth0" }
              { at = 5s, action = link-up, device = "h1/eth0" }
              { at = 6s, action = fault, device = "h9/eth0", kind = irq-loss }
            ]
          }
        }
        """;

    /// <summary>What the test actor got so far (the engine has run: nothing more comes without the clock moving).</summary>
    private async Task<List<string>> DrainAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var m = await ReceiveOneAsync(TimeSpan.Zero);
            if (m is null) return lines;
            lines.Add(m switch
            {
                RtnlLinkEvent e => Runner.MonitorLine(e),
                FaultScheduleEvent f => f.ToString(),
                _ => m.ToString()!,
            });
        }
    }

    [Fact]
    public async Task Schedule_CrashAndLinkAdmin_ActionsThenLinkEventsPrinted()
    {
        var settings = StackConfig.Load(Scenario.Replace("""{ at = 6s, action = fault, device = "h9/eth0", kind = irq-loss }""", ""));
        Sys.EventStream.Subscribe(TestActor, typeof(FaultScheduleEvent));
        Sys.EventStream.Subscribe(TestActor, typeof(RtnlLinkEvent));
        var sim = Sys.ActorOf(SimulationActor.Props(settings), "sim");
        TellNow(sim, StartSimulation.Instance, TestActor);
        await ExpectMsgAsync<SimulationStarted>(Wait);
        var t0 = Engine.NowNs; // the schedule's origin: the start of the workloads
        var boot = await DrainAsync();
        Engine.RunFor(TimeSpan.FromSeconds(1));
        boot.AddRange(await DrainAsync());
        // Attaching the cable turns each NIC's carrier on (urgent: its qdisc is still noop).
        Assert.Contains("[h1] ip monitor: 2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP", boot.Select(Cut));
        Assert.Contains("[h2] ip monitor: 2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP", boot.Select(Cut));

        const long S = 1_000_000_000;
        // Each action at its instant, not 1 ns before.
        Engine.RunUntilNs(t0 + 2 * S - 1);
        Assert.Empty(await DrainAsync());
        Engine.RunUntilNs(t0 + 2 * S);   // t = 2 s: crash
        var crash = await DrainAsync();
        Engine.RunUntilNs(t0 + 2 * S + 100_000_000 - 1);
        Assert.Empty(await DrainAsync());
        Engine.RunUntilNs(t0 + 2 * S + 100_000_000);   // link-up-delay from device-defaults
        var up = await DrainAsync();
        Engine.RunUntilNs(t0 + 4 * S - 1);
        Assert.Empty(await DrainAsync());
        Engine.RunUntilNs(t0 + 4 * S);   // t = 4 s: link-down
        var down = await DrainAsync();
        Engine.RunUntilNs(t0 + 5 * S - 1);
        Assert.Empty(await DrainAsync());
        Engine.RunUntilNs(t0 + 5 * S);   // t = 5 s: link-up
        var admin = await DrainAsync();
        Lines(["[fault +2s] crash driver h2/eth0", "[fault +2s]   h2: eth0: driver crashed, supervisor resets the device",
            "[h2] ip monitor: 2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN"], crash);
        Lines(["[h2] ip monitor: 2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP"], up);
        // The link watch notifies (RTM_NEWLINK) before it answers the command.
        Lines(["[fault +4s] ip link set dev eth0 down on h1",
            "[h1] ip monitor: 2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc pfifo_fast state DOWN", "[fault +4s]   h1: eth0 down"], down);
        Lines(["[fault +5s] ip link set dev eth0 up on h1",
            "[h1] ip monitor: 2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP", "[fault +5s]   h1: eth0 up"], admin);
    }

    // The link line up to its state (the tail — mode, group, qlen, link/ether — is the LinkWatch tests' business).
    private static void Lines(string[] expected, IEnumerable<string> actual)
    {
        var got = actual.Select(Cut).ToList();
        Assert.True(expected.SequenceEqual(got), "got:\n" + string.Join("\n", got));
    }

    private static string Cut(string line)
    {
        int i = line.IndexOf(" state ", StringComparison.Ordinal);
        int j = i < 0 ? -1 : line.IndexOf(' ', i + 7);
        return j < 0 ? line : line[..j];
    }

    [Fact]
    public void Schedule_UnknownHost_RejectedBeforeTheRun()
    {
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load(Scenario));
        Assert.Equal("actorstack.scenario.schedule[3].device = \"h9/eth0\": no host h9 (known: h1, h2)", Assert.Single(e.Errors));
    }
}
