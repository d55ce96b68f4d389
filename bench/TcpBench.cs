using System.Diagnostics;
using Akka.Actor;
using ActorStack.Actors.Simulation;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Bench;

/// <summary>
/// The TCP benchmarks (issue 6), two simulated hosts on one cable (MTU 1500) in one process, wall clock:
///   tcp-bulk  [--seconds N] [--no-offload]      one connection, payload Gbit/s per second and the mean
///   tcp-rr    [--seconds N] [--connections N]   1-byte request/response transactions per second
///   tcp-conns [--seconds N] [--idle N]          connects, accepts and closes per second; managed memory per idle connection
/// and for all: [--warmup N] (seconds before measuring, default 2).
/// </summary>
public static class TcpBench
{
    private static readonly Ipv4Address ServerIp = Ipv4Address.Parse("10.0.0.2");

    public static async Task<int> Run(string mode, string[] args)
    {
        int seconds = 10, connections = 1, warmup = 2, idle = 5000;
        bool noOffload = false;
        int sndbuf = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--seconds": seconds = int.Parse(Next()); break;
                case "--connections": connections = int.Parse(Next()); break;
                case "--warmup": warmup = int.Parse(Next()); break;
                case "--idle": idle = int.Parse(Next()); break;
                case "--no-offload": noOffload = true; break;
                case "--sndbuf": sndbuf = int.Parse(Next()); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        return mode switch
        {
            "tcp-bulk" => await Bulk(seconds, warmup, noOffload, sndbuf),
            "tcp-rr" => await Rr(seconds, warmup, connections),
            _ => await Conns(seconds, warmup, idle),
        };
    }

    private const string Scenario = """
        actorstack.scenario {
          # speed = 400000 (the highest allowed): tcp-bulk moves more than a 10G NIC's line rate, and measures the
          # stack, not the modelled NIC (BENCHMARKS.md, "Line rate").
          hosts {
            client { cpus = 1, devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.0.1/24"], speed = 400000 } } }
            server { cpus = 1, devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.0.2/24"], rx-ring = 4096, speed = 400000 } } }
          }
          wires = [ { a = "client/eth0", b = "server/eth0" } ]
          workloads = []
        }
        actorstack.sysctl.net.core.wmem_max = 4194304
        akka.loglevel = WARNING
        """;

    private sealed record Sim(ActorSystem System, IActorRef Client, IActorRef Server);

    /// <summary>Builds and starts the scenario; null (after printing why, as the CLI does) when the simulation answers <see cref="CommandFailed"/>.</summary>
    private static async Task<Sim?> Start()
    {
        // ACTORSTACK_BENCH_HOCON: extra configuration appended to the scenario (e.g. dispatcher settings to compare).
        var hocon = Scenario + "\n" + (Environment.GetEnvironmentVariable("ACTORSTACK_BENCH_HOCON") ?? "");
        if (await BenchSim.Start(hocon) is not { } b) return null;
        return new Sim(b.System, b.Started.Hosts["client"], b.Started.Hosts["server"]);
    }

    private static readonly TimeSpan T = TimeSpan.FromSeconds(30);

    private static async Task<IActorRef> Socket(IActorRef host) => (await host.Ask<SocketCreated>(new SocketCreate(SockType.Stream), T)).Socket;

    private static async Task<IActorRef> Listener(IActorRef host, ushort port, int backlog)
    {
        var l = await Socket(host);
        if (await l.Ask<object>(new Bind(Ipv4Address.Any, port), T) is not SocketOk) throw new InvalidOperationException("bind");
        if (await l.Ask<object>(new Listen(backlog), T) is not SocketOk) throw new InvalidOperationException("listen");
        return l;
    }

    /// <summary>One established connection: the client's socket and the server's accepted one.</summary>
    private static async Task<(IActorRef Client, IActorRef Server)> Connect(Sim sim, IActorRef listener, ushort port)
    {
        var c = await Socket(sim.Client);
        var r = await c.Ask<object>(new StreamConnect(ServerIp, port), T);
        if (r is not SocketOk) throw new InvalidOperationException($"connect: {r}");
        var a = await listener.Ask<Accepted>(new Accept(), T);
        return (c, a.Socket);
    }

