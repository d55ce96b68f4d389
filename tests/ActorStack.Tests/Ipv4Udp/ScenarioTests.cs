using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>Whole scenarios run by the SimulationActor: conservation of frames, and a capture read back by tshark.</summary>
public class ScenarioTests() : TestKit(StackConfig.AkkaConfig(), "scenario")
{
    private static readonly TimeSpan Ask = Timeouts.Wall;

    private static string ScenarioText(long count, int backlog, string capture = "") => $$"""
        actorstack {
          scenario {
            hosts {
              sender { cpus = 1, devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"] } } }
              receiver {
                cpus = 2
                # icmp_msgs_per_sec 0: no ICMP errors (port 9002 has no socket), so no ARP either: the books below
                # are the receive path's own, every frame on the wire comes from pktgen.
                sysctl { net.core.netdev_max_backlog = {{backlog}}, net.ipv4.icmp_msgs_per_sec = 0, net.ipv4.icmp_msgs_burst = 0 }
                devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"], rps-cpus = "3" } }
              }
            }
            wires = [ { a = "sender/eth0", b = "receiver/eth0" } ]
            workloads = [
              { type = pktgen, host = sender, device = eth0, count = {{count}}, pkt_size = 64, ratep = 200000, flows = 8,
                dst_mac = "02:00:00:00:00:02", dst_min = "10.0.0.2",
                udp_src_min = 10000, udp_src_max = 10003, udp_dst_min = 9000, udp_dst_max = 9002 }
              { type = udp-sink, host = receiver, bind = "0.0.0.0:9000", rcvbuf = 2048 }
              { type = udp-sink, host = receiver, bind = "0.0.0.0:9001" }
            ]
            {{capture}}
          }
        }
        """;

    private sealed record Tally(long Sent, long TxDropped, long WireDelivered, long WireDropped, long Read, long Queued, HostStats Receiver, bool Done)
    {
        public long Accounted => Read + Receiver.TotalDrops + Queued;
    }

    private async Task<Tally> TallyOf(SimulationStarted sim)
    {
        var gen = await sim.Pktgens.Single().Ask<PktgenStatus>(GetWorkloadStatus.Instance, Ask);
        var wire = await sim.Wires.Single().Ask<WireStats>(GetWireStats.Instance, Ask);
        long read = 0;
        foreach (var s in sim.Sinks) read += (await s.Ask<SinkStatus>(GetWorkloadStatus.Instance, Ask)).Datagrams;
        var rx = await sim.Hosts["receiver"].Ask<HostStats>(GetStats.Instance, Ask);
        return new Tally(gen.Sent, gen.TxDropped, wire.AToB, wire.Dropped, read, rx.Sockets.Sum(s => (long)s.RecvQueueDatagrams), rx, gen.Done);
    }

    /// <summary>Waits until pktgen is done and every frame it put on the wire is read, queued or counted as dropped.</summary>
    private async Task<Tally> RunToQuiet(SimulationStarted sim)
    {
        Tally t = null!;
        await AwaitAssertAsync(async () =>
        {
            t = await TallyOf(sim);
            Assert.True(t.Done, $"pktgen sent {t.Sent}");
            Assert.Equal(t.Sent - t.TxDropped - t.WireDropped, t.Accounted);
            Assert.All(t.Receiver.Softnet, c => Assert.Equal(0, c.BacklogLen));
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));
        return t;
    }

