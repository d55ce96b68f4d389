using System.Collections.Immutable;

namespace ActorStack.Hardware.Nic;

/// <summary>
/// Receive Side Scaling as a multi-queue NIC does it: a Toeplitz hash over the IPv4 addresses (and the
/// TCP/UDP ports of non-fragments: the IPv4, IPv4-TCP and IPv4-UDP hash types) indexes a 128-entry
/// indirection table (<c>ETH_RXFH_INDIR</c>, igb's <c>IGB_RETA_SIZE</c>) that names the RX queue.
/// The table is filled as <c>ethtool_rxfh_indir_default</c> does: entry i → i % queues.
/// Immutable after construction, so one instance may be shared.
/// </summary>
public sealed class RssHasher
{
    /// <summary>Indirection table size (<c>IGB_RETA_SIZE</c>).</summary>
    public const int IndirectionSize = 128;

    private readonly byte[] _key;
    private readonly int[] _indirection;

    /// <param name="queues">RX queue count, at least 1.</param>
    /// <param name="key">The RSS key (<c>ethtool -X hkey</c>); empty (the default) means <see cref="Toeplitz.DefaultKey"/>.
    /// A given key must hold at least 16 bytes (12 input bytes + 4).</param>
    public RssHasher(int queues, ReadOnlySpan<byte> key = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queues, 1);
        if (!key.IsEmpty && key.Length < 16)
            throw new ArgumentException($"RSS key must be at least 16 bytes, got {key.Length}", nameof(key));
        Queues = queues;
        _key = key.IsEmpty ? Toeplitz.DefaultKey.ToArray() : key.ToArray();
        _indirection = new int[IndirectionSize];
        for (int i = 0; i < IndirectionSize; i++) _indirection[i] = i % queues; // ethtool_rxfh_indir_default
        Indirection = ImmutableArray.Create(_indirection);
    }

    public int Queues { get; }
    public ReadOnlySpan<byte> Key => _key;
    public ImmutableArray<int> Indirection { get; }

    /// <summary>
    /// The RSS hash of an Ethernet frame (what the NIC writes into the RX descriptor and the driver puts
    /// in <c>skb->hash</c> via <c>igb_rx_hash</c>). 0 for frames that are not IPv4 (no hash type applies).
    /// Never throws.
    /// </summary>
    public uint Hash(ReadOnlySpan<byte> frame)
    {
        if (!FlowKeys.TryExtract(frame, out var k, out bool hasPorts)) return 0;
        Span<byte> input = stackalloc byte[12];
        k.Src.Write(input);
        k.Dst.Write(input[4..]);
        if (!hasPorts) return Toeplitz.Hash(_key, input[..8]);
        input[8] = (byte)(k.SrcPort >> 8); input[9] = (byte)k.SrcPort;
        input[10] = (byte)(k.DstPort >> 8); input[11] = (byte)k.DstPort;
        return Toeplitz.Hash(_key, input);
    }

    /// <summary>The RX queue for a hash: <c>indirection[hash &amp; 127]</c>; hash 0 (no hash) goes to queue 0.</summary>
    public int QueueFor(uint hash) => hash == 0 ? 0 : _indirection[hash & (IndirectionSize - 1)];
}
