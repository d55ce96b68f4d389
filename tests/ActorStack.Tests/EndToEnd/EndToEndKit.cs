using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Engine;
using ActorStack.Tests.Engine;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.EndToEnd;

/// <summary>
/// Whole simulated networks on the simulation engine: hosts from settings, cables without delay, real ARP (no
/// permanent neighbours unless a test gives some). The clock moves only when a test calls <see cref="Advance"/>,
/// so neighbour, ICMP and reassembly timers fire exactly when told. Questions run the engine (<see cref="AskRun{T}"/>):
/// an Ask completes only when the engine runs what it caused.
/// The routed network is a (10.0.1.1) — r1 (10.0.1.254 | 10.0.2.1) — r2 (10.0.2.2 | 10.0.3.254) — b (10.0.3.1).
/// </summary>
public abstract class EndToEndKit(string name) : EngineKit(name)
{
    protected static readonly TimeSpan Wait = Timeouts.Wall;
    protected static readonly SysctlSettings Router = new() { IpForward = true };

    /// <summary>The engine's clock as the tests use it: <see cref="EngineClock.Now"/> (the scheduler's) and <see cref="EngineClock.Advance"/>.</summary>
    protected EngineClock Clock => new(Engine, Sys.Scheduler);

    protected readonly record struct EngineClock(SimEngine Engine, IScheduler Scheduler)
    {
        public DateTimeOffset Now => Scheduler.Now;

        /// <summary>Runs every timer and message due up to now + <paramref name="by"/>.</summary>
        public void Advance(TimeSpan by) => Engine.RunFor(by);
    }

    /// <summary>An Ask on the engine: asks, settles (<see cref="Settle"/>: the answer included), then takes the answer.</summary>
    protected async Task<T> AskRun<T>(IActorRef actor, object message)
    {
        var answer = actor.Ask<T>(message, Wait);
        Settle();
        return await answer;
    }

    /// <summary>Events closer together than this are one burst of traffic (frames at line rate), not a timer.</summary>
    protected static readonly TimeSpan SettleGap = TimeSpan.FromMicroseconds(100);

    /// <summary>
    /// Runs what is due now, then on, event by event, while the next one is at most <see cref="SettleGap"/> away (and
    /// for at most 10 ms): frames take their wire time at the line rate (67 ns to 1.2 µs each at 10 Gbit/s), so a path
    /// with no timer on it still moves the clock by a few µs; protocol timers (ms and more) stay unfired.
    /// </summary>
    protected void Settle()
    {
        Engine.RunUntilIdle();
        var until = Engine.Now + TimeSpan.FromMilliseconds(10);
        while (Engine.Pending.NextDue is { } due && due - Engine.Now <= SettleGap && due <= until) Engine.Step();
    }

