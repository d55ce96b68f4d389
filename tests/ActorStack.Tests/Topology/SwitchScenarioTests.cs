using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Actors.Bridge;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Topology;

/// <summary>A whole scenario through a switch: pktgen on one host, sockets on another, every frame accounted for.</summary>
public class SwitchScenarioTests() : NetOnEngineKit("switch-scenario")
{
    private const string Text = """
        actorstack {
          scenario {
            hosts {
              sender { devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"] } } }
              receiver { devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"], rx-ring = 4096 } } }
            }
            switches { sw1 { ports = 4 } }
            wires = [
              { a = "sender/eth0", b = "sw1/port1" }
              { a = "sw1/port3", b = "receiver/eth0" }
            ]
            workloads = [
              { type = pktgen, host = sender, device = eth0, count = 3000, pkt_size = 64, ratep = 300000, flows = 4,
                dst_mac = "02:00:00:00:00:02", dst_min = "10.0.0.2", udp_dst_min = 9000, udp_dst_max = 9001 }
              { type = udp-sink, host = receiver, bind = "0.0.0.0:9000" }
              { type = udp-sink, host = receiver, bind = "0.0.0.0:9001" }
            ]
          }
        }
        """;

    [Fact]
    public async Task StartSimulation_SwitchRefusesPort_AnsweredByCommandFailedWithTheSwitchErrno()
    {
        var loaded = StackConfig.Load(Text);
        // A port the switch does not have (past the configuration's check): the switch refuses it with ENODEV.
        var settings = loaded with { Wires = [loaded.Wires[0] with { SwitchPortB = 9 }, loaded.Wires[1]] };
        Sys.ActorOf(SimulationActor.Props(settings), "sim-refused").Tell(StartSimulation.Instance, TestActor);
        // The start does not wait for the switches' answers: the refusal may come before or after SimulationStarted.
        object m;
        while ((m = await ExpectSoon<object>()) is not CommandFailed) Assert.IsType<SimulationStarted>(m);
        var f = (CommandFailed)m;
        Assert.Same(StartSimulation.Instance, f.Command);
        Assert.Equal(Errno.ENODEV, f.Error);
        Assert.StartsWith("switch sw1: AttachSwitchPort", f.Detail);
        Assert.EndsWith("no port 9 (ports 1-4)", f.Detail);
    }

    [Fact]
    public async Task Pktgen_ThroughSwitch_EveryFrameDeliveredOrCountedOnce()
    {
        var settings = StackConfig.Load(Text);
        var simActor = Sys.ActorOf(SimulationActor.Props(settings), "sim");
        var sim = await Ask<SimulationStarted>(simActor, StartSimulation.Instance);
        var topo = await Ask<SimulationTopology>(simActor, GetSimulationTopology.Instance);
        var sw = topo.Switches["sw1"];
        Assert.Equal<IActorRef>(sim.Wires, topo.Links);

        PktgenStatus gen = null!;
        WireStats toSwitch = null!, fromSwitch = null!;
        SwitchStatsSnapshot st = null!;
        HostStats rx = null!;
        long read = 0;
        await Until(async () =>
        {
            gen = await Ask<PktgenStatus>(sim.Pktgens.Single(), GetWorkloadStatus.Instance);
            toSwitch = await Ask<WireStats>(sim.Wires[0], GetWireStats.Instance);
            fromSwitch = await Ask<WireStats>(sim.Wires[1], GetWireStats.Instance);
            st = await Ask<SwitchStatsSnapshot>(sw, GetSwitchStats.Instance);
            rx = await Ask<HostStats>(sim.Hosts["receiver"], GetStats.Instance);
            read = 0;
            foreach (var s in sim.Sinks) read += (await Ask<SinkStatus>(s, GetWorkloadStatus.Instance)).Datagrams;
            Assert.True(gen.Done, $"pktgen sent {gen.Sent}");
            long queued = rx.Sockets.Sum(s => (long)s.RecvQueueDatagrams);
            Assert.Equal(fromSwitch.AToB, read + rx.TotalDrops + queued);
            Assert.Equal(0, st.Port(3).Backlog);
        });

        Assert.Equal(3000, gen.Sent);
        // sender -> wire 0 -> switch port1
        Assert.Equal(gen.Sent - gen.TxDropped, toSwitch.AToB + toSwitch.DroppedAToB);
        Assert.Equal(toSwitch.AToB, st.Port(1).RxFrames + st.Port(1).RxFifoDropped);
        Assert.Equal(st.Port(1).RxFrames, st.RxFrames);
        // The receiver never sends, so its address is never learned: every frame is flooded, to port3 only.
        Assert.Equal(st.RxFrames, st.Flooded);
        Assert.Equal(0, st.Forwarded);
        Assert.Equal(0, st.Dropped);
        Assert.Equal(st.RxFrames, st.Port(3).TxFrames + st.Port(3).TxDropped);
        Assert.Equal(0, st.Port(2).TxFrames + st.Port(4).TxFrames);
        // switch port3 -> wire 1 -> receiver
        Assert.Equal(st.Port(3).TxFrames, fromSwitch.AToB + fromSwitch.DroppedAToB);
        Assert.Equal(0, toSwitch.BToA + fromSwitch.BToA);
        Assert.True(read > 0, "nothing was read");
        Assert.Equal((3000L, 0L, 0L), (read, rx.TotalDrops, gen.TxDropped)); // on the engine nothing is lost: every frame read
        Assert.Equal(read, rx.Mib("Udp")["InDatagrams"]);

        var fdb = await Ask<SwitchFdb>(sw, GetSwitchFdb.Instance);
        Assert.Equal("02:00:00:00:00:01 dev port1 master sw1\n", fdb.Text);
    }

