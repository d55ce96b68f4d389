using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Bench;

/// <summary>
/// The transmit benchmarks (issues 3 and 4), measured from outside the stack with the wall clock:
///   udp-rtt    [--inflight N] [--size BYTES] [--wire]                       request/response through a switch
///   udp-stream [--sockets N] [--batch N] [--size BYTES] [--cpus N] [--switch] [--send-only]   64-byte datagrams, one way
///   frag       [--sockets N] [--batch N] [--flood N]                        60,000-byte datagrams over MTU 1500, then a fragment flood
/// and for all: [--seconds N] (measured, default 10) [--warmup N] (seconds before measuring, default 2).
/// </summary>
public static class TxBench
{
    private sealed record Options(int Seconds, int InFlight, int Size, int Sockets, int Batch, bool Switch, int Flood, int Cpus)
    {
        /// <summary>udp-stream without a cable: the client's NIC frees every frame at once (SIM_LINK_UNATTACHED), so only the send path runs.</summary>
        public bool SendOnly { get; init; }
        /// <summary>Seconds run before measuring (JIT and tiered compilation, ARP).</summary>
        public int Warmup { get; init; } = 2;
    }

    /// <summary>Set by <c>--alloc-profile</c>: sampled allocations by type over the measured seconds.</summary>
    private static AllocProfile? Profile;

    public static async Task<int> Run(string mode, string[] args)
    {
        int seconds = 10, inFlight = 1, size = mode == "frag" ? 60000 : mode == "udp-rtt" ? 64 : 64, sockets = mode == "frag" ? 1 : 2;
        int batch = mode == "frag" ? 4 : 64, flood = 100_000, cpus = 2;
        bool sw = mode == "udp-rtt", sendOnly = false;
        int warmup = 2;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--seconds": seconds = int.Parse(Next()); break;
                case "--inflight": inFlight = int.Parse(Next()); break;
                case "--size": size = int.Parse(Next()); break;
                case "--sockets": sockets = int.Parse(Next()); break;
                case "--batch": batch = int.Parse(Next()); break;
                case "--flood": flood = int.Parse(Next()); break;
                case "--cpus": cpus = int.Parse(Next()); break;
                case "--switch": sw = true; break;
                case "--wire": sw = false; break;
                case "--send-only": sendOnly = true; break;
                case "--warmup": warmup = int.Parse(Next()); break;
                case "--alloc-profile": Profile = new AllocProfile(); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        var o = new Options(seconds, inFlight, size, sockets, batch, sw, flood, cpus) { SendOnly = sendOnly, Warmup = warmup };
        return mode switch
        {
            "udp-rtt" => await UdpRtt(o),
            "udp-stream" => await UdpStream(o),
            _ => await Frag(o),
        };
    }

    // ------------------------------------------------------------------ topology

    private const string ClientMac = "02:00:00:00:00:01", ServerMac = "02:00:00:00:00:02";
    private static readonly Ipv4Address ServerIp = Ipv4Address.Parse("10.0.0.2");

    /// <summary>Two hosts, cabled directly or through a 2-port switch; <paramref name="workloads"/> is HOCON for the workload list.</summary>
    private static string Scenario(bool viaSwitch, int serverCpus, string workloads, bool sendOnly = false) => $$"""
        actorstack.scenario {
          hosts {
            client { cpus = 1, devices { eth0 { mac = "{{ClientMac}}", addresses = ["10.0.0.1/24"] } }
                     {{(sendOnly ? $"neighbours = [\"10.0.0.2 lladdr {ServerMac} dev eth0\"]" : "")}} }
            server { cpus = {{serverCpus}}, devices { eth0 { mac = "{{ServerMac}}", addresses = ["10.0.0.2/24"]{{(serverCpus > 1 ? $", rps-cpus = \"{(1 << serverCpus) - 1:x}\"" : "")}}, rx-ring = 4096 } } }
          }
          {{(viaSwitch ? "switches { sw1 { ports = 2 } }" : "")}}
          wires = {{(sendOnly ? "[]" : viaSwitch
              ? "[ { a = \"client/eth0\", b = \"sw1/port1\" }, { a = \"server/eth0\", b = \"sw1/port2\" } ]"
              : "[ { a = \"client/eth0\", b = \"server/eth0\" } ]")}}
          workloads = [ {{workloads}} ]
        }
        actorstack.sysctl.net.core.rmem_max = 4194304
        akka.loglevel = WARNING
        """;

