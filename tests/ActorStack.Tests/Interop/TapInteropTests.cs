using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Tap;
using static ActorStack.Tests.Tap.TapSimKit;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;

namespace ActorStack.Tests.Interop;

/// <summary>
/// A whole simulated host ("sim", eth0 192.0.2.2/24) whose NIC's wire is a TAP into a namespace the test made,
/// where the real kernel has 192.0.2.1/24 on the TAP. Nobody is given a permanent neighbour: ARP runs both
/// ways. Kernel I/O is real and so is the scheduler (the kernel does not run on virtual time); waits are bounded
/// (5 s), no test sleeps.
/// </summary>
[Collection(ActorStack.Tests.Tap.KernelTapCollection.Name)]
public sealed class TapInteropTests() : TestKit(StackConfig.AkkaConfig(), "tap-interop")
{
    private const string TapName = "astap1";

    private sealed record Sim(IActorRef Host, IActorRef Nic, IActorRef Link, MacAddress KernelMac);

    [RequiresTapAndToolFact("ping")]
    public async Task LinuxPing_ToSimulatedHost_ThreeReplies()
    {
        using var ns = Netns.Create();
        var sim = await Start(ns);
        try
        {
            // -w 30 with -c 3: ping ends as soon as the 3 replies are in, or at the deadline. Without a deadline, once some
            // reply has come ping waits only twice the longest RTT for the last one (iputils' linger), and on a loaded
            // machine a reply 1 ms late turns into "3 transmitted, 2 received" with exit 0.
            var (code, stdout, stderr) = await Exec("ip", "netns", "exec", ns.Name, "ping", "-n", "-c", "3", "-w", "30", "-i", "0.2", SimIp.ToString());

            var s = await Stats(sim);
            try
            {
                Assert.True(code == 0, $"ping exit {code}: {stderr}\n{stdout}");
                // -c 3 with -w: ping sends a probe every 200 ms until the third reply is in. A reply slower than the
                // interval on a loaded machine (the first one crosses ARP both ways) lets it send one probe more, whose
                // answer may come after ping has ended: 3 received of 3 or 4 sent, every one of seq 1-3 answered.
                var summary = Regex.Match(stdout, @"(\d+) packets transmitted, (\d+) received");
                Assert.True(summary.Success, stdout);
                int sent = int.Parse(summary.Groups[1].Value);
                Assert.Equal(3, int.Parse(summary.Groups[2].Value));
                Assert.InRange(sent, 3, 4);
                for (int seq = 1; seq <= 3; seq++)
                    Assert.Matches(new Regex($@"(?m)^64 bytes from 192\.0\.2\.2: icmp_seq={seq} ttl=64 time=[\d.]+ ms$"), stdout);
                Assert.InRange(s.Mib("Icmp")["InEchos"], 3, sent);
                Assert.Equal(s.Mib("Icmp")["InEchos"], s.Mib("Icmp")["OutEchoReps"]); // every echo the host took, it answered
                // The kernel asked for the simulated host's MAC address, which it now has.
                Assert.Contains($"{SimIp} dev {TapName} lladdr {SimMac}", ns.Ip("neigh", "show"));
            }
            catch (Xunit.Sdk.XunitException e)
            {
                // Kept for diagnosing a failure: what ping printed, what the kernel learned, what the host counted.
                throw new Xunit.Sdk.XunitException($"{e.Message}\n--- ping exit {code}\n{stdout}\n{stderr}\n--- kernel neigh\n" +
                    $"{ns.Ip("neigh", "show")}\n--- sim snmp: {string.Join(", ", s.Snmp.Select(m => m.ToString()))}\n" +
                    $"--- sim drops: {string.Join(", ", s.Drops)}");
            }
        }
        finally
        {
            await Stop(sim);
        }
    }

    [RequiresTapFact]
    public async Task SimulatedPing_ToLinux_ThreeReplies()
    {
        using var ns = Netns.Create();
        var sim = await Start(ns);
        try
        {
            var output = CreateTestProbe();
            Sys.ActorOf(PingActor.Props(new PingSettings("sim", KernelIp, Count: 3, Interval: TimeSpan.FromMilliseconds(200)),
                sim.Host, output.Ref));

            var lines = new List<string>();
            for (int i = 0; i < 8; i++) lines.Add((await output.ExpectMsgAsync<WorkloadOutput>(Io)).Line);

            Assert.Equal("PING 192.0.2.1 (192.0.2.1) 56(84) bytes of data.", lines[0]);
            for (int seq = 1; seq <= 3; seq++)
                Assert.Matches(new Regex($@"^64 bytes from 192\.0\.2\.1: icmp_seq={seq} ttl=64 time=[\d.]+ ms$"), lines[seq]);
            Assert.Equal("", lines[4]);
            Assert.Equal("--- 192.0.2.1 ping statistics ---", lines[5]);
            Assert.Matches(@"^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$", lines[6]);
            Assert.Matches(@"^rtt min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms$", lines[7]);
            var st = await output.ExpectMsgAsync<PingStatus>(Io);
            Assert.Equal((3L, 3L, 0L), (st.Transmitted, st.Received, st.Errors));
            // The simulated host resolved the kernel's address with ARP.
            var neigh = await sim.Host.Ask<NeighbourList>(GetNeighbours.Instance, Io);
            Assert.Contains($"{KernelIp} dev eth0 lladdr {sim.KernelMac}", neigh.Text);
        }
        finally
        {
            await Stop(sim);
        }
    }