    [Fact]
    public async Task Ping_ThroughSwitch_RepliesAndBothStationsLearned()
    {
        var settings = StackConfig.Load("""
            actorstack.scenario {
              hosts {
                h1 { devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"] } } }
                h2 { devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"] } } }
              }
              switches { sw1 { ports = 3 } }
              wires = [
                { a = "h1/eth0", b = "sw1/port1" }
                { a = "h2/eth0", b = "sw1/port2" }
              ]
              workloads = [ { type = ping, host = h1, dst = "10.0.0.2", count = 2, interval = 20ms } ]
            }
            """);
        var simActor = Sys.ActorOf(SimulationActor.Props(settings), "sim-ping");
        await Ask<SimulationStarted>(simActor, StartSimulation.Instance);
        var topo = await Ask<SimulationTopology>(simActor, GetSimulationTopology.Instance);
        var ping = Assert.Single(topo.Apps);
        PingStatus st = null!;
        await Until(async () =>
        {
            st = await Ask<PingStatus>(ping, GetWorkloadStatus.Instance);
            Assert.True(st.Done);
        });
        Assert.Equal((2, 2, 0), (st.Transmitted, st.Received, st.Errors));
        Assert.Equal("2 packets transmitted, 2 received, 0% packet loss", st.Lines.Single(l => l.Contains("transmitted"))[..49]);

        // ARP request (broadcast: flooded), then everything unicast between two learned stations.
        var sw = await Ask<SwitchStatsSnapshot>(topo.Switches["sw1"], GetSwitchStats.Instance);
        Assert.Equal("02:00:00:00:00:01 dev port1 master sw1\n02:00:00:00:00:02 dev port2 master sw1\n",
            (await Ask<SwitchFdb>(topo.Switches["sw1"], GetSwitchFdb.Instance)).Text);
        Assert.Equal(1, sw.Flooded);
        Assert.Equal(sw.RxFrames, sw.Forwarded + sw.Flooded);
        Assert.Equal(0, sw.Port(3).TxFrames);
        Assert.Equal(sw.Port(1).RxFrames, sw.Port(2).TxFrames);
        Assert.Equal(sw.Port(2).RxFrames, sw.Port(1).TxFrames);
        Assert.Equal(3, sw.Port(1).RxFrames); // the ARP request and the 2 echo requests (h2 learned h1 from the request)
    }
}
