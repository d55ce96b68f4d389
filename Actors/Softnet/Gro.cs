using System.Collections.Immutable;
using System.Runtime.InteropServices;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Actors.Softnet;

/// <summary><c>gro_result_t</c>: what <c>napi_gro_receive</c> did with a buffer (<c>napi_skb_finish</c>).</summary>
public enum GroResult
{
    /// <summary>GRO_MERGED: chained onto a held packet (its frag_list); the buffer lives on in it.</summary>
    Merged = 0,
    /// <summary>GRO_MERGED_FREE: merged and the buffer freed (its data moved as page fragments).</summary>
    MergedFree = 1,
    /// <summary>GRO_HELD: kept as the head of a new packet to merge into.</summary>
    Held = 2,
    /// <summary>GRO_NORMAL: not for GRO (or must be flushed at once): handed up as it is.</summary>
    Normal = 3,
}

/// <summary>
/// Generic receive offload for TCP over IPv4 (<c>napi_gro_receive</c>) in one NAPI context, per poll, without actors:
/// <c>dev_gro_receive</c> → <c>inet_gro_receive</c> → <c>tcp4_gro_receive</c> / <c>tcp_gro_receive</c>
/// decide per buffer; <c>napi_gro_complete</c> → <c>inet_gro_complete</c> / <c>tcp_gro_complete</c>
/// build the merged packet. The flow (addresses, protocol, ports) comes from the flow dissector (<see cref="FlowKeys"/>).
/// Rules as Linux's: same flow (addresses, ports), no IP options, not a fragment,
/// valid IP and TCP checksums, next sequence number, same ACK number, same flags except CWR/FIN/PSH (CWR
/// flushes), byte-identical TCP options (a timestamp that moved flushes), segment not longer than the first
/// (the <c>gso_size</c>), total under <c>GRO_LEGACY_MAX_SIZE</c>. A segment shorter than the first, or with
/// PSH/FIN (merged) or URG/RST/SYN, ends its packet; a pure ACK is never held. The merged packet keeps the
/// first segment's headers with the IP total length and header checksum fixed up, PSH/FIN of any
/// segment, <see cref="SkBuff.GsoSize"/> = the first segment's payload, <see cref="SkBuff.GsoSegs"/> =
/// segments, and is <see cref="SkBuff.ChecksumUnnecessary"/>. Held packets are bounded by <see cref="MaxHeld"/>
/// (<c>GRO_HASH_BUCKETS</c> × <c>MAX_GRO_SKBS</c>): one more flushes the oldest (<c>gro_flush_oldest</c>).
/// <para>
/// Handing up is Linux's (<c>napi_skb_finish</c>, <c>gro_normal_one</c>, <c>gro_normal_list</c>): a GRO_NORMAL
/// buffer and a completed packet join <c>rx_list</c> when they are decided (a held packet therefore goes up
/// behind the normal buffers that came after it, as in Linux), <c>rx_count</c> counts their segments, and the
/// list is handed up as one batch (<c>netif_receive_skb_list_internal</c>) when <c>rx_count</c> reaches
/// <c>gro_normal_batch</c>, and at the end of the poll. Held packets live across polls of the same NAPI:
/// <see cref="FlushOld"/> is <c>napi_gro_flush(napi, true)</c> after a poll that used its whole weight (only
/// packets held in an earlier jiffy go up), <see cref="Flush"/> is <c>napi_gro_flush(napi, false)</c> in
/// <c>napi_complete_done</c> (everything). The batches wait in <see cref="Up"/>/<see cref="Cuts"/> for the caller.
/// </para>
/// <para>
/// Buffers are the igb driver's (<c>igb_build_skb</c>: the head is a page fragment, further descriptors are
/// page frags), so <c>skb_gro_receive</c> steals a merged segment's head into the packet's frags and frees the
/// <c>sk_buff</c>: GRO_MERGED_FREE, truesize moved less <c>SKB_DATA_ALIGN(sizeof(struct sk_buff))</c>; when
/// the frags would pass <c>MAX_SKB_FRAGS</c> (17) the segment is chained on the <c>frag_list</c> instead:
/// GRO_MERGED, its whole truesize moved, and it becomes the buffer the next heads are stolen into.
/// </para>
/// </summary>
public sealed class Gro(int groNormalBatch = 8, int rxBufferSize = 2048)
{
    /// <summary><c>MAX_SKB_FRAGS</c> (<c>CONFIG_MAX_SKB_FRAGS</c> default 17).</summary>
    public const int MaxSkbFrags = 17;
    /// <summary><c>SKB_DATA_ALIGN(sizeof(struct sk_buff))</c>: what is left of a buffer whose head was stolen.</summary>
    public const int SkbStructAligned = 256;

