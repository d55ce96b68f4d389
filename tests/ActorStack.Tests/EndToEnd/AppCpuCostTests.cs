using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Sockets;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Tests.EndToEnd;

/// <summary>
/// The process side of the CPU-cost model on the virtual clock (<see cref="AppTask"/>): a socket call is answered
/// exactly its cost after it starts (recvmsg + copy, sendmsg + copy + output per packet), a reader as fast as it can is
/// limited to 1 / (recvmsg + copy) datagrams/s, so a sender just above that rate fills sk_rcvbuf and drops exactly the
/// computed number (just below: none). Only the application's keys are set, so the softirq side costs nothing here.
/// </summary>
public class AppCpuCostTests() : EndToEndKit("app-cpu-cost")
{
    private const long Recvmsg = 1000, CopyPerKiB = 1024; // copy: 1 ns per byte, so 64 B cost 64 ns
    private const long Sendmsg = 700, OutputCost = 300;

    private static readonly CpuCostSettings AppOnly = CpuCostSettings.Zero with
    {
        RecvmsgNs = Recvmsg, SendmsgNs = Sendmsg, OutputNs = OutputCost, CopyPerKiBNs = CopyPerKiB,
    };

    private async Task<(Node A, Node B)> Pair(CpuCostSettings costA, CpuCostSettings costB)
    {
        var a = await Start(new HostSettings("a", 1, new SysctlSettings(), [Dev("eth0", 1, "10.1.0.1/24")]) { CpuCost = costA }, 1);
        var b = await Start(new HostSettings("b", 1, new SysctlSettings(), [Dev("eth0", 2, "10.1.0.2/24")]) { CpuCost = costB }, 2);
        Cable(a.Devices["eth0"], b.Devices["eth0"]);
        return (a, b);
    }

    /// <summary>Tells <paramref name="m"/> from <paramref name="probe"/>, then runs the engine to exactly <paramref name="ns"/> ns later.</summary>
    private void TellAndRun(IActorRef target, object m, TestProbe probe, long ns)
    {
        long t0 = Engine.NowNs;
        target.Tell(m, probe.Ref);
        Engine.RunUntilNs(t0 + ns);
    }

    /// <summary>An Ask whose answer costs simulated time: runs the engine 1 ms on (AskRun runs only the current instant).</summary>
    private async Task<T> AskTimed<T>(IActorRef actor, object message)
    {
        var answer = actor.Ask<T>(message, Wait);
        Engine.RunFor(TimeSpan.FromMilliseconds(1));
        return await answer;
    }

    [Fact]
    public async Task Recv_AnswerArrivesExactlyRecvmsgPlusCopyLater_CopyScalesWithSize()
    {
        var (a, b) = await Pair(CpuCostSettings.Zero, AppOnly);
        var tx = await Socket(a.Host);
        var rx = await BoundSocket(b.Host, "10.1.0.2", 9000);
        Assert.Equal(Errno.OK, await Command(tx, new SendTo(new byte[64], Ip("10.1.0.2"), 9000)));
        Assert.Equal(Errno.OK, await Command(tx, new SendTo(new byte[1000], Ip("10.1.0.2"), 9000)));
        Assert.Equal(2, (await AskRun<SocketInfo>(rx, GetSocketInfo.Instance)).RecvQueueDatagrams);
        var p = CreateTestProbe();

        TellAndRun(rx, new Recv(1), p, Recvmsg + 64 - 1);
        Assert.False(p.HasMessages);          // 1 ns early: still in recvmsg
        Engine.RunUntilNs(Engine.NowNs + 1);
        Assert.Equal(64, (await p.ExpectMsgAsync<Received>(TimeSpan.Zero)).Datagrams[0].Payload.Length);

        TellAndRun(rx, new Recv(1), p, Recvmsg + 1000 - 1); // 1000 B: 1000 ns of copy
        Assert.False(p.HasMessages);
        Engine.RunUntilNs(Engine.NowNs + 1);
        Assert.Equal(1000, (await p.ExpectMsgAsync<Received>(TimeSpan.Zero)).Datagrams[0].Payload.Length);

        // Nothing queued: a non-blocking read fails with EAGAIN after one recvmsg (the syscall ran).
        TellAndRun(rx, new Recv(1, NonBlocking: true), p, Recvmsg - 1);
        Assert.False(p.HasMessages);
        Engine.RunUntilNs(Engine.NowNs + 1);
        Assert.Equal(Errno.EAGAIN, (await p.ExpectMsgAsync<CommandFailed>(TimeSpan.Zero)).Error);
    }

