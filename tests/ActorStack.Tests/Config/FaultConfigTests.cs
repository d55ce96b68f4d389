using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Config;

/// <summary>Fault injection keys: netem on wires, scenario.faults, scenario.schedule, and their errors.</summary>
public class FaultConfigTests
{
    private static string Text(string wire = "", string more = "") => $$"""
        actorstack.scenario {
          hosts {
            h1 { devices { eth0 { addresses = ["10.0.0.1/24"] } } }
            h2 { devices { eth0 { addresses = ["10.0.0.2/24"] } } }
          }
          wires = [ { a = "h1/eth0", b = "h2/eth0" {{wire}} } ]
          workloads = []
          capture { enabled = off }
          {{more}}
        }
        """;

    private static StackSettings Load(string wire = "", string more = "") => StackConfig.Load(Text(wire, more));

    private static string Fails(string wire = "", string more = "")
        => Assert.Single(Assert.Throws<StackConfigException>(() => Load(wire, more)).Errors);

    [Fact]
    public void Wires_NetemPerDirection_ReadAndCheckedBeforeTheRun()
    {
        var s = Load(wire: """, netem-a-to-b = "delay 10ms 2ms distribution normal loss 1%", netem-b-to-a = "loss 5%" """);
        var w = s.Wires.Single();
        Assert.Equal("h1/eth0-h2/eth0", w.Name);
        Assert.Equal("delay 10ms 2ms distribution normal loss 1%", w.NetemAToB);
        Assert.Equal("loss 5%", w.NetemBToA);
        Assert.Empty(ScenarioCheck.Check(s, forRun: false));
        Assert.Equal("limit 1000 delay 10ms  2ms loss 1%", FaultCheck.Settings(w, WireDirection.AToB)!.ToString());
    }

    [Fact]
    public void Wires_BadNetem_ConfigErrorNamingTheKeyWithTcMessage()
    {
        var s = Load(wire: """, netem-b-to-a = "reorder 10%" """);
        var e = Assert.Throws<StackConfigException>(() => ScenarioCheck.Validate(s, forRun: false));
        Assert.Equal("actorstack.scenario.wires[0].netem-b-to-a = \"reorder 10%\": reordering not possible without specifying some delay",
            Assert.Single(e.Errors));
        var bad = Load(wire: """, netem-a-to-b = "lose 5%" """);
        Assert.StartsWith("actorstack.scenario.wires[0].netem-a-to-b = \"lose 5%\": ",
            Assert.Single(Assert.Throws<StackConfigException>(() => ScenarioCheck.Validate(bad, forRun: false)).Errors));
    }

