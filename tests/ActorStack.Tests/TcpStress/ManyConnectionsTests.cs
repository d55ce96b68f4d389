using System.Text;
using Akka.Actor;
using ActorStack.Messages;

namespace ActorStack.Tests.TcpStress;

/// <summary>1000 concurrent connections between two hosts through the socket actors: every byte, every counter, every close.</summary>
public class ManyConnectionsTests() : TcpStressKit("tcp-many")
{
    private const int N = 1000;

    [Fact]
    public async Task Connections_1000Concurrent_EchoEveryMessage_CountersExact_AllCloseToTimeWait()
    {
        var p = await TwoHosts();
        var l = await Listener(p.B.Host, 8000, backlog: 1024);

        // Server: accept N connections; each echoes its message, then closes after the client's FIN.
        var server = Task.Run(async () =>
        {
            var echoes = new List<Task>(N);
            for (int i = 0; i < N; i++)
            {
                var acc = await l.Ask<Accepted>(new Accept(), Timeout);
                echoes.Add(Echo(acc.Socket));
            }
            await Task.WhenAll(echoes);
        });

        var clients = await Task.WhenAll(Enumerable.Range(0, N).Select(async i =>
        {
            var c = await TcpSocket(p.A.Host);
            Assert.Equal(Errno.OK, await Command(c, new StreamConnect(Ip("10.0.0.2"), 8000)));
            var msg = Encoding.ASCII.GetBytes($"connection {i:D4} says hello");
            await SendAll(c, msg);
            Assert.Equal(msg, await ReadExactly(c, msg.Length));
            return c;
        }));

        // Every connection is established on both sides, nothing failed or was reset.
        await Eventually(p.A.Host, st =>
        {
            Assert.Equal(N, Snmp(st, "ActiveOpens"));
            Assert.Equal(0, Snmp(st, "PassiveOpens"));
            Assert.Equal(N, Snmp(st, "CurrEstab"));
            Assert.Equal(0, Snmp(st, "AttemptFails"));
        });
        var stB = await Stats(p.B.Host);
        Assert.Equal(N, Snmp(stB, "PassiveOpens"));
        Assert.Equal(0, Snmp(stB, "ActiveOpens"));
        Assert.Equal(0, Ext(stB, "ListenOverflows"));
        Assert.Equal(0, Ext(stB, "ListenDrops"));
        Assert.Equal(0, Ext(stB, "SyncookiesSent"));

        // The clients close first: they end in TIME_WAIT, the servers (after their own close) leave.
        await Task.WhenAll(clients.Select(c => Command(c, Close.Instance)));
        await server;
        await Eventually(p.A.Host, st =>
        {
            Assert.Equal(0, Snmp(st, "CurrEstab"));
            Assert.Equal(N, Ext(st, "TW"));
            Assert.Equal(0, Snmp(st, "EstabResets"));
            Assert.Equal(0, Snmp(st, "OutRsts"));
        });
        await Eventually(p.B.Host, st =>
        {
            Assert.Equal(0, Snmp(st, "CurrEstab"));
            Assert.Equal(0, Ext(st, "TW"));
            Assert.Equal(0, Snmp(st, "EstabResets"));
            Assert.Equal(0, Snmp(st, "OutRsts"));
        });
        // A closed socket actor lives on, orphaned, in TIME_WAIT (60 s) on the closing side.
        var states = await Task.WhenAll(clients.Take(50).Select(async c => (await Info(c)).State));
        Assert.All(states, s => Assert.Equal("TIME-WAIT", s));
    }

    private async Task Echo(IActorRef s)
    {
        while (true)
        {
            var d = Assert.IsType<StreamData>(await s.Ask<object>(new StreamRecv(), Timeout));
            if (d.Eof) break;
            await SendAll(s, d.Data.ToArray());
        }
        Assert.Equal(Errno.OK, await Command(s, Close.Instance));
    }
}
