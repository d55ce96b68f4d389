using Akka.Actor;
using ActorStack.Actors.Tcp;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Tests.TcpActors;

/// <summary>The net.ipv4.tcp_* sysctls: read from a host's sysctl block and applied by its TCP actor.</summary>
public class TcpSysctlTests() : TcpHostKit("tcp-sysctl")
{
    private const string Template = """
        actorstack.scenario {
          hosts {
            h1 {
              sysctl { {SYSCTL} }
              devices { eth0 { mac = "02:00:00:00:00:01", addresses = ["10.0.1.2/24"] } }
            }
            h2 {
              devices { eth0 { mac = "02:00:00:00:00:02", addresses = ["10.0.1.3/24"] } }
            }
          }
        }
        """;

    private static StackSettings Load(string sysctl) => StackConfig.Load(Template.Replace("{SYSCTL}", sysctl));

    [Fact]
    public void Config_TcpSysctlOverride_ReadIntoSettings_OtherHostKeepsLinuxDefaults()
    {
        var s = Load("""
            net.ipv4.tcp_syn_retries = 1
            net.ipv4.tcp_rmem { min = 8192, default = 65536, max = 1048576 }
            net.ipv4.tcp_congestion_control = reno
            net.ipv4.tcp_rto_min_us = 50000
            net.ipv4.ip_local_port_range { low = 40000, high = 40009 }
            net.core.somaxconn = 128
            net.ipv4.tcp_recovery = 0
            net.ipv4.tcp_early_retrans = 2
            net.ipv4.tcp_dsack = 0
            net.ipv4.tcp_max_reordering = 50
            net.ipv4.tcp_limit_output_bytes = 262144
            """);
        var t = TcpSettings.From(s.Host("h1").Sysctl);
        Assert.Equal(new TcpRecoverySettings { Rack = false, TailLossProbe = false, Dsack = false, MaxReordering = 50 }, t.Recovery);
        Assert.Equal(t.Recovery, new Tcb(t, new TcpCounters(), 1, 2, 0).Recovery);
        Assert.Equal(262144, t.LimitOutputBytes);
        Assert.Equal(1, t.SynRetries);
        Assert.Equal((8192, 65536, 1048576), (t.RmemMin, t.RmemDefault, t.RmemMax));
        Assert.Equal(CongestionAlgorithm.Reno, t.CongestionControl);
        Assert.Equal(TimeSpan.FromMilliseconds(50), t.RtoMin);
        Assert.Equal((40000, 40009), (t.LocalPortLow, t.LocalPortHigh));
        Assert.Equal(128, t.SoMaxConn);
        var d = TcpSettings.From(s.Host("h2").Sysctl);
        Assert.Equal(TcpSettings.Default with { }, d with { });
    }

    [Fact]
    public void Config_TcpRmemOutOfOrder_IsAnError()
    {
        var e = Assert.Throws<StackConfigException>(() => Load("net.ipv4.tcp_rmem { min = 8192, default = 4096, max = 1048576 }"));
        Assert.Contains(e.Errors, x => x.Contains("tcp_rmem"));
    }

    [Fact]
    public async Task Connect_TcpSynRetries1_FailsAfter3sInsteadOf127s_FromEphemeralRange()
    {
        var sysctl = new SysctlSettings { Tcp = new TcpSysctl { SynRetries = 1 }, LocalPortLow = 50000, LocalPortHigh = 50000 };
        var host = await StartHost(sysctl, silentPeer: true);
        var sock = (await Ask<SocketCreated>(host, new SocketCreate(SockType.Stream))).Socket;
        var caller = Probe();
        sock.Tell(new StreamConnect(SilentPeer, 80), caller.Ref);
        var info = await Ask<TcpSocketInfo>(sock, GetSocketInfo.Instance);
        Assert.Equal(50000, info.LocalPort); // ip_local_port_range of one port
        // 1 s for the SYN, one retransmission, then 2 s for its answer: 3 s (tcp_syn_retries 1).
        for (int sec = 1; sec <= 2; sec++)
        {
            Advance(TimeSpan.FromSeconds(1));
            Assert.Equal("SYN-SENT", (await Ask<TcpSocketInfo>(sock, GetSocketInfo.Instance)).State);
        }
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Errno.ETIMEDOUT, (await Expect<CommandFailed>(caller)).Error);
        var st = await Ask<HostStats>(host, GetStats.Instance);
        Assert.Equal(1, st.Mib("Tcp")["RetransSegs"]);
        // The failed connection gave its port back (tcp_done → inet_put_port); while another holds it, a third connect has none.
        var sock2 = (await Ask<SocketCreated>(host, new SocketCreate(SockType.Stream))).Socket;
        var r2 = await Ask<object>(sock2, new StreamConnect(SilentPeer, 80, NonBlocking: true));
        Assert.Equal(Errno.EINPROGRESS, Assert.IsType<CommandFailed>(r2).Error);
        Assert.Equal(50000, (await Ask<TcpSocketInfo>(sock2, GetSocketInfo.Instance)).LocalPort);
        var sock3 = (await Ask<SocketCreated>(host, new SocketCreate(SockType.Stream))).Socket;
        var r3 = await Ask<object>(sock3, new StreamConnect(SilentPeer, 80, NonBlocking: true));
        Assert.Equal(Errno.EADDRNOTAVAIL, Assert.IsType<CommandFailed>(r3).Error);
    }

    [Fact]
    public async Task Keepalive_SocketOptions_PeerSilent_EtimedoutAfterIdlePlusProbes()
    {
        var host = await StartHost();
        var l = await LoopbackListener(host, 7000, backlog: 4);
        var c = (await Ask<SocketCreated>(host, new SocketCreate(SockType.Stream))).Socket;
        foreach (var (o, v) in new[] { (SockOpt.SoKeepalive, 1), (SockOpt.TcpKeepidle, 10), (SockOpt.TcpKeepintvl, 2), (SockOpt.TcpKeepcnt, 3) })
            Assert.IsType<SocketOk>(await Ask<object>(c, new SetSocketOption(o, v)));
        Assert.IsType<SocketOk>(await Ask<object>(c, new StreamConnect(Lo, 7000)));
        await Ask<Accepted>(l, new Accept());
        // The peer goes silent: everything to the listener's port is dropped.
        await Ask<object>(host, new NfAddRule(new NfRule(NfHook.LocalIn, NfVerdict.Drop, Protocol: IpProtocol.Tcp, DestinationPort: 7000)));
        var reader = Probe();
        c.Tell(new StreamRecv(), reader.Ref);
        await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance);
        // Idle 10 s, then probes at 10, 12, 14 s unanswered: dropped at 16 s (TCP_KEEPIDLE + TCP_KEEPCNT × TCP_KEEPINTVL).
        for (int sec = 1; sec <= 15; sec++)
        {
            Advance(TimeSpan.FromSeconds(1));
            Assert.Equal("ESTAB", (await Ask<TcpSocketInfo>(c, GetSocketInfo.Instance)).State);
        }
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Errno.ETIMEDOUT, (await Expect<CommandFailed>(reader)).Error);
        var st = await Ask<HostStats>(host, GetStats.Instance);
        Assert.Equal(3, st.Mib("TcpExt")["TCPKeepAlive"]);
    }
}
