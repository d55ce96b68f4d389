using Akka.Actor;
using ActorStack.Actors.Routing;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.LinkState;

/// <summary>The stack's own notifier blocks: neighbours flushed, routes marked linkdown or flushed, senders' errors.</summary>
public sealed class StackSubscriberTests() : LinkStateKit("stack-subscribers")
{
    private async Task<IActorRef> UdpSocket(Host h)
    {
        var created = await Ask<SocketCreated>(h.Ref, new SocketCreate(SockType.Dgram, 0));
        await Ask<SocketInfo>(created.Socket, GetSocketInfo.Instance);
        return created.Socket;
    }

    private async Task<Errno> SendTo(IActorRef sock, string dst)
        => await Ask<object>(sock, new SendTo(new byte[] { 1, 2, 3 }, Ipv4Address.Parse(dst), 9)) switch
        {
            Sent => Errno.OK,
            CommandFailed f => f.Error,
            var r => throw new InvalidOperationException($"unexpected {r}"),
        };

    private static FibRoute Connected(Host h)
    {
        return h.Ns!.Fib.Routes().Single(r => r.Prefix == new Ipv4Prefix(Ipv4Address.Parse("10.0.0.0"), 24));
    }

    [Fact]
    public async Task CarrierDown_NeighbourFlushedAndRouteLinkdown_CarrierUpClearsIt()
    {
        var h = await StartHost(withNamespace: true);
        var mon = await Monitor(h);
        var wire = await AttachProbeWire(h);
        await ExpectLinkAsync(mon, "eth0", "UP", true);
        var sock = await UdpSocket(h);
        Assert.Equal(Errno.OK, await SendTo(sock, "10.0.0.9"));   // unresolved: an INCOMPLETE entry holds the datagram
        Assert.Single((await Ask<NeighbourList>(h.Ref, new GetNeighbours("eth0"))).Entries);
        Assert.False(Connected(h).LinkDown);

        AdvanceMs(1000);
        h.Nics["eth0"].Tell(new CarrierChanged(false));
        await ExpectLinkAsync(mon, "eth0", "DOWN", false);
        Assert.True(Connected(h).LinkDown);
        Assert.Contains("linkdown", Connected(h).Format());
        Assert.Empty((await Ask<NeighbourList>(h.Ref, new GetNeighbours("eth0"))).Entries);
        Assert.Equal(1, Dropped(await Stats(h), DropReason.QUEUE_PURGE, "neigh"));
        // The route stays usable (ignore_routes_with_linkdown = 0): the send succeeds, noop_qdisc drops the ARP request.
        Assert.Equal(Errno.OK, await SendTo(sock, "10.0.0.9"));

        h.Nics["eth0"].Tell(new CarrierChanged(true));
        await ExpectLinkAsync(mon, "eth0", "UP", true);
        Assert.False(Connected(h).LinkDown);
    }

    [Fact]
    public async Task AdminDown_RoutesFlushed_SendGetsEnetunreachUntilUp()
    {
        var h = await StartHost(withNamespace: true);
        await AttachProbeWire(h);
        var sock = await UdpSocket(h);
        Assert.Equal(Errno.OK, await SendTo(sock, "10.0.0.9"));
        await Ask<LinkAdminSet>(h.Ref, new LinkSetAdmin("eth0", false));
        Assert.Equal(Errno.ENETUNREACH, await SendTo(sock, "10.0.0.9"));
        Assert.Contains(h.Ns!.Fib.Routes(RouteTable.Local), r => r.Type == RouteType.Local && r.Device == "eth0");   // local address kept
        Assert.Equal(Errno.OK, await SendTo(sock, "10.0.0.1"));   // own address, via lo
        await Ask<LinkAdminSet>(h.Ref, new LinkSetAdmin("eth0", true));
        Assert.False(Connected(h).LinkDown);
        Assert.Equal(Errno.OK, await SendTo(sock, "10.0.0.9"));
    }
}
