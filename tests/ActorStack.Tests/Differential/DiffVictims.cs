using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;
using ActorStack.Tests.Tap;

namespace ActorStack.Tests.Differential;

/// <summary>
/// What both victims of the differential suite are given, so that one script sees the same host twice: the victim
/// 192.0.2.2/24 with MAC <see cref="DiffFrames.VictimMac"/>; services (UDP echo on 7, a UDP socket on 9 that is never
/// read, a TCP echo on 7 that accepts, echoes, and closes first after echoing "bye", a TCP listener on 80 with
/// backlog <see cref="ListenBacklog"/> that never accepts); and sysctls: <c>icmp_ratelimit</c> 0 and a large global
/// ICMP budget (every case's errors go to the tester; the limiter is not what the suite compares),
/// <c>ipfrag_time</c> 1 s (so reassembly timeouts come quickly), syncookies 1 (the default).
/// </summary>
public static class DiffServices
{
    public const ushort Echo = 7, Sink = 9, Listener = 80;
    public const int ListenBacklog = 8;
    public const int IcmpMsgsPerSec = 100000, IcmpMsgsBurst = 10000;
    public static readonly TimeSpan FragTime = TimeSpan.FromSeconds(1);
    /// <summary>What the TCP echo service answers by closing its side first (so the victim goes to TIME_WAIT).</summary>
    public static readonly byte[] Bye = Encoding.ASCII.GetBytes("bye");
}

/// <summary>One side of the comparison: a port to inject and capture frames on, and the victim's counters.</summary>
public abstract class DiffVictim : IAsyncDisposable
{
    public abstract string Side { get; }
    public DiffPacketPort Port { get; protected set; } = null!;

    /// <summary>Every counter of <c>/proc/net/snmp</c> and <c>/proc/net/netstat</c> (or the simulated MIBs), as "Mib.Name".</summary>
    public abstract Task<Dictionary<string, long>> Counters();

    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// The Linux victim: namespace "asdf-…" holding veth <c>asdfv0</c> (192.0.2.2/24, the victim's MAC, TX checksum
/// offload off so the tester sees final checksums), whose peer <c>asdft0</c> is in a second namespace of the test's own
/// without addresses, where the packet port is. The services are .NET sockets made inside the victim's namespace.
/// </summary>
public sealed class LinuxDiffVictim : DiffVictim
{
    private readonly List<IDisposable> _owned = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private Netns _victim = null!;

    public override string Side => "linux";

