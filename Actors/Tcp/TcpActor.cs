using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Softnet;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;
using ActorStack.Actors;

namespace ActorStack.Actors.Tcp;

/// <summary>
/// A listener's request to create the socket actor of a new connection (<c>inet_csk_clone_lock</c>):
/// the TCB (now owned by the child, never touched again by the listener) and its 4-tuple.
/// The TCP actor enters the child in the established hash before any later segment is looked up.
/// The one message that stays beside its actor rather than in Messages/: it hands over a live <see cref="Tcb"/>
/// (a buffer with one owner at a time) between two actors of the same host, so it never crosses a node.
/// </summary>
public sealed record TcpSpawnChild(Tcb Tcb, TcpTuple Tuple, IActorRef Listener);

/// <summary>
/// The TCP protocol handler of one host (<c>tcp_v4_rcv</c>): validates each segment
/// (<see cref="TcpSegment.TryParse(ReadOnlyMemory{byte}, Ipv4Address, Ipv4Address, out TcpSegment?, bool)"/>:
/// length, data offset, checksum, options; counted InErrs / InCsumErrors with a drop reason), looks up
/// the socket (established 4-tuple, then listener) in its <see cref="TcpTable"/>, and hands each
/// socket its segments, one message per socket per batch. A segment for no socket is answered with a
/// RST (<c>tcp_v4_send_reset</c>, OutRsts). Creates the TCP socket actors (its children), so a
/// listener's connections outlive the listener as Linux's accepted sockets do. The only owner of the
/// tables and of ephemeral port allocation (from a <see cref="Random"/> seeded from the namespace): sockets
/// bind, listen, connect and unhash by message (<see cref="TcpBind"/>, <see cref="TcpListen"/>,
/// <see cref="TcpConnect"/>, <see cref="TcpUnbind"/>; answered by <see cref="TcpBindResult"/>), and a stopped
/// socket leaves the tables when its <see cref="Terminated"/> arrives.
/// </summary>
public sealed class TcpActor : UntypedActor
{
    private readonly NetNamespace _ns;
    private readonly TcpCounters _mib;
    private readonly TcpTable _table;
    private readonly IpOutput _out;
    private readonly CpuCostSettings _cost;
    private int _queued, _resets; // segments handed to sockets, RSTs sent, by the batch in hand
    private readonly Random _seeds;
    private readonly Dictionary<IActorRef, ImmutableArray<TcpSegIn>.Builder> _batch = new(ActorRefComparer.Instance);
    private readonly TcpBacklog<IActorRef> _backlog = new();
    private int _nextSocket;
    private readonly TcpSettings _settings;

    public TcpActor(NetNamespace ns, HostRefs refs, TcpSettings settings)
    {
        _ns = ns;
        _mib = ns.Tcp;
        _table = new TcpTable(new Random(ns.SeedFor("tcp_port")), settings.LocalPortLow, settings.LocalPortHigh);
        _out = new IpOutput(ns, refs);
        _seeds = new Random(ns.SeedFor("tcp_isn"));
        _cost = SoftirqWork.Costs(Context.System, ns);
        _settings = settings;
    }

