using Akka.Actor;
using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// A SYN flood (spoofed sources on the LAN, random ports, raw frames injected into the server's NIC) while real
/// clients connect, on the simulation engine: the SYN queue stays at the backlog, SYN cookies carry the legitimate connections (tcp_syncookies 1).
/// </summary>
public class SynFloodTests() : TcpStressKit("tcp-synflood")
{
    private const int Backlog = 128, Kept = Backlog + 1, Flood = 3000, Legit = 20, Batch = 100;

    [Fact]
    public async Task SynFlood_3000Spoofed_QueuesBounded_CookiesCarryLegitimateClients()
    {
        var p = await TwoHosts();
        var l = await Listener(p.B.Host, 80, Backlog);
        var nic = p.B.Devices["eth0"];
        var rng = new Random(42);
        for (int sent = 0; sent < Flood; sent += Batch)
        {
            var frames = new byte[Batch][];
            for (int i = 0; i < Batch; i++)
            {
                var src = Ip($"10.0.0.{rng.Next(10, 250)}");
                var syn = new TcpSegment
                {
                    SourcePort = (ushort)rng.Next(1024, 65535), DestinationPort = 80, Seq = new TcpSeq((uint)rng.NextInt64(0, 1L << 32)),
                    Flags = TcpFlags.Syn, Window = 64240, Options = new TcpOptions { Mss = 1460, SackPermitted = true, WindowScale = 7 },
                };
                frames[i] = TcpFrame(syn, Mac(2), Mac(0x700 + rng.Next(1, 200)), src, Ip("10.0.0.2"));
            }
            Inject(nic, frames);
            int expected = sent + Batch;
            // Paced by what the host took in, so no batch is lost to a full ring or protocol queue.
            await Eventually(p.B.Host, st => Assert.Equal(expected, Snmp(st, "InSegs")));
        }
        var flooded = await Stats(p.B.Host);
        // The first backlog + 1 SYNs made embryonic children (inet_csk_reqsk_queue_is_full: qlen > backlog); every later
        // one got a cookie (Linux 6.18 measured: 3,000 SYNs, 2,871 cookies).
        Assert.Equal(Flood - Kept, Ext(flooded, "SyncookiesSent"));
        Assert.Equal(Flood - Kept, Ext(flooded, "TCPReqQFullDoCookies"));
        Assert.Equal(0, Ext(flooded, "ListenOverflows"));
        Assert.Equal(0, Ext(flooded, "ListenDrops"));
        // Memory stays bounded: the listener plus one socket per SYN queue entry.
        Assert.Equal(1 + Kept, flooded.Sockets.Count(s => s.Type == SockType.Stream));

        // Legitimate clients connect during the flood: their SYNs get cookies, their ACKs create the children.
        var clients = new IActorRef[Legit];
        for (int i = 0; i < Legit; i++) clients[i] = await TcpSocket(p.A.Host);
        var connects = clients.Select(c => Begin(c, new StreamConnect(Ip("10.0.0.2"), 80))).ToArray(); // all at one instant
        RunUntil(() => connects.All(t => t.IsCompleted), what: "the legitimate connects");
        Assert.All(connects, t => Assert.IsType<SocketOk>(t.Result));
        await Until(async () => Assert.Equal(Legit, (await Info(l)).RecvQueue));
        // Every accepted connection carries data: each client reads the distinct message its server side sent.
        for (int i = 0; i < Legit; i++)
        {
            var acc = await Ask<Accepted>(l, new Accept());
            await SendAll(acc.Socket, [(byte)i, 1, 2, 3]);
        }
        var got = new List<byte[]>();
        foreach (var c in clients) got.Add(await ReadExactly(c, 4));
        Assert.Equal(Enumerable.Range(0, Legit), got.Select(g => (int)g[0]).Order());
        var st = await Stats(p.B.Host);
        Assert.Equal(Flood - Kept + Legit, Ext(st, "SyncookiesSent"));
        Assert.Equal(Legit, Ext(st, "SyncookiesRecv"));
        Assert.Equal(0, Ext(st, "SyncookiesFailed"));
        Assert.Equal(Legit, Snmp(st, "PassiveOpens"));
        Assert.Equal(0, (await Info(l)).RecvQueue);
        Assert.Equal(Backlog, (await Info(l)).SendQueue); // ss: a listener's Send-Q is its backlog
        var a = await Stats(p.A.Host);
        Assert.Equal(Legit, Snmp(a, "ActiveOpens"));
        Assert.Equal(0, Snmp(a, "AttemptFails"));
    }
}