    private static double HeapMiB => GC.GetTotalMemory(false) / 1048576.0;

    /// <summary>What <see cref="Measure"/> saw over its seconds: wall time, the counter's increase, process CPU,
    /// bytes allocated and the GCs of each generation.</summary>
    private sealed record Measured(double Elapsed, long Total, TimeSpan Cpu, long Allocated, int Gen0, int Gen1, int Gen2)
    {
        public string Gcs => $"GCs gen0 {Gen0}, gen1 {Gen1}, gen2 {Gen2}";
    }

    /// <summary>
    /// The measuring loop of every mode: for <paramref name="seconds"/> seconds, once a second, prints
    /// <paramref name="line"/>(second, the increase of <paramref name="counter"/> over that second); then the totals.
    /// </summary>
    private static async Task<Measured> Measure(int seconds, Func<long> counter, Func<int, long, string> line)
    {
        long c0 = counter(), prev = c0;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        long alloc0 = GC.GetTotalAllocatedBytes(false);
        int[] gc0 = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var sw = Stopwatch.StartNew();
        double elapsed = 0;
        for (int t = 1; t <= seconds; t++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            long c = counter();
            double now = sw.Elapsed.TotalSeconds; // after the sample: the window holds every unit counted
            Console.WriteLine(line(t, c - prev));
            prev = c;
            elapsed = now;
        }
        long total = prev - c0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        return new Measured(elapsed, total, cpu, GC.GetTotalAllocatedBytes(false) - alloc0,
            GC.CollectionCount(0) - gc0[0], GC.CollectionCount(1) - gc0[1], GC.CollectionCount(2) - gc0[2]);
    }

    private static async Task<string> Tcp(IActorRef host)
    {
        var s = await host.Ask<HostStats>(GetStats.Instance, T);
        string M(string mib, string n) => s.Mib(mib)[n].ToString("N0");
        return $"RetransSegs={M("Tcp", "RetransSegs")} InSegs={M("Tcp", "InSegs")} OutSegs={M("Tcp", "OutSegs")} " +
               $"TCPTimeouts={M("TcpExt", "TCPTimeouts")} TCPLossProbes={M("TcpExt", "TCPLossProbes")} TCPFastRetrans={M("TcpExt", "TCPFastRetrans")} " +
               $"TCPSackRecovery={M("TcpExt", "TCPSackRecovery")} TCPDSACKRecv={M("TcpExt", "TCPDSACKRecv")} TCPOFOQueue={M("TcpExt", "TCPOFOQueue")} " +
               $"drops={(s.Drops.IsEmpty ? "none" : string.Join(",", s.Drops.Select(d => $"{d.Site.Reason}@{d.Site.Location}={d.Packets:N0}")))}";
    }

    // ------------------------------------------------------------------ tcp-bulk

    /// <summary>
    /// Keeps two 128 KiB writes of a seeded pattern (Random(1)) outstanding on a socket until told to
    /// <see cref="Stop"/>; counts the bytes each send() returned.
    /// </summary>
    private sealed class Source : ReceiveActor
    {
        public sealed record Stop { public static readonly Stop Instance = new(); }

        public static long SentBytes, ShortSends;
        public static byte[] Pattern() { var b = new byte[128 * 1024]; new Random(1).NextBytes(b); return b; }

        public Source(IActorRef socket)
        {
            var block = Pattern();
            bool stopped = false;
            Receive<Sent>(s =>
            {
                Interlocked.Add(ref SentBytes, s.Bytes);
                // A short write would shift the pattern the sink expects: counted, it makes the check fail.
                if (s.Bytes != block.Length) Interlocked.Increment(ref ShortSends);
                if (!stopped) socket.Tell(new SendTo(block));
            });
            Receive<Stop>(_ => stopped = true);
            Receive<CommandFailed>(f => Console.Error.WriteLine($"bulk source: {f}"));
            socket.Tell(new SendTo(block));
            socket.Tell(new SendTo(block));
        }
    }