    // One switch instead of ReceiveActor's per-instance handler set (a TCP actor per host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case HostRefs r: _out.Refs = r; break;
            case ProtocolDeliver m: OnDeliver(m); break;
            case IcmpErrorReceived m: OnIcmpError(m); break;
            case NeighOutputDone m: _out.NeighDone(m); break;
            case TcpBacklogProcessed m: _backlog.Processed(Sender, m.Bytes); break;
            case Terminated t:
                _backlog.Remove(t.ActorRef);
                _table.Remove(t.ActorRef); // a socket that stopped (or failed) without its TcpUnbind
                break;
            case TcpBind m:
            {
                ushort port = m.Port;
                var err = _table.Bind(m.Socket, m.Address, ref port);
                m.Socket.Tell(new TcpBindResult(err, m.Address, err == Errno.OK ? port : (ushort)0, Ipv4Address.Any, 0), Self);
                break;
            }
            case TcpListen m:
            {
                ushort port = m.Port;
                var err = _table.Listen(m.Socket, m.Address, ref port);
                m.Socket.Tell(new TcpBindResult(err, m.Address, port, Ipv4Address.Any, 0), Self);
                break;
            }
            case TcpConnect m:
            {
                var err = _table.Connect(m.Socket, m.LocalAddress, m.LocalPort, m.RemoteAddress, m.RemotePort, out var t);
                m.Socket.Tell(new TcpBindResult(err, t.LocalAddress, t.LocalPort, t.RemoteAddress, t.RemotePort), Self);
                break;
            }
            case TcpUnbind m: _table.Remove(m.Socket); break;
            case TcpRedeliver m:
                foreach (var s in m.Segments) Dispatch(s, PacketKind.Host);
                FlushBatch();
                _out.Flush(Self);
                break;
            case SocketCreate:
            {
                var sock = Context.ActorOf(TcpSocketActor.Props(_ns, _out.Refs, _settings, Self, _seeds.Next()), $"tcp-{++_nextSocket}");
                Context.Watch(sock);
                Sender.Tell(new SocketCreated(sock));
                break;
            }
            case TcpSpawnChild m:
            {
                var child = Context.ActorOf(TcpSocketActor.ChildProps(_ns, _out.Refs, _settings, Self, _seeds.Next(), m.Tcb, m.Tuple, m.Listener),
                    $"tcp-{++_nextSocket}");
                Context.Watch(child);
                // inet_ehash_nolisten for the child (inet_csk_complete_hashdance): hashed here, before any later segment is looked up.
                if (_table.AddConnection(child, m.Tuple) != Errno.OK)
                {
                    Context.Stop(child);
                    m.Listener.Tell(new TcpChildGone(m.Tuple), child); // the listener frees the child's place
                }
                else m.Listener.Tell(new TcpChildSpawned(m.Tuple), child);
                break;
            }
            default: Unhandled(message); break;
        }
    }

    /// <summary>
    /// <c>tcp_v4_rcv</c> for a batch inside the delivering CPU's softirq, answered to its softnet actor with the cost:
    /// <c>tcp-rcv</c> per segment, <c>sock-enqueue</c> per segment handed to a socket (its backlog, the socket
    /// actor's mailbox, not waited for) and <c>output</c> per RST sent.
    /// </summary>
    private void OnDeliver(ProtocolDeliver m)
    {
        _queued = _resets = 0;
        try
        {
            Deliver(m);
        }
        finally
        {
            SoftirqWork.Done(_out.Refs, m.Cpu,
                _cost.TcpRcvNs * m.Items.Length + _cost.SockEnqueueNs * _queued + _cost.OutputNs * _resets, 0, Self);
        }
        FlushBatch();
        _out.Flush(Self);
    }

    private void Deliver(ProtocolDeliver m)
    {
        foreach (var skb in m.Items)
        {
            var ip = skb.Data.Span.Slice(skb.NetworkOffset, skb.NetworkLength);
            Ipv4Header.TryRead(ip, out var iph); // ip_rcv_core checked the header before delivery
            var src = iph.Source;
            var dst = iph.Destination;
            var bytes = skb.Data.Slice(skb.TransportOffset, skb.NetworkOffset + skb.NetworkLength - skb.TransportOffset);
            // A buffer GRO verified (CHECKSUM_UNNECESSARY) is not checked again (skb_csum_unnecessary).
            var err = TcpSegment.TryParse(bytes, src, dst, out var seg, verifyChecksum: !skb.ChecksumUnnecessary);
            if (err != TcpParseError.None)
            {
                // tcp_v4_rcv: "Count it even if it's bad" — TCP_MIB_INSEGS for every PACKET_HOST segment before any check
                // (found by the differential suite: tcp-bad-checksum-dropped, tcp-data-offset-below-5-dropped).
                if (skb.PktType is PacketKind.Host or PacketKind.Loopback) _mib.Tcp.Inc(TcpMib.InSegs);
                _ns.Drops.Add(_mib.CountParseError(err), "tcp", skb);
                continue;
            }
            // tcp_v4_rcv: segments not addressed to this host are discarded before the lookup.
            if (skb.PktType is not (PacketKind.Host or PacketKind.Loopback))
            {
                _ns.Drops.Add(DropReason.NOT_SPECIFIED, "tcp", skb); // discard_it, as tcp_v4_rcv does
                continue;
            }
            // TCP_MIB_INSEGS counts max(1, gso_segs): the socket counts one, a GRO packet's other segments here.
            if (skb.GsoSegs > 1) _mib.Tcp.Add(TcpMib.InSegs, skb.GsoSegs - 1);
            Dispatch(new TcpSegIn(seg!, src, dst), skb.PktType);
        }
    }

    /// <summary>
    /// <c>tcp_v4_err</c>: the quoted IP header and the first 8 bytes of the TCP header name the connection (we were
    /// the source); it gets the error to judge (sequence check, PMTU, hard or soft error). No socket: ICMP InErrors.
    /// </summary>
    private void OnIcmpError(IcmpErrorReceived m)
    {
        // The quoted IP header (IHL ≥ 5, all of it present) and 8 bytes of the TCP header, else InErrors.
        if (!IcmpQuote.TryRead(m.Offending.Span, out var q)) { _ns.Icmp.Inc(IcmpMib.InErrors); return; }
        var qip = q.Ip;
        var src = qip.Source;
        var dst = qip.Destination;
        ushort sport = q.SourcePort;
        ushort dport = q.DestinationPort;
        var seq = q.TcpSeq;
        // The offending segment went from us (src:sport) to the peer (dst:dport): look it up as the peer's reply would be.
        var sock = _table.Lookup(dst, dport, src, sport);
        if (sock is null) { _ns.Icmp.Inc(IcmpMib.InErrors); return; }
        sock.Tell(new TcpIcmpError(m.Type, m.Code, m.Info, seq), Self);
    }

    private void Dispatch(in TcpSegIn s, PacketKind kind)
    {
        var seg = s.Seg;
        var sock = _table.Lookup(s.Source, seg.SourcePort, s.Destination, seg.DestinationPort);
        if (sock is null)
        {
            NoSocket(s);
            return;
        }
        // tcp_add_backlog: the socket's unprocessed segments are bounded by its buffers.
        int rcv = 0, snd = 0;
        if (_ns.Sockets.TryGetValue(sock, out var c)) { rcv = Volatile.Read(ref c.RcvBuf); snd = Volatile.Read(ref c.SndBuf); }
        if (!_backlog.TryCharge(sock, seg.Length, TcpBacklog<IActorRef>.Limit(rcv, snd), out bool isNew))
        {
            _mib.Tcp.Inc(TcpMib.InSegs);
            _mib.Ext.Inc(TcpExtMib.TCPBacklogDrop);
            _ns.Drops.Add(DropReason.SOCKET_BACKLOG, "tcp");
            return;
        }
        if (isNew) Context.Watch(sock);
        if (!_batch.TryGetValue(sock, out var b)) _batch[sock] = b = ImmutableArray.CreateBuilder<TcpSegIn>();
        b.Add(s);
        _queued++;
    }

    /// <summary><c>tcp_v4_rcv</c> no_tcp_socket: counted in InSegs, then <c>tcp_v4_send_reset</c> unless it was a RST.</summary>
    private void NoSocket(in TcpSegIn s)
    {
        _mib.Tcp.Inc(TcpMib.InSegs);
        _ns.Drops.Add(DropReason.NO_SOCKET, "tcp");
        if (Tcb.ResetFor(s.Seg, s.Seg.DestinationPort) is not { } rst) return;
        long now = Context.System.Scheduler.Now.UtcTicks;
        if (TcpXmit.Send(_ns, _out, rst, s.Destination, s.Source, now) == Errno.OK)
        {
            _mib.Tcp.Inc(TcpMib.OutSegs);
            _mib.Tcp.Inc(TcpMib.OutRsts);
            _resets++;
        }
    }

    private void FlushBatch()
    {
        foreach (var (sock, b) in _batch)
        {
            if (b.Count == 0) continue;
            sock.Tell(new TcpDeliver(b.ToImmutable()), Self);
            b.Clear();
        }
        if (_batch.Count > 64) _batch.Clear();
    }

    public static Props Props(NetNamespace ns, HostRefs refs, TcpSettings? settings = null)
        => FactoryProps.Of(() => new TcpActor(ns, refs, settings ?? TcpSettings.Default));
}

