namespace ActorStack.Messages;

/// <summary>
/// <c>ethtool -K DEV gro on|off gso on|off tso on|off</c> (<c>netdev->features</c>): changes the given
/// features of the device with <paramref name="Ifindex"/>, leaves the null ones. Sent to the host actor;
/// answered with the resulting <see cref="DeviceFeatures"/>, or <see cref="CommandFailed"/> (ENODEV) for an unknown device.
/// </summary>
public sealed record SetDeviceFeatures(int Ifindex, bool? Gro = null, bool? Gso = null, bool? Tso = null);

/// <summary><c>ethtool -k DEV</c>: answered with <see cref="DeviceFeatures"/> or <see cref="CommandFailed"/> (ENODEV).</summary>
public sealed record GetDeviceFeatures(int Ifindex);

/// <summary>The offload features of a device: <c>generic-receive-offload</c>, <c>generic-segmentation-offload</c>, <c>tcp-segmentation-offload</c>.</summary>
public sealed record DeviceFeatures(int Ifindex, string Name, bool Gro, bool Gso, bool Tso);

/// <summary>
/// A device's offload features and counters. The GRO counts are the <c>napi_skb_finish</c> results
/// (<c>gro_result_t</c>) for buffers received on the device: GRO_MERGED, GRO_MERGED_FREE, GRO_HELD,
/// GRO_NORMAL; <paramref name="GroFlushed"/> counts the held packets handed up (<c>napi_gro_complete</c>)
/// and <paramref name="GroCoalesced"/> those among them that stand for more than one segment. On transmit:
/// GSO super-packets cut by the NIC (<paramref name="TsoPackets"/>, frames in <paramref name="TsoSegments"/>)
/// or in software before the ring (<paramref name="GsoPackets"/> / <paramref name="GsoSegments"/>,
/// <c>skb_gso_segment</c>).
/// </summary>
public sealed record OffloadStats(bool Gro, bool Gso, bool Tso,
    long GroMerged, long GroMergedFree, long GroHeld, long GroNormal, long GroFlushed, long GroCoalesced,
    long TsoPackets, long TsoSegments, long GsoPackets, long GsoSegments);
