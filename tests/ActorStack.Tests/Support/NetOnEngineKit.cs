using System.Buffers.Binary;
using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Testing;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.Support;

/// <summary>
/// Whole hosts, cables and sockets on the product's simulation engine (<see cref="EngineKit"/>): the engine twin of the
/// real-clock <c>HostHarness</c>/<c>NetHarness</c>, with the same helper names so a test moves over by changing its base.
/// Every question (<see cref="Command"/>, <see cref="Stats"/>, …) is an Ask on the engine: it runs the simulation until
/// the answer is there, moving the clock only if the answer needs time. What a real-clock test did with Asks running
/// concurrently from the test (a reader and a writer at both ends) is done here by small application actors
/// (<see cref="StartSendAll"/>, <see cref="StartRead"/>) that the test starts and then runs the engine for
/// (<see cref="RunUntilDone"/>); a call left blocked is <see cref="Begin"/> + <see cref="Wait{T}"/>.
/// </summary>
public abstract class NetOnEngineKit(string name, string extraHocon = "") : EngineKit(name, extraHocon)
{
    protected static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:02");
    protected static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    protected static readonly Ipv4Address HostIp = Ipv4Address.Parse("10.0.0.2");
    protected static readonly Ipv4Address PeerIp = Ipv4Address.Parse("10.0.0.1");

