using System.Buffers.Binary;
using System.Diagnostics;
using ActorStack.Cli;
using ActorStack.Config;
using ActorStack.Hardware.Capture;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Capture;

/// <summary>
/// Captures of a seeded run on the virtual clock (issue 15, "pcapng captures"): h1 pings h2 over a 1 ms wire that loses
/// 30 % from h1 to h2 (netem, seed 1), fault rule 0 drops the second ICMP message from h2 to h1, the cable is cut at
/// 2.5 s and restored at 3.5 s, and a UDP echo client asks a port nobody listens on (h2 drops it, NO_SOCKET, and
/// answers port unreachable). Two capture points: <c>device = all</c> as pcapng, h2/eth0 as classic pcap with the
/// nanosecond magic. The pcapng holds an interface per device (<c>host/device</c>, ns), each frame with its direction,
/// and the causes as comments at their instants; the same seed gives the same bytes.
/// </summary>
public sealed class PcapNgCaptureRunTests
{
    private const long Epoch = 1_767_225_600_000_000_000L; // actorstack.run.epoch 2026-01-01, in ns since 1970

    private static string Scenario(string dir) => $$"""
        actorstack.device-defaults.rx-usecs = 0   # the timeline below: each frame interrupts at once (no RX moderation)
        actorstack.scenario {
          hosts {
            h1 { devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"] } } }
            h2 { devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"] } } }
          }
          wires = [ { a = "h1/eth0", b = "h2/eth0", delay = 1ms, netem-a-to-b = "loss 30%" } ]
          faults = [ { wire = "h1/eth0", direction = b-to-a, match = { proto = icmp }, nth = 2, action = drop } ]
          schedule = [ { at = 2500ms, action = cut, wire = "h1/eth0" }, { at = 3500ms, action = restore, wire = "h1/eth0" } ]
          workloads = [
            { type = ping, host = h1, dst = "10.0.0.2", count = 6, interval = 1s }
            { type = udp-echo-client, host = h1, server = "10.0.0.2:9", count = 2, interval = 100ms, timeout = 100ms }
          ]
          capture = [
            { device = all, file = "{{dir}}/all.pcapng" }
            { host = h2, device = eth0, file = "{{dir}}/h2.pcap", format = pcap, tstamp-precision = nano }
          ]
        }
        """;

