using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Config;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Engine;

/// <summary>
/// Two whole hosts joined by a netem wire, a TCP bulk transfer run for a fixed virtual time on the engine, in
/// separate actor systems: the same seed gives the same event digest, the same event count and the same counters;
/// another wire seed or another loss setting gives another digest.
/// </summary>
public class DeterminismTests
{
    private sealed record Outcome(ulong Digest, long Events, long NowNs, int Received, bool Done, string StatsA, string StatsB)
    {
        public List<SimEventRecord> Trace { get; init; } = [];
        public bool Equals(Outcome? o) => o is not null && (Digest, Events, NowNs, Received, Done, StatsA, StatsB) == (o.Digest, o.Events, o.NowNs, o.Received, o.Done, o.StatsA, o.StatsB);
        public override int GetHashCode() => Digest.GetHashCode();
    }

    /// <summary>The first event where two traced runs differ, for a failure message.</summary>
    private static string FirstDifference(Outcome x, Outcome y)
    {
        for (int i = 0; i < Math.Min(x.Trace.Count, y.Trace.Count); i++)
            if (x.Trace[i] != y.Trace[i]) return $"event {i}: {x.Trace[i]} vs {y.Trace[i]}";
        return $"traces agree over {Math.Min(x.Trace.Count, y.Trace.Count)} events ({x.Trace.Count} vs {y.Trace.Count})";
    }

    /// <summary>Keeps every message it gets (the test reads them between engine runs: same thread, no race).</summary>
    private sealed class Inbox : UntypedActor
    {
        private readonly List<object> _got;
        public Inbox(List<object> got) => _got = got;
        protected override void OnReceive(object message) => _got.Add(message);
    }

    private sealed class Progress(int bytes)
    {
        public readonly int Bytes = bytes;
        public int Got;
        public string? Failure;
        public bool Done => Got == Bytes;
    }

    private sealed class Go
    {
        public static readonly Go Instance = new();
    }

    /// <summary>socket, bind, listen, accept, then recv until all the bytes came.</summary>
    private sealed class Server : ReceiveActor
    {
        public Server(IActorRef host, ushort port, IActorRef client, Progress p)
        {
            IActorRef listener = ActorRefs.Nobody, conn = ActorRefs.Nobody;
            Receive<SocketCreated>(m => (listener = m.Socket).Tell(new Bind(Ipv4Address.Any, port)));
            Receive<SocketOk>(m =>
            {
                if (m.Command is Bind) listener.Tell(new Listen(4));
                else if (m.Command is Listen)
                {
                    listener.Tell(new Accept());
                    client.Tell(Go.Instance);
                }
            });
            Receive<Accepted>(m => (conn = m.Socket).Tell(new StreamRecv()));
            Receive<StreamData>(m =>
            {
                if (m.Eof) { p.Failure ??= "EOF"; return; }
                p.Got += m.Data.Length;
                if (!p.Done) conn.Tell(new StreamRecv());
            });
            Receive<CommandFailed>(m => p.Failure ??= $"server: {m.Command} {m.Error}");
            host.Tell(new SocketCreate(SockType.Stream));
        }
    }

    /// <summary>On the server's go: socket, connect, then 64 KiB blocking sends.</summary>
    private sealed class Client : ReceiveActor
    {
        public Client(IActorRef host, ushort port, byte[] data, Progress p)
        {
            IActorRef sock = ActorRefs.Nobody;
            int off = 0;
            void Next()
            {
                if (off < data.Length) sock.Tell(new SendTo(data.AsMemory(off, Math.Min(65536, data.Length - off))));
            }
            Receive<Go>(_ => host.Tell(new SocketCreate(SockType.Stream)));
            Receive<SocketCreated>(m => (sock = m.Socket).Tell(new StreamConnect(Ipv4Address.Parse("10.0.0.2"), port)));
            Receive<SocketOk>(m => { if (m.Command is StreamConnect) Next(); });
            Receive<Sent>(m =>
            {
                off += m.Bytes;
                Next();
            });
            Receive<CommandFailed>(m => p.Failure ??= $"client: {m.Command} {m.Error}");
        }
    }

    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    private static HostSettings Host(string name, int mac, string addr, string peer, int peerMac) =>
        new(name, 1, new SysctlSettings(), [new DeviceSettings("eth0", Mac(mac), Addresses: [Ipv4Prefix.TryParse(addr, out var p) ? p : default])])
        {
            Neighbours = [new NeighbourSettings(Ipv4Address.Parse(peer), Mac(peerMac), "eth0")],
        };

    private static string Render(HostStats s) => string.Join("\n",
        s.Snmp.SelectMany(m => m.Counters.Where(c => c.Value != 0).Select(c => $"{m.Name}.{c.Key}={c.Value}"))
            .Concat(s.Drops.Select(d => $"drop {d.Site}={d.Packets}"))
            .Concat(s.Devices.Select(d => $"dev {d.Name} {d.Counters}")));

