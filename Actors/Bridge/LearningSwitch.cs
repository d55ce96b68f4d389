using System.Text;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Bridge;

public enum SwitchVerdict
{
    /// <summary>Known unicast destination on another port.</summary>
    Forward,
    /// <summary>Broadcast, multicast or unknown unicast: every other up port.</summary>
    Flood,
    /// <summary>Not forwarded; see <see cref="SwitchDecision.Reason"/>.</summary>
    Drop,
}

/// <summary>
/// The ports a frame leaves on. <see cref="OutPorts"/> is shared and must not be modified. <see cref="Reason"/> is
/// why a <see cref="SwitchVerdict.Drop"/> was dropped, null otherwise.
/// </summary>
public readonly record struct SwitchDecision(SwitchVerdict Verdict, int[] OutPorts, DropReason? Reason = null)
{
    public override string ToString() => Verdict == SwitchVerdict.Drop ? $"Drop {Reason}" : $"{Verdict} [{string.Join(",", OutPorts)}]";
}

/// <summary>Counters of a switch.</summary>
public sealed class SwitchStats
{
    public long RxFrames { get; internal set; }
    public long Forwarded { get; internal set; }
    public long Flooded { get; internal set; }
    public long Dropped { get; internal set; }
    public long DroppedSamePort { get; internal set; }
    public long DroppedInvalid { get; internal set; }
    /// <summary>Source addresses not learned because the table held <c>fdb_max_learned</c> entries.</summary>
    public long LearnDropsFull { get; internal set; }
    /// <summary>Learned addresses that moved to another port (station moved).</summary>
    public long FdbMoves { get; internal set; }
    public long FdbAged { get; internal set; }
}

/// <summary>
/// A transparent learning bridge (net/bridge: <c>br_handle_frame</c>, <c>br_fdb_update</c>,
/// <c>br_handle_frame_finish</c>, <c>br_flood</c>, <c>br_fdb_cleanup</c>). Pure: time is passed in.
/// Learns each valid source address on its ingress port (moving it if it appears elsewhere), forwards known unicast
/// to its port, floods broadcast, multicast and unknown unicast to every other up port, and never sends a frame back
/// out of the port it came in on. Entries expire <c>ageing_time</c> after they were last refreshed.
/// </summary>
public sealed class LearningSwitch
{
    private sealed class FdbEntry
    {
        public int Port;
        public long Updated;
        public long Used;
    }

    private readonly Dictionary<ulong, FdbEntry> _fdb = new();
    private readonly bool[] _up;
    private readonly string[] _names;
    private int[][] _flood = Array.Empty<int[]>();
    private readonly int[][] _single;
    private static readonly int[] None = Array.Empty<int>();

    public LearningSwitchSettings Settings { get; }
    public SwitchStats Stats { get; } = new();
    public int FdbCount => _fdb.Count;

    public LearningSwitch(int ports, LearningSwitchSettings? settings = null, IReadOnlyList<string>? portNames = null)
    {
        if (ports < 1) throw new ArgumentOutOfRangeException(nameof(ports));
        Settings = settings ?? LearningSwitchSettings.Default;
        _up = Enumerable.Repeat(true, ports).ToArray();
        _names = Enumerable.Range(0, ports).Select(i => portNames is not null && i < portNames.Count ? portNames[i] : $"port{i}").ToArray();
        _single = Enumerable.Range(0, ports).Select(i => new[] { i }).ToArray();
        RebuildFlood();
    }

    public string PortName(int port) => _names[port];
    public bool IsPortUp(int port) => _up[port];

    /// <summary>Port carrier/admin state; a port going down forgets its learned addresses (<c>br_fdb_delete_by_port</c>).</summary>
    public void SetPortUp(int port, bool up)
    {
        if (_up[port] == up) return;
        _up[port] = up;
        if (!up)
            foreach (var k in _fdb.Where(p => p.Value.Port == port).Select(p => p.Key).ToList())
                _fdb.Remove(k);
        RebuildFlood();
    }

    private void RebuildFlood()
    {
        _flood = new int[_up.Length][];
        for (int i = 0; i < _up.Length; i++)
        {
            var l = new List<int>();
            for (int p = 0; p < _up.Length; p++)
                if (p != i && _up[p]) l.Add(p);
            _flood[i] = l.ToArray();
        }
    }

    /// <summary>Where the learned address lives, if it is known and not expired.</summary>
    public int? PortOf(MacAddress mac, long nowMs)
        => _fdb.TryGetValue(mac.Value, out var e) && !Expired(e, nowMs) ? e.Port : null;

    private bool Expired(FdbEntry e, long now) => e.Updated + Settings.AgeingTimeMs <= now;

