using Akka.Actor;
using ActorStack.Tests.Engine;
using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.TcpActors;

/// <summary>The bind / listening / established hashes: conflicts, ephemeral ports, lookup order.</summary>
public class TcpTableTests() : EngineKit("tcp-table")
{
    private static readonly Ipv4Address Local = Ipv4Address.Parse("10.0.0.2"), Peer = Ipv4Address.Parse("10.0.0.1");

    [Fact]
    public void Bind_SamePortOverlappingAddress_IsEaddrinuse_DifferentAddressesShare()
    {
        var t = new TcpTable(new Random(1));
        IActorRef a = Probe().Ref, b = Probe().Ref, c = Probe().Ref;
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
            Assert.Equal(Errno.OK, t.Bind(Probe().Ref, Ipv4Address.Any, ref p));
            Assert.InRange(p, TcpTable.EphemeralLow, TcpTable.EphemeralHigh);
            Assert.True(seen.Add(p));
        }
    }

    [Fact]
    public void Lookup_EstablishedBeforeSpecificListenerBeforeWildcard()
    {
        var t = new TcpTable(new Random(1));
        IActorRef wild = Probe().Ref, spec = Probe().Ref, conn = Probe().Ref;
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

    [Fact]
    public void Bind_EphemeralRangeExhausted_IsEaddrinuse_ConnectIsEaddrnotavail_UntilAPortIsFreed()
    {
        var t = new TcpTable(new Random(1), 40000, 40002); // ip_local_port_range 40000 40002: three ports
        IActorRef[] owners = [Probe().Ref, Probe().Ref, Probe().Ref];
        var byOwner = new ushort[owners.Length];
        for (int i = 0; i < owners.Length; i++) Assert.Equal(Errno.OK, t.Bind(owners[i], Ipv4Address.Any, ref byOwner[i]));
        var got = byOwner.OrderBy(p => p).ToList();
        Assert.Equal([40000, 40001, 40002], got);
        var late = Probe().Ref;
        ushort none = 0;
        Assert.Equal(Errno.EADDRINUSE, t.Bind(late, Ipv4Address.Any, ref none));
        Assert.Equal(0, none);
        Assert.Equal(Errno.EADDRNOTAVAIL, t.Connect(late, Local, 0, Peer, 80, out _));
        Assert.Equal(0, t.EstablishedCount);
        t.Remove(owners[1]);
        Assert.Equal(Errno.OK, t.Connect(late, Local, 0, Peer, 80, out var tuple));
        Assert.Equal(new TcpTuple(Local, byOwner[1], Peer, 80), tuple); // the only port free again
        Assert.Equal(1, t.EstablishedCount);
    }

    [Fact]
    public void Bind_SameSeed_SamePortsInTheSameOrder()
    {
        ushort[] Ports(int seed)
        {
            var t = new TcpTable(new Random(seed));
            var r = new ushort[5];
            for (int i = 0; i < r.Length; i++) Assert.Equal(Errno.OK, t.Bind(Probe().Ref, Ipv4Address.Any, ref r[i]));
            return r;
        }
        Assert.Equal(Ports(42), Ports(42));
        Assert.NotEqual(Ports(42), Ports(43));
    }

    [Fact]
    public void Connect_Autobinds_HashesTheTuple_ATakenTupleIsEaddrnotavail_AndTheSocketStaysBound()
    {
        var t = new TcpTable(new Random(1));
        IActorRef a = Probe().Ref, b = Probe().Ref;
        Assert.Equal(Errno.OK, t.Connect(a, Local, 0, Peer, 80, out var ta));
        Assert.InRange(ta.LocalPort, TcpTable.EphemeralLow, TcpTable.EphemeralHigh);
        Assert.Equal(new TcpTuple(Local, ta.LocalPort, Peer, 80), ta);
        Assert.Equal(a, t.Lookup(Peer, 80, Local, ta.LocalPort));
        // __inet_check_established: b bound to the same port on another address cannot take a's 4-tuple.
        ushort same = ta.LocalPort;
        Assert.Equal(Errno.EADDRINUSE, t.Bind(b, Ipv4Address.Any, ref same)); // a holds the port on the wildcard
        Assert.Equal(Errno.EADDRNOTAVAIL, t.Connect(b, Local, ta.LocalPort, Peer, 80, out _));
        Assert.Equal(1, t.EstablishedCount);
        t.Remove(a);
        Assert.Null(t.Lookup(Peer, 80, Local, ta.LocalPort));
        Assert.Equal(0, t.EstablishedCount);
    }

    [Fact]
    public void Listen_PortZero_Autobinds_ThenAnotherListenerThereIsEaddrinuse()
    {
        var t = new TcpTable(new Random(1));
        IActorRef a = Probe().Ref, b = Probe().Ref;
        ushort port = 0;
        Assert.Equal(Errno.OK, t.Listen(a, Ipv4Address.Any, ref port));
        Assert.InRange(port, TcpTable.EphemeralLow, TcpTable.EphemeralHigh);
        Assert.Equal(a, t.Lookup(Peer, 5000, Local, port));
        ushort again = port;
        Assert.Equal(Errno.EADDRINUSE, t.Listen(b, Ipv4Address.Any, ref again));
        Assert.Equal(a, t.Lookup(Peer, 5000, Local, port));
    }
}
