using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Dispatch;
using Akka.TestKit;
using ActorStack.Actors.Engine;
using ActorStack.Tests.Engine;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.EndToEnd;

/// <summary>
/// <c>socket(AF_INET, SOCK_RAW, …)</c> puts the socket in the raw table (<c>inet_create</c> → <c>raw_hash_sk</c>)
/// before it returns, so an answer to a packet sent right after is delivered to it. Here the socket is an actor that
/// starts on its own schedule: the host's <see cref="SocketCreated"/> must not depend on it having started. The test
/// forces the interleaving seen under load (the traceroute flake) on the simulation engine: a's raw ICMP socket
/// (<c>/user/a/sock-1</c>) runs on a dispatcher held shut (<see cref="HeldExecutorConfigurator"/>), so it cannot start
/// while a probe goes out and its ICMP answer comes back.
/// </summary>
public sealed class RawSocketCreateTests : EngineKit
{
    private readonly string _hid;
    private readonly HeldRuns _held;
    private readonly TestProbe _p;

    public RawSocketCreateTests() : this(HeldRuns.New("raw-create", "/a/sock-1")) { }

    private RawSocketCreateTests((string Id, string Hocon) held) : base("raw-create", held.Hocon)
    {
        _hid = held.Id;
        _held = HeldRuns.For(held.Id);
        _p = Probe();
    }

    protected override void Dispose(bool disposing) => HeldRuns.End(_hid, () => base.Dispose(disposing));

    private static Ipv4Address Ip(string s) => Ipv4Address.Parse(s);
    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    private async Task<IActorRef> StartHost(string name, int mac, string address)
    {
        var h = new HostSettings(name, 1, new SysctlSettings(),
            [new DeviceSettings("eth0", Mac(mac), Addresses: [Ipv4Prefix.TryParse(address, out var p) ? p : default])]);
        var host = Sys.ActorOf(HostActor.Props(h, 1), name);
        await AskNow<HostDevices>(_p, host, GetHostDevices.Instance);
        return host;
    }

    [Fact]
    public async Task RawSocket_AnswerArrivesBeforeSocketActorStarts_StillDelivered()
    {
        var a = await StartHost("a", 1, "10.0.1.1/24");
        var b = await StartHost("b", 2, "10.0.1.2/24");
        var da = (await AskNow<HostDevices>(_p, a, GetHostDevices.Instance)).Devices["eth0"];
        var db = (await AskNow<HostDevices>(_p, b, GetHostDevices.Instance)).Devices["eth0"];
        var wire = Sys.ActorOf(WireActor.Props(da, db, TimeSpan.Zero));
        da.Tell(new AttachWire(wire));
        db.Tell(new AttachWire(wire));
        Engine.RunUntilIdle();

        _held.Hold();
        var raw = (await AskNow<SocketCreated>(_p, a, new SocketCreate(SockType.Raw, IpProtocol.Icmp))).Socket;
        Assert.Equal("sock-1", raw.Path.Name);
        var udp = (await AskNow<SocketCreated>(_p, a, new SocketCreate(SockType.Dgram))).Socket;
        Assert.IsType<Sent>(await AskNow<object>(_p, udp, new SendTo(new byte[] { 1, 2, 3 }, Ip("10.0.1.2"), 33434)));

        // b has nobody on the port: its port unreachable reaches a's IPv4 handler (raw_local_deliver, then ICMP)
        // while the raw socket's actor has still not run at all. The wire has no delay, so ARP, the datagram and the
        // answer take only their wire time at 10 Gbit/s: ARP request, ARP reply and the datagram are minimum frames
        // (67.2 ns → 68 ns each), the port unreachable 73 bytes (77.6 ns → 78 ns): 282 ns after the send.
        long sent = Engine.NowNs;
        Engine.RunUntilIdle();
        while (Engine.Pending.NextDue is { } due && due - Engine.Now <= TimeSpan.FromMicroseconds(100)) Engine.Step();
        Assert.Equal(282, Engine.NowNs - sent);
        var s = await AskNow<HostStats>(_p, a, GetStats.Instance);
        Assert.Equal(1, s.Mib("Icmp")["InDestUnreachs"]);
        Assert.Equal(1, _held.Count); // the socket's first mailbox run (its Create) is still held

        _held.Release();
        var got = Assert.IsType<Received>(await AskNow<object>(_p, raw, new Recv(16, NonBlocking: true)));
        var d = Assert.Single(got.Datagrams);
        Assert.Equal(Ip("10.0.1.2"), d.Source);
        var ip = d.Payload.Span;
        Assert.Equal(3, ip[(ip[0] & 0xF) * 4]);     // ICMP_DEST_UNREACH
        Assert.Equal(3, ip[(ip[0] & 0xF) * 4 + 1]); // ICMP_PORT_UNREACH
    }
}