    /// <summary><c>GRO_LEGACY_MAX_SIZE</c>: a merged packet stays under 64 KB.</summary>
    public const int GroLegacyMaxSize = 65536;
    /// <summary><c>GRO_HASH_BUCKETS</c> (8) × <c>MAX_GRO_SKBS</c> (8).</summary>
    public const int MaxHeld = 64;

    /// <summary>Where the TCP header starts in a frame GRO holds: after Ethernet and an IPv4 header without options.</summary>
    private const int TcpAt = EthernetHeader.Length + Ipv4Header.MinLength;
    private const TcpFlags FlushFlags = TcpFlags.Urg | TcpFlags.Psh | TcpFlags.Rst | TcpFlags.Syn | TcpFlags.Fin;

    private sealed class Flow
    {
        public SkBuff Head;
        public uint Src, Dst;
        public uint Ports;         // source << 16 | destination
        public uint NextSeq, Ack;
        public TcpFlags Flags;     // the head's flags, with PSH/FIN of merged segments
        public int Doff; // TCP header length
        public byte Ttl, Tos;
        public bool Df;
        public ushort Id;
        public int GsoSize, Count, IpLength, Truesize;
        public readonly List<ReadOnlyMemory<byte>> Frags = new();
        public bool Active;
        public long Age;      // NAPI_GRO_CB(skb)->age: the jiffy it was held in
        public int LastFrags; // nr_frags of NAPI_GRO_CB(p)->last (the head, or the last frag_list buffer)
    }

    private readonly List<Flow> _flows = new();       // kept for reuse
    private readonly List<Flow> _held = new();        // gro_hash: held packets, oldest first
    // rx_list and what was handed up from it, grown by doubling from nothing: an idle NAPI holds no array.
    private SkBuff[] _up = [];
    private int _upCount;     // handed-up buffers waiting for the caller; the rest of _up up to _listEnd is rx_list
    private int _listEnd;
    private int _rxCount;     // rx_count: segments on rx_list
    private readonly List<int> _cuts = new();
    private readonly int _batch = Math.Max(1, groNormalBatch);
    private readonly int _bufferSize = Math.Max(1, rxBufferSize);
    private long _jiffy;
    private long _flushed, _coalesced;
    private readonly long[] _results = new long[4]; // per gro_result_t, since the last flush

    /// <summary>Packets held at the moment.</summary>
    public int Held => _held.Count;

    /// <summary>Buffers on <c>rx_list</c>, not handed up yet.</summary>
    public int Listed => _listEnd - _upCount;

    /// <summary>
    /// The buffers handed up since <see cref="ClearUp"/>, in order; batch i (one <c>gro_normal_list</c>) ends at
    /// <see cref="Cuts"/>[i].
    /// </summary>
    public ReadOnlySpan<SkBuff> Up => _up.AsSpan(0, _upCount);

    /// <summary>Where each handed-up batch in <see cref="Up"/> ends.</summary>
    public ReadOnlySpan<int> Cuts => CollectionsMarshal.AsSpan(_cuts);

    /// <summary>Forgets <see cref="Up"/> (the caller has handed them on); <c>rx_list</c> stays.</summary>
    public void ClearUp()
    {
        if (_upCount == 0) return;
        int rest = _listEnd - _upCount;
        Array.Copy(_up, _upCount, _up, 0, rest);
        _up.AsSpan(rest, _upCount).Clear();
        _listEnd = rest;
        _upCount = 0;
        _cuts.Clear();
    }