    public static LinuxDiffVictim Create()
    {
        var v = new LinuxDiffVictim();
        try
        {
            v.Build();
            return v;
        }
        catch
        {
            v.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private void Build()
    {
        _victim = Netns.Create(prefix: "asdf");
        _owned.Add(_victim);
        var tester = Netns.Create(prefix: "asdf");
        _owned.Add(tester);
        _victim.Ip("link", "add", "asdfv0", "type", "veth", "peer", "name", "asdft0", "netns", tester.Name);
        _victim.Ip("link", "set", "asdfv0", "address", DiffFrames.VictimMac.ToString());
        tester.Ip("link", "set", "asdft0", "address", DiffFrames.TesterMac.ToString());
        // veth hands CHECKSUM_PARTIAL packets to its peer unchanged: with TX checksumming off the victim computes them.
        Netns.Exec("ip", "netns", "exec", _victim.Name, "ethtool", "-K", "asdfv0", "tx", "off");
        _victim.Ip("addr", "add", $"{DiffFrames.VictimIp}/24", "dev", "asdfv0");
        _victim.Sysctl("net.ipv4.icmp_ratelimit", "0");
        _victim.Sysctl("net.ipv4.icmp_msgs_per_sec", DiffServices.IcmpMsgsPerSec.ToString());
        _victim.Sysctl("net.ipv4.icmp_msgs_burst", DiffServices.IcmpMsgsBurst.ToString());
        _victim.Sysctl("net.ipv4.ipfrag_time", ((int)DiffServices.FragTime.TotalSeconds).ToString());
        _victim.Sysctl("net.ipv4.tcp_syncookies", "1");
        // The simulation's tcp_rmem/tcp_wmem (Linux 6.18's default tcp_rmem max is 32 MiB: window scale 10, not 7).
        var tcp = SimDiffVictim.Sysctl.Tcp;
        _victim.Sysctl("net.ipv4.tcp_rmem", $"{tcp.RmemMin} {tcp.RmemDefault} {tcp.RmemMax}");
        _victim.Sysctl("net.ipv4.tcp_wmem", $"{tcp.WmemMin} {tcp.WmemDefault} {tcp.WmemMax}");
        tester.Ip("link", "set", "asdft0", "up");
        _victim.Ip("link", "set", "asdfv0", "up");
        Port = DiffPacketPort.Open(tester, "asdft0", DiffFrames.VictimIp);
        _owned.Insert(0, Port);

        var any = IPAddress.Any;
        var echo = NetnsSocket.Udp(_victim, new IPEndPoint(any, DiffServices.Echo));
        _sockets.Add(echo);
        _ = UdpEcho(echo);
        _sockets.Add(NetnsSocket.Udp(_victim, new IPEndPoint(any, DiffServices.Sink)));
        var tcpEcho = NetnsSocket.Open(_victim, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sockets.Add(tcpEcho);
        tcpEcho.Bind(new IPEndPoint(any, DiffServices.Echo));
        tcpEcho.Listen(16);
        _ = TcpEcho(tcpEcho);
        var listener = NetnsSocket.Open(_victim, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sockets.Add(listener);
        listener.Bind(new IPEndPoint(any, DiffServices.Listener));
        listener.Listen(DiffServices.ListenBacklog);
    }

    private async Task UdpEcho(Socket s)
    {
        var buf = new byte[65536];
        try
        {
            while (true)
            {
                var r = await s.ReceiveFromAsync(buf, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                await s.SendToAsync(buf.AsMemory(0, r.ReceivedBytes), SocketFlags.None, r.RemoteEndPoint, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task TcpEcho(Socket listener)
    {
        try
        {
            while (true)
            {
                var c = await listener.AcceptAsync(_stop.Token);
                _ = EchoConnection(c);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task EchoConnection(Socket c)
    {
        var buf = new byte[65536];
        using (c)
        {
            try
            {
                while (true)
                {
                    int n = await c.ReceiveAsync(buf, SocketFlags.None, _stop.Token);
                    if (n == 0) break;
                    await c.SendAsync(buf.AsMemory(0, n), SocketFlags.None, _stop.Token);
                    if (buf.AsSpan(0, n).SequenceEqual(DiffServices.Bye)) break;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        }
    }

    public override Task<Dictionary<string, long>> Counters()
    {
        var lines = _victim.Run(() => File.ReadAllLines("/proc/thread-self/net/snmp").Concat(File.ReadAllLines("/proc/thread-self/net/netstat")).ToArray());
        var d = new Dictionary<string, long>();
        for (int i = 0; i + 1 < lines.Length; i += 2)
        {
            var names = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = lines[i + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var mib = names[0].TrimEnd(':');
            for (int k = 1; k < names.Length && k < values.Length; k++)
                d[$"{mib}.{names[k]}"] = long.Parse(values[k]);
        }
        return Task.FromResult(d);
    }

    public override ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var s in _sockets) s.Dispose();
        foreach (var o in _owned) o.Dispose(); // the port first, then the namespaces (their veth goes with them)
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The simulated victim: host "sim" (one CPU, seed 1, eth0 with the victim's MAC and address) on the real clock,
/// whose NIC's wire is the TAP <c>asdfp0</c> in a namespace "asdf-…" of the test's own, where the packet port is
/// (the tester's MAC on the TAP, no address). Sysctls and services as <see cref="DiffServices"/> says.
/// </summary>
public sealed class SimDiffVictim : DiffVictim
{
    private readonly CancellationTokenSource _stop = new();
    private ActorSystem _system = null!;
    private IActorRef _host = null!;
    private IActorRef? _link;
    private Netns? _ns;

    public override string Side => "sim";

    public static readonly SysctlSettings Sysctl = new()
    {
        Icmp = new IcmpRateLimitSettings { IcmpRatelimitMs = 0, IcmpMsgsPerSec = DiffServices.IcmpMsgsPerSec, IcmpMsgsBurst = DiffServices.IcmpMsgsBurst },
        Frag = new DefragSettings { IpfragTime = DiffServices.FragTime },
        Tcp = TcpSysctl.Default with { Syncookies = 1 },
    };

    public static async Task<SimDiffVictim> Create()
    {
        var v = new SimDiffVictim();
        try
        {
            await v.Build();
            return v;
        }
        catch
        {
            await v.DisposeAsync();
            throw;
        }
    }

    private async Task Build()
    {
        var io = Timeouts.Wall;
        _system = ActorSystem.Create("diff", StackConfig.AkkaConfig());
        _ns = Netns.Create(prefix: "asdf");
        var dev = new DeviceSettings("eth0", DiffFrames.VictimMac, Addresses: [new Ipv4Prefix(DiffFrames.VictimIp, 24)]);
        _host = _system.ActorOf(HostActor.Props(new HostSettings("sim", 1, Sysctl, [dev]), seed: 1), "sim");
        var nic = (await _host.Ask<HostDevices>(GetHostDevices.Instance, io)).Devices["eth0"];
        _link = _system.ActorOf(TapLinkActor.Props(nic, "asdfp0", _ns.Path, TapLinkSettings.Default), "tap");
        await _link.Ask<TapLinkStats>(GetTapLinkStats.Instance, io); // the device is open
        nic.Tell(new AttachWire(_link));
        _ns.Ip("link", "set", "asdfp0", "address", DiffFrames.TesterMac.ToString());
        _ns.Ip("link", "set", "asdfp0", "up");
        Port = DiffPacketPort.Open(_ns, "asdfp0", DiffFrames.VictimIp);

        var udpEcho = await Open(SockType.Dgram, DiffServices.Echo);
        _ = UdpEcho(udpEcho);
        await Open(SockType.Dgram, DiffServices.Sink);
        var tcpEcho = await Open(SockType.Stream, DiffServices.Echo);
        Assert.IsType<SocketOk>(await tcpEcho.Ask<object>(new Listen(16), io));
        _ = TcpEcho(tcpEcho);
        var listener = await Open(SockType.Stream, DiffServices.Listener);
        Assert.IsType<SocketOk>(await listener.Ask<object>(new Listen(DiffServices.ListenBacklog), io));
    }

    private async Task<IActorRef> Open(SockType type, ushort port)
    {
        var s = (await _host.Ask<SocketCreated>(new SocketCreate(type), Timeouts.Wall)).Socket;
        Assert.IsType<SocketOk>(await s.Ask<object>(new Bind(Ipv4Address.Any, port), Timeouts.Wall));
        return s;
    }

    private async Task UdpEcho(IActorRef s)
    {
        try
        {
            while (true)
            {
                if (await s.Ask<object>(new Recv(1), _stop.Token) is not Received r) return;
                foreach (var d in r.Datagrams)
                    await s.Ask<object>(new SendTo(d.Payload.ToArray(), d.Source, d.SourcePort), _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or AskTimeoutException) { }
    }

    private async Task TcpEcho(IActorRef listener)
    {
        try
        {
            while (true)
            {
                if (await listener.Ask<object>(new Accept(), _stop.Token) is not Accepted a) return;
                _ = EchoConnection(a.Socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or AskTimeoutException) { }
    }

    private async Task EchoConnection(IActorRef c)
    {
        try
        {
            while (true)
            {
                if (await c.Ask<object>(new StreamRecv(), _stop.Token) is not StreamData d || d.Eof) break;
                await c.Ask<object>(new SendTo(d.Data.ToArray()), _stop.Token);
                if (d.Data.Span.SequenceEqual(DiffServices.Bye)) break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or AskTimeoutException) { }
        c.Tell(Close.Instance);
    }

    public override async Task<Dictionary<string, long>> Counters()
    {
        var s = await _host.Ask<HostStats>(GetStats.Instance, Timeouts.Wall);
        var d = new Dictionary<string, long>();
        foreach (var mib in s.Snmp)
            foreach (var (name, value) in mib.Counters)
                d[$"{mib.Name}.{name}"] = value;
        return d;
    }

    public override async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        Port?.Dispose();
        if (_link is not null)
        {
            try
            {
                await _link.GracefulStop(Timeouts.Wall); // closes the TAP
            }
            catch (Exception e) when (e is TaskCanceledException or AskTimeoutException) { }
        }
        if (_system is not null) await _system.Terminate();
        _ns?.Dispose();
    }
}