/// <summary>
/// The mailbox runs of a dispatcher held shut (<see cref="HeldExecutorConfigurator"/>): while held they are kept
/// (<see cref="Count"/>); <see cref="Release"/> hands them, and every later one, to the simulation engine.
/// </summary>
public sealed class HeldRuns
{
    private static readonly ConcurrentDictionary<string, HeldRuns> Registry = new();

    private readonly Lock _gate = new();
    private readonly List<(ExecutorService Engine, IRunnable Run)> _held = [];
    private bool _holding;

    private static int _ids;

    /// <summary>The instance a dispatcher config's <c>actorstack-held-id</c> names.</summary>
    public static HeldRuns For(string id) => Registry.GetOrAdd(id, _ => new HeldRuns());

    public static void Forget(string id) => Registry.TryRemove(id, out _);

    /// <summary>A fresh id (<paramref name="prefix"/>-N, one per test class instance) and the HOCON that deploys <paramref name="actorPath"/> on its held dispatcher.</summary>
    public static (string Id, string Hocon) New(string prefix, string actorPath)
    {
        var id = $"{prefix}-{Interlocked.Increment(ref _ids)}";
        return (id, Deploy(id, actorPath));
    }

    /// <summary>A test class's end: what is held runs before its system stops (<paramref name="disposeKit"/>), then the id is forgotten.</summary>
    public static void End(string id, Action disposeKit)
    {
        For(id).Release();
        disposeKit();
        Forget(id);
    }

    /// <summary>The HOCON that deploys <paramref name="actorPath"/> (e.g. <c>/h/ip</c>) on a dispatcher held by the instance <paramref name="id"/> names.</summary>
    public static string Deploy(string id, string actorPath) => $$"""
        held-dispatcher {
          type = Dispatcher
          executor = "ActorStack.Tests.EndToEnd.HeldExecutorConfigurator, ActorStack.Tests"
          actorstack-held-id = "{{id}}"
          throughput = 30
          throughput-deadline-time = 0ms
        }
        akka.actor.deployment {
          "{{actorPath}}" { dispatcher = held-dispatcher }
        }
        """;

    /// <summary>Mailbox runs held now.</summary>
    public int Count
    {
        get { using (_gate.EnterScope()) return _held.Count; }
    }

    /// <summary>From now on the dispatcher's mailbox runs are kept until <see cref="Release"/>.</summary>
    public void Hold()
    {
        using (_gate.EnterScope()) _holding = true;
    }

    public void Release()
    {
        (ExecutorService Engine, IRunnable Run)[] runs;
        using (_gate.EnterScope())
        {
            _holding = false;
            runs = [.. _held];
            _held.Clear();
        }
        foreach (var (engine, run) in runs) engine.Execute(run);
    }

    internal void Execute(ExecutorService engine, IRunnable run)
    {
        using (_gate.EnterScope())
        {
            if (_holding)
            {
                _held.Add((engine, run));
                return;
            }
        }
        engine.Execute(run);
    }
}

/// <summary>
/// <c>executor = "ActorStack.Tests.EndToEnd.HeldExecutorConfigurator, ActorStack.Tests"</c> with
/// <c>actorstack-held-id</c> in the same dispatcher section: mailbox runs are engine events
/// (<see cref="EngineExecutorConfigurator"/>), except while that id's <see cref="HeldRuns"/> holds them.
/// </summary>
public sealed class HeldExecutorConfigurator(Akka.Configuration.Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    private readonly HeldRuns _held = HeldRuns.For(config.GetString("actorstack-held-id"));
    private readonly EngineExecutorConfigurator _engine = new(config, prerequisites);

    public override ExecutorService Produce(string id) => new HeldExecutor(id, _held, _engine.Produce(id));

    private sealed class HeldExecutor(string id, HeldRuns held, ExecutorService engine) : ExecutorService(id)
    {
        public override void Execute(IRunnable run) => held.Execute(engine, run);

        public override void Shutdown() => engine.Shutdown();
    }
}
