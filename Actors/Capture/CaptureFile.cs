using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Hardware.Capture;
using ActorStack.Messages;

namespace ActorStack.Actors.Capture;

/// <summary>
/// One capture point's file, without actors: which devices of which hosts it captures (each an interface of its own,
/// named <c>host/device</c>, in the configuration's order, <c>lo</c> first as its ifindex 1), and what each thing the
/// tap is told becomes in the file:
/// <list type="bullet">
/// <item>a frame a <c>ptype_all</c> tap saw (<c>__netif_receive_skb_core</c> inbound, <c>dev_queue_xmit_nit</c>
/// outbound): an Enhanced Packet Block with the direction and reception type in <c>epb_flags</c>;</item>
/// <item>a drop the host's drop monitor counted on a captured device: <c>SKB_DROP_REASON_X at PLACE</c> as an
/// <c>opt_comment</c>, on a block with the dropped frame when the site had it, else on an empty block;</item>
/// <item>a fault on a wire with a captured end (netem loss, corrupt, duplicate; fault rule N; the cable cut or restored;
/// netem or rules changed): its text as a comment, on the frame's block at the end that should have received it (the
/// sending end when that one is not captured), an empty block on every captured end when it has no frame.</item>
/// </list>
/// Classic pcap has neither interfaces nor comments: it gets the frames only (drops and faults are left out).
/// </summary>
public sealed partial class CaptureFile : IDisposable
{
    private readonly PcapNgWriter? _ng;
    private readonly PcapWriter? _pcap;
    private readonly Dictionary<(string Host, int Ifindex), int> _interfaces = new();
    private readonly Dictionary<string, Dictionary<string, int>> _ifindexByName = new();
    private readonly Dictionary<string, WireSettings> _wires = new();
    private readonly Dictionary<string, ImmutableArray<int>> _ruleNames = new();

    /// <param name="point">The capture point (its host/device selection, format and precision).</param>
    /// <param name="hosts">Every host of the scenario, in the configuration's order.</param>
    /// <param name="wires">The scenario's wires (to find a fault's captured ends).</param>
    /// <param name="faults">The scenario's fault rules (to name a rule by its place in <c>scenario.faults</c>).</param>
    public CaptureFile(CaptureSettings point, ImmutableArray<HostSettings> hosts, ImmutableArray<WireSettings> wires,
        ImmutableArray<WireFaultSettings> faults, Stream stream)
    {
        Point = point;
        if (point.Format == CaptureFormat.PcapNg) _ng = new PcapNgWriter(stream, point.SnapLength, point.Nanoseconds);
        else _pcap = new PcapWriter(stream, point.SnapLength, leaveOpen: false, point.Nanoseconds);
        foreach (var h in hosts)
        {
            var names = _ifindexByName[h.Name] = new Dictionary<string, int>(StringComparer.Ordinal) { ["lo"] = 1 };
            for (int i = 0; i < h.Devices.Length; i++) names[h.Devices[i].Name] = i + 2;
            if (point.Captures(h.Name, "lo")) Describe(h.Name, 1, "lo", $"{h.Name} lo ifindex 1, loopback");
            for (int i = 0; i < h.Devices.Length; i++)
            {
                var d = h.Devices[i];
                if (!point.Captures(h.Name, d.Name)) continue;
                string addrs = d.Addresses.IsDefaultOrEmpty ? "" : ", " + string.Join(" ", d.Addresses);
                Describe(h.Name, i + 2, d.Name, $"{h.Name} {d.Name} ifindex {i + 2}, link/ether {d.Mac}, {d.Speed}Mb/s{addrs}");
            }
        }
        for (int i = 0; i < wires.Length; i++)
        {
            _wires[wires[i].Name] = wires[i];
            _ruleNames[wires[i].Name] = [.. faults.Select((f, k) => (f, k)).Where(x => x.f.Wire == i).Select(x => x.k)];
        }
    }

    public CaptureSettings Point { get; }
    /// <summary>Frames the taps saw and the file holds (blocks with a cause are counted in <see cref="Comments"/>).</summary>
    public long Frames { get; private set; }
    /// <summary>Blocks with a comment (a drop or a fault).</summary>
    public long Comments { get; private set; }
    /// <summary>The interfaces described, in the order of their ids.</summary>
    public IEnumerable<string> InterfaceNames => _interfaces.OrderBy(kv => kv.Value).Select(kv => $"{kv.Key.Host}/{Name(kv.Key.Host, kv.Key.Ifindex)}");

    private void Describe(string host, int ifindex, string dev, string description)
        => _interfaces[(host, ifindex)] = _ng?.AddInterface($"{host}/{dev}", description) ?? _interfaces.Count;

    private string Name(string host, int ifindex) => _ifindexByName[host].FirstOrDefault(kv => kv.Value == ifindex).Key ?? $"if{ifindex}";

    /// <summary>A frame a <c>ptype_all</c> tap of <paramref name="host"/> saw, at <paramref name="unixNs"/>; ignored unless its device is captured.</summary>
    public void Frame(string host, in SkBuff skb, long unixNs)
    {
        if (!_interfaces.TryGetValue((host, skb.Ifindex), out int id)) return;
        if (_pcap is not null) _pcap.WritePacketNs(skb.Data.Span, unixNs);
        else
        {
            bool outbound = skb.PktType == PacketKind.Outgoing;
            _ng!.WritePacket(id, skb.Data.Span, unixNs, outbound ? PacketDirection.Outbound : PacketDirection.Inbound,
                outbound ? ReceptionType.NotSpecified : Reception(skb.PktType));
        }
        Frames++;
    }