    /// <summary>
    /// Reads a socket as fast as it can, counting the bytes (read by the benchmark's loop) and comparing
    /// each chunk with the source's pattern at the stream offset it belongs to.
    /// </summary>
    private sealed class Sink : ReceiveActor
    {
        public static long Bytes;
        public static long Transactions;
        public static long MismatchedChunks;

        public Sink(IActorRef socket)
        {
            var pattern = Source.Pattern();
            long offset = 0;
            Receive<StreamData>(d =>
            {
                var data = d.Data.Span;
                bool ok = true;
                while (data.Length > 0)
                {
                    int at = (int)(offset % pattern.Length), n = Math.Min(data.Length, pattern.Length - at);
                    ok &= data[..n].SequenceEqual(pattern.AsSpan(at, n));
                    data = data[n..];
                    offset += n;
                }
                if (!ok) Interlocked.Increment(ref MismatchedChunks);
                Interlocked.Add(ref Bytes, d.Data.Length);
                socket.Tell(new StreamRecv(256 * 1024));
            });
            Receive<CommandFailed>(f => Console.Error.WriteLine($"bulk sink: {f}"));
            socket.Tell(new StreamRecv(256 * 1024));
        }
    }

    private static async Task<int> Bulk(int seconds, int warmup, bool noOffload, int sndbuf)
    {
        if (await Start() is not { } sim) return 1;
        if (noOffload)
        {
            // ethtool -K eth0 gro off gso off tso off on both hosts (eth0 is ifindex 2; lo is 1).
            foreach (var h in new[] { sim.Client, sim.Server })
                await h.Ask<DeviceFeatures>(new SetDeviceFeatures(2, false, false, false), TimeSpan.FromSeconds(10));
        }
        var l = await Listener(sim.Server, 5201, 16);
        var (c, s) = await Connect(sim, l, 5201);
        // --sndbuf N: setsockopt(SO_SNDBUF, N) on the sender (the kernel doubles it, capped by net.core.wmem_max).
        if (sndbuf > 0 && await c.Ask<object>(new SetSocketOption(SockOpt.SoSndbuf, sndbuf), T) is not SocketOk)
            throw new InvalidOperationException("SO_SNDBUF");
        sim.System.ActorOf(Props.Create(() => new Sink(s)), "sink");
        var source = sim.System.ActorOf(Props.Create(() => new Source(c)), "source");
        await Task.Delay(TimeSpan.FromSeconds(warmup));
        Console.WriteLine($"mode tcp-bulk, one connection, MTU 1500, offload (gro/gso/tso) {(noOffload ? "off" : "on")}, " +
                          $"{Environment.ProcessorCount} cores, {seconds}s");
        Console.WriteLine("   t   Gbit/s   heap-MiB");
        var m = await Measure(seconds, () => Interlocked.Read(ref Sink.Bytes),
            (t, bytes) => $"{t,4} {bytes * 8 / 1e9,8:F3} {HeapMiB,10:F1}");
        double elapsed = m.Elapsed, cpu = m.Cpu.TotalSeconds;
        long total = m.Total;
        var info = await c.Ask<TcpSocketInfo>(GetSocketInfo.Instance, T);
        Console.WriteLine($"result: {total * 8 / 1e9 / elapsed:F3} Gbit/s payload (mean over {elapsed:F1} s), " +
                          $"{cpu / elapsed:F2} cores of process CPU, {cpu * 1e9 / Math.Max(1, total):F2} ns CPU per payload byte");
        Console.WriteLine($"allocated {m.Allocated / (double)Math.Max(1, total):F2} bytes per payload byte; {m.Gcs}");
        Console.WriteLine($"sender socket: cwnd {info.Cwnd} mss {info.Mss} rtt {info.Rtt.TotalMilliseconds:F3} ms retrans {info.Retrans}");
        // End of the stream: stop writing, let the receiver drain, then bytes read must equal the bytes send() took,
        // and every chunk must match the seeded pattern at its offset.
        source.Tell(Source.Stop.Instance);
        var drain = Stopwatch.StartNew();
        long sentBytes = 0, readBytes = 0;
        for (long prevSent = -1; drain.Elapsed < TimeSpan.FromSeconds(20); prevSent = sentBytes)
        {
            await Task.Delay(200);
            (sentBytes, readBytes) = (Interlocked.Read(ref Source.SentBytes), Interlocked.Read(ref Sink.Bytes));
            if (sentBytes == prevSent && readBytes == sentBytes) break;
        }
        Console.WriteLine($"payload check: {readBytes:N0} bytes read of {sentBytes:N0} sent ({(readBytes == sentBytes ? "equal" : "DIFFERENT")}), " +
                          $"{Interlocked.Read(ref Sink.MismatchedChunks):N0} chunks differing from the seeded pattern (must be 0), " +
                          $"{Interlocked.Read(ref Source.ShortSends):N0} short sends");
        Console.WriteLine($"client: {await Tcp(sim.Client)}");
        Console.WriteLine($"server: {await Tcp(sim.Server)}");
        await sim.System.Terminate();
        return 0;
    }