    private sealed record Sim(ActorSystem System, IActorRef Client, IActorRef Server, SimulationStarted Started, SimulationTopology Topology);

    /// <summary>Builds and starts the scenario; null (after printing why, as the CLI does) when the simulation answers <see cref="CommandFailed"/>.</summary>
    private static async Task<Sim?> Start(string scenario)
    {
        if (await BenchSim.Start(scenario) is not { } bs) return null;
        var (system, sim, started) = (bs.System, bs.Simulation, bs.Started);
        var topo = await sim.Ask<SimulationTopology>(GetSimulationTopology.Instance, TimeSpan.FromSeconds(10));
        return new Sim(system, started.Hosts["client"], started.Hosts["server"], started, topo);
    }

    private static double RssMiB => Process.GetCurrentProcess().WorkingSet64 / 1048576.0;
    private static double HeapMiB => GC.GetTotalMemory(false) / 1048576.0;

    private static string Drops(HostStats s) => s.Drops.IsEmpty ? "none"
        : string.Join(", ", s.Drops.Select(d => $"{d.Site.Reason}@{d.Site.Location}={d.Packets:N0}"));

    private static string Mib(HostStats s, string mib, params string[] names)
        => string.Join(" ", names.Select(n => $"{n}={s.Mib(mib)[n]:N0}"));

    private static async Task<HostStats> Stats(IActorRef host) => await host.Ask<HostStats>(GetStats.Instance, TimeSpan.FromSeconds(10));

    // ------------------------------------------------------------------ udp-rtt

    private static async Task<int> UdpRtt(Options o)
    {
        var scenario = Scenario(o.Switch, 1, """{ type = udp-echo-server, host = server, bind = "0.0.0.0:7" }""");
        if (await Start(scenario) is not { } sim) return 1;
        var client = sim.System.ActorOf(Props.Create(() => new RttClient(sim.Client, ServerIp, 7, o.InFlight, Math.Max(8, o.Size))), "rtt-client");
        await Task.Delay(TimeSpan.FromSeconds(o.Warmup)); // warm-up: JIT, tiered compilation, ARP
        client.Tell(RttClient.Reset.Instance);
        Profile?.Start();
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        Console.WriteLine($"mode udp-rtt, {(o.Switch ? "through a switch" : "direct wire")}, {o.InFlight} in flight, {o.Size}-byte requests, " +
                          $"{Environment.ProcessorCount} cores, {o.Seconds}s");
        Console.WriteLine("   t    transactions/s  median-us  p99-us   rss-MiB");
        long prev = 0;
        RttClient.Report r = null!;
        for (int t = 1; t <= o.Seconds; t++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            r = await client.Ask<RttClient.Report>(RttClient.GetReport.Instance, TimeSpan.FromSeconds(10));
            Console.WriteLine($"{t,4} {r.Transactions - prev,17:N0} {r.MedianUs,10:F1} {r.P99Us,7:F1} {RssMiB,9:F1}");
            prev = r.Transactions;
        }
        double elapsed = sw.Elapsed.TotalSeconds;
        r = await client.Ask<RttClient.Report>(RttClient.GetReport.Instance, TimeSpan.FromSeconds(10));
        long alloc1 = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / Math.Max(1, r.Transactions);
        Console.WriteLine($"result: {r.Transactions / elapsed:N0} transactions/s ({cpu:F1} us of CPU per transaction), RTT median {r.MedianUs:F1} us, p99 {r.P99Us:F1} us, " +
                          $"max {r.MaxUs:F0} us; {r.Errors} send/receive errors; " +
                          $"{(alloc1 - alloc0) / (double)Math.Max(1, r.Transactions):F0} bytes allocated per transaction");
        Console.WriteLine("client drops: " + Drops(await Stats(sim.Client)) + "; server drops: " + Drops(await Stats(sim.Server)));
        Profile?.Print();
        await sim.System.Terminate();
        return 0;
    }