    /// <summary><c>skb->pkt_type</c> as libpcap's reception type.</summary>
    public static ReceptionType Reception(PacketKind kind) => kind switch
    {
        PacketKind.Host or PacketKind.Loopback => ReceptionType.Unicast,
        PacketKind.Broadcast => ReceptionType.Broadcast,
        PacketKind.Multicast => ReceptionType.Multicast,
        PacketKind.OtherHost => ReceptionType.Promiscuous,
        _ => ReceptionType.NotSpecified,
    };

    /// <summary>The comment of a drop: its <c>SKB_DROP_REASON_*</c> and place as the drop table names them.</summary>
    public static string DropComment(NetDmPacketAlert a)
        => $"SKB_DROP_REASON_{a.Reason} at {a.Location}" + (a.Count > 1 ? $" ({a.Count} packets)" : "");

    /// <summary>A drop the host's drop monitor counted; written when it is on a captured device (its ifindex, or the place's device).</summary>
    public void Drop(NetDmPacketAlert a, long unixNs)
    {
        if (_ng is null) return;
        int ifindex = a.Ifindex;
        if (ifindex <= 0)
        {
            if (!_ifindexByName.TryGetValue(a.Host, out var names)) return;
            int slash = a.Location.IndexOf('/');
            if (!names.TryGetValue(slash < 0 ? a.Location : a.Location[..slash], out ifindex)) return;
        }
        if (!_interfaces.TryGetValue((a.Host, ifindex), out int id)) return;
        Comment(id, a.Frame, unixNs, a.Frame.IsEmpty ? PacketDirection.Unknown : a.Transmit ? PacketDirection.Outbound : PacketDirection.Inbound,
            DropComment(a));
    }

    /// <summary>
    /// A fault on a wire; written on its captured end(s). <paramref name="onlyEndA"/>: the event comes from one half of a
    /// split wire (a partition's, <c>Actors/Cluster</c>), whose end A (true) or B is local: an event without a frame (the
    /// cable cut or restored, netem or rules set) is written on that end only, since the other half writes it on its own
    /// end, and the two together are what the whole wire writes.
    /// </summary>
    public void Wire(WireCaptureEvent e, long unixNs, bool? onlyEndA = null)
    {
        if (_ng is null || !_wires.TryGetValue(e.Wire, out var w)) return;
        int? a = w.SwitchPortA is null ? Interface(w.HostA, w.DeviceA) : null;
        int? b = w.SwitchPortB is null && w.Tap is null ? Interface(w.HostB, w.DeviceB) : null;
        string text = RuleName(e.Wire, e.Text);
        if (text.StartsWith("fault rules set", StringComparison.Ordinal)) _ruleNames.Remove(e.Wire); // runtime rules: counted from 0
        string comment = e.Direction is { } dir ? $"{text} on wire {e.Wire} {StackConfig.DirectionName(dir)}" : $"{text} on wire {e.Wire}";
        if (!e.Frame.IsEmpty && e.Direction is { } d)
        {
            // The end that should have received it; the sender when that one is not captured.
            var (rx, tx) = d == WireDirection.AToB ? (b, a) : (a, b);
            if (rx is { } r) Comment(r, e.Frame, unixNs, PacketDirection.Inbound, comment);
            else if (tx is { } t) Comment(t, e.Frame, unixNs, PacketDirection.Outbound, comment);
            return;
        }
        if (a is { } ia && onlyEndA is null or true) Comment(ia, ReadOnlyMemory<byte>.Empty, unixNs, PacketDirection.Unknown, comment);
        if (b is { } ib && onlyEndA is null or false) Comment(ib, ReadOnlyMemory<byte>.Empty, unixNs, PacketDirection.Unknown, comment);
    }

    [GeneratedRegex(@"^fault rule (\d+):")]
    private static partial Regex RuleText();

    // "fault rule K" (the wire's K-th rule) as its place in scenario.faults while the wire has the configured rules.
    private string RuleName(string wire, string text)
    {
        var m = RuleText().Match(text);
        if (!m.Success || !_ruleNames.TryGetValue(wire, out var names)) return text;
        int k = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return k < names.Length ? $"fault rule {names[k]}:{text[m.Length..]}" : text;
    }

    private int? Interface(string host, string device)
        => _ifindexByName.TryGetValue(host, out var names) && names.TryGetValue(device, out int ifindex)
           && _interfaces.TryGetValue((host, ifindex), out int id) ? id : null;

    private void Comment(int id, ReadOnlyMemory<byte> frame, long unixNs, PacketDirection dir, string comment)
    {
        _ng!.WritePacket(id, frame.Span, unixNs, dir, comments: [comment]);
        Comments++;
    }

    public void Flush()
    {
        _ng?.Flush();
        _pcap?.Flush();
    }

    public void Dispose()
    {
        _ng?.Dispose();
        _pcap?.Dispose();
    }
}