    /// <summary>The handed-up batches as arrays (tests and cold paths), then <see cref="ClearUp"/>.</summary>
    public ImmutableArray<ImmutableArray<SkBuff>> TakeBatches()
    {
        var b = ImmutableArray.CreateBuilder<ImmutableArray<SkBuff>>(_cuts.Count);
        int start = 0;
        foreach (int end in _cuts)
        {
            b.Add(ImmutableArray.Create(_up, start, end - start));
            start = end;
        }
        ClearUp();
        return b.MoveToImmutable();
    }

    /// <summary>
    /// <c>napi_gro_receive</c> for one buffer: merged into a held packet, held, or put on <c>rx_list</c> as it is.
    /// <paramref name="jiffy"/> is <c>jiffies</c> (the held packet's age); <paramref name="elide"/> is
    /// <c>netif_elide_gro</c> (GRO off on the device: GRO_NORMAL). The result is counted (GRO_MERGED,
    /// GRO_MERGED_FREE, GRO_HELD, GRO_NORMAL) and added to the device's counters at the next flush.
    /// </summary>
    public GroResult Receive(in SkBuff skb, long jiffy = 0, bool elide = false)
    {
        _jiffy = jiffy;
        var r = elide ? Normal(skb) : ReceiveCore(skb);
        _results[(int)r]++;
        return r;
    }

    /// <summary>Descriptors (page buffers) a received frame took: the head plus <c>nr_frags</c>.</summary>
    private int Buffers(in SkBuff skb) => Math.Max(1, (skb.Length + _bufferSize - 1) / _bufferSize);

    private GroResult ReceiveCore(in SkBuff skb)
    {
        // The flow the packet belongs to, from the one flow dissector (flow_keys): IPv4, not a fragment, TCP with
        // its header (addresses, ports, sequence number, flags). Anything else is not for GRO.
        if (skb.Protocol != EtherType.Ipv4 || skb.NetworkOffset != EthernetHeader.Length) return Normal(skb);
        var frame = skb.Data.Span;
        var keys = FlowKeys.Dissect(frame);
        if (!keys.IsIpv4 || keys.IsFragment || keys.Protocol != IpProtocol.Tcp || !keys.HasTcpHeader) return Normal(skb);
        // inet_gro_receive's own checks: no IP options, valid header checksum, no link padding.
        Ipv4Header.TryRead(frame[EthernetHeader.Length..], out var ip); // the dissector found it well formed
        if (!ip.HasNoOptions) return Normal(skb);
        if (ip.TotalLength != frame.Length - EthernetHeader.Length) return Normal(skb);
        if (!ip.ChecksumValid) return Normal(skb);
        var tcp = ip.Payload;
        if (!TcpHeader.TryRead(tcp, out var th) || !th.DataOffsetValid) return Normal(skb);
        uint src = keys.Src.Value;
        uint dst = keys.Dst.Value;
        // tcp4_gro_receive: skb_gro_checksum_validate; a bad one is left to tcp_v4_rcv to count.
        if (!TcpHeader.ChecksumValid(tcp, src, dst)) return Normal(skb);

        uint ports = (uint)keys.SrcPort << 16 | keys.DstPort;
        uint seq = keys.TcpSeq;
        uint ack = th.Ack.Value;
        var flags = keys.TcpFlags;
        int doff = th.HeaderLength;
        int len = tcp.Length - doff;
        var opts = th.Options;

        Flow? p = null;
        foreach (var f in _held)
            if (f.Ports == ports && f.Src == src && f.Dst == dst && f.Head.Ifindex == skb.Ifindex) { p = f; break; }

        int mss = 1;
        if (p is not null)
        {
            // tcp_gro_receive's flush conditions, then skb_gro_receive's size limit.
            TcpHeader.TryRead(p.Head.Data.Span[TcpAt..], out var th2); // the head passed these checks when held
            bool flush = (flags & TcpFlags.Cwr) != 0
                || ((flags ^ th2.Flags) & ~(TcpFlags.Cwr | TcpFlags.Fin | TcpFlags.Psh)) != 0
                || ack != p.Ack
                || doff != p.Doff
                || !opts.SequenceEqual(th2.Options) // tcp_gro_receive compares every option word, the timestamp too
                || ip.Ttl != p.Ttl || ip.Tos != p.Tos || ip.DontFragment != p.Df
                || (!p.Df && ip.Id != (ushort)(p.Id + p.Count))
                || (uint)(len - 1) >= (uint)p.GsoSize
                || seq != p.NextSeq
                || p.IpLength + len >= GroLegacyMaxSize;
            if (!flush)
            {
                p.Frags.Add(skb.Data.Slice(TcpAt + doff, len));
                p.Count++;
                p.NextSeq = seq + (uint)len;
                p.IpLength += len;
                p.Flags |= flags & (TcpFlags.Fin | TcpFlags.Psh);
                // skb_gro_receive: the head (a page fragment) and its frags move into the last buffer's frags while
                // they fit MAX_SKB_FRAGS and the sk_buff is freed (GRO_MERGED_FREE); else it is chained (GRO_MERGED).
                int buffers = Buffers(skb);
                GroResult r;
                if (p.LastFrags + buffers <= MaxSkbFrags)
                {
                    p.LastFrags += buffers;
                    p.Truesize += skb.Truesize - SkbStructAligned;
                    r = GroResult.MergedFree;
                }
                else
                {
                    p.LastFrags = buffers - 1;
                    p.Truesize += skb.Truesize;
                    r = GroResult.Merged;
                }
                // out_check_final: a short last segment or PSH/FIN ends the packet now.
                if (len < p.GsoSize || (flags & FlushFlags) != 0) Complete(p);
                return r;
            }
            Complete(p); // pp: the held packet goes up, this one starts anew or goes up as it is
        }
        // out_check_final with no packet to merge into (mss = 1): pure ACKs and flagged segments go up now.
        if (len < mss || (flags & FlushFlags) != 0) return Normal(skb);
        Hold(skb, src, dst, ports, seq + (uint)len, ack, flags, doff, ip, len);
        return GroResult.Held;
    }