    [Fact]
    public async Task Recv_WhileTheTaskIsBusy_StartsAtBusyUntil()
    {
        var (a, b) = await Pair(CpuCostSettings.Zero, AppOnly);
        var tx = await Socket(a.Host);
        var rx = await BoundSocket(b.Host, "10.1.0.2", 9000);
        for (int i = 0; i < 3; i++) Assert.Equal(Errno.OK, await Command(tx, new SendTo(new byte[64], Ip("10.1.0.2"), 9000)));
        var p = CreateTestProbe();
        long t0 = Engine.NowNs;
        // Three reads at once (three threads on one socket): the task runs them one after the other.
        for (int i = 0; i < 3; i++) rx.Tell(new Recv(1), p.Ref);
        for (int i = 1; i <= 3; i++)
        {
            Engine.RunUntilNs(t0 + i * (Recvmsg + 64) - 1);
            Assert.False(p.HasMessages);
            Engine.RunUntilNs(t0 + i * (Recvmsg + 64));
            await p.ExpectMsgAsync<Received>(TimeSpan.Zero);
        }
    }

    [Fact]
    public async Task UdpSend_CostsSendmsgPlusCopyPlusOutputPerPacket_AFragmentedDatagramPaysOutputPerFragment()
    {
        var (a, b) = await Pair(AppOnly, CpuCostSettings.Zero);
        var tx = await Socket(a.Host);
        await BoundSocket(b.Host, "10.1.0.2", 9000);
        // First a datagram to warm ARP (the neighbour's answer comes at the same instant: no wire delay).
        Assert.IsType<Sent>(await AskTimed<object>(tx, new SendTo(new byte[8], Ip("10.1.0.2"), 9000)));
        var p = CreateTestProbe();
        Engine.RunUntilNs(Engine.NowNs + 10_000);

        long cost = Sendmsg + 512 + OutputCost;
        TellAndRun(tx, new SendTo(new byte[512], Ip("10.1.0.2"), 9000), p, cost - 1);
        Assert.False(p.HasMessages);
        Engine.RunUntilNs(Engine.NowNs + 1);
        Assert.Equal(512, (await p.ExpectMsgAsync<Sent>(TimeSpan.Zero)).Bytes);

        // 3000 B over a 1500 B MTU leave as 3 fragments: output 3 times.
        cost = Sendmsg + 3000 * CopyPerKiB / 1024 + 3 * OutputCost;
        TellAndRun(tx, new SendTo(new byte[3000], Ip("10.1.0.2"), 9000), p, cost - 1);
        Assert.False(p.HasMessages);
        Engine.RunUntilNs(Engine.NowNs + 1);
        Assert.Equal(3000, (await p.ExpectMsgAsync<Sent>(TimeSpan.Zero)).Bytes);
    }

    [Fact]
    public async Task TcpSend_OfNBytes_CostsSendmsgPlusCopyPlusOutputForItsSegment_RecvPerSegment()
    {
        var (a, b) = await Pair(AppOnly, AppOnly);
        var l = (await AskRun<SocketCreated>(b.Host, new SocketCreate(SockType.Stream))).Socket;
        Assert.IsType<SocketOk>(await AskRun<object>(l, new Bind(Ip("10.1.0.2"), 6000)));
        Assert.IsType<SocketOk>(await AskRun<object>(l, new Listen(8)));
        var c = (await AskRun<SocketCreated>(a.Host, new SocketCreate(SockType.Stream))).Socket;
        Assert.IsType<SocketOk>(await AskRun<object>(c, new StreamConnect(Ip("10.1.0.2"), 6000)));
        var server = (await AskRun<Accepted>(l, new Accept())).Socket;
        Engine.RunUntilNs(Engine.NowNs + 1_000_000);
        var p = CreateTestProbe();

        // 1000 bytes, nothing in flight: tcp_push sends them at once as one segment.
        long cost = Sendmsg + 1000 + OutputCost;
        TellAndRun(c, new SendTo(new byte[1000]), p, cost - 1);
        Assert.False(p.HasMessages);
        Engine.RunUntilNs(Engine.NowNs + 1);
        Assert.Equal(1000, (await p.ExpectMsgAsync<Sent>(TimeSpan.Zero)).Bytes);

        // The reader takes the 1000 bytes: one segment's recvmsg plus the copy.
        Engine.RunUntilNs(Engine.NowNs + 1_000_000);
        TellAndRun(server, new StreamRecv(65536), p, Recvmsg + 1000 - 1);
        Assert.False(p.HasMessages);
        Engine.RunUntilNs(Engine.NowNs + 1);
        Assert.Equal(1000, (await p.ExpectMsgAsync<StreamData>(TimeSpan.Zero)).Data.Length);
    }

    /// <summary>A reader as fast as it can: one blocking recvmsg of one datagram after the other.</summary>
    private sealed class Reader : ReceiveActor
    {
        public Reader(IActorRef socket)
        {
            Receive<string>(_ => socket.Tell(new Recv(1)));
            Receive<Received>(_ => socket.Tell(new Recv(1)));
        }
    }

