using System.Diagnostics;
using Akka.Actor;
using ActorStack.Actors.Capture;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.EndToEnd;

/// <summary>
/// A capture (<c>tcpdump -i eth0</c> on r1) of a routed ping from a to b, read back by tshark with IP checksum
/// checking on: both directions are there (ARP and ICMP), and every IP header and ICMP checksum is good.
/// Wireshark's checksum status values are 0 = Bad, 1 = Good, 2 = Unverified.
/// </summary>
public class RoutedCaptureTests() : EndToEndKit("e2e-capture")
{
    [RequiresToolFact("tshark")]
    public async Task Capture_RoutedPingOnRouterDevice_TsharkSeesBothDirectionsWithGoodChecksums()
    {
        var n = await BuildRouted();
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-e2e-{Guid.NewGuid():N}.pcap");
        try
        {
            var tap = Sys.ActorOf(PcapTapActor.Props(file, 65535), "pcap");
            await AskRun<PackChanged>(n.R1.Host, new DevAddPack(new PacketTypeRegistration(EtherType.All, tap, "eth0")));
            var output = Probe();
            Sys.ActorOf(PingActor.Props(new PingSettings("a", Ip("10.0.3.1"), Count: 1), n.A.Host, output.Ref));
            Settle(); // cables without delay, no timer on the path: the one echo and its reply, each frame its wire time
            var st = await output.FishForMessageAsync<PingStatus>(_ => true, Wait);
            Assert.Equal((1L, 1L), (st.Transmitted, st.Received));
            var flushed = await AskRun<CaptureFlushed>(tap, FlushCapture.Instance);
            Assert.Equal(0, flushed.Dropped);

            var lines = await Tshark(file, "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=,",
                "-e", "eth.src", "-e", "eth.dst", "-e", "arp.opcode", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.ttl",
                "-e", "icmp.type", "-e", "ip.checksum.status", "-e", "icmp.checksum.status");

            const string A = "02:00:00:00:00:01", R1 = "02:00:00:00:00:0b";
            Assert.Equal(
            [
                $"{A},ff:ff:ff:ff:ff:ff,1,,,,,,",                     // in:  who has 10.0.1.254 tell 10.0.1.1
                $"{R1},{A},2,,,,,,",                                   // out: 10.0.1.254 is at r1's eth0
                $"{A},{R1},,10.0.1.1,10.0.3.1,64,8,1,1",              // in:  echo request, before forwarding
                $"{R1},{A},,10.0.3.1,10.0.1.1,62,0,1,1",              // out: echo reply, TTL less r2's and r1's hop
            ], lines);
            Assert.Equal(lines.Count, flushed.Frames);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<List<string>> Tshark(string file, params string[] args)
    {
        var psi = new ProcessStartInfo("tshark") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-r");
        psi.ArgumentList.Add(file);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        Assert.True(p.ExitCode == 0, $"tshark exit {p.ExitCode}: {await stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
    }
}