    private static async Task<(byte[] PcapNg, byte[] Pcap, string Out)> Run(DirectoryInfo dir)
    {
        string file = Path.Combine(dir.FullName, "cap.hocon");
        await File.WriteAllTextAsync(file, Scenario(dir.FullName));
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = await Runner.Execute(["run", "--config", file, "--quiet"], o, e);
        Assert.True(rc == 0, o + "\n" + e);
        return (await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "all.pcapng")),
                await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "h2.pcap")), o.ToString());
    }

    // What the pcapng must hold, block by block: interface, ns after the epoch, direction, length, comment.
    private const string In = "in", Out = "out", None = "-";
    private static readonly (string If, long Ns, string Dir, int Len, string? Comment)[] Expected =
    [
        ("h1/eth0", 0, Out, 42, null),                          // ARP who-has 10.0.0.2
        ("h2/eth0", 1_000_068, In, 42, null),                   // + 1 ms delay + 67.2 ns of line time (a 60-byte minimum frame)
        ("h2/eth0", 1_000_068, Out, 42, null),                  // ARP reply
        ("h1/eth0", 2_000_136, In, 42, null),
        ("h1/eth0", 2_000_136, Out, 98, null),                  // echo request 1
        ("h1/eth0", 2_000_136, Out, 106, null),                 // UDP echo request 1 to port 9
        ("h2/eth0", 2_000_234, In, 98, "netem loss (SIM_NETEM_LOSS) on wire h1/eth0-h2/eth0 a-to-b"), // lost when its last bit left (97.6 ns)
        ("h2/eth0", 3_000_338, In, 106, null),                  // the UDP frame after it (104 ns more)
        ("h2/eth0", 3_000_338, In, 106, "SKB_DROP_REASON_NO_SOCKET at udp"),
        ("h2/eth0", 3_000_338, Out, 134, null),                 // ICMP port unreachable
        ("h1/eth0", 4_000_465, In, 134, null),
        ("h1/eth0", 100_000_000, Out, 106, null),               // UDP echo request 2
        ("h2/eth0", 101_000_104, In, 106, null),
        ("h2/eth0", 101_000_104, In, 106, "SKB_DROP_REASON_NO_SOCKET at udp"),
        ("h2/eth0", 101_000_104, Out, 134, null),
        ("h1/eth0", 101_000_231, In, 134, "fault rule 0: drop (SIM_FAULT_RULE) on wire h1/eth0-h2/eth0 b-to-a"), // the 2nd ICMP b-to-a
        ("h1/eth0", 1_000_000_000, Out, 98, null),              // echo request 2 and its reply
        ("h2/eth0", 1_001_000_098, In, 98, null),
        ("h2/eth0", 1_001_000_098, Out, 98, null),
        ("h1/eth0", 1_002_000_196, In, 98, null),
        ("h1/eth0", 2_000_000_000, Out, 98, null),              // echo request 3 and its reply
        ("h2/eth0", 2_001_000_098, In, 98, null),
        ("h2/eth0", 2_001_000_098, Out, 98, null),
        ("h1/eth0", 2_002_000_196, In, 98, null),
        ("h1/eth0", 2_500_000_000, None, 0, "cable cut: carrier off at both ends on wire h1/eth0-h2/eth0"),
        ("h2/eth0", 2_500_000_000, None, 0, "cable cut: carrier off at both ends on wire h1/eth0-h2/eth0"),
        ("h1/eth0", 3_000_000_000, Out, 42, "SKB_DROP_REASON_QDISC_DROP at eth0/noop"), // echo request 4's ARP request: no carrier, noop qdisc
        ("h1/eth0", 3_500_000_000, None, 0, "cable restored: carrier on at both ends on wire h1/eth0-h2/eth0"),
        ("h2/eth0", 3_500_000_000, None, 0, "cable restored: carrier on at both ends on wire h1/eth0-h2/eth0"),
        ("h1/eth0", 4_000_000_000, Out, 42, null),              // ARP again after retrans_time (1 s)
        ("h2/eth0", 4_001_000_068, In, 42, null),
        ("h2/eth0", 4_001_000_068, Out, 42, null),
        ("h1/eth0", 4_002_000_136, In, 42, null),
        ("h1/eth0", 4_002_000_136, Out, 98, null),              // echo requests 4 (queued in arp_queue) and 5
        ("h1/eth0", 4_002_000_136, Out, 98, null),
        ("h2/eth0", 4_002_000_234, In, 98, "netem loss (SIM_NETEM_LOSS) on wire h1/eth0-h2/eth0 a-to-b"),
        ("h2/eth0", 4_002_000_332, In, 98, "netem loss (SIM_NETEM_LOSS) on wire h1/eth0-h2/eth0 a-to-b"),
        ("h1/eth0", 5_000_000_000, Out, 98, null),              // echo request 6 and its reply
        ("h2/eth0", 5_001_000_098, In, 98, null),
        ("h2/eth0", 5_001_000_098, Out, 98, null),
        ("h1/eth0", 5_002_000_196, In, 98, null),
    ];

    [Fact]
    public async Task DeviceAll_Pcapng_HasInterfacesDirectionsNsTimesAndCauses_SameBytesEveryRun()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-pcapng-");
        try
        {
            var a = await Run(dir);
            var b = await Run(dir);
            Assert.Equal(a.PcapNg, b.PcapNg);
            Assert.Equal(a.Pcap, b.Pcap);
            Assert.Contains("capture: 30 frames written to", a.Out);
            Assert.Contains("all.pcapng, 11 with a cause", a.Out);
            Assert.Contains("capture: 14 frames written to", a.Out);

            var f = PcapNgReader.Read(a.PcapNg);
            Assert.Equal("ActorStack", f.Application);
            Assert.Equal(["h1/lo", "h1/eth0", "h2/lo", "h2/eth0"], f.Interfaces.Select(i => i.Name));
            Assert.Equal(["h1 lo ifindex 1, loopback", "h1 eth0 ifindex 2, link/ether 02:00:00:00:00:01, 10000Mb/s, 10.0.0.1/24",
                          "h2 lo ifindex 1, loopback", "h2 eth0 ifindex 2, link/ether 02:00:00:00:00:02, 10000Mb/s, 10.0.0.2/24"],
                f.Interfaces.Select(i => i.Description));
            Assert.All(f.Interfaces, i => Assert.Equal((PcapNgWriter.TsresolNanoseconds, PcapNgWriter.LinkTypeEthernet), (i.Tsresol, i.LinkType)));

            var got = f.Packets.Select(p => (f.Interface(p.InterfaceId).Name!, p.UnixNs - Epoch,
                p.Direction switch { PacketDirection.Inbound => In, PacketDirection.Outbound => Out, _ => None }, p.Data.Length,
                p.Comments.SingleOrDefault())).ToArray();
            Assert.Equal(Expected.Length, got.Length);
            for (int i = 0; i < Expected.Length; i++) Assert.Equal(Expected[i], got[i]);
            // Frames a host received as unicast carry the reception type; ARP requests are broadcasts.
            Assert.Equal(ReceptionType.Broadcast, f.Packets[1].Reception);
            Assert.Equal(ReceptionType.Unicast, f.Packets[3].Reception);
            Assert.Equal(ReceptionType.NotSpecified, f.Packets[0].Reception);

            // The classic pcap of h2/eth0: nanosecond magic, the frames h2/eth0's tap saw (no causes), to the ns.
            Assert.Equal(PcapWriter.MagicNanoseconds, BinaryPrimitives.ReadUInt32LittleEndian(a.Pcap));
            var tapped = Expected.Where(x => x.If == "h2/eth0" && x.Comment is null).ToArray();
            var classic = PcapReader.Read(new MemoryStream(a.Pcap)).ToArray();
            Assert.Equal(tapped.Length, classic.Length);
            Assert.Equal(tapped.Select(x => ((Epoch + x.Ns) / 100, x.Len)), classic.Select(r => (r.UtcTicks - DateTime.UnixEpoch.Ticks, r.Frame.Length)));
            Assert.Equal(1_000_068u, BinaryPrimitives.ReadUInt32LittleEndian(a.Pcap.AsSpan(24 + 4))); // the first record's ns
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public async Task RunOut_CopiesEveryCapture_AndSummaryListsThem()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-pcapng-out-");
        try
        {
            string file = Path.Combine(dir.FullName, "cap.hocon");
            await File.WriteAllTextAsync(file, Scenario(dir.FullName));
            string outDir = Path.Combine(dir.FullName, "out");
            var o = new StringWriter();
            int rc = await Runner.Execute(["run", "--config", file, "--quiet", "--out", outDir], o, new StringWriter());
            Assert.Equal(0, rc);
            Assert.Contains("all.pcapng, h2.pcap", o.ToString());
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "all.pcapng")), await File.ReadAllBytesAsync(Path.Combine(outDir, "all.pcapng")));
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "h2.pcap")), await File.ReadAllBytesAsync(Path.Combine(outDir, "h2.pcap")));
            using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "summary.json")));
            var caps = json.RootElement.GetProperty("captures").EnumerateArray()
                .Select(c => (c.GetProperty("file").GetString(), c.GetProperty("frames").GetInt64(), c.GetProperty("comments").GetInt64())).ToArray();
            Assert.Equal([("all.pcapng", 30L, 11L), ("h2.pcap", 14L, 0L)], caps);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public async Task Sweep_WritesEachRunsCapturesIntoItsDirectory()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-pcapng-sweep-");
        try
        {
            string file = Path.Combine(dir.FullName, "cap.hocon");
            await File.WriteAllTextAsync(file, Scenario(dir.FullName));
            string outDir = Path.Combine(dir.FullName, "sweep");
            int rc = await Runner.Execute(["sweep", "--config", file, "--seeds", "1..2", "--metric", "drops", "--parallel", "2", "--out", outDir],
                new StringWriter(), new StringWriter());
            Assert.Equal(0, rc);
            Assert.False(File.Exists(Path.Combine(dir.FullName, "all.pcapng"))); // every run writes its own
            var one = PcapNgReader.Read(await File.ReadAllBytesAsync(Path.Combine(outDir, "runs", "0-seed1", "capture.pcapng")));
            var two = PcapNgReader.Read(await File.ReadAllBytesAsync(Path.Combine(outDir, "runs", "0-seed2", "capture.pcapng")));
            Assert.Equal(["h1/lo", "h1/eth0", "h2/lo", "h2/eth0"], two.Interfaces.Select(i => i.Name));
            Assert.Equal(Expected.Length, one.Packets.Length); // seed 1 is the run above
            Assert.NotEqual(one.Packets.Count(p => p.Comments.Any(c => c.StartsWith("netem loss", StringComparison.Ordinal))),
                            two.Packets.Count(p => p.Comments.Any(c => c.StartsWith("netem loss", StringComparison.Ordinal))));
            Assert.Equal(PcapWriter.MagicNanoseconds, BinaryPrimitives.ReadUInt32LittleEndian(
                await File.ReadAllBytesAsync(Path.Combine(outDir, "runs", "0-seed2", "capture-1.pcap"))));
        }
        finally { dir.Delete(recursive: true); }
    }

    [RequiresToolFact("tshark")]
    public async Task Tshark_ReadsInterfaceNamesDirectionsAndCauses()
    {
        var dir = Directory.CreateTempSubdirectory("actorstack-pcapng-tshark-");
        try
        {
            await Run(dir);
            var lines = Tshark(Path.Combine(dir.FullName, "all.pcapng"),
                "-e", "frame.interface_name", "-e", "frame.packet_flags_direction", "-e", "frame.time_epoch", "-e", "frame.comment");
            Assert.Equal(Expected.Length, lines.Length);
            for (int i = 0; i < lines.Length; i++)
            {
                var f = lines[i].Split('\t');
                Assert.Equal(4, f.Length);
                Assert.Equal(Expected[i].If, f[0]);
                Assert.Equal(Expected[i].Dir switch { In => "0x00000001", Out => "0x00000002", _ => "" }, f[1]);
                long ns = Epoch + Expected[i].Ns;
                Assert.Equal($"{ns / 1_000_000_000}.{ns % 1_000_000_000:D9}", f[2]);
                Assert.Equal(Expected[i].Comment ?? "", f[3]);
            }
            var names = lines.Select(l => l.Split('\t')[0]).ToHashSet();
            Assert.Equal(["h1/eth0", "h2/eth0"], names.Order());
            var comments = lines.Select(l => l.Split('\t')[3]).Where(c => c.Length > 0).ToList();
            Assert.Contains("SKB_DROP_REASON_NO_SOCKET at udp", comments);
            Assert.Contains("netem loss (SIM_NETEM_LOSS) on wire h1/eth0-h2/eth0 a-to-b", comments);
            Assert.Contains("cable cut: carrier off at both ends on wire h1/eth0-h2/eth0", comments);
            Assert.Contains("fault rule 0: drop (SIM_FAULT_RULE) on wire h1/eth0-h2/eth0 b-to-a", comments);

            // The classic pcap: tshark reads the nanosecond magic.
            var classic = Tshark(Path.Combine(dir.FullName, "h2.pcap"), "-e", "frame.time_epoch");
            Assert.Equal("1767225600.001000068", classic[0]);
        }
        finally { dir.Delete(recursive: true); }
    }

    private static string[] Tshark(string file, params string[] fields)
    {
        var psi = new ProcessStartInfo("tshark") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-r", file, "-T", "fields" }.Concat(fields)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(30_000), "tshark did not finish");
        Assert.True(p.ExitCode == 0, $"tshark exit {p.ExitCode}: {stderr.Result}");
        return [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];
    }

    [Fact]
    public void Config_ListForm_DeviceAll_FormatAndPrecision()
    {
        const string Hosts = """
            hosts {
              h1 { devices { eth0 { mac = "02:00:00:00:00:01" }
                             eth1 { mac = "02:00:00:00:00:03" } } }
              h2 { devices { eth0 { mac = "02:00:00:00:00:02" } } }
            }
            """;
        var s = StackConfig.Load($$"""
            actorstack.scenario {
              {{Hosts}}
              capture = [
                { host = h1, device = eth1, file = "a.pcapng" }
                { device = all, file = "b.pcap", format = pcap }
                { host = h2, device = any, file = "c.pcap", format = pcap, tstamp-precision = nano, snaplen = 128 }
                { enabled = off, host = h2, device = eth0, file = "d.pcapng" }
              ]
            }
            """);
        Assert.Equal(3, s.Captures.Length);
        Assert.Equal(("h1", "eth1", "a.pcapng", CaptureFormat.PcapNg, true, "actorstack.scenario.capture[0]"),
            (s.Capture.Host, s.Capture.Device, s.Capture.File, s.Capture.Format, s.Capture.Nanoseconds, s.Capture.Key));
        Assert.Equal((CaptureFormat.Pcap, false, "actorstack.scenario.capture[1]"), (s.Captures[1].Format, s.Captures[1].Nanoseconds, s.Captures[1].Key));
        Assert.Equal((CaptureFormat.Pcap, true, 128), (s.Captures[2].Format, s.Captures[2].Nanoseconds, s.Captures[2].SnapLength));
        Assert.True(s.Captures[1].Captures("h2", "eth0") && s.Captures[1].Captures("h1", "lo"));
        Assert.True(s.Captures[0].Captures("h1", "eth1") && !s.Captures[0].Captures("h1", "eth0") && !s.Captures[0].Captures("h2", "eth1"));
        Assert.True(s.Captures[2].Captures("h2", "lo") && !s.Captures[2].Captures("h1", "eth0"));

        // The single form keeps working, pcapng by default.
        var one = StackConfig.Load($$"""actorstack.scenario { {{Hosts}}{{"\n"}}capture { host = h2, device = eth0, file = "x.pcapng" } }""");
        Assert.Equal(("h2", CaptureFormat.PcapNg, true, "actorstack.scenario.capture"), (one.Capture.Host, one.Capture.Format, one.Capture.Nanoseconds, one.Capture.Key));
        Assert.Single(one.Captures);
        Assert.Empty(one.MoreCaptures);

        string Fails(string capture) => Assert.Throws<StackConfigException>(() =>
            StackConfig.Load($$"""actorstack.scenario { {{Hosts}}{{"\n"}}capture = {{capture}} }""")).Message;
        Assert.Contains("actorstack.scenario.capture[1].host = \"h1\": device = all captures every device of every host: leave host out",
            Fails("""[{ host = h1, device = eth0, file = "a" }, { host = h1, device = all, file = "b" }]"""));
        Assert.Contains("actorstack.scenario.capture[1].file = \"a\": already written by actorstack.scenario.capture[0]",
            Fails("""[{ host = h1, device = eth0, file = "a" }, { host = h2, device = eth0, file = "a" }]"""));
        Assert.Contains("actorstack.scenario.capture[0].format = \"pcapng2\": must be pcapng or pcap",
            Fails("""[{ host = h1, device = eth0, file = "a", format = pcapng2 }]"""));
        Assert.Contains("actorstack.scenario.capture[0].tstamp-precision = \"pico\": must be nano or micro",
            Fails("""[{ host = h1, device = eth0, file = "a", tstamp-precision = pico }]"""));
        Assert.Contains("actorstack.scenario.capture[0].device = \"eth7\": host 'h1' has no such device",
            Fails("""[{ host = h1, device = eth7, file = "a" }]"""));
        Assert.Contains("actorstack.scenario.capture[0].formt: unknown key (did you mean 'format'?)",
            Fails("""[{ host = h1, device = eth0, file = "a", formt = pcap }]"""));
        Assert.Contains("actorstack.scenario.capture = \"x\": must be an object or a list of objects", Fails("\"x\""));
    }
}