/// <summary>Builds and sends the IPv4 packet carrying one TCP segment (<c>ip_queue_xmit</c> with DF set, as TCP always does).</summary>
public static class TcpXmit
{
    /// <summary>
    /// Routes from <paramref name="src"/> to <paramref name="dst"/>, writes IP header and segment
    /// (<see cref="TcpSegment.WriteTo"/> fills the checksum) and hands it to <see cref="IpOutput.LocalOut"/>.
    /// The caller calls <see cref="IpOutput.Flush"/> at the end of its message.
    /// </summary>
    public static Errno Send(NetNamespace ns, IpOutput output, TcpSegment seg, Ipv4Address src, Ipv4Address dst, long now)
    {
        var err = output.Route(dst, src, 0, now, out var rt);
        if (err != Errno.OK)
        {
            if (err == Errno.ENETUNREACH) ns.Ip.Inc(IpMib.OutNoRoutes);
            return err;
        }
        return Send(ns, output, seg, rt.Source, dst, rt, now);
    }

    public static Errno Send(NetNamespace ns, IpOutput output, TcpSegment seg, Ipv4Address src, Ipv4Address dst, in OutputRoute rt, long now)
        => Send(ns, output, seg, src, dst, rt, now, null, out _);

    /// <summary>As above, the buffer charged to <paramref name="owner"/> (sk_wmem_alloc; freed at TX completion); <paramref name="truesize"/> is its charge.</summary>
    public static Errno Send(NetNamespace ns, IpOutput output, TcpSegment seg, Ipv4Address src, Ipv4Address dst, in OutputRoute rt, long now,
        IActorRef? owner, out long truesize)
    {
        int ipLen = Ipv4Header.MinLength + seg.Length;
        var frame = IpOutput.NewFrame(ipLen);
        var ip = frame.AsSpan(IpOutput.Headroom);
        seg.WriteTo(ip[Ipv4Header.MinLength..], src, dst);
        output.WriteHeader(ip, ipLen, df: true, (byte)ns.Sysctl.IpDefaultTtl, IpProtocol.Tcp, src, dst);
        var skb = IpOutput.NewSkb(frame, owner);
        truesize = owner is null ? 0 : skb.Truesize;
        return output.LocalOut(skb, rt, now);
    }