    /// <summary>
    /// A UDP client on a connected socket keeping <c>inFlight</c> requests outstanding: each answer is timed
    /// (Stopwatch, from the send call to the answer's arrival at the application) and its slot sends the next.
    /// </summary>
    private sealed class RttClient : ReceiveActor
    {
        public sealed record Reset { public static readonly Reset Instance = new(); }
        public sealed record GetReport { public static readonly GetReport Instance = new(); }
        public sealed record Report(long Transactions, double MedianUs, double P99Us, double MaxUs, long Errors);

        private const int Bins = 1_000_000; // 0.1 us bins up to 100 ms
        private readonly int[] _hist = new int[Bins + 1];
        private readonly long[] _sentAt;
        private readonly byte[][] _payloads;
        private IActorRef _socket = ActorRefs.Nobody;
        private long _n, _errors, _maxTicks;
        private static readonly double TicksPerBin = Stopwatch.Frequency / 10_000_000.0;

        public RttClient(IActorRef host, Ipv4Address server, ushort port, int inFlight, int size)
        {
            _sentAt = new long[inFlight];
            _payloads = Enumerable.Range(0, inFlight).Select(_ => new byte[size]).ToArray();
            Receive<SocketCreated>(c => { _socket = c.Socket; _socket.Tell(new Connect(server, port)); });
            Receive<SocketOk>(ok =>
            {
                if (ok.Command is not Connect) return;
                _socket.Tell(new Recv(64));
                var b = ImmutableArray.CreateBuilder<SendTo>(inFlight);
                for (int i = 0; i < inFlight; i++) b.Add(Request(i));
                _socket.Tell(new SendMany(b.MoveToImmutable()));
            });
            Receive<Sent>(_ => { });
            Receive<SentMany>(_ => { });
            Receive<CommandFailed>(f =>
            {
                _errors++;
                if (f.Command is Recv) _socket.Tell(new Recv(64));
            });
            Receive<Received>(OnReceived);
            Receive<Reset>(_ => { Array.Clear(_hist); _n = 0; _errors = 0; _maxTicks = 0; });
            Receive<GetReport>(_ => Sender.Tell(new Report(_n, Percentile(0.5), Percentile(0.99), _maxTicks / (Stopwatch.Frequency / 1e6), _errors)));
            host.Tell(new SocketCreate(SockType.Dgram));
        }

        private SendTo Request(int slot)
        {
            BinaryPrimitives.WriteInt32BigEndian(_payloads[slot], slot); // the slot's last request was answered: the buffer is free
            _sentAt[slot] = Stopwatch.GetTimestamp();
            return new SendTo(_payloads[slot]);
        }

        private void OnReceived(Received r)
        {
            _socket.Tell(new Recv(64));
            long now = Stopwatch.GetTimestamp();
            ImmutableArray<SendTo>.Builder? next = r.Datagrams.Length > 1 ? ImmutableArray.CreateBuilder<SendTo>(r.Datagrams.Length) : null;
            SendTo? one = null;
            foreach (var d in r.Datagrams)
            {
                if (d.Payload.Length < 4) { _errors++; continue; }
                int slot = BinaryPrimitives.ReadInt32BigEndian(d.Payload.Span);
                if ((uint)slot >= (uint)_sentAt.Length) { _errors++; continue; }
                long ticks = now - _sentAt[slot];
                _maxTicks = Math.Max(_maxTicks, ticks);
                _hist[(int)Math.Min(Bins, ticks / TicksPerBin)]++;
                _n++;
                var req = Request(slot);
                if (next is null) one = req;
                else next.Add(req);
            }
            if (one is not null) _socket.Tell(one);
            else if (next is { Count: > 0 }) _socket.Tell(new SendMany(next.ToImmutable()));
        }

