using ActorStack.Hardware.Nic;
using ActorStack.Messages;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Actors.Devices;

/// <summary>
/// How a GSO packet (more than one segment) reaches the TX ring (<c>validate_xmit_skb</c>): cut into MSS-sized frames
/// by the NIC when the device has TSO (<c>NETIF_F_TSO</c>: the stack posts the super-packet, taps see it as sent) or
/// in software first (<c>skb_gso_segment</c>: taps see each segment). Either way the ring takes one descriptor per
/// frame. Counts the device's offload counters (<c>tx-tcp-segmentation</c> packets and segments, or the software
/// GSO ones). The cutting is <see cref="TcpSegmenter"/>'s.
/// </summary>
public sealed class GsoPosting(NetDevice dev)
{
    private readonly List<ReadOnlyMemory<byte>> _frames = new();

    /// <summary>Whether a packet goes out as several frames: it has a GSO size and more than one segment.</summary>
    public static bool IsGso(in SkBuff skb) => skb.GsoSize > 0 && skb.GsoSegs > 1;

    /// <summary>
    /// The frames of the last <see cref="Segment"/>, valid until the next call.
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Frames => _frames;

    /// <summary>
    /// Cuts <paramref name="skb"/> into its frames (<see cref="Frames"/>) and counts it: the number of frames, or 0
    /// when it is not a TCP/IPv4 packet the segmenter understands (<c>validate_xmit_skb</c> drops it: <c>SKB_GSO_SEG</c>;
    /// nothing counted). <paramref name="inNic"/>: the device segments it (TSO).
    /// </summary>
    public int Segment(in SkBuff skb, out bool inNic)
    {
        inNic = dev.Tso;
        _frames.Clear();
        int n = TcpSegmenter.Segment(skb.Data.Span, skb.GsoSize, _frames);
        if (n == 0) return 0;
        var off = dev.Offload;
        if (inNic)
        {
            Interlocked.Increment(ref off.TsoPackets);
            Interlocked.Add(ref off.TsoSegments, n);
        }
        else
        {
            Interlocked.Increment(ref off.GsoPackets);
            Interlocked.Add(ref off.GsoSegments, n);
        }
        return n;
    }

    /// <summary>Lets the frames of the last packet go (their buffers are the wire's now).</summary>
    public void Clear() => _frames.Clear();
}
