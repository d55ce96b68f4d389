using ActorStack.Messages;

namespace ActorStack.Tests.TcpActors;

/// <summary>
/// The first flight of a new connection: <c>tcp_init_cwnd</c> gives <c>TCP_INIT_CWND</c> = 10 segments (RFC 6928), so
/// <c>tcp_write_xmit</c> sends exactly 10 full segments at once and the 11th waits for the first ACK
/// (<c>tcp_cwnd_test</c>). On the engine, over a wire with 10 ms of delay each way: both sides of the limit.
/// </summary>
public sealed class TcpInitCwndTests() : TcpTwoHostKit("tcp-init-cwnd")
{
    [Fact]
    public async Task FirstFlight_ExactlyTenSegments_EleventhWaitsForTheFirstAck()
    {
        var (a, b) = await TwoHosts(TimeSpan.FromMilliseconds(10));
        // A send buffer that holds the whole write (SO_SNDBUF): the first flight is limited by cwnd, not by sk_sndbuf.
        var client = await TcpSocket(a.Host);
        Assert.Equal(Errno.OK, await Set(client, SockOpt.SoSndbuf, 1 << 20));
        var (c, child) = await Accepted(a, b, client: client);
        var est = await Info(c);
        Assert.Equal((10, 1448), (est.Cwnd, est.Mss)); // tcp_init_cwnd; MSS 1460 less the timestamp option
        long before = Mib(await Stats(a.Host), "Tcp", "OutSegs");
        Assert.Equal(2, before); // SYN, the handshake's ACK

        // 12 full segments written at once: the 10 of the initial window leave now, the 11th and 12th stay queued.
        var data = Bytes(12 * 1448);
        Assert.Equal(data.Length, Assert.IsType<Sent>(await Ask<object>(c, new SendTo(data))).Bytes);
        var written = Engine.Now;
        Settle(); // the flight's wire time; the first ACK is 20 ms away
        Assert.Equal(10, Mib(await Stats(a.Host), "Tcp", "OutSegs") - before);
        Assert.Equal((10, 10), ((await Info(c)).Cwnd, (await Info(c)).Unacked));

        // Just before the first ACK can be back (two wire delays after the write): still 10 out, nothing more sent.
        Engine.RunUntil(written + TimeSpan.FromMilliseconds(20) - TimeSpan.FromTicks(1));
        Assert.Equal(10, Mib(await Stats(a.Host), "Tcp", "OutSegs") - before);
        Assert.Equal(10, (await Info(c)).Unacked);

        // The first ACK (20 ms and the frames' wire time after the write) lets the 11th go, within the same millisecond.
        await Until(async () => Assert.True(Mib(await Stats(a.Host), "Tcp", "OutSegs") - before >= 11));
        Assert.InRange(Engine.Now - written, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(21));

        // All 12 arrive, in order, and no segment was sent twice.
        Assert.Equal(data, await ReadExactly(child, data.Length));
        var end = await Stats(a.Host);
        Assert.Equal(12, Mib(end, "Tcp", "OutSegs") - before);
        Assert.Equal(0, Mib(end, "Tcp", "RetransSegs"));
    }
}