    // ------------------------------------------------------------------ tcp-rr

    /// <summary>The client end of one RR connection: 1-byte request, wait for the 1-byte response, again.</summary>
    private sealed class RrClient : ReceiveActor
    {
        public RrClient(IActorRef socket)
        {
            var req = new byte[1];
            Receive<StreamData>(d =>
            {
                if (d.Eof) return;
                Interlocked.Increment(ref Sink.Transactions);
                socket.Tell(new SendTo(req));
                socket.Tell(new StreamRecv(64));
            });
            Receive<Sent>(_ => { });
            Receive<CommandFailed>(f => Console.Error.WriteLine($"rr client: {f}"));
            socket.Tell(new SendTo(req));
            socket.Tell(new StreamRecv(64));
        }
    }

    /// <summary>The server end: answers each request byte with one response byte.</summary>
    private sealed class RrServer : ReceiveActor
    {
        public RrServer(IActorRef socket)
        {
            var resp = new byte[1];
            Receive<StreamData>(d =>
            {
                if (d.Eof) return;
                for (int i = 0; i < d.Data.Length; i++) socket.Tell(new SendTo(resp));
                socket.Tell(new StreamRecv(64));
            });
            Receive<Sent>(_ => { });
            Receive<CommandFailed>(f => Console.Error.WriteLine($"rr server: {f}"));
            socket.Tell(new StreamRecv(64));
        }
    }

    private static async Task<int> Rr(int seconds, int warmup, int connections)
    {
        if (await Start() is not { } sim) return 1;
        var l = await Listener(sim.Server, 5202, 4096);
        for (int i = 0; i < connections; i++)
        {
            var (c, s) = await Connect(sim, l, 5202);
            sim.System.ActorOf(Props.Create(() => new RrServer(s)));
            sim.System.ActorOf(Props.Create(() => new RrClient(c)));
        }
        await Task.Delay(TimeSpan.FromSeconds(warmup));
        Console.WriteLine($"mode tcp-rr, {connections} connection(s), 1-byte request/response, {Environment.ProcessorCount} cores, {seconds}s");
        Console.WriteLine("   t    transactions/s");
        var m = await Measure(seconds, () => Interlocked.Read(ref Sink.Transactions), (t, n) => $"{t,4} {n,17:N0}");
        long total = m.Total;
        Console.WriteLine($"result: {total / m.Elapsed:N0} transactions/s ({m.Cpu.TotalMicroseconds / Math.Max(1, total):F1} us of CPU per transaction)");
        Console.WriteLine($"allocated {m.Allocated / (double)Math.Max(1, total):F0} bytes per transaction; {m.Gcs}");
        Console.WriteLine($"client: {await Tcp(sim.Client)}");
        await sim.System.Terminate();
        return 0;
    }