    private const TcpFlags NoGso = TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Urg | TcpFlags.Cwr | TcpFlags.Fin | TcpFlags.Psh;

    /// <summary>
    /// Sends one drain of a connection's outbox, in order. When the route's device does GSO (<c>sk_can_gso</c>;
    /// not lo), runs of consecutive data segments that TSO would have produced from one buffer (contiguous
    /// sequence numbers, same ACK, window, flags and options, every one but the last a full
    /// <c>gso_size</c> = the first's payload, PSH/FIN only on the last, under 64 KB) go as one super-packet
    /// (<c>tcp_write_xmit</c> with <c>tcp_set_skb_tso_segs</c>; the device or the driver cuts it).
    /// Returns the error of the last failed send, or OK.
    /// </summary>
    public static Errno SendAll(NetNamespace ns, IpOutput output, List<TcpSegment> segs, Ipv4Address src, Ipv4Address dst,
        in OutputRoute rt, long now, IActorRef? owner, out long truesize)
    {
        truesize = 0;
        var result = Errno.OK;
        bool gso = rt.Device.Gso && !rt.Device.IsLoopback;
        int n = segs.Count;
        int i = 0;
        while (i < n)
        {
            var first = segs[i];
            int j = i + 1;
            int total = first.Payload.Length;
            if (gso && CanStartGso(first, rt.Mtu))
            {
                var prev = first;
                int limit = Gro.GroLegacyMaxSize - Ipv4Header.MinLength - first.HeaderLength;
                while (j < n && (prev.Flags & (TcpFlags.Psh | TcpFlags.Fin)) == 0 && prev.Payload.Length == first.Payload.Length)
                {
                    var s = segs[j];
                    if (s.Seq != prev.EndSeq || s.Ack != first.Ack || s.Window != first.Window
                        || (s.Flags & ~(TcpFlags.Psh | TcpFlags.Fin)) != first.Flags
                        || s.Payload.Length == 0 || s.Payload.Length > first.Payload.Length
                        || total + s.Payload.Length >= limit) break;
                    if (!SameOptions(s.Options, first.Options)) break;
                    total += s.Payload.Length;
                    prev = s;
                    j++;
                }
            }
            long charged;
            var err = j - i > 1 ? SendGso(ns, output, segs, i, j, first, total, src, dst, rt, now, owner, out charged)
                                : Send(ns, output, first, src, dst, rt, now, owner, out charged);
            truesize += charged;
            if (err != Errno.OK) result = err;
            i = j;
        }
        return result;
    }

