using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Tcp;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Actors.Engine;
using ActorStack.Tests.Engine;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// Two whole hosts a (10.0.0.1) and b (10.0.0.2) on one <see cref="WireActor"/> on the product's simulation engine
/// (<see cref="EngineKit"/>), run as a discrete-event simulation: <see cref="Drive"/> lets every actor finish what it
/// has at the current instant (<see cref="SimEngine.RunUntilIdle"/>), then moves the clock exactly to the next queued
/// event. Delays are exact (no 10 ms scheduler tick) and waiting for an RTO costs no wall time. The applications at
/// both ends are actors too (<see cref="BulkClient"/>, <see cref="BulkServer"/>); the test reads their results between
/// engine runs, on the engine's own thread. Questions to the hosts are tell + run (<see cref="EngineKit.AskNow{T}"/>):
/// an Ask would complete only when the engine runs.
/// </summary>
public abstract class VirtualTimeTcpKit : EngineKit
{
    /// <summary>The sender of the kit's questions (GetStats, GetSocketInfo, GetHostDevices).</summary>
    protected readonly TestProbe Asker;

    protected VirtualTimeTcpKit(string name) : base(name)
    {
        Asker = Probe();
    }

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
        var da = (await AskNow<HostDevices>(Asker, a, GetHostDevices.Instance)).Devices["eth0"];
        var db = (await AskNow<HostDevices>(Asker, b, GetHostDevices.Instance)).Devices["eth0"];
        var w = Sys.ActorOf(WireActor.Props(da, db, wire), "wire");
        da.Tell(new AttachWire(w));
        db.Tell(new AttachWire(w));
        return new Pair(a, b, w);
    }

    /// <summary>The longest clock jump <see cref="Drive"/> made (a long one is a wait for an RTO or a backed-off timer).</summary>
    protected TimeSpan LongestJump { get; private set; }

    /// <summary>
    /// Runs the engine until <paramref name="done"/>: run everything due at the current instant, then move the clock
    /// to the next queued event (a timer; cancelled ones are not counted). Fails if nothing is queued while not done (a
    /// stall) or beyond <paramref name="maxVirtual"/>. Returns the clock jumps made and the virtual time that passed.
    /// </summary>
    protected Task<(int Jumps, TimeSpan Elapsed)> Drive(Func<bool> done, TimeSpan maxVirtual)
    {
        var start = Engine.Now;
        int jumps = 0;
        while (true)
        {
            Engine.RunUntilIdle();
            if (done()) return Task.FromResult((jumps, Engine.Now - start));
            long whenNs = Engine.NextDueNs ?? throw new Xunit.Sdk.XunitException($"stalled at +{Engine.Now - start}: no event pending, not done");
            var when = SimEngine.FromNs(whenNs);
            if (when - start > maxVirtual) throw new Xunit.Sdk.XunitException($"not done after {maxVirtual} of virtual time");
            if (when - Engine.Now > LongestJump) LongestJump = when - Engine.Now;
            Engine.RunUntilNs(whenNs); // in ns: an event between two 100 ns ticks must be reached
            jumps++;
        }
    }

    protected Task<HostStats> Stats(IActorRef host) => AskNow<HostStats>(Asker, host, GetStats.Instance);
    protected Task<TcpSocketInfo> Info(IActorRef s) => AskNow<TcpSocketInfo>(Asker, s, GetSocketInfo.Instance);
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
        public bool Done { get; private set; }

        public void Finish(string? failure = null)
        {
            Failure ??= failure;
            Done = true;
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