    // ------------------------------------------------------------------ tcp-conns

    /// <summary>Connects, and on success closes and connects again: <c>inFlight</c> loops at once.</summary>
    private sealed class ConnLoop : ReceiveActor
    {
        public static long Done, Failed, Closed;

        public ConnLoop(IActorRef host, int inFlight)
        {
            Receive<SocketCreated>(c => c.Socket.Tell(new StreamConnect(ServerIp, 5203)));
            Receive<SocketOk>(ok =>
            {
                if (ok.Command is Close) Interlocked.Increment(ref Closed); // tcp_close returned on the client socket
                if (ok.Command is not StreamConnect) return;
                Interlocked.Increment(ref Done);
                Sender.Tell(Close.Instance);
                host.Tell(new SocketCreate(SockType.Stream));
            });
            Receive<CommandFailed>(f =>
            {
                if (f.Command is not StreamConnect) return;
                Interlocked.Increment(ref Failed);
                Sender.Tell(Close.Instance);
                host.Tell(new SocketCreate(SockType.Stream));
            });
            for (int i = 0; i < inFlight; i++) host.Tell(new SocketCreate(SockType.Stream));
        }
    }

    /// <summary>Accepts for ever; closes each accepted connection at once (unless <paramref name="keep"/>).</summary>
    private sealed class Acceptor : ReceiveActor
    {
        public static long Accepted, Closed;

        public Acceptor(IActorRef listener, bool keep)
        {
            Receive<Accepted>(a =>
            {
                Interlocked.Increment(ref Accepted);
                if (!keep) a.Socket.Tell(Close.Instance);
                listener.Tell(new Accept());
            });
            Receive<SocketOk>(ok => { if (ok.Command is Close) Interlocked.Increment(ref Closed); }); // tcp_close on the accepted socket
            Receive<CommandFailed>(_ => listener.Tell(new Accept()));
            listener.Tell(new Accept());
        }
    }

    /// <summary>An actor with one handler and no state: Akka's per-actor cost.</summary>
    private sealed class Empty : ReceiveActor
    {
        public Empty() => ReceiveAny(m => Sender.Tell(m));
    }