    [RequiresTapFact]
    public async Task Udp_BothWaysBetweenKernelAndSimulatedSocket_ByteForByte()
    {
        using var ns = Netns.Create();
        var sim = await Start(ns);
        try
        {
            using var kernel = NetnsSocket.Udp(ns, new IPEndPoint(KernelAddr, 7000));
            var simSock = await BoundSocket(sim, 5000);

            var toKernel = Pattern(300, 1);
            Assert.IsType<Sent>(await simSock.Ask<object>(new SendTo(toKernel, KernelIp, 7000), Io));
            var (got, from) = await NetnsSocket.ReceiveAsync(kernel, Io);
            Assert.Equal(toKernel, got);
            Assert.Equal(new IPEndPoint(SimAddr, 5000), from);

            var toSim = Pattern(777, 2);
            await kernel.SendToAsync(toSim, new IPEndPoint(SimAddr, 5000));
            var d = await RecvOne(simSock);
            Assert.Equal(toSim, d.Payload.ToArray());
            Assert.Equal((KernelIp, (ushort)7000), (d.Source, d.SourcePort));
        }
        finally
        {
            await Stop(sim);
        }
    }

    [RequiresTapFact]
    public async Task FragmentedUdp_5000BytesOverMtu1500_ReassembledByEachSideByteForByte()
    {
        using var ns = Netns.Create();
        var sim = await Start(ns);
        try
        {
            using var kernel = NetnsSocket.Udp(ns, new IPEndPoint(KernelAddr, 7000));
            var simSock = await BoundSocket(sim, 5000);
            var before = KernelSnmp(ns, "Ip");

            // Linux → sim: the kernel cuts 5008 bytes of UDP into 4 fragments; the simulated host reassembles them.
            var toSim = Pattern(5000, 3);
            await kernel.SendToAsync(toSim, new IPEndPoint(SimAddr, 5000));
            var d = await RecvOne(simSock);
            Assert.Equal(toSim, d.Payload.ToArray());
            Assert.Equal((KernelIp, (ushort)7000), (d.Source, d.SourcePort));
            var s = await Stats(sim);
            Assert.Equal((4L, 1L, 0L), (s.Mib("Ip")["ReasmReqds"], s.Mib("Ip")["ReasmOKs"], s.Mib("Ip")["ReasmFails"]));

            // sim → Linux: the simulated host fragments, the kernel reassembles.
            var toKernel = Pattern(5000, 4);
            Assert.IsType<Sent>(await simSock.Ask<object>(new SendTo(toKernel, KernelIp, 7000), Io));
            var (got, from) = await NetnsSocket.ReceiveAsync(kernel, Io);
            Assert.Equal(toKernel, got);
            Assert.Equal(new IPEndPoint(SimAddr, 5000), from);
            s = await Stats(sim);
            Assert.Equal((1L, 4L), (s.Mib("Ip")["FragOKs"], s.Mib("Ip")["FragCreates"]));
            var after = KernelSnmp(ns, "Ip");
            Assert.Equal(1, after["FragOKs"] - before["FragOKs"]);
            Assert.Equal(4, after["FragCreates"] - before["FragCreates"]);
            Assert.Equal(4, after["ReasmReqds"] - before["ReasmReqds"]);
            Assert.Equal(1, after["ReasmOKs"] - before["ReasmOKs"]);
            Assert.Equal(0, after["ReasmFails"] - before["ReasmFails"]);
        }
        finally
        {
            await Stop(sim);
        }
    }

    /// <summary>The simulated host, its TAP link into <paramref name="ns"/>, the kernel side addressed and up.</summary>
    private async Task<Sim> Start(Netns ns)
    {
        var (host, nic) = await StartSimHost(this);
        var link = Sys.ActorOf(TapLinkActor.Props(nic, TapName, ns.Path, TapLinkSettings.Default), "tap");
        var stats = await BringUpTap(ns, TapName, link, nic, link);
        return new Sim(host, nic, link, stats.KernelMac);
    }

    private Task Stop(Sim sim) => StopLink(this, sim.Link);

    private Task<HostStats> Stats(Sim sim) => sim.Host.Ask<HostStats>(GetStats.Instance, Io);

    private static async Task<IActorRef> BoundSocket(Sim sim, ushort port)
    {
        var s = (await sim.Host.Ask<SocketCreated>(new SocketCreate(SockType.Dgram), Io)).Socket;
        Assert.IsType<SocketOk>(await s.Ask<object>(new Bind(Ipv4Address.Any, port), Io));
        return s;
    }

    private static async Task<Datagram> RecvOne(IActorRef socket)
    {
        var r = await socket.Ask<object>(new Recv(1), Io);
        return Assert.Single(Assert.IsType<Received>(r).Datagrams);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Exec(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, stdout, await stderr);
    }
}
