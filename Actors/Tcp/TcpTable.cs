using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;
using ActorStack.Actors;

namespace ActorStack.Actors.Tcp;

/// <summary>
/// The TCP socket tables of one namespace (<c>struct inet_hashinfo</c>): the bind hash (ports in use,
/// <c>bhash</c>), the listening hash (<c>lhash2</c>) and the established hash (<c>ehash</c>, every
/// non-listening connection by 4-tuple). A plain single-threaded class owned by the TCP actor alone: socket actors
/// bind, listen, connect and unhash by message (<see cref="TcpBind"/>, <see cref="TcpListen"/>, <see cref="TcpConnect"/>,
/// <see cref="TcpUnbind"/>), so no lock is needed where Linux takes its bucket spinlocks.
/// Ephemeral ports come from <c>ip_local_port_range</c> (32768–60999) starting at an offset drawn from the owner's
/// seeded <see cref="Random"/>, so a seed and the order of the requests fix every port;
/// the range bounds the bind table, the sockets that own the entries bound the rest.
/// </summary>
public sealed class TcpTable
{
    public const int EphemeralLow = 32768, EphemeralHigh = 60999;

    private readonly Random _rng;
    private readonly Dictionary<ushort, List<(IActorRef Owner, Ipv4Address Address)>> _bind = new();
    private readonly Dictionary<(Ipv4Address, ushort), IActorRef> _listen = new();
    private readonly Dictionary<TcpTuple, IActorRef> _established = new();
    private readonly Dictionary<IActorRef, List<TcpTuple>> _ownedTuples = new(ActorRefComparer.Instance);

    private readonly int _portLow, _portHigh;

    /// <param name="portLow">net.ipv4.ip_local_port_range low end (default 32768).</param>
    /// <param name="portHigh">Its high end (default 60999).</param>
    public TcpTable(Random rng, int portLow = EphemeralLow, int portHigh = EphemeralHigh)
    {
        _rng = rng;
        _portLow = Math.Clamp(Math.Min(portLow, portHigh), 1, 65535);
        _portHigh = Math.Clamp(Math.Max(portLow, portHigh), 1, 65535);
    }

    /// <summary>Entries in the established hash (read by the owner only).</summary>
    public int EstablishedCount => _established.Count;

    /// <summary>
    /// <c>inet_csk_get_port</c>: binds <paramref name="owner"/> to <paramref name="address"/>:<paramref name="port"/>,
    /// port 0 picking a free ephemeral port. EADDRINUSE when another socket holds the port on an
    /// overlapping address (no SO_REUSEADDR), EADDRINUSE too when no ephemeral port is left.
    /// </summary>
    public Errno Bind(IActorRef owner, Ipv4Address address, ref ushort port)
    {
        if (port == 0)
        {
            int span = _portHigh - _portLow + 1;
            int start = _rng.Next(span);
            for (int i = 0; i < span; i++)
            {
                var p = (ushort)(_portLow + (start + i) % span);
                if (_bind.ContainsKey(p)) continue;
                port = p;
                _bind[p] = [(owner, address)];
                return Errno.OK;
            }
            return Errno.EADDRINUSE;
        }
        if (_bind.TryGetValue(port, out var users))
        {
            foreach (var (o, a) in users)
                if (!o.Equals(owner) && (a.IsAny || address.IsAny || a == address)) return Errno.EADDRINUSE;
            users.Add((owner, address));
        }
        else _bind[port] = [(owner, address)];
        return Errno.OK;
    }

    /// <summary><c>inet_hash</c> for a listener: EADDRINUSE when another socket listens on the same address and port.</summary>
    public Errno Listen(IActorRef owner, Ipv4Address address, ushort port)
    {
        if (_listen.TryGetValue((address, port), out var other) && !other.Equals(owner)) return Errno.EADDRINUSE;
        _listen[(address, port)] = owner;
        return Errno.OK;
    }

    /// <summary>
    /// <c>__inet_hash_connect</c> / <c>inet_ehash_nolisten</c>: enters a connection's 4-tuple in the
    /// established hash; EADDRNOTAVAIL when the 4-tuple is taken.
    /// </summary>
    public Errno AddConnection(IActorRef owner, TcpTuple t)
    {
        if (!_established.TryAdd(t, owner)) return Errno.EADDRNOTAVAIL;
        if (!_ownedTuples.TryGetValue(owner, out var l)) _ownedTuples[owner] = l = new List<TcpTuple>(1);
        l.Add(t);
        return Errno.OK;
    }

    /// <summary>
    /// <c>inet_hash_connect</c> (<c>__inet_hash_connect</c> with <c>__inet_check_established</c>): an unbound socket
    /// (<paramref name="localPort"/> 0) takes an ephemeral port first (EADDRNOTAVAIL when none is left), then the
    /// 4-tuple enters the established hash (EADDRNOTAVAIL when taken). <paramref name="tuple"/> is the 4-tuple with the
    /// port chosen; on a failed hash the socket stays bound to that port, as before.
    /// </summary>
    public Errno Connect(IActorRef owner, Ipv4Address localAddress, ushort localPort, Ipv4Address remoteAddress, ushort remotePort,
        out TcpTuple tuple)
    {
        tuple = new TcpTuple(localAddress, localPort, remoteAddress, remotePort);
        if (localPort == 0)
        {
            if (Bind(owner, Ipv4Address.Any, ref localPort) != Errno.OK) return Errno.EADDRNOTAVAIL;
            tuple = tuple with { LocalPort = localPort };
        }
        return AddConnection(owner, tuple);
    }

    /// <summary>
    /// <c>inet_listen</c>'s table half: <c>inet_autobind</c> for an unbound socket (<paramref name="port"/> 0 on entry,
    /// the port chosen on return), then <c>inet_hash</c> into the listening hash.
    /// </summary>
    public Errno Listen(IActorRef owner, Ipv4Address address, ref ushort port)
    {
        if (port == 0)
        {
            var e = Bind(owner, Ipv4Address.Any, ref port);
            if (e != Errno.OK) return e;
        }
        return Listen(owner, address, port);
    }

    /// <summary><c>inet_unhash</c> + <c>inet_put_port</c>: every entry <paramref name="owner"/> holds.</summary>
    public void Remove(IActorRef owner)
    {
        if (_ownedTuples.Remove(owner, out var tuples))
            foreach (var t in tuples)
                if (_established.TryGetValue(t, out var o) && o.Equals(owner)) _established.Remove(t);
        List<(Ipv4Address, ushort)>? ls = null;
        foreach (var (k, o) in _listen)
            if (o.Equals(owner)) (ls ??= new()).Add(k);
        if (ls is not null) foreach (var k in ls) _listen.Remove(k);
        List<ushort>? empty = null;
        foreach (var (p, users) in _bind)
            if (users.RemoveAll(u => u.Owner.Equals(owner)) > 0 && users.Count == 0) (empty ??= new()).Add(p);
        if (empty is not null) foreach (var p in empty) _bind.Remove(p);
    }

    /// <summary>
    /// <c>__inet_lookup</c>: the established 4-tuple first, then a listener on the destination address,
    /// then one on the wildcard address. Null: no socket.
    /// </summary>
    public IActorRef? Lookup(Ipv4Address src, ushort sport, Ipv4Address dst, ushort dport)
    {
        if (_established.TryGetValue(new TcpTuple(dst, dport, src, sport), out var s)) return s;
        if (_listen.TryGetValue((dst, dport), out s)) return s;
        return _listen.TryGetValue((Ipv4Address.Any, dport), out s) ? s : null;
    }
}