    protected static Ipv4Address Ip(string s) => Ipv4Address.Parse(s);
    protected static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);
    protected static Ipv4Prefix Prefix(string s) => Ipv4Prefix.TryParse(s, out var p) ? p : throw new FormatException(s);

    protected static DeviceSettings Dev(string name, int mac, string address, int mtu = 1500)
        => new(name, Mac(mac), Mtu: mtu, RxBufferSize: Math.Max(2048, mtu + 18), Addresses: [Prefix(address)]);

    protected static RouteSettings Route(string prefix, string via) => new(Prefix(prefix), Ip(via));

    protected sealed record Node(string Name, IActorRef Host, ImmutableDictionary<string, IActorRef> Devices);

    protected sealed record Routed(Node A, Node R1, Node R2, Node B);

    protected async Task<Node> Start(HostSettings h, int seed = 1)
    {
        var host = Sys.ActorOf(HostActor.Props(h, seed), h.Name);
        var devs = await AskRun<HostDevices>(host, GetHostDevices.Instance);
        return new Node(h.Name, host, devs.Devices);
    }

    /// <summary>A cable between two devices (AttachWire on both ends), with no delay.</summary>
    protected IActorRef Cable(IActorRef a, IActorRef b)
    {
        var wire = Sys.ActorOf(WireActor.Props(a, b, TimeSpan.Zero));
        a.Tell(new AttachWire(wire));
        b.Tell(new AttachWire(wire));
        return wire;
    }

    /// <summary>a — r1 — r2 — b with static routes and real ARP on every link.</summary>
    protected async Task<Routed> BuildRouted()
    {
        var a = await Start(new HostSettings("a", 1, new SysctlSettings(), [Dev("eth0", 1, "10.0.1.1/24")])
        {
            Routes = [Route("0.0.0.0/0", "10.0.1.254")],
        }, 1);
        var r1 = await Start(new HostSettings("r1", 1, Router, [Dev("eth0", 11, "10.0.1.254/24"), Dev("eth1", 12, "10.0.2.1/24")])
        {
            Routes = [Route("10.0.3.0/24", "10.0.2.2")],
        }, 2);
        var r2 = await Start(new HostSettings("r2", 1, Router, [Dev("eth0", 21, "10.0.2.2/24"), Dev("eth1", 22, "10.0.3.254/24")])
        {
            Routes = [Route("10.0.1.0/24", "10.0.2.1")],
        }, 3);
        var b = await Start(new HostSettings("b", 1, new SysctlSettings(), [Dev("eth0", 3, "10.0.3.1/24")])
        {
            Routes = [Route("0.0.0.0/0", "10.0.3.254")],
        }, 4);
        Cable(a.Devices["eth0"], r1.Devices["eth0"]);
        Cable(r1.Devices["eth1"], r2.Devices["eth0"]);
        Cable(r2.Devices["eth1"], b.Devices["eth0"]);
        return new Routed(a, r1, r2, b);
    }

    protected async Task<IActorRef> Socket(IActorRef host, SockType type = SockType.Dgram, byte protocol = 0)
    {
        var created = await AskRun<SocketCreated>(host, new SocketCreate(type, protocol));
        await AskRun<SocketInfo>(created.Socket, GetSocketInfo.Instance); // started: PreStart registered it
        return created.Socket;
    }

    /// <summary>Sends a socket command; returns the Errno (OK for SocketOk / Sent).</summary>
    protected async Task<Errno> Command(IActorRef socket, object command)
        => await AskRun<object>(socket, command) switch
        {
            SocketOk or Sent => Errno.OK,
            CommandFailed f => f.Error,
            var r => throw new InvalidOperationException($"unexpected answer {r}"),
        };

    protected async Task<IActorRef> BoundSocket(IActorRef host, string address, ushort port)
    {
        var s = await Socket(host);
        Assert.Equal(Errno.OK, await Command(s, new Bind(Ip(address), port)));
        return s;
    }

    protected Task<Errno> SendTo(IActorRef socket, byte[] payload, string? dst = null, ushort port = 0)
        => Command(socket, new SendTo(payload, dst is null ? null : Ip(dst), port));

    /// <summary>One blocking read: the datagram, or the error it ended with.</summary>
    protected async Task<(Datagram? D, Errno Error)> RecvOne(IActorRef socket, bool nonBlocking = false)
        => await AskRun<object>(socket, new Recv(1, nonBlocking)) switch
        {
            Received r => (Assert.Single(r.Datagrams), Errno.OK),
            CommandFailed f => (null, f.Error),
            var r => throw new InvalidOperationException($"unexpected answer {r}"),
        };

    protected Task<HostStats> Stats(Node n) => AskRun<HostStats>(n.Host, GetStats.Instance);

    protected static long Mib(HostStats s, string mib, string counter) => s.Mib(mib)[counter];

    /// <summary>Awaits until <paramref name="check"/> holds on a fresh snapshot (the stack is asynchronous).</summary>
    protected Task Eventually(Node n, Action<HostStats> check)
        => AwaitAssertAsync(async () => check(await Stats(n)), Wait, TimeSpan.FromMilliseconds(10));

    /// <summary><c>ip neigh</c> of a host; answered by its neighbour actor after everything sent to it before.</summary>
    protected async Task<string> Neigh(Node n) => (await AskRun<NeighbourList>(n.Host, GetNeighbours.Instance)).Text;

    /// <summary>Moves virtual time on, then waits until <paramref name="n"/>'s neighbour actor handled its timers.</summary>
    protected async Task Advance(TimeSpan by, Node? n = null)
    {
        Engine.RunFor(by);
        if (n is not null) await Neigh(n);
    }

    /// <summary>The next <paramref name="count"/> output lines a workload told <paramref name="output"/>.</summary>
    protected async Task<List<string>> Lines(TestProbe output, int count)
    {
        Settle();
        var lines = new List<string>();
        for (int i = 0; i < count; i++) lines.Add((await output.ExpectMsgAsync<WorkloadOutput>(Wait)).Line);
        return lines;
    }

    /// <summary>
    /// <see cref="Lines"/> for a test whose path needs no timer: a line that never comes fails with the lines so far,
    /// which one is missing, and <paramref name="hosts"/>' counters (<see cref="Dump"/>), so a failing run says where
    /// the packet stopped.
    /// </summary>
    protected async Task<List<string>> LinesOrDump(TestProbe output, int count, params Node[] hosts)
    {
        Settle();
        var lines = new List<string>();
        for (int i = 0; i < count; i++)
        {
            WorkloadOutput line;
            try { line = await output.ExpectMsgAsync<WorkloadOutput>(Wait); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var sb = new System.Text.StringBuilder();
                sb.Append($"output line {i} of {count} never came ({e.GetType().Name}); got:\n");
                foreach (var l in lines) sb.Append("  | ").Append(l).Append('\n');
                foreach (var h in hosts) sb.Append(await Dump(h));
                Assert.Fail(sb.ToString());
                throw;
            }
            lines.Add(line.Line);
        }
        return lines;
    }

    /// <summary>
    /// A host's non-zero counters in one block: per device <c>ip -s link</c> and qdisc, <c>softnet_stat</c>, every
    /// SNMP MIB, drop reasons (dropwatch) and sockets (queue, drops, reads).
    /// </summary>
    protected async Task<string> Dump(Node n)
    {
        HostStats s;
        try { s = await AskRun<HostStats>(n.Host, GetStats.Instance); }
        catch (Exception e) when (e is not OutOfMemoryException) { return $"== {n.Name}: no stats ({e.GetType().Name})\n"; }
        return Testing.HostView.Dump(s);
    }

    protected static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }
}
