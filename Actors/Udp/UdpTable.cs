using Akka.Actor;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors;

namespace ActorStack.Actors.Udp;

/// <summary>One bound UDP socket as the lookup table sees it (<c>inet_sock</c>'s addresses).</summary>
public sealed record UdpBinding(IActorRef Socket, Ipv4Address LocalAddress, ushort LocalPort, Ipv4Address RemoteAddress, ushort RemotePort);

/// <summary>
/// The UDP socket table of one host (<c>udp_table</c>), without actors: bind
/// with conflict checks and ephemeral ports (<c>udp_lib_get_port</c>), and the
/// receive lookup with Linux's scoring (<c>compute_score</c>): a socket whose
/// bound address, connected address and connected port match scores higher,
/// so a connected 4-tuple wins over a wildcard bind.
/// </summary>
public sealed class UdpTable(Random random, Func<Ipv4Address, bool> isBindable, Func<Ipv4Address, Ipv4Address?> sourceFor)
{
    /// <summary><c>ip_local_port_range</c>.</summary>
    public const int EphemeralLow = 32768, EphemeralHigh = 60999;

    private readonly Dictionary<ushort, List<UdpBinding>> _byPort = new();
    private readonly Dictionary<IActorRef, UdpBinding> _bySocket = new(ActorRefComparer.Instance);

    public int Count => _bySocket.Count;
    public UdpBinding? Of(IActorRef socket) => _bySocket.GetValueOrDefault(socket);

    /// <summary><c>inet_bind</c> + <c>udp_v4_get_port</c>.</summary>
    public Errno Bind(IActorRef socket, Ipv4Address address, ushort port, out UdpBinding? binding)
    {
        binding = null;
        if (_bySocket.ContainsKey(socket)) return Errno.EINVAL;
        if (!address.IsAny && !isBindable(address)) return Errno.EADDRNOTAVAIL;
        if (port == 0)
        {
            if (!TryEphemeral(address, out port)) return Errno.EAGAIN;
        }
        else if (Conflicts(address, port)) return Errno.EADDRINUSE;
        binding = new UdpBinding(socket, address, port, Ipv4Address.Any, 0);
        Insert(binding);
        return Errno.OK;
    }

    /// <summary><c>ip4_datagram_connect</c>: fixes the peer; an unbound socket is bound to an ephemeral port first.</summary>
    public Errno Connect(IActorRef socket, Ipv4Address address, ushort port, out UdpBinding? binding)
    {
        binding = null;
        if (port == 0 && !address.IsAny) return Errno.EINVAL;
        var src = sourceFor(address);
        if (src is null) return Errno.ENETUNREACH;
        if (!_bySocket.TryGetValue(socket, out var b))
        {
            var err = Bind(socket, Ipv4Address.Any, 0, out b);
            if (err != Errno.OK) return err;
        }
        Remove(socket);
        binding = b! with
        {
            LocalAddress = b!.LocalAddress.IsAny ? src.Value : b.LocalAddress,
            RemoteAddress = address,
            RemotePort = port,
        };
        Insert(binding);
        return Errno.OK;
    }

    public bool Remove(IActorRef socket)
    {
        if (!_bySocket.Remove(socket, out var b)) return false;
        var list = _byPort[b.LocalPort];
        list.Remove(b);
        if (list.Count == 0) _byPort.Remove(b.LocalPort);
        return true;
    }

    private void Insert(UdpBinding b)
    {
        _bySocket[b.Socket] = b;
        if (!_byPort.TryGetValue(b.LocalPort, out var list)) _byPort[b.LocalPort] = list = new List<UdpBinding>();
        list.Add(b);
    }

    private bool Conflicts(Ipv4Address address, ushort port)
        => _byPort.TryGetValue(port, out var list)
           && list.Any(b => b.LocalAddress.IsAny || address.IsAny || b.LocalAddress == address);

    private bool TryEphemeral(Ipv4Address address, out ushort port)
    {
        int range = EphemeralHigh - EphemeralLow + 1;
        int start = random.Next(range);
        for (int i = 0; i < range; i++)
        {
            port = (ushort)(EphemeralLow + (start + i) % range);
            if (!Conflicts(address, port)) return true;
        }
        port = 0;
        return false;
    }

    /// <summary><c>__udp4_lib_lookup</c>: the best-scoring socket for a unicast datagram, or null.</summary>
    public UdpBinding? Lookup(Ipv4Address saddr, ushort sport, Ipv4Address daddr, ushort dport)
    {
        if (!_byPort.TryGetValue(dport, out var list)) return null;
        UdpBinding? best = null;
        int bestScore = -1;
        foreach (var b in list)
        {
            int score = 2; // PF_INET
            if (!b.LocalAddress.IsAny) { if (b.LocalAddress != daddr) continue; score += 4; }
            if (!b.RemoteAddress.IsAny) { if (b.RemoteAddress != saddr) continue; score += 4; }
            if (b.RemotePort != 0) { if (b.RemotePort != sport) continue; score += 4; }
            if (score > bestScore) { best = b; bestScore = score; }
        }
        return best;
    }

    /// <summary><c>__udp4_lib_mcast_deliver</c>'s matching (<c>__udp_is_mcast_sock</c>): every socket a broadcast reaches.</summary>
    public IEnumerable<UdpBinding> LookupBroadcast(Ipv4Address saddr, ushort sport, Ipv4Address daddr, ushort dport)
    {
        if (!_byPort.TryGetValue(dport, out var list)) yield break;
        foreach (var b in list)
        {
            if (!b.LocalAddress.IsAny && b.LocalAddress != daddr) continue;
            if (!b.RemoteAddress.IsAny && b.RemoteAddress != saddr) continue;
            if (b.RemotePort != 0 && b.RemotePort != sport) continue;
            yield return b;
        }
    }
}
