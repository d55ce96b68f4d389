using System.Diagnostics;
using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Exploration;

/// <summary>
/// Whole hosts inside one exploration iteration (<see cref="ExplorationContext.System"/>, on its engine): the kits of the
/// other test folders build their hosts in a TestKit's system made once per test, an exploration body needs a fresh
/// one per schedule. Questions are Akka's Ask without a timeout timer, answered by running the engine at the current
/// instant (moving the clock only if the answer needs time); everything is synchronous on the body's thread.
/// </summary>
internal sealed class StackNet(ExplorationContext ctx)
{
    public ActorSystem System => ctx.System;
    public SimEngine Engine => ctx.Engine;

    public static Ipv4Address Ip(string s) => Ipv4Address.Parse(s);
    public static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    /// <summary>Asks <paramref name="target"/> and runs the engine until the answer is there (at most <paramref name="within"/> of simulated time).</summary>
    public T Ask<T>(IActorRef target, object message, TimeSpan? within = null)
    {
        Engine.RunUntilIdle();
        var answer = target.Ask<object>(message);
        RunUntil(() => answer.IsCompleted, within ?? TimeSpan.FromSeconds(1), $"answer of {target.Path.Name} to {message.GetType().Name}");
        var r = answer.GetAwaiter().GetResult();
        return r is T t ? t : throw new Xunit.Sdk.XunitException($"{target.Path.Name} answered {message.GetType().Name} with {r}, expected {typeof(T).Name}");
    }

    /// <summary>
    /// Runs everything due now and, while <paramref name="done"/> does not hold, moves the clock to the next queued
    /// event; fails on a stall or when the next event lies beyond <paramref name="within"/>. Returns the simulated time that passed.
    /// </summary>
    public TimeSpan RunUntil(Func<bool> done, TimeSpan within, string what)
    {
        var start = Engine.Now;
        while (true)
        {
            Engine.RunUntilIdle();
            if (done()) return Engine.Now - start;
            long whenNs = Engine.NextDueNs ?? throw new Xunit.Sdk.XunitException($"{what}: stalled at +{Engine.Now - start}, nothing queued");
            if (SimEngine.FromNs(whenNs) - start > within) throw new Xunit.Sdk.XunitException($"{what}: not met within {within} of simulated time");
            Engine.RunUntilNs(whenNs);
        }
    }

    public sealed record Node(string Name, IActorRef Host, IActorRef Eth0);

    /// <summary>
    /// A host with eth0 (MAC 02:00:00:00:00:<paramref name="mac"/>, <paramref name="address"/>/24); the peers in
    /// <paramref name="permanent"/> as permanent neighbours (none: ARP resolves them).
    /// </summary>
    public Node Host(string name, int mac, string address, SysctlSettings? sysctl = null, HostLinkSettings? link = null, TcpSettings? tcp = null,
        params (string Ip, int Mac)[] permanent)
    {
        var settings = new HostSettings(name, 1, sysctl ?? new SysctlSettings(),
            [new DeviceSettings("eth0", Mac(mac), Addresses: [new Ipv4Prefix(Ip(address), 24)])])
        {
            Neighbours = [.. permanent.Select(p => new NeighbourSettings(Ip(p.Ip), Mac(p.Mac), "eth0"))],
        };
        var host = System.ActorOf(HostActor.Props(settings, seed: 1, link: link, tcp: tcp), name);
        var eth0 = Ask<HostDevices>(host, GetHostDevices.Instance).Devices["eth0"];
        return new Node(name, host, eth0);
    }

    /// <summary>A wire between the two hosts' eth0 (AttachWire on both ends), run until both carriers are up.</summary>
    public IActorRef Wire(Node a, Node b, TimeSpan delay, string name = "wire")
    {
        var w = System.ActorOf(WireActor.Props(a.Eth0, b.Eth0, new WireOptions(name, 1, delay)), name);
        a.Eth0.Tell(new AttachWire(w));
        b.Eth0.Tell(new AttachWire(w));
        Engine.RunUntilIdle();
        return w;
    }

    public HostStats Stats(Node n) => Ask<HostStats>(n.Host, GetStats.Instance);
    public WireStats WireStats(IActorRef wire) => Ask<WireStats>(wire, GetWireStats.Instance);