        private double Percentile(double p)
        {
            if (_n == 0) return 0;
            long want = (long)Math.Ceiling(p * _n), seen = 0;
            for (int i = 0; i <= Bins; i++)
            {
                seen += _hist[i];
                if (seen >= want) return i / 10.0;
            }
            return Bins / 10.0;
        }
    }

    // ------------------------------------------------------------------ udp-stream

    private static async Task<int> UdpStream(Options o)
    {
        var sinks = string.Join(", ", Enumerable.Range(0, o.Sockets).Select(i =>
            $"{{ type = udp-sink, host = server, bind = \"0.0.0.0:{9000 + i}\", batch = 256, rcvbuf = 4194304 }}"));
        if (await Start(Scenario(o.Switch, o.Cpus, sinks, o.SendOnly)) is not { } sim) return 1;
        var senders = Enumerable.Range(0, o.Sockets).Select(i => sim.System.ActorOf(
            Props.Create(() => new StreamSender(sim.Client, ServerIp, (ushort)(9000 + i), o.Batch, o.Size, 0)), $"sender-{i}")).ToArray();
        var res = await Measure($"udp-stream{(o.SendOnly ? " send-only (no cable)" : "")}, {o.Sockets} sockets, SendMany({o.Batch}) of {o.Size}-byte datagrams, " +
                                $"{(o.Switch ? "through a switch" : "direct wire")}, server {o.Cpus} CPUs", o.Seconds, o.Warmup, sim, senders);
        Console.WriteLine($"result: {res.Read:N0} datagrams received/s, {res.Sent:N0} sent/s, {res.AllocPerDatagram:F0} bytes allocated " +
                          $"and {res.CpuNsPerDatagram:F0} ns of CPU (all threads) per datagram sent");
        bool headersOk = await PrintPayloadCheck(sim, senders.Length, res);
        await PrintCounters(sim);
        Profile?.Print();
        await sim.System.Terminate();
        return headersOk ? 0 : 1;
    }

    private sealed record Rates(double Read, double Sent, double ReadBytes, double AllocPerDatagram, double CpuNsPerDatagram, long OutOfOrder,
        long CorruptHeaders);

