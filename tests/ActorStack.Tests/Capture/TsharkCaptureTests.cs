using System.Diagnostics;
using System.Globalization;
using ActorStack.Hardware.Capture;
using ActorStack.Hardware.Pktgen;
using ActorStack.Config;
using ActorStack.Tests.Support;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Capture;

/// <summary>
/// Reads a capture of pktgen frames back with tshark: the file is a real pcap, every checksum is good and
/// the times are the simulation's to the microsecond. Wireshark's checksum status values are
/// 0 = Bad, 1 = Good, 2 = Unverified (PROTO_CHECKSUM_E_*); a last frame with a corrupted UDP checksum
/// proves tshark really verified them.
/// </summary>
public class TsharkCaptureTests
{
    [RequiresToolFact("tshark")]
    public void Tshark_PcapOfPktgenFrames_ShowsLengthsGoodChecksumsAndMicrosecondTimes()
    {
        const string Good = "1", Bad = "0";
        var t0 = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).UtcTicks + 1_234_567;
        int[] sizes = [60, 64, 1514, 9014];
        var expected = new List<(int Len, string UdpStatus, decimal Epoch)>();
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-pktgen-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var w = new PcapWriter(File.Create(file)))
            {
                int k = 0;
                foreach (var size in sizes)
                {
                    var g = new PktgenGenerator(new PktgenSettings { PktSize = size, Flows = 3, UdpDstMin = 5000, UdpDstMax = 5002 });
                    for (int i = 0; i < 3; i++, k++)
                    {
                        long ticks = t0 + k * 12_345L;   // 1.2345 ms apart: the .5 us must be truncated
                        w.WritePacket(g.Next(ticks), ticks);
                        long us = (ticks - DateTime.UnixEpoch.Ticks) / 10;
                        expected.Add((size, Good, us / 1_000_000 + us % 1_000_000 / 1_000_000m));
                    }
                }
                var corrupt = new PktgenGenerator(new PktgenSettings()).Next(t0);
                corrupt[40] ^= 0x01;   // UDP checksum
                w.WritePacket(corrupt, t0);
                long us0 = (t0 - DateTime.UnixEpoch.Ticks) / 10;
                expected.Add((64, Bad, us0 / 1_000_000 + us0 % 1_000_000 / 1_000_000m));
            }

            var psi = new ProcessStartInfo("tshark")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "-r", file, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                         "-T", "fields", "-e", "frame.len", "-e", "ip.checksum.status", "-e", "udp.checksum.status",
                         "-e", "frame.time_epoch" })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(30_000), "tshark did not finish");
            Assert.True(p.ExitCode == 0, $"tshark exit {p.ExitCode}: {stderr.Result}");

            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(expected.Count, lines.Length);
            for (int i = 0; i < lines.Length; i++)
            {
                var f = lines[i].TrimEnd('\r').Split('\t');
                Assert.Equal(4, f.Length);
                Assert.Equal(expected[i].Len.ToString(CultureInfo.InvariantCulture), f[0]);
                Assert.Equal(Good, f[1]);
                Assert.Equal(expected[i].UdpStatus, f[2]);
                Assert.Equal(expected[i].Epoch, decimal.Parse(f[3], CultureInfo.InvariantCulture));
            }
        }
        finally
        {
            File.Delete(file);
        }
    }
}
