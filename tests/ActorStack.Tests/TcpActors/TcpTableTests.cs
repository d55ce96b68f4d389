using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.TcpActors;

/// <summary>The bind / listening / established hashes: conflicts, ephemeral ports, lookup order.</summary>
public class TcpTableTests : TestKit
{
    private static readonly Ipv4Address Local = Ipv4Address.Parse("10.0.0.2"), Peer = Ipv4Address.Parse("10.0.0.1");

    [Fact]
    public void Bind_SamePortOverlappingAddress_IsEaddrinuse_DifferentAddressesShare()
    {
        var t = new TcpTable(new Random(1));
        IActorRef a = CreateTestProbe().Ref, b = CreateTestProbe().Ref, c = CreateTestProbe().Ref;
        ushort p = 80;
        Assert.Equal(Errno.OK, t.Bind(a, Local, ref p));
        p = 80;
        Assert.Equal(Errno.EADDRINUSE, t.Bind(b, Ipv4Address.Any, ref p));
        p = 80;
        Assert.Equal(Errno.OK, t.Bind(c, Ipv4Address.Parse("10.0.0.3"), ref p));
        t.Remove(a);
        p = 80;
        Assert.Equal(Errno.EADDRINUSE, t.Bind(b, Ipv4Address.Any, ref p)); // c still holds 10.0.0.3:80
        t.Remove(c);
        Assert.Equal(Errno.OK, t.Bind(b, Ipv4Address.Any, ref p));
    }

    [Fact]
    public void Bind_PortZero_PicksDistinctEphemeralPorts_InRange()
    {
        var t = new TcpTable(new Random(1));
        var seen = new HashSet<ushort>();
        for (int i = 0; i < 100; i++)
        {
            ushort p = 0;
            Assert.Equal(Errno.OK, t.Bind(CreateTestProbe().Ref, Ipv4Address.Any, ref p));
            Assert.InRange(p, TcpTable.EphemeralLow, TcpTable.EphemeralHigh);
            Assert.True(seen.Add(p));
        }
    }

    [Fact]
    public void Lookup_EstablishedBeforeSpecificListenerBeforeWildcard()
    {
        var t = new TcpTable(new Random(1));
        IActorRef wild = CreateTestProbe().Ref, spec = CreateTestProbe().Ref, conn = CreateTestProbe().Ref;
        Assert.Equal(Errno.OK, t.Listen(wild, Ipv4Address.Any, 80));
        Assert.Equal(wild, t.Lookup(Peer, 4000, Local, 80));
        Assert.Equal(Errno.OK, t.Listen(spec, Local, 80));
        Assert.Equal(spec, t.Lookup(Peer, 4000, Local, 80));
        Assert.Equal(Errno.OK, t.AddConnection(conn, new TcpTuple(Local, 80, Peer, 4000)));
        Assert.Equal(conn, t.Lookup(Peer, 4000, Local, 80));
        Assert.Equal(spec, t.Lookup(Peer, 4001, Local, 80));
        Assert.Equal(Errno.EADDRNOTAVAIL, t.AddConnection(wild, new TcpTuple(Local, 80, Peer, 4000)));
        t.Remove(conn);
        Assert.Equal(spec, t.Lookup(Peer, 4000, Local, 80));
        Assert.Null(t.Lookup(Peer, 4000, Local, 81));
    }
}
