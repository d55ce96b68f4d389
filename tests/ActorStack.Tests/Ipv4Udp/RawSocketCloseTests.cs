using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.EndToEnd;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>
/// <c>raw_close</c> → <c>sk_common_release</c>: a raw socket leaves the raw table (<c>raw_unhash_sk</c>) before close()
/// returns, so once it has returned <c>raw_v4_input</c> no longer finds it; a datagram matched to it before is freed with
/// it (SOCKET_CLOSE). The race forced on the engine: host h's IPv4 actor (<c>/h/ip</c>) runs on a dispatcher held shut
/// (<see cref="HeldExecutorConfigurator"/>) while a datagram waits in its mailbox and the raw socket is closed, so the
/// socket's unregister reaches the IPv4 actor behind that datagram.
/// </summary>
public sealed class RawSocketCloseTests : NetOnEngineKit
{
    private readonly string _hid;
    private readonly HeldRuns _held;

    public RawSocketCloseTests() : this(HeldRuns.New("raw-close", "/h/ip")) { }

    private RawSocketCloseTests((string Id, string Hocon) held) : base("raw-close", held.Hocon)
    {
        _hid = held.Id;
        _held = HeldRuns.For(held.Id);
    }

    protected override void Dispose(bool disposing) => HeldRuns.End(_hid, () => base.Dispose(disposing));

    [Fact]
    public async Task Close_DatagramQueuedAtIpBeforeTheUnhash_CountedAsSocketClose_NothingDeliveredAfterClose()
    {
        var (host, nic) = await StartHost();
        var udp = await BoundSocket(host, "0.0.0.0", 7000); // the UDP datagrams have a socket: no ICMP error goes out
        var raw = await Socket(host, SockType.Raw, IpProtocol.Udp); // raw_v4_input: a copy of every UDP datagram

        // One copy on the raw socket's receive queue, unread.
        Inject(nic, Udp(7000, [1]));
        await Settled(host, s =>
        {
            Assert.Equal(1, s.Sockets.Single(x => x.Type == SockType.Raw).RecvQueueDatagrams);
            Assert.Equal(1, Mib(s, "Ip", "InDelivers"));
        });

        // The second datagram reaches the IPv4 actor's mailbox; the actor cannot run.
        _held.Hold();
        Inject(nic, Udp(7000, [2]));
        Settle();
        Assert.Equal(1, _held.Count);

        // close(): the socket asks the IPv4 actor to unhash it; that request queues behind the datagram.
        var closing = Begin(raw, Close.Instance);
        Settle();
        Assert.False(closing.IsCompleted); // close() has not returned: the socket is still in the raw table
        Assert.Equal(1, _held.Count);

        // The IPv4 actor copies the datagram to the socket (raw_v4_input matched it before the unhash), then unhashes it
        // and acknowledges: close() returns, and the socket frees both copies it held with SOCKET_CLOSE.
        _held.Release();
        Settle();
        Assert.True(closing.IsCompleted);
        Assert.IsType<SocketOk>(await closing);
        var s = await Stats(host);
        Assert.Equal(2, s.DropsAt(DropReason.SOCKET_CLOSE, "raw/sock"));
        Assert.Equal(2, s.TotalDrops);
        Assert.Equal(2, Mib(s, "Ip", "InDelivers"));
        Assert.Equal(SockType.Dgram, s.Sockets.Single().Type);

        // After close() returned nothing reaches the socket: the third datagram goes to the UDP socket only.
        Inject(nic, Udp(7000, [3]));
        await Settled(host, s3 =>
        {
            Assert.Equal(2, s3.DropsAt(DropReason.SOCKET_CLOSE, "raw/sock"));
            Assert.Equal(2, s3.TotalDrops);
            Assert.Equal(3, Mib(s3, "Ip", "InDelivers"));
            Assert.Equal(0, Mib(s3, "Ip", "InUnknownProtos"));
        });
        Assert.Equal([1, 2, 3], (await ReadAll(udp, 3)).Select(d => d.Payload.Span[0]).ToArray());
    }

