using System.Buffers.Binary;
using System.Collections.Immutable;
using Akka.Actor;
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

    /// <summary>A cable between two devices (AttachWire on both ends), with no delay.</summary>
    protected IActorRef Cable(IActorRef a, IActorRef b) => Wire(a, b, Sys.ActorOf(WireActor.Props(a, b, TimeSpan.Zero)));

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