    /// <summary>
    /// The same arrivals through a reference queue: datagram i arrives at i × period; the reader takes one whenever it
    /// is free (each read ends recvmsg + copy later), blocks on an empty queue and takes the next arrival at once; an
    /// arrival finding <paramref name="capacity"/> datagrams queued is dropped.
    /// </summary>
    private static int ExpectedDrops(int n, long period, long read, int capacity)
    {
        var q = new Queue<long>();
        long free = 0;
        int drops = 0;
        for (int i = 0; i < n; i++)
        {
            long t = i * period;
            while (q.Count > 0 && free < t) { q.Dequeue(); free += read; }
            if (q.Count == 0 && free < t) { free = t + read; continue; }
            if (q.Count < capacity) q.Enqueue(t);
            else drops++;
        }
        return drops;
    }

    [Theory]
    [InlineData(1001, 300, 6)]  // 999,001 datagrams/s against a capacity of 939,850/s (1064 ns a read): drops
    [InlineData(1100, 300, 0)]  // 909,090/s: below the capacity, the reader keeps up, nothing is dropped
    public async Task UdpSink_AtARateAroundItsRecvmsgCapacity_ExactRcvbufErrors(long period, int n, int drops)
    {
        var (a, b) = await Pair(CpuCostSettings.Zero, AppOnly);
        var tx = await Socket(a.Host);
        var rx = await BoundSocket(b.Host, "10.1.0.2", 9000);
        Assert.IsType<SocketOk>(await AskRun<object>(rx, new SetReceiveBuffer(12672)));
        // Warm ARP and learn the truesize one 64 B datagram charges to sk_rmem_alloc.
        Assert.Equal(Errno.OK, await Command(tx, new SendTo(new byte[64], Ip("10.1.0.2"), 9000)));
        var info = await AskRun<SocketInfo>(rx, GetSocketInfo.Instance);
        int truesize = info.RecvQueueBytes, capacity = info.RcvBuf / truesize + 1; // admitted while rmem <= rcvbuf
        await AskTimed<Received>(rx, new Recv(1));
        Engine.RunUntilNs(Engine.NowNs + 1_000_000);

        var reader = Sys.ActorOf(Props.Create(() => new Reader(rx)));
        reader.Tell("start");
        long t0 = Engine.NowNs;
        Engine.RunUntilIdle();
        for (int i = 0; i < n; i++)
        {
            Engine.RunUntilNs(t0 + i * period);
            tx.Tell(new SendTo(new byte[64], Ip("10.1.0.2"), 9000));
        }
        Engine.RunUntilNs(Engine.NowNs + 10_000_000);

        Assert.Equal((25344, 12), (info.RcvBuf, capacity)); // SO_RCVBUF 12672 doubled; 12 datagrams of truesize 2304 fit
        int expected = ExpectedDrops(n, period, Recvmsg + 64, capacity);
        Assert.Equal(expected, drops);
        var after = await AskRun<SocketInfo>(rx, GetSocketInfo.Instance);
        Assert.Equal(drops, after.Drops);
        Assert.Equal(1 + n - drops, after.DatagramsRead);
        var stats = await AskRun<HostStats>(b.Host, GetStats.Instance);
        Assert.Equal(drops, stats.Mib("Udp")["RcvbufErrors"]);
        Assert.Equal(drops, stats.DropsOf(DropReason.SOCKET_RCVBUFF));
    }
}

/// <summary>On the real clock the model costs nothing: answers come at once whatever cpu-cost says.</summary>
public class AppCpuCostRealClockTests() : Akka.TestKit.Xunit2.TestKit(StackConfig.AkkaConfig(), "app-cpu-cost-real")
{
    [Fact]
    public async Task RealClock_NoDelay_AnswersWithoutWaitingForTheCost()
    {
        const long hour = 3_600_000_000_000; // an hour per call: on the virtual clock no answer would come within the 3 s wait
        var huge = CpuCostSettings.Zero with { RecvmsgNs = hour, SendmsgNs = hour, OutputNs = hour };
        var h = Sys.ActorOf(ActorStack.Actors.Namespaces.HostActor.Props(
            new HostSettings("h", 1, new SysctlSettings(), []) { CpuCost = huge }, 1), "h");
        var s = (await h.Ask<SocketCreated>(new SocketCreate(SockType.Dgram), TimeSpan.FromSeconds(10))).Socket;
        Assert.IsType<SocketOk>(await s.Ask<object>(new Bind(ActorStack.Messages.Packets.Ipv4Address.Parse("127.0.0.1"), 9000), TimeSpan.FromSeconds(10)));
        Assert.IsType<Sent>(await s.Ask<object>(new SendTo(new byte[64], ActorStack.Messages.Packets.Ipv4Address.Parse("127.0.0.1"), 9000), TimeSpan.FromSeconds(10)));
        Assert.IsType<Received>(await s.Ask<object>(new Recv(1), TimeSpan.FromSeconds(3)));
    }
}