    private static async Task<Outcome> Run(int wireSeed, string netem, int bytes, TimeSpan duration, bool traced = true)
    {
        Assert.True(NetemParser.TryParse(netem, out var ne, out var error), error);
        var sys = ActorSystem.Create("det", StackConfig.AkkaConfig(SimEngine.Hocon));
        var engine = SimEngine.For(sys);
        var trace = new List<SimEventRecord>();
        if (traced) engine.Trace = trace.Add;
        try
        {
            engine.Pause();
            var got = new List<object>();
            var inbox = sys.ActorOf(Props.Create(() => new Inbox(got)), "inbox");
            var a = sys.ActorOf(HostActor.Props(Host("a", 1, "10.0.0.1/24", "10.0.0.2", 2), seed: 1), "a");
            var b = sys.ActorOf(HostActor.Props(Host("b", 2, "10.0.0.2/24", "10.0.0.1", 1), seed: 1), "b");
            a.Tell(GetHostDevices.Instance, inbox);
            engine.RunUntilIdle();
            b.Tell(GetHostDevices.Instance, inbox);
            engine.RunUntilIdle();
            var devs = got.OfType<HostDevices>().ToList();
            Assert.Equal(2, devs.Count);
            var (da, db) = (devs[0].Devices["eth0"], devs[1].Devices["eth0"]);
            var wire = sys.ActorOf(WireActor.Props(da, db, new WireOptions("w", wireSeed, TimeSpan.Zero) { NetemAToB = ne, NetemBToA = ne }), "wire");
            da.Tell(new AttachWire(wire));
            db.Tell(new AttachWire(wire));
            var data = new byte[bytes];
            new Random(7).NextBytes(data);
            var p = new Progress(bytes);
            var client = sys.ActorOf(Props.Create(() => new Client(a, 5001, data, p)), "client");
            sys.ActorOf(Props.Create(() => new Server(b, 5001, client, p)), "server");
            engine.RunFor(duration);
            Assert.Equal(ToNs(duration), engine.NowNs);
            Assert.Null(p.Failure);
            a.Tell(GetStats.Instance, inbox);
            b.Tell(GetStats.Instance, inbox);
            engine.RunUntilIdle();
            var stats = got.OfType<HostStats>().ToList();
            Assert.Equal(2, stats.Count);
            return new Outcome(engine.Digest, engine.Executed, engine.NowNs, p.Got, p.Done, Render(stats[0]), Render(stats[1])) { Trace = trace };
        }
        finally
        {
            engine.ReleaseControl();
            await sys.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private static long ToNs(TimeSpan t) => SimEngine.ToNs(t);

    [Fact]
    public async Task TcpTransferUnderNetem_SameSeed_SameDigestAndCounters_OtherSeedOrLossDiffers()
    {
        const string lossy = "delay 1ms loss 2%";
        var one = await Run(wireSeed: 5, lossy, 1 << 20, TimeSpan.FromSeconds(3));
        var two = await Run(wireSeed: 5, lossy, 1 << 20, TimeSpan.FromSeconds(3));
        Assert.True(one.Done, $"transfer not done in 3 s virtual: {one.Received} bytes");
        Assert.Contains("Tcp.RetransSegs=", one.StatsA); // the loss did bite
        Assert.Equal(one.StatsA, two.StatsA);
        Assert.Equal(one.StatsB, two.StatsB);
        Assert.Equal(one.Events, two.Events);
        Assert.True(one.Digest == two.Digest, FirstDifference(one, two));
        Assert.Equal(one, two);

        var otherSeed = await Run(wireSeed: 6, lossy, 1 << 20, TimeSpan.FromSeconds(3));
        Assert.NotEqual(one.Digest, otherSeed.Digest);
        var noLoss = await Run(wireSeed: 5, "delay 1ms", 1 << 20, TimeSpan.FromSeconds(3));
        Assert.NotEqual(one.Digest, noLoss.Digest);
        Assert.True(noLoss.Done);
    }

    [Fact]
    public async Task Untraced_SameDigestAsTraced()
    {
        // Without a Trace the engine's digest step reads the hashes the queues and the engine cache (a queue's path hash,
        // a hash per message type, a timer's receiver through its queue) instead of the names: the digest must not change.
        const string lossy = "delay 1ms loss 2%";
        var traced = await Run(wireSeed: 5, lossy, 256 << 10, TimeSpan.FromMilliseconds(500));
        var plain = await Run(wireSeed: 5, lossy, 256 << 10, TimeSpan.FromMilliseconds(500), traced: false);
        Assert.Empty(plain.Trace);
        Assert.Contains(traced.Trace, r => r.Kind == SimEventKind.TimerTell); // timers' hashes are covered too
        Assert.Equal(traced.Events, plain.Events);
        Assert.Equal(traced.Digest, plain.Digest);
        Assert.Equal(traced.StatsA, plain.StatsA);
        Assert.Equal(traced.StatsB, plain.StatsB);
    }

    [Fact]
    public async Task CleanWire_RepeatedRuns_IdenticalToTheEvent()
    {
        var runs = new List<Outcome>();
        for (int i = 0; i < 3; i++) runs.Add(await Run(wireSeed: 1, "delay 100us", 256 << 10, TimeSpan.FromMilliseconds(500)));
        Assert.True(runs[0].Done);
        Assert.True(runs[0].Events > 200, $"{runs[0].Events} events");
        Assert.All(runs, r => Assert.True(runs[0].Equals(r), FirstDifference(runs[0], r)));
    }
}
