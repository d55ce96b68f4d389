using System.Buffers.Binary;
using System.Collections.Immutable;
using ActorStack.Messages.Packets;

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
    /// <summary>Hash input of the IPv4 type: source and destination address.</summary>
    private const int AddressesLength = 2 * Ipv4Address.Length;
    /// <summary>Hash input of the IPv4-TCP/UDP types: the addresses and both ports.</summary>
    private const int InputLength = AddressesLength + UdpHeader.PortsLength;

    private readonly byte[] _key;
    private readonly int[] _indirection;
    // The Toeplitz hash is linear over XOR: the hash of the 12 input bytes is the XOR of the hashes of each byte alone
    // at its position. _table[p * 256 + v] = Toeplitz.Hash(key, v at byte p, zeros elsewhere): one lookup per byte
    // instead of 8 key-window shifts per byte (as drivers' software RSS does with a cached key).
    // The table depends on the key alone and is never written after it is built, so every NIC with the default key
    // (nearly all) shares one: 12 KiB once instead of per NIC.
    private readonly uint[] _table;
    private static readonly uint[] DefaultTable = BuildTable(Toeplitz.DefaultKey);

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
        _table = _key.AsSpan().SequenceEqual(Toeplitz.DefaultKey) ? DefaultTable : BuildTable(_key);
    }

    private static uint[] BuildTable(ReadOnlySpan<byte> key)
    {
        var table = new uint[InputLength * 256];
        Span<byte> one = stackalloc byte[InputLength];
        for (int p = 0; p < InputLength; p++)
            for (int v = 0; v < 256; v++)
            {
                one.Clear();
                one[p] = (byte)v;
                table[p * 256 + v] = Toeplitz.Hash(key, one);
            }
        return table;
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
        // The hash input in the order of the Microsoft RSS specification: source, destination address, then ports.
        Span<byte> input = stackalloc byte[InputLength];
        k.Src.Write(input);
        k.Dst.Write(input[Ipv4Address.Length..]);
        int n = AddressesLength;
        if (hasPorts)
        {
            BinaryPrimitives.WriteUInt16BigEndian(input[AddressesLength..], k.SrcPort);
            BinaryPrimitives.WriteUInt16BigEndian(input[(AddressesLength + 2)..], k.DstPort);
            n = InputLength;
        }
        uint h = 0;
        for (int p = 0; p < n; p++) h ^= _table[p * 256 + input[p]];
        return h;
    }

    /// <summary>The RX queue for a hash: <c>indirection[hash &amp; 127]</c>; hash 0 (no hash) goes to queue 0.</summary>
    public int QueueFor(uint hash) => hash == 0 ? 0 : _indirection[hash & (IndirectionSize - 1)];
}