    private static async Task<int> Conns(int seconds, int warmup, int idle)
    {
        if (await Start() is not { } sim) return 1;
        var l = await Listener(sim.Server, 5203, 4096);
        sim.System.ActorOf(Props.Create(() => new Acceptor(l, false)), "acceptor");
        var loop = sim.System.ActorOf(Props.Create(() => new ConnLoop(sim.Client, 16)), "loop");
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(warmup, 1)));
        Console.WriteLine($"mode tcp-conns, 16 connect loops, {Environment.ProcessorCount} cores, {seconds}s");
        // Per second: connect() returned SocketOk on the client, accept() returned on the server, and close()
        // returned on the client's and on the accepted sockets (counted separately).
        Console.WriteLine("   t      connects/s     accepts/s   client-closes/s  server-closes/s   failed");
        long a0 = Interlocked.Read(ref Acceptor.Accepted), cc0 = Interlocked.Read(ref ConnLoop.Closed), sc0 = Interlocked.Read(ref Acceptor.Closed);
        var (pa, pcc, psc) = (a0, cc0, sc0);
        var m = await Measure(seconds, () => Interlocked.Read(ref ConnLoop.Done), (t, n) =>
        {
            long a = Interlocked.Read(ref Acceptor.Accepted), cc = Interlocked.Read(ref ConnLoop.Closed), sc = Interlocked.Read(ref Acceptor.Closed);
            var row = $"{t,4} {n,15:N0} {a - pa,13:N0} {cc - pcc,17:N0} {sc - psc,16:N0} {Interlocked.Read(ref ConnLoop.Failed),8:N0}";
            (pa, pcc, psc) = (a, cc, sc);
            return row;
        });
        // The last row's counters were read with the last sample: the totals cover the same window.
        double accepts = (pa - a0) / m.Elapsed, clientCloses = (pcc - cc0) / m.Elapsed, serverCloses = (psc - sc0) / m.Elapsed;
        Console.WriteLine($"result: {m.Total / m.Elapsed:N0} connects/s, {accepts:N0} accepts/s, {clientCloses:N0} client closes/s, " +
                          $"{serverCloses:N0} server closes/s over {m.Elapsed:F2} s; complete connections (connect, accept and both " +
                          $"closes): {Math.Min(Math.Min(m.Total / m.Elapsed, accepts), Math.Min(clientCloses, serverCloses)):N0}/s");
        sim.System.Stop(loop);
        await sim.System.Terminate();

        // Managed memory per established idle connection: a fresh pair of hosts, N connections opened one after another.
        if (await Start() is not { } sim2) return 1;
        var l2 = await Listener(sim2.Server, 5204, 4096);
        var warm = await Connect(sim2, l2, 5204); // JIT and first-use allocations before the baseline
        await Task.Delay(500);
        long before = GC.GetTotalMemory(true);
        var keep = new List<(IActorRef, IActorRef)>(idle);
        for (int i = 0; i < idle; i++) keep.Add(await Connect(sim2, l2, 5204));
        await Task.Delay(500); // the last ACKs, timers settled
        long after = GC.GetTotalMemory(true);
        var info = await keep[0].Item1.Ask<TcpSocketInfo>(GetSocketInfo.Instance, T);
        double perConn = (after - before) / (double)idle;
        Console.WriteLine($"idle connections: {idle} established (both ends in this process), managed heap +{(after - before) / 1048576.0:F1} MiB: " +
                          $"{perConn:F0} bytes per connection = {perConn / 2:F0} bytes per socket (send/receive queues empty: " +
                          $"Recv-Q {info.RecvQueue} Send-Q {info.SendQueue}, so no buffer bytes are subtracted)");
        // The share of a bare socket actor (socket(), not connected: actor cell, mailbox, SocketCounters, the Random and
        // IpOutput every TcpSocketActor holds) against the established connection's (Tcb, its queues, timers).
        long before2 = GC.GetTotalMemory(true);
        var bare = new List<IActorRef>(idle);
        for (int i = 0; i < idle; i++) bare.Add(await Socket(sim2.Client));
        await Task.Delay(200);
        long after2 = GC.GetTotalMemory(true);
        double perBare = (after2 - before2) / (double)idle;
        Console.WriteLine($"unconnected sockets: {idle}, managed heap +{(after2 - before2) / 1048576.0:F1} MiB: {perBare:F0} bytes per socket actor; " +
                          $"so an established socket adds {perConn / 2 - perBare:F0} bytes (Tcb and connection state) to the actor's {perBare:F0}");
        // Akka's own share: the same number of actors that hold nothing and handle one message type.
        long before3 = GC.GetTotalMemory(true);
        var empty = new List<IActorRef>(idle);
        for (int i = 0; i < idle; i++) empty.Add(sim2.System.ActorOf(Props.Create(() => new Empty())));
        await Task.WhenAll(empty.Select(e => e.Ask<object>("ping", T))); // every one started
        long after3 = GC.GetTotalMemory(true);
        double perEmpty = (after3 - before3) / (double)idle;
        Console.WriteLine($"empty actors: {idle}, managed heap +{(after3 - before3) / 1048576.0:F1} MiB: {perEmpty:F0} bytes per actor (Akka's cell, " +
                          $"ref, path, mailbox); a bare TCP socket actor holds {perBare - perEmpty:F0} bytes more");
        GC.KeepAlive(empty);
        GC.KeepAlive(bare);
        GC.KeepAlive(warm);
        await sim2.System.Terminate();
        return 0;
    }
}
