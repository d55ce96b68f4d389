using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Tests.Engine;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.Apps;

/// <summary>
/// A TestKit on the product's simulation engine (<see cref="EngineKit"/>): nothing runs until the test runs the engine,
/// and the clock moves only when it does (<see cref="Advance"/>, or while <see cref="EngineKit.RunUntil"/> waits for a
/// condition), so RTTs, intervals and run times are exact. Questions to actors are Ask + run (<see cref="EngineKit.Ask{T}"/>);
/// what the test actor or a probe expects is there once everything due now has run (<see cref="EngineKit.Expect{T}"/>).
/// </summary>
public abstract class AppsHarness(string name) : EngineKit(name)
{
    /// <summary>Runs every timer and message due up to now + <paramref name="t"/>.</summary>
    protected void Advance(TimeSpan t) => Engine.RunFor(t);

    protected static Ipv4Address Ip(string s) => Ipv4Address.Parse(s);
    protected static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    protected static DeviceSettings Dev(string name, int mac, string address)
        => new(name, Mac(mac), Addresses: [Ipv4Prefix.TryParse(address, out var p) ? p : throw new FormatException(address)]);

    /// <summary>
    /// Two hosts on one cable: a (10.0.0.1, eth0 mac 1) and b (10.0.0.2, eth0 mac 2), permanent neighbours. The cable
    /// has no delay unless <paramref name="delay"/> says (a workload that runs for a time needs one: on a cable that
    /// costs no time it would do its whole work at one instant).
    /// </summary>
    protected async Task<(IActorRef A, IActorRef B)> TwoHosts(SysctlSettings? bSysctl = null, TimeSpan? delay = null)
    {
        var a = new HostSettings("a", 1, new SysctlSettings(), [Dev("eth0", 1, "10.0.0.1/24")])
        {
            Neighbours = [new NeighbourSettings(Ip("10.0.0.2"), Mac(2), "eth0")],
        };
        var b = new HostSettings("b", 1, bSysctl ?? new SysctlSettings(), [Dev("eth0", 2, "10.0.0.2/24")])
        {
            Neighbours = [new NeighbourSettings(Ip("10.0.0.1"), Mac(1), "eth0")],
        };
        var ha = Sys.ActorOf(HostActor.Props(a, seed: 1), "a");
        var hb = Sys.ActorOf(HostActor.Props(b, seed: 2), "b");
        var da = await Ask<HostDevices>(ha, GetHostDevices.Instance);
        var db = await Ask<HostDevices>(hb, GetHostDevices.Instance);
        var wire = Sys.ActorOf(WireActor.Props(da.Devices["eth0"], db.Devices["eth0"], delay ?? TimeSpan.Zero));
        da.Devices["eth0"].Tell(new AttachWire(wire));
        db.Devices["eth0"].Tell(new AttachWire(wire));
        return (ha, hb);
    }

    protected async Task<IActorRef> Socket(IActorRef host, SockType type, byte protocol = 0)
    {
        var created = await Ask<SocketCreated>(host, new SocketCreate(type, protocol));
        await Ask<SocketInfo>(created.Socket, GetSocketInfo.Instance); // started: PreStart registered it
        return created.Socket;
    }

    /// <summary>The next <paramref name="n"/> output lines told to the test actor, each once it is there (wire time and CPU cost pass).</summary>
    protected async Task<List<string>> Lines(int n)
    {
        var lines = new List<string>();
        for (int i = 0; i < n; i++) lines.Add((await ExpectSoon<WorkloadOutput>()).Line);
        return lines;
    }

    /// <summary>An IPv4 packet (20-byte header) around <paramref name="payload"/>.</summary>
    protected static byte[] IpPacket(Ipv4Address src, Ipv4Address dst, byte protocol, ReadOnlySpan<byte> payload, byte ttl = 64)
    {
        var p = new byte[20 + payload.Length];
        Ipv4Header.Write(p, p.Length, 1, 0, ttl, protocol, src, dst);
        payload.CopyTo(p.AsSpan(20));
        return p;
    }

    /// <summary>An ICMP error from <paramref name="from"/> to <paramref name="to"/> quoting the first 28 bytes of <paramref name="offending"/>.</summary>
    protected static byte[] IcmpError(Ipv4Address from, Ipv4Address to, byte type, byte code, byte[] offending, ushort mtu = 0)
    {
        var icmp = new byte[8 + Math.Min(28, offending.Length)];
        icmp[0] = type;
        icmp[1] = code;
        icmp[6] = (byte)(mtu >> 8);
        icmp[7] = (byte)mtu;
        offending.AsSpan(0, icmp.Length - 8).CopyTo(icmp.AsSpan(8));
        var c = Checksum.Compute(icmp);
        icmp[2] = (byte)(c >> 8);
        icmp[3] = (byte)c;
        return IpPacket(from, to, IpProtocol.Icmp, icmp);
    }

    protected static Received Got(Ipv4Address from, byte[] packet) => new([new Datagram(from, 0, packet, 0)]);
}

/// <summary>
/// A user-space echo responder on a raw ICMP socket standing in for the kernel's (<c>icmp_echo</c>): every echo
/// request it reads is answered with an echo reply carrying the same identifier, sequence and data.
/// </summary>
public sealed class RawEchoResponder : ReceiveActor
{
    private readonly IActorRef _raw;

    public RawEchoResponder(IActorRef raw)
    {
        _raw = raw;
        Receive<Received>(r =>
        {
            raw.Tell(new Recv(16));
            foreach (var d in r.Datagrams)
            {
                var p = d.Payload.Span;
                int hlen = (p[0] & 0x0F) * 4;
                if (p.Length < hlen + 8 || p[hlen] != 8) continue;
                var reply = p[hlen..].ToArray();
                reply[0] = 0;
                reply[2] = 0; reply[3] = 0;
                var c = Checksum.Compute(reply);
                reply[2] = (byte)(c >> 8);
                reply[3] = (byte)c;
                raw.Tell(new SendTo(reply, d.Source));
            }
        });
        Receive<Sent>(_ => { });
        Receive<CommandFailed>(_ => { });
    }

    protected override void PreStart() => _raw.Tell(new Recv(16));
}
