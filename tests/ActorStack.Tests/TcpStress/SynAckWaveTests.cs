using Akka.Actor;
using ActorStack.Actors.Tcp;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// <c>reqsk_timer_handler</c>'s young/old pruning of the SYN queue, on virtual time: listen(128), 3,000 SYNs nobody
/// answers (b's frames to a are all lost). Measured on Linux 6.18: 129 requests kept, and their SYN-ACKs retransmitted
/// in waves of 129, 129, then 64 (the queue more than half full of old requests lowers their retry limit to 2).
/// </summary>
public class SynAckWaveTests() : VirtualTimeTcpKit("tcp-synack-waves")
{
    [Fact]
    public void ListenQueue_ReqskTimer_WavesOf129_129_64_64_64_ThenEmpty()
    {
        var q = new ListenQueue<object>(TcpSettings.Default, new TcpCounters(), backlog: 128);
        var reqs = new List<object>();
        for (int i = 0; i < 3000; i++)
            if (q.OnSyn() == SynDecision.Accept) { var r = new object(); q.AddToSynQueue(r); reqs.Add(r); }
        Assert.Equal((129, 129), (q.SynQueueLength, q.SynQueueYoung));
        var waves = new List<int>();
        for (int wave = 0; wave < 6; wave++)
        {
            int resent = 0;
            foreach (var r in reqs.ToList()) // the timers of one wave fire in the order the requests were added
            {
                if (!q.InSynQueue(r)) continue;
                if (q.SynAckTimer(r)) resent++;
            }
            waves.Add(resent);
            if (wave == 0) Assert.Equal(0, q.SynQueueYoung);
        }
        Assert.Equal([129, 129, 64, 64, 64, 0], waves);
        Assert.Equal(0, q.SynQueueLength);
    }

    [Theory]
    [InlineData(4, 5)]  // qlen·2 = 8 is not > max(8, backlog): all keep tcp_synack_retries (5)
    [InlineData(5, 2)]  // qlen·2 = 10 > 8 and no young left: the old ones get 2
    public void ListenQueue_ReqskTimer_HalfFullIsTheLimit(int requests, int expectedRetries)
    {
        var q = new ListenQueue<object>(TcpSettings.Default, new TcpCounters(), backlog: 4);
        var reqs = Enumerable.Range(0, requests).Select(_ => new object()).ToList();
        foreach (var r in reqs) { Assert.Equal(SynDecision.Accept, q.OnSyn()); q.AddToSynQueue(r); }
        var first = reqs[0];
        // Every request has timed out once (none young), then the first one's retries are counted until it expires.
        foreach (var r in reqs) Assert.True(q.SynAckTimer(r));
        int retries = 1;
        while (q.SynAckTimer(first)) retries++;
        Assert.Equal(expectedRetries, retries);
    }

    [Fact]
    public async Task SynFlood_Listen128_SynAckWaves_129_129_64()
    {
        // Everything b sends to a is lost: no RST ends a request, each one's SYN-ACK timer runs its course.
        var wire = new WireOptions("lossy", 1, TimeSpan.FromMilliseconds(1)) { NetemBToA = new NetemQopt { Loss = uint.MaxValue } };
        var p = await TwoHosts(wire, new SysctlSettings());
        var created = await AskNow<SocketCreated>(Asker, p.B, new SocketCreate(SockType.Stream));
        var l = created.Socket;
        await AskNow<SocketOk>(Asker, l, new Bind(Ipv4Address.Any, 80));
        await AskNow<SocketOk>(Asker, l, new Listen(128));
        var nic = (await AskNow<HostDevices>(Asker, p.B, GetHostDevices.Instance)).Devices["eth0"];
        var rng = new Random(7);
        var t0 = Engine.Now;
        for (int sent = 0; sent < 3000; sent += 100)
        {
            var frames = Enumerable.Range(sent, 100).Select(i => (ReadOnlyMemory<byte>)TcpStressKit.TcpFrame(new TcpSegment
            {
                SourcePort = (ushort)(10000 + i), DestinationPort = 80, Seq = new TcpSeq((uint)rng.NextInt64(0, 1L << 32)),
                Flags = TcpFlags.Syn, Window = 64240, Options = new TcpOptions { Mss = 1460, SackPermitted = true, WindowScale = 7 },
            }, Mac(2), Mac(1), Ip("10.0.0.1"), Ip("10.0.0.2"))).ToArray();
            nic.Tell(new WireFrames([.. frames]));
            Engine.RunUntilIdle();
        }
        var st = await Stats(p.B);
        Assert.Equal(3000, Snmp(st, "InSegs"));
        Assert.Equal(2871, Ext(st, "SyncookiesSent"));
        Assert.Equal(2871, Ext(st, "TCPReqQFullDoCookies"));
        Assert.Equal(1 + 129, st.Sockets.Count(s => s.Type == SockType.Stream));

        // The SYN-ACK timers fire at 1, 3, 7, 15 and 31 s (TCP_TIMEOUT_INIT << num_timeout); the requests left expire at 63 s.
        var waves = new List<long>();
        long before = 0;
        foreach (double at in new[] { 1.5, 3.5, 7.5, 15.5, 31.5, 70 })
        {
            Engine.RunUntil(t0 + TimeSpan.FromSeconds(at));
            Engine.RunUntilIdle();
            long now = Ext(await Stats(p.B), "TCPSynRetrans");
            waves.Add(now - before);
            before = now;
        }
        Assert.Equal([129L, 129L, 64L, 64L, 64L, 0L], waves);
        st = await Stats(p.B);
        Assert.Equal(129 + 129 + 64 + 64 + 64, Snmp(st, "RetransSegs"));
        Assert.Equal(1, st.Sockets.Count(s => s.Type == SockType.Stream)); // every request has expired: the listener alone
    }
}
