using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Messages.Packets;

namespace ActorStack.Messages;

/// <summary>
/// A <c>struct packet_type</c> registration (<c>dev_add_pack</c>, read by <c>__netif_receive_skb_core</c>). <see cref="EtherType"/>
/// <c>ETH_P_ALL</c> (3) puts the handler on <c>ptype_all</c>: it receives a
/// read-only copy of every frame. Any other value puts it on <c>ptype_base</c>:
/// it receives the frames of that EtherType. <see cref="Device"/> null = any device.
/// The handler receives <see cref="SkbBatch"/> messages.
/// </summary>
public sealed record PacketTypeRegistration(ushort EtherType, IActorRef Handler, string? Device = null);

/// <summary><c>dev_add_pack</c>: sent to a host; answered by <see cref="PackChanged"/>.</summary>
public sealed record DevAddPack(PacketTypeRegistration Registration);
/// <summary><c>dev_remove_pack</c>: sent to a host; answered by <see cref="PackChanged"/>.</summary>
public sealed record DevRemovePack(PacketTypeRegistration Registration);
public sealed record PackChanged(PacketTypeRegistration Registration, bool Added);

/// <summary>What a generic XDP program decided (<c>XDP_*</c>).</summary>
public enum XdpAction { Aborted = 0, Drop = 1, Pass = 2, Tx = 3, Redirect = 4 }

/// <summary>
/// A generic XDP program: a data-only description so it can be sent in a
/// message (no delegates). Rules are tried in order; the first match decides;
/// none matching gives <see cref="Default"/>.
/// </summary>
public sealed record XdpProgram(string Name, ImmutableArray<XdpRule> Rules, XdpAction Default = XdpAction.Pass)
{
    /// <summary>Runs the program on a frame, dissected once (<see cref="FlowKeys.Dissect"/>) for all its rules.</summary>
    public XdpAction Run(ReadOnlySpan<byte> frame, out string? redirectDevice)
    {
        var keys = FlowKeys.Dissect(frame, FlowDissectorFlags.Parse1stFrag);
        foreach (var r in Rules)
            if (r.Matches(keys)) { redirectDevice = r.RedirectDevice; return r.Action; }
        redirectDevice = null;
        return Default;
    }
}

/// <summary>A match on the frame's EtherType, IPv4 protocol and UDP/TCP destination port (each optional).</summary>
public sealed record XdpRule(XdpAction Action, ushort? EtherType = null, byte? IpProtocol = null, ushort? DestinationPort = null,
    string? RedirectDevice = null)
{
    public bool Matches(ReadOnlySpan<byte> frame) => Matches(FlowKeys.Dissect(frame, FlowDissectorFlags.Parse1stFrag));

    /// <summary>
    /// The match over a dissected frame: the EtherType of any frame with an Ethernet header; the protocol of a
    /// well-formed IPv4 packet; the destination port of a TCP/UDP header that is present (a fragment other than
    /// the first has none).
    /// </summary>
    public bool Matches(in FlowKeys k)
    {
        if (!k.HasEthernet) return false;
        if (EtherType is { } et && k.EtherType != et) return false;
        if (IpProtocol is null && DestinationPort is null) return true;
        if (!k.IsIpv4) return false;
        if (IpProtocol is { } p && k.Protocol != p) return false;
        if (DestinationPort is { } port && (!k.HasPorts || k.DstPort != port)) return false;
        return true;
    }
}

/// <summary>Attach (or with null, detach) a generic XDP program to a device; answered by <see cref="XdpChanged"/>, or <see cref="CommandFailed"/> (ENODEV) for an unknown device.</summary>
public sealed record SetXdp(string Device, XdpProgram? Program);
public sealed record XdpChanged(string Device, string? Program);

/// <summary>Turns the receive trace points (<c>trace_netif_receive_skb_entry/exit</c>, <c>trace_napi_gro_receive_entry/exit</c>) on or off for one host.</summary>
public sealed record SetTracing(bool Enabled);
public sealed record TracingSet(bool Enabled);

/// <summary>Asks a host for its devices' driver actors (to cable them); answered by <see cref="HostDevices"/>.</summary>
public sealed record GetHostDevices
{
    public static readonly GetHostDevices Instance = new();
}
public sealed record HostDevices(string Host, ImmutableDictionary<string, IActorRef> Devices);

/// <summary>Workload reports, answered to <see cref="GetWorkloadStatus"/>.</summary>
public sealed record GetWorkloadStatus
{
    public static readonly GetWorkloadStatus Instance = new();
}
public sealed record PktgenStatus(string Host, string Device, long Sent, long TxDropped, long Count, bool Done);
/// <summary>
/// Re-anchors a pktgen's schedule at the current instant (<c>pktgen_run</c>'s <c>next_tx = ktime_get()</c>, as a restart
/// does, but with the counters and sequence numbers kept): frames it fell behind by before are never sent, so from here
/// on it offers ratep and no more. Answered by the <see cref="PktgenStatus"/> at the anchor (frames sent before it).
/// </summary>
public sealed record PktgenReanchor
{
    public static readonly PktgenReanchor Instance = new();
}
/// <summary>
/// A udp-sink's books: datagrams and bytes read, and its check of the pktgen header (<c>struct pktgen_hdr</c>) per flow:
/// <paramref name="OutOfOrder"/> (reordered or duplicated), <paramref name="Flows"/> (flows that carried the header).
/// </summary>
public sealed record SinkStatus(string Host, string Bind, long Datagrams, long Bytes, long OutOfOrder, long Flows, bool Ready)
{
    /// <summary>Datagrams whose header was corrupt (short, wrong magic, or an implausible seq) on a flow that carries it.</summary>
    public long CorruptHeaders { get; init; }
    /// <summary>Datagrams without the header on a flow that never carried one (not pktgen's); not checked.</summary>
    public long Unsequenced { get; init; }
}
/// <summary>Tells a capture tap to flush its file; answered by <see cref="CaptureFlushed"/>.</summary>
public sealed record FlushCapture
{
    public static readonly FlushCapture Instance = new();
}
/// <summary>A capture's file is flushed: frames written, copies its tap's full mailbox dropped, and (pcapng) blocks with a comment.</summary>
public sealed record CaptureFlushed(string File, long Frames, long Dropped)
{
    /// <summary>Blocks that carry a cause as a comment (a drop, a fault); 0 for classic pcap.</summary>
    public long Comments { get; init; }
}

/// <summary>Asks a simulation to build its scenario and start its workloads; answered by <see cref="SimulationStarted"/> when all runs.</summary>
public sealed record StartSimulation
{
    public static readonly StartSimulation Instance = new();
}
public sealed record SimulationStarted(ImmutableDictionary<string, IActorRef> Hosts, ImmutableArray<IActorRef> Wires,
    ImmutableArray<IActorRef> Pktgens, ImmutableArray<IActorRef> Sinks, IActorRef? Capture)
{
    /// <summary>Every capture point's tap, in the configuration's order (<see cref="Capture"/> is the first).</summary>
    public ImmutableArray<IActorRef> Captures { get; init; } = Capture is null ? ImmutableArray<IActorRef>.Empty : [Capture];
}