    /// <summary>
    /// Between close() and its return (the unhash still queued at the IPv4 actor) the descriptor is gone: another
    /// thread's sendto, recvfrom, bind or setsockopt on it fails with EBADF; the socket's own state is still readable.
    /// </summary>
    [Fact]
    public async Task Close_WhileTheUnhashWaits_OtherCallsFailWithEbadf_ThenCloseReturns()
    {
        var (host, _) = await StartHost();
        var raw = await Socket(host, SockType.Raw, IpProtocol.Udp);
        _held.Hold();
        var closing = Begin(raw, Close.Instance);
        Settle();
        Assert.False(closing.IsCompleted);

        Assert.Equal(Errno.EBADF, await SendErr(raw, [1], "10.0.0.1"));
        Assert.Equal(Errno.EBADF, await Command(raw, new Bind(Ip("0.0.0.0"), 0)));
        Assert.Equal(Errno.EBADF, await Command(raw, new SetSocketOption(SockOpt.IpTtl, 9)));
        var recv = Assert.IsType<CommandFailed>(await Ask<object>(raw, new Recv(1, NonBlocking: true)));
        Assert.Equal(Errno.EBADF, recv.Error);
        Assert.IsType<Recv>(recv.Command);
        Assert.Equal(SockType.Raw, Assert.IsType<SocketInfo>(await Ask<object>(raw, GetSocketInfo.Instance)).Type);
        Assert.False(closing.IsCompleted);

        _held.Release();
        Settle();
        Assert.IsType<SocketOk>(await closing);
        Assert.Empty((await Stats(host)).Sockets);
    }

    [Fact]
    public async Task Close_NothingInFlight_AnsweredAfterTheUnhash_NoDrop()
    {
        var (host, nic) = await StartHost();
        var raw = await Socket(host, SockType.Raw, IpProtocol.Udp);
        var udp = await BoundSocket(host, "0.0.0.0", 7000);
        Assert.Equal(Errno.OK, await Command(raw, Close.Instance));
        Inject(nic, Udp(7000, [1]));
        await Settled(host, s =>
        {
            Assert.Equal(0, s.TotalDrops);
            Assert.Equal(1, Mib(s, "Ip", "InDelivers"));
            Assert.Equal(SockType.Dgram, s.Sockets.Single().Type);
        });
        Assert.Single(await ReadAll(udp, 1));
    }

    /// <summary>
    /// A raw socket stopped by its supervisor (a fault) unregisters in PostStop, fire and forget: a copy the IPv4 actor
    /// makes before that unregister arrives is freed by the IPv4 actor with SOCKET_CLOSE (the socket's actor is gone),
    /// not sent to dead letters uncounted.
    /// </summary>
    [Fact]
    public async Task SupervisorStop_CopyMatchedBeforeTheUnregister_CountedAsSocketClose()
    {
        var (host, nic) = await StartHost();
        var udp = await BoundSocket(host, "0.0.0.0", 7000);
        var raw = await Socket(host, SockType.Raw, IpProtocol.Udp);

        _held.Hold();
        Inject(nic, Udp(7000, [1]));
        Settle();
        Assert.Equal(1, _held.Count);
        Watch(raw);
        raw.Tell(CrashSocket.Instance);
        Assert.Equal(raw, (await Expect<Terminated>()).ActorRef);

        _held.Release();
        await Settled(host, s =>
        {
            Assert.Equal(1, s.DropsAt(DropReason.SOCKET_CLOSE, "raw/sock"));
            Assert.Equal(1, s.TotalDrops);
            Assert.Equal(1, Mib(s, "Ip", "InDelivers"));
            Assert.Equal(SockType.Dgram, s.Sockets.Single().Type);
        });
        Assert.Equal([1], (await ReadAll(udp, 1))[0].Payload.ToArray());

        // Out of the raw table: the next datagram makes no copy.
        Inject(nic, Udp(7000, [2]));
        await Settled(host, s =>
        {
            Assert.Equal(1, s.TotalDrops);
            Assert.Equal(2, Mib(s, "Ip", "InDelivers"));
        });
    }
}