    [Fact]
    public async Task Conservation_OverloadedReceiver_EveryFrameReadQueuedOrInExactlyOneDropCounter()
    {
        var settings = StackConfig.Load(ScenarioText(20000, backlog: 32));
        var sim = await Sys.ActorOf(SimulationActor.Props(settings), "sim").Ask<SimulationStarted>(StartSimulation.Instance, Ask);
        var t = await RunToQuiet(sim);

        Assert.Equal(20000, t.Sent);
        Assert.Equal(0, t.TxDropped);
        // The wire's own overflow is counted per direction in WireStats (SIM_WIRE_OVERFLOW), outside any host,
        // so the receiver's books start at what left the wire.
        Assert.Equal(t.Sent, t.WireDelivered + t.WireDropped);
        Assert.True(t.Read > 0, "nothing was read");
        Assert.True(t.Receiver.TotalDrops > 0, "the scenario should overload the receiver");
        Assert.Equal(t.WireDelivered, t.Read + t.Receiver.TotalDrops + t.Queued);

        // Each drop is in exactly one of the device / softnet / SNMP counters, so they sum to the drop monitor's total.
        var s = t.Receiver;
        var d = s.Device("eth0").Counters;
        long device = d.RxMissedErrors + d.RxFifoErrors + d.RxLengthErrors + d.RxDropped;
        long softnet = s.Softnet.Sum(c => c.Dropped);
        var ip = s.Mib("Ip");
        long snmp = ip["InHdrErrors"] + ip["InAddrErrors"] + ip["InUnknownProtos"] + s.Mib("IpExt")["InTruncatedPkts"]
                    + s.Mib("Udp")["InErrors"] + s.Mib("Udp")["NoPorts"];
        // No queue between the softnet and the protocol handlers (they run inside the softirq): nothing else drops.
        Assert.Equal(s.TotalDrops, device + softnet + snmp);
        Assert.Equal(s.Mib("Udp")["RcvbufErrors"], s.DropsOf(DropReason.SOCKET_RCVBUFF));
        Assert.Equal(s.Mib("Udp")["NoPorts"], s.DropsOf(DropReason.NO_SOCKET));
        Assert.True(s.Mib("Udp")["NoPorts"] > 0, "port 9002 has no socket");
        Assert.Equal(s.Sockets.Sum(x => x.Drops), s.Mib("Udp")["RcvbufErrors"]);
        Assert.Equal(t.Read, s.Mib("Udp")["InDatagrams"]);
    }

    [RequiresToolFact("tshark")]
    public async Task Capture_ShortScenario_TsharkSeesEveryFrameWithGoodChecksums()
    {
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-capture-{Guid.NewGuid():N}.pcap");
        try
        {
            var capture = $"capture {{ enabled = on, host = receiver, device = eth0, file = \"{file}\" }}";
            var settings = StackConfig.Load(ScenarioText(300, backlog: 1000, capture));
            var sim = await Sys.ActorOf(SimulationActor.Props(settings), "sim-capture").Ask<SimulationStarted>(StartSimulation.Instance, Ask);
            var t = await RunToQuiet(sim);
            var flushed = await sim.Capture!.Ask<CaptureFlushed>(FlushCapture.Instance, Ask);
            Assert.Equal(0, flushed.Dropped);
            Assert.True(flushed.Frames > 0);
            // The tap sits after the ring: it sees every frame the driver took off it.
            Assert.Equal(t.Receiver.Device("eth0").Counters.RxPackets, flushed.Frames);

            var psi = new ProcessStartInfo("tshark") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-r", file, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                         "-T", "fields", "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "udp.dstport", "-e", "frame.comment" })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            Assert.True(p.ExitCode == 0, $"tshark exit {p.ExitCode}: {await stderr}");

            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r').Split('\t')).ToArray();
            // The pcapng also holds each drop on eth0 with its frame and cause: here every datagram to port 9002 (no socket).
            Assert.Equal(flushed.Frames, lines.Count(f => f[3].Length == 0));
            Assert.Equal(flushed.Comments, lines.Count(f => f[3].Length > 0));
            Assert.Equal(t.Receiver.Mib("Udp")["NoPorts"], lines.Count(f => f[3] == "SKB_DROP_REASON_NO_SOCKET at udp" && f[2] == "9002"));
            Assert.All(lines, f =>
            {
                Assert.Equal("1", f[0]);
                Assert.Equal("1", f[1]);
                Assert.Contains(f[2], new[] { "9000", "9001", "9002" });
            });
        }
        finally
        {
            File.Delete(file);
        }
    }
}
