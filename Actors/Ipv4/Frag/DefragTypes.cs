using ActorStack.Config;
using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Ipv4.Frag;

/// <summary>A reassembly queue's identity (<c>struct frag_v4_compare_key</c> without <c>user</c> and <c>vif</c>).</summary>
public readonly record struct FragKey(Ipv4Address Source, Ipv4Address Destination, ushort Id, byte Protocol)
{
    public override string ToString() => $"{Source}->{Destination} id={Id} proto={Protocol}";
}

public enum DefragStatus
{
    /// <summary>Held in its queue (<c>-EINPROGRESS</c>).</summary>
    Incomplete,
    /// <summary>The datagram is whole: <see cref="DefragResult.Packet"/> goes up the stack.</summary>
    Complete,
    /// <summary>This fragment (and possibly its whole queue) was freed.</summary>
    Dropped,
}

/// <summary>Why <see cref="IpDefrag.Add"/> dropped: finer than the Linux <see cref="DropReason"/>, for tests and logs.</summary>
public enum DefragCause
{
    None,
    /// <summary>Inside data already queued (<c>IPFRAG_DUP</c>): only this fragment is dropped, the queue stays.</summary>
    Duplicate,
    /// <summary>Overlaps queued data (<c>IPFRAG_OVERLAP</c>): the whole queue is discarded, <c>ReasmOverlaps</c>.</summary>
    Overlap,
    /// <summary>A last fragment ending before queued data or at a different end, or data after the last fragment's end.</summary>
    InconsistentEnd,
    /// <summary>No data after rounding a non-final fragment down to 8 bytes (<c>end == offset</c>).</summary>
    ZeroLength,
    /// <summary>The reassembled datagram would exceed 65,535 bytes (<c>ip_frag_reasm</c> <c>-E2BIG</c>).</summary>
    Oversize,
    /// <summary>The memory of all queues is at <c>ipfrag_high_thresh</c> and eviction could not make room.</summary>
    NoMemory,
    /// <summary>Fragments mixed Not-ECT with ECT/CE (<c>ip_frag_ecn_table</c> 0xff).</summary>
    InvalidEcn,
    /// <summary>Not a parseable IPv4 header (should have been caught by <c>ip_rcv_core</c>).</summary>
    Malformed,
}

/// <summary>
/// The outcome of one <see cref="IpDefrag.Add"/>. <see cref="FragmentsFreed"/> counts buffers dropped
/// with <see cref="Reason"/> (this fragment plus a discarded queue's fragments);
/// <see cref="QueuesEvicted"/> / <see cref="FragmentsEvicted"/> count queues freed under memory pressure
/// before this fragment was queued (drop reason <see cref="DropReason.NOMEM"/>), whatever the status.
/// </summary>
public readonly record struct DefragResult(
    DefragStatus Status,
    byte[]? Packet,
    DropReason? Reason,
    DefragCause Cause,
    int FragmentsFreed,
    int QueuesEvicted,
    int FragmentsEvicted)
{
    public override string ToString()
        => Status switch
        {
            DefragStatus.Complete => $"Complete {Packet!.Length} bytes",
            DefragStatus.Dropped => $"Dropped {Reason} ({Cause}) freed={FragmentsFreed}",
            _ => "Incomplete",
        } + (QueuesEvicted > 0 ? $" evicted={QueuesEvicted}" : "");
}

/// <summary>
/// A queue freed by <see cref="IpDefrag.Expire"/> (<c>ip_expire</c>): when <see cref="FirstFragmentArrived"/>,
/// <see cref="FirstFragment"/> is that fragment (header and data as queued) for ICMP time exceeded,
/// code 1 (fragment reassembly time exceeded), which only an end host sends.
/// </summary>
public sealed record ExpiredQueue(FragKey Key, bool FirstFragmentArrived, byte[]? FirstFragment, int FragmentsFreed)
{
    public override string ToString() => $"{Key} first={FirstFragmentArrived} freed={FragmentsFreed}";
}

/// <summary>The reassembly counters of the Ip MIB, in /proc/net/snmp order (ReasmOverlaps last, as newer kernels add it).</summary>
public sealed record DefragCounters(long ReasmTimeout, long ReasmReqds, long ReasmOKs, long ReasmFails, long ReasmOverlaps)
{
    public ImmutableArray<KeyValuePair<string, long>> ToPairs() => ImmutableArray.Create(
        KeyValuePair.Create(nameof(ReasmTimeout), ReasmTimeout),
        KeyValuePair.Create(nameof(ReasmReqds), ReasmReqds),
        KeyValuePair.Create(nameof(ReasmOKs), ReasmOKs),
        KeyValuePair.Create(nameof(ReasmFails), ReasmFails),
        KeyValuePair.Create(nameof(ReasmOverlaps), ReasmOverlaps));
}