    private GroResult Normal(in SkBuff skb)
    {
        GroNormalOne(skb, 1);
        return GroResult.Normal;
    }

    /// <summary><c>gro_normal_one</c>: onto <c>rx_list</c>; a full batch (<c>gro_normal_batch</c> segments) goes up.</summary>
    private void GroNormalOne(in SkBuff skb, int segs)
    {
        if (_listEnd == _up.Length) Array.Resize(ref _up, Math.Max(8, _up.Length * 2));
        _up[_listEnd++] = skb;
        _rxCount += segs;
        if (_rxCount >= _batch) GroNormalList();
    }

    /// <summary><c>gro_normal_list</c>: <c>rx_list</c> goes up as one batch.</summary>
    private void GroNormalList()
    {
        if (_rxCount == 0 && _listEnd == _upCount) return;
        _upCount = _listEnd;
        _cuts.Add(_upCount);
        _rxCount = 0;
    }

    private void Hold(in SkBuff skb, uint src, uint dst, uint ports, uint nextSeq, uint ack, TcpFlags flags, int doff,
        Ipv4Header ip, int len)
    {
        if (_held.Count >= MaxHeld) Complete(_held[0]); // gro_flush_oldest
        Flow? f = null;
        foreach (var x in _flows)
            if (!x.Active) { f = x; break; }
        if (f is null) _flows.Add(f = new Flow());
        f.Active = true;
        _held.Add(f);
        f.Age = _jiffy;
        f.LastFrags = Buffers(skb) - 1;
        f.Head = skb;
        f.Src = src; f.Dst = dst; f.Ports = ports;
        f.NextSeq = nextSeq; f.Ack = ack; f.Flags = flags;
        f.Doff = doff;
        f.Ttl = ip.Ttl; f.Tos = ip.Tos;
        f.Df = ip.DontFragment;
        f.Id = ip.Id;
        f.GsoSize = len; f.Count = 1;
        f.IpLength = ip.TotalLength;
        f.Truesize = skb.Truesize;
        f.Frags.Clear();
    }

    /// <summary><c>napi_gro_complete</c>: the held packet is built and goes onto <c>rx_list</c> with its segments.</summary>
    private void Complete(Flow f)
    {
        _flushed++;
        if (f.Count > 1) _coalesced++;
        var skb = Build(f);
        int segs = f.Count;
        _held.Remove(f);
        f.Active = false;
        f.Frags.Clear();
        f.Head = default;
        GroNormalOne(skb, segs);
    }

