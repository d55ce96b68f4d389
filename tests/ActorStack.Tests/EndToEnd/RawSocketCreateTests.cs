using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.TcpStress;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.EndToEnd;

/// <summary>
/// <c>socket(AF_INET, SOCK_RAW, …)</c> puts the socket in the raw table (<c>inet_create</c> → <c>raw_hash_sk</c>)
/// before it returns, so an answer to a packet sent right after is delivered to it. Here the socket is an actor that
/// starts on its own schedule: the host's <see cref="SocketCreated"/> must not depend on it having started. The test
/// forces the interleaving seen under load (the traceroute flake): a's raw ICMP socket (<c>/user/a/sock-1</c>) runs on
/// a dispatcher held shut, so it cannot start while a probe goes out and its ICMP answer comes back.
/// </summary>
public sealed class RawSocketCreateTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private static int _systems;

    private readonly string _qid;
    private readonly Quiescence _held;

    public RawSocketCreateTests() : this($"raw-create-{Interlocked.Increment(ref _systems)}") { }

    private RawSocketCreateTests(string qid) : base(StackConfig.AkkaConfig($$"""
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        held-socket-dispatcher {
          type = Dispatcher
          executor = "ActorStack.Tests.TcpStress.QuiescentExecutorConfigurator, ActorStack.Tests"
          actorstack-quiescence-id = "{{qid}}"
        }
        akka.actor.deployment {
          "/a/sock-1" { dispatcher = held-socket-dispatcher }
        }
        """), "raw-create")
    {
        _qid = qid;
        _held = Quiescence.For(qid);
    }

    protected override void Dispose(bool disposing)
    {
        _held.Release();
        base.Dispose(disposing);
        Quiescence.Forget(_qid);
    }

    private static Ipv4Address Ip(string s) => Ipv4Address.Parse(s);
    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    private async Task<IActorRef> StartHost(string name, int mac, string address)
    {
        var h = new HostSettings(name, 1, new SysctlSettings(),
            [new DeviceSettings("eth0", Mac(mac), Addresses: [Ipv4Prefix.TryParse(address, out var p) ? p : default])]);
        var host = Sys.ActorOf(HostActor.Props(h, 1), name);
        await host.Ask<HostDevices>(GetHostDevices.Instance, Wait);
        return host;
    }

    [Fact]
    public async Task RawSocket_AnswerArrivesBeforeSocketActorStarts_StillDelivered()
    {
        var a = await StartHost("a", 1, "10.0.1.1/24");
        var b = await StartHost("b", 2, "10.0.1.2/24");
        var da = (await a.Ask<HostDevices>(GetHostDevices.Instance, Wait)).Devices["eth0"];
        var db = (await b.Ask<HostDevices>(GetHostDevices.Instance, Wait)).Devices["eth0"];
        var wire = Sys.ActorOf(WireActor.Props(da, db, TimeSpan.Zero));
        da.Tell(new AttachWire(wire));
        db.Tell(new AttachWire(wire));

        _held.Hold();
        var raw = (await a.Ask<SocketCreated>(new SocketCreate(SockType.Raw, IpProtocol.Icmp), Wait)).Socket;
        Assert.Equal("sock-1", raw.Path.Name);
        var udp = (await a.Ask<SocketCreated>(new SocketCreate(SockType.Dgram), Wait)).Socket;
        Assert.IsType<Sent>(await udp.Ask<object>(new SendTo(new byte[] { 1, 2, 3 }, Ip("10.0.1.2"), 33434), Wait));

        // b has nobody on the port: its port unreachable reaches a's IPv4 handler (raw_local_deliver, then ICMP)
        // while the raw socket's actor has still not run at all.
        await AwaitAssertAsync(async () =>
        {
            var s = await a.Ask<HostStats>(GetStats.Instance, Wait);
            Assert.Equal(1, s.Mib("Icmp")["InDestUnreachs"]);
        }, Wait, TimeSpan.FromMilliseconds(10));
        Assert.Equal(1, _held.Busy); // the socket's first mailbox run (its Create) is still held

        _held.Release();
        var got = Assert.IsType<Received>(await raw.Ask<object>(new Recv(16, NonBlocking: true), Wait));
        var d = Assert.Single(got.Datagrams);
        Assert.Equal(Ip("10.0.1.2"), d.Source);
        var ip = d.Payload.Span;
        Assert.Equal(3, ip[(ip[0] & 0xF) * 4]);     // ICMP_DEST_UNREACH
        Assert.Equal(3, ip[(ip[0] & 0xF) * 4 + 1]); // ICMP_PORT_UNREACH
    }
}
