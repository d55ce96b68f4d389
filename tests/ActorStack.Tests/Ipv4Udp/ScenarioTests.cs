using System.Diagnostics;
using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Tests.Engine;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>
/// Whole scenarios run by the SimulationActor on the simulation engine: conservation of frames, and a capture read back
/// by tshark. One seed, one run: every count below is the same every run, so it is pinned exactly.
/// </summary>
public class ScenarioTests() : EngineKit("scenario")
{

    private static string ScenarioText(long count, int backlog, string capture = "", int ratep = 0) => $$"""
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
            # ratep 0: at line rate (14.88 Mpps of 64-byte frames at 10 Gbit/s), the overload the conservation test counts.
            workloads = [
              { type = pktgen, host = sender, device = eth0, count = {{count}}, pkt_size = 64, ratep = {{ratep}}, flows = 8,
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

    private Tally TallyOf(SimulationStarted sim)
    {
        var gen = Driver.Ask<PktgenStatus>(sim.Pktgens.Single(), GetWorkloadStatus.Instance);
        var wire = Driver.Ask<WireStats>(sim.Wires.Single(), GetWireStats.Instance);
        long read = 0;
        foreach (var s in sim.Sinks) read += Driver.Ask<SinkStatus>(s, GetWorkloadStatus.Instance).Datagrams;
        var rx = Driver.Ask<HostStats>(sim.Hosts["receiver"], GetStats.Instance);
        return new Tally(gen.Sent, gen.TxDropped, wire.AToB, wire.Dropped, read, rx.Sockets.Sum(s => (long)s.RecvQueueDatagrams), rx, gen.Done);
    }

    private SimulationStarted Start(string text, string name)
        => Driver.Ask<SimulationStarted>(Sys.ActorOf(SimulationActor.Props(StackConfig.Load(text)), name), StartSimulation.Instance);

    /// <summary>
    /// Runs the simulation in steps of 10 ms of simulated time until pktgen is done and every frame it put on the wire
    /// is read, queued or counted as dropped, with every backlog empty.
    /// </summary>
    private Tally RunToQuiet(SimulationStarted sim)
    {
        Tally t = null!;
        Driver.RunUntil(() =>
        {
            t = TallyOf(sim);
            return t.Done && t.Sent - t.TxDropped - t.WireDropped == t.Accounted && t.Receiver.Softnet.All(c => c.BacklogLen == 0);
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(10), "pktgen done and every frame accounted for");
        return t;
    }

    [Fact]
    public void Conservation_OverloadedReceiver_EveryFrameReadQueuedOrInExactlyOneDropCounter()
    {
        var sim = Start(ScenarioText(20000, backlog: 32), "sim");
        var t = RunToQuiet(sim);

        Assert.Equal(20000, t.Sent);
        Assert.Equal(0, t.TxDropped);
        // The wire's own overflow is counted per direction in WireStats (SIM_WIRE_OVERFLOW), outside any host,
        // so the receiver's books start at what left the wire.
        Assert.Equal(t.Sent, t.WireDelivered + t.WireDropped);
        Assert.Equal(0, t.WireDropped);
        Assert.Equal(572, t.Read);                 // the overloaded receiver: what the two sinks read ...
        Assert.Equal(19428, t.Receiver.TotalDrops); // ... and what it dropped
        Assert.Equal(0, t.Queued);
        Assert.Equal(TimeSpan.FromMilliseconds(10), Engine.Now); // 20,000 frames at line rate (1.35 ms), the books close at the first 10 ms step
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
        Assert.Equal(331, s.Mib("Udp")["NoPorts"]); // port 9002 has no socket
        Assert.Equal(508, s.Mib("Udp")["RcvbufErrors"]); // the sink on 9000 has rcvbuf 2048
        Assert.Equal(18421, s.DropsOf(DropReason.FULL_RING));
        Assert.Equal(18421, device);
        Assert.Equal(168, s.DropsOf(DropReason.CPU_BACKLOG)); // netdev_max_backlog 32
        Assert.Equal(168, softnet);
        Assert.Equal(331 + 508, snmp);
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
            var sim = Start(ScenarioText(300, backlog: 1000, capture, ratep: 200_000), "sim-capture"); // paced: every frame reaches the tap
            var t = RunToQuiet(sim);
            var flushed = await Ask<CaptureFlushed>(sim.Capture!, FlushCapture.Instance);
            Assert.Equal(0, flushed.Dropped);
            Assert.Equal(300, flushed.Frames);
            Assert.Equal(75, flushed.Comments);
            Assert.Equal(225, t.Read);
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
