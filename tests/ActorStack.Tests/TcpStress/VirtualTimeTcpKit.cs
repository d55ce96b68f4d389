using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using ActorStack.Actors.Tcp;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// Two whole hosts a (10.0.0.1) and b (10.0.0.2) on one <see cref="WireActor"/> on virtual time (TestScheduler), run
/// as a discrete-event simulation: <see cref="Drive"/> lets every actor finish what it has (<see cref="Quiescence"/>
/// counts the default dispatcher's mailbox runs), then moves the clock exactly to the next scheduled timer. Delays are
/// exact (no 10 ms scheduler tick) and waiting for an RTO costs no wall time. The applications at both ends are
/// actors too (<see cref="BulkClient"/>, <see cref="BulkServer"/>), so "nothing left to do" covers them: a test task
/// awaiting an Ask would run outside the counted dispatcher.
/// </summary>
public abstract class VirtualTimeTcpKit : TestKit
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(15); // only a failing Ask waits this long
    private static int _systems;

    private static readonly FieldInfo ScheduledWork = typeof(TestScheduler)
        .GetField("_scheduledWork", BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new InvalidOperationException("TestScheduler._scheduledWork not found (Akka.TestKit changed)");

    private readonly string _qid;
    protected readonly Quiescence Quiet;

    protected VirtualTimeTcpKit(string name) : this(name, $"{name}-{Interlocked.Increment(ref _systems)}") { }

    private VirtualTimeTcpKit(string name, string qid) : base(StackConfig.AkkaConfig($$"""
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        akka.actor.default-dispatcher {
          executor = "ActorStack.Tests.TcpStress.QuiescentExecutorConfigurator, ActorStack.Tests"
          actorstack-quiescence-id = "{{qid}}"
        }
        # The guardians run here: a top-level actor starts only when /user has handled its Supervise.
        akka.actor.internal-dispatcher {
          executor = "ActorStack.Tests.TcpStress.QuiescentExecutorConfigurator, ActorStack.Tests"
          actorstack-quiescence-id = "{{qid}}"
        }
        """), name)
    {
        _qid = qid;
        Quiet = Quiescence.For(qid);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Quiescence.Forget(_qid);
    }

    protected TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    protected static Ipv4Address Ip(string s) => Ipv4Address.Parse(s);
    protected static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    protected sealed record Pair(IActorRef A, IActorRef B, IActorRef Wire);

    /// <summary>
    /// Starts a and b and joins them with the wire. By default each has the other as a static (permanent) neighbour;
    /// <paramref name="staticNeighbours"/> false leaves the next hop to ARP. <paramref name="tcpA"/>/<paramref name="tcpB"/>
    /// give a host <see cref="TcpSettings"/> that no sysctl carries (e.g. RtoInitial), as <see cref="TcpStressKit"/> does:
    /// the namespace's TCP actor is replaced before the host handles any message.
    /// </summary>
    protected async Task<Pair> TwoHosts(WireOptions wire, SysctlSettings sysctl, bool staticNeighbours = true, TcpSettings? tcpA = null, TcpSettings? tcpB = null)
    {
        HostSettings H(string name, int mac, string addr, string peer, int peerMac) =>
            new(name, 1, sysctl, [new DeviceSettings("eth0", Mac(mac), Addresses: [Ipv4Prefix.TryParse(addr, out var p) ? p : default])])
            {
                Neighbours = staticNeighbours ? [new NeighbourSettings(Ip(peer), Mac(peerMac), "eth0")] : [],
            };
        Props Host(HostSettings h, TcpSettings? tcp)
            => HostActor.Props(h, seed: 1, tcp: tcp);
        var a = Sys.ActorOf(Host(H("a", 1, "10.0.0.1/24", "10.0.0.2", 2), tcpA), "a");
        var b = Sys.ActorOf(Host(H("b", 2, "10.0.0.2/24", "10.0.0.1", 1), tcpB), "b");
        var da = (await a.Ask<HostDevices>(GetHostDevices.Instance, Wait)).Devices["eth0"];
        var db = (await b.Ask<HostDevices>(GetHostDevices.Instance, Wait)).Devices["eth0"];
        var w = Sys.ActorOf(WireActor.Props(da, db, wire), "wire");
        da.Tell(new AttachWire(w));
        db.Tell(new AttachWire(w));
        return new Pair(a, b, w);
    }

    /// <summary>The longest clock jump <see cref="Drive"/> made (a long one is a wait for an RTO or a backed-off timer).</summary>
    protected TimeSpan LongestJump { get; private set; }

    /// <summary>
    /// Runs the system until <paramref name="done"/>: settle (every actor idle, timers due now delivered), then jump
    /// the clock to the next scheduled timer. Fails if nothing is scheduled while not done (a stall) or beyond
    /// <paramref name="maxVirtual"/>. Returns the clock jumps made and the virtual time that passed.
    /// </summary>
    protected async Task<(int Jumps, TimeSpan Elapsed)> Drive(Func<bool> done, TimeSpan maxVirtual)
    {
        var start = Clock.Now;
        int jumps = 0;
        while (true)
        {
            await Settle();
            if (done()) return (jumps, Clock.Now - start);
            long next = NextDue() ?? throw new Xunit.Sdk.XunitException($"stalled at +{Clock.Now - start}: no timer pending, not done");
            var when = new DateTimeOffset(next, TimeSpan.Zero);
            if (when - start > maxVirtual) throw new Xunit.Sdk.XunitException($"not done after {maxVirtual} of virtual time");
            if (when - Clock.Now > LongestJump) LongestJump = when - Clock.Now;
            Quiet.Hold();
            try { Clock.AdvanceTo(when); }
            finally { Quiet.Release(); }
            jumps++;
        }
    }

    /// <summary>Waits until no actor has work, delivering the timers due at the current instant (zero delays) too.</summary>
    private async Task Settle()
    {
        for (int i = 0; ; i++)
        {
            await Quiet.WhenIdle();
            Quiet.Hold();
            try { Clock.Advance(TimeSpan.Zero); }
            finally { Quiet.Release(); }
            if (Quiet.Busy == 0) return;
            if (i > 100_000) throw new Xunit.Sdk.XunitException("timers due now keep re-arming at the same instant");
        }
    }

    /// <summary>The earliest due time (UTC ticks) among the TestScheduler's buckets (cancelled timers included).</summary>
    private long? NextDue()
    {
        long? min = null;
        foreach (var k in ((IDictionary)ScheduledWork.GetValue(Clock)!).Keys)
        {
            long t = (long)k;
            if (min is null || t < min) min = t;
        }
        return min;
    }

    protected async Task<HostStats> Stats(IActorRef host) => await host.Ask<HostStats>(GetStats.Instance, Wait);
    protected async Task<TcpSocketInfo> Info(IActorRef s) => await s.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Wait);
    protected static long Ext(HostStats s, string counter) => s.Mib("TcpExt")[counter];
    protected static long Snmp(HostStats s, string counter) => s.Mib("Tcp")[counter];

    protected static string NonZero(HostStats s)
        => string.Join(" ", s.Mib("Tcp").Counters.Concat(s.Mib("TcpExt").Counters).Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}"));

    protected static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>What the two application actors of one bulk transfer did; written by them, read by the test once done.</summary>
    protected sealed class BulkRun(int bytes)
    {
        public readonly byte[] Received = new byte[bytes];
        public int Got;
        public IActorRef Client = ActorRefs.Nobody;
        public IActorRef Server = ActorRefs.Nobody;
        public string? Failure;
        private volatile bool _done;
        public bool Done => _done;

        public void Finish(string? failure = null)
        {
            Failure ??= failure;
            _done = true;
        }
    }

    private sealed class Go
    {
        public static readonly Go Instance = new();
    }

    /// <summary>Server application: socket, bind, listen, accept, then recv until <see cref="BulkRun.Received"/> is full.</summary>
    protected sealed class BulkServer : ReceiveActor
    {
        public BulkServer(IActorRef host, ushort port, IActorRef client, BulkRun run)
        {
            IActorRef listener = ActorRefs.Nobody;
            IActorRef conn = ActorRefs.Nobody;
            void Recv() => conn.Tell(new StreamRecv(Math.Min(65536, run.Received.Length - run.Got)));
            Receive<SocketCreated>(m =>
            {
                listener = m.Socket;
                listener.Tell(new Bind(Ipv4Address.Any, port));
            });
            Receive<SocketOk>(m =>
            {
                if (m.Command is Bind) listener.Tell(new Listen(16));
                else if (m.Command is Listen)
                {
                    listener.Tell(new Accept());
                    client.Tell(Go.Instance);
                }
            });
            Receive<Accepted>(m =>
            {
                conn = run.Server = m.Socket;
                Recv();
            });
            Receive<StreamData>(m =>
            {
                if (m.Eof) { run.Finish($"EOF after {run.Got} of {run.Received.Length} bytes"); return; }
                m.Data.Span.CopyTo(run.Received.AsSpan(run.Got));
                run.Got += m.Data.Length;
                if (run.Got == run.Received.Length) run.Finish();
                else Recv();
            });
            Receive<CommandFailed>(m => run.Finish($"server: {m.Command} failed with {m.Error}"));
            host.Tell(new SocketCreate(SockType.Stream));
        }
    }

    /// <summary>Client application: on the server's go, socket, connect, then send <paramref name="data"/> in 64 KiB blocking sends.</summary>
    protected sealed class BulkClient : ReceiveActor
    {
        public BulkClient(IActorRef host, Ipv4Address server, ushort port, byte[] data, BulkRun run)
        {
            IActorRef sock = ActorRefs.Nobody;
            int off = 0, pending = 0;
            void Next()
            {
                if (off >= data.Length) return;
                pending = Math.Min(65536, data.Length - off);
                sock.Tell(new SendTo(data.AsMemory(off, pending)));
            }
            Receive<Go>(_ => host.Tell(new SocketCreate(SockType.Stream)));
            Receive<SocketCreated>(m =>
            {
                sock = run.Client = m.Socket;
                sock.Tell(new StreamConnect(server, port));
            });
            Receive<SocketOk>(m => { if (m.Command is StreamConnect) Next(); });
            Receive<Sent>(m =>
            {
                if (m.Bytes != pending) { run.Finish($"client: sent {m.Bytes} of {pending}"); return; }
                off += pending;
                Next();
            });
            Receive<CommandFailed>(m => run.Finish($"client: {m.Command} failed with {m.Error}"));
        }
    }

    /// <summary>Starts one bulk transfer of <paramref name="data"/> from a to b:<paramref name="port"/>.</summary>
    protected BulkRun StartBulk(Pair p, ushort port, byte[] data)
    {
        var run = new BulkRun(data.Length);
        var host = p.A;
        var client = Sys.ActorOf(Props.Create(() => new BulkClient(host, Ip("10.0.0.2"), port, data, run)), "client");
        var server = p.B;
        Sys.ActorOf(Props.Create(() => new BulkServer(server, port, client, run)), "server");
        return run;
    }
}