    protected static Ipv4Prefix Prefix(string s) => Ipv4Prefix.TryParse(s, out var p) ? p : throw new FormatException(s);
    protected static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);
    protected static Ipv4Address Ip(string s) => Ipv4Address.Parse(s);

    protected static DeviceSettings Dev(string name, int mac, params string[] addresses)
        => new(name, Mac(mac), Addresses: addresses.Select(Prefix).ToImmutableArray());

    protected static HostSettings HostOf(string name, SysctlSettings? sysctl, params DeviceSettings[] devs)
        => new(name, 1, sysctl ?? new SysctlSettings(), devs.ToImmutableArray());

    protected static NeighbourSettings Neigh(string ip, int mac, string dev) => new(Ip(ip), Mac(mac), dev);

    protected static RouteSettings Route(string prefix, string? via = null, string? dev = null, int metric = 0, string type = "unicast")
        => new(Prefix(prefix), via is null ? null : Ip(via), dev, metric, type);

    protected sealed record Started(IActorRef Host, ImmutableDictionary<string, IActorRef> Devices);

    /// <summary>Starts a host (seed 1; <paramref name="tcp"/> gives it <see cref="TcpSettings"/> no sysctl carries).</summary>
    protected async Task<Started> Start(HostSettings h, TcpSettings? tcp = null)
    {
        var host = Sys.ActorOf(HostActor.Props(h, seed: 1, tcp: tcp), h.Name);
        var devs = await Ask<HostDevices>(host, GetHostDevices.Instance);
        return new Started(host, devs.Devices);
    }

    /// <summary>Host "h" (eth0 02:00:00:00:00:02, 10.0.0.2/24 unless told otherwise) and its eth0 driver.</summary>
    protected async Task<(IActorRef Host, IActorRef Nic)> StartHost(int cpus = 1, SysctlSettings? sysctl = null, params string[] addresses)
    {
        if (addresses.Length == 0) addresses = ["10.0.0.2/24"];
        var dev = new DeviceSettings("eth0", HostMac, Addresses: addresses.Select(Prefix).ToImmutableArray());
        var host = Sys.ActorOf(HostActor.Props(new HostSettings("h", cpus, sysctl ?? new SysctlSettings(), [dev]), seed: 1), "h");
        var devs = await Ask<HostDevices>(host, GetHostDevices.Instance);
        return (host, devs.Devices["eth0"]);
    }

    /// <summary>
    /// Whether <see cref="Cable(IActorRef, IActorRef)"/> runs what is due at once before returning, so the carriers are up
    /// when it returns (carrier up on a qdisc still on noop is urgent for the link watch: it runs at this instant); a
    /// test that injects frames right after cabling wants it.
    /// </summary>
    protected virtual bool CablesSettle => false;

    /// <summary>A cable between two devices (AttachWire on both ends), with no delay.</summary>
    protected IActorRef Cable(IActorRef a, IActorRef b)
    {
        var wire = Wire(a, b, Sys.ActorOf(WireActor.Props(a, b, TimeSpan.Zero)));
        if (CablesSettle) Driver.RunIdle();
        return wire;
    }

    /// <summary>A <see cref="WireActor"/> with <paramref name="options"/> (delay, netem) between two devices.</summary>
    protected IActorRef Cable(IActorRef a, IActorRef b, WireOptions options) => Wire(a, b, Sys.ActorOf(WireActor.Props(a, b, options)));

    private static IActorRef Wire(IActorRef a, IActorRef b, IActorRef wire)
    {
        a.Tell(new AttachWire(wire));
        b.Tell(new AttachWire(wire));
        return wire;
    }

    protected static void Inject(IActorRef nic, params byte[][] frames)
        => nic.Tell(new WireFrames(frames.Select(f => (ReadOnlyMemory<byte>)f).ToImmutableArray()));

    /// <summary>A UDP frame from the peer to <paramref name="dst"/>:<paramref name="dport"/>.</summary>
    protected static byte[] Udp(ushort dport, byte[]? payload = null, Ipv4Address? dst = null, Ipv4Address? src = null,
        ushort sport = 5000, MacAddress? dstMac = null)
        => FrameBuilder.Udp(dstMac ?? HostMac, PeerMac, src ?? PeerIp, dst ?? HostIp, sport, dport, payload ?? [1, 2, 3, 4]);

    /// <summary>Recomputes the IPv4 header checksum of a frame (20-byte header at offset 14).</summary>
    protected static byte[] FixIpChecksum(byte[] frame)
    {
        frame[24] = 0; frame[25] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), Checksum.Compute(frame.AsSpan(14, 20)));
        return frame;
    }

    protected async Task<IActorRef> Socket(IActorRef host, SockType type = SockType.Dgram, byte protocol = 0)
    {
        var created = await Ask<SocketCreated>(host, new SocketCreate(type, protocol));
        await Ask<object>(created.Socket, GetSocketInfo.Instance); // the socket has started (PreStart ran)
        return created.Socket;
    }

    protected async Task<IActorRef> TcpSocket(IActorRef host) => (await Ask<SocketCreated>(host, new SocketCreate(SockType.Stream))).Socket;

    /// <summary>Sends a socket command (a blocking one runs the simulation until it returns); the Errno (OK for SocketOk).</summary>
    protected async Task<Errno> Command(IActorRef socket, object command, TimeSpan? within = null)
        => await Ask<object>(socket, command, within) switch
        {
            SocketOk => Errno.OK,
            CommandFailed f => f.Error,
            var r => throw new InvalidOperationException($"unexpected answer {r}"),
        };

    protected async Task<IActorRef> BoundSocket(IActorRef host, string address, ushort port)
    {
        var s = await Socket(host);
        Assert.Equal(Errno.OK, await Command(s, new Bind(Ip(address), port)));
        return s;
    }

    protected Task<object> Send(IActorRef socket, byte[] payload, string? dst = null, ushort port = 0, MsgFlags flags = MsgFlags.None)
        => Ask<object>(socket, new SendTo(payload, dst is null ? null : Ip(dst), port, flags));

    protected async Task<Errno> SendErr(IActorRef socket, byte[] payload, string? dst = null, ushort port = 0, MsgFlags flags = MsgFlags.None)
        => await Send(socket, payload, dst, port, flags) switch
        {
            Sent => Errno.OK,
            CommandFailed f => f.Error,
            var r => throw new InvalidOperationException($"unexpected answer {r}"),
        };

    protected Task<HostStats> Stats(IActorRef host) => Ask<HostStats>(host, GetStats.Instance);

    /// <summary>Blocking reads (each runs the engine until answered) until <paramref name="count"/> datagrams have been read.</summary>
    protected async Task<List<Datagram>> ReadAll(IActorRef socket, int count)
    {
        var all = new List<Datagram>();
        while (all.Count < count)
        {
            var got = Assert.IsType<Received>(await Ask<object>(socket, new Recv(count - all.Count)));
            all.AddRange(got.Datagrams);
        }
        return all;
    }

    protected async Task<Errno> RecvNonBlocking(IActorRef socket)
        => await Ask<object>(socket, new Recv(1, NonBlocking: true)) is CommandFailed f ? f.Error : Errno.OK;

    /// <summary>Events closer together than this are one burst of traffic (frames at line rate, CPU cost per packet), not a timer.</summary>
    protected static readonly TimeSpan SettleGap = TimeSpan.FromMicroseconds(100);

    /// <summary>
    /// Runs what is due now, then on, event by event, while the next one is at most <see cref="SettleGap"/> away (for at
    /// most 1 s of simulated time): the traffic the test started runs to its end (wire time, CPU cost), protocol timers
    /// (ms and more: neighbour, reassembly, link watch) stay unfired. Returns the simulated time it ran.
    /// </summary>
    protected TimeSpan Settle()
    {
        var start = Engine.Now;
        Driver.RunIdle();
        var until = Engine.NowNs + SimEngine.ToNs(TimeSpan.FromSeconds(1));
        long gap = SimEngine.ToNs(SettleGap);
        while (Engine.NextDueNs is { } due && due - Engine.NowNs <= gap && due <= until) Engine.RunUntilNs(due);
        return Engine.Now - start;
    }

    /// <summary>Settles the traffic (<see cref="Settle"/>), then checks one snapshot of the host: exact values, no polling.</summary>
    protected async Task Settled(IActorRef host, Action<HostStats> check)
    {
        Settle();
        check(await Stats(host));
    }

    protected static readonly SysctlSettings Router = new() { IpForward = true };

    /// <summary>a (10.0.1.1) — r1 — (10.0.2.0/24, MTU <c>midMtu</c>) — r2 — b (10.0.3.1): the two-router network.</summary>
    protected sealed record Net(Started A, Started R1, Started R2, Started B);

    /// <summary>
    /// Starts and cables the four hosts of the two-router network: two ip_forward routers, static routes, permanent neighbours
    /// on every link. r1 gets <paramref name="r1ExtraRoutes"/> after its route to 10.0.3.0/24 and <paramref name="r1Rules"/>
    /// as its netfilter rules.
    /// </summary>
    protected async Task<Net> BuildTwoRouters(int midMtu = 1500, IReadOnlyList<RouteSettings>? r1ExtraRoutes = null,
        IReadOnlyList<NfRule>? r1Rules = null)
    {
        var a = await Start(HostOf("a", null, Dev("eth0", 1, "10.0.1.1/24")) with
        {
            Neighbours = [Neigh("10.0.1.254", 11, "eth0")],
            Routes = [Route("0.0.0.0/0", via: "10.0.1.254")],
        });
        var r1 = await Start(HostOf("r1", Router, Dev("eth0", 11, "10.0.1.254/24"), Dev("eth1", 12, "10.0.2.1/24") with { Mtu = midMtu }) with
        {
            Neighbours = [Neigh("10.0.1.1", 1, "eth0"), Neigh("10.0.2.2", 21, "eth1")],
            Routes = [Route("10.0.3.0/24", via: "10.0.2.2"), .. r1ExtraRoutes ?? []],
            Netfilter = [.. r1Rules ?? []],
        });
        var r2 = await Start(HostOf("r2", Router, Dev("eth0", 21, "10.0.2.2/24") with { Mtu = midMtu }, Dev("eth1", 22, "10.0.3.254/24")) with
        {
            Neighbours = [Neigh("10.0.2.1", 12, "eth0"), Neigh("10.0.3.1", 3, "eth1")],
            Routes = [Route("10.0.1.0/24", via: "10.0.2.1")],
        });
        var b = await Start(HostOf("b", null, Dev("eth0", 3, "10.0.3.1/24")) with
        {
            Neighbours = [Neigh("10.0.3.254", 22, "eth0")],
            Routes = [Route("0.0.0.0/0", via: "10.0.3.254")],
        });
        Cable(a.Devices["eth0"], r1.Devices["eth0"]);
        Cable(r1.Devices["eth1"], r2.Devices["eth0"]);
        Cable(r2.Devices["eth1"], b.Devices["eth0"]);
        return new Net(a, r1, r2, b);
    }

    protected static long Mib(HostStats s, string mib, string counter) => s.Mib(mib)[counter];

    protected static byte[] Bytes(int n, int seed = 1)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>
    /// Runs the simulation instant by instant until <paramref name="check"/> holds on a fresh snapshot of the host's
    /// counters (at most <paramref name="within"/> of simulated time); fails with the check's own message otherwise.
    /// </summary>
    protected Task Eventually(IActorRef host, Action<HostStats> check, TimeSpan? within = null)
        => Until(async () => check(await Stats(host)), within);

    /// <summary>
    /// Runs the simulation instant by instant until <paramref name="assertion"/> passes (the engine twin of
    /// AwaitAssertAsync): at most <paramref name="within"/> of simulated time, or until nothing is queued any more; then
    /// the assertion's own failure.
    /// </summary>
    protected async Task Until(Func<Task> assertion, TimeSpan? within = null)
    {
        try
        {
            await RunUntilAsync(async () =>
            {
                try { await assertion(); return true; }
                catch (Xunit.Sdk.XunitException) { return false; }
            }, within ?? Timeouts.Simulated);
        }
        catch (StackAssertionException)
        {
            await assertion(); // the assertion's own message
            throw;
        }
    }

    /// <summary>A call left blocked: told now (after everything due now has run); <see cref="Wait{T}"/> runs the simulation until it returns.</summary>
    protected Task<object> Begin(IActorRef target, object message) => Driver.Begin(target, message);

    /// <summary>Runs the simulation until <paramref name="pending"/> (from <see cref="Begin"/>) is answered; the answer as <typeparamref name="T"/>.</summary>
    protected Task<T> Wait<T>(Task<object> pending, TimeSpan? within = null)
    {
        RunUntil(() => pending.IsCompleted, within, $"a blocked call's {typeof(T).Name}");
        return Task.FromResult(Assert.IsType<T>(pending.GetAwaiter().GetResult()));
    }

    /// <summary>What one application actor did (<see cref="StartSendAll"/>, <see cref="StartRead"/>); read by the test once done.</summary>
    protected sealed class StreamJob(string what)
    {
        public readonly MemoryStream Data = new();
        public int Bytes;
        public bool Eof;
        public string? Failure;
        public bool Done { get; private set; }

        internal void Finish(string? failure = null)
        {
            Failure ??= failure is null ? null : $"{what}: {failure}";
            Done = true;
        }

        /// <summary>Fails with what went wrong, if anything did.</summary>
        public void AssertOk()
        {
            Assert.True(Done, $"{what}: not done");
            Assert.Null(Failure);
        }
    }

    /// <summary>Application: blocking sends of <paramref name="data"/> in <paramref name="chunk"/>-byte writes, each fully accepted.</summary>
    private sealed class Sender : ReceiveActor
    {
        public Sender(IActorRef sock, byte[] data, int chunk, StreamJob job)
        {
            int off = 0, pending = 0;
            void Next()
            {
                if (off >= data.Length) { job.Finish(); return; }
                pending = Math.Min(chunk, data.Length - off);
                sock.Tell(new SendTo(data.AsMemory(off, pending)));
            }
            Receive<Sent>(m =>
            {
                if (m.Bytes != pending) { job.Finish($"sent {m.Bytes} of {pending}"); return; }
                off += pending;
                job.Bytes = off;
                Next();
            });
            Receive<CommandFailed>(m => job.Finish($"{m.Command} failed with {m.Error}"));
            Next();
        }
    }

    /// <summary>Application: blocking recvs until <paramref name="n"/> bytes have come (or the end of stream, a failure).</summary>
    private sealed class Reader : ReceiveActor
    {
        public Reader(IActorRef sock, int n, int chunk, StreamJob job)
        {
            void Next()
            {
                if (job.Bytes >= n) { job.Finish(); return; }
                sock.Tell(new StreamRecv(Math.Min(chunk, n - job.Bytes)));
            }
            Receive<StreamData>(m =>
            {
                if (m.Eof) { job.Eof = true; job.Finish($"EOF after {job.Bytes} of {n} bytes"); return; }
                job.Data.Write(m.Data.Span);
                job.Bytes += m.Data.Length;
                Next();
            });
            Receive<CommandFailed>(m => job.Finish($"{m.Command} failed with {m.Error}"));
            Next();
        }
    }

    /// <summary>Starts an application that writes <paramref name="data"/> to <paramref name="sock"/>; nothing runs until the test runs the engine.</summary>
    protected StreamJob StartSendAll(IActorRef sock, byte[] data, int chunk = 65536)
    {
        var job = new StreamJob($"send to {sock.Path.Name}");
        Sys.ActorOf(Props.Create(() => new Sender(sock, data, chunk, job)));
        return job;
    }

    /// <summary>Starts an application that reads <paramref name="n"/> bytes from <paramref name="sock"/>.</summary>
    protected StreamJob StartRead(IActorRef sock, int n, int chunk = 65536)
    {
        var job = new StreamJob($"read from {sock.Path.Name}");
        Sys.ActorOf(Props.Create(() => new Reader(sock, n, chunk, job)));
        return job;
    }

    /// <summary>Runs the simulation until every job is done (at most <paramref name="within"/>, default 120 s simulated); fails on a job's failure.</summary>
    protected TimeSpan RunUntilDone(TimeSpan? within, params StreamJob[] jobs)
    {
        var t = RunUntil(() => jobs.All(j => j.Done), within ?? Timeouts.Simulated, "the applications");
        foreach (var j in jobs) j.AssertOk();
        return t;
    }

    protected TimeSpan RunUntilDone(params StreamJob[] jobs) => RunUntilDone(null, jobs);

    /// <summary>Writes all of <paramref name="data"/> (runs the simulation until the last write returned).</summary>
    protected Task SendAll(IActorRef s, byte[] data, int chunk = 65536)
    {
        RunUntilDone(StartSendAll(s, data, chunk));
        return Task.CompletedTask;
    }

    /// <summary>Reads exactly <paramref name="n"/> bytes (runs the simulation until they have come).</summary>
    protected Task<byte[]> ReadExactly(IActorRef s, int n)
    {
        var job = StartRead(s, n);
        RunUntilDone(job);
        return Task.FromResult(job.Data.ToArray());
    }
}