    /// <summary>Receives one frame on <paramref name="inPort"/> and decides its egress ports; never throws.</summary>
    public SwitchDecision Forward(int inPort, ReadOnlySpan<byte> frame, long nowMs)
    {
        Stats.RxFrames++;
        if ((uint)inPort >= (uint)_up.Length || !_up[inPort]) return Drop(DropReason.BRIDGE_INGRESS_STP_STATE);
        if (!EthernetHeader.TryRead(frame, out var eth))
        {
            Stats.DroppedInvalid++;
            return Drop(DropReason.PKT_TOO_SMALL);
        }
        var src = eth.Source;
        var dst = eth.Destination;
        if (src.IsMulticast || src.Value == 0)
        {
            Stats.DroppedInvalid++;
            return Drop(DropReason.MAC_INVALID_SOURCE);
        }

        Learn(src, inPort, nowMs);

        // IEEE 802.1D link-local groups 01:80:c2:00:00:0X are never forwarded; :01 is MAC Control (pause).
        if ((dst.Value & ~0xFUL) == 0x0180C2000000UL)
            return Drop(dst.Value == 0x0180C2000001UL ? DropReason.MAC_IEEE_MAC_CONTROL : DropReason.SIM_BRIDGE_LINK_LOCAL);
        if (dst.IsMulticast) return Flood(inPort);
        if (_fdb.TryGetValue(dst.Value, out var e) && !Expired(e, nowMs))
        {
            e.Used = nowMs;
            if (e.Port == inPort)
            {
                Stats.DroppedSamePort++;
                return Drop(DropReason.SIM_BRIDGE_SAME_PORT);
            }
            if (!_up[e.Port]) return Drop(DropReason.SIM_BRIDGE_EGRESS_PORT_DOWN);
            Stats.Forwarded++;
            return new SwitchDecision(SwitchVerdict.Forward, _single[e.Port]);
        }
        return Flood(inPort);
    }

    private SwitchDecision Flood(int inPort)
    {
        Stats.Flooded++;
        return new SwitchDecision(SwitchVerdict.Flood, _flood[inPort]);
    }

    private SwitchDecision Drop(DropReason reason)
    {
        Stats.Dropped++;
        return new SwitchDecision(SwitchVerdict.Drop, None, reason);
    }

    // br_fdb_update: refresh (and move, if the station changed ports) or create within fdb_max_learned.
    private void Learn(MacAddress src, int port, long now)
    {
        if (_fdb.TryGetValue(src.Value, out var e))
        {
            if (Expired(e, now))
            {
                _fdb.Remove(src.Value);
                Stats.FdbAged++;
            }
            else
            {
                if (e.Port != port)
                {
                    e.Port = port;
                    Stats.FdbMoves++;
                }
                e.Updated = now;
                return;
            }
        }
        if (_fdb.Count >= Settings.FdbMaxLearned)
        {
            Cleanup(now);
            if (_fdb.Count >= Settings.FdbMaxLearned)
            {
                Stats.LearnDropsFull++;
                return;
            }
        }
        _fdb[src.Value] = new FdbEntry { Port = port, Updated = now, Used = now };
    }

    /// <summary><c>br_fdb_cleanup</c>: forgets entries whose ageing time has passed.</summary>
    public int Cleanup(long nowMs)
    {
        var gone = _fdb.Where(p => Expired(p.Value, nowMs)).Select(p => p.Key).ToList();
        foreach (var k in gone) _fdb.Remove(k);
        Stats.FdbAged += gone.Count;
        return gone.Count;
    }

    /// <summary>When the next learned entry expires (the time <see cref="Cleanup"/> should run), if any.</summary>
    public long? NextTimerMs => _fdb.Count == 0 ? null : _fdb.Values.Min(e => e.Updated) + Settings.AgeingTimeMs;

    /// <summary>
    /// Like <c>bridge fdb show</c> for the learned (dynamic) entries: <c>MAC dev PORT master BRIDGE</c>, ordered
    /// by port then address, each line ending in a newline. Expired entries not yet cleaned up are left out.
    /// </summary>
    public string FormatFdb(long nowMs) => FormatFdbCore(nowMs);

    /// <summary><c>bridge fdb show</c> of every entry currently in the table (aged ones go at <see cref="Cleanup"/>).</summary>
    public string FormatFdb() => FormatFdbCore(null);

    private string FormatFdbCore(long? nowMs)
    {
        var sb = new StringBuilder();
        foreach (var (mac, e) in _fdb.Where(p => nowMs is null || !Expired(p.Value, nowMs.Value)).OrderBy(p => p.Value.Port).ThenBy(p => p.Key)
                     .Select(p => (new MacAddress(p.Key), p.Value)))
            sb.Append(mac).Append(" dev ").Append(_names[e.Port]).Append(" master ").Append(Settings.BridgeName).Append('\n');
        return sb.ToString();
    }
}