    /// <summary>
    /// <c>inet_gro_complete</c> + <c>tcp_gro_complete</c>: one buffer with the head's headers, the IP total length
    /// and header checksum fixed up, the merged flags, and the TCP checksum field holding the pseudo-header sum
    /// (<c>~tcp_v4_check(len, saddr, daddr, 0)</c>, as Linux leaves it). A single segment goes up as it came
    /// (<c>gso_size</c> cleared), checksum verified.
    /// </summary>
    private SkBuff Build(Flow f)
    {
        if (f.Count == 1) return f.Head with { ChecksumUnnecessary = true, GsoSize = 0, GsoSegs = 0 };
        var frame = GC.AllocateUninitializedArray<byte>(EthernetHeader.Length + f.IpLength);
        f.Head.Data.Span[..f.Head.Data.Length].CopyTo(frame);
        int o = f.Head.Data.Length;
        foreach (var frag in f.Frags)
        {
            frag.Span.CopyTo(frame.AsSpan(o));
            o += frag.Length;
        }
        var ip = new Ipv4HeaderWriter(frame.AsSpan(EthernetHeader.Length, Ipv4Header.MinLength));
        ip.TotalLength = f.IpLength;
        ip.FillChecksum();
        var tcp = new TcpHeaderWriter(frame.AsSpan(TcpAt));
        tcp.Flags = f.Flags;
        tcp.SetPseudoHeaderChecksum(f.Src, f.Dst, f.IpLength - Ipv4Header.MinLength);
        return f.Head with
        {
            Data = frame,
            Truesize = f.Truesize,
            ChecksumUnnecessary = true,
            GsoSize = f.GsoSize,
            GsoSegs = f.Count,
        };
    }

    /// <summary>
    /// <c>napi_gro_flush(napi, false)</c> + <c>gro_normal_list</c> (<c>napi_complete_done</c>): every held packet is
    /// completed and <c>rx_list</c> goes up; returns everything handed up since the last <see cref="ClearUp"/>
    /// (and clears it). Counts the results, GroFlushed and GroCoalesced.
    /// </summary>
    public ImmutableArray<SkBuff> Flush(OffloadCounters counters)
    {
        FlushHeld(counters, long.MaxValue);
        return TakeAll();
    }

    /// <summary>
    /// <c>napi_gro_flush(napi, true)</c> + <c>gro_normal_list</c> at the end of a poll that used its whole weight
    /// (<c>__napi_poll</c>, HZ ≥ 1000): packets held in an earlier jiffy than <paramref name="jiffy"/> are completed
    /// (oldest first, up to the first of this jiffy: <c>NAPI_GRO_CB(skb)->age == jiffies</c>), this jiffy's stay.
    /// The batches wait in <see cref="Up"/>.
    /// </summary>
    public void FlushOld(long jiffy, OffloadCounters counters) => FlushHeld(counters, jiffy);

    /// <summary><see cref="Flush"/> leaving the batches in <see cref="Up"/> for the caller.</summary>
    public void FlushAll(OffloadCounters counters) => FlushHeld(counters, long.MaxValue);

    private void FlushHeld(OffloadCounters counters, long jiffy)
    {
        while (_held.Count > 0 && _held[0].Age < jiffy) Complete(_held[0]);
        GroNormalList();
        if (_results[0] > 0) Interlocked.Add(ref counters.GroMerged, _results[0]);
        if (_results[1] > 0) Interlocked.Add(ref counters.GroMergedFree, _results[1]);
        if (_results[2] > 0) Interlocked.Add(ref counters.GroHeld, _results[2]);
        if (_results[3] > 0) Interlocked.Add(ref counters.GroNormal, _results[3]);
        Array.Clear(_results);
        if (_flushed > 0) Interlocked.Add(ref counters.GroFlushed, _flushed);
        if (_coalesced > 0) Interlocked.Add(ref counters.GroCoalesced, _coalesced);
        _flushed = _coalesced = 0;
    }

    private ImmutableArray<SkBuff> TakeAll()
    {
        if (_upCount == 0) return ImmutableArray<SkBuff>.Empty;
        var items = _up.AsSpan(0, _upCount).ToArray();
        ClearUp();
        return ImmutableCollectionsMarshal.AsImmutableArray(items);
    }
}