    [Fact]
    public void Faults_RuleReadWithMatchAndOrdinal()
    {
        var s = Load(more: """
            faults = [
              { wire = "h1/eth0-h2/eth0", direction = a-to-b, match = { proto = udp, dport = 53, dst = "10.0.0.0/24" }, every = 100, action = corrupt }
              { wire = "h2/eth0", direction = b-to-a, match = { proto = tcp, tcp-flags = "syn,ack" }, nth = 3, action = drop }
              { wire = "h1/eth0", match = { proto = arp, arp-op = reply }, action = delay, delay = 2s }
            ]
            """);
        Assert.Equal(3, s.Faults.Length);
        var dns = s.Faults[0].Rule;
        Assert.Equal(new FaultRule(new FaultMatch { Proto = FaultProto.Udp, Dport = 53, Dst = new Ipv4Prefix(Ipv4Address.Parse("10.0.0.0"), 24) },
            FaultAction.Corrupt) { Direction = WireDirection.AToB, Every = 100 }, dns);
        var synAck = s.Faults[1].Rule;
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Match.TcpFlags);
        Assert.Equal(TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Ack, synAck.Match.TcpFlagsMask);
        Assert.Equal(3, synAck.Nth);
        Assert.Equal(WireDirection.BToA, synAck.Direction);
        var arp = s.Faults[2].Rule;
        Assert.Equal((ushort)2, arp.Match.ArpOp);
        Assert.Equal(TimeSpan.FromSeconds(2), arp.Delay);
        Assert.Null(arp.Direction);
        Assert.All(s.Faults, f => Assert.Equal(0, f.Wire));
    }

    [Theory]
    [InlineData("""{ wire = "h1/eth9", action = drop }""", "actorstack.scenario.faults[0].wire = \"h1/eth9\": no such wire (known: h1/eth0-h2/eth0)")]
    [InlineData("""{ wire = "h1/eth0", direction = up, action = drop }""", "actorstack.scenario.faults[0].direction = \"up\": must be a-to-b, b-to-a or both")]
    [InlineData("""{ wire = "h1/eth0", action = explode }""", "actorstack.scenario.faults[0].action = \"explode\": must be drop, corrupt, delay or duplicate")]
    [InlineData("""{ wire = "h1/eth0", action = delay }""", "actorstack.scenario.faults[0].delay = (missing): must be a duration such as 500ms, 2s or 1m")]
    [InlineData("""{ wire = "h1/eth0", match = { proto = icmp, dport = 7 }, action = drop }""", "actorstack.scenario.faults[0].match.proto = \"icmp\": ports match udp or tcp only")]
    [InlineData("""{ wire = "h1/eth0", match = { proto = tcp, tcp-flags = "syn,bogus" }, action = drop }""",
        "actorstack.scenario.faults[0].match.tcp-flags = \"syn,bogus\": must be flags such as \"syn,ack\" (exactly these of fin,syn,rst,ack) or iptables' \"MASK COMP\" (\"syn,ack,fin,rst syn\")")]
    [InlineData("""{ wire = "h1/eth0", match = { proto = udp, tcp-seq = "1-2" }, action = drop }""",
        "actorstack.scenario.faults[0].match.tcp-seq = \"1-2\": needs proto = tcp")]
    [InlineData("""{ wire = "h1/eth0", match = { proto = tcp, tcp-seq = "1-x" }, action = drop }""",
        "actorstack.scenario.faults[0].match.tcp-seq = \"1-x\": must be a sequence number or a range FIRST-LAST of numbers 0-4294967295")]
    [InlineData("""{ wire = "h1/eth0", nth = 0, action = drop }""", "actorstack.scenario.faults[0].nth = \"0\": must be between 1 and 9223372036854775807")]
    public void Faults_BadRule_RejectedWithKeyAndReason(string rule, string expected)
        => Assert.Equal(expected, Fails(more: $"faults = [ {rule} ]"));

    [Fact]
    public void Schedule_ReadSortedByTimeWithItsActions()
    {
        var s = Load(more: """
            schedule = [
              { at = 4s, action = restore, wire = "h1/eth0-h2/eth0" }
              { at = 2s, action = cut, wire = "h1/eth0" }
              { at = 3s, action = netem, wire = "h2/eth0", direction = b-to-a, netem = "loss 20%" }
              { at = 5s, action = faults, wire = "h1/eth0", rules = [ { match = { proto = udp }, every = 2, action = drop } ] }
            ]
            """);
        Assert.Equal(["cut wire h1/eth0-h2/eth0", "netem loss 20% on h1/eth0-h2/eth0 b-to-a", "restore wire h1/eth0-h2/eth0",
            "faults on h1/eth0-h2/eth0: 1 rule(s)"], s.Schedule.Select(e => e.Describe()));
        Assert.Equal([2.0, 3, 4, 5], s.Schedule.Select(e => e.At.TotalSeconds));
        Assert.Equal([1, 2, 0, 3], s.Schedule.Select(e => e.Index));
        Assert.Empty(ScenarioCheck.Check(s, forRun: true));
    }

    [Fact]
    public void Schedule_BadEntries_RejectedWithKeys()
    {
        Assert.Equal("actorstack.scenario.schedule[0].action = \"reboot\": must be cut, restore, netem, faults, crash, fault, link-down or link-up",
            Fails(more: """schedule = [ { at = 1s, action = reboot, wire = "h1/eth0" } ]"""));
        Assert.Equal("actorstack.scenario.schedule[0].direction = \"both\": must be a-to-b or b-to-a",
            Fails(more: """schedule = [ { at = 1s, action = netem, wire = "h1/eth0", direction = both, netem = "loss 1%" } ]"""));
        Assert.Equal("actorstack.scenario.schedule[0].at = \"soon\": must be a duration such as 500ms, 2s or 1m",
            Fails(more: """schedule = [ { at = soon, action = cut, wire = "h1/eth0" } ]"""));
        var s = Load(more: """schedule = [ { at = 1s, action = netem, wire = "h1/eth0", direction = a-to-b, netem = "loss 120%" } ]""");
        Assert.StartsWith("actorstack.scenario.schedule[0].netem = \"loss 120%\": ",
            Assert.Single(Assert.Throws<StackConfigException>(() => ScenarioCheck.Validate(s, forRun: true)).Errors));
    }
}