    private static bool CanStartGso(TcpSegment s, int mtu)
        => (s.Flags & NoGso) == 0 && s.HasAck && s.Payload.Length > 0 && Ipv4Header.MinLength + s.Length <= mtu;

    private static bool SameOptions(in TcpOptions a, in TcpOptions b)
    {
        if (a.Mss != b.Mss || a.WindowScale != b.WindowScale || a.SackPermitted != b.SackPermitted || a.HasTimestamp != b.HasTimestamp
            || a.TsVal != b.TsVal || a.TsEcr != b.TsEcr || a.SackCount != b.SackCount) return false;
        for (int k = 0; k < a.SackCount; k++)
            if (a.Sack[k] != b.Sack[k]) return false;
        return true;
    }

    /// <summary>
    /// One GSO super-packet for <paramref name="segs"/>[from..to): the first segment's header with PSH/FIN of the
    /// last, all payloads behind it, <c>gso_size</c> = the first's payload, the TCP checksum field holding the
    /// pseudo-header sum (<c>CHECKSUM_PARTIAL</c>, completed per frame by the segmenter).
    /// </summary>
    private static Errno SendGso(NetNamespace ns, IpOutput output, List<TcpSegment> segs, int from, int to, TcpSegment first, int total,
        Ipv4Address src, Ipv4Address dst, in OutputRoute rt, long now, IActorRef? owner, out long truesize)
    {
        var lastFlags = segs[to - 1].Flags & (TcpFlags.Psh | TcpFlags.Fin);
        var head = first with { Payload = ReadOnlyMemory<byte>.Empty, Flags = first.Flags | lastFlags };
        int hl = head.HeaderLength;
        int tcpLen = hl + total;
        int ipLen = Ipv4Header.MinLength + tcpLen;
        // Every byte is written below (headers, payloads; the Ethernet header by the neighbour layer): no zeroing.
        var frame = GC.AllocateUninitializedArray<byte>(IpOutput.Headroom + ipLen);
        var ip = frame.AsSpan(IpOutput.Headroom);
        var tcp = ip[Ipv4Header.MinLength..];
        head.WriteTo(tcp, src, dst);
        int o = hl;
        first.Payload.Span.CopyTo(tcp[o..]);
        o += first.Payload.Length;
        for (int k = from + 1; k < to; k++)
        {
            var p = segs[k].Payload.Span;
            p.CopyTo(tcp[o..]);
            o += p.Length;
        }
        new TcpHeaderWriter(tcp).SetPseudoHeaderChecksum(src.Value, dst.Value, tcpLen);
        output.WriteHeader(ip, ipLen, df: true, (byte)ns.Sysctl.IpDefaultTtl, IpProtocol.Tcp, src, dst);
        var skb = IpOutput.NewSkb(frame, owner) with { GsoSize = first.Payload.Length, GsoSegs = to - from };
        truesize = owner is null ? 0 : skb.Truesize;
        return output.LocalOut(skb, rt, now);
    }
}