    private static async Task<(long Sent, long Read, long Bytes, long OutOfOrder, long Corrupt)> Sample(Sim sim, IActorRef[] senders)
    {
        var s = await Task.WhenAll(senders.Select(p => p.Ask<long>(StreamSender.GetSent.Instance, TimeSpan.FromSeconds(10))));
        var r = await Task.WhenAll(sim.Started.Sinks.Select(p => p.Ask<SinkStatus>(GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
        return (s.Sum(), r.Sum(x => x.Datagrams), r.Sum(x => x.Bytes), r.Sum(x => x.OutOfOrder), r.Sum(x => x.CorruptHeaders + x.Unsequenced));
    }

    /// <summary>
    /// The sinks' check of the senders' headers over the whole run: out of order or duplicated, corrupt headers (every
    /// datagram here carries one, so a datagram without it counts too), flows seen. False when a header was corrupt: no
    /// scenario of these benches injects corruption, so one is a fault of the stack.
    /// </summary>
    private static async Task<bool> PrintPayloadCheck(Sim sim, int senders, Rates res)
    {
        var r = await Task.WhenAll(sim.Started.Sinks.Select(p => p.Ask<SinkStatus>(GetWorkloadStatus.Instance, TimeSpan.FromSeconds(10))));
        long corrupt = r.Sum(x => x.CorruptHeaders + x.Unsequenced);
        Console.WriteLine($"payload check: {res.OutOfOrder:N0} datagrams out of order or duplicated in the window (must be 0), " +
                          $"{r.Sum(x => x.OutOfOrder):N0} in the whole run; {res.CorruptHeaders:N0} corrupt headers in the window, " +
                          $"{corrupt:N0} in the whole run (must be 0: nothing here injects corruption); " +
                          $"{r.Sum(x => x.Flows)} of {senders} senders' sequence numbers seen, {r.Sum(x => x.Datagrams):N0} datagrams read in all");
        if (corrupt > 0) Console.WriteLine("FAILED: corrupt pktgen headers at the sinks");
        return corrupt == 0;
    }

    /// <summary>2 s warm-up, then one line per second and the rates over the whole measured time.</summary>
    private static async Task<Rates> Measure(string title, int seconds, int warmup, Sim sim, IActorRef[] senders)
    {
        await Task.Delay(TimeSpan.FromSeconds(warmup));
        var (sent0, read0, bytes0, ooo0, bad0) = await Sample(sim, senders);
        Profile?.Start();
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        Console.WriteLine($"mode {title}, {Environment.ProcessorCount} cores, {seconds}s");
        Console.WriteLine("   t  datagrams-recv/s      sent/s    MB/s-recv   rss-MiB  gc-heap-MiB");
        var (ps, pr, pb, po, pc) = (sent0, read0, bytes0, ooo0, bad0);
        double elapsed = 0;
        for (int t = 1; t <= seconds; t++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var (s, r, b, oo, bad) = await Sample(sim, senders);
            elapsed = sw.Elapsed.TotalSeconds; // after the sample: the window holds every datagram counted
            Console.WriteLine($"{t,4} {r - pr,17:N0} {s - ps,11:N0} {(b - pb) / 1e6,12:F1} {RssMiB,9:F1} {HeapMiB,12:F1}");
            (ps, pr, pb, po, pc) = (s, r, b, oo, bad);
        }
        var (sent1, read1, bytes1) = (ps, pr, pb);
        long alloc1 = GC.GetTotalAllocatedBytes(precise: true);
        var cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
        return new Rates((read1 - read0) / elapsed, (sent1 - sent0) / elapsed, (bytes1 - bytes0) / elapsed,
            (alloc1 - alloc0) / (double)Math.Max(1, sent1 - sent0), (cpu1 - cpu0).TotalNanoseconds / Math.Max(1, sent1 - sent0), po - ooo0, pc - bad0);
    }

    private static async Task PrintCounters(Sim sim)
    {
        var c = await Stats(sim.Client);
        var s = await Stats(sim.Server);
        Console.WriteLine($"client: Udp {Mib(c, "Udp", "OutDatagrams", "SndbufErrors")}; Ip {Mib(c, "Ip", "OutRequests", "FragOKs", "FragCreates")}; " +
                          $"qdisc {c.Device("eth0").Qdisc}");
        Console.WriteLine($"server: Udp {Mib(s, "Udp", "InDatagrams", "RcvbufErrors", "InErrors")}; Ip {Mib(s, "Ip", "InReceives", "ReasmReqds", "ReasmOKs", "ReasmFails")}");
        Console.WriteLine("client drops: " + Drops(c));
        Console.WriteLine("server drops: " + Drops(s));
        foreach (var w in sim.Topology.Links)
        {
            var ws = await w.Ask<WireStats>(GetWireStats.Instance, TimeSpan.FromSeconds(10));
            Console.WriteLine($"link: a->b {ws.AToB:N0} frames, b->a {ws.BToA:N0}, dropped a->b {ws.DroppedAToB:N0}, b->a {ws.DroppedBToA:N0}");
        }
    }

    /// <summary>
    /// An application sending as fast as its socket lets it: blocking <c>sendmmsg</c> calls of the same batch,
    /// the next as soon as the last returned (a full send buffer holds the call until the device frees buffers).
    /// With <paramref name="sndbuf"/> &gt; 0 it sets <c>SO_SNDBUF</c> first.
    /// </summary>
    private sealed class StreamSender : ReceiveActor
    {
        public sealed record GetSent { public static readonly GetSent Instance = new(); }

        private IActorRef _socket = ActorRefs.Nobody;
        private long _sent;

        public StreamSender(IActorRef host, Ipv4Address dst, ushort port, int batch, int size, int sndbuf)
        {
            // Every datagram carries pktgen's header (struct pktgen_hdr: magic, seq_num) with its own sequence
            // number; the udp-sink checks that they arrive in order per flow (SinkStatus.OutOfOrder). One block
            // per batch, one slice per datagram, never written after the send.
            uint seq = 0;
            SendMany Next()
            {
                var block = new byte[batch * size];
                var b = ImmutableArray.CreateBuilder<SendTo>(batch);
                for (int i = 0; i < batch; i++)
                {
                    var payload = block.AsMemory(i * size, size);
                    if (size >= PktgenHeader.Length) PktgenHeader.Write(payload.Span, seq++, 0);
                    b.Add(new SendTo(payload));
                }
                return new SendMany(b.MoveToImmutable());
            }
            Receive<SocketCreated>(c =>
            {
                _socket = c.Socket;
                if (sndbuf > 0) _socket.Tell(new SetSocketOption(SockOpt.SoSndbuf, sndbuf));
                _socket.Tell(new Connect(dst, port));
            });
            Receive<SocketOk>(ok => { if (ok.Command is Connect) _socket.Tell(Next()); });
            Receive<SentMany>(m =>
            {
                _sent += m.Count;
                _socket.Tell(Next());
            });
            Receive<CommandFailed>(f =>
            {
                if (f.Command is SendMany) _socket.Tell(Next());
            });
            Receive<GetSent>(_ => Sender.Tell(_sent));
            host.Tell(new SocketCreate(SockType.Dgram));
        }
    }

    // ------------------------------------------------------------------ frag

    private static async Task<int> Frag(Options o)
    {
        var sinks = string.Join(", ", Enumerable.Range(0, o.Sockets).Select(i =>
            $"{{ type = udp-sink, host = server, bind = \"0.0.0.0:{9000 + i}\", batch = 64, rcvbuf = 4194304 }}"));
        var scenario = Scenario(o.Switch, o.Cpus, sinks);
        if (await Start(scenario) is not { } sim) return 1;
        var senders = Enumerable.Range(0, o.Sockets).Select(i => sim.System.ActorOf(
            Props.Create(() => new StreamSender(sim.Client, ServerIp, (ushort)(9000 + i), o.Batch, o.Size, 0)), $"sender-{i}")).ToArray();
        var res = await Measure($"frag, {o.Sockets} sockets, SendMany({o.Batch}) of {o.Size}-byte datagrams over MTU 1500", o.Seconds, o.Warmup, sim, senders);
        Console.WriteLine($"result: {res.Read:N0} datagrams received/s ({res.ReadBytes / 1e6:F1} MB/s of payload), {res.Sent:N0} sent/s, " +
                          $"{res.AllocPerDatagram:F0} bytes allocated per datagram sent");
        bool headersOk = await PrintPayloadCheck(sim, senders.Length, res);
        await PrintCounters(sim);
        foreach (var s in senders) s.Tell(PoisonPill.Instance);
        await Task.Delay(500);

        // The flood: first fragments (MF, offset 0) of distinct datagrams that never complete, sent through the
        // stack by a raw IP_HDRINCL socket on the client, into the server's reassembly.
        var before = await Stats(sim.Server);
        var flooder = sim.System.ActorOf(Props.Create(() => new FragFlooder(sim.Client, ServerIp, o.Flood)), "flooder");
        Console.WriteLine($"flood: {o.Flood:N0} first fragments (1000 bytes of data each) of distinct datagrams");
        // The reassembly memory is the server's own (its IP handler owns the queues): /proc/net/sockstat's
        // "FRAG: inuse N memory M" at each sample, and the high-water mark the handler keeps as it queues fragments.
        Console.WriteLine("   t   fragments-sent  ReasmReqds  ReasmFails  NOMEM@ip/defrag  frag-inuse  frag-memory    frag-peak   rss-MiB  gc-heap-MiB");
        var sw = Stopwatch.StartNew();
        long lastSeen = -1;
        for (int t = 1; t <= 20; t++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            long sent = await flooder.Ask<long>(FragFlooder.GetSent.Instance, TimeSpan.FromSeconds(10));
            var st = await Stats(sim.Server);
            var fs = await sim.Server.Ask<FragStats>(GetFragStats.Instance, TimeSpan.FromSeconds(10));
            long nomem = Nomem(st) - Nomem(before);
            Console.WriteLine($"{t,4} {sent,16:N0} {st.Mib("Ip")["ReasmReqds"] - before.Mib("Ip")["ReasmReqds"],11:N0} " +
                              $"{st.Mib("Ip")["ReasmFails"] - before.Mib("Ip")["ReasmFails"],11:N0} {nomem,16:N0} {fs.InUse,11:N0} {fs.Memory,12:N0} " +
                              $"{fs.PeakMemory,12:N0} {RssMiB,9:F1} {HeapMiB,12:F1}");
            long seen = st.Mib("Ip")["ReasmReqds"];
            if (sent >= o.Flood && seen == lastSeen) break; // all sent, and the receiver has taken the last of them
            lastSeen = seen;
        }
        Console.WriteLine($"flood took {sw.Elapsed.TotalSeconds:F1} s");
        var end = await sim.Server.Ask<FragStats>(GetFragStats.Instance, TimeSpan.FromSeconds(10));
        var high = StackConfig.Load(scenario, "bench").Host("server").Sysctl.Frag.IpfragHighThresh;
        Console.WriteLine($"reassembly memory (the server's, during the run): peak {end.PeakMemory:N0} bytes (ipfrag_high_thresh {high:N0}), " +
                          $"now {end.Memory:N0} bytes in {end.InUse:N0} queues");
        Console.WriteLine("server drops: " + Drops(await Stats(sim.Server)));
        await sim.System.Terminate();
        return headersOk ? 0 : 1;
    }

    private static long Nomem(HostStats s) => s.Drops.Where(d => d.Site.Reason == DropReason.NOMEM && d.Site.Location == "ip/defrag").Sum(d => d.Packets);

    /// <summary>Fragment <paramref name="i"/> of the flood: the first fragment of datagram (id, protocol), unique up to 131,070.</summary>
    private static void WriteFirstFragment(byte[] pkt, int i, Ipv4Address src, Ipv4Address dst)
    {
        ushort id = (ushort)(i % 65535 + 1);
        byte proto = (i / 65535 % 2) == 0 ? IpProtocol.Udp : (byte)253; // 253: RFC 3692 experimental
        Ipv4Header.Write(pkt, pkt.Length, id, Ipv4Header.FlagMf, 64, proto, src, dst);
    }

    /// <summary>Sends the flood's fragments through a raw <c>IP_HDRINCL</c> socket in blocking batches of 64.</summary>
    private sealed class FragFlooder : ReceiveActor
    {
        public sealed record GetSent { public static readonly GetSent Instance = new(); }

        private IActorRef _socket = ActorRefs.Nobody;
        private long _sent;
        private int _next;

        public FragFlooder(IActorRef host, Ipv4Address dst, int count)
        {
            Receive<SocketCreated>(c => { _socket = c.Socket; SendBatch(dst, count); });
            Receive<SentMany>(m => { _sent += m.Count; SendBatch(dst, count); });
            Receive<CommandFailed>(f => { if (f.Command is SendMany) SendBatch(dst, count); });
            Receive<GetSent>(_ => Sender.Tell(_sent));
            host.Tell(new SocketCreate(SockType.Raw, IpProtocol.Raw));
        }

        private void SendBatch(Ipv4Address dst, int count)
        {
            int n = Math.Min(64, count - _next);
            if (n <= 0) return;
            var b = ImmutableArray.CreateBuilder<SendTo>(n);
            for (int k = 0; k < n; k++)
            {
                var pkt = new byte[Ipv4Header.MinLength + 1000];
                WriteFirstFragment(pkt, _next++, Ipv4Address.Any, dst);
                b.Add(new SendTo(pkt, dst));
            }
            _socket.Tell(new SendMany(b.MoveToImmutable()));
        }
    }
}
