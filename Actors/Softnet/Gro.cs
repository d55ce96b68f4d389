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
/// segments, and is <see cref="SkBuff.ChecksumUnnecessary"/>. Packets go up in the order of their first
/// segment's arrival, relative to everything else in the poll (<see cref="Flush"/>, <c>napi_gro_flush</c>
/// at the end of the poll). A merged segment stays referenced (chained, as <c>skb_gro_receive</c> does
/// with a buffer whose head is not a page fragment: GRO_MERGED) until the flush copies it once into the
/// merged packet. Held packets are bounded by <see cref="MaxHeld"/> (<c>GRO_HASH_BUCKETS</c> ×
/// <c>MAX_GRO_SKBS</c>): one more flushes the oldest (<c>gro_flush_oldest</c>).
/// </summary>
public sealed class Gro
{
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
        public int Slot;           // position in the poll's output
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
    }

    private readonly List<Flow> _flows = new();       // active ones first-come; inactive kept for reuse
    // The poll's output, grown by doubling from nothing: an idle CPU holds no array (a poll is at most the weight, 64).
    private SkBuff[] _out = [];
    private Flow?[] _outFlow = [];
    private int _outCount, _active;
    private long _flushed, _coalesced;
    private readonly long[] _results = new long[4]; // per gro_result_t, since the last flush

    /// <summary>Packets held at the moment.</summary>
    public int Held => _active;

    /// <summary>
    /// <c>napi_gro_receive</c> for one buffer: merged into a held packet, held, or queued to go up as it is.
    /// The result is counted (GRO_MERGED, GRO_HELD, GRO_NORMAL) and added to the device's counters at <see cref="Flush"/>.
    /// </summary>
    public GroResult Receive(in SkBuff skb)
    {
        var r = ReceiveCore(skb);
        _results[(int)r]++;
        return r;
    }

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
        for (int i = 0; i < _flows.Count; i++)
        {
            var f = _flows[i];
            if (f.Active && f.Ports == ports && f.Src == src && f.Dst == dst && f.Head.Ifindex == skb.Ifindex) { p = f; break; }
        }

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
                p.Truesize += skb.Truesize;
                p.Flags |= flags & (TcpFlags.Fin | TcpFlags.Psh);
                // out_check_final: a short last segment or PSH/FIN ends the packet now.
                if (len < p.GsoSize || (flags & FlushFlags) != 0) Complete(p);
                return GroResult.Merged;
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
        AddOut(skb, null);
        return GroResult.Normal;
    }

    private void Hold(in SkBuff skb, uint src, uint dst, uint ports, uint nextSeq, uint ack, TcpFlags flags, int doff,
        Ipv4Header ip, int len)
    {
        if (_active >= MaxHeld) CompleteOldest();
        Flow? f = null;
        foreach (var x in _flows)
            if (!x.Active) { f = x; break; }
        if (f is null) _flows.Add(f = new Flow());
        f.Active = true;
        _active++;
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
        f.Slot = _outCount;
        AddOut(default, f);
    }

    private void CompleteOldest()
    {
        Flow? oldest = null;
        foreach (var f in _flows)
            if (f.Active && (oldest is null || f.Slot < oldest.Slot)) oldest = f;
        if (oldest is not null) Complete(oldest);
    }

    private void AddOut(in SkBuff skb, Flow? flow)
    {
        if (_outCount == _out.Length)
        {
            int size = Math.Max(4, _out.Length * 2);
            Array.Resize(ref _out, size);
            Array.Resize(ref _outFlow, size);
        }
        _out[_outCount] = skb;
        _outFlow[_outCount] = flow;
        _outCount++;
    }

    /// <summary><c>napi_gro_complete</c>: the held packet is built and takes its slot in the output.</summary>
    private void Complete(Flow f)
    {
        _flushed++;
        if (f.Count > 1) _coalesced++;
        _out[f.Slot] = Build(f);
        _outFlow[f.Slot] = null;
        f.Active = false;
        f.Frags.Clear();
        f.Head = default;
        _active--;
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
    /// What may go up now without passing a held packet: with nothing held, everything queued so far
    /// (so a poll without TCP to merge hands each buffer up as it comes); empty otherwise.
    /// Call <see cref="ClearReady"/> after handing them up.
    /// </summary>
    public ReadOnlySpan<SkBuff> Ready => _active == 0 ? _out.AsSpan(0, _outCount) : default;

    /// <summary>Forgets the buffers <see cref="Ready"/> returned.</summary>
    public void ClearReady()
    {
        if (_active != 0) return;
        _out.AsSpan(0, _outCount).Clear();
        _outCount = 0;
    }

    /// <summary>
    /// <c>napi_gro_flush</c> at the end of the poll: every held packet is completed and the poll's buffers
    /// are handed out in arrival order (a merged packet at its first segment's place). Counts GroFlushed /
    /// GroCoalesced. Empty when nothing was received.
    /// </summary>
    public ImmutableArray<SkBuff> Flush(OffloadCounters counters)
    {
        foreach (var f in _flows)
            if (f.Active) Complete(f);
        if (_results[0] > 0) Interlocked.Add(ref counters.GroMerged, _results[0]);
        if (_results[1] > 0) Interlocked.Add(ref counters.GroMergedFree, _results[1]);
        if (_results[2] > 0) Interlocked.Add(ref counters.GroHeld, _results[2]);
        if (_results[3] > 0) Interlocked.Add(ref counters.GroNormal, _results[3]);
        Array.Clear(_results);
        if (_flushed > 0) Interlocked.Add(ref counters.GroFlushed, _flushed);
        if (_coalesced > 0) Interlocked.Add(ref counters.GroCoalesced, _coalesced);
        _flushed = _coalesced = 0;
        if (_outCount == 0) return ImmutableArray<SkBuff>.Empty;
        var items = _out.AsSpan(0, _outCount).ToArray();
        _out.AsSpan(0, _outCount).Clear();
        _outCount = 0;
        return ImmutableCollectionsMarshal.AsImmutableArray(items);
    }
}
