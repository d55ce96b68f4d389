using System.Collections.Immutable;
using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using ActorStack.Messages;

namespace ActorStack.Actors.Serialization;

/// <summary>
/// Binary serializer for the messages between the nodes of a distributed run (<c>Messages/Cluster.cs</c>): the window
/// protocol carries every frame that crosses nodes (<see cref="RunWindow"/>, <see cref="WindowDone"/>: per frame its
/// arrival ns, wire, direction, sequence number, length and bytes), so nothing on that path is JSON. A message that does
/// not parse is refused with a <see cref="SerializationException"/> (Akka.Remote drops it and logs).
/// </summary>
public sealed class ClusterSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public override int Identifier => 4712;

    /// <summary>Bound for one message (a window's frames): Akka.Remote's <c>maximum-frame-size</c> on the control system is the same.</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    public override string Manifest(object o) => o switch
    {
        RunWindow => "RW",
        WindowDone => "WD",
        NodeHello => "NH",
        NodeRefused => "NR",
        NodeAccepted => "NA",
        PlacePartition => "PP",
        PartitionReady => "PR",
        PeerLost => "PL",
        CollectCounters => "CC",
        PartitionCounters => "PC",
        StartRealPartition => "SR",
        CrossFrames => "CF",
        CrossAck => "CA",
        _ => throw new ArgumentException($"cannot serialize {o.GetType()}"),
    };

    public override byte[] ToBinary(object obj)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            switch (obj)
            {
                case RunWindow m:
                    w.Write(m.Window); w.Write(m.StartNs); w.Write(m.EndNs); WriteFrames(w, m.Inbound); break;
                case WindowDone m:
                    w.Write(m.Node); w.Write(m.Window); WriteFrames(w, m.Outbound); w.Write(m.NextDueNs); w.Write(m.Events); w.Write(m.WallNs); break;
                case NodeHello m: w.Write(m.Node); w.Write(m.BuildHash); w.Write(m.ScenarioHash); break;
                case NodeRefused m: w.Write(m.Node); w.Write(m.Reason); break;
                case NodeAccepted m: w.Write(m.Node); break;
                case PlacePartition m: w.Write(m.Node); w.Write(m.ConfigText); WritePairs(w, m.Placement); w.Write(m.RealClock); break;
                case StartRealPartition m:
                    w.Write(m.Peers.Length);
                    foreach (var (n, a) in m.Peers) { w.Write(n); w.Write(Akka.Serialization.Serialization.SerializedActorPath(a)); }
                    break;
                case CrossFrames m: w.Write(m.From); WriteFrames(w, m.Frames); break;
                case CrossAck m: w.Write(m.From); w.Write(m.Received); break;
                case PartitionReady m: w.Write(m.Node); w.Write(m.ReadyNs); break;
                case PeerLost m: w.Write(m.LostNode); w.Write(m.AtNs); w.Write(m.InFlight); break;
                case CollectCounters m: w.Write(m.Page); break;
                case PartitionCounters m:
                    w.Write(m.Node); WritePairs(w, m.Hosts);
                    w.Write(m.CrossDrops.Length);
                    foreach (var (k, v) in m.CrossDrops) { w.Write(k); w.Write(v); }
                    WritePairs(w, m.Files);
                    WriteReport(w, m.Report);
                    w.Write(m.CaptureParts.Length);
                    foreach (var c in m.CaptureParts) { w.Write(c.Point); w.Write(c.Path); w.Write(c.Bytes.Length); w.Write(c.Bytes.Span); }
                    w.Write(m.More);
                    break;
                default: throw new ArgumentException($"cannot serialize {obj.GetType()}");
            }
        }
        return ms.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (bytes.Length > MaxMessageBytes) throw new SerializationException($"{manifest}: {bytes.Length} bytes, more than {MaxMessageBytes}");
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
            object m = manifest switch
            {
                "RW" => new RunWindow(r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), ReadFrames(r, bytes.Length)),
                "WD" => new WindowDone(r.ReadString(), r.ReadInt64(), ReadFrames(r, bytes.Length), r.ReadInt64(), r.ReadInt64()) { WallNs = r.ReadInt64() },
                "NH" => new NodeHello(r.ReadString(), r.ReadString(), r.ReadString()),
                "NR" => new NodeRefused(r.ReadString(), r.ReadString()),
                "NA" => new NodeAccepted(r.ReadString()),
                "PP" => new PlacePartition(r.ReadString(), r.ReadString(), ReadPairs(r, bytes.Length)) { RealClock = r.ReadBoolean() },
                "SR" => new StartRealPartition(ReadPeers(r, bytes.Length)),
                "CF" => new CrossFrames(r.ReadString(), ReadFrames(r, bytes.Length)),
                "CA" => new CrossAck(r.ReadString(), r.ReadInt64()),
                "PR" => new PartitionReady(r.ReadString(), r.ReadInt64()),
                "PL" => new PeerLost(r.ReadString(), r.ReadInt64(), r.ReadInt64()),
                "CC" => ReadPage(r),
                "PC" => new PartitionCounters(r.ReadString(), ReadPairs(r, bytes.Length), ReadDrops(r, bytes.Length), ReadPairs(r, bytes.Length))
                {
                    Report = ReadReport(r, bytes.Length),
                    CaptureParts = ReadCaptureParts(r, bytes.Length),
                    More = r.ReadBoolean(),
                },
                _ => throw new SerializationException($"unknown manifest {manifest}"),
            };
            if (r.BaseStream.Position != bytes.Length) throw new SerializationException($"{manifest}: {bytes.Length - r.BaseStream.Position} trailing bytes");
            return m;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or FormatException or DecoderFallbackException)
        {
            throw new SerializationException($"{manifest}: malformed ({e.Message})", e);
        }
    }

    /// <summary>
    /// The end-of-run report (<see cref="PartitionReport"/>: host, switch and wire stats, workload statuses) crosses once per
    /// run, off the window path, as System.Text.Json of its records (they are plain immutable data); each workload status
    /// goes with its type's name, which must be a type of the Messages assembly (nothing else is instantiated). Absent: a 0 byte.
    /// </summary>
    private static void WriteReport(BinaryWriter w, PartitionReport? report)
    {
        if (report is null) { w.Write(false); return; }
        w.Write(true);
        WriteBytes(w, JsonSerializer.SerializeToUtf8Bytes(report with { Apps = [] }, ReportJson));
        w.Write(report.Apps.Length);
        foreach (var a in report.Apps)
        {
            w.Write((byte)a.Kind); w.Write(a.Workload);
            w.Write(a.Status.GetType().FullName!);
            WriteBytes(w, JsonSerializer.SerializeToUtf8Bytes(a.Status, a.Status.GetType(), ReportJson));
        }
    }

    private static PartitionReport? ReadReport(BinaryReader r, int size)
    {
        if (!r.ReadBoolean()) return null;
        try
        {
            var report = JsonSerializer.Deserialize<PartitionReport>(ReadBytes(r, size), ReportJson) ?? throw new SerializationException("empty report");
            int n = Count(r, size, 10);
            var apps = ImmutableArray.CreateBuilder<AppReport>(n);
            for (int i = 0; i < n; i++)
            {
                var kind = (AppReportKind)r.ReadByte();
                if (!Enum.IsDefined(kind)) throw new SerializationException($"bad application kind {kind}");
                int workload = r.ReadInt32();
                string type = r.ReadString();
                var t = typeof(PartitionReport).Assembly.GetType(type, throwOnError: false)
                    ?? throw new SerializationException($"workload status of unknown type {type}");
                apps.Add(new AppReport(kind, workload, JsonSerializer.Deserialize(ReadBytes(r, size), t, ReportJson)
                    ?? throw new SerializationException($"empty {type}")));
            }
            return report with { Apps = apps.MoveToImmutable() };
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new SerializationException($"report: {e.Message}", e);
        }
    }

    private static readonly JsonSerializerOptions ReportJson = new();

    private static CollectCounters ReadPage(BinaryReader r)
    {
        int page = r.ReadInt32();
        return page >= 0 ? new CollectCounters { Page = page } : throw new SerializationException($"bad page {page}");
    }

    private static void WriteBytes(BinaryWriter w, byte[] bytes)
    {
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static byte[] ReadBytes(BinaryReader r, int size)
    {
        int n = Count(r, size, 1);
        var bytes = r.ReadBytes(n);
        if (bytes.Length != n) throw new SerializationException("truncated");
        return bytes;
    }

    // The real clock's peers: node and the agent's actor path, resolved on this system.
    private ImmutableArray<KeyValuePair<string, IActorRef>> ReadPeers(BinaryReader r, int size)
    {
        int n = Count(r, size, 2);
        var peers = ImmutableArray.CreateBuilder<KeyValuePair<string, IActorRef>>(n);
        for (int i = 0; i < n; i++) peers.Add(new(r.ReadString(), system.Provider.ResolveActorRef(r.ReadString())));
        return peers.MoveToImmutable();
    }

    // A partition's parts of the device = all capture points: per part its point, path and bytes (a whole capture file).
    private static ImmutableArray<CapturePart> ReadCaptureParts(BinaryReader r, int size)
    {
        int n = Count(r, size, 9);
        var parts = ImmutableArray.CreateBuilder<CapturePart>(n);
        for (int i = 0; i < n; i++) parts.Add(new CapturePart(r.ReadInt32(), r.ReadString(), ReadBytes(r, size)));
        return parts.MoveToImmutable();
    }

    private static void WriteFrames(BinaryWriter w, ImmutableArray<CrossFrame> frames)
    {
        w.Write(frames.Length);
        foreach (var f in frames)
        {
            w.Write(f.ArrivalNs); w.Write(f.Wire); w.Write((byte)f.Direction); w.Write(f.Seq);
            w.Write(f.Frame.Length); w.Write(f.Frame.Span);
        }
    }

    private static ImmutableArray<CrossFrame> ReadFrames(BinaryReader r, int size)
    {
        int n = Count(r, size, 25);
        var b = ImmutableArray.CreateBuilder<CrossFrame>(n);
        for (int i = 0; i < n; i++)
        {
            long at = r.ReadInt64(); int wire = r.ReadInt32(); byte dir = r.ReadByte(); long seq = r.ReadInt64();
            if (dir > 1) throw new SerializationException($"bad direction {dir}");
            int len = Count(r, size, 1);
            var bytes = r.ReadBytes(len);
            if (bytes.Length != len) throw new SerializationException("truncated frame");
            b.Add(new CrossFrame(at, wire, (WireDirection)dir, seq, bytes));
        }
        return b.MoveToImmutable();
    }

    private static void WritePairs(BinaryWriter w, ImmutableArray<KeyValuePair<string, string>> pairs)
    {
        w.Write(pairs.Length);
        foreach (var (k, v) in pairs) { w.Write(k); w.Write(v); }
    }

    private static ImmutableArray<KeyValuePair<string, string>> ReadPairs(BinaryReader r, int size)
    {
        int n = Count(r, size, 2);
        var b = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>(n);
        for (int i = 0; i < n; i++) b.Add(new(r.ReadString(), r.ReadString()));
        return b.MoveToImmutable();
    }

    private static ImmutableArray<KeyValuePair<string, long>> ReadDrops(BinaryReader r, int size)
    {
        int n = Count(r, size, 9);
        var b = ImmutableArray.CreateBuilder<KeyValuePair<string, long>>(n);
        for (int i = 0; i < n; i++) b.Add(new(r.ReadString(), r.ReadInt64()));
        return b.MoveToImmutable();
    }

    /// <summary>A count read from the message, refused when it cannot fit in <paramref name="size"/> bytes at <paramref name="min"/> each.</summary>
    private static int Count(BinaryReader r, int size, int min)
    {
        int n = r.ReadInt32();
        if (n < 0 || (long)n * min > size) throw new SerializationException($"bad count {n}");
        return n;
    }
}
