using System.Text;
using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.TcpStress;

/// <summary>1000 concurrent connections between two hosts through the socket actors: every byte, every counter, every close.</summary>
public class ManyConnectionsTests() : TcpStressKit("tcp-many")
{
    private const int N = 1000;

    /// <summary>What the applications did; written by their actors, read by the test between engine runs.</summary>
    private sealed class Tally
    {
        public readonly IActorRef[] Clients = new IActorRef[N];
        public int Echoed, ServerClosed;
        public string? Failure;
    }

    /// <summary>Server: accept N connections; each is handed to an <see cref="Echo"/> of its own.</summary>
    private sealed class Server : ReceiveActor
    {
        public Server(IActorRef listener, Tally tally)
        {
            int accepted = 0;
            Receive<Accepted>(m =>
            {
                Context.ActorOf(Props.Create(() => new Echo(m.Socket, tally)));
                if (++accepted < N) listener.Tell(new Accept());
            });
            Receive<CommandFailed>(m => tally.Failure ??= $"server: {m.Command} failed with {m.Error}");
            listener.Tell(new Accept());
        }
    }

    /// <summary>Echoes what it reads until the client's FIN, then closes.</summary>
    private sealed class Echo : ReceiveActor
    {
        public Echo(IActorRef s, Tally tally)
        {
            Receive<StreamData>(m =>
            {
                if (m.Eof) s.Tell(Close.Instance);
                else s.Tell(new SendTo(m.Data.ToArray()));
            });
            Receive<Sent>(_ => s.Tell(new StreamRecv()));
            Receive<SocketOk>(m => { if (m.Command is Close) tally.ServerClosed++; });
            Receive<CommandFailed>(m => tally.Failure ??= $"echo: {m.Command} failed with {m.Error}");
            s.Tell(new StreamRecv());
        }
    }

    /// <summary>Client i: socket, connect, send its message, read the echo back byte for byte.</summary>
    private sealed class Client : ReceiveActor
    {
        public Client(IActorRef host, int i, Tally tally)
        {
            var msg = Encoding.ASCII.GetBytes($"connection {i:D4} says hello");
            var got = new MemoryStream();
            IActorRef c = ActorRefs.Nobody;
            Receive<SocketCreated>(m =>
            {
                c = tally.Clients[i] = m.Socket;
                c.Tell(new StreamConnect(Ipv4Address.Parse("10.0.0.2"), 8000));
            });
            Receive<SocketOk>(_ => c.Tell(new SendTo(msg)));
            Receive<Sent>(m =>
            {
                if (m.Bytes != msg.Length) tally.Failure ??= $"client {i}: sent {m.Bytes} of {msg.Length}";
                else c.Tell(new StreamRecv(msg.Length));
            });
            Receive<StreamData>(m =>
            {
                got.Write(m.Data.Span);
                if (m.Eof) tally.Failure ??= $"client {i}: EOF after {got.Length} bytes";
                else if (got.Length < msg.Length) c.Tell(new StreamRecv(msg.Length - (int)got.Length));
                else if (got.ToArray().AsSpan().SequenceEqual(msg)) tally.Echoed++;
                else tally.Failure ??= $"client {i}: echo differs";
            });
            Receive<CommandFailed>(m => tally.Failure ??= $"client {i}: {m.Command} failed with {m.Error}");
            host.Tell(new SocketCreate(SockType.Stream));
        }
    }

    [Fact]
    public async Task Connections_1000Concurrent_EchoEveryMessage_CountersExact_AllCloseToTimeWait()
    {
        var p = await TwoHosts();
        var l = await Listener(p.B.Host, 8000, backlog: 1024);
        var tally = new Tally();
        Sys.ActorOf(Props.Create(() => new Server(l, tally)), "server");
        var host = p.A.Host;
        for (int i = 0; i < N; i++)
        {
            int n = i;
            Sys.ActorOf(Props.Create(() => new Client(host, n, tally)), $"client-{i}");
        }
        RunUntil(() => tally.Echoed == N || tally.Failure is not null, what: "every echo");
        Assert.Null(tally.Failure);

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

        // The clients close first (all at one instant): they end in TIME_WAIT, the servers (after their own close) leave.
        var closes = tally.Clients.Select(c => Begin(c, Close.Instance)).ToArray();
        RunUntil(() => closes.All(t => t.IsCompleted) && tally.ServerClosed == N, what: "every close");
        Assert.All(closes, t => Assert.IsType<SocketOk>(t.Result));
        Assert.Null(tally.Failure);
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
        foreach (var c in tally.Clients.Take(50)) Assert.Equal("TIME-WAIT", (await Info(c)).State);
    }
}
