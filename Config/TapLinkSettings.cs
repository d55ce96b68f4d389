using ActorStack.Messages.Packets;

namespace ActorStack.Config;

/// <summary>
/// Tunables of a TAP link (a NIC whose wire is a Linux TAP device), with the kernel's defaults.
/// </summary>
/// <param name="RxBufferSize">
/// The longest frame taken from the kernel, in bytes: the TUN driver's largest MTU
/// (<c>MAX_MTU</c> 65535) plus an Ethernet header and a VLAN tag. A longer frame is dropped and
/// counted (<see cref="TapLinkStats.RxOversize"/>).
/// </param>
/// <param name="RxBatch">At most this many frames from the kernel go to the NIC in one <c>WireFrames</c>.</param>
/// <param name="TxQueueLen">
/// Frames from the NIC that may wait for their write to the TAP: the device's
/// <c>tx_queue_len</c> (<c>DEFAULT_TX_QUEUE_LEN</c> 1000). More are dropped and counted.
/// </param>
public sealed record TapLinkSettings(int RxBufferSize = TapLinkSettings.DefaultRxBufferSize, int RxBatch = 64, int TxQueueLen = 1000)
{
    public const int DefaultRxBufferSize = Ipv4Header.MaxTotalLength + EthernetHeader.Length + EthernetHeader.VlanTagLength;

    public static readonly TapLinkSettings Default = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a value the link cannot run with.</summary>
    public TapLinkSettings Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(RxBufferSize, EthernetHeader.Length, nameof(RxBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(RxBatch, 1, nameof(RxBatch));
        ArgumentOutOfRangeException.ThrowIfLessThan(TxQueueLen, 1, nameof(TxQueueLen));
        return this;
    }
}
