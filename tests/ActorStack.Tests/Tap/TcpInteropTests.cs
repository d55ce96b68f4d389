using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Config;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using static ActorStack.Tests.Tap.TapSimKit;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Tap;

/// <summary>
/// The simulated TCP against the real Linux TCP. A whole simulated host ("sim", eth0 192.0.2.2/24) has a TAP
/// into a namespace the test made, where the kernel has 192.0.2.1/24; the Linux end is a .NET socket created
/// inside that namespace (<see cref="NetnsSocket"/>). ARP runs both ways. Both directions carry a different
/// deterministic stream at once and each receiver compares the SHA-256 of what it read with the sender's.
/// Kernel I/O and the scheduler are real: waits are bounded (only a failing test waits long), nothing sleeps.
/// </summary>
[Collection(ActorStack.Tests.Tap.KernelTapCollection.Name)]
public sealed class TcpInteropTests() : TestKit(StackConfig.AkkaConfig(), "tcp-interop")
{
    private const string TapName = "astcp0";
    private const int Big = 16 << 20;
    private static readonly TimeSpan Transfer = Timeouts.WallRun;  // a whole transfer, on failure only

    private sealed record Sim(IActorRef Host, IActorRef Link, IActorRef? Wire);

    [RequiresTapFact]
    public async Task LinuxClient_ToSimulatedServer_16MiBEachWay_Sha256Equal()
    {
        using var ns = Netns.Create();
        var sim = await Start(ns);
        try
        {
            var listener = await SimListener(sim, 5001);
            using var linux = NetnsSocket.Open(ns, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await linux.ConnectAsync(new IPEndPoint(SimAddr, 5001)).WaitAsync(Io);
            var acc = await listener.Ask<Accepted>(new Accept(), Io);
            Assert.Equal((KernelIp, (ushort)((IPEndPoint)linux.LocalEndPoint!).Port), (acc.Peer, acc.Port));

            await Exchange(linux, acc.Socket, Big, Big);

            // Everything was read by Linux; its ACK of the last segment may still be on the way (delayed ACK).
            await AwaitAssertAsync(async () =>
            {
                var info = await acc.Socket.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Io);
                Assert.Equal(("ESTAB", 0, 0), (info.State, info.RecvQueue, info.SendQueue));
            }, Io, TimeSpan.FromMilliseconds(20));
        }
        finally
        {
            await Stop(sim);
        }
    }

    [RequiresTapFact]
    public async Task SimulatedClient_ToLinuxServer_16MiBEachWay_Sha256Equal()
    {
        using var ns = Netns.Create();
        var sim = await Start(ns);
        try
        {
            using var server = NetnsSocket.Open(ns, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            server.Bind(new IPEndPoint(KernelAddr, 5002));
            server.Listen(4);
            var accepting = server.AcceptAsync();
            var client = await SimSocket(sim);
            Assert.IsType<SocketOk>(await client.Ask<object>(new StreamConnect(KernelIp, 5002), Io));
            using var linux = await accepting.WaitAsync(Io);
            var clientInfo = await client.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Io);
            Assert.Equal(new IPEndPoint(SimAddr, clientInfo.LocalPort), linux.RemoteEndPoint);

            await Exchange(linux, client, Big, Big);
        }
        finally
        {
            await Stop(sim);
        }
    }