    public IActorRef Socket(Node n, SockType type)
    {
        var s = Ask<SocketCreated>(n.Host, new SocketCreate(type)).Socket;
        Ask<object>(s, GetSocketInfo.Instance); // started: PreStart registered it
        return s;
    }

    /// <summary>A socket command's errno (OK for SocketOk and Sent).</summary>
    public Errno Command(IActorRef socket, object command, TimeSpan? within = null)
        => Ask<object>(socket, command, within) switch
        {
            SocketOk or Sent => Errno.OK,
            CommandFailed f => f.Error,
            var r => throw new Xunit.Sdk.XunitException($"unexpected answer {r} to {command}"),
        };

    /// <summary>An actor that keeps every message it gets (answers to tells the body sends on behalf of an application).</summary>
    public (IActorRef Ref, List<object> Got) Inbox(string name)
    {
        var got = new List<object>();
        return (System.ActorOf(Props.Create(() => new InboxActor(got)), name), got);
    }

    private sealed class InboxActor : ReceiveActor
    {
        public InboxActor(List<object> got) => ReceiveAny(got.Add);
    }

    /// <summary><c>ip -s ntable</c> / <c>/proc/net/stat/arp_cache</c> of a host: its neighbour actor's (the host's child "neigh") ArpStats.</summary>
    public ArpStats Arp(Node n)
    {
        Engine.RunUntilIdle();
        var answer = System.ActorSelection(n.Host.Path / "neigh").Ask<ArpStats>(GetArpStats.Instance);
        RunUntil(() => answer.IsCompleted, TimeSpan.FromSeconds(1), $"arp stats of {n.Name}");
        return answer.GetAwaiter().GetResult();
    }

    public TcpSocketInfo TcpInfo(IActorRef socket) => Ask<TcpSocketInfo>(socket, GetSocketInfo.Instance);

    /// <summary>A TCP connection a → b:<paramref name="port"/>: b's listener (backlog <paramref name="backlog"/>), a's connected socket, b's accepted one.</summary>
    public (IActorRef Listener, IActorRef Client, IActorRef Server) Connect(Node a, Node b, ushort port, int backlog = 8)
    {
        var listener = Listener(b, port, backlog);
        var client = Socket(a, SockType.Stream);
        Assert.Equal(Errno.OK, Command(client, new StreamConnect(Ip("10.0.0.2"), port)));
        var server = Ask<Accepted>(listener, new Accept()).Socket;
        return (listener, client, server);
    }

    public IActorRef Listener(Node b, ushort port, int backlog)
    {
        var listener = Socket(b, SockType.Stream);
        Assert.Equal(Errno.OK, Command(listener, new Bind(Ipv4Address.Any, port)));
        Assert.Equal(Errno.OK, Command(listener, new Listen(backlog)));
        return listener;
    }

    public static long Mib(HostStats s, string mib, string counter) => s.Mib(mib)[counter];

    /// <summary>Drops of a host as "location reason=n" (for messages).</summary>
    public static string Drops(HostStats s) => string.Join(", ", s.Drops.Where(d => d.Packets > 0).Select(d => $"{d.Site.Location} {d.Site.Reason}={d.Packets}"));
}

/// <summary>What one behaviour's exploration did: for the log (README's "What exploration found in the stack").</summary>
internal static class ExplorationLog
{
    /// <summary>
    /// Runs <paramref name="iterations"/> schedules of <paramref name="body"/> under <paramref name="strategy"/>, fails
    /// with the failure (and its trace file) if one is found, and writes schedules per second to the test output.
    /// </summary>
    public static ExplorationResult Run(Xunit.Abstractions.ITestOutputHelper output, string behaviour, int iterations, string strategy,
        Action<ExplorationContext> body, ExploreOptions options)
    {
        var sw = Stopwatch.StartNew();
        var r = ScheduleExplorer.Explore(iterations, strategy, body, options);
        sw.Stop();
        output.WriteLine($"{behaviour}: {strategy} seed {options.Seed}, {r.Iterations} schedules in {sw.Elapsed.TotalSeconds:F2} s " +
                         $"({r.Iterations / sw.Elapsed.TotalSeconds:F0}/s), {(r.Found ? r.Failure!.ToString() : "no failure")}");
        Assert.False(r.Found, r.Failure?.ToString());
        Assert.Equal(iterations, r.Iterations);
        return r;
    }
}