    [RequiresTapFact]
    public async Task Established_LinuxSsAndSimSocketInfo_ShowSackWindowScalingTimestamps()
    {
        using var ns = Netns.Create();
        var sim = await Start(ns);
        try
        {
            var listener = await SimListener(sim, 5003);
            using var linux = NetnsSocket.Open(ns, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await linux.ConnectAsync(new IPEndPoint(SimAddr, 5003)).WaitAsync(Io);
            var acc = await listener.Ask<Accepted>(new Accept(), Io);
            await Exchange(linux, acc.Socket, 64 << 10, 64 << 10);   // some data each way: mss/rtt settle

            // -o as well: iproute2 6.1's ss prints "ts" and "sack" only with -o or -e (the kernel reports them
            // in tcpi_options either way; -tin alone shows wscale but not them).
            var (code, ss, err) = Netns.Exec("ip", "netns", "exec", ns.Name, "ss", "-tino", "state", "established",
                "dst", $"{SimIp}:5003");
            Assert.True(code == 0, $"ss exit {code}: {err}");
            var m = Regex.Match(ss, @"(?m)^\s+(?<opts>.*\bwscale:(?<snd>\d+),(?<rcv>\d+).*)$");
            Assert.True(m.Success, $"no option line in ss output:\n{ss}");
            var opts = m.Groups["opts"].Value;
            Assert.Matches(@"(^|\s)ts(\s|$)", opts);
            Assert.Matches(@"(^|\s)sack(\s|$)", opts);
            Assert.Matches(@"(^|\s)mss:1448(\s|$)", opts);

            var info = await acc.Socket.Ask<TcpSocketInfo>(GetSocketInfo.Instance, Io);
            Assert.Equal("ESTAB", info.State);
            Assert.True(info.Sack, "sim: SACK not negotiated");
            Assert.True(info.Timestamps, "sim: timestamps not negotiated");
            Assert.Equal(1448, info.Mss);
            // ss prints wscale:snd_wscale,rcv_wscale: Linux's send scale is the one the sim offered, and back.
            Assert.Equal(int.Parse(m.Groups["snd"].Value), info.RcvWscale);
            Assert.Equal(int.Parse(m.Groups["rcv"].Value), info.SndWscale);
            Assert.InRange(info.SndWscale, 1, 14);
            Assert.InRange(info.RcvWscale, 1, 14);
        }
        finally
        {
            await Stop(sim);
        }
    }

    [RequiresTapNetemFact]
    public async Task LinuxNetemLoss2Delay10_LinuxClient_4MiBEachWay_Sha256Equal()
    {
        using var ns = Netns.Create();
        var sim = await Start(ns);
        try
        {
            var (code, err) = TcpInteropTc.Run(ns, "qdisc", "add", "dev", TapName, "root", "netem", "loss", "2%", "delay", "10ms");
            Assert.True(code == 0, $"tc qdisc add … netem failed ({code}): {err}");
            var listener = await SimListener(sim, 5004);
            using var linux = NetnsSocket.Open(ns, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await linux.ConnectAsync(new IPEndPoint(SimAddr, 5004)).WaitAsync(Io);
            var acc = await listener.Ask<Accepted>(new Accept(), Io);

            await Exchange(linux, acc.Socket, 4 << 20, 4 << 20);
        }
        finally
        {
            await Stop(sim);
        }
    }

    /// <summary>
    /// The impairment applied by the simulation on its side of the TAP (a <see cref="WireActor"/> with netem both
    /// ways), so it runs wherever TAP works. It takes about 16 s: with 2% loss and an RTT near 40 ms (10 ms each
    /// way plus the scheduler's 10 ms tick) the sim's CUBIC is loss-bound at roughly 250 KB/s — Linux's CUBIC moves
    /// 4 MiB the other way in the same time under the same impairment (Linux's default here, BBR, takes about 3 s).
    /// </summary>
    [RequiresTapFact]
    public async Task SimNetemLoss2Delay10BothWays_LinuxClient_4MiBEachWay_Sha256Equal()
    {
        Assert.True(NetemParser.TryParse("loss 2% delay 10ms", out var netem, out var error), error);
        using var ns = Netns.Create();
        var sim = await Start(ns, netem);
        try
        {
            var listener = await SimListener(sim, 5005);
            using var linux = NetnsSocket.Open(ns, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await linux.ConnectAsync(new IPEndPoint(SimAddr, 5005)).WaitAsync(Io);
            var acc = await listener.Ask<Accepted>(new Accept(), Io);

            await Exchange(linux, acc.Socket, 4 << 20, 4 << 20);

            // The impairment was there: frames were lost both ways, and both TCPs retransmitted.
            var wire = await sim.Wire!.Ask<WireStats>(GetWireStats.Instance, Io);
            Assert.True(wire.AToBDetail!.Dropped > 0, "no sim→kernel frame was lost");
            Assert.True(wire.BToADetail!.Dropped > 0, "no kernel→sim frame was lost");
            var st = await sim.Host.Ask<HostStats>(GetStats.Instance, Io);
            Assert.True(st.Mib("Tcp")["RetransSegs"] > 0, "the sim never retransmitted");
            Assert.True(KernelSnmp(ns, "Tcp")["RetransSegs"] > 0, "Linux never retransmitted");
        }
        finally
        {
            await Stop(sim);
        }
    }

    /// <summary>
    /// Sends <paramref name="up"/> bytes Linux→sim and <paramref name="down"/> bytes sim→Linux at the same time
    /// (different deterministic streams), reads both to the end and compares SHA-256 digests.
    /// </summary>
    private static async Task Exchange(Socket linux, IActorRef sim, int up, int down)
    {
        var upData = Pattern(up, seed: 11);
        var downData = Pattern(down, seed: 22);
        var linuxSend = LinuxSend(linux, upData);
        var linuxRead = LinuxReadHash(linux, down);
        var simSend = SimSend(sim, downData);
        var simRead = SimReadHash(sim, up);
        var all = Task.WhenAll(linuxSend, linuxRead, simSend, simRead);
        await all.WaitAsync(Transfer);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(upData)), Convert.ToHexString(await simRead));
        Assert.Equal(Convert.ToHexString(SHA256.HashData(downData)), Convert.ToHexString(await linuxRead));
    }

    private static async Task LinuxSend(Socket s, byte[] data)
    {
        for (int off = 0; off < data.Length;)
            off += await s.SendAsync(data.AsMemory(off, Math.Min(256 << 10, data.Length - off)), SocketFlags.None);
    }

    private static async Task<byte[]> LinuxReadHash(Socket s, int n)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[256 << 10];
        for (int got = 0; got < n;)
        {
            int r = await s.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, n - got)), SocketFlags.None);
            if (r == 0) throw new Xunit.Sdk.XunitException($"Linux: EOF after {got} of {n} bytes");
            h.AppendData(buffer, 0, r);
            got += r;
        }
        return h.GetHashAndReset();
    }

    private static async Task SimSend(IActorRef s, byte[] data)
    {
        const int chunk = 64 << 10;
        for (int off = 0; off < data.Length; off += chunk)
        {
            int len = Math.Min(chunk, data.Length - off);
            var r = await s.Ask<object>(new SendTo(data.AsMemory(off, len)), Io);
            Assert.Equal(len, Assert.IsType<Sent>(r).Bytes);
        }
    }

    private static async Task<byte[]> SimReadHash(IActorRef s, int n)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long got = 0; got < n;)
        {
            var r = await s.Ask<object>(new StreamRecv((int)Math.Min(65536, n - got)), Io);
            var d = Assert.IsType<StreamData>(r);
            if (d.Eof) throw new Xunit.Sdk.XunitException($"sim: EOF after {got} of {n} bytes");
            h.AppendData(d.Data.Span);
            got += d.Data.Length;
        }
        return h.GetHashAndReset();
    }

    /// <summary>
    /// The simulated host and its TAP link into <paramref name="ns"/>, the kernel side addressed and up. With
    /// <paramref name="netem"/> the NIC's cable is a <see cref="WireActor"/> applying it both ways, whose far end is
    /// the TAP (through a <see cref="TcpInteropRelay"/>): NIC ⇄ wire ⇄ relay ⇄ TAP.
    /// </summary>
    private async Task<Sim> Start(Netns ns, NetemQopt? netem = null)
    {
        var (host, nic) = await StartSimHost(this);
        IActorRef link, cable;
        IActorRef? wire = null;
        if (netem is null)
        {
            link = Sys.ActorOf(TapLinkActor.Props(nic, TapName, ns.Path, TapLinkSettings.Default), "tap");
            cable = link;
        }
        else
        {
            var relay = Sys.ActorOf(TcpInteropRelay.Props(), "relay");
            link = Sys.ActorOf(TapLinkActor.Props(relay, TapName, ns.Path, TapLinkSettings.Default), "tap");
            wire = Sys.ActorOf(WireActor.Props(nic, relay, new WireOptions("sim-tap", 1, TimeSpan.Zero)
            {
                NetemAToB = netem,
                NetemBToA = netem,
            }), "wire");
            await relay.Ask<TcpInteropRelay.Joined>(new TcpInteropRelay.Join(wire, link), Io);
            cable = wire;
        }
        await BringUpTap(ns, TapName, link, nic, cable);
        return new Sim(host, link, wire);
    }

    private Task Stop(Sim sim) => StopLink(this, sim.Link);

    private static async Task<IActorRef> SimSocket(Sim sim)
        => (await sim.Host.Ask<SocketCreated>(new SocketCreate(SockType.Stream), Io)).Socket;

    private static async Task<IActorRef> SimListener(Sim sim, ushort port)
    {
        var s = await SimSocket(sim);
        Assert.IsType<SocketOk>(await s.Ask<object>(new Bind(Ipv4Address.Any, port), Io));
        Assert.IsType<SocketOk>(await s.Ask<object>(new Listen(4), Io));
        return s;
    }
}
